//! Recording and reading the trail (the functions' side).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use http::header::LOCATION;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{Actor, ActorRole, AuditEntry};
use crate::credentials::RoleAssumer;
use crate::cursor::ListCursor;
use crate::erasure::{ErasurePass, ItemCounts, TenantData};
use crate::error::ApiError;
use crate::http::RouteResult;
use crate::table::{
    DataError, Page, PageRequest, TableSpec, TenantDynamoCache, WriteCondition, count_partition, erase_partition,
};
use crate::{PlatformAdmin, TenantContext, TenantId, TenantTier, UserId};

/// The trail's cursors: the sort key to continue after.
pub const AUDIT_CURSOR: ListCursor = ListCursor::new("a1:");

/// How many store pages one read of the trail looks through for entries that
/// match its filters, before it hands back a cursor to continue from.
const MAX_PAGES_PER_READ: usize = 10;

/// Where the trail is kept: the tenant's partition, entries in time order.
/// Offboarding counts and erases a tenant's trail through it too ([`TenantData`]).
pub trait AuditStore: TenantData + 'static {
    /// Adds `entry` under `sort_key`; never replaces an entry.
    fn append(
        &self,
        tenant: &TenantId,
        sort_key: &str,
        entry: &AuditEntry,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), DataError>> + Send;

    /// Up to `limit` entries, newest first, older than the sort key `before`.
    fn newest_first(
        &self,
        tenant: &TenantId,
        limit: usize,
        before: Option<&str>,
    ) -> impl Future<Output = Result<Page<AuditEntry>, DataError>> + Send;
}

impl Actor {
    /// A member of the tenant, with the role its records gave it.
    pub fn member(context: &TenantContext) -> Self {
        let role = if context.is_admin() { ActorRole::Admin } else { ActorRole::Member };
        Self { user_id: context.user_id, role }
    }

    /// An operator of the SaaS acting on a tenant.
    pub fn platform_admin(admin: &PlatformAdmin) -> Self {
        Self { user_id: admin.user_id, role: ActorRole::PlatformAdmin }
    }
}

/// The sort key a trail cursor continues after: 20 digits of nanoseconds,
/// `#`, the request id (anything else is not a cursor the trail handed out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursorKey(String);

impl std::str::FromStr for AuditCursorKey {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (time, request) = text.split_once('#').ok_or(())?;
        let well_formed = time.len() == 20
            && time.bytes().all(|b| b.is_ascii_digit())
            && !request.is_empty()
            && request.len() <= 128
            && request.bytes().all(|b| b.is_ascii_graphic());
        if well_formed { Ok(Self(text.to_owned())) } else { Err(()) }
    }
}

impl std::fmt::Display for AuditCursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which entries a reader wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub limit: usize,
    /// Continue after this cursor's entry.
    pub after: Option<AuditCursorKey>,
    pub actor: Option<UserId>,
    /// A route, as `METHOD /path/{param}`.
    pub action: Option<String>,
    /// Entries at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Entries at or before this time.
    pub to: Option<OffsetDateTime>,
}

/// One page of entries and the sort key to continue after, if there may be more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_after: Option<AuditCursorKey>,
}

/// The trail of every tenant, over a store.
#[derive(Debug)]
pub struct Audit<S> {
    store: S,
}

impl<S: AuditStore> Audit<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The store (for tests).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Records the answer to a state-changing request in `tenant`'s trail;
    /// reads (`GET`) are not recorded. The answer stands whatever happens
    /// here: an entry that cannot be written is logged in full instead.
    pub async fn record(
        &self,
        tenant: &TenantId,
        tier: TenantTier,
        actor: Actor,
        request: &ApiGatewayV2httpRequest,
        result: &RouteResult,
    ) {
        let action = request.request_context.route_key.clone().unwrap_or_default();
        if action.is_empty() || action.starts_with("GET ") {
            return;
        }
        let entry = AuditEntry {
            at: OffsetDateTime::now_utc(),
            request_id: request.request_context.request_id.clone().unwrap_or_default(),
            actor,
            action,
            target: target(request, result),
            outcome: match result {
                Ok(response) => u16::try_from(response.status_code).unwrap_or_default(),
                Err(error) => error.status().as_u16(),
            },
        };
        let expires_at = entry.at + Duration::days(tier.limits().audit_retention_days);
        if let Err(error) = self.store.append(tenant, &sort_key(&entry), &entry, expires_at).await {
            tracing::error!(
                tenant_id = %tenant,
                %error,
                entry = %serde_json::to_string(&entry).unwrap_or_default(),
                "audit entry not written"
            );
        }
    }

    /// A page of `tenant`'s trail, newest first. Filters may leave a page
    /// short (even empty) with a cursor: the read looks through a bounded
    /// number of store pages.
    pub async fn read(&self, tenant: &TenantId, query: &AuditQuery) -> Result<AuditPage, DataError> {
        // Entries at or before `to` sort below the key of the next nanosecond.
        // (`to` at the end of time: every key sorts below a 21st digit.)
        let end =
            |to: OffsetDateTime| to.checked_add(Duration::nanoseconds(1)).map_or_else(|| "9".repeat(21), time_key);
        let mut before = query.after.as_ref().map(|key| key.0.clone()).or_else(|| query.to.map(end));
        let mut entries = Vec::new();
        for _ in 0..MAX_PAGES_PER_READ {
            let page = self.store.newest_first(tenant, query.limit, before.as_deref()).await?;
            let mut rest = page.items.into_iter().peekable();
            while let Some(entry) = rest.next() {
                if query.from.is_some_and(|from| entry.at < from) {
                    return Ok(AuditPage { entries, next_after: None });
                }
                let wanted = query.actor.is_none_or(|actor| entry.actor.user_id == actor)
                    && query.action.as_ref().is_none_or(|action| &entry.action == action);
                if !wanted {
                    continue;
                }
                entries.push(entry);
                if entries.len() == query.limit {
                    let more = rest.peek().is_some() || page.next_after.is_some();
                    let next_after = entries.last().filter(|_| more).map(|entry| AuditCursorKey(sort_key(entry)));
                    return Ok(AuditPage { entries, next_after });
                }
            }
            match page.next_after {
                Some(next) => before = Some(next),
                None => return Ok(AuditPage { entries, next_after: None }),
            }
        }
        Ok(AuditPage { entries, next_after: before.map(AuditCursorKey) })
    }
}

/// What the action was on: the route's path parameter, else the id at the
/// end of a create's `Location`.
fn target(request: &ApiGatewayV2httpRequest, result: &RouteResult) -> Option<String> {
    let mut parameters: Vec<&String> = request.path_parameters.values().collect();
    parameters.sort();
    if !parameters.is_empty() {
        return Some(parameters.iter().map(|value| value.as_str()).collect::<Vec<_>>().join(","));
    }
    let location = result.as_ref().ok()?.headers.get(LOCATION)?.to_str().ok()?;
    location.rsplit('/').next().filter(|id| !id.is_empty()).map(str::to_owned)
}

/// Sort keys order entries by time: zero-padded nanoseconds, then the request id.
pub fn sort_key(entry: &AuditEntry) -> String {
    format!("{}#{}", time_key(entry.at), entry.request_id)
}

fn time_key(at: OffsetDateTime) -> String {
    format!("{:020}", at.unix_timestamp_nanos().max(0))
}

/// The kind of every item of the audit table, as an erasure receipt counts it.
const AUDIT_ENTRIES: &str = "audit_entries";

/// The trail in DynamoDB: the audit table, partition key `tenant_id`, sort key
/// `sk`, TTL attribute `expires_at`; reached through the tenant role.
#[derive(Debug, Clone)]
pub struct DynamoAuditStore<A> {
    dynamo: TenantDynamoCache<A>,
    table: TableSpec,
}

impl<A: RoleAssumer> DynamoAuditStore<A> {
    pub fn new(dynamo: TenantDynamoCache<A>, table: impl Into<String>) -> Self {
        Self { dynamo, table: TableSpec { name: table.into(), partition_key: "tenant_id", sort_key: "sk" } }
    }
}

/// An entry as stored: the entry and when DynamoDB's TTL removes it.
#[derive(Serialize)]
struct Stored<'a> {
    #[serde(flatten)]
    entry: &'a AuditEntry,
    expires_at: i64,
}

impl<A: RoleAssumer> TenantData for DynamoAuditStore<A> {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        count_partition(&self.dynamo, &self.table, tenant, |_| AUDIT_ENTRIES).await
    }

    async fn erase(&self, tenant: &TenantId, deadline: Instant) -> Result<ErasurePass, ApiError> {
        erase_partition(&self.dynamo, &self.table, tenant, |_| AUDIT_ENTRIES, deadline).await
    }
}

impl<A: RoleAssumer> AuditStore for DynamoAuditStore<A> {
    async fn append(
        &self,
        tenant: &TenantId,
        sort_key: &str,
        entry: &AuditEntry,
        expires_at: OffsetDateTime,
    ) -> Result<(), DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let stored = Stored { entry, expires_at: expires_at.unix_timestamp() };
        dynamo.table(&self.table).put(sort_key, &stored, WriteCondition::Absent).await
    }

    async fn newest_first(
        &self,
        tenant: &TenantId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Page<AuditEntry>, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let request = PageRequest { limit, after: before, descending: true, prefix: "" };
        let page: Page<StoredRow> = dynamo.table(&self.table).query(request).await?;
        Ok(Page { items: page.items.into_iter().map(AuditEntry::from).collect(), next_after: page.next_after })
    }
}

/// A stored item as read back: the entry's fields (the sort key and TTL
/// come along and are left out).
#[derive(Deserialize)]
struct StoredRow {
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    request_id: String,
    actor: Actor,
    action: String,
    target: Option<String>,
    outcome: u16,
}

impl From<StoredRow> for AuditEntry {
    fn from(row: StoredRow) -> Self {
        let StoredRow { at, request_id, actor, action, target, outcome } = row;
        Self { at, request_id, actor, action, target, outcome }
    }
}

/// One tenant's trail in memory: entry and expiry by sort key.
type MemoryTrail = BTreeMap<String, (AuditEntry, OffsetDateTime)>;

/// The trail in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryAuditStore {
    trails: Mutex<HashMap<TenantId, MemoryTrail>>,
}

impl MemoryAuditStore {
    /// `tenant`'s entries, oldest first.
    pub fn entries(&self, tenant: &TenantId) -> Vec<AuditEntry> {
        let trails = self.trails.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        trails.get(tenant).map(|trail| trail.values().map(|(entry, _)| entry.clone()).collect()).unwrap_or_default()
    }

    /// When `tenant`'s entries expire, oldest entry first.
    pub fn expiries(&self, tenant: &TenantId) -> Vec<OffsetDateTime> {
        let trails = self.trails.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        trails.get(tenant).map(|trail| trail.values().map(|(_, expires)| *expires).collect()).unwrap_or_default()
    }
}

impl TenantData for MemoryAuditStore {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        let mut counts = ItemCounts::new();
        self.entries(tenant).iter().for_each(|_| crate::erasure::count_one(&mut counts, AUDIT_ENTRIES));
        Ok(counts)
    }

    async fn erase(&self, tenant: &TenantId, _deadline: Instant) -> Result<ErasurePass, ApiError> {
        let removed = self.count(tenant).await?;
        self.trails.lock().map_err(|_| DataError::Unavailable("poisoned".into()))?.remove(tenant);
        Ok(ErasurePass { removed, finished: true })
    }
}

impl AuditStore for MemoryAuditStore {
    async fn append(
        &self,
        tenant: &TenantId,
        sort_key: &str,
        entry: &AuditEntry,
        expires_at: OffsetDateTime,
    ) -> Result<(), DataError> {
        let mut trails = self.trails.lock().map_err(|_| DataError::Unavailable("poisoned".into()))?;
        let trail = trails.entry(*tenant).or_default();
        if trail.contains_key(sort_key) {
            return Err(DataError::ConditionFailed { index: 0, exists: true });
        }
        trail.insert(sort_key.to_owned(), (entry.clone(), expires_at));
        Ok(())
    }

    async fn newest_first(
        &self,
        tenant: &TenantId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Page<AuditEntry>, DataError> {
        let trails = self.trails.lock().map_err(|_| DataError::Unavailable("poisoned".into()))?;
        let Some(trail) = trails.get(tenant) else {
            return Ok(Page { items: Vec::new(), next_after: None });
        };
        let older = trail.iter().rev().filter(|(key, _)| before.is_none_or(|before| key.as_str() < before));
        let page: Vec<(String, AuditEntry)> =
            older.take(limit + 1).map(|(key, (entry, _))| (key.clone(), entry.clone())).collect();
        let (page, next_after) = crate::cursor::cut_page(page, limit, |(key, _)| key.clone());
        Ok(Page { items: page.into_iter().map(|(_, entry)| entry).collect(), next_after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::PrimitiveDateTime;

    fn entry(at: i64, user: UserId, action: &str) -> AuditEntry {
        AuditEntry {
            at: OffsetDateTime::from_unix_timestamp(at).expect("time"),
            request_id: format!("req-{at}"),
            actor: Actor { user_id: user, role: ActorRole::Admin },
            action: action.to_owned(),
            target: None,
            outcome: 200,
        }
    }

    async fn trail(entries: &[AuditEntry]) -> (Audit<MemoryAuditStore>, TenantId) {
        let audit = Audit::new(MemoryAuditStore::default());
        let tenant = TenantId::generate();
        for entry in entries {
            let expires = entry.at + Duration::days(1);
            audit.store().append(&tenant, &sort_key(entry), entry, expires).await.expect("append");
        }
        (audit, tenant)
    }

    #[tokio::test]
    async fn reads_page_newest_first_and_filters_by_actor_action_and_time() {
        let (ann, bob) = (UserId::generate(), UserId::generate());
        let entries: Vec<AuditEntry> = (1..=9)
            .map(|n| {
                entry(1_000 + n, if n % 3 == 0 { bob } else { ann }, if n % 2 == 0 { "PUT /x" } else { "POST /x" })
            })
            .collect();
        let (audit, tenant) = trail(&entries).await;
        let times = |page: &AuditPage| page.entries.iter().map(|e| e.at.unix_timestamp() - 1_000).collect::<Vec<_>>();

        let first = audit.read(&tenant, &AuditQuery { limit: 4, ..AuditQuery::default() }).await.expect("read");
        assert_eq!(times(&first), [9, 8, 7, 6]);
        let second = AuditQuery { limit: 4, after: first.next_after.clone(), ..AuditQuery::default() };
        let second = audit.read(&tenant, &second).await.expect("read");
        assert_eq!(times(&second), [5, 4, 3, 2]);
        let last = AuditQuery { limit: 4, after: second.next_after.clone(), ..AuditQuery::default() };
        let last = audit.read(&tenant, &last).await.expect("read");
        assert_eq!((times(&last), last.next_after), (vec![1], None));

        let by_bob = AuditQuery { limit: 10, actor: Some(bob), ..AuditQuery::default() };
        assert_eq!(times(&audit.read(&tenant, &by_bob).await.expect("read")), [9, 6, 3]);
        let puts = AuditQuery { limit: 10, action: Some("PUT /x".into()), ..AuditQuery::default() };
        assert_eq!(times(&audit.read(&tenant, &puts).await.expect("read")), [8, 6, 4, 2]);
        let window =
            AuditQuery { limit: 10, from: Some(entries[2].at), to: Some(entries[5].at), ..AuditQuery::default() };
        assert_eq!(times(&audit.read(&tenant, &window).await.expect("read")), [6, 5, 4, 3]);
        // A full page that ends the trail says there is no more.
        let end_of_time =
            AuditQuery { limit: 10, to: Some(PrimitiveDateTime::MAX.assume_utc()), ..AuditQuery::default() };
        assert_eq!(audit.read(&tenant, &end_of_time).await.expect("read").entries.len(), 9);
        let exact = AuditQuery { limit: 9, ..AuditQuery::default() };
        assert_eq!(audit.read(&tenant, &exact).await.expect("read").next_after, None);
        // A filtered page that ends on older, unmatched entries hands back a
        // cursor; following it reads them and ends.
        let by_bob = AuditQuery { limit: 3, actor: Some(bob), ..AuditQuery::default() };
        let first = audit.read(&tenant, &by_bob).await.expect("read");
        let rest = AuditQuery { after: first.next_after, ..by_bob };
        let rest = audit.read(&tenant, &rest).await.expect("read");
        assert_eq!((rest.entries.len(), rest.next_after), (0, None));
    }

    #[tokio::test]
    async fn an_entry_is_never_replaced() {
        let first = entry(1, UserId::generate(), "POST /x");
        let (audit, tenant) = trail(std::slice::from_ref(&first)).await;
        let mut forged = first.clone();
        forged.outcome = 500;
        let expires = forged.at + Duration::days(1);
        let refused = audit.store().append(&tenant, &sort_key(&first), &forged, expires).await;
        assert!(matches!(refused, Err(DataError::ConditionFailed { exists: true, .. })), "{refused:?}");
        assert_eq!(audit.store().entries(&tenant), [first]);
    }

    #[test]
    fn only_sort_keys_of_the_trail_are_cursors() {
        let key = sort_key(&entry(1_700_000_000, UserId::generate(), "POST /x"));
        assert_eq!(key.parse::<AuditCursorKey>().map(|k| k.to_string()), Ok(key));
        for bad in
            ["", "#req", "123#req", "0000000000000000000a#req", "00000000000000000001#", "00000000000000000001#a b"]
        {
            assert!(bad.parse::<AuditCursorKey>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sort_keys_order_by_time_then_request() {
        let user = UserId::generate();
        let early = sort_key(&entry(9, user, "POST /x"));
        let late = sort_key(&entry(10, user, "POST /x"));
        assert!(early < late, "{early} < {late}");
        assert!(time_key(OffsetDateTime::from_unix_timestamp(10).expect("time")) < late);
    }
}
