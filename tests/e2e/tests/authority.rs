//! Authority follows the records, through the whole stack: every test uses
//! tokens issued *before* the change it makes.
//!
//! - A suspended tenant's users, a disabled member and a removed member are
//!   refused on every service once the freshness window has passed (the
//!   local stack deploys a short one), with a 403 problem of its own type,
//!   and their refresh tokens no longer refresh.
//! - Privileged writes read the caller's membership fresh: a disabled,
//!   demoted or removed admin's old token is refused at once, and the admin
//!   it aimed at is unchanged.
//! - A tier change governs the next limit check without a new sign-in.
//! - A platform admin taken out of the group is refused at once.

use e2e::{Member, Refused as _, SignInError, Stack};
use notes_client::CreateNote;
use tenancy::{TenantRole, TenantTier};
use users_client::{InviteUser, MembershipStatus, UsersClient};

/// One read route per service, with `member`'s token.
async fn refused_everywhere(member: &Member, kind: &str) {
    for (route, refusal) in [
        ("GET /notes", member.notes.list_page(None, None).await.refused(403, kind)),
        ("GET /users/me", member.users.me().await.refused(403, kind)),
        ("GET /tenant", member.tenants.current().await.refused(403, kind)),
    ] {
        refusal.unwrap_or_else(|e| panic!("{} on {route}: {e}", member.email));
    }
}

fn note(title: &str) -> CreateNote {
    CreateNote { title: title.to_owned(), body: String::new() }
}

async fn refresh_is_refused(stack: &Stack, member: &Member) {
    let token = member.tokens.refresh_token.as_deref().expect("a refresh token");
    match stack.refresh(token).await {
        Err(SignInError::Refused { .. }) => {}
        other => panic!("{}: the old refresh token still refreshes: {other:?}", member.email),
    }
}

fn invite(email: &str, role: TenantRole) -> InviteUser {
    InviteUser { email: email.to_owned(), role, temporary_password: Some(e2e::strong_password().into()) }
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_suspended_tenant_is_refused_on_every_service_and_its_sessions_end() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Suspended", TenantTier::Pro).await;
    let domain = format!("{}.example.com", tenant.tenant.slug);
    let member = stack.invite(&tenant.admin, "mia", &domain, TenantRole::Member).await.expect("member").member;
    let ops = stack.platform_admin().await.expect("platform admin");
    // Both tokens work before.
    for who in [&tenant.admin, &member] {
        who.notes.list_page(None, None).await.expect("200");
    }

    ops.tenants.suspend(tenant.id()).await.expect("suspended");
    // Sessions end at once: no new tokens from the old refresh tokens.
    refresh_is_refused(&stack, &tenant.admin).await;
    refresh_is_refused(&stack, &member).await;
    // Within the window the old access tokens are refused everywhere.
    stack.wait_out_the_freshness_window().await.expect("window");
    refused_everywhere(&tenant.admin, "tenant-inactive").await;
    refused_everywhere(&member, "tenant-inactive").await;
    tenant
        .admin
        .notes
        .create(&note("after the suspension"))
        .await
        .refused(403, "tenant-inactive")
        .expect("no write either");

    // The refresh tokens were revoked, not merely refused while suspended:
    // after a reactivation they still do not refresh; a new sign-in works.
    ops.tenants.reactivate(tenant.id()).await.expect("reactivated");
    refresh_is_refused(&stack, &tenant.admin).await;
    refresh_is_refused(&stack, &member).await;
    stack.sign_in(&member.email, &member.password).await.expect("a new sign-in after the reactivation");
}

/// `GlobalSignOut` with the user's own access token, as Cognito does it:
/// every refresh token of the user stops working.
#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_global_sign_out_ends_every_session_of_the_user() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Careful", TenantTier::Free).await;
    let admin = &tenant.admin;
    let second = stack.member(&admin.email, &admin.password).await.expect("a second session");
    stack.cognito().global_sign_out().access_token(&second.tokens.access_token).send().await.expect("GlobalSignOut");
    refresh_is_refused(&stack, admin).await;
    refresh_is_refused(&stack, &second).await;
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_disabled_or_removed_member_is_refused_and_cannot_refresh() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Leavers", TenantTier::Pro).await;
    let domain = format!("{}.example.com", tenant.tenant.slug);
    let admin = &tenant.admin;
    let disabled = stack.invite(admin, "dora", &domain, TenantRole::Member).await.expect("dora");
    let removed = stack.invite(admin, "rex", &domain, TenantRole::Member).await.expect("rex");

    admin.users.disable(disabled.user.user_id).await.expect("disabled");
    admin.users.remove(removed.user.user_id).await.expect("removed");
    refresh_is_refused(&stack, &disabled.member).await;
    refresh_is_refused(&stack, &removed.member).await;

    stack.wait_out_the_freshness_window().await.expect("window");
    refused_everywhere(&disabled.member, "membership-inactive").await;
    refused_everywhere(&removed.member, "membership-inactive").await;
    removed
        .member
        .notes
        .create(&note("a removed member writes"))
        .await
        .refused(403, "membership-inactive")
        .expect("refused");
    // The admin, whose records did not change, is served as before.
    admin.notes.list_page(None, None).await.expect("200");
}

/// The three sequences a stale admin token used to win: each refused at
/// once (no waiting: privileged writes read the caller's membership fresh).
#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_stale_admin_token_can_undo_nothing() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Coup", TenantTier::Pro).await;
    let domain = format!("{}.example.com", tenant.tenant.slug);
    let victim = &tenant.admin.users;
    let victim_id = tenant.admin_user_id;
    let victim_before = victim.get(victim_id).await.expect("victim");
    let admin_of = |stack_invite: e2e::Invited| (stack_invite.user.user_id, stack_invite.member.users);

    // A disabled admin re-enables itself, or disables its victim.
    let (disabled_id, disabled): (_, UsersClient) =
        admin_of(stack.invite(&tenant.admin, "dis", &domain, TenantRole::Admin).await.expect("admin"));
    victim.disable(disabled_id).await.expect("disabled");
    for (what, answer) in [
        ("re-enable itself", disabled.enable(disabled_id).await),
        ("disable the victim", disabled.disable(victim_id).await),
    ] {
        answer.refused(403, "membership-inactive").unwrap_or_else(|e| panic!("a disabled admin may not {what}: {e}"));
    }

    // A demoted admin promotes itself back.
    let (demoted_id, demoted) =
        admin_of(stack.invite(&tenant.admin, "dem", &domain, TenantRole::Admin).await.expect("admin"));
    victim.change_role(demoted_id, TenantRole::Member).await.expect("demoted");
    demoted
        .change_role(demoted_id, TenantRole::Admin)
        .await
        .refused(403, "forbidden")
        .expect("a demoted admin may not promote itself");

    // A removed admin invites an admin account it controls.
    let (removed_id, removed) =
        admin_of(stack.invite(&tenant.admin, "rem", &domain, TenantRole::Admin).await.expect("admin"));
    victim.remove(removed_id).await.expect("removed");
    let accomplice = format!("{}@{domain}", stack.unique("accomplice"));
    removed
        .invite(&invite(&accomplice, TenantRole::Admin))
        .await
        .refused(403, "membership-inactive")
        .expect("a removed admin may not invite");

    // The victim and the records are as they should be.
    let victim_after = victim.get(victim_id).await.expect("victim");
    assert_eq!(victim_after, victim_before, "the victim admin is unchanged");
    let users = victim.list_page(Some(100), None).await.expect("list");
    let status = |id| users.items.iter().find(|user| user.user_id == id).map(|user| (user.role, user.status));
    assert_eq!(status(disabled_id), Some((TenantRole::Admin, MembershipStatus::Disabled)));
    assert_eq!(status(demoted_id), Some((TenantRole::Member, MembershipStatus::Active)));
    assert_eq!(status(removed_id), None);
    assert!(users.items.iter().all(|user| user.email != accomplice), "no accomplice was invited");
}

/// Limits follow the tenant's tier as recorded, with the same token.
#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_tier_change_governs_the_next_limit_check_without_a_new_sign_in() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Growing", TenantTier::Free).await;
    let domain = format!("{}.example.com", tenant.tenant.slug);
    let admin = &tenant.admin.users;
    let ops = stack.platform_admin().await.expect("platform admin");
    let max_users = TenantTier::Free.limits().max_users;
    let fresh_email = || format!("{}@{domain}", stack.unique("seat"));
    for _ in 1..max_users {
        admin.invite(&invite(&fresh_email(), TenantRole::Member)).await.expect("a seat");
    }
    admin
        .invite(&invite(&fresh_email(), TenantRole::Member))
        .await
        .refused(403, "limit-exceeded")
        .expect("the free tier is full");

    ops.tenants.change_tier(tenant.id(), TenantTier::Pro).await.expect("pro");
    stack.wait_out_the_freshness_window().await.expect("window");
    // The admin's token still says "free"; the record says pro.
    admin.invite(&invite(&fresh_email(), TenantRole::Member)).await.expect("room on pro with the old token");

    ops.tenants.change_tier(tenant.id(), TenantTier::Free).await.expect("free again");
    admin
        .invite(&invite(&fresh_email(), TenantRole::Member))
        .await
        .refused(403, "limit-exceeded")
        .expect("full again on free, with a token that said pro nowhere");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_platform_admin_taken_out_of_the_group_is_refused_at_once() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Watched", TenantTier::Pro).await;
    let ops = stack.platform_admin().await.expect("platform admin");
    ops.tenants.list_page(Some(1), None).await.expect("200");
    stack.remove_platform_admin(&ops.email).await.expect("removed from the group");
    ops.tenants
        .list_page(Some(1), None)
        .await
        .refused(403, "forbidden")
        .expect("the token's group claim no longer counts");
    ops.tenants.suspend(tenant.id()).await.refused(403, "forbidden").expect("no suspension either");
    let record = tenant.admin.tenants.current().await.expect("tenant");
    assert_eq!(record.status, tenancy::TenantStatus::Active);
}
