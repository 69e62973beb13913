use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use std::time::Instant;

use tenancy::cursor::cut_page;
use tenancy::erasure::{ErasurePass, ItemCounts, TenantData, count_one};
use tenancy::replay::{Remember, RememberedCreate};
use tenancy::table::{DataError, replace_versioned};
use tenancy::{ApiError, TenantId};

use super::{Created, NotePage, NoteStore};
use crate::domain::{Note, NoteId};

type Notes = BTreeMap<(TenantId, NoteId), Note>;

/// Notes in memory, keyed like the table: (tenant, note id). Can be switched
/// to "unavailable" to exercise outage handling.
#[derive(Debug, Default)]
pub struct MemoryNoteStore {
    notes: Mutex<Notes>,
    remembered: Mutex<BTreeMap<(TenantId, String), RememberedCreate>>,
    unavailable: AtomicBool,
}

impl MemoryNoteStore {
    /// Makes every call fail as if the data store were down.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Every stored note of every tenant (for assertions).
    pub fn snapshot(&self) -> Vec<(TenantId, Note)> {
        self.locked()
            .map(|notes| notes.iter().map(|((tenant, _), note)| (*tenant, note.clone())).collect())
            .unwrap_or_default()
    }

    fn locked(&self) -> Result<std::sync::MutexGuard<'_, Notes>, DataError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(DataError::Unavailable("the in-memory store is switched off".into()));
        }
        self.notes.lock().map_err(|_| DataError::Unavailable("poisoned lock".into()))
    }
}

impl TenantData for MemoryNoteStore {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        let mut counts = ItemCounts::new();
        self.locked()?.keys().filter(|(owner, _)| owner == tenant).for_each(|_| count_one(&mut counts, "notes"));
        Ok(counts)
    }

    async fn erase(&self, tenant: &TenantId, _deadline: Instant) -> Result<ErasurePass, ApiError> {
        let mut pass = ErasurePass { finished: true, ..ErasurePass::default() };
        self.locked()?.retain(|(owner, _), _| {
            let erased = owner == tenant;
            if erased {
                count_one(&mut pass.removed, "notes");
            }
            !erased
        });
        let mut remembered = self.remembered.lock().map_err(|_| DataError::Unavailable("poisoned lock".into()))?;
        remembered.retain(|(owner, _), _| owner != tenant);
        Ok(pass)
    }
}

impl NoteStore for MemoryNoteStore {
    async fn list(&self, tenant: &TenantId, limit: usize, after: Option<NoteId>) -> Result<NotePage, DataError> {
        let notes = self.locked()?;
        let page: Vec<Note> = notes
            .iter()
            .rev()
            .filter(|((owner, id), _)| owner == tenant && after.is_none_or(|after| *id < after))
            .map(|(_, note)| note.clone())
            .take(limit + 1)
            .collect();
        let (page, next_after) = cut_page(page, limit, |note| note.id);
        Ok(NotePage { notes: page, next_after })
    }

    async fn create(
        &self,
        tenant: &TenantId,
        note: &Note,
        limit: i64,
        remember: Option<Remember<'_>>,
    ) -> Result<Created, DataError> {
        let mut notes = self.locked()?;
        let mut remembered = self.remembered.lock().map_err(|_| DataError::Unavailable("poisoned lock".into()))?;
        if let Some((key, _)) = remember
            && remembered.contains_key(&(*tenant, key.to_owned()))
        {
            return Ok(Created::KeyUsed);
        }
        if notes.contains_key(&(*tenant, note.id)) {
            return Err(DataError::ConditionFailed { index: 0, exists: true });
        }
        let count = notes.keys().filter(|(owner, _)| owner == tenant).count();
        if i64::try_from(count).unwrap_or(i64::MAX) >= limit {
            return Ok(Created::LimitReached);
        }
        notes.insert((*tenant, note.id), note.clone());
        if let Some((key, record)) = remember {
            remembered.insert((*tenant, key.to_owned()), record.clone());
        }
        Ok(Created::Yes)
    }

    async fn remembered(&self, tenant: &TenantId, sort_key: &str) -> Result<Option<RememberedCreate>, DataError> {
        let _available = self.locked()?;
        Ok(self
            .remembered
            .lock()
            .map_err(|_| DataError::Unavailable("poisoned lock".into()))?
            .get(&(*tenant, sort_key.to_owned()))
            .cloned())
    }

    async fn get(&self, tenant: &TenantId, id: NoteId) -> Result<Option<Note>, DataError> {
        Ok(self.locked()?.get(&(*tenant, id)).cloned())
    }

    async fn replace(&self, tenant: &TenantId, note: &Note, expected_version: u64) -> Result<(), DataError> {
        let mut notes = self.locked()?;
        replace_versioned(notes.get_mut(&(*tenant, note.id)), note, |stored| stored.version, expected_version)
    }

    async fn delete(&self, tenant: &TenantId, id: NoteId) -> Result<(), DataError> {
        match self.locked()?.remove(&(*tenant, id)) {
            Some(_) => Ok(()),
            None => Err(DataError::ConditionFailed { index: 0, exists: false }),
        }
    }
}
