//! What the trigger reads: the caller's membership and its tenant's record.
//! One trait, a DynamoDB implementation that reads only with the credentials
//! of the tenant named by the user's attribute, and an in-memory one for tests.

mod dynamo;
mod memory;

use std::future::Future;

use serde::{Deserialize, Serialize};
use tenancy::table::DataError;
use tenancy::{TenantId, TenantRole, TenantTier, UserId};
use users_api::MembershipStatus;

pub use dynamo::{DynamoClaimsStore, membership_sort_key};
pub use memory::MemoryClaimsStore;

/// A membership as the trigger needs it (the users service owns the item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub role: TenantRole,
    pub status: MembershipStatus,
}

/// Where a tenant is in its life (the tenants service owns the record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Pending,
    Active,
    Suspended,
}

/// A tenant record as the trigger needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRecord {
    pub status: TenantStatus,
    pub tier: TenantTier,
}

/// Reads within one tenant's partitions.
pub trait ClaimsStore: Send + Sync + 'static {
    /// The membership `user#<user>` of `tenant`, if any.
    fn membership(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<Membership>, DataError>> + Send;

    /// The `tenant` record of `tenant`, if any.
    fn tenant(&self, tenant: &TenantId) -> impl Future<Output = Result<Option<TenantRecord>, DataError>> + Send;
}
