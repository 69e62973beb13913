//! The users service through the real DynamoDB store (tenant-scoped
//! credentials from STS) and the real Cognito directory, against the emulator.
//! Run with `make test` (which starts the emulator and sets `AWS_ENDPOINT_URL`).

use std::collections::HashMap;
use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_sdk_cognitoidentityprovider::types::{AttributeDataType, SchemaAttributeType, UsernameAttributeType};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use tenancy::audit::MemoryAuditStore;
use tenancy::authority::{Authority, AuthoritySettings, DynamoAuthorityStore};
use tenancy::credentials::StsRoleAssumer;
use tenancy::events::{DynamoOutbox, MemoryBus};
use tenancy::password::PasswordPolicy;
use tenancy::testing::{Req, SignedIn, body_text, create_tenant_table, emulator_sdk, emulator_tenancy, memory_records};
use tenancy::{TenantId, TenantTier};
use users::directory::{CognitoDirectory, CreateOutcome, Directory, NewUser, TENANT_ID_ATTRIBUTE};
use users::domain::{MembershipStatus, TenantRole, User, UserId, new_membership, now};
use users::entrypoint::UsersApi;
use users::store::{DynamoMembershipStore, MembershipStore, NewMembership, Written};
use users_api::{InternalCommand, InternalResponse, UserList};

const PASSWORD: &str = "Secret-passw0rd1";

type Api = UsersApi<
    DynamoMembershipStore<StsRoleAssumer>,
    CognitoDirectory,
    DynamoAuthorityStore<StsRoleAssumer>,
    MemoryAuditStore,
    MemoryBus,
>;

struct Stack {
    api: Api,
    dynamo: aws_sdk_dynamodb::Client,
    tenants_table: String,
    cognito: aws_sdk_cognitoidentityprovider::Client,
    pool: String,
}

async fn stack() -> Stack {
    let sdk = emulator_sdk().await;
    let table = format!("memberships-it-{}", uuid::Uuid::new_v4().simple());
    // The tenants service's table, where authority finds the tenant records.
    let tenants_table = format!("tenants-it-{}", uuid::Uuid::new_v4().simple());
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let outbox_table = format!("outbox-it-{}", uuid::Uuid::new_v4().simple());
    create_tenant_table(&dynamo, &table).await;
    create_tenant_table(&dynamo, &tenants_table).await;
    create_tenant_table(&dynamo, &outbox_table).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    // Like the platform's pool: email as username, immutable custom:tenant_id.
    let pool = cognito
        .create_user_pool()
        .pool_name(format!("users-it-{}", uuid::Uuid::new_v4().simple()))
        .username_attributes(UsernameAttributeType::Email)
        .schema(
            SchemaAttributeType::builder()
                .name("tenant_id")
                .attribute_data_type(AttributeDataType::String)
                .mutable(false)
                .build(),
        )
        .send()
        .await
        .expect("create the test user pool")
        .user_pool
        .and_then(|pool| pool.id)
        .expect("pool id");
    let tenant_dynamo = emulator_tenancy("users").tenant_dynamo_cache(&sdk);
    let authority = Authority::new(
        DynamoAuthorityStore::new(tenant_dynamo.clone(), &tenants_table, &table),
        AuthoritySettings { freshness: Duration::ZERO, ..AuthoritySettings::default() },
    );
    let api = UsersApi::new(
        DynamoMembershipStore::new(tenant_dynamo.clone(), table, DynamoOutbox::new(tenant_dynamo, outbox_table)),
        CognitoDirectory::new(cognito.clone(), &pool),
        authority,
        memory_records(),
        PasswordPolicy::default(),
    );
    Stack { api, dynamo, tenants_table, cognito, pool }
}

/// A Cognito user as the pool reports it.
#[derive(Debug)]
struct PoolUser {
    sub: String,
    tenant: Option<String>,
    email_verified: Option<String>,
    enabled: bool,
    status: String,
}

impl Stack {
    async fn pool_user(&self, email: &str) -> Option<PoolUser> {
        let output = match self.cognito.admin_get_user().user_pool_id(&self.pool).username(email).send().await {
            Ok(output) => output,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_user_not_found_exception()) => {
                return None;
            }
            Err(error) => panic!("AdminGetUser: {error:?}"),
        };
        let value = |name: &str| {
            output
                .user_attributes()
                .iter()
                .find(|attribute| attribute.name() == name)
                .and_then(|attribute| attribute.value().map(str::to_owned))
        };
        Some(PoolUser {
            sub: value("sub").expect("sub"),
            tenant: value(TENANT_ID_ATTRIBUTE),
            email_verified: value("email_verified"),
            enabled: output.enabled(),
            status: output.user_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        })
    }

    /// A new active tenant of `tier` (its record, as the tenants service
    /// writes it) and its first admin.
    async fn first_admin(&self, tier: TenantTier, email: &str) -> (TenantId, UserId) {
        let tenant = TenantId::generate();
        self.dynamo
            .put_item()
            .table_name(&self.tenants_table)
            .item("tenant_id", AttributeValue::S(tenant.to_string()))
            .item("sk", AttributeValue::S("tenant".into()))
            .item("status", AttributeValue::S("active".into()))
            .item("tier", AttributeValue::S(tier.to_string()))
            .send()
            .await
            .expect("tenant record");
        match self.internal(tenant, tier, email).await {
            InternalResponse::Created { user_id } => (tenant, user_id),
            other => panic!("first admin: {other:?}"),
        }
    }

    async fn internal(&self, tenant: TenantId, tier: TenantTier, email: &str) -> InternalResponse {
        let command = InternalCommand::CreateFirstAdmin {
            tenant_id: tenant,
            tier,
            email: email.to_owned(),
            password: PASSWORD.into(),
        };
        self.api.handle_internal(command, "it").await
    }

    async fn call(
        &self,
        claims: &HashMap<String, String>,
        route: &'static str,
        user_id: Option<UserId>,
        body: Option<serde_json::Value>,
    ) -> ApiGatewayV2httpResponse {
        let request = Req {
            route,
            path_param: user_id.map(|id| id.to_string()),
            body: body.map(|body| body.to_string()),
            claims: Some(claims.clone()),
            ..Req::default()
        };
        self.api.handle(request.event()).await
    }
}

fn user(response: &ApiGatewayV2httpResponse, status: i64) -> User {
    assert_eq!(response.status_code, status, "{}", body_text(response));
    serde_json::from_str(&body_text(response)).expect("user")
}

fn unique(name: &str) -> String {
    format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn a_member_goes_through_its_whole_life() {
    let stack = stack().await;
    let admin_email = unique("admin");
    let (tenant, admin) = stack.first_admin(TenantTier::Pro, &admin_email).await;
    let pool_admin = stack.pool_user(&admin_email).await.expect("admin in the pool");
    assert_eq!(pool_admin.sub, admin.to_string());
    assert_eq!(pool_admin.tenant.as_deref(), Some(tenant.to_string().as_str()));
    assert_eq!(pool_admin.status, "CONFIRMED");
    let admin_claims = SignedIn::new(tenant, admin, "admin", "pro").claims;

    // Invite with a temporary password.
    let email = unique("bob");
    let body = json!({"email": email, "role": "member", "temporary_password": "Temp-passw0rd1"});
    let bob = user(&stack.call(&admin_claims, "POST /users", None, Some(body)).await, 201);
    let pool_bob = stack.pool_user(&email).await.expect("bob in the pool");
    assert_eq!(pool_bob.sub, bob.user_id.to_string());
    assert_eq!(pool_bob.tenant.as_deref(), Some(tenant.to_string().as_str()));
    assert_eq!(pool_bob.email_verified.as_deref(), Some("true"));
    assert_eq!(pool_bob.status, "FORCE_CHANGE_PASSWORD");
    assert_eq!(bob.status, MembershipStatus::Invited);
    // Before the first sign-in there is no password to reset. (Resending
    // goes through the gateway, which does Cognito's RESEND: moto alone
    // would make a second user; services/cli/tests covers it.)
    let route = "POST /users/{user_id}/password-reset";
    let refused = stack.call(&admin_claims, route, Some(bob.user_id), None).await;
    assert_eq!(refused.status_code, 409, "{}", body_text(&refused));
    // The first sign-in: a password of its own (Cognito), then what the
    // token-claims trigger asks for.
    stack.api.directory().set_permanent_password(&email, "Chosen-passw0rd-1").await.expect("the member's own password");
    let activated = stack
        .api
        .handle_internal(users_api::InternalCommand::ActivateInvited { tenant_id: tenant, user_id: bob.user_id }, "it")
        .await;
    assert_eq!(activated, users_api::InternalResponse::Activated { user_id: bob.user_id });

    let response = stack.call(&admin_claims, "GET /users", None, None).await;
    assert_eq!(response.status_code, 200, "{}", body_text(&response));
    let list: UserList = serde_json::from_str(&body_text(&response)).expect("list");
    let mut ids: Vec<UserId> = list.items.iter().map(|u| u.user_id).collect();
    ids.sort();
    let mut expected = vec![admin, bob.user_id];
    expected.sort();
    assert_eq!(ids, expected);

    let route = "PUT /users/{user_id}/role";
    let promoted =
        user(&stack.call(&admin_claims, route, Some(bob.user_id), Some(json!({"role": "admin"}))).await, 200);
    assert_eq!((promoted.role, promoted.version), (TenantRole::Admin, 3));

    let route = "POST /users/{user_id}/disable";
    let disabled = user(&stack.call(&admin_claims, route, Some(bob.user_id), None).await, 200);
    assert_eq!(disabled.status, MembershipStatus::Disabled);
    assert!(!stack.pool_user(&email).await.expect("bob").enabled);

    let route = "POST /users/{user_id}/enable";
    let enabled = user(&stack.call(&admin_claims, route, Some(bob.user_id), None).await, 200);
    assert_eq!(enabled.status, MembershipStatus::Active);
    assert!(stack.pool_user(&email).await.expect("bob").enabled);

    let response = stack.call(&admin_claims, "DELETE /users/{user_id}", Some(bob.user_id), None).await;
    assert_eq!(response.status_code, 204, "{}", body_text(&response));
    assert!(stack.pool_user(&email).await.is_none(), "the Cognito user is gone");
    assert_eq!(stack.api.store().get(&tenant, bob.user_id).await.expect("get"), None);
    assert_eq!(stack.api.store().user_count(&tenant).await.expect("count"), 1);
    let response = stack.call(&admin_claims, "GET /users/{user_id}", Some(bob.user_id), None).await;
    assert_eq!(response.status_code, 404);

    // Another tenant's admin reaches none of it.
    let (other, other_admin) = stack.first_admin(TenantTier::Pro, &unique("other")).await;
    let other_claims = SignedIn::new(other, other_admin, "admin", "pro").claims;
    let response = stack.call(&other_claims, "DELETE /users/{user_id}", Some(admin), None).await;
    assert_eq!(response.status_code, 404);
    assert!(stack.pool_user(&admin_email).await.is_some());
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn the_last_admin_stays() {
    let stack = stack().await;
    let email = unique("solo");
    let (tenant, admin) = stack.first_admin(TenantTier::Pro, &email).await;
    let admin_claims = SignedIn::new(tenant, admin, "admin", "pro").claims;
    for (route, body) in [
        ("PUT /users/{user_id}/role", Some(json!({"role": "member"}))),
        ("POST /users/{user_id}/disable", None),
        ("DELETE /users/{user_id}", None),
    ] {
        let response = stack.call(&admin_claims, route, Some(admin), body).await;
        assert_eq!(response.status_code, 409, "{route}: {}", body_text(&response));
        assert!(body_text(&response).contains("at least one active administrator"));
    }
    let stored = stack.api.store().get(&tenant, admin).await.expect("get").expect("admin");
    assert_eq!((stored.role, stored.status, stored.version), (TenantRole::Admin, MembershipStatus::Active, 1));
    let pool_user = stack.pool_user(&email).await.expect("still in the pool");
    assert!(pool_user.enabled);
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn the_tier_limit_holds() {
    let stack = stack().await;
    let (tenant, admin) = stack.first_admin(TenantTier::Free, &unique("free")).await;
    let admin_claims = SignedIn::new(tenant, admin, "admin", "free").claims;
    let limit = TenantTier::Free.limits().max_users;
    for _ in 1..limit {
        let body = json!({"email": unique("member"), "role": "member", "temporary_password": "Temp-passw0rd1"});
        user(&stack.call(&admin_claims, "POST /users", None, Some(body)).await, 201);
    }
    let refused = unique("refused");
    let body = json!({"email": refused, "role": "member"});
    let response = stack.call(&admin_claims, "POST /users", None, Some(body)).await;
    assert_eq!(response.status_code, 403, "{}", body_text(&response));
    assert!(body_text(&response).contains("limit-exceeded"));
    assert!(stack.pool_user(&refused).await.is_none(), "Cognito untouched");
    assert_eq!(stack.api.store().user_count(&tenant).await.expect("count"), limit);

    // The transaction itself enforces the bound (what the early check cannot
    // under concurrency): nothing is written.
    let extra =
        new_membership(UserId::generate(), unique("extra"), TenantRole::Member, MembershipStatus::Active, now());
    assert_eq!(
        stack
            .api
            .store()
            .create(&tenant, NewMembership { user: &extra, max_users: limit, remember: None, events: &[] })
            .await
            .expect("create"),
        Written::LimitReached
    );
    assert_eq!(stack.api.store().get(&tenant, extra.user_id).await.expect("get"), None);
    assert_eq!(stack.api.store().user_count(&tenant).await.expect("count"), limit);
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn create_first_admin_resumes_after_a_failure_part_way() {
    let stack = stack().await;
    let tenant = TenantId::generate();
    let email = unique("owner");
    // Step one of an earlier attempt: the Cognito user exists, no membership.
    let new_user = NewUser { email: email.clone(), tenant, temporary_password: Some(PASSWORD.to_owned().into()) };
    let CreateOutcome::Created(leftover) = stack.api.directory().create_user(&new_user).await.expect("create") else {
        panic!("the user existed already")
    };
    for _ in 0..2 {
        let response = stack.internal(tenant, TenantTier::Pro, &email).await;
        assert_eq!(response, InternalResponse::Created { user_id: leftover.user_id });
    }
    let pool_user = stack.pool_user(&email).await.expect("in the pool");
    assert_eq!(pool_user.sub, leftover.user_id.to_string());
    assert_eq!(pool_user.status, "CONFIRMED");
    let page = stack.api.store().list(&tenant, 100, None).await.expect("list");
    assert_eq!(page.users.iter().map(|u| u.user_id).collect::<Vec<_>>(), vec![leftover.user_id]);
    assert_eq!(page.users[0].role, TenantRole::Admin);
    assert_eq!(stack.api.store().user_count(&tenant).await.expect("count"), 1);

    // Another tenant cannot take the address.
    let response = stack.internal(TenantId::generate(), TenantTier::Pro, &email).await;
    assert!(matches!(response, InternalResponse::Refused { status: 409, .. }), "{response:?}");
}
