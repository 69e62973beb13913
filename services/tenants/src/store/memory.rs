use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use tenancy::cursor::cut_page;
use tenancy::erasure::ErasureReceipt;
use tenancy::events::{LifecycleEvent, MemoryOutbox};
use tenancy::table::{DataError, replace_versioned};
use tenancy::{TenantId, UserId};
use time::OffsetDateTime;

use super::{ClaimOutcome, SlugStore, TenantPage, TenantStore};
use crate::domain::{ClaimState, Slug, SlugClaim, Tenant, TenantStatus};

fn lock<'a, T>(mutex: &'a Mutex<T>, unavailable: &AtomicBool, what: &str) -> Result<MutexGuard<'a, T>, DataError> {
    if unavailable.load(Ordering::SeqCst) {
        return Err(DataError::Unavailable(format!("the in-memory {what} store is switched off")));
    }
    mutex.lock().map_err(|_| DataError::Unavailable("poisoned lock".into()))
}

/// Tenants in memory, keyed by id. Every call holds one lock for its whole
/// check-and-write, so conditional writes are atomic like DynamoDB's. Can be
/// switched to "unavailable", or made to fail the next replaces, to exercise
/// outage handling.
#[derive(Debug, Default)]
pub struct MemoryTenantStore {
    tenants: Mutex<BTreeMap<TenantId, Tenant>>,
    receipts: Mutex<BTreeMap<TenantId, ErasureReceipt>>,
    outbox: MemoryOutbox,
    unavailable: AtomicBool,
    failing_writes: AtomicUsize,
}

impl MemoryTenantStore {
    /// Makes every call fail as if the data store were down.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Makes the next `count` writes (creates and replaces) fail as
    /// unavailable, e.g. the last step of a registration.
    pub fn fail_next_writes(&self, count: usize) {
        self.failing_writes.store(count, Ordering::SeqCst);
    }

    /// Every stored tenant (for assertions).
    pub fn snapshot(&self) -> Vec<Tenant> {
        self.tenants.lock().map(|tenants| tenants.values().cloned().collect()).unwrap_or_default()
    }

    fn locked(&self) -> Result<MutexGuard<'_, BTreeMap<TenantId, Tenant>>, DataError> {
        lock(&self.tenants, &self.unavailable, "tenant")
    }

    fn locked_for_write(&self) -> Result<MutexGuard<'_, BTreeMap<TenantId, Tenant>>, DataError> {
        let tenants = self.locked()?;
        let failing = self.failing_writes.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            return Err(DataError::Unavailable("injected write failure".into()));
        }
        Ok(tenants)
    }
}

impl TenantStore for MemoryTenantStore {
    type Outbox = MemoryOutbox;

    fn outbox(&self) -> &MemoryOutbox {
        &self.outbox
    }

    async fn create(&self, tenant: &Tenant, events: &[LifecycleEvent]) -> Result<(), DataError> {
        let mut tenants = self.locked_for_write()?;
        if tenants.contains_key(&tenant.tenant_id) {
            return Err(DataError::ConditionFailed { index: 0, exists: true });
        }
        tenants.insert(tenant.tenant_id, tenant.clone());
        self.outbox.add(events);
        Ok(())
    }

    async fn get(&self, tenant: &TenantId) -> Result<Option<Tenant>, DataError> {
        Ok(self.locked()?.get(tenant).cloned())
    }

    async fn replace(
        &self,
        tenant: &Tenant,
        expected_version: u64,
        events: &[LifecycleEvent],
    ) -> Result<(), DataError> {
        let mut tenants = self.locked_for_write()?;
        replace_versioned(tenants.get_mut(&tenant.tenant_id), tenant, |stored| stored.version, expected_version)?;
        self.outbox.add(events);
        Ok(())
    }

    async fn list(&self, limit: usize, after: Option<TenantId>) -> Result<TenantPage, DataError> {
        let tenants = self.locked()?;
        let page: Vec<Tenant> = tenants
            .values()
            .filter(|tenant| after.is_none_or(|after| tenant.tenant_id > after))
            .filter(|tenant| tenant.status != TenantStatus::Pending)
            .take(limit + 1)
            .cloned()
            .collect();
        let (page, next_after) = cut_page(page, limit, |tenant| tenant.tenant_id);
        Ok(TenantPage { tenants: page, next_after })
    }

    async fn receipt(&self, tenant: &TenantId) -> Result<Option<ErasureReceipt>, DataError> {
        let _available = self.locked()?;
        Ok(lock(&self.receipts, &self.unavailable, "receipt")?.get(tenant).cloned())
    }

    async fn save_receipt(&self, receipt: &ErasureReceipt) -> Result<(), DataError> {
        let _available = self.locked_for_write()?;
        lock(&self.receipts, &self.unavailable, "receipt")?.insert(receipt.tenant_id, receipt.clone());
        Ok(())
    }

    async fn remove(&self, tenant: &TenantId) -> Result<(), DataError> {
        let mut tenants = self.locked_for_write()?;
        tenants.remove(tenant);
        lock(&self.receipts, &self.unavailable, "receipt")?.remove(tenant);
        Ok(())
    }
}

/// Slug claims in memory, atomic like [`MemoryTenantStore`].
#[derive(Debug, Default)]
pub struct MemorySlugStore {
    claims: Mutex<BTreeMap<Slug, SlugClaim>>,
    unavailable: AtomicBool,
}

impl MemorySlugStore {
    /// Makes every call fail as if the data store were down.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Every stored claim (for assertions).
    pub fn snapshot(&self) -> Vec<SlugClaim> {
        self.claims.lock().map(|claims| claims.values().cloned().collect()).unwrap_or_default()
    }

    /// Moves every claim's creation back by `age` (expiry tests).
    pub fn backdate(&self, age: std::time::Duration) {
        if let Ok(mut claims) = self.claims.lock() {
            for claim in claims.values_mut() {
                claim.created_at -= age;
            }
        }
    }

    /// Makes a complete claim pending again, as if its last step had failed.
    pub fn reopen(&self, slug: &Slug) {
        if let Ok(mut claims) = self.claims.lock()
            && let Some(claim) = claims.get_mut(slug)
        {
            claim.state = ClaimState::Pending;
            claim.admin_user_id = None;
        }
    }

    fn locked(&self) -> Result<MutexGuard<'_, BTreeMap<Slug, SlugClaim>>, DataError> {
        lock(&self.claims, &self.unavailable, "slug")
    }
}

impl SlugStore for MemorySlugStore {
    async fn claim(&self, claim: &SlugClaim) -> Result<ClaimOutcome, DataError> {
        let mut claims = self.locked()?;
        if let Some(existing) = claims.get(&claim.slug) {
            return Ok(ClaimOutcome::Existing(existing.clone()));
        }
        claims.insert(claim.slug.clone(), claim.clone());
        Ok(ClaimOutcome::Claimed)
    }

    async fn get(&self, slug: &Slug) -> Result<Option<SlugClaim>, DataError> {
        Ok(self.locked()?.get(slug).cloned())
    }

    async fn complete(&self, slug: &Slug, key_digest: &str, admin_user_id: Option<UserId>) -> Result<(), DataError> {
        let mut claims = self.locked()?;
        match claims.get_mut(slug) {
            Some(claim) if claim.key_digest == key_digest => {
                if claim.state == ClaimState::Pending {
                    claim.state = ClaimState::Complete;
                    claim.admin_user_id = admin_user_id;
                }
                Ok(())
            }
            other => Err(DataError::ConditionFailed { index: 0, exists: other.is_some() }),
        }
    }

    async fn release(&self, slug: &Slug, key_digest: &str) -> Result<(), DataError> {
        let mut claims = self.locked()?;
        match claims.get(slug) {
            Some(claim) if claim.key_digest == key_digest && claim.state == ClaimState::Pending => {
                claims.remove(slug);
                Ok(())
            }
            other => Err(DataError::ConditionFailed { index: 0, exists: other.is_some() }),
        }
    }

    async fn forget(&self, slug: &Slug, tenant: &TenantId) -> Result<bool, DataError> {
        let mut claims = self.locked()?;
        let owned = claims.get(slug).is_some_and(|claim| claim.tenant_id == *tenant);
        if owned {
            claims.remove(slug);
        }
        Ok(owned)
    }

    async fn pending_created_before(&self, cutoff: OffsetDateTime) -> Result<Vec<SlugClaim>, DataError> {
        Ok(self
            .locked()?
            .values()
            .filter(|claim| claim.state == ClaimState::Pending && claim.created_at < cutoff)
            .cloned()
            .collect())
    }
}
