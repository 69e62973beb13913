//! Registration and the platform listing through the DynamoDB stores, against
//! the emulator (the users service is faked). Tenant records go through
//! tenant-scoped credentials from STS; slug claims and the listing through
//! the execution role. Run with `make test` (which starts the emulator and
//! sets `AWS_ENDPOINT_URL`).

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription, ApiGatewayV2httpRequest,
    ApiGatewayV2httpResponse,
};
use aws_lambda_events::encodings::Body;
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use http::HeaderValue;
use http::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tenancy::authority::{Authority, AuthoritySettings, DynamoAuthorityStore};
use tenancy::config::{TenancyConfig, load_aws_config};
use tenancy::credentials::StsRoleAssumer;
use tenancy::idempotency::IdempotencyKey;
use tenancy::table::DataError;
use tenancy::{TenantId, TenantTier};
use tenants::api::{Registered, TenantList};
use tenants::domain::{ClaimState, Slug, Tenant, TenantLifecycle, TenantName, TenantStatus, now};
use tenants::entrypoint::{RegistrationSettings, TenantsApi};
use tenants::operators::FakeOperators;
use tenants::store::{DynamoSlugStore, DynamoTenantStore, SlugStore, TenantStore};
use tenants::users::FakeUsersService;

type Api = TenantsApi<
    DynamoTenantStore<StsRoleAssumer>,
    DynamoSlugStore,
    FakeUsersService,
    DynamoAuthorityStore<StsRoleAssumer>,
    FakeOperators,
>;

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("key")
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("attribute")
}

async fn api() -> Arc<Api> {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "these tests need the emulator: run them with `make test`, which sets AWS_ENDPOINT_URL"
    );
    let sdk = load_aws_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let suffix = uuid::Uuid::new_v4().simple();
    let tenants_table = format!("tenants-it-{suffix}");
    let slugs_table = format!("tenant-slugs-it-{suffix}");
    client
        .create_table()
        .table_name(&tenants_table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("tenant_id", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(string_attribute("tenant_id"))
        .attribute_definitions(string_attribute("sk"))
        .send()
        .await
        .expect("create the tenants table");
    client
        .create_table()
        .table_name(&slugs_table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("slug", KeyType::Hash))
        .attribute_definitions(string_attribute("slug"))
        .send()
        .await
        .expect("create the slugs table");
    let config = TenancyConfig {
        tenant_role_arn: "arn:aws:iam::123456789012:role/saas-it-tenant".into(),
        session_duration: Duration::from_secs(3600),
        refresh_margin: Duration::from_secs(300),
        max_cached_tenants: 100,
        authority_freshness: std::time::Duration::from_secs(10),
        service_name: "tenants-it".into(),
    };
    let sessions = config.tenant_dynamo_sessions(&sdk);
    // No member route is called here: the memberships table is never read.
    let authority = Authority::new(
        DynamoAuthorityStore::new(sessions.clone(), &tenants_table, "memberships-not-read"),
        AuthoritySettings::default(),
    );
    Arc::new(TenantsApi::new(
        DynamoTenantStore::new(sessions, client.clone(), tenants_table),
        DynamoSlugStore::new(client, slugs_table),
        FakeUsersService::default(),
        authority,
        FakeOperators::default(),
        RegistrationSettings::default(),
    ))
}

fn request(route: &str, body: Option<String>, claims: Option<Value>, query: Option<&str>) -> ApiGatewayV2httpRequest {
    let mut request = ApiGatewayV2httpRequest::default();
    request.request_context.route_key = Some(route.to_owned());
    request.request_context.request_id = Some("it-request".to_owned());
    if body.is_some() {
        request
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    request.body = body;
    if let Some(query) = query {
        request.query_string_parameters = query.parse().expect("query");
    }
    if let Some(claims) = claims {
        let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
        jwt.claims = serde_json::from_value(claims).expect("claims");
        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.jwt = Some(jwt);
        request.request_context.authorizer = Some(authorizer);
    }
    request
}

fn registration(name: &str, slug: &str, email: &str) -> String {
    json!({"name": name, "slug": slug, "tier": "free", "admin_email": email, "admin_password": "Corr3ct-horse"})
        .to_string()
}

/// `POST /tenants` with this idempotency key.
async fn register_with(api: &Api, body: String, key: &str) -> ApiGatewayV2httpResponse {
    let mut request = request("POST /tenants", Some(body), None, None);
    request
        .headers
        .insert("idempotency-key", HeaderValue::from_str(key).expect("header"));
    api.handle(request).await
}

/// `POST /tenants` with a new idempotency key.
async fn register(api: &Api, body: String) -> ApiGatewayV2httpResponse {
    register_with(api, body, IdempotencyKey::generate().as_str()).await
}

fn body_json(response: &ApiGatewayV2httpResponse) -> Value {
    match &response.body {
        Some(Body::Text(text)) => serde_json::from_str(text).expect("json"),
        other => panic!("unexpected body {other:?}"),
    }
}

fn slug(text: &str) -> Slug {
    Slug::parse(text).expect("slug")
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn registration_resumes_with_its_key_only_and_guards_its_slug() {
    let api = api().await;
    let body = registration("Acme", "acme", "ada@example.com");
    let key = IdempotencyKey::generate();

    // The users service fails part-way: the claim stays pending, and no
    // tenant record exists yet (it is written last).
    api.users().fail_next(1);
    assert_eq!(register_with(&api, body.clone(), key.as_str()).await.status_code, 503);
    let claim = api.slugs().get(&slug("acme")).await.expect("get").expect("a claim");
    assert_eq!(claim.state, ClaimState::Pending);
    assert_eq!(claim.key_digest, key.digest());
    assert_eq!(api.tenants().get(&claim.tenant_id).await.expect("get"), None);

    // The same fields with another key: taken, and nothing of it revealed.
    let response = register(&api, body.clone()).await;
    assert_eq!(response.status_code, 409);
    assert!(!body_json(&response).to_string().contains(&claim.tenant_id.to_string()));

    // The retry with the key completes it, with the same tenant id.
    let response = register_with(&api, body.clone(), key.as_str()).await;
    assert_eq!(response.status_code, 201, "{:?}", response.body);
    let registered: Registered = serde_json::from_value(body_json(&response)).expect("registered");
    assert_eq!(registered.tenant.tenant_id, claim.tenant_id);
    assert_eq!(registered.tenant.status, TenantStatus::Active);
    let stored = api.tenants().get(&claim.tenant_id).await.expect("get");
    assert_eq!(stored, Some(registered.tenant.clone()));
    let claim = api.slugs().get(&slug("acme")).await.expect("get").expect("a claim");
    assert_eq!(claim.state, ClaimState::Complete);
    assert_eq!(claim.admin_user_id, Some(registered.admin_user_id));
    assert_eq!(api.users().admins().len(), 1);

    // A repeat with the key answers the same and asks nobody.
    let calls = api.users().calls();
    let response = register_with(&api, body, key.as_str()).await;
    assert_eq!(response.status_code, 200);
    assert_eq!(
        serde_json::from_value::<Registered>(body_json(&response)).expect("registered"),
        registered
    );
    assert_eq!(api.users().calls(), calls);

    // The same slug with other input is taken.
    let response = register(&api, registration("Other", "acme", "eve@example.com")).await;
    assert_eq!(response.status_code, 409);
    assert_eq!(api.users().calls(), calls);
    let list = api.tenants().list(100, None).await.expect("list");
    assert_eq!(list.tenants, vec![registered.tenant]);

    // A refusal by the users service (email taken) frees the slug again.
    let response = register(&api, registration("Other", "other", "ada@example.com")).await;
    assert_eq!(response.status_code, 409);
    assert_eq!(api.slugs().get(&slug("other")).await.expect("get"), None);
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn the_expiry_sweep_finds_unfinished_claims_in_the_table() {
    let api = api().await;
    api.users().fail_next(1);
    let body = registration("Stuck", "stuck", "stuck@example.com");
    assert_eq!(register(&api, body).await.status_code, 503);
    let done = register(&api, registration("Done", "done", "done@example.com")).await;
    assert_eq!(done.status_code, 201);

    let claims = api.slugs();
    assert!(
        claims
            .pending_created_before(now())
            .await
            .expect("scan")
            .iter()
            .any(|c| c.slug == slug("stuck"))
    );
    let early = now() - Duration::from_secs(60);
    assert!(
        claims
            .pending_created_before(early)
            .await
            .expect("scan")
            .iter()
            .all(|c| c.slug != slug("stuck"))
    );
    let pending = claims.pending_created_before(now()).await.expect("scan");
    assert!(
        pending
            .iter()
            .all(|c| c.state == ClaimState::Pending && c.slug != slug("done"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulator: make test"]
async fn concurrent_registrations_of_one_slug_make_one_tenant() {
    let api = api().await;
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let api = Arc::clone(&api);
            tokio::spawn(async move {
                register(
                    &api,
                    registration(&format!("T{n}"), "contested", &format!("u{n}@example.com")),
                )
                .await
                .status_code
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("join"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses, vec![201, 409, 409, 409, 409, 409]);
    assert_eq!(api.tenants().list(100, None).await.expect("list").tenants.len(), 1);
    assert_eq!(api.users().admins().len(), 1);
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn the_platform_list_pages_across_every_tenant() {
    let api = api().await;
    let mut created = Vec::new();
    for n in 0..5 {
        let response = register(
            &api,
            registration(
                &format!("Tenant {n}"),
                &format!("tenant-{n}"),
                &format!("u{n}@example.com"),
            ),
        )
        .await;
        assert_eq!(response.status_code, 201);
        let registered: Registered = serde_json::from_value(body_json(&response)).expect("registered");
        created.push(registered.tenant.tenant_id);
    }
    let operator = json!({
        "sub": uuid::Uuid::new_v4().to_string(),
        "username": "ops@example.com",
        "cognito:groups": "[platform-admin]",
    });
    let mut seen: Vec<TenantId> = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            None => "limit=2".to_owned(),
            Some(cursor) => format!("limit=2&cursor={cursor}"),
        };
        let response = api
            .handle(request(
                "GET /admin/tenants",
                None,
                Some(operator.clone()),
                Some(&query),
            ))
            .await;
        assert_eq!(response.status_code, 200, "{:?}", response.body);
        let page: TenantList = serde_json::from_value(body_json(&response)).expect("page");
        sizes.push(page.items.len());
        seen.extend(page.items.iter().map(|tenant| tenant.tenant_id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(sizes, vec![2, 2, 1]);
    seen.sort();
    created.sort();
    assert_eq!(seen, created);
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn tenant_records_are_versioned() {
    let api = api().await;
    let store = api.tenants();
    let at = now();
    let tenant = Tenant::registered(
        TenantId::generate(),
        TenantName::parse("Acme").expect("name"),
        slug("acme"),
        TenantTier::Pro,
        at,
    );
    store.create(&tenant).await.expect("create");
    assert!(matches!(
        store.create(&tenant).await,
        Err(DataError::ConditionFailed { exists: true, .. })
    ));
    let active = tenant.suspend(at).expect("suspend");
    store.replace(&active, 1).await.expect("replace");
    let stale = tenant.rename(TenantName::parse("Lost").expect("name"), at);
    assert!(matches!(
        store.replace(&stale, 1).await,
        Err(DataError::ConditionFailed { exists: true, .. })
    ));
    assert_eq!(store.get(&tenant.tenant_id).await.expect("get"), Some(active));
    let ghost = Tenant::registered(
        TenantId::generate(),
        TenantName::parse("G").expect("name"),
        slug("ghost"),
        TenantTier::Free,
        at,
    );
    assert!(matches!(
        store.replace(&ghost, 1).await,
        Err(DataError::ConditionFailed { exists: false, .. })
    ));
    assert_eq!(store.get(&ghost.tenant_id).await.expect("get"), None);
}
