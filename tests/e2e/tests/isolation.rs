//! Cross-tenant attempts on every route, end to end: tenant B's admin, with
//! a valid token, against tenant A's notes, users and tenant record. Ids of
//! another tenant are "not found"; lists never show another tenant's items;
//! tenant ids in bodies, query strings, headers and paths are refused or
//! ignored.

use e2e::{Api, Refused as _, Stack, TenantFixture};
use futures_util::TryStreamExt as _;
use notes_client::{CreateNote, Note, UpdateNote};
use saas_client::Page;
use tenancy::{TenantRole, TenantTier};
use tenants_client::{Tenant, TenantStatus, UpdateTenant};
use users_client::{MembershipStatus, User};

async fn notes_of(fixture: &TenantFixture, count: usize) -> Vec<Note> {
    let mut notes = Vec::new();
    for n in 0..count {
        let note = CreateNote { title: format!("{} note {n}", fixture.tenant.name), body: "confidential".to_owned() };
        notes.push(fixture.admin.notes.create(&note).await.expect("create"));
    }
    notes
}

/// `GET path` through the raw API (what a forged header needs: no client
/// sends one), as `T`.
async fn raw_get<T: serde::de::DeserializeOwned>(api: &Api, path: &str) -> T {
    api.get(path).await.expect("an answer").expect_json(200).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn another_tenants_notes_are_not_found() {
    let stack = Stack::from_env_or_panic().await;
    let a = stack.tenant("Alpha", TenantTier::Pro).await;
    let b = stack.tenant("Beta", TenantTier::Pro).await;
    let a_notes = notes_of(&a, 3).await;
    let b_notes = notes_of(&b, 2).await;
    let before = a.admin.all_notes().await;
    let (attacker, attacker_api) = (&b.admin.notes, &b.admin.api);

    for note in &a_notes {
        attacker.get(note.id).await.refused(404, "not-found").expect("get");
        let deface = UpdateNote { title: "defaced".to_owned(), body: String::new(), version: note.version };
        attacker.update(note.id, &deface).await.refused(404, "not-found").expect("update");
        attacker.delete(note.id).await.refused(404, "not-found").expect("delete");
    }

    // B's list holds B's notes only, page by page too.
    let listed: Vec<Note> = attacker.list(None).try_collect().await.expect("B's list");
    let mut ids: Vec<_> = listed.iter().map(|n| n.id).collect();
    ids.sort();
    let mut expected: Vec<_> = b_notes.iter().map(|n| n.id).collect();
    expected.sort();
    assert_eq!(ids, expected);
    // A cursor from A's list, replayed by B, still yields only B's notes.
    let a_page = a.admin.notes.list_page(Some(1), None).await.expect("list");
    let a_cursor = a_page.next_cursor.expect("A has more than one page");
    let replayed = attacker.list_page(Some(100), Some(&a_cursor)).await.expect("list");
    assert!(
        replayed.items.iter().all(|n| expected.contains(&n.id)),
        "A's cursor showed B something not B's: {replayed:?}"
    );

    // Tenant ids in the header, query or body are ignored or refused.
    let a_id = a.id().to_string();
    for header in ["x-tenant-id", "tenant-id", "x-amzn-tenant-id"] {
        let listed: Page<Note> = raw_get(&attacker_api.with_header(header, &a_id), "/notes?limit=100").await;
        assert!(listed.items.iter().all(|n| expected.contains(&n.id)), "{header}: {listed:?}");
    }
    attacker_api
        .get(&format!("/notes?tenant_id={a_id}"))
        .await
        .expect("list")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id query parameter is refused");
    attacker_api
        .send(reqwest::Method::POST, "/notes", Some(serde_json::json!({"title": "planted", "tenant_id": a_id})))
        .await
        .expect("create")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id body field is refused");
    attacker_api
        .send(
            reqwest::Method::PUT,
            &format!("/notes/{}", b_notes[0].id),
            Some(serde_json::json!({"title": "moved", "body": "", "version": 1, "tenant_id": a_id})),
        )
        .await
        .expect("update")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id body field is refused on update");

    // A's data is exactly as it was.
    assert_eq!(a.admin.all_notes().await, before);
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn another_tenants_users_are_not_found() {
    let stack = Stack::from_env_or_panic().await;
    let a = stack.tenant("Gamma", TenantTier::Pro).await;
    let b = stack.tenant("Delta", TenantTier::Pro).await;
    let a_domain = format!("{}.example.com", a.tenant.slug);
    let a_member = stack.invite(&a.admin, "carol", &a_domain, TenantRole::Member).await.expect("A's member");
    let (attacker, attacker_api) = (&b.admin.users, &b.admin.api);

    for user_id in [a_member.user.user_id, a.admin_user_id] {
        attacker.get(user_id).await.refused(404, "not-found").expect("get");
        attacker.change_role(user_id, TenantRole::Member).await.refused(404, "not-found").expect("role");
        attacker.disable(user_id).await.refused(404, "not-found").expect("disable");
        attacker.enable(user_id).await.refused(404, "not-found").expect("enable");
        attacker.remove(user_id).await.refused(404, "not-found").expect("delete");
    }

    // B's list: B's admin only; never A's users.
    let b_users: Vec<User> = attacker.list(None).try_collect().await.expect("B's users");
    assert_eq!(b_users.iter().map(|u| u.user_id).collect::<Vec<_>>(), vec![b.admin_user_id]);
    let with_header: Page<User> =
        raw_get(&attacker_api.with_header("x-tenant-id", &a.id().to_string()), "/users?limit=100").await;
    assert_eq!(with_header.items, b_users);

    // An A email cannot be invited into B (it belongs to A): 409, without
    // naming the other tenant; nor can B invite "into A" through the body.
    let poach = users_client::InviteUser {
        email: a_member.user.email.clone(),
        role: TenantRole::Admin,
        temporary_password: Some(e2e::strong_password().into()),
    };
    let problem = attacker.invite(&poach).await.refused(409, "conflict").expect("409 for another tenant's user");
    assert!(!problem.detail.contains(&a.id().to_string()), "{problem:?}");
    attacker_api
        .send(
            reqwest::Method::POST,
            "/users",
            Some(serde_json::json!({
                "email": format!("{}@{a_domain}", stack.unique("mole")),
                "role": "admin",
                "tenant_id": a.id().to_string(),
            })),
        )
        .await
        .expect("invite")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id body field is refused");

    // A's member is untouched and still signs in as A's member.
    let unchanged = a.admin.users.get(a_member.user.user_id).await.expect("get");
    assert_eq!((unchanged.role, unchanged.status), (TenantRole::Member, MembershipStatus::Active));
    assert_eq!(unchanged.version, a_member.user.version);
    stack.sign_in(&a_member.member.email, &a_member.member.password).await.expect("A's member still signs in");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn another_tenants_record_is_out_of_reach() {
    let stack = Stack::from_env_or_panic().await;
    let a = stack.tenant("Epsilon", TenantTier::Free).await;
    let b = stack.tenant("Zeta", TenantTier::Free).await;
    let attacker = &b.admin.api;
    let a_id = a.id().to_string();

    // GET/PUT /tenant always mean the caller's own tenant.
    let own: Tenant = raw_get(&attacker.with_header("x-tenant-id", &a_id), "/tenant").await;
    assert_eq!(own.tenant_id, b.id());
    attacker
        .send(
            reqwest::Method::PUT,
            "/tenant",
            Some(serde_json::json!({"name": "Owned", "version": a.tenant.version, "tenant_id": a_id})),
        )
        .await
        .expect("update")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id body field is refused");
    let rename = serde_json::json!({"name": "Zeta renamed", "version": own.version});
    let renamed: Tenant = attacker
        .with_header("x-tenant-id", &a_id)
        .send(reqwest::Method::PUT, "/tenant", Some(rename))
        .await
        .expect("update")
        .expect_json(200)
        .expect("200");
    assert_eq!(renamed.tenant_id, b.id(), "the header did not redirect the write");

    // Paths naming A are platform-admin routes: 403 for B's admin.
    b.admin.tenants.suspend(a.id()).await.refused(403, "forbidden").expect("suspend");
    b.admin.tenants.change_tier(a.id(), TenantTier::Enterprise).await.refused(403, "forbidden").expect("tier");

    // Registration cannot pick a tenant id either.
    stack
        .anonymous()
        .send(
            reqwest::Method::POST,
            "/tenants",
            Some(serde_json::json!({
                "name": "Squatter",
                "slug": stack.unique("squatter"),
                "tier": "free",
                "admin_email": format!("{}@squat.example.com", stack.unique("s")),
                "admin_password": e2e::strong_password(),
                "tenant_id": a_id,
            })),
        )
        .await
        .expect("register")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id in the registration is refused");

    let a_now = a.admin.tenants.current().await.expect("get");
    assert_eq!(a_now, a.tenant, "A's record is untouched");
    assert_eq!(a_now.status, TenantStatus::Active);
}

/// Every tenants route × member, admin, another tenant's admin, platform
/// admin: the self routes only ever mean the caller's own tenant, the
/// `/admin` routes are the platform's alone (a tenant admin's own id
/// included), and tenant ids in the path, query, header or body never
/// redirect anything.
#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn every_tenants_route_by_role_and_with_forged_tenant_ids() {
    use reqwest::Method;
    use serde_json::json;
    use tenants_client::Registered;

    let stack = Stack::from_env_or_panic().await;
    let a = stack.tenant("Eta", TenantTier::Free).await;
    let b = stack.tenant("Theta", TenantTier::Free).await;
    let a_member = stack
        .invite(&a.admin, "member", &format!("{}.example.com", a.tenant.slug), TenantRole::Member)
        .await
        .expect("A's member")
        .member;
    let operator = stack.platform_admin().await.expect("platform admin");
    let (a_id, b_id) = (a.id().to_string(), b.id().to_string());

    // GET /tenant: each tenant's members see their own tenant, whatever
    // header names another; a query naming one is refused; a platform admin
    // has no tenant.
    for (who, api, own) in
        [("A's member", &a_member.api, &a), ("A's admin", &a.admin.api, &a), ("B's admin", &b.admin.api, &b)]
    {
        let other = if own.id() == a.id() { &b_id } else { &a_id };
        for header in ["x-tenant-id", "tenant-id", "x-amzn-tenant-id"] {
            let seen: Tenant = raw_get(&api.with_header(header, other), "/tenant").await;
            assert_eq!(seen.tenant_id, own.id(), "{who} with {header}");
        }
        api.get(&format!("/tenant?tenant_id={other}"))
            .await
            .expect("get")
            .expect_problem(400, "bad-request")
            .unwrap_or_else(|e| panic!("{who}: {e}"));
    }
    operator
        .api
        .with_header("x-tenant-id", &a_id)
        .get("/tenant")
        .await
        .expect("get")
        .expect_problem(403, "forbidden")
        .expect("a platform admin has no own tenant");

    // A path naming another tenant is no route at all: the gateway's 404.
    for path in [format!("/tenant/{b_id}"), format!("/tenants/{b_id}"), format!("/admin/tenants/{b_id}")] {
        let reply = a.admin.api.get(&path).await.expect("get").expect_status(404).expect("404");
        assert_eq!(reply.json::<serde_json::Value>().expect("json"), json!({"message": "Not Found"}), "{path}");
    }

    // PUT /tenant: members and platform admins may not; A's admin renames A
    // only, whatever the header; a tenant_id in the body or query is refused.
    let rename = |version| UpdateTenant { name: "Eta renamed".to_owned(), version };
    a_member
        .tenants
        .update(&rename(a.tenant.version))
        .await
        .refused(403, "forbidden")
        .expect("a member cannot rename the tenant");
    operator
        .tenants
        .update(&rename(a.tenant.version))
        .await
        .refused(403, "forbidden")
        .expect("a platform admin has no tenant to rename");
    a.admin
        .api
        .send(
            Method::PUT,
            &format!("/tenant?tenant_id={b_id}"),
            Some(json!({"name": "x", "version": a.tenant.version})),
        )
        .await
        .expect("update")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id query parameter is refused");
    let renamed: Tenant = a
        .admin
        .api
        .with_header("x-tenant-id", &b_id)
        .send(Method::PUT, "/tenant", Some(json!(rename(a.tenant.version))))
        .await
        .expect("update")
        .expect_json(200)
        .expect("200");
    assert_eq!(renamed.tenant_id, a.id());

    // The /admin routes: 403 for every tenant role, on any tenant id (the
    // caller's own included), with or without a forged header; the body
    // decides nothing either.
    for (who, api) in [("A's member", &a_member.api), ("A's admin", &a.admin.api), ("B's admin", &b.admin.api)] {
        let api = api.with_header("x-tenant-id", &a_id);
        let mut replies = vec![("list", api.get("/admin/tenants").await)];
        for (target_name, target) in [("A", a.id()), ("B", b.id())] {
            let path = format!("/admin/tenants/{target}");
            replies.push((target_name, api.send(Method::POST, &format!("{path}/suspend"), None).await));
            replies.push((target_name, api.send(Method::POST, &format!("{path}/reactivate"), None).await));
            let enterprise = Some(json!({"tier": "enterprise"}));
            replies.push((target_name, api.send(Method::PUT, &format!("{path}/tier"), enterprise).await));
        }
        for (target, reply) in replies {
            reply
                .expect("answer")
                .expect_problem(403, "forbidden")
                .unwrap_or_else(|e| panic!("{who} on {target}: {e}"));
        }
    }

    // The platform admin: the list holds both tenants and is no tenant's
    // view; forged ids in the query or body are refused, nothing changes.
    let forged = operator.api.with_header("x-tenant-id", &a_id);
    let mut all: Vec<Tenant> = Vec::new();
    let mut path = "/admin/tenants?limit=100".to_owned();
    loop {
        let page: Page<Tenant> = raw_get(&forged, &path).await;
        all.extend(page.items);
        match page.next_cursor {
            Some(cursor) => path = format!("/admin/tenants?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    for id in [a.id(), b.id()] {
        assert!(all.iter().any(|t| t.tenant_id == id), "{id} missing from the platform list");
    }
    operator
        .api
        .get(&format!("/admin/tenants?tenant_id={a_id}"))
        .await
        .expect("list")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id query parameter is refused");
    operator
        .api
        .send(
            Method::PUT,
            &format!("/admin/tenants/{a_id}/tier"),
            Some(json!({"tier": "enterprise", "tenant_id": b_id})),
        )
        .await
        .expect("tier")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id body field is refused");
    operator
        .api
        .send(Method::POST, &format!("/admin/tenants/{a_id}/suspend"), Some(json!({"tenant_id": b_id})))
        .await
        .expect("suspend")
        .expect_problem(400, "bad-request")
        .expect("suspend takes no body");

    // Registration: a forged tenant header (or a token) picks nothing; the
    // new tenant gets a fresh id.
    let slug = stack.unique("forged-header");
    let registration = json!({
        "name": "Iota",
        "slug": slug,
        "tier": "free",
        "admin_email": format!("admin@{slug}.example.com"),
        "admin_password": e2e::strong_password(),
    });
    let registered: Registered = a
        .admin
        .api
        .with_header("x-tenant-id", &b_id)
        .with_header("Idempotency-Key", e2e::IdempotencyKey::generate().as_str())
        .send(Method::POST, "/tenants", Some(registration))
        .await
        .expect("register")
        .expect_json(201)
        .expect("201");
    assert!(registered.tenant.tenant_id != a.id() && registered.tenant.tenant_id != b.id(), "{registered:?}");

    // Nothing above changed A (beyond its own admin's rename) or B.
    let a_now = a.admin.tenants.current().await.expect("get");
    assert_eq!(a_now, renamed);
    let b_now = b.admin.tenants.current().await.expect("get");
    assert_eq!(b_now, b.tenant);
    assert_eq!((a_now.tier, a_now.status), (TenantTier::Free, TenantStatus::Active));
}
