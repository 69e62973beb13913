use serde::{Deserialize, Serialize};
use std::time::Instant;

use tenancy::credentials::RoleAssumer;
use tenancy::erasure::{ErasurePass, ItemCounts, TenantData};
use tenancy::events::{DynamoOutbox, LifecycleEvent};
use tenancy::replay::RememberedCreate;
use tenancy::table::{
    DataError, PageRequest, TableSpec, TenantDynamoCache, TenantTable, TxWrite, WriteCondition, count_partition,
    erase_partition,
};
use tenancy::{ApiError, TenantId};
use time::OffsetDateTime;

use super::{MembershipStore, NewMembership, Revision, UserPage, Written};
use crate::domain::{MembershipStatus, TenantRole, User, UserId, is_active_admin};

/// The memberships table: partition key `tenant_id`, sort key `sk`, holding
/// `user#<user id>` items and the tenant's counter items `usage` (attribute
/// `users`) and `usage#admins` (attribute `admins`).
///
/// The two counters live on two items because one DynamoDB transaction may
/// not touch an item twice, and `TenantTable::count_write` adds to a single
/// attribute: inviting an admin (or removing one) moves both counters.
pub fn memberships_table(name: impl Into<String>) -> TableSpec {
    TableSpec { name: name.into(), partition_key: "tenant_id", sort_key: "sk" }
}

const VERSION: &str = "version";
const USER_PREFIX: &str = "user#";
const USAGE: &str = "usage";
const USERS: &str = "users";
const ADMIN_USAGE: &str = "usage#admins";
const ADMINS: &str = "admins";

fn sort_key(id: UserId) -> String {
    format!("{USER_PREFIX}{id}")
}

/// A membership as a DynamoDB item (the partition key is added by `TenantTable`).
#[derive(Debug, Serialize, Deserialize)]
struct MembershipItem {
    user_id: UserId,
    email: String,
    role: TenantRole,
    status: MembershipStatus,
    version: u64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl From<&User> for MembershipItem {
    fn from(user: &User) -> Self {
        Self {
            user_id: user.user_id,
            email: user.email.clone(),
            role: user.role,
            status: user.status,
            version: user.version,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

impl From<MembershipItem> for User {
    fn from(item: MembershipItem) -> Self {
        Self {
            user_id: item.user_id,
            email: item.email,
            role: item.role,
            status: item.status,
            version: item.version,
            created_at: item.created_at,
            updated_at: item.updated_at,
        }
    }
}

/// What a write of a transaction stands for, to name a failed condition.
#[derive(Debug, Clone, Copy)]
enum WriteKind {
    Remembered,
    Membership,
    UsersLimit,
    AdminsFloor,
    Unbounded,
}

/// Memberships in DynamoDB, reached only with the calling tenant's credentials.
#[derive(Debug)]
pub struct DynamoMembershipStore<A> {
    dynamo: TenantDynamoCache<A>,
    table: TableSpec,
    outbox: DynamoOutbox<A>,
}

impl<A: RoleAssumer> DynamoMembershipStore<A> {
    /// `outbox`: where the memberships' lifecycle events wait for the bus.
    pub fn new(dynamo: TenantDynamoCache<A>, table_name: impl Into<String>, outbox: DynamoOutbox<A>) -> Self {
        Self { dynamo, table: memberships_table(table_name), outbox }
    }

    /// Runs the writes `build` makes as one transaction. `on_exists` is what
    /// a failed membership condition on an existing item means (`Exists` for
    /// a create, `Stale` for a replace).
    async fn run(
        &self,
        tenant: &TenantId,
        build: impl FnOnce(&TenantTable<'_>) -> Result<Vec<(TxWrite, WriteKind)>, DataError>,
        on_exists: Written,
        events: &[LifecycleEvent],
    ) -> Result<Written, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let table = dynamo.table(&self.table);
        let (mut writes, roles): (Vec<_>, Vec<_>) = build(&table)?.into_iter().unzip();
        // The events last: their keys are new, so their conditions hold.
        writes.extend(self.outbox.writes(&dynamo, events)?);
        match table.transact(writes).await {
            Ok(()) => Ok(Written::Done),
            Err(DataError::ConditionFailed { index, exists }) => Ok(match roles.get(index) {
                Some(WriteKind::Remembered) => Written::KeyUsed,
                Some(WriteKind::Membership) if exists => on_exists,
                Some(WriteKind::Membership) => Written::Missing,
                Some(WriteKind::UsersLimit) => Written::LimitReached,
                Some(WriteKind::AdminsFloor) => Written::LastAdmin,
                Some(WriteKind::Unbounded) | None => {
                    return Err(DataError::Corrupt(format!("unexpected failed condition {index}")));
                }
            }),
            Err(other) => Err(other),
        }
    }
}

fn admins_write(table: &TenantTable<'_>, by: i64) -> Result<Option<(TxWrite, WriteKind)>, DataError> {
    Ok(match by {
        0 => None,
        by if by < 0 => Some((table.count_write(ADMIN_USAGE, ADMINS, by, 1..=i64::MAX)?, WriteKind::AdminsFloor)),
        by => Some((table.count_write(ADMIN_USAGE, ADMINS, by, i64::MIN..=i64::MAX)?, WriteKind::Unbounded)),
    })
}

/// The kind of a memberships table item, as an erasure receipt counts it.
fn kind_of(sort_key: &str) -> &'static str {
    if sort_key.starts_with(USER_PREFIX) {
        "users"
    } else if sort_key == USAGE || sort_key == ADMIN_USAGE {
        "counters"
    } else if sort_key.starts_with(tenancy::replay::REMEMBERED_PREFIX) {
        "remembered_requests"
    } else {
        "other_items"
    }
}

impl<A: RoleAssumer> TenantData for DynamoMembershipStore<A> {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        count_partition(&self.dynamo, &self.table, tenant, kind_of).await
    }

    async fn erase(&self, tenant: &TenantId, deadline: Instant) -> Result<ErasurePass, ApiError> {
        erase_partition(&self.dynamo, &self.table, tenant, kind_of, deadline).await
    }
}

impl<A: RoleAssumer> MembershipStore for DynamoMembershipStore<A> {
    type Outbox = DynamoOutbox<A>;

    fn outbox(&self) -> &DynamoOutbox<A> {
        &self.outbox
    }

    async fn list(&self, tenant: &TenantId, limit: usize, after: Option<UserId>) -> Result<UserPage, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let after = after.map(sort_key);
        let request = PageRequest { limit, after: after.as_deref(), descending: false, prefix: USER_PREFIX };
        let page = dynamo.table(&self.table).query::<MembershipItem>(request).await?;
        let next_after = page
            .next_after
            .map(|key| {
                key.strip_prefix(USER_PREFIX)
                    .and_then(|id| UserId::parse(id).ok())
                    .ok_or_else(|| DataError::Corrupt(format!("unexpected sort key {key:?}")))
            })
            .transpose()?;
        Ok(UserPage { users: page.items.into_iter().map(User::from).collect(), next_after })
    }

    async fn get(&self, tenant: &TenantId, user: UserId) -> Result<Option<User>, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        Ok(dynamo.table(&self.table).get::<MembershipItem>(&sort_key(user)).await?.map(User::from))
    }

    async fn user_count(&self, tenant: &TenantId) -> Result<i64, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        dynamo.table(&self.table).counter(USAGE, USERS).await
    }

    async fn create(&self, tenant: &TenantId, new: NewMembership<'_>) -> Result<Written, DataError> {
        let NewMembership { user, max_users, remember, events } = new;
        let build = |table: &TenantTable<'_>| {
            let mut writes = Vec::with_capacity(4);
            // First: a key already remembered wins over the other conditions.
            if let Some((key, remembered)) = remember {
                writes.push((table.put_write(key, remembered, WriteCondition::Absent)?, WriteKind::Remembered));
            }
            writes.extend([
                (
                    table.put_write(&sort_key(user.user_id), &MembershipItem::from(user), WriteCondition::Absent)?,
                    WriteKind::Membership,
                ),
                (table.count_write(USAGE, USERS, 1, 0..=max_users)?, WriteKind::UsersLimit),
            ]);
            writes.extend(admins_write(table, i64::from(is_active_admin(user)))?);
            Ok(writes)
        };
        self.run(tenant, build, Written::Exists, events).await
    }

    async fn remembered(&self, tenant: &TenantId, sort_key: &str) -> Result<Option<RememberedCreate>, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        dynamo.table(&self.table).get::<RememberedCreate>(sort_key).await
    }

    async fn replace(&self, tenant: &TenantId, revision: Revision<'_>) -> Result<Written, DataError> {
        let Revision { user, expected_version, change, events } = revision;
        let build = |table: &TenantTable<'_>| {
            let condition = WriteCondition::AttributeEquals { attribute: VERSION, value: expected_version };
            let mut writes = vec![(
                table.put_write(&sort_key(user.user_id), &MembershipItem::from(user), condition)?,
                WriteKind::Membership,
            )];
            if change.users != 0 {
                // Never bounded: a counter that drifted must not block removing.
                writes
                    .push((table.count_write(USAGE, USERS, change.users, i64::MIN..=i64::MAX)?, WriteKind::Unbounded));
            }
            writes.extend(admins_write(table, change.admins)?);
            Ok(writes)
        };
        self.run(tenant, build, Written::Stale, events).await
    }

    async fn remove(&self, tenant: &TenantId, user: UserId, expected_version: u64) -> Result<Written, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let condition = WriteCondition::AttributeEquals { attribute: VERSION, value: expected_version };
        match dynamo.table(&self.table).delete(&sort_key(user), condition).await {
            Ok(()) => Ok(Written::Done),
            Err(DataError::ConditionFailed { exists: true, .. }) => Ok(Written::Stale),
            Err(DataError::ConditionFailed { exists: false, .. }) => Ok(Written::Missing),
            Err(other) => Err(other),
        }
    }

    async fn forget_counters(&self, tenant: &TenantId) -> Result<(), DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let table = dynamo.table(&self.table);
        table.delete(USAGE, WriteCondition::Always).await?;
        table.delete(ADMIN_USAGE, WriteCondition::Always).await
    }
}
