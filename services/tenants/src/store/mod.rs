//! Where tenants and slug claims live. Two traits, each with a DynamoDB
//! implementation and an in-memory one for tests.
//!
//! - [`TenantStore`]: the `tenant` record, read and written only with the
//!   credentials of that tenant (tenant role, `TenantId` session tag), also
//!   for platform-admin changes; only the cross-tenant listing uses the
//!   execution role.
//! - [`SlugStore`]: registration claims, keyed by slug, written with the
//!   execution role (registration happens before any tenant exists).

mod dynamo;
mod memory;

use std::future::Future;

use tenancy::erasure::ErasureReceipt;
use tenancy::events::{LifecycleEvent, Outbox};
use tenancy::table::DataError;
use tenancy::{TenantId, UserId};
use time::OffsetDateTime;

pub use dynamo::{DynamoSlugStore, DynamoTenantStore, tenants_table};
pub use memory::{MemorySlugStore, MemoryTenantStore};

use crate::domain::{Slug, SlugClaim, Tenant};

/// One page of tenants, in the store's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPage {
    pub tenants: Vec<Tenant>,
    /// The last tenant of this page, when more may follow.
    pub next_after: Option<TenantId>,
}

/// Storage of tenant records, and the outbox their lifecycle events wait in:
/// a write and its events are one transaction.
pub trait TenantStore: Send + Sync + 'static {
    /// Where the records' lifecycle events wait for the bus.
    type Outbox: Outbox;

    fn outbox(&self) -> &Self::Outbox;

    /// Stores a new tenant and its `events`; `ConditionFailed { exists: true }`
    /// if its id is taken (nothing is written then).
    fn create(&self, tenant: &Tenant, events: &[LifecycleEvent]) -> impl Future<Output = Result<(), DataError>> + Send;

    fn get(&self, tenant: &TenantId) -> impl Future<Output = Result<Option<Tenant>, DataError>> + Send;

    /// Replaces a tenant and adds its `events`, if its stored version is
    /// still `expected_version`; otherwise `DataError::ConditionFailed` and
    /// nothing changes.
    fn replace(
        &self,
        tenant: &Tenant,
        expected_version: u64,
        events: &[LifecycleEvent],
    ) -> impl Future<Output = Result<(), DataError>> + Send;

    /// Up to `limit` tenants of every tenant, after `after` if given
    /// (platform admins only: the caller checks).
    fn list(&self, limit: usize, after: Option<TenantId>)
    -> impl Future<Output = Result<TenantPage, DataError>> + Send;

    /// The receipt of the tenant's erasure, once its counts were taken.
    fn receipt(&self, tenant: &TenantId) -> impl Future<Output = Result<Option<ErasureReceipt>, DataError>> + Send;

    /// Keeps the receipt next to the tenant's record until both are removed.
    fn save_receipt(&self, receipt: &ErasureReceipt) -> impl Future<Output = Result<(), DataError>> + Send;

    /// Offboarding's last write: removes the tenant's record and its receipt
    /// together (one transaction), so a half-done removal cannot be.
    fn remove(&self, tenant: &TenantId) -> impl Future<Output = Result<(), DataError>> + Send;
}

/// What came of claiming a slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The slug was free; the given claim is now stored.
    Claimed,
    /// The slug is already claimed: this is the stored claim.
    Existing(SlugClaim),
}

/// Storage of registration claims (one per slug).
pub trait SlugStore: Send + Sync + 'static {
    /// Stores `claim` if its slug is free (atomically), or returns the claim
    /// already there.
    fn claim(&self, claim: &SlugClaim) -> impl Future<Output = Result<ClaimOutcome, DataError>> + Send;

    fn get(&self, slug: &Slug) -> impl Future<Output = Result<Option<SlugClaim>, DataError>> + Send;

    /// Marks the claim complete with the first admin, if it is still the claim
    /// of the key with `key_digest` (`ConditionFailed` otherwise). Completing
    /// a complete claim again is harmless.
    fn complete(
        &self,
        slug: &Slug,
        key_digest: &str,
        admin_user_id: Option<UserId>,
    ) -> impl Future<Output = Result<(), DataError>> + Send;

    /// Frees the slug again, if it is still pending for the key with
    /// `key_digest` (a registration refused for good, or expired).
    fn release(&self, slug: &Slug, key_digest: &str) -> impl Future<Output = Result<(), DataError>> + Send;

    /// Offboarding: removes the claim of `slug` if it is `tenant`'s; whether it did.
    fn forget(&self, slug: &Slug, tenant: &TenantId) -> impl Future<Output = Result<bool, DataError>> + Send;

    /// Every pending claim made before `cutoff` (the expiry sweep; a Scan).
    fn pending_created_before(
        &self,
        cutoff: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<SlugClaim>, DataError>> + Send;
}
