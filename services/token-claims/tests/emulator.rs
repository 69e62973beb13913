//! The trigger over real tables in the emulator, read through tenant-scoped
//! credentials from STS. Run with `make test` (which starts the emulator and
//! sets `AWS_ENDPOINT_URL`).

use aws_lambda_events::cognito::CognitoEventUserPoolsPreTokenGenV2;
use serde_json::json;
use tenancy::authority::{DynamoAuthorityStore, membership_sort_key};
use tenancy::table::{TableSpec, WriteCondition};
use tenancy::testing::{create_tenant_table, emulator_sdk, emulator_tenancy};
use tenancy::{TenantId, UserId};
use token_claims::trigger::{FakeActivation, SignInError, TENANT_ATTRIBUTE, TokenClaims};

const MEMBER_FIXTURE: &str = include_str!("fixtures/pre_token_generation_v2_member.json");

fn spec(name: &str) -> TableSpec {
    TableSpec { name: name.to_owned(), partition_key: "tenant_id", sort_key: "sk" }
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
    let sdk = emulator_sdk().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let suffix = uuid::Uuid::new_v4().simple();
    let (tenants_table, memberships_table) = (format!("tenants-it-{suffix}"), format!("memberships-it-{suffix}"));
    create_tenant_table(&client, &tenants_table).await;
    create_tenant_table(&client, &memberships_table).await;
    let config = emulator_tenancy("token-claims");

    // Seed the tables the way their owners write them: with each tenant's
    // own scoped credentials.
    let seeding = config.tenant_dynamo_cache(&sdk);
    let (active, suspended) = (TenantId::generate(), TenantId::generate());
    let (ada, bob, cy) = (UserId::generate(), UserId::generate(), UserId::generate());
    let (tenants, memberships) = (spec(&tenants_table), spec(&memberships_table));
    for (tenant, status, tier) in [(active, "active", "pro"), (suspended, "suspended", "free")] {
        let dynamo = seeding.get(&tenant).await.expect("dynamo");
        let record = json!({"name": "T", "slug": format!("t-{}", tenant.as_uuid().simple()), "tier": tier,
                            "status": status, "version": 1, "created_at": "2025-01-01T00:00:00Z",
                            "updated_at": "2025-01-01T00:00:00Z"});
        dynamo.table(&tenants).put("tenant", &record, WriteCondition::Always).await.expect("seed tenant");
    }
    for (tenant, user, role, status) in
        [(active, ada, "admin", "active"), (active, bob, "member", "disabled"), (suspended, cy, "member", "active")]
    {
        let dynamo = seeding.get(&tenant).await.expect("dynamo");
        let membership = json!({"user_id": user.to_string(), "email": "x@example.com", "role": role,
                                "status": status, "version": 1});
        dynamo
            .table(&memberships)
            .put(&membership_sort_key(&user), &membership, WriteCondition::Always)
            .await
            .expect("seed membership");
    }

    let trigger = TokenClaims::new(
        DynamoAuthorityStore::new(config.tenant_dynamo_cache(&sdk), tenants_table, memberships_table),
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
        assert_eq!(trigger.handle(event_for(&user, &tenant), "it").await, Err(SignInError::NotAllowed), "{name}");
    }
}
