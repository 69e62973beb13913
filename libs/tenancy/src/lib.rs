//! Tenancy for the SaaS services: who is calling (claims to [`TenantContext`]),
//! tenant-scoped AWS credentials with a per-tenant cache, tenant-scoped
//! DynamoDB access, HTTP errors and tracing.
//!
//! The rule this crate exists for: data is only ever touched with credentials
//! of the tenant role assumed with a `TenantId` session tag, and the tenant id
//! only ever comes from verified claims.

//!
//! Without the default `service` feature only the wire vocabulary is built
//! (ids, roles, tiers, problem bodies, cursors), with no AWS dependency: that
//! is what the API crates and clients use.

pub mod audit;
pub mod cursor;
pub mod erasure;
pub mod events;
pub mod idempotency;
pub mod ids;
pub mod model;
pub mod password;
pub mod problem;

#[cfg(feature = "service")]
pub mod authority;
#[cfg(feature = "service")]
pub mod aws_error;
#[cfg(feature = "service")]
pub mod config;
#[cfg(feature = "service")]
pub mod context;
#[cfg(feature = "service")]
pub mod credentials;
#[cfg(feature = "service")]
pub mod error;
#[cfg(feature = "service")]
pub mod http;
#[cfg(feature = "invoke")]
pub mod invoke;
#[cfg(feature = "service")]
pub mod lambda;
#[cfg(feature = "openapi")]
pub mod openapi;
#[cfg(feature = "service")]
pub mod replay;
#[cfg(feature = "service")]
pub mod table;
#[cfg(feature = "service")]
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "service")]
pub use context::{Caller, ClaimsError, PlatformAdmin, TenantContext};
#[cfg(feature = "service")]
pub use error::ApiError;
pub use ids::{InvalidId, TenantId, UserId};
pub use model::{MembershipStatus, TenantRole, TenantStatus, TenantTier, TierLimits, TokenUse};
pub use password::Password;
pub use problem::Problem;
