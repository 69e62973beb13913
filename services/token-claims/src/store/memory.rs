use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use tenancy::table::DataError;
use tenancy::{TenantId, UserId};

use super::{ClaimsStore, Membership, TenantRecord};

#[derive(Debug, Default)]
struct Data {
    memberships: HashMap<(TenantId, UserId), Membership>,
    tenants: HashMap<TenantId, TenantRecord>,
}

/// Memberships and tenant records in memory, keyed like the tables. Can be
/// switched to "unavailable" to exercise outage handling.
#[derive(Debug, Default)]
pub struct MemoryClaimsStore {
    data: Mutex<Data>,
    unavailable: AtomicBool,
}

impl MemoryClaimsStore {
    /// Makes every call fail as if the data store were down.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    pub fn put_membership(&self, tenant: TenantId, user: UserId, membership: Membership) {
        if let Ok(mut data) = self.data.lock() {
            data.memberships.insert((tenant, user), membership);
        }
    }

    pub fn put_tenant(&self, tenant: TenantId, record: TenantRecord) {
        if let Ok(mut data) = self.data.lock() {
            data.tenants.insert(tenant, record);
        }
    }

    fn locked(&self) -> Result<MutexGuard<'_, Data>, DataError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(DataError::Unavailable("the in-memory store is switched off".into()));
        }
        self.data
            .lock()
            .map_err(|_| DataError::Unavailable("poisoned lock".into()))
    }
}

impl ClaimsStore for MemoryClaimsStore {
    async fn membership(&self, tenant: &TenantId, user: &UserId) -> Result<Option<Membership>, DataError> {
        Ok(self.locked()?.memberships.get(&(*tenant, *user)).copied())
    }

    async fn tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, DataError> {
        Ok(self.locked()?.tenants.get(tenant).copied())
    }
}
