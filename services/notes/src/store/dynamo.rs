use serde::{Deserialize, Serialize};
use tenancy::TenantId;
use tenancy::credentials::RoleAssumer;
use tenancy::table::{DataError, PageRequest, TableSpec, TenantDynamoSessions, WriteCondition};
use time::OffsetDateTime;

use super::{NotePage, NoteStore};
use crate::domain::{Note, NoteId};

/// The notes table: partition key `tenant_id`, sort key `note_id`.
pub fn notes_table(name: impl Into<String>) -> TableSpec {
    TableSpec {
        name: name.into(),
        partition_key: "tenant_id",
        sort_key: "note_id",
    }
}

/// The attribute that carries the optimistic-concurrency version.
const VERSION: &str = "version";

/// A note as a DynamoDB item (the partition key is added by `TenantTable`).
#[derive(Debug, Serialize, Deserialize)]
struct NoteItem {
    note_id: NoteId,
    title: String,
    body: String,
    version: u64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl From<&Note> for NoteItem {
    fn from(note: &Note) -> Self {
        Self {
            note_id: note.id,
            title: note.title.clone(),
            body: note.body.clone(),
            version: note.version,
            created_at: note.created_at,
            updated_at: note.updated_at,
        }
    }
}

impl From<NoteItem> for Note {
    fn from(item: NoteItem) -> Self {
        Self {
            id: item.note_id,
            title: item.title,
            body: item.body,
            version: item.version,
            created_at: item.created_at,
            updated_at: item.updated_at,
        }
    }
}

/// Notes in DynamoDB, reached only with the calling tenant's credentials.
#[derive(Debug)]
pub struct DynamoNoteStore<A> {
    sessions: TenantDynamoSessions<A>,
    table: TableSpec,
}

impl<A: RoleAssumer> DynamoNoteStore<A> {
    pub fn new(sessions: TenantDynamoSessions<A>, table_name: impl Into<String>) -> Self {
        Self {
            sessions,
            table: notes_table(table_name),
        }
    }
}

impl<A: RoleAssumer> NoteStore for DynamoNoteStore<A> {
    async fn list(&self, tenant: &TenantId, limit: usize, after: Option<NoteId>) -> Result<NotePage, DataError> {
        let session = self.sessions.get(tenant).await?;
        let after = after.map(|id| id.to_string());
        let page = session
            .table(&self.table)
            .query::<NoteItem>(PageRequest {
                limit,
                after: after.as_deref(),
                descending: true,
            })
            .await?;
        let next_after = page
            .next_after
            .map(|key| NoteId::parse(&key).map_err(|error| DataError::Corrupt(error.to_string())))
            .transpose()?;
        Ok(NotePage {
            notes: page.items.into_iter().map(Note::from).collect(),
            next_after,
        })
    }

    async fn create(&self, tenant: &TenantId, note: &Note) -> Result<(), DataError> {
        let session = self.sessions.get(tenant).await?;
        session
            .table(&self.table)
            .put(&note.id.to_string(), &NoteItem::from(note), WriteCondition::Absent)
            .await
    }

    async fn get(&self, tenant: &TenantId, id: NoteId) -> Result<Option<Note>, DataError> {
        let session = self.sessions.get(tenant).await?;
        Ok(session
            .table(&self.table)
            .get::<NoteItem>(&id.to_string())
            .await?
            .map(Note::from))
    }

    async fn replace(&self, tenant: &TenantId, note: &Note, expected_version: u64) -> Result<(), DataError> {
        let session = self.sessions.get(tenant).await?;
        let condition = WriteCondition::AttributeEquals {
            attribute: VERSION,
            value: expected_version,
        };
        session
            .table(&self.table)
            .put(&note.id.to_string(), &NoteItem::from(note), condition)
            .await
    }

    async fn delete(&self, tenant: &TenantId, id: NoteId) -> Result<(), DataError> {
        let session = self.sessions.get(tenant).await?;
        session
            .table(&self.table)
            .delete(&id.to_string(), WriteCondition::Present)
            .await
    }
}
