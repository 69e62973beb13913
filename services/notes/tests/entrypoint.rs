//! The notes routes end to end through the handler, over the in-memory store.

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use notes::api::{CURSOR, NoteList};
use notes::domain::{MAX_BODY_BYTES, Note, NoteId};
use notes::entrypoint::NotesApi;
use notes::store::MemoryNoteStore;
use serde_json::json;
use std::time::Duration;
use tenancy::audit::{Actor, ActorRole, MemoryAuditStore};
use tenancy::authority::{Membership, MemoryAuthorityStore, TenantRecord};
use tenancy::testing::{
    Req, SignedIn, assert_problem, body_text, committed_document, every_page, json_of, memory_audit, memory_authority,
};
use tenancy::{MembershipStatus, TenantRole, TenantStatus, TenantTier, UserId};

struct Harness {
    api: NotesApi<MemoryNoteStore, MemoryAuthorityStore, MemoryAuditStore>,
}

impl Harness {
    fn new() -> Self {
        Self::with_freshness(Duration::ZERO)
    }

    /// Records cached for `freshness` (zero: read on every request).
    fn with_freshness(freshness: Duration) -> Self {
        Self { api: NotesApi::new(MemoryNoteStore::default(), memory_authority(freshness), memory_audit()) }
    }

    fn records(&self) -> &MemoryAuthorityStore {
        self.api.authority().store()
    }

    /// Every response is checked against the committed OpenAPI document.
    /// A caller's records are made from its first token (see
    /// `ensure_member_from_claims`); tests change them through `records()`.
    async fn call(&self, req: Req) -> ApiGatewayV2httpResponse {
        if let Some(claims) = &req.claims {
            self.records().ensure_member_from_claims(claims);
        }
        let route = req.route;
        let response = self.api.handle(req.event()).await;
        committed_document(env!("CARGO_MANIFEST_DIR")).check_response(route, &response);
        response
    }

    async fn create(&self, caller: &SignedIn, title: &str) -> Note {
        let response = self
            .call(
                Req::to("POST /notes")
                    .body(json!({"title": title, "body": "text"}).to_string())
                    .claims(caller.claims.clone()),
            )
            .await;
        assert_eq!(response.status_code, 201, "{}", body_text(&response));
        serde_json::from_value(json_of(&response)).expect("note")
    }

    /// The first page, default size.
    async fn list(&self, caller: &SignedIn) -> NoteList {
        let response = self.call(Req::to("GET /notes").claims(caller.claims.clone())).await;
        serde_json::from_value(json_of(&response)).expect("list")
    }
}

#[tokio::test]
async fn create_get_update_delete() {
    let harness = Harness::new();
    let caller = SignedIn::member_of_new_tenant();

    let response = harness
        .call(Req::to("POST /notes").body(r#"{"title":" Plan ","body":"first"}"#).claims(caller.claims.clone()))
        .await;
    assert_eq!(response.status_code, 201);
    let note: Note = serde_json::from_value(json_of(&response)).expect("note");
    assert_eq!((note.title.as_str(), note.body.as_str(), note.version), ("Plan", "first", 1));
    assert_eq!(response.headers["location"], format!("/notes/{}", note.id).as_str());

    let get = |id: NoteId| Req::to("GET /notes/{note_id}").param(id.to_string()).claims(caller.claims.clone());
    let fetched: Note = serde_json::from_value(json_of(&harness.call(get(note.id)).await)).expect("note");
    assert_eq!(fetched, note);

    let update = |version: u64, title: &str| {
        Req::to("PUT /notes/{note_id}")
            .param(note.id.to_string())
            .body(json!({"title": title, "body": "second", "version": version}).to_string())
            .claims(caller.claims.clone())
    };
    let response = harness.call(update(1, "Plan B")).await;
    assert_eq!(response.status_code, 200, "{}", body_text(&response));
    let updated: Note = serde_json::from_value(json_of(&response)).expect("note");
    assert_eq!((updated.version, updated.title.as_str(), updated.created_at), (2, "Plan B", note.created_at));

    // A stale version changes nothing.
    let problem = assert_problem(&harness.call(update(1, "Lost update")).await, 409);
    assert!(problem.detail.contains("version 1"), "{}", problem.detail);
    let fetched: Note = serde_json::from_value(json_of(&harness.call(get(note.id)).await)).expect("note");
    assert_eq!(fetched, updated);

    let delete = Req::to("DELETE /notes/{note_id}").param(note.id.to_string()).claims(caller.claims.clone());
    let response = harness.call(delete).await;
    assert_eq!(response.status_code, 204);
    assert_eq!(body_text(&response), "");
    assert_problem(&harness.call(get(note.id)).await, 404);
    let delete_again = Req::to("DELETE /notes/{note_id}").param(note.id.to_string()).claims(caller.claims.clone());
    assert_problem(&harness.call(delete_again).await, 404);
    assert_problem(&harness.call(update(2, "Gone")).await, 404);
}

#[tokio::test]
async fn list_pages_newest_first_without_gaps_or_repeats() {
    let harness = Harness::new();
    let caller = SignedIn::member_of_new_tenant();
    let mut created = Vec::new();
    for n in 0..25 {
        created.push(harness.create(&caller, &format!("note {n}")).await.id);
    }
    let pages: Vec<Vec<Note>> =
        every_page(10, async |query| harness.call(Req::to("GET /notes").query(query).claims(caller.claims())).await)
            .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
    let seen: Vec<_> = pages.iter().flatten().map(|note| note.id).collect();
    created.reverse();
    assert_eq!(seen, created);
    assert_eq!(harness.list(&caller).await.items.len(), 20, "the default page size is 20");
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let harness = Harness::new();
    let (alice, bob) = (SignedIn::member_of_new_tenant(), SignedIn::member_of_new_tenant());
    let note = harness.create(&alice, "alice's").await;
    harness.create(&bob, "bob's").await;

    let bob_list = harness.list(&bob).await;
    assert_eq!(bob_list.items.len(), 1);
    assert_eq!(bob_list.items[0].title, "bob's");

    for (route, body) in [
        ("GET /notes/{note_id}", None),
        ("PUT /notes/{note_id}", Some(json!({"title": "hijack", "body": "", "version": 1}).to_string())),
        ("DELETE /notes/{note_id}", None),
    ] {
        let response = harness
            .call(Req {
                route,
                path_param: Some(note.id.to_string()),
                body,
                claims: Some(bob.claims.clone()),
                ..Req::default()
            })
            .await;
        assert_problem(&response, 404);
    }
    let stored = harness.api.store().snapshot();
    assert!(stored.iter().any(|(tenant, n)| *tenant == alice.tenant && *n == note), "alice's note is intact");
}

#[tokio::test]
async fn a_tenant_id_outside_the_claims_is_never_used() {
    let harness = Harness::new();
    let (alice, bob) = (SignedIn::member_of_new_tenant(), SignedIn::member_of_new_tenant());
    // A header naming another tenant is ignored: the note lands in the caller's tenant.
    let response = harness
        .call(
            Req::to("POST /notes")
                .body(r#"{"title":"mine"}"#)
                .claims(alice.claims.clone())
                .header("x-tenant-id", bob.tenant.to_string()),
        )
        .await;
    assert_eq!(response.status_code, 201);
    assert!(harness.api.store().snapshot().iter().all(|(tenant, _)| *tenant == alice.tenant));
    // A body naming a tenant is refused outright.
    let response = harness
        .call(
            Req::to("POST /notes")
                .body(json!({"title": "x", "tenant_id": bob.tenant.to_string()}).to_string())
                .claims(alice.claims.clone()),
        )
        .await;
    assert_problem(&response, 400);
    assert_eq!(harness.list(&bob).await.items.len(), 0);
}

/// Every bad request on every route: a 4xx problem body and nothing written.
#[tokio::test]
async fn bad_input_gets_a_problem_body_and_writes_nothing() {
    let harness = Harness::new();
    let caller = SignedIn::member_of_new_tenant();
    let existing = harness.create(&caller, "keep me").await;
    let before = harness.api.store().snapshot();
    let id = existing.id.to_string();
    let claims = || Some(caller.claims.clone());
    let oversized = json!({"title": "t", "body": "x".repeat(70 * 1024)}).to_string();
    let long_body = json!({"title": "t", "body": "x".repeat(MAX_BODY_BYTES + 1)}).to_string();
    let mut without_tenant = caller.claims.clone();
    without_tenant.remove("tenant_id");
    let mut bad_tenant = caller.claims.clone();
    bad_tenant.insert("tenant_id".into(), "../other".into());
    // A token with no records behind it (its role claim does not even parse).
    let mut bad_role = SignedIn::member_of_new_tenant().claims;
    bad_role.insert("tenant_role".into(), "root".into());
    let foreign_cursor = NoteId::generate().to_string();
    let valid_cursor = CURSOR.encode(&existing.id);

    let cases: Vec<(&str, Req, i64)> = vec![
        // POST /notes
        ("create: invalid JSON", Req::to("POST /notes").body("{\"title\":").claims(claims()), 400),
        ("create: unknown field", Req::to("POST /notes").body(r#"{"title":"a","color":"red"}"#).claims(claims()), 400),
        ("create: missing title", Req::to("POST /notes").body(r#"{"body":"a"}"#).claims(claims()), 400),
        ("create: wrong type", Req::to("POST /notes").body(r#"{"title":["a"]}"#).claims(claims()), 400),
        ("create: blank title", Req::to("POST /notes").body(r#"{"title":"   "}"#).claims(claims()), 400),
        ("create: body over the note limit", Req::to("POST /notes").body(long_body.clone()).claims(claims()), 400),
        ("create: oversized request", Req::to("POST /notes").body(oversized.clone()).claims(claims()), 413),
        ("create: no body", Req::to("POST /notes").claims(claims()), 400),
        (
            "create: not JSON",
            Req::to("POST /notes").body("title=a").content_type("application/x-www-form-urlencoded").claims(claims()),
            415,
        ),
        (
            "create: unknown query",
            Req::to("POST /notes").body(r#"{"title":"a"}"#).query("tenant=x").claims(claims()),
            400,
        ),
        ("create: no claims", Req::to("POST /notes").body(r#"{"title":"a"}"#), 401),
        (
            "create: no tenant claim",
            Req::to("POST /notes").body(r#"{"title":"a"}"#).claims(without_tenant.clone()),
            403,
        ),
        (
            "create: malformed tenant claim",
            Req::to("POST /notes").body(r#"{"title":"a"}"#).claims(bad_tenant.clone()),
            403,
        ),
        (
            "create: a token no records stand behind",
            Req::to("POST /notes").body(r#"{"title":"a"}"#).claims(bad_role.clone()),
            403,
        ),
        // GET /notes
        ("list: limit 0", Req::to("GET /notes").query("limit=0").claims(claims()), 400),
        ("list: limit 101", Req::to("GET /notes").query("limit=101").claims(claims()), 400),
        ("list: limit not a number", Req::to("GET /notes").query("limit=ten").claims(claims()), 400),
        ("list: limit twice", Req::to("GET /notes").query("limit=1&limit=2").claims(claims()), 400),
        ("list: garbage cursor", Req::to("GET /notes").query("cursor=%%%").claims(claims()), 400),
        (
            "list: raw id as cursor",
            Req::to("GET /notes").query(format!("cursor={foreign_cursor}")).claims(claims()),
            400,
        ),
        (
            "list: unknown query",
            Req::to("GET /notes").query(format!("cursor={valid_cursor}&tenant_id=x")).claims(claims()),
            400,
        ),
        ("list: no claims", Req::to("GET /notes"), 401),
        ("list: no tenant claim", Req::to("GET /notes").claims(without_tenant.clone()), 403),
        // GET /notes/{note_id}
        ("get: bad id", Req::to("GET /notes/{note_id}").param("not-an-id").claims(claims()), 400),
        ("get: uppercase id", Req::to("GET /notes/{note_id}").param(id.to_uppercase()).claims(claims()), 400),
        (
            "get: unknown id",
            Req::to("GET /notes/{note_id}").param(NoteId::generate().to_string()).claims(claims()),
            404,
        ),
        ("get: no claims", Req::to("GET /notes/{note_id}").param(id.clone()), 401),
        (
            "get: malformed tenant claim",
            Req::to("GET /notes/{note_id}").param(id.clone()).claims(bad_tenant.clone()),
            403,
        ),
        // PUT /notes/{note_id}
        ("update: invalid JSON", Req::to("PUT /notes/{note_id}").param(id.clone()).body("[").claims(claims()), 400),
        (
            "update: missing version",
            Req::to("PUT /notes/{note_id}").param(id.clone()).body(r#"{"title":"a","body":"b"}"#).claims(claims()),
            400,
        ),
        (
            "update: negative version",
            Req::to("PUT /notes/{note_id}")
                .param(id.clone())
                .body(r#"{"title":"a","body":"b","version":-1}"#)
                .claims(claims()),
            400,
        ),
        (
            "update: unknown field",
            Req::to("PUT /notes/{note_id}")
                .param(id.clone())
                .body(r#"{"title":"a","body":"b","version":1,"id":"x"}"#)
                .claims(claims()),
            400,
        ),
        (
            "update: oversized",
            Req::to("PUT /notes/{note_id}").param(id.clone()).body(oversized.clone()).claims(claims()),
            413,
        ),
        (
            "update: stale version",
            Req::to("PUT /notes/{note_id}")
                .param(id.clone())
                .body(r#"{"title":"a","body":"b","version":7}"#)
                .claims(claims()),
            409,
        ),
        (
            "update: bad id",
            Req::to("PUT /notes/{note_id}").param("1").body(r#"{"title":"a","body":"b","version":1}"#).claims(claims()),
            400,
        ),
        (
            "update: no claims",
            Req::to("PUT /notes/{note_id}").param(id.clone()).body(r#"{"title":"a","body":"b","version":1}"#),
            401,
        ),
        (
            "update: no tenant claim",
            Req::to("PUT /notes/{note_id}")
                .param(id.clone())
                .body(r#"{"title":"a","body":"b","version":1}"#)
                .claims(without_tenant.clone()),
            403,
        ),
        // DELETE /notes/{note_id}
        ("delete: bad id", Req::to("DELETE /notes/{note_id}").param("'; DROP").claims(claims()), 400),
        ("delete: with a body", Req::to("DELETE /notes/{note_id}").param(id.clone()).body("{}").claims(claims()), 400),
        ("delete: no claims", Req::to("DELETE /notes/{note_id}").param(id.clone()), 401),
        (
            "delete: malformed tenant claim",
            Req::to("DELETE /notes/{note_id}").param(id.clone()).claims(bad_tenant.clone()),
            403,
        ),
        // Unknown route
        ("unknown route", Req::to("PATCH /notes/{note_id}").param(id.clone()).claims(claims()), 404),
    ];
    for (name, req, status) in cases {
        let response = harness.call(req).await;
        assert_eq!(response.status_code, status, "{name}: {}", body_text(&response));
        assert_problem(&response, status);
        assert_eq!(harness.api.store().snapshot(), before, "{name} changed the store");
    }
}

#[tokio::test]
async fn an_outage_is_a_503_problem_and_changes_nothing() {
    let harness = Harness::new();
    let caller = SignedIn::member_of_new_tenant();
    let note = harness.create(&caller, "before the outage").await;
    harness.api.store().set_unavailable(true);
    let requests = vec![
        Req::to("GET /notes").claims(caller.claims.clone()),
        Req::to("POST /notes").body(r#"{"title":"a"}"#).claims(caller.claims.clone()),
        Req::to("GET /notes/{note_id}").param(note.id.to_string()).claims(caller.claims.clone()),
        Req::to("PUT /notes/{note_id}")
            .param(note.id.to_string())
            .body(r#"{"title":"a","body":"","version":1}"#)
            .claims(caller.claims.clone()),
        Req::to("DELETE /notes/{note_id}").param(note.id.to_string()).claims(caller.claims.clone()),
    ];
    for req in requests {
        let problem = assert_problem(&harness.call(req).await, 503);
        assert!(problem.detail.contains("retry"), "{}", problem.detail);
    }
    harness.api.store().set_unavailable(false);
    assert_eq!(harness.api.store().snapshot(), vec![(caller.tenant, note)]);
}

#[tokio::test]
async fn the_tier_limits_the_number_of_notes() {
    let harness = Harness::new();
    let caller = SignedIn::member_of_new_tenant(); // free tier
    let limit = tenancy::TenantTier::Free.limits().max_notes;
    for n in 0..limit {
        harness.create(&caller, &format!("note {n}")).await;
    }
    let response =
        harness.call(Req::to("POST /notes").body(r#"{"title":"one too many"}"#).claims(caller.claims.clone())).await;
    let problem = assert_problem(&response, 403);
    assert_eq!(problem.kind, "urn:problem:limit-exceeded");
    assert!(problem.detail.contains("free tier"), "{}", problem.detail);
    let stored = harness.api.store().snapshot().len();
    assert_eq!(i64::try_from(stored).expect("small"), limit);

    // A pro tenant has room for more.
    let mut pro = SignedIn::member_of_new_tenant();
    pro.claims.insert("tenant_tier".into(), "pro".into());
    for n in 0..=limit {
        harness.create(&pro, &format!("note {n}")).await;
    }
}

/// The records, not the token, say what a caller may do: a token issued
/// before a change carries the old role and tier, and counts for nothing.
#[tokio::test]
async fn the_records_decide_and_a_stale_token_counts_for_nothing() {
    let harness = Harness::new();
    let caller = SignedIn::member_of_new_tenant();
    harness.create(&caller, "while all is well").await;
    let tenant = caller.tenant;
    let user = UserId::parse(&caller.claims["sub"]).expect("sub");
    let routes = |claims: &HashMap<String, String>| {
        ["GET /notes", "POST /notes"].map(|route| Req {
            route,
            body: (route == "POST /notes").then(|| r#"{"title":"t"}"#.to_owned()),
            claims: Some(claims.clone()),
            ..Req::default()
        })
    };

    // The tenant is suspended: every route refuses the same token.
    let active_free = TenantRecord { status: TenantStatus::Active, tier: TenantTier::Free };
    harness.records().set_tenant(tenant, TenantRecord { status: TenantStatus::Suspended, ..active_free });
    for req in routes(&caller.claims) {
        let route = req.route;
        let problem = assert_problem(&harness.call(req).await, 403);
        assert_eq!(problem.kind, "urn:problem:tenant-inactive", "{route}");
    }
    harness.records().set_tenant(tenant, active_free);

    // The membership is disabled, then gone.
    for change in ["disabled", "removed"] {
        if change == "disabled" {
            let membership = Membership { role: TenantRole::Member, status: MembershipStatus::Disabled };
            harness.records().set_membership(tenant, user, membership);
        } else {
            harness.records().remove_membership(tenant, user);
        }
        for req in routes(&caller.claims) {
            let route = req.route;
            let problem = assert_problem(&harness.call(req).await, 403);
            assert_eq!(problem.kind, "urn:problem:membership-inactive", "{change}: {route}");
        }
    }
    assert_eq!(harness.api.store().snapshot().len(), 1, "nothing was written");

    // A token claiming a higher tier: the record's tier sets the limit.
    let other = SignedIn::member_of_new_tenant();
    harness.create(&other, "first").await;
    let mut enterprise = other.claims.clone();
    enterprise.insert("tenant_tier".into(), "enterprise".into());
    let limit = TenantTier::Free.limits().max_notes;
    for n in 1..limit {
        harness.create(&SignedIn { claims: enterprise.clone(), ..other.clone() }, &format!("note {n}")).await;
    }
    let response = harness.call(Req::to("POST /notes").body(r#"{"title":"over"}"#).claims(enterprise.clone())).await;
    assert_eq!(assert_problem(&response, 403).kind, "urn:problem:limit-exceeded");
    // The tier changes in the records: the next limit check follows.
    harness.records().set_tenant(other.tenant, TenantRecord { status: TenantStatus::Active, tier: TenantTier::Pro });
    harness.create(&other, "now there is room").await;
}

/// Records are cached for the freshness window: within it a change is not
/// seen yet; after it, it is.
#[tokio::test]
async fn records_are_cached_for_the_freshness_window_only() {
    let window = Duration::from_millis(300);
    let harness = Harness::with_freshness(window);
    let caller = SignedIn::member_of_new_tenant();
    harness.create(&caller, "cached").await;
    harness
        .records()
        .set_tenant(caller.tenant, TenantRecord { status: TenantStatus::Suspended, tier: TenantTier::Free });
    let reads = harness.records().reads();
    harness.list(&caller).await;
    assert_eq!(harness.records().reads(), reads, "served from the cache");
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    let response = harness.call(Req::to("GET /notes").claims(caller.claims.clone())).await;
    assert_eq!(assert_problem(&response, 403).kind, "urn:problem:tenant-inactive");
}

/// A retried create with its `Idempotency-Key` answers with the note it made,
/// never a second one; the key with other input, or a malformed key, is
/// refused; the key is the caller's own.
#[tokio::test]
async fn a_create_with_an_idempotency_key_is_safe_to_retry() {
    let harness = Harness::new();
    let ann = SignedIn::member_of_new_tenant();
    let key = "k".repeat(40);
    let create = |caller: &SignedIn, title: &str, key: &str| {
        Req::to("POST /notes")
            .body(json!({"title": title, "body": "text"}).to_string())
            .claims(caller.claims.clone())
            .header("idempotency-key", key.to_owned())
    };
    let first = harness.call(create(&ann, "Groceries", &key)).await;
    assert_eq!(first.status_code, 201, "{}", body_text(&first));
    let note: Note = serde_json::from_value(json_of(&first)).expect("note");
    let again = harness.call(create(&ann, "Groceries", &key)).await;
    assert_eq!(again.status_code, 201, "{}", body_text(&again));
    assert_eq!(again.headers["location"], first.headers["location"]);
    assert_eq!(serde_json::from_value::<Note>(json_of(&again)).expect("note"), note);
    assert_eq!(harness.list(&ann).await.items, vec![note.clone()], "one note");

    let other_input = harness.call(create(&ann, "Chores", &key)).await;
    assert!(assert_problem(&other_input, 409).detail.contains("different request"));
    assert_problem(&harness.call(create(&ann, "Chores", "short")).await, 400);

    // Another member of the same tenant with the same key makes its own note.
    let mut bob = SignedIn::member_of_new_tenant();
    bob.tenant = ann.tenant;
    bob.claims.insert("tenant_id".into(), ann.tenant.to_string());
    let bobs = harness.call(create(&bob, "Groceries", &key)).await;
    assert_eq!(bobs.status_code, 201, "{}", body_text(&bobs));
    assert_ne!(serde_json::from_value::<Note>(json_of(&bobs)).expect("note").id, note.id);

    // The note deleted: its key repeats nothing, and says so.
    let deleted =
        harness.call(Req::to("DELETE /notes/{note_id}").param(note.id.to_string()).claims(ann.claims.clone())).await;
    assert_eq!(deleted.status_code, 204);
    let gone = harness.call(create(&ann, "Groceries", &key)).await;
    assert!(assert_problem(&gone, 409).detail.contains("since been deleted"));
}

#[tokio::test]
async fn each_change_to_a_note_is_in_the_tenants_trail_and_reads_are_not() {
    let harness = Harness::new();
    let caller = SignedIn::member_of_new_tenant();
    let note = harness.create(&caller, "audited").await;
    let id = note.id.to_string();
    let update = json!({"title": "audited", "body": "", "version": 1}).to_string();
    let at_id = |route| Req::to(route).param(id.clone()).claims(caller.claims());
    assert_eq!(harness.call(at_id("PUT /notes/{note_id}").body(update)).await.status_code, 200);
    assert_eq!(harness.call(at_id("GET /notes/{note_id}")).await.status_code, 200);
    assert_eq!(harness.call(at_id("DELETE /notes/{note_id}")).await.status_code, 204);
    assert_eq!(harness.call(at_id("DELETE /notes/{note_id}")).await.status_code, 404);

    let entries = harness.api.audit().store().entries(&caller.tenant);
    let summary: Vec<_> = entries.iter().map(|e| (e.action.as_str(), e.target.as_deref(), e.outcome)).collect();
    let id = Some(id.as_str());
    assert_eq!(
        summary,
        [
            ("POST /notes", id, 201),
            ("PUT /notes/{note_id}", id, 200),
            ("DELETE /notes/{note_id}", id, 204),
            ("DELETE /notes/{note_id}", id, 404),
        ]
    );
    assert!(entries.iter().all(|e| e.actor == Actor { user_id: caller.user_id, role: ActorRole::Member }));
    // The free tier keeps entries 30 days.
    let kept = harness.api.audit().store().expiries(&caller.tenant)[0] - entries[0].at;
    assert_eq!(kept, time::Duration::days(30));
}

#[tokio::test]
async fn offboarding_erases_an_offboarding_tenants_notes_only() {
    let harness = Harness::new();
    let caller = SignedIn::member_of_new_tenant();
    let other = SignedIn::member_of_new_tenant();
    for title in ["a", "b", "c"] {
        harness.create(&caller, title).await;
    }
    harness.create(&other, "kept").await;
    let internal = |command: &str| json!({"internal": {"command": command, "tenant_id": caller.tenant}});

    // The tenant is active: refused, nothing erased.
    let refused = harness.api.invoke(internal("erase_tenant_data"), "offboarding").await;
    assert_eq!((refused["outcome"].as_str(), refused["status"].as_u64()), (Some("refused"), Some(409)), "{refused}");
    assert_eq!(harness.list(&caller).await.items.len(), 3);

    harness
        .records()
        .set_tenant(caller.tenant, TenantRecord { status: TenantStatus::Offboarding, tier: TenantTier::Pro });
    let counted = harness.api.invoke(internal("count_tenant_data"), "offboarding").await;
    assert_eq!(counted, json!({"outcome": "counted", "items": {"notes": 3}}));
    let erased = harness.api.invoke(internal("erase_tenant_data"), "offboarding").await;
    assert_eq!(erased, json!({"outcome": "erased", "removed": {"notes": 3}, "finished": true}));
    let left: Vec<_> = harness.api.store().snapshot().into_iter().map(|(tenant, note)| (tenant, note.title)).collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].0, other.tenant);

    // Anything else is no command.
    let garbage = harness.api.invoke(json!({"internal": {"command": "drop_everything"}}), "x").await;
    assert_eq!(garbage["status"], 400, "{garbage}");
}
