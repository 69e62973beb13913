//! What a caller may do, from the current records.
//!
//! A token says who is calling ([`Caller`]); it is up to an hour old. What the
//! caller may do comes from the records: the tenant's status and tier (the
//! tenants table, sort key `tenant`) and the caller's membership, its status
//! and role (the memberships table, sort key `user#<sub>`). Both are read with
//! the tenant's own credentials, so LeadingKeys confines the reads to the
//! tenant the token names.
//!
//! [`Authority::current`] serves them from a per-instance cache that holds a
//! record for at most the freshness window (concurrent requests share one
//! read); [`Authority::fresh`] reads them now, for privileged writes. So a
//! suspended tenant, an inactive membership or a demoted admin is refused
//! within the window, and at once where it matters most.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use serde::{Deserialize, Serialize};

use crate::context::{Caller, TenantContext};
use crate::credentials::RoleAssumer;
use crate::error::ApiError;
use crate::ids::{TenantId, UserId};
use crate::model::{MembershipStatus, TenantRole, TenantStatus, TenantTier};
use crate::table::{DataError, TableSpec, TenantDynamoCache};

/// A membership as authority needs it (the users service owns the item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub role: TenantRole,
    pub status: MembershipStatus,
}

/// A tenant's record as authority needs it (the tenants service owns it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRecord {
    pub status: TenantStatus,
    pub tier: TenantTier,
}

/// Reads the two records, with credentials scoped to the tenant asked about.
pub trait AuthorityStore: Send + Sync + 'static {
    fn membership(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<Membership>, DataError>> + Send;

    fn tenant(&self, tenant: &TenantId) -> impl Future<Output = Result<Option<TenantRecord>, DataError>> + Send;
}

/// Why the records refuse a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the tenant has no record")]
    NoTenantRecord,
    #[error("the tenant is {0}")]
    Tenant(TenantStatus),
    #[error("the caller has no membership in the tenant")]
    NoMembership,
    #[error("the caller's membership is {0}")]
    Membership(MembershipStatus),
}

/// Why a caller has no authority.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthorityError {
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    #[error("the records could not be read: {0}")]
    Store(#[from] DataError),
}

impl From<AuthorityError> for ApiError {
    fn from(error: AuthorityError) -> Self {
        match error {
            AuthorityError::Refused(refusal @ (Refusal::NoTenantRecord | Refusal::Tenant(_))) => {
                ApiError::TenantInactive(format!("{refusal}; its members cannot use the API"))
            }
            AuthorityError::Refused(refusal @ (Refusal::NoMembership | Refusal::Membership(_))) => {
                ApiError::MembershipInactive(format!("{refusal}; sign in with an active account"))
            }
            AuthorityError::Store(error) => error.into(),
        }
    }
}

/// The role and tier the records give, or why they refuse: the tenant must be
/// active, and the caller an active member of it.
pub fn decide(
    tenant: Option<TenantRecord>,
    membership: Option<Membership>,
) -> Result<(TenantRole, TenantTier), Refusal> {
    let tenant = tenant.ok_or(Refusal::NoTenantRecord)?;
    if tenant.status != TenantStatus::Active {
        return Err(Refusal::Tenant(tenant.status));
    }
    let membership = membership.ok_or(Refusal::NoMembership)?;
    if membership.status != MembershipStatus::Active {
        return Err(Refusal::Membership(membership.status));
    }
    Ok((membership.role, tenant.tier))
}

/// Settings of [`Authority`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthoritySettings {
    /// How long a record read is used; zero reads on every request.
    pub freshness: Duration,
    /// Records one instance keeps (tenants and memberships each).
    pub max_entries: u64,
}

impl Default for AuthoritySettings {
    fn default() -> Self {
        Self { freshness: Duration::from_secs(10), max_entries: 10_000 }
    }
}

/// The current authority of callers, from the records, cached per instance
/// for at most the freshness window.
pub struct Authority<S> {
    store: Arc<S>,
    freshness: Duration,
    tenants: Cache<TenantId, Option<TenantRecord>>,
    memberships: Cache<(TenantId, UserId), Option<Membership>>,
}

impl<S> std::fmt::Debug for Authority<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("freshness", &self.freshness)
            .field("cached_tenants", &self.tenants.entry_count())
            .field("cached_memberships", &self.memberships.entry_count())
            .finish()
    }
}

impl<S: AuthorityStore> Authority<S> {
    pub fn new(store: S, settings: AuthoritySettings) -> Self {
        // Time to live, not to idle: a record is never older than the window.
        let freshness = settings.freshness;
        Self {
            store: Arc::new(store),
            freshness,
            tenants: Cache::builder()
                .max_capacity(settings.max_entries)
                .time_to_live(freshness.max(Duration::from_millis(1)))
                .build(),
            memberships: Cache::builder()
                .max_capacity(settings.max_entries)
                .time_to_live(freshness.max(Duration::from_millis(1)))
                .build(),
        }
    }

    /// The store (for tests).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The freshness window.
    pub fn freshness(&self) -> Duration {
        self.freshness
    }

    /// `caller`'s authority from records at most one window old. Concurrent
    /// requests for the same records share one read.
    pub async fn current(&self, caller: &Caller) -> Result<TenantContext, AuthorityError> {
        if self.freshness.is_zero() {
            return self.fresh(caller).await;
        }
        let (tenant, membership) = tokio::join!(self.cached_tenant(caller), self.cached_membership(caller));
        let (role, tier) = decide(tenant?, membership?)?;
        Ok(TenantContext::new(caller, role, tier))
    }

    /// `caller`'s authority from records read now (privileged writes); the
    /// cache takes the records read.
    pub async fn fresh(&self, caller: &Caller) -> Result<TenantContext, AuthorityError> {
        let (tenant, membership) = tokio::join!(
            self.store.tenant(&caller.tenant_id),
            self.store.membership(&caller.tenant_id, &caller.user_id)
        );
        let (tenant, membership) = (tenant?, membership?);
        if !self.freshness.is_zero() {
            self.tenants.insert(caller.tenant_id, tenant).await;
            self.memberships.insert((caller.tenant_id, caller.user_id), membership).await;
        }
        let (role, tier) = decide(tenant, membership)?;
        Ok(TenantContext::new(caller, role, tier))
    }

    async fn cached_tenant(&self, caller: &Caller) -> Result<Option<TenantRecord>, DataError> {
        let store = Arc::clone(&self.store);
        let tenant = caller.tenant_id;
        self.tenants
            .try_get_with(tenant, async move { store.tenant(&tenant).await })
            .await
            .map_err(|error: Arc<DataError>| (*error).clone())
    }

    async fn cached_membership(&self, caller: &Caller) -> Result<Option<Membership>, DataError> {
        let store = Arc::clone(&self.store);
        let key = (caller.tenant_id, caller.user_id);
        self.memberships
            .try_get_with(key, async move { store.membership(&key.0, &key.1).await })
            .await
            .map_err(|error: Arc<DataError>| (*error).clone())
    }
}

/// The sort key of a user's membership item in the memberships table.
pub fn membership_sort_key(user: &UserId) -> String {
    format!("user#{user}")
}

/// The sort key of the tenant's record in the tenants table.
pub const TENANT_RECORD_SORT_KEY: &str = "tenant";

/// [`AuthorityStore`] on DynamoDB, reading with the tenant role assumed for
/// the tenant asked about (`TenantId` session tag): a token naming another
/// tenant can only ever reach that tenant's own partitions.
#[derive(Debug)]
pub struct DynamoAuthorityStore<A> {
    dynamo: TenantDynamoCache<A>,
    tenants: TableSpec,
    memberships: TableSpec,
}

impl<A: RoleAssumer> DynamoAuthorityStore<A> {
    /// `dynamo` may be the service's own (one `AssumeRole` per tenant serves both).
    pub fn new(
        dynamo: TenantDynamoCache<A>,
        tenants_table: impl Into<String>,
        memberships_table: impl Into<String>,
    ) -> Self {
        let table = |name: String| TableSpec { name, partition_key: "tenant_id", sort_key: "sk" };
        Self { dynamo, tenants: table(tenants_table.into()), memberships: table(memberships_table.into()) }
    }
}

impl<A: RoleAssumer> AuthorityStore for DynamoAuthorityStore<A> {
    async fn membership(&self, tenant: &TenantId, user: &UserId) -> Result<Option<Membership>, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        dynamo.table(&self.memberships).get::<Membership>(&membership_sort_key(user)).await
    }

    async fn tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        dynamo.table(&self.tenants).get::<TenantRecord>(TENANT_RECORD_SORT_KEY).await
    }
}

/// Records in memory, for handler tests: [`set_tenant`](Self::set_tenant) and
/// [`set_membership`](Self::set_membership) change them; reads are counted;
/// [`set_unavailable`](Self::set_unavailable) makes them fail as in an outage.
#[derive(Debug, Default)]
pub struct MemoryAuthorityStore {
    data: std::sync::Mutex<MemoryRecords>,
    unavailable: std::sync::atomic::AtomicBool,
    reads: std::sync::atomic::AtomicUsize,
}

#[derive(Debug, Default)]
struct MemoryRecords {
    tenants: std::collections::HashMap<TenantId, TenantRecord>,
    memberships: std::collections::HashMap<(TenantId, UserId), Membership>,
    /// Members whose records were made from a token (once each).
    seen: std::collections::HashSet<(TenantId, UserId)>,
}

impl MemoryAuthorityStore {
    pub fn set_tenant(&self, tenant: TenantId, record: TenantRecord) {
        self.records().tenants.insert(tenant, record);
    }

    pub fn set_membership(&self, tenant: TenantId, user: UserId, membership: Membership) {
        self.records().memberships.insert((tenant, user), membership);
    }

    pub fn remove_membership(&self, tenant: TenantId, user: UserId) {
        self.records().memberships.remove(&(tenant, user));
    }

    /// Every membership at once, e.g. copied from a membership store.
    pub fn replace_memberships(&self, memberships: impl IntoIterator<Item = ((TenantId, UserId), Membership)>) {
        self.records().memberships = memberships.into_iter().collect();
    }

    /// An active tenant of `tier` with `user` an active member in `role`,
    /// unless records for them exist already.
    pub fn ensure_member(&self, tenant: TenantId, user: UserId, role: TenantRole, tier: TenantTier) {
        let mut records = self.records();
        records.tenants.entry(tenant).or_insert(TenantRecord { status: TenantStatus::Active, tier });
        records.memberships.entry((tenant, user)).or_insert(Membership { role, status: MembershipStatus::Active });
    }

    /// The records a token with these claims was minted from (the trigger
    /// copies the role and tier from them), the first time this store sees
    /// that member, unless records exist already: a handler test speaks in
    /// tokens and is still judged by records, which it may change or remove.
    pub fn ensure_member_from_claims(&self, claims: &std::collections::HashMap<String, String>) {
        use crate::model::claim;
        let get = |name: &str| claims.get(name).map(String::as_str);
        if let (Some(tenant), Some(user), Some(role), Some(tier)) = (
            get(claim::TENANT_ID).and_then(|value| TenantId::parse(value).ok()),
            get(claim::SUBJECT).and_then(|value| UserId::parse(value).ok()),
            get(claim::TENANT_ROLE).and_then(|value| value.parse().ok()),
            get(claim::TENANT_TIER).and_then(|value| value.parse().ok()),
        ) && self.records().seen.insert((tenant, user))
        {
            self.ensure_member(tenant, user, role, tier);
        }
    }

    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, std::sync::atomic::Ordering::SeqCst);
    }

    /// Records read so far (each tenant or membership read counts one).
    pub fn reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn records(&self) -> std::sync::MutexGuard<'_, MemoryRecords> {
        self.data.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> Result<std::sync::MutexGuard<'_, MemoryRecords>, DataError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(DataError::Unavailable("the in-memory store is switched off".into()));
        }
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(self.records())
    }
}

impl AuthorityStore for MemoryAuthorityStore {
    async fn membership(&self, tenant: &TenantId, user: &UserId) -> Result<Option<Membership>, DataError> {
        Ok(self.read()?.memberships.get(&(*tenant, *user)).copied())
    }

    async fn tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, DataError> {
        Ok(self.read()?.tenants.get(tenant).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TokenUse;

    fn caller() -> Caller {
        Caller { tenant_id: TenantId::generate(), user_id: UserId::generate(), token_use: TokenUse::Access }
    }

    fn authority(freshness: Duration) -> Authority<MemoryAuthorityStore> {
        Authority::new(MemoryAuthorityStore::default(), AuthoritySettings { freshness, max_entries: 100 })
    }

    #[test]
    fn the_records_decide_in_order_tenant_then_membership() {
        let active = TenantRecord { status: TenantStatus::Active, tier: TenantTier::Pro };
        let admin = Membership { role: TenantRole::Admin, status: MembershipStatus::Active };
        assert_eq!(decide(Some(active), Some(admin)), Ok((TenantRole::Admin, TenantTier::Pro)));
        assert_eq!(decide(None, Some(admin)), Err(Refusal::NoTenantRecord));
        for status in [TenantStatus::Pending, TenantStatus::Suspended] {
            let record = TenantRecord { status, ..active };
            assert_eq!(decide(Some(record), Some(admin)), Err(Refusal::Tenant(status)));
        }
        assert_eq!(decide(Some(active), None), Err(Refusal::NoMembership));
        for status in [MembershipStatus::Disabled, MembershipStatus::Deleting] {
            let membership = Membership { status, ..admin };
            assert_eq!(decide(Some(active), Some(membership)), Err(Refusal::Membership(status)));
        }
    }

    #[test]
    fn refusals_are_403_problems_of_their_own_types() {
        let tenant = ApiError::from(AuthorityError::Refused(Refusal::Tenant(TenantStatus::Suspended)));
        assert_eq!((tenant.status().as_u16(), tenant.slug()), (403, "tenant-inactive"));
        let membership = ApiError::from(AuthorityError::Refused(Refusal::Membership(MembershipStatus::Disabled)));
        assert_eq!((membership.status().as_u16(), membership.slug()), (403, "membership-inactive"));
        let missing = ApiError::from(AuthorityError::Refused(Refusal::NoMembership));
        assert_eq!(missing.slug(), "membership-inactive");
        let outage = ApiError::from(AuthorityError::Store(DataError::Unavailable("x".into())));
        assert_eq!(outage.status().as_u16(), 503);
    }

    #[tokio::test]
    async fn role_and_tier_come_from_the_records() {
        let authority = authority(Duration::from_secs(60));
        let caller = caller();
        authority.store().ensure_member(caller.tenant_id, caller.user_id, TenantRole::Member, TenantTier::Free);
        let context = authority.current(&caller).await.expect("authority");
        assert_eq!((context.role, context.tier), (TenantRole::Member, TenantTier::Free));
        assert_eq!((context.tenant_id, context.user_id), (caller.tenant_id, caller.user_id));
    }

    #[tokio::test]
    async fn cached_records_are_used_within_the_window_and_fresh_reads_replace_them() {
        let authority = authority(Duration::from_secs(60));
        let caller = caller();
        let store = authority.store();
        store.ensure_member(caller.tenant_id, caller.user_id, TenantRole::Admin, TenantTier::Pro);
        authority.current(&caller).await.expect("first");
        assert_eq!(store.reads(), 2);
        store.set_membership(
            caller.tenant_id,
            caller.user_id,
            Membership { role: TenantRole::Member, status: MembershipStatus::Active },
        );
        // Within the window: the cached records, no read.
        let cached = authority.current(&caller).await.expect("cached");
        assert_eq!((cached.role, store.reads()), (TenantRole::Admin, 2));
        // A fresh read sees the demotion, and the cache takes it.
        let fresh = authority.fresh(&caller).await.expect("fresh");
        assert_eq!((fresh.role, store.reads()), (TenantRole::Member, 4));
        let after = authority.current(&caller).await.expect("after");
        assert_eq!((after.role, store.reads()), (TenantRole::Member, 4));
    }

    #[tokio::test]
    async fn records_older_than_the_window_are_read_again() {
        let authority = authority(Duration::from_millis(200));
        let caller = caller();
        let store = authority.store();
        store.ensure_member(caller.tenant_id, caller.user_id, TenantRole::Member, TenantTier::Free);
        authority.current(&caller).await.expect("first");
        store.set_tenant(caller.tenant_id, TenantRecord { status: TenantStatus::Suspended, tier: TenantTier::Free });
        tokio::time::sleep(Duration::from_millis(350)).await;
        let refused = authority.current(&caller).await.expect_err("suspended");
        assert!(matches!(refused, AuthorityError::Refused(Refusal::Tenant(TenantStatus::Suspended))));
    }

    #[tokio::test]
    async fn a_zero_window_reads_every_time() {
        let authority = authority(Duration::ZERO);
        let caller = caller();
        authority.store().ensure_member(caller.tenant_id, caller.user_id, TenantRole::Member, TenantTier::Free);
        for _ in 0..3 {
            authority.current(&caller).await.expect("authority");
        }
        assert_eq!(authority.store().reads(), 6);
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_read() {
        let authority = Arc::new(authority(Duration::from_secs(60)));
        let caller = caller();
        authority.store().ensure_member(caller.tenant_id, caller.user_id, TenantRole::Member, TenantTier::Free);
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let authority = Arc::clone(&authority);
                tokio::spawn(async move { authority.current(&caller).await.map(|c| c.role) })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.expect("task").expect("authority"), TenantRole::Member);
        }
        assert_eq!(authority.store().reads(), 2);
    }

    #[tokio::test]
    async fn an_outage_is_not_cached() {
        let authority = authority(Duration::from_secs(60));
        let caller = caller();
        let store = authority.store();
        store.ensure_member(caller.tenant_id, caller.user_id, TenantRole::Member, TenantTier::Free);
        store.set_unavailable(true);
        let error = authority.current(&caller).await.expect_err("outage");
        assert!(matches!(error, AuthorityError::Store(DataError::Unavailable(_))));
        store.set_unavailable(false);
        authority.current(&caller).await.expect("after the outage");
    }

    #[tokio::test]
    async fn one_tenant_records_never_serve_another() {
        let authority = authority(Duration::from_secs(60));
        let (alice, mut mallory) = (caller(), caller());
        authority.store().ensure_member(alice.tenant_id, alice.user_id, TenantRole::Admin, TenantTier::Pro);
        authority.current(&alice).await.expect("alice");
        // Same user id, another tenant: no membership there.
        mallory.user_id = alice.user_id;
        let refused = authority.current(&mallory).await.expect_err("mallory");
        assert!(matches!(refused, AuthorityError::Refused(Refusal::NoTenantRecord)));
    }
}
