//! Where notes live. One trait, a DynamoDB implementation that reaches data
//! only through tenant-scoped credentials, and an in-memory one for tests.

mod dynamo;
mod memory;

use std::future::Future;

use tenancy::TenantId;
use tenancy::erasure::TenantData;
use tenancy::replay::{Remember, RememberedCreate};
use tenancy::table::DataError;

pub use dynamo::DynamoNoteStore;
pub use memory::MemoryNoteStore;

use crate::domain::{Note, NoteId};

/// What came of a create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Yes,
    /// The tenant already has `limit` notes; nothing was written.
    LimitReached,
    /// The create's idempotency key is remembered already (an earlier or
    /// concurrent request with it); nothing was written, whatever the limit.
    KeyUsed,
}

/// One page of notes, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotePage {
    pub notes: Vec<Note>,
    /// The last note of this page, when more may follow.
    pub next_after: Option<NoteId>,
}

/// Storage of notes, always within one tenant's partition; offboarding
/// counts and erases a tenant's partition through it too.
pub trait NoteStore: TenantData + 'static {
    /// Up to `limit` notes, newest first, after `after` if given.
    fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<NoteId>,
    ) -> impl Future<Output = Result<NotePage, DataError>> + Send;

    /// Stores a new note unless the tenant already has `limit` notes; fails if
    /// its id is taken. The count is kept atomically with the notes, and so is
    /// the remembered create, if any (written only if absent).
    fn create(
        &self,
        tenant: &TenantId,
        note: &Note,
        limit: i64,
        remember: Option<Remember<'_>>,
    ) -> impl Future<Output = Result<Created, DataError>> + Send;

    /// The create remembered under `sort_key`, if any.
    fn remembered(
        &self,
        tenant: &TenantId,
        sort_key: &str,
    ) -> impl Future<Output = Result<Option<RememberedCreate>, DataError>> + Send;

    fn get(&self, tenant: &TenantId, id: NoteId) -> impl Future<Output = Result<Option<Note>, DataError>> + Send;

    /// Replaces a note if its stored version is still `expected_version`;
    /// otherwise `DataError::ConditionFailed` and nothing changes.
    fn replace(
        &self,
        tenant: &TenantId,
        note: &Note,
        expected_version: u64,
    ) -> impl Future<Output = Result<(), DataError>> + Send;

    /// Deletes a note; `ConditionFailed { exists: false }` if there is none.
    fn delete(&self, tenant: &TenantId, id: NoteId) -> impl Future<Output = Result<(), DataError>> + Send;
}
