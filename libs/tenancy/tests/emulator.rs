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
use tenancy::table::{PageRequest, TableSpec, TenantDynamo, WriteCondition};

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
        service_name: "tenancy-it".into(),
    }
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn assume_role_with_the_tenant_tag_returns_session_credentials() {
    let sdk = sdk().await;
    let tenant = TenantId::generate();
    let assumer = StsRoleAssumer::new(
        aws_sdk_sts::Client::new(&sdk),
        ROLE_ARN,
        "tenancy-it",
        Duration::from_secs(900),
    );
    let credentials = assumer.assume(&tenant).await.expect("AssumeRole");
    assert!(!credentials.access_key_id().is_empty());
    assert!(credentials.session_token().is_some_and(|token| !token.is_empty()));
    assert!(credentials.expiry().is_some_and(|expiry| expiry > SystemTime::now()));

    // The credentials are those of the tenant role session named after the tenant.
    let as_tenant = aws_sdk_sts::config::Builder::from(&sdk)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build();
    let identity = aws_sdk_sts::Client::from_conf(as_tenant)
        .get_caller_identity()
        .send()
        .await
        .expect("identity");
    let arn = identity.arn().expect("arn");
    assert_eq!(
        arn,
        format!("arn:aws:sts::123456789012:assumed-role/saas-it-tenant/tenancy-it-{tenant}")
    );
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
            KeySchemaElement::builder()
                .attribute_name("tenant_id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("item_id")
                .key_type(KeyType::Range)
                .build()
                .expect("key"),
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

    let sessions = config().tenant_dynamo_sessions(&sdk);
    let (tenant, victim) = (TenantId::generate(), TenantId::generate());
    let session: std::sync::Arc<TenantDynamo> = sessions.get(&tenant).await.expect("session");
    assert_eq!(session.tenant(), &tenant);
    let table = session.table(&spec);

    table
        .put(
            "a",
            &Record {
                item_id: "a".into(),
                text: "hello".into(),
            },
            WriteCondition::Absent,
        )
        .await
        .expect("put");
    let smuggled = Smuggler {
        item_id: "b".into(),
        text: "sneaky".into(),
        tenant_id: victim.to_string(),
    };
    table.put("b", &smuggled, WriteCondition::Absent).await.expect("put");
    assert_eq!(
        table.get::<Record>("a").await.expect("get"),
        Some(Record {
            item_id: "a".into(),
            text: "hello".into()
        })
    );

    let page = table
        .query::<Record>(PageRequest {
            limit: 10,
            after: None,
            descending: false,
        })
        .await
        .expect("query");
    assert_eq!(
        page.items.iter().map(|r| r.item_id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(page.next_after, None);

    // Everything written sits in the tenant's own partition, the smuggled key included.
    let all = admin.scan().table_name(&spec.name).send().await.expect("scan");
    let partitions: Vec<_> = all.items().iter().map(|item| item["tenant_id"].clone()).collect();
    assert_eq!(partitions, vec![AttributeValue::S(tenant.to_string()); 2]);

    let other = sessions.get(&victim).await.expect("session");
    let empty = other
        .table(&spec)
        .query::<Record>(PageRequest {
            limit: 10,
            after: None,
            descending: false,
        })
        .await;
    assert_eq!(empty.expect("query").items, Vec::<Record>::new());
}
