//! Where memberships live. One trait, a DynamoDB implementation that reaches
//! data only through tenant-scoped credentials, and an in-memory one for tests.
//!
//! The tenant's `usage` item keeps two counters, changed in the same
//! transaction as the membership they count, so the tier limit and the
//! last-admin rule hold under concurrent requests:
//! - `users`: every membership (disabled and deleting included until the
//!   delete starts), bounded by the tier's `max_users` on create;
//! - `admins`: active admins; a decrement never takes it below 1.

mod dynamo;
mod memory;

use std::future::Future;

use tenancy::TenantId;
use tenancy::erasure::TenantData;
use tenancy::events::{LifecycleEvent, Outbox};
use tenancy::replay::{Remember, RememberedCreate};
use tenancy::table::DataError;

pub use dynamo::{DynamoMembershipStore, memberships_table};
pub use memory::{MemoryMembershipStore, TenantSnapshot};

use crate::domain::{User, UserId};

/// What came of a conditional write. Anything but `Done` wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Done,
    /// The `users` counter would pass the tier's limit.
    LimitReached,
    /// The `admins` counter would drop below 1.
    LastAdmin,
    /// Create: a membership with this user id exists already.
    Exists,
    /// Create: the idempotency key is remembered already (a concurrent
    /// request with it won).
    KeyUsed,
    /// Replace: the membership is at another version.
    Stale,
    /// Replace: there is no such membership.
    Missing,
}

/// Counter changes that go with a replace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterChange {
    /// Added to `users`, unbounded (only removals use it: -1).
    pub users: i64,
    /// Added to `admins`; a negative change must leave at least 1.
    pub admins: i64,
}

/// One page of memberships in sort key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    pub users: Vec<User>,
    /// The last user of this page, when more may follow.
    pub next_after: Option<UserId>,
}

/// A membership to create, with what goes in its transaction.
#[derive(Debug, Clone, Copy)]
pub struct NewMembership<'a> {
    pub user: &'a User,
    /// The `users` counter stays within `0..=max_users`.
    pub max_users: i64,
    /// The create to remember under its key, if asked.
    pub remember: Option<Remember<'a>>,
    pub events: &'a [LifecycleEvent],
}

/// A membership written over the version read, with what goes in its transaction.
#[derive(Debug, Clone, Copy)]
pub struct Revision<'a> {
    pub user: &'a User,
    pub expected_version: u64,
    pub change: CounterChange,
    pub events: &'a [LifecycleEvent],
}

/// Storage of memberships, always within one tenant's partition, and the
/// outbox their lifecycle events wait in: a write and its events are one
/// transaction.
///
/// Offboarding counts and erases a tenant's partition through it too
/// ([`TenantData`]; directory users are the service's to remove first).
pub trait MembershipStore: TenantData + 'static {
    /// Where the memberships' lifecycle events wait for the bus.
    type Outbox: Outbox;

    fn outbox(&self) -> &Self::Outbox;

    /// Up to `limit` memberships in user id order, after `after` if given.
    fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<UserId>,
    ) -> impl Future<Output = Result<UserPage, DataError>> + Send;

    fn get(&self, tenant: &TenantId, user: UserId) -> impl Future<Output = Result<Option<User>, DataError>> + Send;

    /// The `users` counter (for an early, non-binding limit check).
    fn user_count(&self, tenant: &TenantId) -> impl Future<Output = Result<i64, DataError>> + Send;

    /// In one transaction: puts `user` if no membership has its id, adds 1 to
    /// `users` within `0..=max_users`, and 1 to `admins` if `user` is an
    /// active admin; and remembers the create, if asked, unless its key is.
    fn create(
        &self,
        tenant: &TenantId,
        new: NewMembership<'_>,
    ) -> impl Future<Output = Result<Written, DataError>> + Send;

    /// The create remembered under `sort_key`, if any.
    fn remembered(
        &self,
        tenant: &TenantId,
        sort_key: &str,
    ) -> impl Future<Output = Result<Option<RememberedCreate>, DataError>> + Send;

    /// In one transaction: replaces the membership if it is still at
    /// `expected_version` and applies `change` to the counters.
    fn replace(
        &self,
        tenant: &TenantId,
        revision: Revision<'_>,
    ) -> impl Future<Output = Result<Written, DataError>> + Send;

    /// Deletes the membership if it is still at `expected_version` (the end of
    /// a removal; the counters were changed when it was marked `deleting`).
    fn remove(
        &self,
        tenant: &TenantId,
        user: UserId,
        expected_version: u64,
    ) -> impl Future<Output = Result<Written, DataError>> + Send;

    /// Deletes the tenant's counters (a registration discarded unfinished,
    /// after its memberships are gone).
    fn forget_counters(&self, tenant: &TenantId) -> impl Future<Output = Result<(), DataError>> + Send;
}
