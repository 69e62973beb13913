//! The trigger over real tables in the emulator, read through tenant-scoped
//! credentials from STS. Run with `make test` (which starts the emulator and
//! sets `AWS_ENDPOINT_URL`).

use std::time::Duration;

use aws_lambda_events::cognito::CognitoEventUserPoolsPreTokenGenV2;
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use serde_json::json;
use tenancy::authority::{DynamoAuthorityStore, membership_sort_key};
use tenancy::config::{TenancyConfig, load_aws_config};
use tenancy::table::{TableSpec, WriteCondition};
use tenancy::{TenantId, UserId};
use token_claims::trigger::{FakeActivation, SignInError, TENANT_ATTRIBUTE, TokenClaims};

const MEMBER_FIXTURE: &str = include_str!("fixtures/pre_token_generation_v2_member.json");

fn spec(name: &str) -> TableSpec {
    TableSpec {
        name: name.to_owned(),
        partition_key: "tenant_id",
        sort_key: "sk",
    }
}

async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .expect("key")
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute")
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("tenant_id", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(attribute("tenant_id"))
        .attribute_definitions(attribute("sk"))
        .send()
        .await
        .expect("create a test table");
}

fn event_for(user: &UserId, tenant: &TenantId) -> CognitoEventUserPoolsPreTokenGenV2 {
    let mut event: CognitoEventUserPoolsPreTokenGenV2 = serde_json::from_str(MEMBER_FIXTURE).expect("fixture");
    let attributes = &mut event.request.user_attributes;
    attributes.insert("sub".into(), user.to_string());
    attributes.insert(TENANT_ATTRIBUTE.into(), tenant.to_string());
    event
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn claims_come_from_the_tables_read_with_tenant_credentials() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "these tests need the emulator: run them with `make test`, which sets AWS_ENDPOINT_URL"
    );
    let sdk = load_aws_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let suffix = uuid::Uuid::new_v4().simple();
    let (tenants_table, memberships_table) = (format!("tenants-it-{suffix}"), format!("memberships-it-{suffix}"));
    create_table(&client, &tenants_table).await;
    create_table(&client, &memberships_table).await;
    let config = TenancyConfig {
        tenant_role_arn: "arn:aws:iam::123456789012:role/saas-it-tenant".into(),
        session_duration: Duration::from_secs(3600),
        refresh_margin: Duration::from_secs(300),
        max_cached_tenants: 100,
        authority_freshness: std::time::Duration::from_secs(10),
        service_name: "token-claims-it".into(),
    };

    // Seed the tables the way their owners write them: with each tenant's
    // own scoped credentials.
    let seeding = config.tenant_dynamo_sessions(&sdk);
    let (active, suspended) = (TenantId::generate(), TenantId::generate());
    let (ada, bob, cy) = (UserId::generate(), UserId::generate(), UserId::generate());
    let (tenants, memberships) = (spec(&tenants_table), spec(&memberships_table));
    for (tenant, status, tier) in [(active, "active", "pro"), (suspended, "suspended", "free")] {
        let session = seeding.get(&tenant).await.expect("session");
        let record = json!({"name": "T", "slug": format!("t-{}", tenant.as_uuid().simple()), "tier": tier,
                            "status": status, "version": 1, "created_at": "2025-01-01T00:00:00Z",
                            "updated_at": "2025-01-01T00:00:00Z"});
        session
            .table(&tenants)
            .put("tenant", &record, WriteCondition::Always)
            .await
            .expect("seed tenant");
    }
    for (tenant, user, role, status) in [
        (active, ada, "admin", "active"),
        (active, bob, "member", "disabled"),
        (suspended, cy, "member", "active"),
    ] {
        let session = seeding.get(&tenant).await.expect("session");
        let membership = json!({"user_id": user.to_string(), "email": "x@example.com", "role": role,
                                "status": status, "version": 1});
        session
            .table(&memberships)
            .put(&membership_sort_key(&user), &membership, WriteCondition::Always)
            .await
            .expect("seed membership");
    }

    let trigger = TokenClaims::new(
        DynamoAuthorityStore::new(config.tenant_dynamo_sessions(&sdk), tenants_table, memberships_table),
        FakeActivation::default(),
    );

    let answered = trigger.handle(event_for(&ada, &active), "it").await.expect("allowed");
    let json = serde_json::to_value(&answered).expect("json");
    assert_eq!(
        json["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"],
        json!({"tenant_id": active.to_string(), "tenant_role": "admin", "tenant_tier": "pro"})
    );

    for (name, user, tenant) in [
        ("disabled membership", bob, active),
        ("suspended tenant", cy, suspended),
        ("forged tenant: no membership there", ada, suspended),
        ("unknown tenant", ada, TenantId::generate()),
    ] {
        assert_eq!(
            trigger.handle(event_for(&user, &tenant), "it").await,
            Err(SignInError::NotAllowed),
            "{name}"
        );
    }
}
