//! libs/tenancy against the emulator's STS and DynamoDB. Run with `make test`.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use serde::{Deserialize, Serialize};
use tenancy::TenantId;
use tenancy::config::{TenancyConfig, load_aws_config};
use tenancy::credentials::{RoleAssumer, StsRoleAssumer};
use tenancy::table::{DataError, PageRequest, TableSpec, TenantDynamo, WriteCondition};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/saas-it-tenant";

async fn sdk() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "these tests need the emulator: run them with `make test`, which sets AWS_ENDPOINT_URL"
    );
    load_aws_config().await
}

fn config() -> TenancyConfig {
    TenancyConfig {
        tenant_role_arn: ROLE_ARN.into(),
        session_duration: Duration::from_secs(900),
        refresh_margin: Duration::from_secs(60),
        max_cached_tenants: 10,
        authority_freshness: std::time::Duration::from_secs(10),
        service_name: "tenancy-it".into(),
    }
}

async fn create_table(admin: &aws_sdk_dynamodb::Client) -> TableSpec {
    let spec = TableSpec {
        name: format!("tenancy-it-{}", uuid::Uuid::new_v4().simple()),
        partition_key: "tenant_id",
        sort_key: "item_id",
    };
    admin
        .create_table()
        .table_name(&spec.name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder().attribute_name("tenant_id").key_type(KeyType::Hash).build().expect("key"),
        )
        .key_schema(
            KeySchemaElement::builder().attribute_name("item_id").key_type(KeyType::Range).build().expect("key"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("tenant_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("item_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr"),
        )
        .send()
        .await
        .expect("create table");
    spec
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn assume_role_with_the_tenant_tag_returns_session_credentials() {
    let sdk = sdk().await;
    let tenant = TenantId::generate();
    let assumer = StsRoleAssumer::new(aws_sdk_sts::Client::new(&sdk), ROLE_ARN, "tenancy-it", Duration::from_secs(900));
    let credentials = assumer.assume(&tenant).await.expect("AssumeRole");
    assert!(!credentials.access_key_id().is_empty());
    assert!(credentials.session_token().is_some_and(|token| !token.is_empty()));
    assert!(credentials.expiry().is_some_and(|expiry| expiry > SystemTime::now()));

    // The credentials are those of the tenant role session named after the tenant.
    let as_tenant = aws_sdk_sts::config::Builder::from(&sdk)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build();
    let identity = aws_sdk_sts::Client::from_conf(as_tenant).get_caller_identity().send().await.expect("identity");
    let arn = identity.arn().expect("arn");
    assert_eq!(arn, format!("arn:aws:sts::123456789012:assumed-role/saas-it-tenant/tenancy-it-{tenant}"));
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Record {
    item_id: String,
    text: String,
}

/// A record that tries to name a partition of its own.
#[derive(Debug, Serialize)]
struct Smuggler {
    item_id: String,
    text: String,
    tenant_id: String,
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn requests_signed_with_tenant_credentials_reach_dynamodb_in_the_tenant_partition() {
    let sdk = sdk().await;
    let admin = aws_sdk_dynamodb::Client::new(&sdk);
    let spec = create_table(&admin).await;

    let cache = config().tenant_dynamo_cache(&sdk);
    let (tenant, victim) = (TenantId::generate(), TenantId::generate());
    let dynamo: std::sync::Arc<TenantDynamo> = cache.get(&tenant).await.expect("dynamo");
    assert_eq!(dynamo.tenant(), &tenant);
    let table = dynamo.table(&spec);

    table.put("a", &Record { item_id: "a".into(), text: "hello".into() }, WriteCondition::Absent).await.expect("put");
    let smuggled = Smuggler { item_id: "b".into(), text: "sneaky".into(), tenant_id: victim.to_string() };
    table.put("b", &smuggled, WriteCondition::Absent).await.expect("put");
    assert_eq!(
        table.get::<Record>("a").await.expect("get"),
        Some(Record { item_id: "a".into(), text: "hello".into() })
    );

    let page = table
        .query::<Record>(PageRequest { limit: 10, after: None, descending: false, prefix: "" })
        .await
        .expect("query");
    assert_eq!(page.items.iter().map(|r| r.item_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(page.next_after, None);

    // Everything written sits in the tenant's own partition, the smuggled key included.
    let all = admin.scan().table_name(&spec.name).send().await.expect("scan");
    let partitions: Vec<_> = all.items().iter().map(|item| item["tenant_id"].clone()).collect();
    assert_eq!(partitions, vec![AttributeValue::S(tenant.to_string()); 2]);

    let other = cache.get(&victim).await.expect("dynamo");
    let empty =
        other.table(&spec).query::<Record>(PageRequest { limit: 10, after: None, descending: false, prefix: "" }).await;
    assert_eq!(empty.expect("query").items, Vec::<Record>::new());
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn transactions_are_all_or_nothing_and_counters_keep_their_bounds() {
    let sdk = sdk().await;
    let spec = create_table(&aws_sdk_dynamodb::Client::new(&sdk)).await;
    let cache = config().tenant_dynamo_cache(&sdk);
    let dynamo = cache.get(&TenantId::generate()).await.expect("dynamo");
    let table = dynamo.table(&spec);
    let record = |id: &str| Record { item_id: id.into(), text: "x".into() };

    for id in ["a", "b"] {
        let writes = vec![
            table.put_write(id, &record(id), WriteCondition::Absent).expect("put"),
            table.count_write("usage", "items", 1, 0..=2).expect("count"),
        ];
        table.transact(writes).await.expect("within the limit");
    }
    assert_eq!(table.counter("usage", "items").await.expect("counter"), 2);

    // Over the limit: the counter write (index 1) fails and the put is undone.
    let writes = vec![
        table.put_write("c", &record("c"), WriteCondition::Absent).expect("put"),
        table.count_write("usage", "items", 1, 0..=2).expect("count"),
    ];
    let outcome = table.transact(writes).await;
    assert!(matches!(outcome, Err(DataError::ConditionFailed { index: 1, .. })), "{outcome:?}");
    assert_eq!(table.get::<Record>("c").await.expect("get"), None);
    assert_eq!(table.counter("usage", "items").await.expect("counter"), 2);

    // A failing first write (the item exists) stops the counter too.
    let writes = vec![
        table.put_write("a", &record("a"), WriteCondition::Absent).expect("put"),
        table.count_write("usage", "items", -1, 0..=2).expect("count"),
    ];
    let outcome = table.transact(writes).await;
    assert!(matches!(outcome, Err(DataError::ConditionFailed { index: 0, exists: true })), "{outcome:?}");
    assert_eq!(table.counter("usage", "items").await.expect("counter"), 2);

    // A lower bound: the counter may not drop below 1.
    table.transact(vec![table.count_write("usage", "items", -1, 1..=i64::MAX).expect("count")]).await.expect("2 -> 1");
    let outcome = table.transact(vec![table.count_write("usage", "items", -1, 1..=i64::MAX).expect("count")]).await;
    assert!(matches!(outcome, Err(DataError::ConditionFailed { index: 0, .. })), "{outcome:?}");
    assert_eq!(table.counter("usage", "items").await.expect("counter"), 1);

    // Deleting with an unbounded decrement always goes through.
    let writes = vec![
        table.delete_write("b", WriteCondition::Present).expect("delete"),
        table.count_write("usage", "items", -1, i64::MIN..=i64::MAX).expect("count"),
    ];
    table.transact(writes).await.expect("delete");
    assert_eq!(table.get::<Record>("b").await.expect("get"), None);
    assert_eq!(table.counter("usage", "items").await.expect("counter"), 0);
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn concurrent_creates_never_pass_the_limit() {
    let sdk = sdk().await;
    let spec = create_table(&aws_sdk_dynamodb::Client::new(&sdk)).await;
    let cache = std::sync::Arc::new(config().tenant_dynamo_cache(&sdk));
    let tenant = TenantId::generate();
    let tasks: Vec<_> = (0..12)
        .map(|n| {
            let (cache, spec) = (std::sync::Arc::clone(&cache), spec.clone());
            tokio::spawn(async move {
                let dynamo = cache.get(&tenant).await.expect("dynamo");
                let table = dynamo.table(&spec);
                let id = format!("item#{n:02}");
                let writes = vec![
                    table.put_write(&id, &Record { item_id: id.clone(), text: "x".into() }, WriteCondition::Absent)?,
                    table.count_write("usage", "items", 1, 0..=5)?,
                ];
                table.transact(writes).await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.expect("join") {
            Ok(()) => created += 1,
            Err(DataError::ConditionFailed { .. } | DataError::Contention) => {}
            Err(other) => panic!("unexpected {other}"),
        }
    }
    let dynamo = cache.get(&tenant).await.expect("dynamo");
    let table = dynamo.table(&spec);
    let stored = table
        .query::<Record>(PageRequest { limit: 100, after: None, descending: false, prefix: "item#" })
        .await
        .expect("query");
    assert!(created <= 5, "{created} creates passed a limit of 5");
    assert_eq!(stored.items.len(), created);
    assert_eq!(table.counter("usage", "items").await.expect("counter"), i64::try_from(created).expect("small"));
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn prefix_queries_return_only_that_kind_of_item() {
    let sdk = sdk().await;
    let spec = create_table(&aws_sdk_dynamodb::Client::new(&sdk)).await;
    let cache = config().tenant_dynamo_cache(&sdk);
    let dynamo = cache.get(&TenantId::generate()).await.expect("dynamo");
    let table = dynamo.table(&spec);
    for id in ["note#1", "note#2", "note#3", "usage"] {
        table.put(id, &Record { item_id: id.into(), text: "x".into() }, WriteCondition::Always).await.expect("put");
    }
    let first = table
        .query::<Record>(PageRequest { limit: 2, after: None, descending: true, prefix: "note#" })
        .await
        .expect("query");
    assert_eq!(first.items.iter().map(|r| r.item_id.as_str()).collect::<Vec<_>>(), ["note#3", "note#2"]);
    assert_eq!(first.next_after.as_deref(), Some("note#2"));
    let second = table
        .query::<Record>(PageRequest {
            limit: 2,
            after: first.next_after.as_deref(),
            descending: true,
            prefix: "note#",
        })
        .await
        .expect("query");
    assert_eq!(second.items.iter().map(|r| r.item_id.as_str()).collect::<Vec<_>>(), ["note#1"]);
    assert_eq!(second.next_after, None);
}
