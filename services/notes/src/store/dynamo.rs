use serde::{Deserialize, Serialize};
use std::time::Instant;

use tenancy::credentials::RoleAssumer;
use tenancy::erasure::{ErasurePass, ItemCounts, TenantData};
use tenancy::table::{
    DataError, PageRequest, TableSpec, TenantDynamoCache, WriteCondition, count_partition, erase_partition,
};
use tenancy::{ApiError, TenantId};
use time::OffsetDateTime;

use super::{Created, NotePage, NoteStore};
use crate::domain::{Note, NoteId};
use tenancy::replay::{Remember, RememberedCreate};

/// The notes table: partition key `tenant_id`, sort key `sk`, holding
/// `note#<id>` items, the tenant's `usage` counter item and remembered creates
/// (`request#...`, expiring by the table's TTL on `expires_at`).
pub fn notes_table(name: impl Into<String>) -> TableSpec {
    TableSpec { name: name.into(), partition_key: "tenant_id", sort_key: "sk" }
}

/// The attribute that carries the optimistic-concurrency version.
const VERSION: &str = "version";
const NOTE_PREFIX: &str = "note#";
const USAGE: &str = "usage";
const NOTE_COUNT: &str = "notes";

fn sort_key(id: NoteId) -> String {
    format!("{NOTE_PREFIX}{id}")
}

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

/// The kind of a notes table item, as an erasure receipt counts it.
fn kind_of(sort_key: &str) -> &'static str {
    if sort_key.starts_with(NOTE_PREFIX) {
        "notes"
    } else if sort_key == USAGE {
        "counters"
    } else if sort_key.starts_with(tenancy::replay::REMEMBERED_PREFIX) {
        "remembered_requests"
    } else {
        "other_items"
    }
}

impl<A: RoleAssumer> TenantData for DynamoNoteStore<A> {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        count_partition(&self.dynamo, &self.table, tenant, kind_of).await
    }

    async fn erase(&self, tenant: &TenantId, deadline: Instant) -> Result<ErasurePass, ApiError> {
        erase_partition(&self.dynamo, &self.table, tenant, kind_of, deadline).await
    }
}

/// Notes in DynamoDB, reached only with the calling tenant's credentials.
#[derive(Debug)]
pub struct DynamoNoteStore<A> {
    dynamo: TenantDynamoCache<A>,
    table: TableSpec,
}

impl<A: RoleAssumer> DynamoNoteStore<A> {
    pub fn new(dynamo: TenantDynamoCache<A>, table_name: impl Into<String>) -> Self {
        Self { dynamo, table: notes_table(table_name) }
    }
}

impl<A: RoleAssumer> NoteStore for DynamoNoteStore<A> {
    async fn list(&self, tenant: &TenantId, limit: usize, after: Option<NoteId>) -> Result<NotePage, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let after = after.map(sort_key);
        let request = PageRequest { limit, after: after.as_deref(), descending: true, prefix: NOTE_PREFIX };
        let page = dynamo.table(&self.table).query::<NoteItem>(request).await?;
        let next_after = page
            .next_after
            .map(|key| {
                key.strip_prefix(NOTE_PREFIX)
                    .and_then(|id| NoteId::parse(id).ok())
                    .ok_or_else(|| DataError::Corrupt(format!("unexpected sort key {key:?}")))
            })
            .transpose()?;
        Ok(NotePage { notes: page.items.into_iter().map(Note::from).collect(), next_after })
    }

    async fn create(
        &self,
        tenant: &TenantId,
        note: &Note,
        limit: i64,
        remember: Option<Remember<'_>>,
    ) -> Result<Created, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let table = dynamo.table(&self.table);
        let mut writes = Vec::with_capacity(3);
        // First: a key already remembered wins over the limit.
        if let Some((key, remembered)) = remember {
            writes.push(table.put_write(key, remembered, WriteCondition::Absent)?);
        }
        writes.push(table.put_write(&sort_key(note.id), &NoteItem::from(note), WriteCondition::Absent)?);
        let counter = writes.len();
        writes.push(table.count_write(USAGE, NOTE_COUNT, 1, 0..=limit)?);
        match table.transact(writes).await {
            Ok(()) => Ok(Created::Yes),
            Err(DataError::ConditionFailed { index: 0, .. }) if remember.is_some() => Ok(Created::KeyUsed),
            Err(DataError::ConditionFailed { index, .. }) if index == counter => Ok(Created::LimitReached),
            Err(other) => Err(other),
        }
    }

    async fn remembered(&self, tenant: &TenantId, sort_key: &str) -> Result<Option<RememberedCreate>, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        dynamo.table(&self.table).get::<RememberedCreate>(sort_key).await
    }

    async fn get(&self, tenant: &TenantId, id: NoteId) -> Result<Option<Note>, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        Ok(dynamo.table(&self.table).get::<NoteItem>(&sort_key(id)).await?.map(Note::from))
    }

    async fn replace(&self, tenant: &TenantId, note: &Note, expected_version: u64) -> Result<(), DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let condition = WriteCondition::AttributeEquals { attribute: VERSION, value: expected_version };
        dynamo.table(&self.table).put(&sort_key(note.id), &NoteItem::from(note), condition).await
    }

    async fn delete(&self, tenant: &TenantId, id: NoteId) -> Result<(), DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let table = dynamo.table(&self.table);
        // Never bounded: a counter that drifted must not block deleting.
        let writes = vec![
            table.delete_write(&sort_key(id), WriteCondition::Present)?,
            table.count_write(USAGE, NOTE_COUNT, -1, i64::MIN..=i64::MAX)?,
        ];
        table.transact(writes).await
    }
}
