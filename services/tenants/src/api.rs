//! The wire types of the tenants API (crate `tenants-api`, shared with the
//! client) and the service's list cursor.

use tenancy::cursor::ListCursor;

pub use tenants_api::{
    Actor, ActorRole, AuditEntry, AuditList, ChangeTier, DEFAULT_PAGE_SIZE, ErasureReceipt, MAX_PAGE_SIZE,
    MAX_REGISTRATION_BYTES, Offboarding, RegisterTenant, Registered, RegistrationRemoval, TenantList, UpdateTenant,
};

/// The tenant list's cursors: the tenant to continue after.
pub const CURSOR: ListCursor = ListCursor::new("t1:");
