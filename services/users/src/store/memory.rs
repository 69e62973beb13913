use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use std::time::Instant;

use tenancy::cursor::cut_page;
use tenancy::erasure::{ErasurePass, ItemCounts, TenantData, count_one};
use tenancy::events::MemoryOutbox;
use tenancy::replay::RememberedCreate;
use tenancy::table::DataError;
use tenancy::{ApiError, TenantId};

use super::{MembershipStore, NewMembership, Revision, UserPage, Written};
use crate::domain::{User, UserId, is_active_admin};

/// One tenant's partition: its memberships and its `usage` counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantSnapshot {
    pub members: BTreeMap<UserId, User>,
    pub users: i64,
    pub admins: i64,
    /// Remembered creates by sort key.
    pub remembered: BTreeMap<String, RememberedCreate>,
}

type Partitions = BTreeMap<TenantId, TenantSnapshot>;

/// Memberships in memory, with the same transactional counters as the table.
/// Can be switched to "unavailable" (everything) or to "writes unavailable"
/// (reads work, writes fail) to exercise outage handling.
#[derive(Debug, Default)]
pub struct MemoryMembershipStore {
    partitions: Mutex<Partitions>,
    outbox: MemoryOutbox,
    unavailable: AtomicBool,
    writes_unavailable: AtomicBool,
}

impl MemoryMembershipStore {
    /// Makes every call fail as if the data store were down.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Makes every write fail as if the data store were down; reads still work.
    pub fn set_writes_unavailable(&self, unavailable: bool) {
        self.writes_unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Every partition (for assertions).
    pub fn snapshot(&self) -> BTreeMap<TenantId, TenantSnapshot> {
        self.partitions.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// One tenant's partition (for assertions).
    pub fn tenant(&self, tenant: &TenantId) -> TenantSnapshot {
        self.snapshot().remove(tenant).unwrap_or_default()
    }

    fn locked(&self) -> Result<MutexGuard<'_, Partitions>, DataError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(DataError::Unavailable("the in-memory store is switched off".into()));
        }
        self.partitions.lock().map_err(|_| DataError::Unavailable("poisoned lock".into()))
    }

    fn locked_for_write(&self) -> Result<MutexGuard<'_, Partitions>, DataError> {
        if self.writes_unavailable.load(Ordering::SeqCst) {
            return Err(DataError::Unavailable("in-memory writes are switched off".into()));
        }
        self.locked()
    }
}

impl TenantData for MemoryMembershipStore {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        let partitions = self.locked()?;
        let members = partitions.get(tenant).map_or(0, |partition| partition.members.len());
        Ok((0..members).fold(ItemCounts::new(), |mut counts, _| {
            count_one(&mut counts, "users");
            counts
        }))
    }

    async fn erase(&self, tenant: &TenantId, _deadline: Instant) -> Result<ErasurePass, ApiError> {
        let removed = self.count(tenant).await?;
        self.locked_for_write()?.remove(tenant);
        Ok(ErasurePass { removed, finished: true })
    }
}

impl MembershipStore for MemoryMembershipStore {
    type Outbox = MemoryOutbox;

    fn outbox(&self) -> &MemoryOutbox {
        &self.outbox
    }

    async fn list(&self, tenant: &TenantId, limit: usize, after: Option<UserId>) -> Result<UserPage, DataError> {
        let partitions = self.locked()?;
        let page: Vec<User> = partitions
            .get(tenant)
            .map(|partition| {
                partition
                    .members
                    .iter()
                    // UUIDs order like their canonical text, so like the `user#<id>` sort keys.
                    .filter(|(id, _)| after.is_none_or(|after| **id > after))
                    .map(|(_, user)| user.clone())
                    .take(limit + 1)
                    .collect()
            })
            .unwrap_or_default();
        let (page, next_after) = cut_page(page, limit, |user| user.user_id);
        Ok(UserPage { users: page, next_after })
    }

    async fn get(&self, tenant: &TenantId, user: UserId) -> Result<Option<User>, DataError> {
        Ok(self.locked()?.get(tenant).and_then(|partition| partition.members.get(&user)).cloned())
    }

    async fn user_count(&self, tenant: &TenantId) -> Result<i64, DataError> {
        Ok(self.locked()?.get(tenant).map_or(0, |partition| partition.users))
    }

    async fn create(&self, tenant: &TenantId, new: NewMembership<'_>) -> Result<Written, DataError> {
        let NewMembership { user, max_users, remember, events } = new;
        let mut partitions = self.locked_for_write()?;
        if let Some((key, _)) = remember
            && partitions.get(tenant).is_some_and(|partition| partition.remembered.contains_key(key))
        {
            return Ok(Written::KeyUsed);
        }
        let (exists, users) = partitions
            .get(tenant)
            .map_or((false, 0), |partition| (partition.members.contains_key(&user.user_id), partition.users));
        if exists {
            return Ok(Written::Exists);
        }
        if !(0..=max_users).contains(&(users + 1)) {
            return Ok(Written::LimitReached);
        }
        let partition = partitions.entry(*tenant).or_default();
        partition.members.insert(user.user_id, user.clone());
        partition.users += 1;
        partition.admins += i64::from(is_active_admin(user));
        if let Some((key, record)) = remember {
            partition.remembered.insert(key.to_owned(), record.clone());
        }
        self.outbox.add(events);
        Ok(Written::Done)
    }

    async fn remembered(&self, tenant: &TenantId, sort_key: &str) -> Result<Option<RememberedCreate>, DataError> {
        Ok(self.locked()?.get(tenant).and_then(|partition| partition.remembered.get(sort_key).cloned()))
    }

    async fn replace(&self, tenant: &TenantId, revision: Revision<'_>) -> Result<Written, DataError> {
        let Revision { user, expected_version, change, events } = revision;
        let mut partitions = self.locked_for_write()?;
        let Some(partition) = partitions.get_mut(tenant) else {
            return Ok(Written::Missing);
        };
        match partition.members.get(&user.user_id) {
            None => return Ok(Written::Missing),
            Some(stored) if stored.version != expected_version => return Ok(Written::Stale),
            Some(_) => {}
        }
        if change.admins < 0 && partition.admins + change.admins < 1 {
            return Ok(Written::LastAdmin);
        }
        partition.members.insert(user.user_id, user.clone());
        partition.users += change.users;
        partition.admins += change.admins;
        self.outbox.add(events);
        Ok(Written::Done)
    }

    async fn remove(&self, tenant: &TenantId, user: UserId, expected_version: u64) -> Result<Written, DataError> {
        let mut partitions = self.locked_for_write()?;
        let Some(partition) = partitions.get_mut(tenant) else {
            return Ok(Written::Missing);
        };
        match partition.members.get(&user) {
            None => Ok(Written::Missing),
            Some(stored) if stored.version != expected_version => Ok(Written::Stale),
            Some(_) => {
                partition.members.remove(&user);
                Ok(Written::Done)
            }
        }
    }

    async fn forget_counters(&self, tenant: &TenantId) -> Result<(), DataError> {
        let mut partitions = self.locked_for_write()?;
        if partitions.get(tenant).is_some_and(|partition| partition.members.is_empty()) {
            partitions.remove(tenant);
        }
        Ok(())
    }
}
