//! Every users route through the gateway: list, invite (temporary password,
//! first sign-in with the new-password challenge), me, get, role change,
//! last-admin protection, disable/enable (sign-in follows), delete, and the
//! free tier's user limit.

use e2e::{Refused as _, SignInError, Stack};
use futures_util::TryStreamExt as _;
use tenancy::{TenantRole, TenantTier};
use users_client::{InviteUser, MembershipStatus, User};

fn assert_refused(result: Result<e2e::Tokens, SignInError>, what: &str) {
    match result {
        Err(SignInError::Refused { .. }) => {}
        other => panic!("{what}: expected Cognito to refuse the sign-in, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn the_user_lifecycle() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("People", TenantTier::Pro).await;
    let admin = &tenant.admin.users;
    let domain = format!("{}.example.com", tenant.tenant.slug);

    // The first admin is the only member.
    let me = admin.me().await.expect("me");
    assert_eq!((me.user_id, me.role, me.status), (tenant.admin_user_id, TenantRole::Admin, MembershipStatus::Active));
    let list = admin.list_page(None, None).await.expect("list");
    assert_eq!(list.items, vec![me.clone()]);

    // Invite with a temporary password; the invitee must pick a new one.
    let email = format!("{}@{domain}", stack.unique("Bob"));
    let temporary = e2e::strong_password();
    // The raw API: the client hides the status and the Location header.
    let bob_invitation = serde_json::json!({"email": email, "role": "member", "temporary_password": temporary});
    let reply = tenant
        .admin
        .api
        .send(reqwest::Method::POST, "/users", Some(bob_invitation))
        .await
        .expect("invite")
        .expect_status(201)
        .expect("201");
    assert!(reply.headers.contains_key("location"), "{reply:?}");
    let bob: User = reply.json().expect("user");
    assert_eq!(bob.email, email.to_lowercase(), "emails are normalised");
    assert_eq!((bob.role, bob.status), (TenantRole::Member, MembershipStatus::Invited));
    // The temporary password alone does not give tokens.
    match stack.sign_in(&email, &temporary).await {
        Err(SignInError::Challenge(name)) => assert_eq!(name, "NEW_PASSWORD_REQUIRED"),
        other => panic!("expected the new-password challenge, got {other:?}"),
    }
    let password = e2e::strong_password();
    let tokens =
        stack.sign_in_first_time(&email, &temporary, &password).await.expect("first sign-in with a new password");
    assert_eq!(tokens.sub().expect("sub"), bob.user_id.to_string());
    let claims = tokens.access_claims().expect("claims");
    assert_eq!(e2e::claim(&claims, "tenant_role").expect("role"), "member");
    assert_eq!(e2e::claim(&claims, "tenant_id").expect("tenant"), tenant.id().to_string());
    let bob_users = users_client::UsersClient::new(stack.client(&tokens.access_token));
    let bob_me = bob_users.me().await.expect("me");
    assert_eq!(bob_me.user_id, bob.user_id);
    assert_eq!(
        (bob_me.status, bob_me.version),
        (MembershipStatus::Active, 2),
        "the first sign-in made the membership active"
    );

    // Inviting the same email again: 409.
    let again = InviteUser {
        email: email.clone(),
        role: TenantRole::Member,
        temporary_password: Some(e2e::strong_password().into()),
    };
    admin.invite(&again).await.refused(409, "conflict").expect("409 for a member already");

    // Members may list, not administer.
    let listed = bob_users.list_page(None, None).await.expect("list");
    assert_eq!(listed.items.len(), 2);
    bob_users.get(tenant.admin_user_id).await.refused(403, "forbidden").expect("get");
    bob_users
        .change_role(bob.user_id, TenantRole::Admin)
        .await
        .refused(403, "forbidden")
        .expect("a member cannot promote itself");
    bob_users.disable(tenant.admin_user_id).await.refused(403, "forbidden").expect("a member cannot disable");

    // Pagination over the members.
    let page = admin.list_page(Some(1), None).await.expect("list");
    assert_eq!(page.items.len(), 1);
    let next = page.next_cursor.expect("a second page");
    let page2 = admin.list_page(Some(1), Some(&next)).await.expect("list");
    assert_eq!(page2.items.len(), 1);
    assert_ne!(page.items[0].user_id, page2.items[0].user_id);

    // Get and role changes.
    let got = admin.get(bob.user_id).await.expect("get");
    assert_eq!(got, bob_me, "as the member sees itself");
    let bob = got;
    let promoted = admin.change_role(bob.user_id, TenantRole::Admin).await.expect("promote");
    assert_eq!((promoted.role, promoted.version), (TenantRole::Admin, bob.version + 1));
    let demoted = admin.change_role(bob.user_id, TenantRole::Member).await.expect("demote");
    assert_eq!(demoted.role, TenantRole::Member);

    // The last active admin cannot be demoted, disabled or deleted.
    let me_id = tenant.admin_user_id;
    admin.change_role(me_id, TenantRole::Member).await.refused(409, "conflict").expect("409 demote");
    admin.disable(me_id).await.refused(409, "conflict").expect("409 disable");
    admin.remove(me_id).await.refused(409, "conflict").expect("409 delete");
    let still = admin.me().await.expect("me");
    assert_eq!((still.role, still.status), (TenantRole::Admin, MembershipStatus::Active));

    // Disable: bob can no longer sign in; idempotent; enable lets him back.
    let disabled = admin.disable(bob.user_id).await.expect("disable");
    assert_eq!(disabled.status, MembershipStatus::Disabled);
    assert_refused(stack.sign_in(&email, &password).await, "a disabled user");
    let again = admin.disable(bob.user_id).await.expect("disable");
    assert_eq!(again.status, MembershipStatus::Disabled);
    let enabled = admin.enable(bob.user_id).await.expect("enable");
    assert_eq!(enabled.status, MembershipStatus::Active);
    stack.sign_in(&email, &password).await.expect("an enabled user signs in again");

    // Delete: gone from the list, the API and Cognito.
    tenant
        .admin
        .api
        .send(reqwest::Method::DELETE, &format!("/users/{}", bob.user_id), None)
        .await
        .expect("delete")
        .expect_status(204)
        .expect("204");
    admin.get(bob.user_id).await.refused(404, "not-found").expect("404");
    admin.remove(bob.user_id).await.refused(404, "not-found").expect("404 again");
    let users: Vec<User> = admin.list(None).try_collect().await.expect("list");
    assert_eq!(users.iter().map(|u| u.user_id).collect::<Vec<_>>(), vec![me_id]);
    assert_refused(stack.sign_in(&email, &password).await, "a deleted user");

    // Bad input.
    for body in [
        serde_json::json!({"email": "not-an-email", "role": "member"}),
        serde_json::json!({"email": format!("x@{domain}"), "role": "owner"}),
        serde_json::json!({"email": format!("x@{domain}"), "role": "member", "tenant_id": tenant.id().to_string()}),
    ] {
        tenant
            .admin
            .api
            .send(reqwest::Method::POST, "/users", Some(body.clone()))
            .await
            .expect("invite")
            .expect_problem(400, "bad-request")
            .unwrap_or_else(|e| panic!("{body}: {e}"));
    }
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn the_free_tier_allows_three_users() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Small", TenantTier::Free).await;
    let domain = format!("{}.example.com", tenant.tenant.slug);
    assert_eq!(TenantTier::Free.limits().max_users, 3);
    let invite = |name: &str| InviteUser {
        email: format!("{}@{domain}", stack.unique(name)),
        role: TenantRole::Member,
        temporary_password: Some(e2e::strong_password().into()),
    };
    // The admin is the first of three.
    let users = &tenant.admin.users;
    for name in ["second", "third"] {
        users.invite(&invite(name)).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    users.invite(&invite("fourth")).await.refused(403, "limit-exceeded").expect("the 4th user is over the free tier");
    let members: Vec<User> = users.list(None).try_collect().await.expect("list");
    assert_eq!(members.len(), 3);
}
