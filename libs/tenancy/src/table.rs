//! Tenant-scoped DynamoDB access.
//!
//! A [`TenantTable`] is bound to one tenant and one table. It writes the
//! partition key itself, from the tenant of the credentials it was built with;
//! callers name only sort keys. So code above it cannot even ask for another
//! tenant's partition, and if it could, the tenant role's `LeadingKeys`
//! condition would refuse the request.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws_error::AwsService;
use crate::credentials::{CredentialsError, RoleAssumer, TenantCache, TenantCacheSettings};
use crate::erasure::{ErasurePass, ItemCounts, count_one};
use crate::error::ApiError;
use crate::ids::TenantId;

type Item = HashMap<String, AttributeValue>;

/// A table of tenant data: partition key = tenant id, plus a string sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub name: String,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
}

/// A DynamoDB client signed with one tenant's credentials.
#[derive(Debug, Clone)]
pub struct TenantDynamo {
    tenant: TenantId,
    client: Client,
}

impl TenantDynamo {
    /// A client for `tenant` with its tenant-role credentials, sharing `base`'s
    /// region, endpoint and HTTP connection pool.
    pub fn new(base: &SdkConfig, tenant: TenantId, credentials: &Credentials) -> Self {
        let config = aws_sdk_dynamodb::config::Builder::from(base)
            .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
            .build();
        Self { tenant, client: Client::from_conf(config) }
    }

    /// The tenant this client belongs to.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// `spec`'s table, restricted to this tenant's partition.
    pub fn table<'a>(&'a self, spec: &'a TableSpec) -> TenantTable<'a> {
        TenantTable { client: &self.client, tenant: self.tenant.to_string(), spec }
    }
}

/// Tenant-scoped DynamoDB clients, one per tenant, cached with its credentials.
pub type TenantDynamoCache<A> = TenantCache<A, TenantDynamo>;

/// Builds the per-tenant DynamoDB client cache.
pub fn tenant_dynamo_cache<A: RoleAssumer>(
    assumer: A,
    base: SdkConfig,
    settings: TenantCacheSettings,
) -> TenantDynamoCache<A> {
    TenantCache::new(assumer, settings, move |tenant, credentials| TenantDynamo::new(&base, tenant, credentials))
}

/// Offboarding: `tenant`'s items of `table`, counted by `kind_of` their sort key.
pub async fn count_partition<A: RoleAssumer>(
    dynamo: &TenantDynamoCache<A>,
    table: &TableSpec,
    tenant: &TenantId,
    kind_of: fn(&str) -> &'static str,
) -> Result<ItemCounts, ApiError> {
    let dynamo = dynamo.get(tenant).await.map_err(DataError::from)?;
    Ok(dynamo.table(table).count_items(kind_of).await?)
}

/// Offboarding: one pass of removing `tenant`'s items of `table` (see
/// [`TenantTable::erase_items`]).
pub async fn erase_partition<A: RoleAssumer>(
    dynamo: &TenantDynamoCache<A>,
    table: &TableSpec,
    tenant: &TenantId,
    kind_of: fn(&str) -> &'static str,
    deadline: std::time::Instant,
) -> Result<ErasurePass, ApiError> {
    let dynamo = dynamo.get(tenant).await.map_err(DataError::from)?;
    Ok(dynamo.table(table).erase_items(kind_of, deadline).await?)
}

/// A condition on a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteCondition {
    /// Write unconditionally.
    Always,
    /// The item must not exist yet (create).
    Absent,
    /// The item must exist (delete, replace).
    Present,
    /// The item must exist with this numeric attribute value (optimistic concurrency).
    AttributeEquals { attribute: &'static str, value: u64 },
}

/// Why a data operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DataError {
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The condition of write number `index` (0 outside transactions) did
    /// not hold; `exists` tells whether its item is there.
    #[error("the condition of write {index} failed (item exists: {exists})")]
    ConditionFailed { index: usize, exists: bool },
    /// A concurrent transaction touched the same items; nothing was written.
    #[error("a concurrent request changed the same items")]
    Contention,
    /// DynamoDB did not answer or throttled us: try again later.
    #[error("DynamoDB is unavailable: {0}")]
    Unavailable(String),
    /// DynamoDB refused the request (access denied, missing table, ...).
    #[error("DynamoDB refused the request: {0}")]
    Refused(String),
    /// An item did not have the expected shape.
    #[error("a stored item is malformed: {0}")]
    Corrupt(String),
}

impl From<DataError> for ApiError {
    fn from(error: DataError) -> Self {
        match error {
            DataError::Credentials(CredentialsError::Unavailable(_)) | DataError::Unavailable(_) => {
                tracing::warn!(%error, "a dependency is unavailable");
                ApiError::ServiceUnavailable(
                    "the data store is temporarily unavailable; please retry (a change is made in full or not at all)"
                        .into(),
                )
            }
            DataError::ConditionFailed { exists: true, .. } => {
                ApiError::Conflict("the item was changed by another request".into())
            }
            DataError::ConditionFailed { exists: false, .. } => ApiError::NotFound("the item does not exist".into()),
            DataError::Contention => ApiError::Conflict(
                "a concurrent request changed the same data; nothing was changed, please retry".into(),
            ),
            DataError::Credentials(CredentialsError::Refused(_)) | DataError::Refused(_) | DataError::Corrupt(_) => {
                tracing::error!(%error, "data access failed");
                ApiError::Internal
            }
        }
    }
}

/// Sort keys read per page while counting or erasing a partition.
const ERASURE_PAGE: i32 = 100;

/// One write of a [`TenantTable::transact`] call, built by the table (so its
/// key is in the table's tenant partition).
#[derive(Debug, Clone)]
pub struct TxWrite(TransactWriteItem);

/// One page of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The sort key to continue after, if there may be more items.
    pub next_after: Option<String>,
}

/// Which page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<'a> {
    pub limit: usize,
    /// Continue after this sort key.
    pub after: Option<&'a str>,
    /// Descending sort key order (newest first for time-ordered ids).
    pub descending: bool,
    /// Only sort keys starting with this ("" for all).
    pub prefix: &'a str,
}

/// One table, restricted to one tenant's partition.
#[derive(Debug, Clone)]
pub struct TenantTable<'a> {
    client: &'a Client,
    tenant: String,
    spec: &'a TableSpec,
}

impl TenantTable<'_> {
    fn key(&self, sort_key: &str) -> Item {
        HashMap::from([
            (self.spec.partition_key.to_owned(), AttributeValue::S(self.tenant.clone())),
            (self.spec.sort_key.to_owned(), AttributeValue::S(sort_key.to_owned())),
        ])
    }

    fn decode<T: DeserializeOwned>(&self, mut item: Item) -> Result<T, DataError> {
        item.remove(self.spec.partition_key);
        serde_dynamo::from_item(item).map_err(|error| DataError::Corrupt(error.to_string()))
    }

    /// Reads one item (strongly consistent).
    pub async fn get<T: DeserializeOwned>(&self, sort_key: &str) -> Result<Option<T>, DataError> {
        self.get_item(sort_key).await?.map(|item| self.decode(item)).transpose()
    }

    async fn get_item(&self, sort_key: &str) -> Result<Option<Item>, DataError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.spec.name)
            .set_key(Some(self.key(sort_key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| classify(&error))?;
        Ok(output.item)
    }

    /// Writes `record` under `sort_key`. The key attributes are set here and
    /// override any attribute of the same name in `record`.
    pub async fn put<T: Serialize>(
        &self,
        sort_key: &str,
        record: &T,
        condition: WriteCondition,
    ) -> Result<(), DataError> {
        let mut item: Item = serde_dynamo::to_item(record).map_err(|error| DataError::Corrupt(error.to_string()))?;
        item.extend(self.key(sort_key));
        let (expression, names, values) = self.condition(condition);
        let result = self
            .client
            .put_item()
            .table_name(&self.spec.name)
            .set_item(Some(item))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        conditional_write(result, |error| match error {
            PutItemError::ConditionalCheckFailedException(failed) => Some(failed.item.is_some()),
            _ => None,
        })
    }

    /// Deletes the item under `sort_key`.
    pub async fn delete(&self, sort_key: &str, condition: WriteCondition) -> Result<(), DataError> {
        let (expression, names, values) = self.condition(condition);
        let result = self
            .client
            .delete_item()
            .table_name(&self.spec.name)
            .set_key(Some(self.key(sort_key)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        conditional_write(result, |error| match error {
            DeleteItemError::ConditionalCheckFailedException(failed) => Some(failed.item.is_some()),
            _ => None,
        })
    }

    /// A put for [`transact`](Self::transact); the key attributes are set here.
    pub fn put_write<T: Serialize>(
        &self,
        sort_key: &str,
        record: &T,
        condition: WriteCondition,
    ) -> Result<TxWrite, DataError> {
        let mut item: Item = serde_dynamo::to_item(record).map_err(|error| DataError::Corrupt(error.to_string()))?;
        item.extend(self.key(sort_key));
        let (expression, names, values) = self.condition(condition);
        let put = Put::builder()
            .table_name(&self.spec.name)
            .set_item(Some(item))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|error| DataError::Refused(error.to_string()))?;
        Ok(TxWrite(TransactWriteItem::builder().put(put).build()))
    }

    /// A delete for [`transact`](Self::transact).
    pub fn delete_write(&self, sort_key: &str, condition: WriteCondition) -> Result<TxWrite, DataError> {
        let (expression, names, values) = self.condition(condition);
        let delete = Delete::builder()
            .table_name(&self.spec.name)
            .set_key(Some(self.key(sort_key)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|error| DataError::Refused(error.to_string()))?;
        Ok(TxWrite(TransactWriteItem::builder().delete(delete).build()))
    }

    /// Adds `by` to the numeric `attribute` of the item `sort_key` (both
    /// created on first use, from 0), but only if the result stays within
    /// `allowed`; otherwise the whole transaction fails with `ConditionFailed`.
    /// Counters kept this way make limits hold under concurrent requests.
    pub fn count_write(
        &self,
        sort_key: &str,
        attribute: &'static str,
        by: i64,
        allowed: RangeInclusive<i64>,
    ) -> Result<TxWrite, DataError> {
        let (low, high) = (allowed.start().saturating_sub(by), allowed.end().saturating_sub(by));
        let mut values = HashMap::from([(":tenancy_by".to_owned(), AttributeValue::N(by.to_string()))]);
        let condition = if low == i64::MIN && high == i64::MAX {
            None
        } else {
            values.insert(":tenancy_low".into(), AttributeValue::N(low.to_string()));
            values.insert(":tenancy_high".into(), AttributeValue::N(high.to_string()));
            let bounded = "#tenancy_counter BETWEEN :tenancy_low AND :tenancy_high";
            Some(if (low..=high).contains(&0) {
                format!("attribute_not_exists(#tenancy_counter) OR {bounded}")
            } else {
                bounded.to_owned()
            })
        };
        let update = Update::builder()
            .table_name(&self.spec.name)
            .set_key(Some(self.key(sort_key)))
            .update_expression("ADD #tenancy_counter :tenancy_by")
            .set_condition_expression(condition)
            .expression_attribute_names("#tenancy_counter", attribute)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|error| DataError::Refused(error.to_string()))?;
        Ok(TxWrite(TransactWriteItem::builder().update(update).build()))
    }

    /// Applies `writes` all together or not at all (DynamoDB transaction).
    pub async fn transact(&self, writes: Vec<TxWrite>) -> Result<(), DataError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes.into_iter().map(|write| write.0).collect()))
            .send()
            .await;
        let Err(error) = result else {
            return Ok(());
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() else {
            return Err(classify(&error));
        };
        let reasons = cancelled.cancellation_reasons();
        if let Some((index, reason)) =
            reasons.iter().enumerate().find(|(_, reason)| reason.code() == Some("ConditionalCheckFailed"))
        {
            return Err(DataError::ConditionFailed { index, exists: reason.item.is_some() });
        }
        if reasons.iter().any(|reason| reason.code() == Some("TransactionConflict")) {
            return Err(DataError::Contention);
        }
        Err(DataError::Unavailable("the transaction was cancelled".into()))
    }

    /// The value of a counter kept by [`count_write`](Self::count_write) (0 if never written).
    pub async fn counter(&self, sort_key: &str, attribute: &str) -> Result<i64, DataError> {
        match self.get_item(sort_key).await?.as_ref().and_then(|item| item.get(attribute)) {
            None => Ok(0),
            Some(value) => value
                .as_n()
                .ok()
                .and_then(|number| number.parse().ok())
                .ok_or_else(|| DataError::Corrupt(format!("counter {attribute} is not a number"))),
        }
    }

    /// Reads one page of the tenant's items in sort key order.
    pub async fn query<T: DeserializeOwned>(&self, page: PageRequest<'_>) -> Result<Page<T>, DataError> {
        // Ask for one more than the page so "no next page" is exact.
        let fetch = i32::try_from(page.limit.saturating_add(1)).unwrap_or(i32::MAX);
        let mut query = self
            .client
            .query()
            .table_name(&self.spec.name)
            .key_condition_expression("#tenancy_pk = :tenancy_pk")
            .expression_attribute_names("#tenancy_pk", self.spec.partition_key)
            .expression_attribute_values(":tenancy_pk", AttributeValue::S(self.tenant.clone()));
        if !page.prefix.is_empty() {
            query = query
                .key_condition_expression("#tenancy_pk = :tenancy_pk AND begins_with(#tenancy_sk, :tenancy_prefix)")
                .expression_attribute_names("#tenancy_sk", self.spec.sort_key)
                .expression_attribute_values(":tenancy_prefix", AttributeValue::S(page.prefix.to_owned()));
        }
        let output = query
            .set_exclusive_start_key(page.after.map(|after| self.key(after)))
            .scan_index_forward(!page.descending)
            .consistent_read(true)
            .limit(fetch)
            .send()
            .await
            .map_err(|error| classify(&error))?;
        let mut items = output.items.unwrap_or_default();
        let next_item_key = if items.len() > page.limit {
            items.truncate(page.limit);
            items.last().and_then(|item| self.sort_key_of(item))
        } else {
            // DynamoDB stopped early (1 MB page): continue where it did.
            output.last_evaluated_key.as_ref().and_then(|key| self.sort_key_of(key))
        };
        let items = items.into_iter().map(|item| self.decode(item)).collect::<Result<_, _>>()?;
        Ok(Page { items, next_after: next_item_key })
    }

    /// One page of the partition's sort keys (keys only), in order.
    async fn sort_keys(&self, after: Option<String>) -> Result<Page<String>, DataError> {
        let output = self
            .client
            .query()
            .table_name(&self.spec.name)
            .key_condition_expression("#tenancy_pk = :tenancy_pk")
            .projection_expression("#tenancy_sk")
            .expression_attribute_names("#tenancy_pk", self.spec.partition_key)
            .expression_attribute_names("#tenancy_sk", self.spec.sort_key)
            .expression_attribute_values(":tenancy_pk", AttributeValue::S(self.tenant.clone()))
            .set_exclusive_start_key(after.map(|after| self.key(&after)))
            .consistent_read(true)
            .limit(ERASURE_PAGE)
            .send()
            .await
            .map_err(|error| classify(&error))?;
        let items = output.items.unwrap_or_default().iter().filter_map(|item| self.sort_key_of(item)).collect();
        Ok(Page { items, next_after: output.last_evaluated_key.as_ref().and_then(|key| self.sort_key_of(key)) })
    }

    /// Everything the tenant has in this table, counted by `kind_of` its sort key.
    pub async fn count_items(&self, kind_of: fn(&str) -> &'static str) -> Result<ItemCounts, DataError> {
        let mut counts = ItemCounts::new();
        let mut after = None;
        loop {
            let page = self.sort_keys(after).await?;
            page.items.iter().for_each(|key| count_one(&mut counts, kind_of(key)));
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(counts),
            }
        }
    }

    /// Offboarding: removes the tenant's items from this table a page at a
    /// time, until a read finds none (items written meanwhile go too) or
    /// `deadline` passes (one item at least goes); counts what it removed by
    /// `kind_of` its sort key.
    pub async fn erase_items(
        &self,
        kind_of: fn(&str) -> &'static str,
        deadline: std::time::Instant,
    ) -> Result<ErasurePass, DataError> {
        let mut pass = ErasurePass::default();
        loop {
            let page = self.sort_keys(None).await?;
            if page.items.is_empty() {
                pass.finished = true;
                return Ok(pass);
            }
            for key in &page.items {
                self.delete(key, WriteCondition::Always).await?;
                count_one(&mut pass.removed, kind_of(key));
                // After one at least: every pass makes progress.
                if std::time::Instant::now() >= deadline {
                    return Ok(pass);
                }
            }
        }
    }

    fn sort_key_of(&self, item: &Item) -> Option<String> {
        item.get(self.spec.sort_key).and_then(|value| value.as_s().ok()).cloned()
    }

    #[allow(clippy::type_complexity)]
    fn condition(&self, condition: WriteCondition) -> (Option<String>, Option<HashMap<String, String>>, Option<Item>) {
        let sort_key_name = || HashMap::from([("#tenancy_sk".to_owned(), self.spec.sort_key.to_owned())]);
        match condition {
            WriteCondition::Always => (None, None, None),
            WriteCondition::Absent => (Some("attribute_not_exists(#tenancy_sk)".into()), Some(sort_key_name()), None),
            WriteCondition::Present => (Some("attribute_exists(#tenancy_sk)".into()), Some(sort_key_name()), None),
            WriteCondition::AttributeEquals { attribute, value } => {
                let mut names = sort_key_name();
                names.insert("#tenancy_attr".into(), attribute.to_owned());
                (
                    Some("attribute_exists(#tenancy_sk) AND #tenancy_attr = :tenancy_expected".into()),
                    Some(names),
                    Some(HashMap::from([(":tenancy_expected".to_owned(), AttributeValue::N(value.to_string()))])),
                )
            }
        }
    }
}

/// For in-memory stores: replaces `stored` with `new` as a put conditioned
/// on `version = :expected` would: `ConditionFailed` (`exists` telling why)
/// when there is nothing to replace or it is at another version.
pub fn replace_versioned<T: Clone>(
    stored: Option<&mut T>,
    new: &T,
    version: impl Fn(&T) -> u64,
    expected: u64,
) -> Result<(), DataError> {
    match stored {
        Some(stored) if version(stored) == expected => {
            *stored = new.clone();
            Ok(())
        }
        stored => Err(DataError::ConditionFailed { index: 0, exists: stored.is_some() }),
    }
}

/// DynamoDB as tenancy's callers see it.
const DYNAMODB: AwsService = AwsService {
    name: "DynamoDB",
    transient: &[
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "TransactionInProgressException",
        "TransactionConflictException",
    ],
};

/// Classifies a DynamoDB SDK error: throttling, outages and timeouts are
/// `Unavailable` (503, retry later), anything else `Refused`. For the few
/// callers that use DynamoDB outside a [`TenantTable`] (execution-role access).
/// A conditional write's result: when `condition_failed` recognises the
/// error as a failed condition (and says whether the item exists),
/// [`DataError::ConditionFailed`]; any other failure [`classify`]d.
pub fn conditional_write<O, E, R>(
    result: Result<O, SdkError<E, R>>,
    condition_failed: impl FnOnce(&E) -> Option<bool>,
) -> Result<(), DataError>
where
    E: ProvideErrorMetadata,
{
    match result {
        Ok(_) => Ok(()),
        Err(error) => Err(match error.as_service_error().and_then(condition_failed) {
            Some(exists) => DataError::ConditionFailed { index: 0, exists },
            None => classify(&error),
        }),
    }
}

pub fn classify<E, R>(error: &SdkError<E, R>) -> DataError
where
    E: ProvideErrorMetadata,
{
    DYNAMODB.sort(error, DataError::Unavailable, DataError::Refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_versioned_replace_needs_the_item_at_the_expected_version() {
        let version = |pair: &(u64, &str)| pair.0;
        let mut stored = (2, "old");
        assert!(
            replace_versioned(Some(&mut stored), &(3, "new"), version, 1)
                .is_err_and(|error| matches!(error, DataError::ConditionFailed { exists: true, .. }))
        );
        assert_eq!(stored, (2, "old"));
        assert!(
            replace_versioned(None, &(3, "new"), version, 2)
                .is_err_and(|error| matches!(error, DataError::ConditionFailed { exists: false, .. }))
        );
        replace_versioned(Some(&mut stored), &(3, "new"), version, 2).expect("the expected version");
        assert_eq!(stored, (3, "new"));
    }

    #[test]
    fn transient_codes_are_unavailable_and_others_refused() {
        use aws_sdk_dynamodb::error::ErrorMetadata;
        use aws_sdk_dynamodb::operation::get_item::GetItemError;
        let answered = |code: &str| {
            SdkError::<_, ()>::service_error(GetItemError::generic(ErrorMetadata::builder().code(code).build()), ())
        };
        for code in ["ProvisionedThroughputExceededException", "ThrottlingException"] {
            assert!(matches!(classify(&answered(code)), DataError::Unavailable(c) if c == code), "{code}");
        }
        for code in ["AccessDeniedException", "ResourceNotFoundException"] {
            assert!(matches!(classify(&answered(code)), DataError::Refused(c) if c == code), "{code}");
        }
    }

    #[test]
    fn data_errors_map_to_the_right_statuses() {
        assert_eq!(ApiError::from(DataError::Unavailable("x".into())).status(), 503);
        assert_eq!(ApiError::from(DataError::Credentials(CredentialsError::Unavailable("x".into()))).status(), 503);
        assert_eq!(ApiError::from(DataError::ConditionFailed { index: 0, exists: true }).status(), 409);
        assert_eq!(ApiError::from(DataError::ConditionFailed { index: 1, exists: false }).status(), 404);
        assert_eq!(ApiError::from(DataError::Contention).status(), 409);
        assert_eq!(ApiError::from(DataError::Refused("AccessDeniedException".into())).status(), 500);
    }
}
