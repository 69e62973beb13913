//! Cross-tenant attempts on every route, end to end: tenant B's admin, with
//! a valid token, against tenant A's notes, users and tenant record. Ids of
//! another tenant are "not found"; lists never show another tenant's items;
//! tenant ids in bodies, query strings, headers and paths are refused or
//! ignored.

use e2e::{Stack, TenantFixture};
use notes::api::{CreateNote, NoteList, UpdateNote};
use notes::domain::Note;
use tenancy::{TenantRole, TenantTier};
use tenants::api::UpdateTenant;
use tenants::domain::{Tenant, TenantStatus};
use users_api::{ChangeRole, MembershipStatus, User};

async fn notes_of(fixture: &TenantFixture, count: usize) -> Vec<Note> {
    let mut notes = Vec::new();
    for n in 0..count {
        let note: Note = fixture
            .admin
            .api
            .create_note(&CreateNote {
                title: format!("{} note {n}", fixture.tenant.name),
                body: "confidential".to_owned(),
            })
            .await
            .expect("create")
            .expect_json(201)
            .expect("201");
        notes.push(note);
    }
    notes
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn another_tenants_notes_are_not_found() {
    let stack = Stack::from_env_or_panic().await;
    let a = stack.register_tenant("Alpha", TenantTier::Pro).await.expect("A");
    let b = stack.register_tenant("Beta", TenantTier::Pro).await.expect("B");
    let a_notes = notes_of(&a, 3).await;
    let b_notes = notes_of(&b, 2).await;
    let before = a.admin.api.all_notes().await.expect("A's notes");
    let attacker = &b.admin.api;

    for note in &a_notes {
        attacker
            .get_note(note.id)
            .await
            .expect("get")
            .expect_problem(404, "not-found")
            .expect("get");
        attacker
            .update_note(
                note.id,
                &UpdateNote {
                    title: "defaced".to_owned(),
                    body: String::new(),
                    version: note.version,
                },
            )
            .await
            .expect("update")
            .expect_problem(404, "not-found")
            .expect("update");
        attacker
            .delete_note(note.id)
            .await
            .expect("delete")
            .expect_problem(404, "not-found")
            .expect("delete");
    }

    // B's list holds B's notes only, page by page too.
    let listed = attacker.all_notes().await.expect("B's list");
    let mut ids: Vec<_> = listed.iter().map(|n| n.id).collect();
    ids.sort();
    let mut expected: Vec<_> = b_notes.iter().map(|n| n.id).collect();
    expected.sort();
    assert_eq!(ids, expected);
    // A cursor from A's list, replayed by B, still yields only B's notes.
    let a_page: NoteList = a
        .admin
        .api
        .list_notes(Some(1), None)
        .await
        .expect("list")
        .expect_json(200)
        .expect("200");
    let a_cursor = a_page.next_cursor.expect("A has more than one page");
    let replayed: NoteList = attacker
        .list_notes(Some(100), Some(&a_cursor))
        .await
        .expect("list")
        .expect_json(200)
        .expect("200");
    assert!(
        replayed.items.iter().all(|n| expected.contains(&n.id)),
        "A's cursor showed B something not B's: {replayed:?}"
    );

    // Tenant ids in the header, query or body are ignored or refused.
    let a_id = a.id().to_string();
    for header in ["x-tenant-id", "tenant-id", "x-amzn-tenant-id"] {
        let listed = attacker.with_header(header, &a_id).all_notes().await.expect("list");
        assert!(listed.iter().all(|n| expected.contains(&n.id)), "{header}: {listed:?}");
    }
    attacker
        .get(&format!("/notes?tenant_id={a_id}"))
        .await
        .expect("list")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id query parameter is refused");
    attacker
        .send(
            reqwest::Method::POST,
            "/notes",
            Some(serde_json::json!({"title": "planted", "tenant_id": a_id})),
        )
        .await
        .expect("create")
        .expect_problem(400, "bad-request")
        .expect("a tenant_id body field is refused");
    attacker
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
    assert_eq!(a.admin.api.all_notes().await.expect("A's notes"), before);
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn another_tenants_users_are_not_found() {
    let stack = Stack::from_env_or_panic().await;
    let a = stack.register_tenant("Gamma", TenantTier::Pro).await.expect("A");
    let b = stack.register_tenant("Delta", TenantTier::Pro).await.expect("B");
    let a_domain = format!("{}.example.com", a.tenant.slug);
    let a_member = stack
        .invite(&a.admin.api, "carol", &a_domain, TenantRole::Member)
        .await
        .expect("A's member");
    let attacker = &b.admin.api;

    for user_id in [a_member.user.user_id, a.admin_user_id] {
        attacker
            .get_user(user_id)
            .await
            .expect("get")
            .expect_problem(404, "not-found")
            .expect("get");
        attacker
            .change_role(
                user_id,
                &ChangeRole {
                    role: TenantRole::Member,
                },
            )
            .await
            .expect("role")
            .expect_problem(404, "not-found")
            .expect("role");
        attacker
            .disable_user(user_id)
            .await
            .expect("disable")
            .expect_problem(404, "not-found")
            .expect("disable");
        attacker
            .enable_user(user_id)
            .await
            .expect("enable")
            .expect_problem(404, "not-found")
            .expect("enable");
        attacker
            .delete_user(user_id)
            .await
            .expect("delete")
            .expect_problem(404, "not-found")
            .expect("delete");
    }

    // B's list: B's admin only; never A's users.
    let b_users = attacker.all_users().await.expect("B's users");
    assert_eq!(
        b_users.iter().map(|u| u.user_id).collect::<Vec<_>>(),
        vec![b.admin_user_id]
    );
    let with_header = attacker
        .with_header("x-tenant-id", &a.id().to_string())
        .all_users()
        .await
        .expect("B's users");
    assert_eq!(with_header, b_users);

    // An A email cannot be invited into B (it belongs to A): 409, without
    // naming the other tenant; nor can B invite "into A" through the body.
    let problem = attacker
        .invite_user(&users_api::InviteUser {
            email: a_member.user.email.clone(),
            role: TenantRole::Admin,
            temporary_password: Some(e2e::strong_password()),
        })
        .await
        .expect("invite")
        .expect_problem(409, "conflict")
        .expect("409 for another tenant's user");
    assert!(!problem.detail.contains(&a.id().to_string()), "{problem:?}");
    attacker
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
    let unchanged: User = a
        .admin
        .api
        .get_user(a_member.user.user_id)
        .await
        .expect("get")
        .expect_json(200)
        .expect("200");
    assert_eq!(
        (unchanged.role, unchanged.status),
        (TenantRole::Member, MembershipStatus::Active)
    );
    assert_eq!(unchanged.version, a_member.user.version);
    stack
        .sign_in(&a_member.member.email, &a_member.member.password)
        .await
        .expect("A's member still signs in");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn another_tenants_record_is_out_of_reach() {
    let stack = Stack::from_env_or_panic().await;
    let a = stack.register_tenant("Epsilon", TenantTier::Free).await.expect("A");
    let b = stack.register_tenant("Zeta", TenantTier::Free).await.expect("B");
    let attacker = &b.admin.api;
    let a_id = a.id().to_string();

    // GET/PUT /tenant always mean the caller's own tenant.
    let own: Tenant = attacker
        .with_header("x-tenant-id", &a_id)
        .get_tenant()
        .await
        .expect("get")
        .expect_json(200)
        .expect("200");
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
    let renamed: Tenant = attacker
        .with_header("x-tenant-id", &a_id)
        .update_tenant(&UpdateTenant {
            name: "Zeta renamed".to_owned(),
            version: own.version,
        })
        .await
        .expect("update")
        .expect_json(200)
        .expect("200");
    assert_eq!(renamed.tenant_id, b.id(), "the header did not redirect the write");

    // Paths naming A are platform-admin routes: 403 for B's admin.
    attacker
        .suspend_tenant(a.id())
        .await
        .expect("suspend")
        .expect_problem(403, "forbidden")
        .expect("suspend");
    attacker
        .change_tier(
            a.id(),
            &tenants::api::ChangeTier {
                tier: TenantTier::Enterprise,
            },
        )
        .await
        .expect("tier")
        .expect_problem(403, "forbidden")
        .expect("tier");

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

    let a_now: Tenant = a
        .admin
        .api
        .get_tenant()
        .await
        .expect("get")
        .expect_json(200)
        .expect("200");
    assert_eq!(a_now, a.tenant, "A's record is untouched");
    assert_eq!(a_now.status, TenantStatus::Active);
}
