//! The emulator read directly, with its own credentials: for checking what
//! the stack stored (never for driving a scenario).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use tenancy::TenantId;

use crate::{Error, Result, Stack, sdk_error};

/// One stored item, by attribute.
pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB and the user pool of the emulator.
#[derive(Debug, Clone)]
pub struct Emulator {
    dynamodb: aws_sdk_dynamodb::Client,
    cognito: aws_sdk_cognitoidentityprovider::Client,
    user_pool_id: String,
}

impl Emulator {
    pub fn connect(stack: &Stack) -> Self {
        let sdk = stack.emulator_config();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            cognito: aws_sdk_cognitoidentityprovider::Client::new(sdk),
            user_pool_id: stack.user_pool_id.clone(),
        }
    }

    /// Every table of the emulator.
    pub async fn tables(&self) -> Result<Vec<String>> {
        let mut tables = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb
                .list_tables()
                .set_exclusive_start_table_name(start)
                .send()
                .await
                .map_err(|e| Error(format!("ListTables: {}", sdk_error(e))))?;
            tables.extend(page.table_names().iter().cloned());
            match page.last_evaluated_table_name() {
                Some(last) => start = Some(last.to_owned()),
                None => return Ok(tables),
            }
        }
    }

    /// The deployed table whose name ends with `-<suffix>`.
    pub async fn table(&self, suffix: &str) -> Result<String> {
        let wanted = format!("-{suffix}");
        let tables = self.tables().await?;
        let matching: Vec<&String> = tables.iter().filter(|name| name.ends_with(&wanted)).collect();
        match matching[..] {
            [table] => Ok(table.clone()),
            _ => Err(Error(format!("one table *{wanted} expected: {tables:?}"))),
        }
    }

    /// Every item of `table` (a Scan, strongly consistent).
    pub async fn scan(&self, table: &str) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb
                .scan()
                .table_name(table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| Error(format!("Scan {table}: {}", sdk_error(e))))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => return Ok(items),
            }
        }
    }

    /// Every item of one tenant's partition, by sort key.
    pub async fn partition(&self, table: &str, tenant: TenantId) -> Result<HashMap<String, Item>> {
        let mut items = HashMap::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb
                .query()
                .table_name(table)
                .key_condition_expression("tenant_id = :t")
                .expression_attribute_values(":t", AttributeValue::S(tenant.to_string()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| Error(format!("Query {table}: {}", sdk_error(e))))?;
            for item in page.items() {
                let sort_key = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                items.insert(sort_key, item.clone());
            }
            match page.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => return Ok(items),
            }
        }
    }

    /// Every user of the pool: its username and attributes (`name=value`).
    pub async fn pool_users(&self) -> Result<Vec<(String, Vec<String>)>> {
        let mut users = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .cognito
                .list_users()
                .user_pool_id(&self.user_pool_id)
                .set_pagination_token(token)
                .send()
                .await
                .map_err(|e| Error(format!("ListUsers: {}", sdk_error(e))))?;
            for user in page.users() {
                let attributes = user
                    .attributes()
                    .iter()
                    .map(|a| format!("{}={}", a.name(), a.value().unwrap_or_default()))
                    .collect();
                users.push((user.username().unwrap_or_default().to_owned(), attributes));
            }
            match page.pagination_token() {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(users),
            }
        }
    }

    /// Everything stored anywhere that mentions one of `needles`: each table's
    /// items and the pool's users, as text (`table: item`), sorted.
    pub async fn mentions(&self, needles: &[String]) -> Result<Vec<String>> {
        let mentions = |text: &str| needles.iter().any(|needle| text.contains(needle.as_str()));
        let mut found = Vec::new();
        for table in self.tables().await? {
            for item in self.scan(&table).await? {
                let text = canonical_item(&item);
                if mentions(&text) {
                    found.push(format!("{table}: {text}"));
                }
            }
        }
        for (username, attributes) in self.pool_users().await? {
            let text = format!("{username} {attributes:?}");
            if mentions(&text) {
                found.push(format!("user pool: {text}"));
            }
        }
        found.sort();
        Ok(found)
    }
}

/// An item as text, its attributes (and those of nested maps) sorted, so
/// that equal items read the same.
pub fn canonical_item(item: &Item) -> String {
    let attributes: std::collections::BTreeMap<&String, String> =
        item.iter().map(|(name, value)| (name, canonical_value(value))).collect();
    format!("{attributes:?}")
}

fn canonical_value(value: &AttributeValue) -> String {
    match value {
        AttributeValue::M(map) => canonical_item(map),
        AttributeValue::L(list) => format!("{:?}", list.iter().map(canonical_value).collect::<Vec<_>>()),
        other => format!("{other:?}"),
    }
}
