//! Registration and the platform listing through the DynamoDB stores, against
//! the emulator (the users service is faked). Tenant records go through
//! tenant-scoped credentials from STS; slug claims and the listing through
//! the execution role. Run with `make test` (which starts the emulator and
//! sets `AWS_ENDPOINT_URL`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use serde_json::json;
use tenancy::audit::{Actor, ActorRole, Audit, AuditEntry, AuditQuery, AuditStore, DynamoAuditStore, sort_key};
use tenancy::authority::{Authority, AuthoritySettings, DynamoAuthorityStore};
use tenancy::credentials::StsRoleAssumer;
use tenancy::events::{DynamoOutbox, Events, MemoryBus, Records};
use tenancy::idempotency::IdempotencyKey;
use tenancy::table::DataError;
use tenancy::testing::{
    Req, create_table, create_tenant_table, emulator_sdk, emulator_tenancy, every_page, json_of, platform_admin_claims,
};
use tenancy::{TenantId, TenantTier};
use tenants::api::Registered;
use tenants::domain::{ClaimState, Slug, Tenant, TenantLifecycle, TenantName, TenantStatus, now};
use tenants::entrypoint::{Services, Settings, TenantsApi};
use tenants::offboarding::FakeDataService;
use tenants::operators::FakeOperators;
use tenants::store::{DynamoSlugStore, DynamoTenantStore, SlugStore, TenantStore};
use tenants::users::FakeUsersService;

type Api = TenantsApi<
    DynamoTenantStore<StsRoleAssumer>,
    DynamoSlugStore,
    FakeUsersService,
    DynamoAuthorityStore<StsRoleAssumer>,
    DynamoAuditStore<StsRoleAssumer>,
    MemoryBus,
    FakeOperators,
    FakeDataService,
>;

async fn api() -> Arc<Api> {
    let sdk = emulator_sdk().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let suffix = uuid::Uuid::new_v4().simple();
    let tenants_table = format!("tenants-it-{suffix}");
    let slugs_table = format!("tenant-slugs-it-{suffix}");
    let audit_table = format!("audit-it-{suffix}");
    let outbox_table = format!("outbox-it-{suffix}");
    create_tenant_table(&client, &tenants_table).await;
    create_tenant_table(&client, &audit_table).await;
    create_tenant_table(&client, &outbox_table).await;
    create_table(&client, &slugs_table, "slug", None).await;
    let dynamo = emulator_tenancy("tenants").tenant_dynamo_cache(&sdk);
    // No member route is called here: the memberships table is never read.
    let authority = Authority::new(
        DynamoAuthorityStore::new(dynamo.clone(), &tenants_table, "memberships-not-read"),
        AuthoritySettings::default(),
    );
    Arc::new(TenantsApi::new(
        DynamoTenantStore::new(
            dynamo.clone(),
            client.clone(),
            tenants_table,
            DynamoOutbox::new(dynamo.clone(), outbox_table),
        ),
        DynamoSlugStore::new(client, slugs_table),
        Services::default(),
        authority,
        Records {
            audit: Audit::new(DynamoAuditStore::new(dynamo, audit_table)),
            events: Events::new(MemoryBus::default()),
        },
        FakeOperators::default(),
        Settings::default(),
    ))
}

fn registration(name: &str, slug: &str, email: &str) -> String {
    json!({"name": name, "slug": slug, "tier": "free", "admin_email": email, "admin_password": "Corr3ct-horse"})
        .to_string()
}

/// `POST /tenants` with this idempotency key.
async fn register_with(api: &Api, body: String, key: &str) -> ApiGatewayV2httpResponse {
    let request = Req::to("POST /tenants").body(body).header("idempotency-key", key.to_owned());
    api.handle(request.event()).await
}

/// `POST /tenants` with a new idempotency key.
async fn register(api: &Api, body: String) -> ApiGatewayV2httpResponse {
    register_with(api, body, IdempotencyKey::generate().as_str()).await
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
    assert!(!json_of(&response).to_string().contains(&claim.tenant_id.to_string()));

    // The retry with the key completes it, with the same tenant id.
    let response = register_with(&api, body.clone(), key.as_str()).await;
    assert_eq!(response.status_code, 201, "{:?}", response.body);
    let registered: Registered = serde_json::from_value(json_of(&response)).expect("registered");
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
    assert_eq!(serde_json::from_value::<Registered>(json_of(&response)).expect("registered"), registered);
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
    assert!(claims.pending_created_before(now()).await.expect("scan").iter().any(|c| c.slug == slug("stuck")));
    let early = now() - Duration::from_secs(60);
    assert!(claims.pending_created_before(early).await.expect("scan").iter().all(|c| c.slug != slug("stuck")));
    let pending = claims.pending_created_before(now()).await.expect("scan");
    assert!(pending.iter().all(|c| c.state == ClaimState::Pending && c.slug != slug("done")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulator: make test"]
async fn concurrent_registrations_of_one_slug_make_one_tenant() {
    let api = api().await;
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let api = Arc::clone(&api);
            tokio::spawn(async move {
                register(&api, registration(&format!("T{n}"), "contested", &format!("u{n}@example.com")))
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
    let mut created = BTreeSet::new();
    for n in 0..5 {
        let response =
            register(&api, registration(&format!("Tenant {n}"), &format!("tenant-{n}"), &format!("u{n}@example.com")))
                .await;
        assert_eq!(response.status_code, 201);
        let registered: Registered = serde_json::from_value(json_of(&response)).expect("registered");
        created.insert(registered.tenant.tenant_id);
    }
    let pages: Vec<Vec<Tenant>> = every_page(2, async |query| {
        api.handle(Req::to("GET /admin/tenants").query(query).claims(platform_admin_claims()).event()).await
    })
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    // Five items in three pages, five distinct tenants: each tenant exactly once.
    let seen: BTreeSet<TenantId> = pages.iter().flatten().map(|tenant| tenant.tenant_id).collect();
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
    store.create(&tenant, &[]).await.expect("create");
    assert!(matches!(store.create(&tenant, &[]).await, Err(DataError::ConditionFailed { exists: true, .. })));
    let active = tenant.suspend(at).expect("suspend");
    store.replace(&active, 1, &[]).await.expect("replace");
    let stale = tenant.rename(TenantName::parse("Lost").expect("name"), at);
    assert!(matches!(store.replace(&stale, 1, &[]).await, Err(DataError::ConditionFailed { exists: true, .. })));
    assert_eq!(store.get(&tenant.tenant_id).await.expect("get"), Some(active));
    let ghost = Tenant::registered(
        TenantId::generate(),
        TenantName::parse("G").expect("name"),
        slug("ghost"),
        TenantTier::Free,
        at,
    );
    assert!(matches!(store.replace(&ghost, 1, &[]).await, Err(DataError::ConditionFailed { exists: false, .. })));
    assert_eq!(store.get(&ghost.tenant_id).await.expect("get"), None);
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn the_trail_is_kept_in_dynamodb_newest_first_and_never_overwritten() {
    let api = api().await;
    let response = register(&api, registration("Acme", "acme", "ada@example.com")).await;
    assert_eq!(response.status_code, 201);
    let registered: Registered = serde_json::from_value(json_of(&response)).expect("registered");
    let tenant = registered.tenant.tenant_id;
    let read = |limit, after| AuditQuery { limit, after, ..AuditQuery::default() };

    // Registration wrote the tenant's first entry, through the tenant role.
    let first = api.audit().read(&tenant, &read(10, None)).await.expect("read");
    let entry = first.entries.first().expect("the registration's entry").clone();
    assert_eq!(first.entries.len(), 1);
    assert_eq!((entry.action.as_str(), entry.outcome), ("POST /tenants", 201));
    assert_eq!(entry.actor, Actor { user_id: registered.admin_user_id, role: ActorRole::Admin });

    // Later entries come first, a page at a time.
    let store = api.audit().store();
    let expires = entry.at + time::Duration::days(1);
    let mut later = Vec::new();
    for n in 1..=3 {
        let next = AuditEntry { at: entry.at + time::Duration::seconds(n), outcome: 200, ..entry.clone() };
        store.append(&tenant, &sort_key(&next), &next, expires).await.expect("append");
        later.push(next);
    }
    let page = api.audit().read(&tenant, &read(2, None)).await.expect("read");
    assert_eq!(page.entries, [later[2].clone(), later[1].clone()]);
    let rest = api.audit().read(&tenant, &read(2, page.next_after)).await.expect("read");
    assert_eq!((rest.entries, rest.next_after), (vec![later[0].clone(), entry.clone()], None));

    // An entry is never replaced: the write is conditional on the key being new.
    let forged = AuditEntry { outcome: 500, ..entry.clone() };
    let refused = store.append(&tenant, &sort_key(&entry), &forged, expires).await;
    assert!(matches!(refused, Err(DataError::ConditionFailed { exists: true, .. })), "{refused:?}");
    // Another tenant's partition holds none of it.
    let other = api.audit().read(&TenantId::generate(), &read(10, None)).await.expect("read");
    assert!(other.entries.is_empty());
}
