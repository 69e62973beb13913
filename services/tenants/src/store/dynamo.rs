use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use tenancy::credentials::RoleAssumer;
use tenancy::erasure::ErasureReceipt;
use tenancy::events::{DynamoOutbox, LifecycleEvent};
use tenancy::table::{DataError, TableSpec, TenantDynamoCache, WriteCondition, classify, conditional_write};
use tenancy::{TenantId, TenantTier, UserId};
use time::OffsetDateTime;

use super::{ClaimOutcome, SlugStore, TenantPage, TenantStore};
use crate::domain::{ClaimState, Fingerprint, Offboarding, Slug, SlugClaim, Tenant, TenantName, TenantStatus};

type Item = HashMap<String, AttributeValue>;

/// The partition key of the tenants table (the tenant id).
const TENANT_KEY: &str = "tenant_id";
/// The sort key attribute and the one sort key of a tenant's record.
const SORT_KEY: &str = "sk";
const TENANT_SK: &str = "tenant";
/// The erasure receipt of an offboarding tenant, kept until the record goes.
const RECEIPT_SK: &str = "erasure_receipt";
/// The attribute that carries the optimistic-concurrency version.
const VERSION: &str = "version";

/// The tenants table: partition key `tenant_id`, sort key `sk`, holding one
/// `tenant` item per tenant.
pub fn tenants_table(name: impl Into<String>) -> TableSpec {
    TableSpec { name: name.into(), partition_key: TENANT_KEY, sort_key: SORT_KEY }
}

/// The partition key of the slugs table (it has no sort key).
const SLUG_KEY: &str = "slug";

/// A tenant record as a DynamoDB item (`TenantTable` adds the keys).
#[derive(Debug, Serialize, Deserialize)]
struct TenantItem {
    name: TenantName,
    slug: Slug,
    tier: TenantTier,
    status: TenantStatus,
    version: u64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offboarding: Option<Offboarding>,
}

impl From<&Tenant> for TenantItem {
    fn from(tenant: &Tenant) -> Self {
        Self {
            name: tenant.name.clone(),
            slug: tenant.slug.clone(),
            tier: tenant.tier,
            status: tenant.status,
            version: tenant.version,
            created_at: tenant.created_at,
            updated_at: tenant.updated_at,
            offboarding: tenant.offboarding,
        }
    }
}

impl TenantItem {
    fn into_tenant(self, tenant_id: TenantId) -> Tenant {
        Tenant {
            tenant_id,
            name: self.name,
            slug: self.slug,
            tier: self.tier,
            status: self.status,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            offboarding: self.offboarding,
        }
    }
}

/// The erasure receipt as an item: one map attribute (the item's own keys
/// stay beside it).
#[derive(Debug, Serialize, Deserialize)]
struct ReceiptItem {
    receipt: ErasureReceipt,
}

/// Tenant records in DynamoDB.
///
/// Every read and write of a tenant's record goes through that tenant's
/// scoped credentials (`TenantDynamoCache`), platform-admin changes
/// included: the store assumes the tenant role for the target tenant. The one
/// exception is [`list`](TenantStore::list).
#[derive(Debug)]
pub struct DynamoTenantStore<A> {
    dynamo: TenantDynamoCache<A>,
    table: TableSpec,
    outbox: DynamoOutbox<A>,
    execution: Client,
}

impl<A: RoleAssumer> DynamoTenantStore<A> {
    /// `execution` is a client with the function's execution role, used only
    /// for the platform-admin listing.
    /// `outbox`: where the records' lifecycle events wait for the bus.
    pub fn new(
        dynamo: TenantDynamoCache<A>,
        execution: Client,
        table_name: impl Into<String>,
        outbox: DynamoOutbox<A>,
    ) -> Self {
        Self { dynamo, table: tenants_table(table_name), outbox, execution }
    }

    /// Writes the record under `condition` and its `events`, in one transaction.
    async fn write(
        &self,
        tenant: &Tenant,
        condition: WriteCondition,
        events: &[LifecycleEvent],
    ) -> Result<(), DataError> {
        let dynamo = self.dynamo.get(&tenant.tenant_id).await?;
        let table = dynamo.table(&self.table);
        if events.is_empty() {
            return table.put(TENANT_SK, &TenantItem::from(tenant), condition).await;
        }
        let mut writes = vec![table.put_write(TENANT_SK, &TenantItem::from(tenant), condition)?];
        writes.extend(self.outbox.writes(&dynamo, events)?);
        table.transact(writes).await
    }
}

impl<A: RoleAssumer> TenantStore for DynamoTenantStore<A> {
    type Outbox = DynamoOutbox<A>;

    fn outbox(&self) -> &DynamoOutbox<A> {
        &self.outbox
    }

    async fn create(&self, tenant: &Tenant, events: &[LifecycleEvent]) -> Result<(), DataError> {
        self.write(tenant, WriteCondition::Absent, events).await
    }

    async fn get(&self, tenant: &TenantId) -> Result<Option<Tenant>, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        Ok(dynamo.table(&self.table).get::<TenantItem>(TENANT_SK).await?.map(|item| item.into_tenant(*tenant)))
    }

    async fn replace(
        &self,
        tenant: &Tenant,
        expected_version: u64,
        events: &[LifecycleEvent],
    ) -> Result<(), DataError> {
        let condition = WriteCondition::AttributeEquals { attribute: VERSION, value: expected_version };
        self.write(tenant, condition, events).await
    }

    /// A Scan with the EXECUTION role: listing every tenant is cross-tenant by
    /// nature (no single `TenantId` session tag can cover all partitions, and
    /// the tenant role never has `Scan`). Only platform admins reach this; the
    /// entrypoint checks before calling.
    async fn list(&self, limit: usize, after: Option<TenantId>) -> Result<TenantPage, DataError> {
        let mut tenants = Vec::new();
        let mut start = after.map(|tenant| record_key(&tenant));
        // Collect one more than the page so "no next page" is exact; a Scan
        // page may stop early (1 MB), so keep going until we have enough.
        loop {
            let wanted = limit + 1 - tenants.len();
            let output = self
                .execution
                .scan()
                .table_name(&self.table.name)
                // Pending records are registrations from before records were
                // written last (see registration.rs), never tenants.
                .filter_expression("#sk = :tenant AND #status <> :pending")
                .expression_attribute_names("#sk", SORT_KEY)
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":tenant", AttributeValue::S(TENANT_SK.into()))
                .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
                .set_exclusive_start_key(start.take())
                .limit(i32::try_from(wanted).unwrap_or(i32::MAX))
                .consistent_read(true)
                .send()
                .await
                .map_err(|error| classify(&error))?;
            for item in output.items.unwrap_or_default() {
                tenants.push(decode_scanned(item)?);
            }
            match output.last_evaluated_key {
                Some(key) if tenants.len() <= limit => start = Some(key),
                _ => break,
            }
        }
        let next_after = if tenants.len() > limit {
            tenants.truncate(limit);
            tenants.last().map(|tenant| tenant.tenant_id)
        } else {
            None
        };
        Ok(TenantPage { tenants, next_after })
    }

    async fn receipt(&self, tenant: &TenantId) -> Result<Option<ErasureReceipt>, DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        Ok(dynamo.table(&self.table).get::<ReceiptItem>(RECEIPT_SK).await?.map(|item| item.receipt))
    }

    async fn save_receipt(&self, receipt: &ErasureReceipt) -> Result<(), DataError> {
        let dynamo = self.dynamo.get(&receipt.tenant_id).await?;
        let item = ReceiptItem { receipt: receipt.clone() };
        dynamo.table(&self.table).put(RECEIPT_SK, &item, WriteCondition::Always).await
    }

    async fn remove(&self, tenant: &TenantId) -> Result<(), DataError> {
        let dynamo = self.dynamo.get(tenant).await?;
        let table = dynamo.table(&self.table);
        let writes = vec![
            table.delete_write(RECEIPT_SK, WriteCondition::Always)?,
            table.delete_write(TENANT_SK, WriteCondition::Always)?,
        ];
        table.transact(writes).await
    }
}

fn record_key(tenant: &TenantId) -> Item {
    HashMap::from([
        (TENANT_KEY.to_owned(), AttributeValue::S(tenant.to_string())),
        (SORT_KEY.to_owned(), AttributeValue::S(TENANT_SK.to_owned())),
    ])
}

fn decode_scanned(mut item: Item) -> Result<Tenant, DataError> {
    let tenant_id = item
        .remove(TENANT_KEY)
        .and_then(|value| value.as_s().ok().and_then(|text| TenantId::parse(text).ok()))
        .ok_or_else(|| DataError::Corrupt("a tenant item without a valid tenant_id".into()))?;
    item.remove(SORT_KEY);
    let record: TenantItem = serde_dynamo::from_item(item).map_err(|error| DataError::Corrupt(error.to_string()))?;
    Ok(record.into_tenant(tenant_id))
}

/// A slug claim as a DynamoDB item.
#[derive(Debug, Serialize, Deserialize)]
struct SlugItem {
    slug: Slug,
    tenant_id: TenantId,
    /// Empty in claims made before idempotency keys: nobody can continue them.
    #[serde(default)]
    key_digest: String,
    fingerprint: Fingerprint,
    #[serde(default)]
    admin_email: String,
    state: ClaimState,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admin_user_id: Option<UserId>,
}

impl From<&SlugClaim> for SlugItem {
    fn from(claim: &SlugClaim) -> Self {
        Self {
            slug: claim.slug.clone(),
            tenant_id: claim.tenant_id,
            key_digest: claim.key_digest.clone(),
            fingerprint: claim.fingerprint.clone(),
            admin_email: claim.admin_email.clone(),
            state: claim.state,
            created_at: claim.created_at,
            admin_user_id: claim.admin_user_id,
        }
    }
}

impl From<SlugItem> for SlugClaim {
    fn from(item: SlugItem) -> Self {
        Self {
            slug: item.slug,
            tenant_id: item.tenant_id,
            key_digest: item.key_digest,
            fingerprint: item.fingerprint,
            admin_email: item.admin_email,
            state: item.state,
            created_at: item.created_at,
            admin_user_id: item.admin_user_id,
        }
    }
}

/// Registration claims in DynamoDB (partition key `slug`).
///
/// Written with the function's EXECUTION role, not tenant-scoped credentials:
/// registration is public and runs before any tenant exists, and a slug is
/// unique across all tenants, so its key is the slug, never a tenant id; no
/// `TenantId` session tag could scope it. The tenant role has no access to
/// this table at all.
#[derive(Debug, Clone)]
pub struct DynamoSlugStore {
    client: Client,
    table: String,
}

impl DynamoSlugStore {
    /// `client` carries the execution role's credentials (the shared SdkConfig).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn key(slug: &Slug) -> Item {
        HashMap::from([(SLUG_KEY.to_owned(), AttributeValue::S(slug.to_string()))])
    }
}

impl SlugStore for DynamoSlugStore {
    async fn claim(&self, claim: &SlugClaim) -> Result<ClaimOutcome, DataError> {
        let item: Item =
            serde_dynamo::to_item(SlugItem::from(claim)).map_err(|error| DataError::Corrupt(error.to_string()))?;
        // A claim released between our put and our read: try again, a little.
        for _ in 0..3 {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(#slug)")
                .expression_attribute_names("#slug", SLUG_KEY)
                .send()
                .await;
            match result {
                Ok(_) => return Ok(ClaimOutcome::Claimed),
                Err(error) => match error.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(_)) => {
                        if let Some(existing) = self.get(&claim.slug).await? {
                            return Ok(ClaimOutcome::Existing(existing));
                        }
                    }
                    _ => return Err(classify(&error)),
                },
            }
        }
        Err(DataError::Contention)
    }

    async fn get(&self, slug: &Slug) -> Result<Option<SlugClaim>, DataError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(slug)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| classify(&error))?;
        output
            .item
            .map(|item| {
                serde_dynamo::from_item::<_, SlugItem>(item)
                    .map(SlugClaim::from)
                    .map_err(|error| DataError::Corrupt(error.to_string()))
            })
            .transpose()
    }

    async fn complete(&self, slug: &Slug, key_digest: &str, admin_user_id: Option<UserId>) -> Result<(), DataError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(slug)))
            .condition_expression("#key = :key AND #state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#key", "key_digest")
            .expression_attribute_values(":complete", AttributeValue::S("complete".into()))
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .expression_attribute_values(":key", AttributeValue::S(key_digest.to_owned()));
        update = match admin_user_id {
            Some(admin) => update
                .update_expression("SET #state = :complete, #admin = :admin")
                .expression_attribute_names("#admin", "admin_user_id")
                .expression_attribute_values(":admin", AttributeValue::S(admin.to_string())),
            None => update.update_expression("SET #state = :complete"),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(error) => match error.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => match self.get(slug).await? {
                    // Already complete for this registration: nothing to do.
                    Some(claim) if claim.key_digest == key_digest => Ok(()),
                    other => Err(DataError::ConditionFailed { index: 0, exists: other.is_some() }),
                },
                _ => Err(classify(&error)),
            },
        }
    }

    async fn release(&self, slug: &Slug, key_digest: &str) -> Result<(), DataError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(slug)))
            .condition_expression("#key = :key AND #state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#key", "key_digest")
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .expression_attribute_values(":key", AttributeValue::S(key_digest.to_owned()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        conditional_write(result, |error| match error {
            DeleteItemError::ConditionalCheckFailedException(failed) => Some(failed.item.is_some()),
            _ => None,
        })
    }

    async fn forget(&self, slug: &Slug, tenant: &TenantId) -> Result<bool, DataError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(slug)))
            .condition_expression("#tenant = :tenant")
            .expression_attribute_names("#tenant", "tenant_id")
            .expression_attribute_values(":tenant", AttributeValue::S(tenant.to_string()))
            .send()
            .await;
        match conditional_write(result, |error| match error {
            DeleteItemError::ConditionalCheckFailedException(_) => Some(false),
            _ => None,
        }) {
            Ok(()) => Ok(true),
            // Gone already, or another tenant's since.
            Err(DataError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// A Scan of the whole table: claims are one per tenant and small, and the
    /// sweep runs a few times an hour.
    async fn pending_created_before(&self, cutoff: OffsetDateTime) -> Result<Vec<SlugClaim>, DataError> {
        let mut claims = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("#state = :pending")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
                .set_exclusive_start_key(start.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(|error| classify(&error))?;
            for item in output.items.unwrap_or_default() {
                let claim: SlugClaim = serde_dynamo::from_item::<_, SlugItem>(item)
                    .map_err(|error| DataError::Corrupt(error.to_string()))?
                    .into();
                if claim.created_at < cutoff {
                    claims.push(claim);
                }
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(claims),
            }
        }
    }
}
