//! The outbox and the bus (the functions' side).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;

use super::{Cause, LifecycleEvent};
use crate::audit::{Actor, Audit};
use crate::aws_error::AwsService;
use crate::credentials::RoleAssumer;
use crate::erasure::{ErasurePass, ItemCounts, TenantData, count_one};
use crate::error::ApiError;
use crate::table::{
    DataError, PageRequest, TableSpec, TenantDynamo, TenantDynamoCache, TxWrite, WriteCondition, count_partition,
    erase_partition,
};
use crate::{TenantContext, TenantId};

/// How many events one `PutEvents` call takes (EventBridge's limit).
const PUT_BATCH: usize = 10;

/// How many pending events one publication reads.
const MAX_PENDING: usize = 100;

/// Why the bus did not take events.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PublishError {
    #[error("the event bus is unavailable: {0}")]
    Unavailable(String),
    #[error("the event bus refused the events: {0}")]
    Refused(String),
    #[error(transparent)]
    Outbox(#[from] DataError),
}

const EVENTBRIDGE: AwsService =
    AwsService { name: "EventBridge", transient: &["InternalException", "ThrottlingException", "ServiceUnavailable"] };

/// Where events go: the platform's bus.
pub trait EventBus: Send + Sync + 'static {
    /// Publishes `events` in order, all or nothing as far as the caller knows
    /// (a partial failure is an error; the taken ones are repeated later).
    fn put(&self, events: &[LifecycleEvent]) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// The EventBridge bus named by `EVENT_BUS_NAME` (the execution role may
/// `PutEvents` there only).
#[derive(Debug, Clone)]
pub struct EventBridgeBus {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgeBus {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self { client, bus: bus.into() }
    }
}

impl EventBus for EventBridgeBus {
    async fn put(&self, events: &[LifecycleEvent]) -> Result<(), PublishError> {
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            let detail = serde_json::to_string(event).map_err(|e| PublishError::Refused(e.to_string()))?;
            entries.push(
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(event.change.source())
                    .detail_type(event.change.detail_type())
                    .detail(detail)
                    .build(),
            );
        }
        let output = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|error| EVENTBRIDGE.sort(&error, PublishError::Unavailable, PublishError::Refused))?;
        match output.failed_entry_count() {
            0 => Ok(()),
            failed => Err(PublishError::Unavailable(format!("{failed} of {} events were not taken", events.len()))),
        }
    }
}

/// A bus in memory, for tests: what it took, and a switch to refuse.
#[derive(Debug, Default)]
pub struct MemoryBus {
    published: Mutex<Vec<LifecycleEvent>>,
    down: AtomicBool,
}

impl MemoryBus {
    /// Every event taken, in order.
    pub fn published(&self) -> Vec<LifecycleEvent> {
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// While down, every put fails as an outage would.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

impl EventBus for MemoryBus {
    async fn put(&self, events: &[LifecycleEvent]) -> Result<(), PublishError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(PublishError::Unavailable("the bus is down (test)".into()));
        }
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(events);
        Ok(())
    }
}

/// The tenants' outboxes: events written with their change, waiting for the bus.
/// Offboarding counts and erases a tenant's outbox through it too ([`TenantData`]).
pub trait Outbox: TenantData + 'static {
    /// Up to [`MAX_PENDING`] of `tenant`'s waiting events, oldest first, with their keys.
    fn pending(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = Result<Vec<(String, LifecycleEvent)>, DataError>> + Send;

    /// Removes one published event.
    fn remove_published(&self, tenant: &TenantId, key: &str) -> impl Future<Output = Result<(), DataError>> + Send;
}

/// The outbox key of the `index`th event of one change: time, then order.
pub fn outbox_key(event: &LifecycleEvent, index: usize) -> String {
    let nanos = event.occurred_at.unix_timestamp_nanos().max(0);
    format!("{nanos:020}#{index:03}#{}", event.event_id)
}

/// An outbox item: the event as JSON text (read back whatever fields it has).
#[derive(Serialize, Deserialize)]
struct OutboxItem {
    key: String,
    event: String,
}

/// The outboxes in DynamoDB: the outbox table, partition key `tenant_id`,
/// sort key `sk`; reached through the tenant role.
#[derive(Debug, Clone)]
pub struct DynamoOutbox<A> {
    dynamo: TenantDynamoCache<A>,
    table: TableSpec,
}

impl<A: RoleAssumer> DynamoOutbox<A> {
    pub fn new(dynamo: TenantDynamoCache<A>, table: impl Into<String>) -> Self {
        Self { dynamo, table: TableSpec { name: table.into(), partition_key: "tenant_id", sort_key: "sk" } }
    }

    /// The writes that add `events` to the tenant's outbox, to go in the
    /// same transaction as the change (through the same tenant's client).
    pub fn writes(&self, dynamo: &TenantDynamo, events: &[LifecycleEvent]) -> Result<Vec<TxWrite>, DataError> {
        let table = dynamo.table(&self.table);
        events
            .iter()
            .enumerate()
            .map(|(index, event)| {
                let key = outbox_key(event, index);
                let event = serde_json::to_string(event).map_err(|e| DataError::Corrupt(e.to_string()))?;
                table.put_write(&key.clone(), &OutboxItem { key, event }, WriteCondition::Absent)
            })
            .collect()
    }
}

/// The kind of every outbox item, as an erasure receipt counts it.
const OUTBOX_EVENTS: &str = "outbox_events";

impl<A: RoleAssumer> TenantData for DynamoOutbox<A> {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        count_partition(&self.dynamo, &self.table, tenant, |_| OUTBOX_EVENTS).await
    }

    async fn erase(&self, tenant: &TenantId, deadline: Instant) -> Result<ErasurePass, ApiError> {
        erase_partition(&self.dynamo, &self.table, tenant, |_| OUTBOX_EVENTS, deadline).await
    }
}

impl<A: RoleAssumer> Outbox for DynamoOutbox<A> {
    async fn pending(&self, tenant: &TenantId) -> Result<Vec<(String, LifecycleEvent)>, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let request = PageRequest { limit: MAX_PENDING, after: None, descending: false, prefix: "" };
        let page = dynamo.table(&self.table).query::<OutboxItem>(request).await?;
        page.items
            .into_iter()
            .map(|item| {
                let event = serde_json::from_str(&item.event).map_err(|e| DataError::Corrupt(e.to_string()))?;
                Ok((item.key, event))
            })
            .collect()
    }

    async fn remove_published(&self, tenant: &TenantId, key: &str) -> Result<(), DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        dynamo.table(&self.table).delete(key, WriteCondition::Always).await
    }
}

/// The outboxes in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    items: Mutex<std::collections::BTreeMap<(TenantId, String), LifecycleEvent>>,
}

impl MemoryOutbox {
    /// Adds `events` (a change's), as a transaction would.
    pub fn add(&self, events: &[LifecycleEvent]) {
        let mut items = self.items.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (index, event) in events.iter().enumerate() {
            items.insert((event.tenant_id, outbox_key(event, index)), event.clone());
        }
    }

    /// How many events wait, over every tenant.
    pub fn len(&self) -> usize {
        self.items.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// True when no event waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TenantData for MemoryOutbox {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        let mut counts = ItemCounts::new();
        let items = self.items.lock().map_err(|_| DataError::Unavailable("poisoned".into()))?;
        items.keys().filter(|(owner, _)| owner == tenant).for_each(|_| count_one(&mut counts, OUTBOX_EVENTS));
        Ok(counts)
    }

    async fn erase(&self, tenant: &TenantId, _deadline: Instant) -> Result<ErasurePass, ApiError> {
        let removed = self.count(tenant).await?;
        let mut items = self.items.lock().map_err(|_| DataError::Unavailable("poisoned".into()))?;
        items.retain(|(owner, _), _| owner != tenant);
        Ok(ErasurePass { removed, finished: true })
    }
}

impl Outbox for MemoryOutbox {
    async fn pending(&self, tenant: &TenantId) -> Result<Vec<(String, LifecycleEvent)>, DataError> {
        let items = self.items.lock().map_err(|_| DataError::Unavailable("poisoned".into()))?;
        Ok(items
            .iter()
            .filter(|((owner, _), _)| owner == tenant)
            .take(MAX_PENDING)
            .map(|((_, key), event)| (key.clone(), event.clone()))
            .collect())
    }

    async fn remove_published(&self, tenant: &TenantId, key: &str) -> Result<(), DataError> {
        let mut items = self.items.lock().map_err(|_| DataError::Unavailable("poisoned".into()))?;
        items.remove(&(*tenant, key.to_owned()));
        Ok(())
    }
}

/// What a service records of the changes it makes: the audit trail and the
/// lifecycle events.
#[derive(Debug)]
pub struct Records<L, B> {
    pub audit: Audit<L>,
    pub events: Events<B>,
}

impl Cause {
    /// A change `context`'s caller made with `request`.
    pub fn of(context: &TenantContext, request: &ApiGatewayV2httpRequest) -> Self {
        Self { actor: Some(Actor::member(context)), request_id: request.request_context.request_id.clone() }
    }
}

/// Publishes the outboxes' events on a bus.
#[derive(Debug)]
pub struct Events<B> {
    bus: B,
}

impl<B: EventBus> Events<B> {
    pub fn new(bus: B) -> Self {
        Self { bus }
    }

    /// The bus (for tests).
    pub fn bus(&self) -> &B {
        &self.bus
    }

    /// Publishes `tenant`'s waiting events, oldest first, and removes each
    /// the bus took; stops at the first failure so the order holds (what is
    /// left is published by the next change or the sweep). How many went.
    pub async fn publish_pending(&self, tenant: &TenantId, outbox: &impl Outbox) -> Result<usize, PublishError> {
        let pending = outbox.pending(tenant).await?;
        let mut published = 0;
        for batch in pending.chunks(PUT_BATCH) {
            let events: Vec<LifecycleEvent> = batch.iter().map(|(_, event)| event.clone()).collect();
            self.bus.put(&events).await?;
            for (key, _) in batch {
                outbox.remove_published(tenant, key).await?;
            }
            published += batch.len();
        }
        Ok(published)
    }

    /// [`publish_pending`](Self::publish_pending) after a change: the change
    /// stands whatever happens; a failure is logged and left to the sweep.
    pub async fn publish_after_change(&self, tenant: &TenantId, outbox: &impl Outbox) {
        if let Err(error) = self.publish_pending(tenant, outbox).await {
            tracing::warn!(tenant_id = %tenant, %error, "events wait in the outbox for the next publication");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Cause, Change};

    #[tokio::test]
    async fn events_leave_the_outbox_in_order_once_the_bus_takes_them() {
        let (outbox, events) = (MemoryOutbox::default(), Events::new(MemoryBus::default()));
        let tenant = TenantId::generate();
        let other = TenantId::generate();
        let cause = Cause::default();
        let made: Vec<LifecycleEvent> =
            [Change::Registered, Change::Activated].iter().map(|c| LifecycleEvent::new(*c, tenant, &cause)).collect();
        outbox.add(&made);
        outbox.add(&[LifecycleEvent::new(Change::Registered, other, &cause)]);

        events.bus().set_down(true);
        assert!(matches!(events.publish_pending(&tenant, &outbox).await, Err(PublishError::Unavailable(_))));
        assert_eq!(outbox.len(), 3, "nothing is lost while the bus is down");

        events.bus().set_down(false);
        let later = LifecycleEvent::new(Change::Suspended, tenant, &cause);
        outbox.add(std::slice::from_ref(&later));
        assert_eq!(events.publish_pending(&tenant, &outbox).await.expect("published"), 3);
        let changes: Vec<Change> = events.bus().published().iter().map(|e| e.change).collect();
        assert_eq!(changes, [Change::Registered, Change::Activated, Change::Suspended], "oldest first");
        assert_eq!(outbox.len(), 1, "the other tenant's event waits for its own publication");
        assert_eq!(events.publish_pending(&tenant, &outbox).await.expect("nothing left"), 0);
    }

    #[test]
    fn keys_order_a_changes_events_and_later_changes_after_them() {
        let tenant = TenantId::generate();
        let first = LifecycleEvent::new(Change::Registered, tenant, &Cause::default());
        let mut same_instant = LifecycleEvent::new(Change::Activated, tenant, &Cause::default());
        same_instant.occurred_at = first.occurred_at;
        assert!(outbox_key(&first, 0) < outbox_key(&same_instant, 1));
        let later = LifecycleEvent { occurred_at: first.occurred_at + time::Duration::nanoseconds(1), ..first.clone() };
        assert!(outbox_key(&same_instant, 1) < outbox_key(&later, 0));
    }
}
