//! Tenancy for the SaaS services: who is calling (claims to [`TenantContext`]),
//! tenant-scoped AWS credentials with a per-tenant cache, tenant-scoped
//! DynamoDB access, JWT verification, HTTP errors and tracing.
//!
//! The rule this crate exists for: data is only ever touched with credentials
//! of the tenant role assumed with a `TenantId` session tag, and the tenant id
//! only ever comes from verified claims.

pub mod config;
pub mod context;
pub mod credentials;
pub mod cursor;
pub mod error;
pub mod http;
pub mod ids;
pub mod jwt;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod table;
pub mod telemetry;

pub use context::{ClaimsError, PlatformAdmin, TenantContext, TenantRole, TenantTier, TierLimits, TokenUse};
pub use error::{ApiError, Problem};
pub use ids::{InvalidId, TenantId, UserId};
