//! The tenants routes end to end through the handler, over the in-memory
//! stores and the fake users service.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use serde_json::{Value, json};
use std::time::Duration;
use tenancy::audit::{ActorRole, AuditEntry, MemoryAuditStore};
use tenancy::authority::{Membership, MemoryAuthorityStore, TenantRecord};
use tenancy::erasure::{ErasureReceipt, ItemCounts};
use tenancy::events::{Cause, Change, LifecycleEvent, MemoryBus};
use tenancy::idempotency::IdempotencyKey;
use tenancy::password::PasswordPolicy;
use tenancy::testing::{
    Req, SignedIn, assert_problem, body_text, claims, committed_document, every_page, json_of, memory_authority,
    memory_records, platform_admin_claims,
};
use tenancy::{MembershipStatus, TenantId, TenantRole, TenantTier, UserId};
use tenants::api::{AuditList, Registered, TenantList};
use tenants::domain::{ClaimState, SlugClaim, Tenant, TenantStatus};
use tenants::entrypoint::{ROUTES, Services, Settings, TenantsApi};
use tenants::offboarding::{FakeDataService, OffboardingSettings};
use tenants::operators::FakeOperators;
use tenants::store::{MemorySlugStore, MemoryTenantStore, TenantStore};
use tenants::users::FakeUsersService;
use time::OffsetDateTime;

type Api = TenantsApi<
    MemoryTenantStore,
    MemorySlugStore,
    FakeUsersService,
    MemoryAuthorityStore,
    MemoryAuditStore,
    MemoryBus,
    FakeOperators,
    FakeDataService,
>;

/// Offboarding with no settling time before an erasure (see
/// `an_erasure_waits_for_the_settling_time`).
fn unsettled() -> OffboardingSettings {
    OffboardingSettings { settle: Duration::ZERO, ..OffboardingSettings::default() }
}

/// Claims of a member (`role` "member" or "admin") of `tenant`.
fn tenant_claims(tenant: &TenantId, role: &str) -> HashMap<String, String> {
    SignedIn::new(*tenant, UserId::generate(), role, "pro").claims
}

fn registration(name: &str, slug: &str, email: &str) -> String {
    json!({
        "name": name,
        "slug": slug,
        "tier": "pro",
        "admin_email": email,
        "admin_password": "Corr3ct-horse-battery",
    })
    .to_string()
}

/// Everything the service has written or caused, for "nothing changed" checks.
#[derive(Debug, PartialEq)]
struct State {
    tenants: Vec<Tenant>,
    claims: Vec<SlugClaim>,
    users_calls: usize,
}

struct Harness {
    api: Arc<Api>,
}

impl Harness {
    fn new() -> Self {
        Self::with(Settings { offboarding: unsettled(), ..Settings::default() })
    }

    fn with(settings: Settings) -> Self {
        Self {
            api: Arc::new(TenantsApi::new(
                MemoryTenantStore::default(),
                MemorySlugStore::default(),
                Services::default(),
                // Records read on every request.
                memory_authority(Duration::ZERO),
                memory_records(),
                FakeOperators::default(),
                settings,
            )),
        }
    }

    /// The records authority reads: the tenant records are the tenant
    /// store's (copied before each call); a caller's membership is made from
    /// its first token (see `ensure_member_from_claims`).
    fn records(&self) -> &MemoryAuthorityStore {
        self.api.authority().store()
    }

    /// Every response is checked against the committed OpenAPI document.
    async fn call(&self, req: Req) -> ApiGatewayV2httpResponse {
        for tenant in self.api.tenants().snapshot() {
            let record = TenantRecord { status: tenant.status, tier: tenant.tier };
            self.records().set_tenant(tenant.tenant_id, record);
        }
        if let Some(claims) = &req.claims {
            self.records().ensure_member_from_claims(claims);
        }
        let route = req.route;
        let response = self.api.handle(req.event()).await;
        committed_document(env!("CARGO_MANIFEST_DIR")).check_response(route, &response);
        response
    }

    /// `POST /tenants` with a new idempotency key.
    async fn register_raw(&self, body: String) -> ApiGatewayV2httpResponse {
        self.register_keyed(body, &IdempotencyKey::generate()).await
    }

    /// `POST /tenants` with this idempotency key.
    async fn register_keyed(&self, body: String, key: &IdempotencyKey) -> ApiGatewayV2httpResponse {
        self.call(Req::to("POST /tenants").body(body).header("idempotency-key", key.as_str().to_owned())).await
    }

    async fn register(&self, name: &str, slug: &str, email: &str) -> Registered {
        let response = self.register_raw(registration(name, slug, email)).await;
        assert_eq!(response.status_code, 201, "{}", body_text(&response));
        serde_json::from_value(json_of(&response)).expect("registered")
    }

    fn state(&self) -> State {
        State {
            tenants: self.api.tenants().snapshot(),
            claims: self.api.slugs().snapshot(),
            users_calls: self.api.users().calls(),
        }
    }

    async fn admin_call(
        &self,
        route: &'static str,
        tenant: &TenantId,
        body: Option<String>,
    ) -> ApiGatewayV2httpResponse {
        self.call(Req {
            route,
            path_param: Some(tenant.to_string()),
            body,
            claims: Some(platform_admin_claims()),
            ..Req::default()
        })
        .await
    }
}

#[tokio::test]
async fn registration_creates_an_active_tenant_and_its_first_admin() {
    let harness = Harness::new();
    let response = harness.register_raw(registration("  Acme Corp ", "acme", " Ada@Example.com")).await;
    assert_eq!(response.status_code, 201, "{}", body_text(&response));
    let registered: Registered = serde_json::from_value(json_of(&response)).expect("registered");
    let tenant = &registered.tenant;
    assert_eq!(tenant.name.as_str(), "Acme Corp");
    assert_eq!(tenant.slug.as_str(), "acme");
    assert_eq!(tenant.tier, TenantTier::Pro);
    assert_eq!(tenant.status, TenantStatus::Active);
    assert_eq!(tenant.version, 1, "written once, when the admin exists");

    let admins = harness.api.users().admins();
    assert_eq!(admins.len(), 1);
    assert_eq!(admins[0].tenant_id, tenant.tenant_id);
    assert_eq!(admins[0].email, "ada@example.com");
    assert_eq!(admins[0].tier, TenantTier::Pro);
    assert_eq!(admins[0].user_id, registered.admin_user_id);

    assert_eq!(harness.api.tenants().snapshot(), vec![tenant.clone()]);
    let claims = harness.api.slugs().snapshot();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].tenant_id, tenant.tenant_id);
    assert_eq!(claims[0].state, ClaimState::Complete);
    assert_eq!(claims[0].admin_user_id, Some(registered.admin_user_id));
    // The password is in neither the response nor any stored record.
    assert!(!body_text(&response).contains("Corr3ct-horse-battery"));
    assert!(!format!("{:?}", harness.state()).contains("Corr3ct-horse-battery"));
}

#[tokio::test]
async fn a_taken_slug_is_a_conflict_for_different_input() {
    let harness = Harness::new();
    harness.register("Acme", "acme", "ada@example.com").await;
    let before = harness.state();
    for body in [
        registration("Acme", "acme", "eve@example.com"),
        registration("Acme Ltd", "acme", "ada@example.com"),
        json!({"name": "Acme", "slug": "acme", "tier": "free", "admin_email": "ada@example.com",
               "admin_password": "Corr3ct-horse-battery"})
        .to_string(),
    ] {
        let problem = assert_problem(&harness.register_raw(body).await, 409);
        assert!(problem.detail.contains("slug"), "{}", problem.detail);
    }
    assert_eq!(harness.state(), before, "no side effects, no users call");
}

#[tokio::test]
async fn a_retry_with_its_key_after_part_way_failures_completes_exactly_once() {
    let harness = Harness::new();
    let body = registration("Acme", "acme", "ada@example.com");
    let key = IdempotencyKey::generate();

    // 1. The users service fails: 503, the claim stays pending, no record.
    harness.api.users().fail_next(1);
    let problem = assert_problem(&harness.register_keyed(body.clone(), &key).await, 503);
    assert!(problem.detail.contains("Idempotency-Key"), "{}", problem.detail);
    let claims = harness.api.slugs().snapshot();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].state, ClaimState::Pending);
    assert!(harness.api.tenants().snapshot().is_empty(), "no record before the admin");
    assert!(harness.api.users().admins().is_empty());

    // 2. The admin is created but the record's write fails: 503, resumable.
    harness.api.tenants().fail_next_writes(1);
    assert_problem(&harness.register_keyed(body.clone(), &key).await, 503);
    assert_eq!(harness.api.users().admins().len(), 1);
    assert!(harness.api.tenants().snapshot().is_empty());
    assert_eq!(harness.api.slugs().snapshot()[0].state, ClaimState::Pending);

    // 3. The retry completes the same registration.
    let response = harness.register_keyed(body.clone(), &key).await;
    assert_eq!(response.status_code, 201, "{}", body_text(&response));
    let registered: Registered = serde_json::from_value(json_of(&response)).expect("registered");
    assert_eq!(registered.tenant.tenant_id, claims[0].tenant_id, "the claim's tenant id is reused");

    let tenants = harness.api.tenants().snapshot();
    assert_eq!(tenants.len(), 1, "exactly one tenant");
    assert_eq!(tenants[0].status, TenantStatus::Active);
    let claims = harness.api.slugs().snapshot();
    assert_eq!(claims.len(), 1, "exactly one slug claim");
    assert_eq!(claims[0].state, ClaimState::Complete);
    assert_eq!(harness.api.users().admins().len(), 1, "exactly one admin");
    assert_eq!(harness.api.users().admins()[0].user_id, registered.admin_user_id);
    assert_eq!(harness.api.users().calls(), 3, "one failed call, then two idempotent ones");
}

#[tokio::test]
async fn an_unfinished_registration_cannot_be_taken_over_with_its_fields() {
    let harness = Harness::new();
    let body = registration("Acme", "acme", "ada@example.com");
    let owner = IdempotencyKey::generate();
    harness.api.users().fail_next(1);
    assert_problem(&harness.register_keyed(body.clone(), &owner).await, 503);
    let before = harness.state();

    // Same fields, own password, no key or another key: refused, nothing revealed.
    let mut attacker: Value = serde_json::from_str(&body).expect("json");
    attacker["admin_password"] = json!("Attack3r-password");
    let no_key = harness.call(Req::to("POST /tenants").body(attacker.to_string())).await;
    let problem = assert_problem(&no_key, 400);
    assert!(problem.detail.contains("Idempotency-Key"), "{}", problem.detail);
    let response = harness.register_raw(attacker.to_string()).await;
    assert_problem(&response, 409);
    let tenant_id = before.claims[0].tenant_id.to_string();
    assert!(!body_text(&response).contains(&tenant_id), "{}", body_text(&response));
    assert_eq!(harness.state(), before, "the attacker changed nothing and called nobody");

    // The owner's retry completes it.
    let response = harness.register_keyed(body, &owner).await;
    assert_eq!(response.status_code, 201, "{}", body_text(&response));
    assert_eq!(harness.api.users().admins().len(), 1);
}

#[tokio::test]
async fn a_repeat_with_the_key_answers_the_same_and_anything_else_learns_nothing() {
    let harness = Harness::new();
    let key = IdempotencyKey::generate();
    let body = registration("Acme", "acme", "ada@example.com");
    let first: Registered =
        serde_json::from_value(json_of(&harness.register_keyed(body.clone(), &key).await)).expect("registered");
    let calls = harness.api.users().calls();
    let before = harness.state();

    // The key and the same input (the password takes no part).
    let mut repeat: Value = serde_json::from_str(&body).expect("json");
    repeat["admin_password"] = json!("A-different-passw0rd");
    let response = harness.register_keyed(repeat.to_string(), &key).await;
    assert_eq!(response.status_code, 200, "{}", body_text(&response));
    let again: Registered = serde_json::from_value(json_of(&response)).expect("registered");
    assert_eq!(again, first);
    assert_eq!(harness.api.users().calls(), calls, "the users service is not asked again");
    assert_eq!(harness.state(), before);

    // The same input with another key, or the key with other input: 409,
    // with nothing of the tenant in it.
    for response in [
        harness.register_raw(body.clone()).await,
        harness.register_keyed(registration("Acme", "acme", "bob@example.com"), &key).await,
    ] {
        assert_problem(&response, 409);
        let text = body_text(&response);
        assert!(!text.contains(&first.tenant.tenant_id.to_string()), "{text}");
        assert!(!text.contains(&first.admin_user_id.to_string()), "{text}");
    }
    assert_eq!(harness.state(), before);
}

#[tokio::test]
async fn a_weak_password_or_a_bad_key_is_refused_before_any_write() {
    let harness = Harness::new();
    let mut weak: Value = serde_json::from_str(&registration("Acme", "acme", "ada@example.com")).expect("json");
    weak["admin_password"] = json!("lowercase-only-password");
    let problem = assert_problem(&harness.register_raw(weak.to_string()).await, 400);
    let rule = PasswordPolicy::default().check("lowercase-only-password").expect_err("refused");
    assert_eq!(problem.detail, rule.to_string());
    for key in ["short", &"x".repeat(129), "has spaces in it but is long enough to pass"] {
        let response = harness
            .call(
                Req::to("POST /tenants")
                    .body(registration("Acme", "acme", "ada@example.com"))
                    .header("idempotency-key", key.to_owned()),
            )
            .await;
        assert_problem(&response, 400);
    }
    let nothing = State { tenants: vec![], claims: vec![], users_calls: 0 };
    assert_eq!(harness.state(), nothing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_of_one_slug_make_exactly_one_tenant() {
    let harness = Harness::new();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let api = Arc::clone(&harness.api);
            tokio::spawn(async move {
                // The same fields each time, each requester with its own key.
                api.handle(
                    Req::to("POST /tenants")
                        .body(registration("Tenant", "contested", "user@example.com"))
                        .header("idempotency-key", IdempotencyKey::generate().as_str().to_owned())
                        .event(),
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
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 15, "{statuses:?}");
    assert_eq!(harness.api.tenants().snapshot().len(), 1);
    assert_eq!(harness.api.slugs().snapshot().len(), 1);
    assert_eq!(harness.api.users().admins().len(), 1);

    // One request sent many times at once (one key): still one of everything.
    let key = IdempotencyKey::generate();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let api = Arc::clone(&harness.api);
            let key = key.as_str().to_owned();
            tokio::spawn(async move {
                api.handle(
                    Req::to("POST /tenants")
                        .body(registration("Twin", "twin", "twin@example.com"))
                        .header("idempotency-key", key)
                        .event(),
                )
                .await
                .status_code
            })
        })
        .collect();
    for task in tasks {
        let status = task.await.expect("join");
        assert!(status == 201 || status == 200, "{status}");
    }
    assert_eq!(harness.api.tenants().snapshot().len(), 2);
    assert_eq!(harness.api.slugs().snapshot().len(), 2);
    assert_eq!(harness.api.users().admins().len(), 2);
}

#[tokio::test]
async fn the_expiry_sweep_removes_unfinished_registrations_and_frees_slug_and_email() {
    let harness = Harness::new();
    // Unfinished: the record's write failed after the admin was made.
    harness.api.tenants().fail_next_writes(1);
    let stuck = registration("Stuck", "stuck", "stuck@example.com");
    assert_problem(&harness.register_raw(stuck).await, 503);
    assert_eq!(harness.api.users().admins().len(), 1);
    let done = harness.register("Done", "done", "done@example.com").await;

    // Before the expiry nothing is touched.
    let sweep = json!({"internal": {"command": "expire_registrations"}});
    let answer = harness.api.invoke(sweep.clone(), "sweep-1").await;
    assert_eq!(answer, json!({"removed": 0, "completed": 0}));
    assert_eq!(harness.api.slugs().snapshot().len(), 2);

    // Past the expiry (a day by default): the unfinished one goes.
    harness.api.slugs().backdate(Duration::from_secs(25 * 3600));
    let answer = harness.api.invoke(sweep.clone(), "sweep-2").await;
    assert_eq!(answer, json!({"removed": 1, "completed": 0}));
    let claims = harness.api.slugs().snapshot();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].tenant_id, done.tenant.tenant_id);
    assert!(harness.api.users().admins().iter().all(|a| a.email != "stuck@example.com"));
    // Slug and email are free for anyone.
    let again = harness.register("Someone else", "stuck", "stuck@example.com").await;
    assert_eq!(again.tenant.slug.as_str(), "stuck");
    // Repeating the sweep is harmless; unknown commands are refused.
    let answer = harness.api.invoke(sweep, "sweep-3").await;
    assert_eq!(answer, json!({"removed": 0, "completed": 0}));
    let answer = harness.api.invoke(json!({"internal": {"command": "drop_tables"}}), "x").await;
    assert!(answer["error"].is_string(), "{answer}");
}

/// A platform admin removes an unfinished registration before it expires;
/// a registered tenant's slug is refused, a free one changes nothing, and
/// nobody else may.
#[tokio::test]
async fn a_platform_admin_removes_an_unfinished_registration() {
    let harness = Harness::new();
    harness.api.tenants().fail_next_writes(1);
    let stuck = registration("Stuck", "stuck", "stuck@example.com");
    assert_problem(&harness.register_raw(stuck).await, 503);
    let done = harness.register("Done", "done", "done@example.com").await;
    let remove =
        |slug: &str, claims| Req::to("DELETE /admin/registrations/{slug}").param(slug.to_owned()).claims(claims);
    let before = harness.state();
    for caller in [Some(tenant_claims(&done.tenant.tenant_id, "admin")), None] {
        let status = if caller.is_some() { 403 } else { 401 };
        assert_problem(&harness.call(remove("stuck", caller)).await, status);
    }
    assert_eq!(harness.state(), before, "refused callers change nothing");

    let removed = harness.call(remove("stuck", Some(platform_admin_claims()))).await;
    assert_eq!(removed.status_code, 200, "{}", body_text(&removed));
    assert_eq!(json_of(&removed), json!({"slug": "stuck", "removed": true}));
    assert!(harness.api.users().admins().iter().all(|a| a.email != "stuck@example.com"));
    assert_eq!(harness.api.slugs().snapshot().len(), 1);
    let again = harness.call(remove("stuck", Some(platform_admin_claims()))).await;
    assert_eq!(json_of(&again), json!({"slug": "stuck", "removed": false}), "nothing left");
    assert_problem(&harness.call(remove("done", Some(platform_admin_claims()))).await, 409);
    assert_problem(&harness.call(remove("Not A Slug", Some(platform_admin_claims()))).await, 400);
    // Slug and email are free at once.
    let anew = harness.register("Someone else", "stuck", "stuck@example.com").await;
    assert_eq!(anew.tenant.slug.as_str(), "stuck");
}

#[tokio::test]
async fn the_sweep_completes_a_registration_that_only_missed_its_last_step() {
    let harness = Harness::new();
    let key = IdempotencyKey::generate();
    let body = registration("Almost", "almost", "almost@example.com");
    let registered: Registered =
        serde_json::from_value(json_of(&harness.register_keyed(body.clone(), &key).await)).expect("registered");
    harness.api.slugs().reopen(&registered.tenant.slug);
    harness.api.slugs().backdate(Duration::from_secs(25 * 3600));
    let sweep = json!({"internal": {"command": "expire_registrations"}});
    let answer = harness.api.invoke(sweep, "sweep").await;
    assert_eq!(answer, json!({"removed": 0, "completed": 1}));
    assert_eq!(harness.api.tenants().snapshot(), vec![registered.tenant]);
    assert_eq!(harness.api.slugs().snapshot()[0].state, ClaimState::Complete);
    assert_eq!(harness.api.users().admins().len(), 1, "its admin stays");
    // Its key is spent: past the expiry, a repeat is a plain 409.
    assert_problem(&harness.register_keyed(body, &key).await, 409);
}

#[tokio::test]
async fn a_refused_admin_fails_the_registration_and_frees_the_slug() {
    let harness = Harness::new();
    harness.register("First", "first", "ada@example.com").await;
    // The email belongs to another tenant's user: the users service says 409.
    let problem = assert_problem(&harness.register_raw(registration("Second", "second", "ada@example.com")).await, 409);
    assert!(problem.detail.contains("email"), "{}", problem.detail);
    assert!(
        harness.api.slugs().snapshot().iter().all(|claim| claim.slug.as_str() != "second"),
        "the slug is free again"
    );
    // Corrected input can take the slug.
    let registered = harness.register("Second", "second", "bob@example.com").await;
    assert_eq!(registered.tenant.slug.as_str(), "second");
}

#[tokio::test]
async fn members_read_their_tenant_and_only_admins_rename_it() {
    let harness = Harness::new();
    let registered = harness.register("Acme", "acme", "ada@example.com").await;
    let tenant = registered.tenant.tenant_id;
    let member = tenant_claims(&tenant, "member");
    let admin = tenant_claims(&tenant, "admin");

    for caller in [&member, &admin] {
        let response = harness.call(Req::to("GET /tenant").claims(caller.clone())).await;
        assert_eq!(response.status_code, 200, "{}", body_text(&response));
        let got: Tenant = serde_json::from_value(json_of(&response)).expect("tenant");
        assert_eq!(got, registered.tenant);
    }

    let update = |claims: &HashMap<String, String>, name: &str, version: u64| {
        Req::to("PUT /tenant").body(json!({"name": name, "version": version}).to_string()).claims(claims.clone())
    };
    let before = harness.state();
    assert_problem(&harness.call(update(&member, "Hijacked", 1)).await, 403);
    assert_eq!(harness.state(), before);

    let response = harness.call(update(&admin, "  Acme Corp ", 1)).await;
    assert_eq!(response.status_code, 200, "{}", body_text(&response));
    let renamed: Tenant = serde_json::from_value(json_of(&response)).expect("tenant");
    assert_eq!((renamed.name.as_str(), renamed.version), ("Acme Corp", 2));
    assert_eq!((renamed.slug.clone(), renamed.tier), (registered.tenant.slug.clone(), TenantTier::Pro));

    // A stale version changes nothing.
    let before = harness.state();
    let problem = assert_problem(&harness.call(update(&admin, "Lost update", 1)).await, 409);
    assert!(problem.detail.contains("version 1"), "{}", problem.detail);
    assert_eq!(harness.state(), before);

    // Another tenant's member sees its own tenant only (here: none).
    let stranger = tenant_claims(&TenantId::generate(), "admin");
    assert_problem(&harness.call(Req::to("GET /tenant").claims(stranger.clone())).await, 404);
    assert_problem(&harness.call(update(&stranger, "Mine now", 2)).await, 404);
    assert_eq!(harness.state(), before);
}

#[tokio::test]
async fn platform_routes_are_for_platform_admins_only() {
    let harness = Harness::new();
    let registered = harness.register("Acme", "acme", "ada@example.com").await;
    let tenant = registered.tenant.tenant_id;
    let before = harness.state();
    let admin_routes: [(&'static str, Option<String>); 5] = [
        ("GET /admin/tenants", None),
        ("POST /admin/tenants/{tenant_id}/suspend", None),
        ("POST /admin/tenants/{tenant_id}/reactivate", None),
        ("PUT /admin/tenants/{tenant_id}/tier", Some(r#"{"tier":"enterprise"}"#.into())),
        ("DELETE /admin/tenants/{tenant_id}", None),
    ];
    for (route, body) in &admin_routes {
        for (who, caller, status) in [
            ("tenant admin", Some(tenant_claims(&tenant, "admin")), 403),
            ("member", Some(tenant_claims(&tenant, "member")), 403),
            (
                "other group",
                Some(claims(&[
                    ("sub", uuid::Uuid::new_v4().to_string()),
                    ("cognito:groups", "[platform-admins tenant-admin]".into()),
                ])),
                403,
            ),
            ("anonymous", None, 401),
        ] {
            let response = harness
                .call(Req {
                    route,
                    path_param: route.contains("{tenant_id}").then(|| tenant.to_string()),
                    body: body.clone(),
                    claims: caller,
                    ..Req::default()
                })
                .await;
            assert_problem(&response, status);
            assert_eq!(harness.state(), before, "{route} by {who}");
        }
    }

    // A platform admin may.
    let response = harness.call(Req::to("GET /admin/tenants").claims(platform_admin_claims())).await;
    assert_eq!(response.status_code, 200, "{}", body_text(&response));
    let list: TenantList = serde_json::from_value(json_of(&response)).expect("list");
    assert_eq!(list.items, vec![registered.tenant.clone()]);
    assert_eq!(list.next_cursor, None);
    let response = harness.admin_call("POST /admin/tenants/{tenant_id}/suspend", &tenant, None).await;
    assert_eq!(response.status_code, 200, "{}", body_text(&response));
}

#[tokio::test]
async fn suspend_reactivate_and_tier_follow_the_status_rules() {
    let harness = Harness::new();
    let tenant = harness.register("Acme", "acme", "ada@example.com").await.tenant;
    let id = tenant.tenant_id;
    let status_of = |response: &ApiGatewayV2httpResponse| {
        let tenant: Tenant = serde_json::from_value(json_of(response)).expect("tenant");
        (tenant.status, tenant.tier, tenant.version)
    };
    let suspend = "POST /admin/tenants/{tenant_id}/suspend";
    let reactivate = "POST /admin/tenants/{tenant_id}/reactivate";
    let tier = "PUT /admin/tenants/{tenant_id}/tier";

    // Only an active tenant can be suspended, only a suspended one reactivated.
    assert_problem(&harness.admin_call(reactivate, &id, None).await, 409);
    let response = harness.admin_call(suspend, &id, None).await;
    assert_eq!(status_of(&response), (TenantStatus::Suspended, TenantTier::Pro, 2));
    assert_eq!(harness.api.users().ended_sessions(), vec![id], "its members' sessions end");
    // Suspending again changes no record and ends the sessions again: a
    // retry finishes a suspension whose second step failed.
    let before = harness.state();
    let response = harness.admin_call(suspend, &id, None).await;
    assert_eq!(status_of(&response), (TenantStatus::Suspended, TenantTier::Pro, 2));
    let again = harness.state();
    assert_eq!((&again.tenants, &again.claims), (&before.tenants, &before.claims));
    assert_eq!(harness.api.users().ended_sessions(), vec![id, id]);
    let before = again;

    // A suspended tenant cannot be renamed by its admin.
    let response = harness
        .call(
            Req::to("PUT /tenant")
                .body(json!({"name": "Renamed", "version": 2}).to_string())
                .claims(tenant_claims(&id, "admin")),
        )
        .await;
    assert_problem(&response, 403);
    assert_eq!(harness.state(), before);

    let response = harness.admin_call(reactivate, &id, None).await;
    assert_eq!(status_of(&response), (TenantStatus::Active, TenantTier::Pro, 3));

    // Tier changes; the same tier again changes nothing.
    let response = harness.admin_call(tier, &id, Some(r#"{"tier":"enterprise"}"#.into())).await;
    assert_eq!(status_of(&response), (TenantStatus::Active, TenantTier::Enterprise, 4));
    let response = harness.admin_call(tier, &id, Some(r#"{"tier":"enterprise"}"#.into())).await;
    assert_eq!(status_of(&response), (TenantStatus::Active, TenantTier::Enterprise, 4));

    // Unknown tenants are 404 on every admin route.
    let before = harness.state();
    let ghost = TenantId::generate();
    for (route, body) in [(suspend, None), (reactivate, None), (tier, Some(r#"{"tier":"free"}"#.to_owned()))] {
        assert_problem(&harness.admin_call(route, &ghost, body).await, 404);
    }

    // A registration that has not finished is no tenant yet: 404, no changes.
    harness.api.users().fail_next(1);
    assert_problem(&harness.register_raw(registration("Half", "half", "half@example.com")).await, 503);
    let half = harness
        .api
        .slugs()
        .snapshot()
        .into_iter()
        .find(|claim| claim.state == ClaimState::Pending)
        .expect("a pending claim");
    let before_pending = harness.state();
    for (route, body) in [(suspend, None), (reactivate, None), (tier, Some(r#"{"tier":"free"}"#.to_owned()))] {
        assert_problem(&harness.admin_call(route, &half.tenant_id, body).await, 404);
    }
    assert_eq!(harness.state(), before_pending);
    assert_ne!(before, before_pending);
}

#[tokio::test]
async fn the_platform_list_pages_over_every_tenant() {
    let harness = Harness::new();
    let mut created = BTreeSet::new();
    for n in 0..5 {
        let registered =
            harness.register(&format!("Tenant {n}"), &format!("tenant-{n}"), &format!("u{n}@example.com")).await;
        created.insert(registered.tenant.tenant_id);
    }
    let pages: Vec<Vec<Tenant>> = every_page(2, async |query| {
        harness.call(Req::to("GET /admin/tenants").query(query).claims(platform_admin_claims())).await
    })
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    // Five items in three pages, five distinct tenants: each tenant exactly once.
    let seen: BTreeSet<TenantId> = pages.iter().flatten().map(|tenant| tenant.tenant_id).collect();
    assert_eq!(seen, created);
}

#[tokio::test]
async fn bad_input_gets_a_problem_body_and_writes_nothing() {
    let harness = Harness::new();
    let registered = harness.register("Keep", "keep", "keep@example.com").await;
    let tenant = registered.tenant.tenant_id;
    let tenant_text = tenant.to_string();
    let admin = || Some(tenant_claims(&tenant, "admin"));
    let operator = || Some(platform_admin_claims());
    let mut without_tenant = tenant_claims(&tenant, "admin");
    without_tenant.remove("tenant_id");
    let mut bad_tenant = tenant_claims(&tenant, "admin");
    bad_tenant.insert("tenant_id".into(), "../other".into());
    let mut bad_role = tenant_claims(&tenant, "admin");
    bad_role.insert("tenant_role".into(), "root".into());
    let field = |name: &str, value: Value| {
        let mut body: Value = serde_json::from_str(&registration("New", "new-one", "new@example.com")).expect("json");
        body[name] = value;
        body.to_string()
    };
    let without = |name: &str| {
        let mut body: Value = serde_json::from_str(&registration("New", "new-one", "new@example.com")).expect("json");
        body.as_object_mut().expect("object").remove(name);
        body.to_string()
    };
    let oversized = field("name", json!("x".repeat(17 * 1024)));
    let register = |body: String| Req::to("POST /tenants").body(body);
    // A registration with one field set to `value`.
    let set = |name: &str, value: Value| register(field(name, value));
    let put_tenant = |body: &str| Req::to("PUT /tenant").body(body.to_owned()).claims(admin());
    let admin_route = |route: &'static str, id: &str, body: Option<&str>, query: Option<&str>| Req {
        route,
        path_param: Some(id.to_owned()),
        body: body.map(str::to_owned),
        query: query.map(str::to_owned),
        claims: operator(),
        ..Req::default()
    };
    let list = |query: &str| Req::to("GET /admin/tenants").query(query.to_owned()).claims(operator());

    let cases: Vec<(&str, Req, i64)> = vec![
        // POST /tenants
        ("register: invalid JSON", register("{\"name\":".into()), 400),
        ("register: no body", Req::to("POST /tenants"), 400),
        ("register: unknown field", set("tenant_id", json!(tenant_text)), 400),
        ("register: missing slug", register(without("slug")), 400),
        ("register: missing password", register(without("admin_password")), 400),
        ("register: wrong type", set("name", json!(["a"])), 400),
        ("register: blank name", set("name", json!("   ")), 400),
        ("register: long name", set("name", json!("n".repeat(101))), 400),
        ("register: two-line name", set("name", json!("a\nb")), 400),
        ("register: short slug", set("slug", json!("ab")), 400),
        ("register: long slug", set("slug", json!("a".repeat(41))), 400),
        ("register: uppercase slug", set("slug", json!("Acme")), 400),
        ("register: slug with a leading dash", set("slug", json!("-acme")), 400),
        ("register: slug with a trailing dash", set("slug", json!("acme-")), 400),
        ("register: slug with a dot", set("slug", json!("ac.me")), 400),
        ("register: unknown tier", set("tier", json!("gold")), 400),
        ("register: bad email", set("admin_email", json!("not-an-email")), 400),
        ("register: short password", set("admin_password", json!("short")), 400),
        ("register: long password", set("admin_password", json!("p".repeat(257))), 400),
        ("register: oversized request", register(oversized), 413),
        (
            "register: not JSON",
            Req::to("POST /tenants").body(registration("New", "new-one", "new@example.com")).content_type("text/plain"),
            415,
        ),
        (
            "register: unknown query parameter",
            Req::to("POST /tenants").body(registration("New", "new-one", "new@example.com")).query("debug=1"),
            400,
        ),
        // GET /tenant
        ("get: no token", Req::to("GET /tenant"), 401),
        ("get: no tenant claim", Req::to("GET /tenant").claims(without_tenant.clone()), 403),
        ("get: malformed tenant claim", Req::to("GET /tenant").claims(bad_tenant.clone()), 403),
        ("get: a body", Req::to("GET /tenant").body("{}").claims(admin()), 400),
        ("get: unknown query parameter", Req::to("GET /tenant").query("tenant_id=x").claims(admin()), 400),
        // PUT /tenant
        ("put: invalid JSON", put_tenant("{"), 400),
        ("put: slug is not changeable", put_tenant(r#"{"name":"a","version":2,"slug":"x"}"#), 400),
        ("put: tier is not changeable", put_tenant(r#"{"name":"a","version":2,"tier":"enterprise"}"#), 400),
        ("put: missing version", put_tenant(r#"{"name":"a"}"#), 400),
        ("put: negative version", put_tenant(r#"{"name":"a","version":-1}"#), 400),
        ("put: blank name", put_tenant(r#"{"name":" ","version":2}"#), 400),
        (
            "put: bad role claim",
            Req::to("PUT /tenant").body(r#"{"name":"a","version":2}"#).claims(bad_role.clone()),
            403,
        ),
        (
            "put: not JSON",
            Req::to("PUT /tenant").body(r#"{"name":"a","version":2}"#).content_type("text/plain").claims(admin()),
            415,
        ),
        ("put: no token", Req::to("PUT /tenant").body("{}"), 401),
        // GET /admin/tenants
        ("list: limit 0", list("limit=0"), 400),
        ("list: limit 101", list("limit=101"), 400),
        ("list: limit not a number", list("limit=ten"), 400),
        ("list: limit twice", list("limit=1&limit=2"), 400),
        ("list: foreign cursor", list(&format!("cursor={tenant_text}")), 400),
        ("list: unknown query parameter", list("status=active"), 400),
        ("list: a body", Req::to("GET /admin/tenants").body("{}").claims(operator()), 400),
        // POST /admin/tenants/{tenant_id}/suspend and /reactivate
        ("suspend: bad tenant id", admin_route("POST /admin/tenants/{tenant_id}/suspend", "acme", None, None), 400),
        (
            "suspend: uppercase tenant id",
            admin_route("POST /admin/tenants/{tenant_id}/suspend", &tenant_text.to_uppercase(), None, None),
            400,
        ),
        (
            "suspend: a body",
            admin_route("POST /admin/tenants/{tenant_id}/suspend", &tenant_text, Some("{}"), None),
            400,
        ),
        (
            "suspend: unknown query parameter",
            admin_route("POST /admin/tenants/{tenant_id}/suspend", &tenant_text, None, Some("force=1")),
            400,
        ),
        (
            "reactivate: bad tenant id",
            admin_route("POST /admin/tenants/{tenant_id}/reactivate", "../x", None, None),
            400,
        ),
        (
            "reactivate: a body",
            admin_route("POST /admin/tenants/{tenant_id}/reactivate", &tenant_text, Some("{}"), None),
            400,
        ),
        // PUT /admin/tenants/{tenant_id}/tier
        (
            "tier: unknown tier",
            admin_route("PUT /admin/tenants/{tenant_id}/tier", &tenant_text, Some(r#"{"tier":"gold"}"#), None),
            400,
        ),
        (
            "tier: unknown field",
            admin_route(
                "PUT /admin/tenants/{tenant_id}/tier",
                &tenant_text,
                Some(r#"{"tier":"free","status":"active"}"#),
                None,
            ),
            400,
        ),
        ("tier: no body", admin_route("PUT /admin/tenants/{tenant_id}/tier", &tenant_text, None, None), 400),
        (
            "tier: bad tenant id",
            admin_route("PUT /admin/tenants/{tenant_id}/tier", "x", Some(r#"{"tier":"free"}"#), None),
            400,
        ),
        ("close: a body", Req::to("DELETE /tenant").claims(admin()).body("{}"), 400),
        ("close: a query parameter", Req::to("DELETE /tenant").claims(admin()).query("now=1"), 400),
        ("offboard: bad tenant id", admin_route("DELETE /admin/tenants/{tenant_id}", "x", None, None), 400),
        ("offboard: a body", admin_route("DELETE /admin/tenants/{tenant_id}", &tenant_text, Some("{}"), None), 400),
        (
            "offboard: no such tenant",
            admin_route("DELETE /admin/tenants/{tenant_id}", &TenantId::generate().to_string(), None, None),
            404,
        ),
        // Unknown route
        ("unknown route", Req::to("PATCH /tenant").claims(admin()), 404),
    ];

    let before = harness.state();
    for (name, req, status) in cases {
        let response = harness.call(req).await;
        assert_eq!(response.status_code, status, "{name}: {}", body_text(&response));
        assert_problem(&response, status);
        assert_eq!(harness.state(), before, "{name} changed something");
    }
}

#[tokio::test]
async fn an_outage_is_a_503_problem_and_changes_nothing() {
    let harness = Harness::new();
    let tenant = harness.register("Acme", "acme", "ada@example.com").await.tenant;
    let id = tenant.tenant_id;
    let before = harness.state();
    let new_key = IdempotencyKey::generate();
    let requests = || {
        vec![
            Req::to("POST /tenants")
                .body(registration("New", "new-one", "new@example.com"))
                .header("idempotency-key", new_key.as_str().to_owned()),
            Req::to("POST /tenants")
                .body(registration("Acme", "acme", "ada@example.com"))
                .header("idempotency-key", IdempotencyKey::generate().as_str().to_owned()),
            Req::to("GET /tenant").claims(tenant_claims(&id, "member")),
            Req::to("PUT /tenant")
                .body(json!({"name": "Renamed", "version": 1}).to_string())
                .claims(tenant_claims(&id, "admin")),
            Req::to("GET /admin/tenants").claims(platform_admin_claims()),
            Req::to("POST /admin/tenants/{tenant_id}/suspend").param(id.to_string()).claims(platform_admin_claims()),
            Req::to("PUT /admin/tenants/{tenant_id}/tier")
                .param(id.to_string())
                .body(r#"{"tier":"free"}"#)
                .claims(platform_admin_claims()),
        ]
    };

    // Everything down.
    harness.api.tenants().set_unavailable(true);
    harness.api.slugs().set_unavailable(true);
    for req in requests() {
        let route = req.route;
        let problem = assert_problem(&harness.call(req).await, 503);
        assert!(!problem.detail.to_lowercase().contains("dynamo"), "{route}: {}", problem.detail);
    }
    harness.api.tenants().set_unavailable(false);
    harness.api.slugs().set_unavailable(false);
    assert_eq!(harness.state(), before);

    // Only the slug store down: registration writes nothing at all.
    harness.api.slugs().set_unavailable(true);
    assert_problem(&harness.call(requests().remove(0)).await, 503);
    harness.api.slugs().set_unavailable(false);
    assert_eq!(harness.state(), before);

    // Only the tenant store down: the admin exists, the slug claim is
    // pending, and the same request (same key) completes once it is back.
    harness.api.tenants().set_unavailable(true);
    assert_problem(&harness.call(requests().remove(0)).await, 503);
    harness.api.tenants().set_unavailable(false);
    assert_eq!(harness.state().tenants, before.tenants);
    assert_eq!(harness.state().users_calls, before.users_calls + 1);
    let response = harness.call(requests().remove(0)).await;
    assert_eq!(response.status_code, 201, "{}", body_text(&response));
}

/// A suspension whose second step (ending the members' sessions) failed is
/// a 503 that says so; the tenant is suspended, and a retry finishes it.
#[tokio::test]
async fn a_suspension_ends_the_sessions_or_says_to_retry() {
    let harness = Harness::new();
    let id = harness.register("Acme", "acme", "ada@example.com").await.tenant.tenant_id;
    let suspend = "POST /admin/tenants/{tenant_id}/suspend";
    harness.api.users().fail_next(1);
    let problem = assert_problem(&harness.admin_call(suspend, &id, None).await, 503);
    assert!(problem.detail.contains("repeat"), "{}", problem.detail);
    let stored = harness.api.tenants().snapshot();
    assert_eq!(stored[0].status, TenantStatus::Suspended, "the suspension itself holds");
    assert!(harness.api.users().ended_sessions().is_empty());
    let response = harness.admin_call(suspend, &id, None).await;
    assert_eq!(response.status_code, 200, "{}", body_text(&response));
    assert_eq!(harness.api.users().ended_sessions(), vec![id]);
}

/// What a caller may do comes from the records as they are now, not from
/// the token: a suspended tenant's member, a demoted admin and a platform
/// admin who left the group are refused with the tokens they hold.
#[tokio::test]
async fn the_records_decide_and_a_stale_token_counts_for_nothing() {
    let harness = Harness::new();
    let tenant = harness.register("Acme", "acme", "ada@example.com").await.tenant;
    let id = tenant.tenant_id;
    let admin = tenant_claims(&id, "admin");
    let get = || Req::to("GET /tenant").claims(admin.clone());
    let rename =
        |name: &str| Req::to("PUT /tenant").body(json!({"name": name, "version": 1}).to_string()).claims(admin.clone());
    assert_eq!(harness.call(get()).await.status_code, 200);

    // Demoted (the membership says member): the admin token renames nothing.
    let user = UserId::parse(&admin["sub"]).expect("sub");
    let member = Membership { role: TenantRole::Member, status: MembershipStatus::Active };
    harness.records().set_membership(id, user, member);
    let before = harness.state();
    assert_eq!(assert_problem(&harness.call(rename("Renamed")).await, 403).kind, "urn:problem:forbidden");
    assert_eq!(harness.state(), before);
    assert_eq!(harness.call(get()).await.status_code, 200, "a member may still read");

    // Suspended: every tenant route refuses the same token.
    let ops = platform_admin_claims();
    let suspend = Req::to("POST /admin/tenants/{tenant_id}/suspend").param(id.to_string()).claims(ops.clone());
    assert_eq!(harness.call(suspend).await.status_code, 200);
    for req in [get(), rename("Again")] {
        let route = req.route;
        let problem = assert_problem(&harness.call(req).await, 403);
        assert_eq!(problem.kind, "urn:problem:tenant-inactive", "{route}");
    }

    // A platform admin who left the group: its token no longer acts.
    harness.api.operators().revoke(UserId::parse(&ops["sub"]).expect("sub"));
    let before = harness.state();
    for route in
        ["GET /admin/tenants", "POST /admin/tenants/{tenant_id}/reactivate", "POST /admin/tenants/{tenant_id}/suspend"]
    {
        let req = Req {
            route,
            path_param: route.contains("{tenant_id}").then(|| id.to_string()),
            claims: Some(ops.clone()),
            ..Req::default()
        };
        assert_eq!(assert_problem(&harness.call(req).await, 403).kind, "urn:problem:forbidden", "{route}");
    }
    assert_eq!(harness.state(), before);
}

/// `PUT /tenant` renaming the caller's tenant, naming `version`.
fn rename(caller: &SignedIn, version: u64) -> Req {
    Req::to("PUT /tenant").body(json!({"name": "Acme Renamed", "version": version}).to_string()).claims(caller.claims())
}

#[tokio::test]
async fn every_change_lands_in_its_tenants_trail_with_actor_target_and_outcome() {
    let harness = Harness::new();
    let registered = harness.register("Acme", "acme", "ada@example.com").await;
    let tenant = registered.tenant.tenant_id;
    let admin = SignedIn::new(tenant, UserId::generate(), "admin", "pro");
    let member = SignedIn::new(tenant, UserId::generate(), "member", "pro");
    assert_eq!(harness.call(rename(&admin, 1)).await.status_code, 200);
    assert_eq!(harness.call(rename(&member, 2)).await.status_code, 403);
    // Reads are not changes.
    assert_eq!(harness.call(Req::to("GET /tenant").claims(admin.claims())).await.status_code, 200);
    let operator_claims = platform_admin_claims();
    let operator = UserId::parse(&operator_claims["sub"]).expect("the operator's id");
    for route in ["POST /admin/tenants/{tenant_id}/suspend", "POST /admin/tenants/{tenant_id}/reactivate"] {
        let request = Req::to(route).param(tenant.to_string()).claims(operator_claims.clone());
        assert_eq!(harness.call(request).await.status_code, 200);
    }
    // Another tenant's trail is its own.
    let other = harness.register("Globex", "globex", "gil@example.com").await.tenant.tenant_id;

    let entries = harness.api.audit().store().entries(&tenant);
    let text = tenant.to_string();
    let summary: Vec<_> =
        entries.iter().map(|e| (e.actor.role, e.action.as_str(), e.target.as_deref(), e.outcome)).collect();
    assert_eq!(
        summary,
        [
            (ActorRole::Admin, "POST /tenants", None, 201),
            (ActorRole::Admin, "PUT /tenant", None, 200),
            (ActorRole::Member, "PUT /tenant", None, 403),
            (ActorRole::PlatformAdmin, "POST /admin/tenants/{tenant_id}/suspend", Some(text.as_str()), 200),
            (ActorRole::PlatformAdmin, "POST /admin/tenants/{tenant_id}/reactivate", Some(text.as_str()), 200),
        ]
    );
    let actors: Vec<UserId> = entries.iter().map(|e| e.actor.user_id).collect();
    assert_eq!(actors, [registered.admin_user_id, admin.user_id, member.user_id, operator, operator]);
    assert!(entries.iter().all(|e| e.request_id == tenancy::testing::REQUEST_ID));
    // Kept for the tier's retention (pro: a year).
    let kept = harness.api.audit().store().expiries(&tenant)[0] - entries[0].at;
    assert_eq!(kept, time::Duration::days(365));
    assert_eq!(harness.api.audit().store().entries(&other).len(), 1, "only Globex's registration");
}

#[tokio::test]
async fn tenant_admins_read_their_own_trail_newest_first_and_filtered() {
    let harness = Harness::new();
    let tenant = harness.register("Acme", "acme", "ada@example.com").await.tenant.tenant_id;
    let admin = SignedIn::new(tenant, UserId::generate(), "admin", "pro");
    for version in 1..=3 {
        assert_eq!(harness.call(rename(&admin, version)).await.status_code, 200);
    }
    let read = |query: String| harness.call(Req::to("GET /audit").query(query).claims(admin.claims()));
    let pages: Vec<Vec<AuditEntry>> = every_page(2, async |query| read(query).await).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2]);
    let actions: Vec<&str> = pages.iter().flatten().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["PUT /tenant", "PUT /tenant", "PUT /tenant", "POST /tenants"], "newest first");

    let list = |response: ApiGatewayV2httpResponse| -> AuditList {
        assert_eq!(response.status_code, 200, "{}", body_text(&response));
        serde_json::from_value(json_of(&response)).expect("list")
    };
    let mine = list(read(format!("actor={}", admin.user_id)).await);
    assert_eq!(mine.items.len(), 3);
    assert!(mine.items.iter().all(|e| e.actor.user_id == admin.user_id));
    let registrations = list(read("action=POST%20%2Ftenants".into()).await);
    assert_eq!(registrations.items.len(), 1);
    assert_eq!(registrations.items[0].action, "POST /tenants");
    let all = pages.concat();
    let (newest, oldest) = (all[0].at, all[3].at);
    let window = |from: OffsetDateTime, to: OffsetDateTime| {
        let rfc = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).expect("time");
        format!("from={}&to={}", rfc(from).replace('+', "%2B"), rfc(to).replace('+', "%2B"))
    };
    assert_eq!(list(read(window(oldest, oldest)).await).items, [all[3].clone()]);
    assert_eq!(list(read(window(all[2].at, newest)).await).items, all[..3]);

    for bad in ["actor=nobody", "action=DROP%20TABLE", "from=yesterday", "cursor=abc", "limit=0", "who=me"] {
        assert_problem(&read(bad.into()).await, 400);
    }
    assert_problem(&read(window(newest, oldest)).await, 400);
}

#[tokio::test]
async fn members_and_other_tenants_cannot_read_a_trail_and_no_route_changes_one() {
    let harness = Harness::new();
    let acme = harness.register("Acme", "acme", "ada@example.com").await.tenant.tenant_id;
    let globex = harness.register("Globex", "globex", "gil@example.com").await.tenant.tenant_id;
    let member = SignedIn::new(acme, UserId::generate(), "member", "pro");
    let problem = assert_problem(&harness.call(Req::to("GET /audit").claims(member.claims())).await, 403);
    assert!(problem.detail.contains("admin"), "{}", problem.detail);
    // Globex's admin reads Globex's trail: the tenant is the token's, never a parameter.
    let globex_admin = SignedIn::new(globex, UserId::generate(), "admin", "pro");
    let response = harness.call(Req::to("GET /audit").claims(globex_admin.claims())).await;
    let page: AuditList = serde_json::from_value(json_of(&response)).expect("list");
    assert!(!page.items.is_empty());
    assert!(page.items.iter().all(|e| e.actor.user_id != harness.api.audit().store().entries(&acme)[0].actor.user_id));
    assert_problem(
        &harness.call(Req::to("GET /audit").query(format!("tenant_id={acme}")).claims(globex_admin.claims())).await,
        400,
    );
    // The API has no route that writes to a trail: only GET /audit names it.
    let audit_routes: Vec<&str> = ROUTES.iter().copied().filter(|route| route.contains("audit")).collect();
    assert_eq!(audit_routes, ["GET /audit"]);
}

#[tokio::test]
async fn each_lifecycle_change_publishes_one_event_in_order_and_a_bus_outage_loses_none() {
    let harness = Harness::new();
    let registered = harness.register("Acme", "acme", "ada@example.com").await;
    let tenant = registered.tenant.tenant_id;
    let admin = SignedIn::new(tenant, registered.admin_user_id, "admin", "pro");
    assert_eq!(harness.call(rename(&admin, 1)).await.status_code, 200, "a rename is no lifecycle change");
    let operator_claims = platform_admin_claims();
    let operator = UserId::parse(&operator_claims["sub"]).expect("the operator's id");
    let admin_route = |route| Req::to(route).param(tenant.to_string()).claims(operator_claims.clone());
    let tier = |tier: &str| admin_route("PUT /admin/tenants/{tenant_id}/tier").body(json!({"tier": tier}).to_string());
    for request in [
        admin_route("POST /admin/tenants/{tenant_id}/suspend"),
        admin_route("POST /admin/tenants/{tenant_id}/suspend"), // a repeat changes nothing
        admin_route("POST /admin/tenants/{tenant_id}/reactivate"),
        tier("enterprise"),
        tier("enterprise"), // the same tier: no change
    ] {
        assert_eq!(harness.call(request).await.status_code, 200);
    }

    let published = harness.api.events().bus().published();
    let changes: Vec<Change> = published.iter().map(|e| e.change).collect();
    assert_eq!(
        changes,
        [Change::Registered, Change::Activated, Change::Suspended, Change::Reactivated, Change::TierChanged]
    );
    let facts: Vec<_> = published.iter().map(|e| e.tenant.map(|t| (t.status, t.tier))).collect();
    use tenancy::TenantStatus::{Active, Suspended};
    assert_eq!(
        facts,
        [
            Some((Active, TenantTier::Pro)),
            Some((Active, TenantTier::Pro)),
            Some((Suspended, TenantTier::Pro)),
            Some((Active, TenantTier::Pro)),
            Some((Active, TenantTier::Enterprise)),
        ]
    );
    assert!(
        published
            .iter()
            .all(|e| e.tenant_id == tenant && e.request_id.as_deref() == Some(tenancy::testing::REQUEST_ID))
    );
    let actors: Vec<_> = published.iter().map(|e| e.actor.as_ref().map(|a| (a.user_id, a.role))).collect();
    assert_eq!(actors[0], Some((registered.admin_user_id, ActorRole::Admin)));
    assert!(actors[2..].iter().all(|a| *a == Some((operator, ActorRole::PlatformAdmin))));
    assert!(harness.api.tenants().outbox().is_empty());

    // The bus is down: the change stands, its event waits, the sweep sends it.
    harness.api.events().bus().set_down(true);
    assert_eq!(harness.call(admin_route("POST /admin/tenants/{tenant_id}/suspend")).await.status_code, 200);
    assert_eq!(harness.api.tenants().outbox().len(), 1);
    harness.api.events().bus().set_down(false);
    let swept = harness.api.invoke(json!({"internal": {"command": "publish_events"}}), "sweep").await;
    assert_eq!(swept["published"], 1, "{swept}");
    assert!(harness.api.tenants().outbox().is_empty());
    assert_eq!(harness.api.events().bus().published().last().map(|e| e.change), Some(Change::Suspended));
}

/// Records the fake notes and users services hold for `tenant`.
fn hold_records(harness: &Harness, tenant: TenantId, notes: u64, users: u64) -> (ItemCounts, ItemCounts) {
    let notes = ItemCounts::from([("notes".into(), notes), ("counters".into(), 1)]);
    let users = ItemCounts::from([("users".into(), users), ("directory_users".into(), users), ("counters".into(), 2)]);
    harness.api.notes().hold(tenant, notes.clone());
    harness.api.users().data.hold(tenant, users.clone());
    (notes, users)
}

const OFFBOARD: &str = "DELETE /admin/tenants/{tenant_id}";

#[tokio::test]
async fn a_platform_admin_offboards_a_tenant_and_its_receipt_counts_what_was_there() {
    let harness = Harness::new();
    let acme = harness.register("Acme", "acme", "ada@example.com").await;
    let globex = harness.register("Globex", "globex", "gus@example.com").await;
    let (id, other) = (acme.tenant.tenant_id, globex.tenant.tenant_id);
    let admin = SignedIn::new(id, acme.admin_user_id, "admin", "pro");
    assert_eq!(harness.call(rename(&admin, 1)).await.status_code, 200);
    let (notes, users) = hold_records(&harness, id, 3, 2);
    let (other_notes, other_users) = hold_records(&harness, other, 5, 1);
    let trail_before = harness.api.audit().store().entries(&id).len();
    assert_eq!(trail_before, 2, "the registration and the rename");
    let others_before =
        (harness.api.audit().store().entries(&other), harness.api.tenants().get(&other).await.expect("read"));

    let response = harness.admin_call(OFFBOARD, &id, None).await;
    assert_eq!(response.status_code, 200, "{}", body_text(&response));
    let receipt: ErasureReceipt = serde_json::from_value(json_of(&response)).expect("receipt");
    assert_eq!((receipt.tenant_id, receipt.status), (id, TenantStatus::Offboarded));
    assert!(receipt.started_at.is_some_and(|started| receipt.finished_at.is_some_and(|done| done >= started)));
    let own = ItemCounts::from([("audit_entries".into(), 2), ("slug_claims".into(), 1), ("tenant_records".into(), 1)]);
    assert_eq!(
        receipt.removed,
        [("notes".to_owned(), notes), ("tenants".to_owned(), own), ("users".to_owned(), users)].into_iter().collect()
    );

    // Nothing of it is left; the other tenant is as it was.
    assert_eq!(harness.api.tenants().get(&id).await.expect("read"), None);
    assert_eq!(harness.api.tenants().receipt(&id).await.expect("read"), None);
    assert!(harness.api.slugs().snapshot().iter().all(|claim| claim.tenant_id != id));
    assert!(harness.api.audit().store().entries(&id).is_empty());
    assert!(harness.api.tenants().outbox().is_empty());
    assert_eq!((harness.api.notes().held(&id), harness.api.users().data.held(&id)), Default::default());
    assert_eq!((harness.api.notes().held(&other), harness.api.users().data.held(&other)), (other_notes, other_users));
    assert_eq!(
        (harness.api.audit().store().entries(&other), harness.api.tenants().get(&other).await.expect("read")),
        others_before
    );
    assert!(harness.api.slugs().snapshot().iter().any(|claim| claim.tenant_id == other));
    assert_eq!(harness.api.users().ended_sessions(), vec![id], "sessions end first");

    // Two events: the request, then the erasure with its receipt.
    let published = harness.api.events().bus().published();
    let ends: Vec<_> = published.iter().filter(|e| e.tenant_id == id).skip(2).collect();
    assert_eq!(ends.iter().map(|e| e.change).collect::<Vec<_>>(), [Change::OffboardingRequested, Change::Offboarded]);
    assert_eq!(ends[1].receipt.as_ref(), Some(&receipt));
    assert_eq!(ends[1].tenant.map(|t| t.status), Some(TenantStatus::Offboarded));

    // Gone: a repeat finds no tenant.
    assert_problem(&harness.admin_call(OFFBOARD, &id, None).await, 404);
}

#[tokio::test]
async fn an_interrupted_offboarding_resumes_to_the_same_end_and_the_same_receipt() {
    // No time budget: every request does one pass of one service, then answers.
    let offboarding = OffboardingSettings { budget: Duration::ZERO, ..unsettled() };
    let harness = Harness::with(Settings { offboarding, ..Settings::default() });
    let id = harness.register("Acme", "acme", "ada@example.com").await.tenant.tenant_id;
    let (notes, users) = hold_records(&harness, id, 4, 3);

    harness.api.users().data.fail_next(1);
    assert_problem(&harness.admin_call(OFFBOARD, &id, None).await, 503);
    let stored = harness.api.tenants().get(&id).await.expect("read").expect("still there");
    assert_eq!(stored.status, TenantStatus::Offboarding, "refused from the start");
    assert_eq!(harness.api.notes().held(&id), notes, "nothing erased before the counts are taken");

    let mut receipts = Vec::new();
    for _ in 0..10 {
        let response = harness.admin_call(OFFBOARD, &id, None).await;
        let receipt: ErasureReceipt = serde_json::from_value(json_of(&response)).expect("receipt");
        receipts.push(receipt.clone());
        if response.status_code == 200 {
            break;
        }
        assert_eq!((response.status_code, receipt.status), (202, TenantStatus::Offboarding));
    }
    let finished = receipts.last().expect("answers");
    assert!(receipts.len() > 2, "several passes: {}", receipts.len());
    assert_eq!(finished.status, TenantStatus::Offboarded);
    assert_eq!((&finished.removed["notes"], &finished.removed["users"]), (&notes, &users));
    assert!(receipts.iter().all(|receipt| receipt.removed == finished.removed), "counted once");
    assert_eq!(harness.api.tenants().get(&id).await.expect("read"), None);
    assert_eq!((harness.api.notes().held(&id), harness.api.users().data.held(&id)), Default::default());
    let offboarded = harness.api.events().bus().published().into_iter().filter(|e| e.change == Change::Offboarded);
    assert_eq!(offboarded.count(), 1);
}

#[tokio::test]
async fn a_tenant_admin_closes_its_tenant_after_the_grace_period_unless_taken_back() {
    let harness = Harness::new();
    let acme = harness.register("Acme", "acme", "ada@example.com").await;
    let id = acme.tenant.tenant_id;
    let admin = SignedIn::new(id, acme.admin_user_id, "admin", "pro");
    let member = SignedIn::new(id, UserId::generate(), "member", "pro");
    hold_records(&harness, id, 2, 2);
    let close = |caller: &SignedIn| Req::to("DELETE /tenant").claims(caller.claims());
    assert_problem(&harness.call(close(&member)).await, 403);

    let response = harness.call(close(&admin)).await;
    assert_eq!(response.status_code, 202, "{}", body_text(&response));
    let closing: Tenant = serde_json::from_value(json_of(&response)).expect("tenant");
    assert_eq!(closing.status, TenantStatus::Offboarding);
    let offboarding = closing.offboarding.expect("offboarding");
    assert_eq!(offboarding.erase_after - offboarding.requested_at, time::Duration::days(7));
    assert_eq!(offboarding.erasure_started_at, None);
    // Refused from now on, even with the token the admin holds.
    let refused = assert_problem(&harness.call(Req::to("GET /tenant").claims(admin.claims())).await, 403);
    assert_eq!(refused.kind, "urn:problem:tenant-inactive");
    assert_problem(&harness.call(close(&admin)).await, 403);
    assert_eq!(harness.api.users().ended_sessions(), vec![id]);

    // Not due: the sweep leaves it; a platform admin takes the closure back.
    let swept = harness.api.invoke(json!({"internal": {"command": "finish_offboarding"}}), "sweep").await;
    assert_eq!(swept["offboarded"], 0, "{swept}");
    let reactivated = harness.admin_call("POST /admin/tenants/{tenant_id}/reactivate", &id, None).await;
    assert_eq!(reactivated.status_code, 200, "{}", body_text(&reactivated));
    let back: Tenant = serde_json::from_value(json_of(&reactivated)).expect("tenant");
    assert_eq!((back.status, back.offboarding), (TenantStatus::Active, None));

    // Closed again, and due: the sweep erases it.
    assert_eq!(harness.call(close(&admin)).await.status_code, 202);
    let offboard_now = harness.admin_call(OFFBOARD, &id, None).await;
    assert_eq!(offboard_now.status_code, 200, "a platform admin ends the grace period: {}", body_text(&offboard_now));
    let changes: Vec<Change> = harness.api.events().bus().published().iter().map(|e| e.change).collect();
    assert_eq!(
        changes[2..],
        [Change::OffboardingRequested, Change::Reactivated, Change::OffboardingRequested, Change::Offboarded]
    );
}

#[tokio::test]
async fn without_a_grace_period_the_sweep_erases_a_closed_tenant_and_finishes_stopped_erasures() {
    let offboarding = OffboardingSettings { closure_grace: Duration::ZERO, ..unsettled() };
    let harness = Harness::with(Settings { offboarding, ..Settings::default() });
    let acme = harness.register("Acme", "acme", "ada@example.com").await;
    let globex = harness.register("Globex", "globex", "gus@example.com").await;
    for (tenant, admin) in [(&acme, acme.admin_user_id), (&globex, globex.admin_user_id)] {
        let admin = SignedIn::new(tenant.tenant.tenant_id, admin, "admin", "pro");
        let response = harness.call(Req::to("DELETE /tenant").claims(admin.claims())).await;
        assert_eq!(response.status_code, 202, "{}", body_text(&response));
    }
    hold_records(&harness, globex.tenant.tenant_id, 2, 1);
    // The notes service fails once: the first sweep erases one tenant, the
    // next the other.
    harness.api.notes().fail_next(1);
    let swept = harness.api.invoke(json!({"internal": {"command": "finish_offboarding"}}), "sweep").await;
    assert_eq!((swept["offboarded"].as_u64(), swept["failed"].as_u64()), (Some(1), Some(1)), "{swept}");
    let swept = harness.api.invoke(json!({"internal": {"command": "finish_offboarding"}}), "sweep").await;
    assert_eq!(swept["offboarded"], 1, "{swept}");
    assert_eq!(harness.api.tenants().snapshot(), vec![]);
    assert_eq!(harness.api.notes().held(&globex.tenant.tenant_id), ItemCounts::new());
}

#[tokio::test]
async fn an_erasure_waits_for_the_settling_time() {
    // Twenty seconds: what a member admitted just before could still write.
    let harness = Harness::with(Settings::default());
    let id = harness.register("Acme", "acme", "ada@example.com").await.tenant.tenant_id;
    let (notes, _) = hold_records(&harness, id, 2, 1);
    let response = harness.admin_call(OFFBOARD, &id, None).await;
    assert_eq!(response.status_code, 202, "{}", body_text(&response));
    let receipt: ErasureReceipt = serde_json::from_value(json_of(&response)).expect("receipt");
    assert_eq!((receipt.status, receipt.started_at, receipt.removed.len()), (TenantStatus::Offboarding, None, 0));
    assert_eq!(harness.api.notes().held(&id), notes, "nothing erased yet");
    let stored = harness.api.tenants().get(&id).await.expect("read").expect("tenant");
    assert_eq!(stored.status, TenantStatus::Offboarding, "refused from the start");
    assert_eq!(harness.api.tenants().receipt(&id).await.expect("read"), None, "nothing counted yet");
}

#[tokio::test]
async fn every_waiting_event_goes_out_before_the_outbox_is_erased() {
    let harness = Harness::new();
    let id = harness.register("Acme", "acme", "ada@example.com").await.tenant.tenant_id;
    // More waiting events than one page of the outbox (a long bus outage).
    harness.api.events().bus().set_down(true);
    let waiting: Vec<LifecycleEvent> =
        (0..150).map(|_| LifecycleEvent::new(Change::TierChanged, id, &Cause::default())).collect();
    harness.api.tenants().outbox().add(&waiting);
    harness.api.events().bus().set_down(false);
    let response = harness.admin_call(OFFBOARD, &id, None).await;
    assert_eq!(response.status_code, 200, "{}", body_text(&response));
    let published = harness.api.events().bus().published();
    let tier_changes = published.iter().filter(|e| e.tenant_id == id && e.change == Change::TierChanged).count();
    assert_eq!(tier_changes, 150, "every waiting event was published");
    assert_eq!(published.last().map(|e| e.change), Some(Change::Offboarded));
}
