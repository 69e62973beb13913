//! The users routes and internal commands end to end through the handler,
//! over the in-memory store and the in-memory directory.

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use serde_json::json;
use std::time::Duration;
use tenancy::audit::{ActorRole, MemoryAuditStore};
use tenancy::authority::{Membership, MemoryAuthorityStore, TenantRecord};
use tenancy::erasure::TenantData as _;
use tenancy::events::{Change, MemoryBus};
use tenancy::password::PasswordPolicy;
use tenancy::testing::{
    Req, SignedIn, assert_problem, body_text, committed_document, every_page, json_of, memory_authority, memory_records,
};
use tenancy::{TenantId, TenantStatus, TenantTier};
use users::directory::{FakeUser, MemoryDirectory, PasswordState};
use users::domain::{CURSOR, MembershipStatus, TenantRole, User, UserId};
use users::entrypoint::UsersApi;
use users::store::{MembershipStore as _, MemoryMembershipStore};
use users_api::{InternalCommand, InternalResponse, UserList};

const PASSWORD: &str = "Secret-passw0rd";

fn user_of(response: &ApiGatewayV2httpResponse) -> User {
    serde_json::from_value(json_of(response)).expect("user")
}

fn email(n: &str) -> String {
    format!("{n}@example.com")
}

struct Harness {
    api: UsersApi<MemoryMembershipStore, MemoryDirectory, MemoryAuthorityStore, MemoryAuditStore, MemoryBus>,
}

impl Harness {
    fn new() -> Self {
        Self::with_freshness(Duration::ZERO)
    }

    /// Records cached for `freshness` (zero: read on every request).
    fn with_freshness(freshness: Duration) -> Self {
        Self {
            api: UsersApi::new(
                MemoryMembershipStore::default(),
                MemoryDirectory::default(),
                memory_authority(freshness),
                memory_records(),
                PasswordPolicy::default(),
            ),
        }
    }

    /// The records authority reads (see `call`).
    fn records(&self) -> &MemoryAuthorityStore {
        self.api.authority().store()
    }

    fn store(&self) -> &MemoryMembershipStore {
        self.api.store()
    }

    fn directory(&self) -> &MemoryDirectory {
        self.api.directory()
    }

    /// Every response is checked against the committed OpenAPI document.
    /// The records authority reads are the store's memberships (one table in
    /// production) and, for each tenant, a record made from the first token
    /// that names it.
    async fn call(&self, req: Req) -> ApiGatewayV2httpResponse {
        if let Some(claims) = &req.claims {
            self.records().ensure_member_from_claims(claims);
        }
        let memberships = self.store().snapshot().into_iter().flat_map(|(tenant, partition)| {
            partition.members.into_values().map(move |user| {
                let membership = Membership { role: user.role, status: user.status };
                ((tenant, user.user_id), membership)
            })
        });
        self.records().replace_memberships(memberships);
        let route = req.route;
        let response = self.api.handle(req.event()).await;
        committed_document(env!("CARGO_MANIFEST_DIR")).check_response(route, &response);
        response
    }

    async fn internal(&self, tenant: TenantId, tier: TenantTier, email: &str, password: &str) -> InternalResponse {
        let command = InternalCommand::CreateFirstAdmin {
            tenant_id: tenant,
            tier,
            email: email.to_owned(),
            password: password.into(),
        };
        self.api.handle_internal(command, "test-invocation").await
    }

    /// A new tenant with its first admin (as registration creates it).
    async fn tenant(&self, tier: TenantTier) -> SignedIn {
        let tenant = TenantId::generate();
        let admin = email(&format!("admin-{}", tenant.as_uuid().simple()));
        let InternalResponse::Created { user_id } = self.internal(tenant, tier, &admin, PASSWORD).await else {
            panic!("first admin not created")
        };
        SignedIn::new(tenant, user_id, "admin", tier.as_str())
    }

    /// Invites `address`, who then signs in for the first time (the
    /// token-claims trigger's `ActivateInvited`): an active member.
    async fn invite(&self, admin: &SignedIn, address: &str, role: &str) -> User {
        let invited = self.invite_only(admin, address, role).await;
        self.first_sign_in(admin.tenant, &invited).await;
        let active = self.api.store().get(&admin.tenant, invited.user_id).await.expect("store").expect("membership");
        assert_eq!(active.status, MembershipStatus::Active);
        active
    }

    /// Invites `address`, who has not signed in yet.
    async fn invite_only(&self, admin: &SignedIn, address: &str, role: &str) -> User {
        let response = self
            .call(
                Req::to("POST /users").body(json!({"email": address, "role": role}).to_string()).claims(admin.claims()),
            )
            .await;
        assert_eq!(response.status_code, 201, "{}", body_text(&response));
        let user = user_of(&response);
        assert_eq!(user.status, MembershipStatus::Invited);
        user
    }

    /// An invited member's first sign-in: it chooses a password (Cognito),
    /// and the token-claims trigger asks for `ActivateInvited`.
    async fn first_sign_in(&self, tenant: TenantId, user: &User) -> InternalResponse {
        self.directory().confirm(&user.email, "Chosen-passw0rd-1");
        self.api
            .handle_internal(
                InternalCommand::ActivateInvited { tenant_id: tenant, user_id: user.user_id },
                "first-sign-in",
            )
            .await
    }

    async fn on_user(&self, caller: &SignedIn, route: &'static str, id: UserId) -> ApiGatewayV2httpResponse {
        self.call(Req::to(route).param(id.to_string()).claims(caller.claims())).await
    }

    async fn set_role(&self, caller: &SignedIn, id: UserId, role: &str) -> ApiGatewayV2httpResponse {
        self.call(
            Req::to("PUT /users/{user_id}/role")
                .param(id.to_string())
                .body(json!({"role": role}).to_string())
                .claims(caller.claims()),
        )
        .await
    }

    /// The first page, default size.
    async fn list(&self, caller: &SignedIn) -> UserList {
        let response = self.call(Req::to("GET /users").claims(caller.claims())).await;
        serde_json::from_value(json_of(&response)).expect("list")
    }

    /// The `users` and `admins` counters of a tenant.
    fn counters(&self, tenant: &TenantId) -> (i64, i64) {
        let partition = self.store().tenant(tenant);
        (partition.users, partition.admins)
    }
}

#[tokio::test]
async fn every_route_works_for_an_admin() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    assert_eq!(harness.counters(&admin.tenant), (1, 1));

    // Invite: Cognito sends the invitation (no temporary password given).
    let response = harness
        .call(
            Req::to("POST /users")
                .body(json!({"email": " Bob@Example.COM ", "role": "member"}).to_string())
                .claims(admin.claims()),
        )
        .await;
    assert_eq!(response.status_code, 201, "{}", body_text(&response));
    let invited = user_of(&response);
    assert_eq!(response.headers["location"], format!("/users/{}", invited.user_id).as_str());
    assert_eq!(
        (invited.email.as_str(), invited.role, invited.status, invited.version),
        ("bob@example.com", TenantRole::Member, MembershipStatus::Invited, 1)
    );
    let cognito = harness.directory().user("bob@example.com").expect("directory user");
    assert_eq!(cognito.user_id, invited.user_id, "the user id is the Cognito sub");
    assert_eq!(cognito.tenant, Some(admin.tenant));
    assert!(cognito.email_verified && cognito.enabled && !cognito.message_suppressed);
    assert_eq!(cognito.invitations_sent, 1);
    assert_eq!(harness.counters(&admin.tenant), (2, 1));

    // Before the first sign-in: the invitation can be resent; there is no
    // password to reset, and no API access. Disabling blocks the first
    // sign-in; enabling makes it an invitee again.
    let resent = harness.on_user(&admin, "POST /users/{user_id}/invitation", invited.user_id).await;
    assert_eq!(resent.status_code, 202, "{}", body_text(&resent));
    assert_eq!(user_of(&resent), invited);
    assert_eq!(harness.directory().user("bob@example.com").expect("user").invitations_sent, 2);
    let refused = harness.on_user(&admin, "POST /users/{user_id}/password-reset", invited.user_id).await;
    assert!(assert_problem(&refused, 409).detail.contains("not signed in yet"));
    let held = user_of(&harness.on_user(&admin, "POST /users/{user_id}/disable", invited.user_id).await);
    assert_eq!((held.status, held.version), (MembershipStatus::Disabled, 2));
    assert!(!harness.directory().user("bob@example.com").expect("user").enabled);
    let invited = user_of(&harness.on_user(&admin, "POST /users/{user_id}/enable", invited.user_id).await);
    assert_eq!((invited.status, invited.version), (MembershipStatus::Invited, 3));
    assert!(harness.directory().user("bob@example.com").expect("user").enabled);
    let not_yet = SignedIn::new(admin.tenant, invited.user_id, "member", "pro");
    let me = harness.call(Req::to("GET /users/me").claims(not_yet.claims())).await;
    assert_problem(&me, 403);

    // The first sign-in (the token-claims trigger) makes it active, once.
    assert_eq!(
        harness.first_sign_in(admin.tenant, &invited).await,
        InternalResponse::Activated { user_id: invited.user_id }
    );
    assert_eq!(
        harness.first_sign_in(admin.tenant, &invited).await,
        InternalResponse::Activated { user_id: invited.user_id },
        "safe to repeat"
    );
    let bob = user_of(&harness.on_user(&admin, "GET /users/{user_id}", invited.user_id).await);
    assert_eq!((bob.status, bob.version), (MembershipStatus::Active, 4));
    assert_problem(&harness.on_user(&admin, "POST /users/{user_id}/invitation", bob.user_id).await, 409);

    // List, get, me.
    let list = harness.list(&admin).await;
    assert_eq!(list.items.len(), 2);
    assert!(list.items.contains(&bob) && list.next_cursor.is_none());
    assert_eq!(user_of(&harness.on_user(&admin, "GET /users/{user_id}", bob.user_id).await), bob);
    let member = SignedIn::new(admin.tenant, bob.user_id, "member", "pro");
    let me = harness.call(Req::to("GET /users/me").claims(member.claims())).await;
    assert_eq!(user_of(&me), bob);

    // Promote: the admins counter follows.
    let promoted = user_of(&harness.set_role(&admin, bob.user_id, "admin").await);
    assert_eq!((promoted.role, promoted.version), (TenantRole::Admin, 5));
    assert_eq!(harness.counters(&admin.tenant), (2, 2));
    // The same role again changes nothing.
    assert_eq!(user_of(&harness.set_role(&admin, bob.user_id, "admin").await), promoted);

    // Disable: membership, Cognito user and sessions; an active admin no more.
    let disabled = user_of(&harness.on_user(&admin, "POST /users/{user_id}/disable", bob.user_id).await);
    assert_eq!((disabled.status, disabled.version), (MembershipStatus::Disabled, 6));
    let cognito = harness.directory().user("bob@example.com").expect("directory user");
    assert!(!cognito.enabled);
    assert_eq!(cognito.sign_outs, 2, "one for the invitee held earlier");
    assert_eq!(harness.counters(&admin.tenant), (2, 1));
    // Idempotent: the same answer, Cognito calls repeated, no new version.
    let again = harness.on_user(&admin, "POST /users/{user_id}/disable", bob.user_id).await;
    assert_eq!(user_of(&again), disabled);
    assert_eq!(harness.counters(&admin.tenant), (2, 1));
    // A disabled member's password is not reset.
    assert_problem(&harness.on_user(&admin, "POST /users/{user_id}/password-reset", bob.user_id).await, 409);

    // Enable.
    let enabled = user_of(&harness.on_user(&admin, "POST /users/{user_id}/enable", bob.user_id).await);
    assert_eq!((enabled.status, enabled.version), (MembershipStatus::Active, 7));
    assert!(harness.directory().user("bob@example.com").expect("user").enabled);
    assert_eq!(harness.counters(&admin.tenant), (2, 2));

    // Password reset: sessions end and a code is sent; the membership stays.
    let reset = harness.on_user(&admin, "POST /users/{user_id}/password-reset", bob.user_id).await;
    assert_eq!(reset.status_code, 202, "{}", body_text(&reset));
    assert_eq!(user_of(&reset), enabled);
    let cognito = harness.directory().user("bob@example.com").expect("user");
    assert_eq!((cognito.reset_codes_sent, cognito.sign_outs), (1, 4), "one more sign-out");

    // Delete: membership and Cognito user gone, counters follow.
    let response = harness.on_user(&admin, "DELETE /users/{user_id}", bob.user_id).await;
    assert_eq!(response.status_code, 204, "{}", body_text(&response));
    assert_eq!(body_text(&response), "");
    assert!(harness.directory().user("bob@example.com").is_none());
    assert_eq!(harness.counters(&admin.tenant), (1, 1));
    assert_problem(&harness.on_user(&admin, "GET /users/{user_id}", bob.user_id).await, 404);
    assert_problem(&harness.on_user(&admin, "DELETE /users/{user_id}", bob.user_id).await, 404);
    assert_eq!(harness.list(&admin).await.items.len(), 1);
}

#[tokio::test]
async fn an_invitation_with_a_temporary_password_sends_no_message() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let response = harness
        .call(
            Req::to("POST /users")
                .body(
                    json!({"email": "carol@example.com", "role": "admin", "temporary_password": "Temp-passw0rd"})
                        .to_string(),
                )
                .claims(admin.claims()),
        )
        .await;
    assert_eq!(response.status_code, 201, "{}", body_text(&response));
    assert_eq!(user_of(&response).role, TenantRole::Admin);
    let cognito = harness.directory().user("carol@example.com").expect("directory user");
    assert!(cognito.message_suppressed);
    assert_eq!(cognito.password, PasswordState::Temporary);
    assert_eq!(cognito.password_value.as_deref(), Some("Temp-passw0rd"));
    assert_eq!(cognito.invitations_sent, 0);
    assert_eq!(user_of(&response).status, MembershipStatus::Invited);
    assert_eq!(harness.counters(&admin.tenant), (2, 1), "an invited admin counts as an admin from its first sign-in");
    let carol = user_of(&response);
    assert_eq!(
        harness.first_sign_in(admin.tenant, &carol).await,
        InternalResponse::Activated { user_id: carol.user_id }
    );
    assert_eq!(harness.counters(&admin.tenant), (2, 2));
}

#[tokio::test]
async fn members_may_only_read_the_list_and_themselves() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let bob = harness.invite(&admin, "bob@example.com", "member").await;
    let member = SignedIn::new(admin.tenant, bob.user_id, "member", "pro");
    let store_before = harness.store().snapshot();
    let directory_before = harness.directory().snapshot();

    assert_eq!(harness.list(&member).await.items.len(), 2);
    let me = harness.call(Req::to("GET /users/me").claims(member.claims())).await;
    assert_eq!(user_of(&me), bob);

    let target = admin.user_id.to_string();
    let cases = [
        ("POST /users", None, Some(json!({"email": "eve@example.com", "role": "admin"}))),
        ("GET /users/{user_id}", Some(target.clone()), None),
        ("PUT /users/{user_id}/role", Some(target.clone()), Some(json!({"role": "member"}))),
        ("POST /users/{user_id}/disable", Some(target.clone()), None),
        ("POST /users/{user_id}/enable", Some(target.clone()), None),
        ("DELETE /users/{user_id}", Some(target.clone()), None),
        // Not even on themselves.
        ("PUT /users/{user_id}/role", Some(bob.user_id.to_string()), Some(json!({"role": "admin"}))),
    ];
    for (route, user_id, body) in cases {
        let response = harness
            .call(Req {
                route,
                path_param: user_id,
                body: body.map(|body| body.to_string()),
                claims: member.claims(),
                ..Req::default()
            })
            .await;
        let problem = assert_problem(&response, 403);
        assert!(problem.detail.contains("administrators"), "{route}: {}", problem.detail);
    }
    assert_eq!(harness.store().snapshot(), store_before);
    assert_eq!(harness.directory().snapshot(), directory_before);
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_disabled_or_deleted() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let store_before = harness.store().snapshot();
    let directory_before = harness.directory().snapshot();
    for response in [
        harness.set_role(&admin, admin.user_id, "member").await,
        harness.on_user(&admin, "POST /users/{user_id}/disable", admin.user_id).await,
        harness.on_user(&admin, "DELETE /users/{user_id}", admin.user_id).await,
    ] {
        let problem = assert_problem(&response, 409);
        assert!(problem.detail.contains("at least one active administrator"), "{}", problem.detail);
    }
    assert_eq!(harness.store().snapshot(), store_before, "nothing changes");
    assert_eq!(harness.directory().snapshot(), directory_before, "nothing changes");

    // With a second admin, the first may go; then the second is the last.
    let second = harness.invite(&admin, "second@example.com", "admin").await;
    let response = harness.set_role(&admin, admin.user_id, "member").await;
    assert_eq!(response.status_code, 200, "{}", body_text(&response));
    assert_eq!(harness.counters(&admin.tenant), (2, 1));
    let second_caller = SignedIn::new(admin.tenant, second.user_id, "admin", "pro");
    assert_problem(&harness.set_role(&second_caller, second.user_id, "member").await, 409);
    assert_problem(&harness.on_user(&second_caller, "POST /users/{user_id}/disable", second.user_id).await, 409);
    assert_problem(&harness.on_user(&second_caller, "DELETE /users/{user_id}", second.user_id).await, 409);
    // A disabled admin does not count: enabling one brings the count back.
    let third = harness.invite(&second_caller, "third@example.com", "admin").await;
    let response = harness.on_user(&second_caller, "POST /users/{user_id}/disable", third.user_id).await;
    assert_eq!(response.status_code, 200);
    assert_problem(&harness.on_user(&second_caller, "DELETE /users/{user_id}", second.user_id).await, 409);
    let response = harness.on_user(&second_caller, "POST /users/{user_id}/enable", third.user_id).await;
    assert_eq!(response.status_code, 200);
    let response = harness.on_user(&second_caller, "DELETE /users/{user_id}", second.user_id).await;
    assert_eq!(response.status_code, 204, "{}", body_text(&response));
    assert_eq!(harness.counters(&admin.tenant), (2, 1));
}

#[tokio::test]
async fn the_tier_limits_the_number_of_users() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Free).await;
    let limit = TenantTier::Free.limits().max_users;
    for n in 1..limit {
        let user = harness.invite(&admin, &email(&format!("user{n}")), "member").await;
        if n == 1 {
            // Disabled members still count.
            let response = harness.on_user(&admin, "POST /users/{user_id}/disable", user.user_id).await;
            assert_eq!(response.status_code, 200);
        }
    }
    let directory_before = harness.directory().snapshot();
    let store_before = harness.store().snapshot();
    let response = harness
        .call(
            Req::to("POST /users")
                .body(json!({"email": "one-too-many@example.com", "role": "member"}).to_string())
                .claims(admin.claims()),
        )
        .await;
    let problem = assert_problem(&response, 403);
    assert_eq!(problem.kind, "urn:problem:limit-exceeded");
    assert!(problem.detail.contains("free tier"), "{}", problem.detail);
    assert_eq!(harness.directory().snapshot(), directory_before, "Cognito is not touched");
    assert_eq!(harness.store().snapshot(), store_before);
    assert_eq!(harness.counters(&admin.tenant), (limit, 1));

    // At the limit the real reason still comes first: inviting a member
    // again, or an address of another tenant, is a conflict.
    let other = harness.tenant(TenantTier::Free).await;
    harness.invite(&other, "elsewhere@example.com", "member").await;
    for (address, says) in
        [(email("user2"), "already belongs to a member"), ("elsewhere@example.com".to_owned(), "already registered")]
    {
        let again = harness
            .call(
                Req::to("POST /users")
                    .body(json!({"email": address, "role": "member"}).to_string())
                    .claims(admin.claims()),
            )
            .await;
        let problem = assert_problem(&again, 409);
        assert!(problem.detail.contains(says), "{address}: {}", problem.detail);
    }
    assert_eq!(harness.counters(&admin.tenant), (limit, 1), "nothing written");

    // Deleting frees room.
    let victim = harness.list(&admin).await.items.into_iter().find(|u| u.user_id != admin.user_id);
    let victim = victim.expect("a member");
    let response = harness.on_user(&admin, "DELETE /users/{user_id}", victim.user_id).await;
    assert_eq!(response.status_code, 204);
    harness.invite(&admin, "one-too-many@example.com", "member").await;

    // The tier comes from the tenant's record, not the token: a token that
    // claims pro finds no room, the tenant moved to pro does.
    let mut pro = admin.clone();
    pro.claims.insert("tenant_tier".into(), "pro".into());
    let more = || {
        Req::to("POST /users")
            .body(json!({"email": "more@example.com", "role": "member"}).to_string())
            .claims(pro.claims())
    };
    assert_eq!(assert_problem(&harness.call(more()).await, 403).kind, "urn:problem:limit-exceeded");
    let record = TenantRecord { status: TenantStatus::Active, tier: TenantTier::Pro };
    harness.records().set_tenant(admin.tenant, record);
    assert_eq!(harness.call(more()).await.status_code, 201);
}

#[tokio::test]
async fn a_failed_membership_write_undoes_the_cognito_user() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let store_before = harness.store().snapshot();
    harness.store().set_writes_unavailable(true);
    let response = harness
        .call(
            Req::to("POST /users")
                .body(json!({"email": "dan@example.com", "role": "admin"}).to_string())
                .claims(admin.claims()),
        )
        .await;
    let problem = assert_problem(&response, 503);
    assert!(problem.detail.contains("retry"), "{}", problem.detail);
    harness.store().set_writes_unavailable(false);
    assert!(harness.directory().user("dan@example.com").is_none(), "compensated");
    assert_eq!(harness.store().snapshot(), store_before);
    // The retry succeeds.
    harness.invite(&admin, "dan@example.com", "admin").await;
}

#[tokio::test]
async fn an_existing_email_is_adopted_refused_or_reported() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let other = harness.tenant(TenantTier::Pro).await;

    // A leftover of this tenant without a membership (an invitation that failed
    // part-way): adopted.
    let leftover = FakeUser {
        user_id: UserId::generate(),
        tenant: Some(admin.tenant),
        email_verified: true,
        password: PasswordState::Temporary,
        password_value: None,
        message_suppressed: false,
        enabled: true,
        sign_outs: 0,
        invitations_sent: 0,
        reset_codes_sent: 0,
    };
    harness.directory().insert("erin@example.com", leftover.clone());
    let erin = harness.invite(&admin, "erin@example.com", "member").await;
    assert_eq!(erin.user_id, leftover.user_id);

    // A member already.
    let again = harness
        .call(
            Req::to("POST /users")
                .body(json!({"email": "ERIN@example.com", "role": "admin"}).to_string())
                .claims(admin.claims()),
        )
        .await;
    assert!(assert_problem(&again, 409).detail.contains("already belongs to a member"));

    // Another tenant's user: refused without naming the tenant, nothing changes.
    let frank = harness.invite(&other, "frank@example.com", "member").await;
    let store_before = harness.store().snapshot();
    let directory_before = harness.directory().snapshot();
    let response = harness
        .call(
            Req::to("POST /users")
                .body(json!({"email": "frank@example.com", "role": "member"}).to_string())
                .claims(admin.claims()),
        )
        .await;
    let problem = assert_problem(&response, 409);
    assert!(problem.detail.contains("already registered"), "{}", problem.detail);
    assert!(!body_text(&response).contains(&other.tenant.to_string()));
    assert!(!body_text(&response).contains(&frank.user_id.to_string()));
    assert_eq!(harness.store().snapshot(), store_before);
    assert_eq!(harness.directory().snapshot(), directory_before);
}

#[tokio::test]
async fn the_tenant_of_a_new_user_comes_from_the_claims_only() {
    let harness = Harness::new();
    let alice = harness.tenant(TenantTier::Pro).await;
    let bob = harness.tenant(TenantTier::Pro).await;
    // A header naming another tenant is ignored.
    let response = harness
        .call(
            Req::to("POST /users")
                .body(json!({"email": "gina@example.com", "role": "member"}).to_string())
                .claims(alice.claims())
                .header("x-tenant-id", bob.tenant.to_string()),
        )
        .await;
    assert_eq!(response.status_code, 201, "{}", body_text(&response));
    let gina = user_of(&response);
    assert_eq!(harness.directory().user("gina@example.com").expect("user").tenant, Some(alice.tenant));
    assert!(harness.store().tenant(&alice.tenant).members.contains_key(&gina.user_id));
    assert!(!harness.store().tenant(&bob.tenant).members.contains_key(&gina.user_id));
    // A body naming a tenant is refused outright.
    let before = (harness.store().snapshot(), harness.directory().snapshot());
    for body in [
        json!({"email": "hal@example.com", "role": "member", "tenant_id": bob.tenant.to_string()}),
        json!({"email": "hal@example.com", "role": "member", "custom:tenant_id": bob.tenant.to_string()}),
    ] {
        let response = harness.call(Req::to("POST /users").body(body.to_string()).claims(alice.claims())).await;
        assert_problem(&response, 400);
    }
    assert_eq!((harness.store().snapshot(), harness.directory().snapshot()), before);
}

#[tokio::test]
async fn admins_of_one_tenant_cannot_reach_another_tenants_users() {
    let harness = Harness::new();
    let alice = harness.tenant(TenantTier::Pro).await;
    let bob = harness.tenant(TenantTier::Pro).await;
    let alices_member = harness.invite(&alice, "ivy@example.com", "member").await;
    harness.invite(&bob, "jack@example.com", "member").await;
    let store_before = harness.store().snapshot();
    let directory_before = harness.directory().snapshot();

    for target in [alice.user_id, alices_member.user_id] {
        for route in [
            "GET /users/{user_id}",
            "POST /users/{user_id}/disable",
            "POST /users/{user_id}/enable",
            "DELETE /users/{user_id}",
        ] {
            assert_problem(&harness.on_user(&bob, route, target).await, 404);
        }
        assert_problem(&harness.set_role(&bob, target, "admin").await, 404);
    }
    let bobs: Vec<String> = harness.list(&bob).await.items.into_iter().map(|u| u.email).collect();
    assert_eq!(bobs.len(), 2);
    assert!(bobs.iter().all(|email| !email.contains("ivy")));
    // `me` with another tenant's claims finds nothing of this tenant.
    let stranger = SignedIn::new(bob.tenant, alices_member.user_id, "member", "pro");
    let me = harness.call(Req::to("GET /users/me").claims(stranger.claims())).await;
    // A token naming a tenant the user is no member of: refused before anything is read.
    assert_eq!(assert_problem(&me, 403).kind, "urn:problem:membership-inactive");
    assert_eq!(harness.store().snapshot(), store_before);
    assert_eq!(harness.directory().snapshot(), directory_before);
}

#[tokio::test]
async fn the_list_pages_without_gaps_or_repeats() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let mut expected = vec![admin.user_id];
    for n in 0..24 {
        expected.push(harness.invite(&admin, &email(&format!("p{n}")), "member").await.user_id);
    }
    expected.sort();
    let pages: Vec<Vec<User>> =
        every_page(10, async |query| harness.call(Req::to("GET /users").query(query).claims(admin.claims())).await)
            .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
    let seen: Vec<_> = pages.iter().flatten().map(|user| user.user_id).collect();
    assert_eq!(seen, expected, "sort key order, each user once");
    assert_eq!(harness.list(&admin).await.items.len(), 20, "the default page size is 20");
}

#[tokio::test]
async fn a_delete_interrupted_after_marking_resumes() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let kim = harness.invite(&admin, "kim@example.com", "admin").await;
    harness.directory().set_unavailable(true);
    let response = harness.on_user(&admin, "DELETE /users/{user_id}", kim.user_id).await;
    assert_problem(&response, 503);
    harness.directory().set_unavailable(false);
    // Marked: counted out, visible as `deleting`, not changeable.
    let marked = user_of(&harness.on_user(&admin, "GET /users/{user_id}", kim.user_id).await);
    assert_eq!(marked.status, MembershipStatus::Deleting);
    assert_eq!(harness.counters(&admin.tenant), (1, 1));
    let problem = assert_problem(&harness.set_role(&admin, kim.user_id, "member").await, 409);
    assert!(problem.detail.contains("DELETE"), "{}", problem.detail);
    assert_problem(&harness.on_user(&admin, "POST /users/{user_id}/enable", kim.user_id).await, 409);
    // The retry finishes.
    let response = harness.on_user(&admin, "DELETE /users/{user_id}", kim.user_id).await;
    assert_eq!(response.status_code, 204, "{}", body_text(&response));
    assert!(harness.directory().user("kim@example.com").is_none());
    assert!(!harness.store().tenant(&admin.tenant).members.contains_key(&kim.user_id));
    assert_eq!(harness.counters(&admin.tenant), (1, 1));
}

#[tokio::test]
async fn a_delete_never_touches_a_cognito_user_that_is_not_the_member() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let liz = harness.invite(&admin, "liz@example.com", "member").await;
    // The address now belongs to someone else in Cognito (broken state).
    let impostor = FakeUser {
        user_id: UserId::generate(),
        tenant: Some(TenantId::generate()),
        ..harness.directory().user("liz@example.com").expect("user")
    };
    harness.directory().insert("liz@example.com", impostor.clone());
    for route in ["POST /users/{user_id}/disable", "POST /users/{user_id}/enable"] {
        assert_eq!(harness.on_user(&admin, route, liz.user_id).await.status_code, 200);
    }
    let response = harness.on_user(&admin, "DELETE /users/{user_id}", liz.user_id).await;
    assert_eq!(response.status_code, 204);
    assert_eq!(harness.directory().user("liz@example.com"), Some(impostor));
}

/// Every bad request on every route: a 4xx problem body and nothing written.
#[tokio::test]
async fn bad_input_gets_a_problem_body_and_writes_nothing() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let member = harness.invite(&admin, "keep@example.com", "member").await;
    let store_before = harness.store().snapshot();
    let directory_before = harness.directory().snapshot();
    let id = member.user_id.to_string();
    let claims = || admin.claims();
    let invite = |body: &str| Req::to("POST /users").body(body.to_owned()).claims(claims());
    let oversized = json!({"email": "a@example.com", "role": "member", "temporary_password": "x".repeat(8 * 1024)});
    let mut without_tenant = admin.claims.clone();
    without_tenant.remove("tenant_id");
    let mut bad_tenant = admin.claims.clone();
    bad_tenant.insert("tenant_id".into(), "../other".into());
    // Tokens with no records behind them (role or tier do not even parse).
    let unknown = SignedIn::new(admin.tenant, UserId::generate(), "admin", "pro");
    let mut bad_role = unknown.claims.clone();
    bad_role.insert("tenant_role".into(), "root".into());
    let mut bad_tier = unknown.claims.clone();
    bad_tier.insert("tenant_tier".into(), "platinum".into());
    let mut bad_sub = admin.claims.clone();
    bad_sub.insert("sub".into(), "admin".into());
    let valid_cursor = CURSOR.encode(&member.user_id);

    let on = |route: &'static str, user_id: &str| Req::to(route).param(user_id.to_owned()).claims(claims());
    let with_claims = |route: &'static str, claims: HashMap<String, String>| Req {
        route,
        path_param: route.contains('{').then(|| id.clone()),
        body: (route == "POST /users").then(|| r#"{"email":"z@example.com","role":"member"}"#.to_owned()),
        claims: Some(claims),
        ..Req::default()
    };
    let mut cases: Vec<(String, Req, i64)> = vec![
        // POST /users
        ("invite: invalid JSON".into(), invite(r#"{"email":"#), 400),
        ("invite: unknown field".into(), invite(r#"{"email":"a@example.com","role":"member","x":1}"#), 400),
        ("invite: missing role".into(), invite(r#"{"email":"a@example.com"}"#), 400),
        ("invite: missing email".into(), invite(r#"{"role":"member"}"#), 400),
        ("invite: unknown role".into(), invite(r#"{"email":"a@example.com","role":"owner"}"#), 400),
        ("invite: wrong type".into(), invite(r#"{"email":["a@example.com"],"role":"member"}"#), 400),
        ("invite: bad email".into(), invite(r#"{"email":"not an email","role":"member"}"#), 400),
        (
            "invite: long email".into(),
            invite(&json!({"email": format!("{}@example.com", "a".repeat(250)), "role": "member"}).to_string()),
            400,
        ),
        (
            "invite: empty password".into(),
            invite(r#"{"email":"a@example.com","role":"member","temporary_password":""}"#),
            400,
        ),
        ("invite: oversized".into(), invite(&oversized.to_string()), 413),
        ("invite: no body".into(), Req::to("POST /users").claims(claims()), 400),
        (
            "invite: not JSON".into(),
            Req::to("POST /users")
                .body("email=a@example.com")
                .content_type("application/x-www-form-urlencoded")
                .claims(claims()),
            415,
        ),
        (
            "invite: unknown query".into(),
            invite(r#"{"email":"a@example.com","role":"member"}"#).query("tenant_id=x"),
            400,
        ),
        // GET /users
        ("list: limit 0".into(), Req::to("GET /users").query("limit=0").claims(claims()), 400),
        ("list: limit 101".into(), Req::to("GET /users").query("limit=101").claims(claims()), 400),
        ("list: limit not a number".into(), Req::to("GET /users").query("limit=ten").claims(claims()), 400),
        ("list: limit twice".into(), Req::to("GET /users").query("limit=1&limit=2").claims(claims()), 400),
        (
            "list: raw user id as cursor".into(),
            Req::to("GET /users").query(format!("cursor={id}")).claims(claims()),
            400,
        ),
        ("list: garbage cursor".into(), Req::to("GET /users").query("cursor=%%%").claims(claims()), 400),
        (
            "list: tampered cursor".into(),
            Req::to("GET /users").query(format!("cursor={}x", valid_cursor)).claims(claims()),
            400,
        ),
        ("list: unknown query".into(), Req::to("GET /users").query("tenant=x").claims(claims()), 400),
        ("list: with a body".into(), Req::to("GET /users").body("{}").claims(claims()), 400),
        // GET /users/me
        ("me: unknown query".into(), Req::to("GET /users/me").query("user_id=x").claims(claims()), 400),
        // PUT /users/{user_id}/role
        ("role: invalid JSON".into(), on("PUT /users/{user_id}/role", &id).body("{"), 400),
        ("role: unknown role".into(), on("PUT /users/{user_id}/role", &id).body(r#"{"role":"superadmin"}"#), 400),
        (
            "role: unknown field".into(),
            on("PUT /users/{user_id}/role", &id).body(r#"{"role":"admin","version":1}"#),
            400,
        ),
        ("role: no body".into(), on("PUT /users/{user_id}/role", &id), 400),
        ("unknown route".into(), Req::to("PATCH /users/{user_id}").param(id.clone()).claims(claims()), 404),
    ];
    for route in [
        "GET /users/{user_id}",
        "PUT /users/{user_id}/role",
        "POST /users/{user_id}/disable",
        "POST /users/{user_id}/enable",
        "DELETE /users/{user_id}",
    ] {
        let body = (route == "PUT /users/{user_id}/role").then(|| r#"{"role":"admin"}"#.to_owned());
        for bad_id in ["'; DROP", "me", "", "00000000-0000-0000-0000-000000000000", &id.to_uppercase()] {
            cases.push((format!("{route}: bad id {bad_id:?}"), Req { body: body.clone(), ..on(route, bad_id) }, 400));
        }
        cases.push((
            format!("{route}: missing id"),
            Req { path_param: None, body: body.clone(), ..on(route, "") },
            400,
        ));
        cases.push((
            format!("{route}: unknown query"),
            Req { query: Some("force=true".into()), body: body.clone(), ..on(route, &id) },
            400,
        ));
        if body.is_none() {
            cases.push((format!("{route}: with a body"), on(route, &id).body("{}"), 400));
        }
    }
    for route in [
        "GET /users",
        "GET /users/me",
        "POST /users",
        "GET /users/{user_id}",
        "POST /users/{user_id}/disable",
        "POST /users/{user_id}/enable",
        "DELETE /users/{user_id}",
    ] {
        cases.push((format!("{route}: no claims"), with_claims(route, admin.claims.clone()).claims(None), 401));
        cases.push((format!("{route}: bad sub"), with_claims(route, bad_sub.clone()), 401));
        cases.push((format!("{route}: no tenant claim"), with_claims(route, without_tenant.clone()), 403));
        cases.push((format!("{route}: malformed tenant"), with_claims(route, bad_tenant.clone()), 403));
        cases.push((format!("{route}: no member (malformed role)"), with_claims(route, bad_role.clone()), 403));
        cases.push((format!("{route}: no member (malformed tier)"), with_claims(route, bad_tier.clone()), 403));
    }
    for (name, req, status) in cases {
        let response = harness.call(req).await;
        assert_eq!(response.status_code, status, "{name}: {}", body_text(&response));
        assert_problem(&response, status);
        assert_eq!(harness.store().snapshot(), store_before, "{name} changed the store");
        assert_eq!(harness.directory().snapshot(), directory_before, "{name} changed the directory");
    }
}

#[tokio::test]
async fn an_outage_is_a_503_problem_and_changes_nothing() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let member = harness.invite(&admin, "mo@example.com", "member").await;
    let requests = || {
        let id = Some(member.user_id.to_string());
        vec![
            Req::to("GET /users").claims(admin.claims()),
            Req::to("GET /users/me").claims(admin.claims()),
            Req::to("POST /users").body(r#"{"email":"new@example.com","role":"member"}"#).claims(admin.claims()),
            Req { route: "GET /users/{user_id}", path_param: id.clone(), claims: admin.claims(), ..Req::default() },
            Req {
                route: "PUT /users/{user_id}/role",
                path_param: id.clone(),
                body: Some(r#"{"role":"admin"}"#.into()),
                claims: admin.claims(),
                ..Req::default()
            },
            Req {
                route: "POST /users/{user_id}/disable",
                path_param: id.clone(),
                claims: admin.claims(),
                ..Req::default()
            },
            Req {
                route: "POST /users/{user_id}/enable",
                path_param: id.clone(),
                claims: admin.claims(),
                ..Req::default()
            },
            Req { route: "DELETE /users/{user_id}", path_param: id, claims: admin.claims(), ..Req::default() },
        ]
    };
    let store_before = harness.store().snapshot();
    let directory_before = harness.directory().snapshot();

    // The data store is down: every route.
    harness.store().set_unavailable(true);
    for req in requests() {
        let route = req.route;
        let problem = assert_problem(&harness.call(req).await, 503);
        assert!(problem.detail.contains("retry"), "{route}: {}", problem.detail);
    }
    harness.store().set_unavailable(false);
    assert_eq!(harness.store().snapshot(), store_before);
    assert_eq!(harness.directory().snapshot(), directory_before);

    // The directory is down: the routes that need it (invite before writing
    // anything; enable of an active user writes nothing either).
    harness.directory().set_unavailable(true);
    for req in requests().into_iter().filter(|req| matches!(req.route, "POST /users" | "POST /users/{user_id}/enable"))
    {
        let route = req.route;
        let problem = assert_problem(&harness.call(req).await, 503);
        assert!(problem.detail.contains("retry"), "{route}: {}", problem.detail);
    }
    harness.directory().set_unavailable(false);
    assert_eq!(harness.store().snapshot(), store_before);
    assert_eq!(harness.directory().snapshot(), directory_before);
}

#[tokio::test]
async fn create_first_admin_creates_a_confirmed_admin_once() {
    let harness = Harness::new();
    let tenant = TenantId::generate();
    let response = harness.internal(tenant, TenantTier::Free, " Owner@Example.com", PASSWORD).await;
    let InternalResponse::Created { user_id } = response else { panic!("{response:?}") };
    let cognito = harness.directory().user("owner@example.com").expect("directory user");
    assert_eq!(cognito.user_id, user_id);
    assert_eq!(cognito.tenant, Some(tenant));
    assert_eq!(cognito.password, PasswordState::Confirmed);
    assert_eq!(cognito.password_value.as_deref(), Some(PASSWORD));
    assert!(cognito.message_suppressed && cognito.email_verified);
    let partition = harness.store().tenant(&tenant);
    assert_eq!((partition.users, partition.admins), (1, 1));
    let admin = &partition.members[&user_id];
    assert_eq!((admin.role, admin.status), (TenantRole::Admin, MembershipStatus::Active));

    // The owner signs in and changes the password; a repeated registration
    // (even with another password) changes nothing and answers the same.
    harness.directory().confirm("owner@example.com", "Changed-passw0rd");
    let before = (harness.store().snapshot(), harness.directory().snapshot());
    let again = harness.internal(tenant, TenantTier::Free, "owner@example.com", "Other-passw0rd").await;
    assert_eq!(again, InternalResponse::Created { user_id });
    assert_eq!((harness.store().snapshot(), harness.directory().snapshot()), before);
    assert_eq!(
        harness.directory().user("owner@example.com").expect("user").password_value.as_deref(),
        Some("Changed-passw0rd")
    );
}

#[tokio::test]
async fn create_first_admin_resumes_after_a_failure_part_way() {
    let harness = Harness::new();
    let tenant = TenantId::generate();
    // The Cognito user was created, then the membership write failed.
    harness.store().set_writes_unavailable(true);
    let response = harness.internal(tenant, TenantTier::Pro, "pat@example.com", PASSWORD).await;
    assert!(matches!(response, InternalResponse::Refused { status: 503, .. }), "{response:?}");
    harness.store().set_writes_unavailable(false);
    assert!(harness.directory().user("pat@example.com").is_some());
    assert!(harness.store().tenant(&tenant).members.is_empty());

    let InternalResponse::Created { user_id } =
        harness.internal(tenant, TenantTier::Pro, "pat@example.com", PASSWORD).await
    else {
        panic!("retry refused")
    };
    assert_eq!(harness.directory().snapshot().len(), 1);
    let partition = harness.store().tenant(&tenant);
    assert_eq!(partition.members.keys().copied().collect::<Vec<_>>(), vec![user_id]);
    assert_eq!((partition.users, partition.admins), (1, 1));
}

#[tokio::test]
async fn create_first_admin_refuses_another_tenants_email_and_bad_input() {
    let harness = Harness::new();
    let first = TenantId::generate();
    harness.internal(first, TenantTier::Free, "quinn@example.com", PASSWORD).await;
    let before = (harness.store().snapshot(), harness.directory().snapshot());
    let second = TenantId::generate();
    let response = harness.internal(second, TenantTier::Free, "quinn@example.com", PASSWORD).await;
    let InternalResponse::Refused { status, detail } = response else { panic!("{response:?}") };
    assert_eq!(status, 409);
    assert!(detail.contains("already registered") && !detail.contains(&first.to_string()), "{detail}");
    for (address, password) in [("not-an-email", PASSWORD), ("r@example.com", ""), ("r@example.com", "a\u{0}b")] {
        let response = harness.internal(second, TenantTier::Free, address, password).await;
        assert!(matches!(response, InternalResponse::Refused { status: 400, .. }), "{response:?}");
    }
    harness.directory().set_unavailable(true);
    let response = harness.internal(second, TenantTier::Free, "r@example.com", PASSWORD).await;
    assert!(matches!(response, InternalResponse::Refused { status: 503, .. }), "{response:?}");
    harness.directory().set_unavailable(false);
    assert_eq!((harness.store().snapshot(), harness.directory().snapshot()), before);
}

#[tokio::test]
async fn raw_invocations_are_told_apart() {
    let harness = Harness::new();
    let tenant = TenantId::generate();
    let command = json!({"internal": {
        "command": "create_first_admin",
        "tenant_id": tenant.to_string(),
        "tier": "pro",
        "email": "sam@example.com",
        "password": PASSWORD,
    }});
    let answer = harness.api.invoke(command, "inv-1").await;
    assert_eq!(answer["outcome"], "created", "{answer}");
    let user_id = UserId::parse(answer["user_id"].as_str().expect("user id")).expect("uuid");

    // A malformed command never echoes its input.
    let bad = json!({"internal": {"command": "create_first_admin", "tenant_id": tenant.to_string(),
        "tier": "pro", "email": "sam@example.com", "password": 12345678, "extra": "Secret-value"}});
    let answer = harness.api.invoke(bad, "inv-2").await;
    assert_eq!((answer["outcome"].as_str(), answer["status"].as_u64()), (Some("refused"), Some(400)));
    assert!(!answer.to_string().contains("12345678") && !answer.to_string().contains("Secret-value"));

    // An HTTP API event is routed as such.
    let caller = SignedIn::new(tenant, user_id, "admin", "pro");
    harness.records().ensure_member_from_claims(&caller.claims);
    let http = serde_json::to_value(Req::to("GET /users/me").claims(caller.claims()).event()).expect("event json");
    let answer = harness.api.invoke(http, "inv-3").await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let body: User = serde_json::from_str(answer["body"].as_str().expect("body")).expect("user");
    assert_eq!(body.user_id, user_id);
}

/// A demoted, disabled or removed admin's old token undoes nothing: every
/// privileged write reads the caller's membership as it is now, even while
/// reads are served from records cached for the window.
#[tokio::test]
async fn privileged_writes_read_the_callers_membership_fresh() {
    let harness = Harness::with_freshness(Duration::from_secs(60));
    let admin = harness.tenant(TenantTier::Pro).await;
    let second = harness.invite(&admin, &email("second"), "admin").await;
    let stale = SignedIn::new(admin.tenant, second.user_id, "admin", "pro");
    harness.list(&stale).await; // its records are now cached as an admin's

    // Demoted: a read may still use the cached records (at most one window
    // old); promoting itself back reads them fresh and is refused, and the
    // cache takes what was read.
    assert_eq!(harness.set_role(&admin, second.user_id, "member").await.status_code, 200);
    let cached = harness.on_user(&stale, "GET /users/{user_id}", admin.user_id).await;
    assert_eq!(cached.status_code, 200, "within the window");
    let response = harness.set_role(&stale, second.user_id, "admin").await;
    assert_eq!(assert_problem(&response, 403).kind, "urn:problem:forbidden");
    assert_eq!(harness.store().tenant(&admin.tenant).members[&second.user_id].role, TenantRole::Member);
    let refreshed = harness.on_user(&stale, "GET /users/{user_id}", admin.user_id).await;
    assert_eq!(assert_problem(&refreshed, 403).kind, "urn:problem:forbidden");

    // Disabled: re-enabling itself, or disabling the admin who did it, is refused.
    assert_eq!(harness.set_role(&admin, second.user_id, "admin").await.status_code, 200);
    harness.list(&stale).await;
    assert_eq!(harness.on_user(&admin, "POST /users/{user_id}/disable", second.user_id).await.status_code, 200);
    let before = harness.store().tenant(&admin.tenant);
    for (route, target) in
        [("POST /users/{user_id}/enable", second.user_id), ("POST /users/{user_id}/disable", admin.user_id)]
    {
        let response = harness.on_user(&stale, route, target).await;
        assert_eq!(assert_problem(&response, 403).kind, "urn:problem:membership-inactive", "{route}");
    }
    assert_eq!(harness.store().tenant(&admin.tenant), before, "nothing changed");
    let victim = &before.members[&admin.user_id];
    assert_eq!((victim.role, victim.status), (TenantRole::Admin, MembershipStatus::Active));

    // Removed: inviting a fresh admin account is refused.
    assert_eq!(harness.on_user(&admin, "POST /users/{user_id}/enable", second.user_id).await.status_code, 200);
    assert_eq!(harness.on_user(&admin, "DELETE /users/{user_id}", second.user_id).await.status_code, 204);
    let response = harness
        .call(
            Req::to("POST /users")
                .body(json!({"email": email("accomplice"), "role": "admin"}).to_string())
                .claims(stale.claims()),
        )
        .await;
    assert_eq!(assert_problem(&response, 403).kind, "urn:problem:membership-inactive");
    assert!(harness.directory().user(&email("accomplice")).is_none());
    assert_eq!(harness.list(&admin).await.items.len(), 1);
}

/// Ending access ends sessions: disabling and removing a user revoke its
/// refresh tokens, and a suspended tenant's members are all signed out.
#[tokio::test]
async fn ending_access_revokes_refresh_tokens() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let bob = harness.invite(&admin, &email("bob"), "member").await;
    let carol = harness.invite(&admin, &email("carol"), "member").await;
    let other = harness.tenant(TenantTier::Pro).await;
    let sign_outs = |address: &str| harness.directory().user(address).map(|user| user.sign_outs);

    assert_eq!(harness.on_user(&admin, "POST /users/{user_id}/disable", bob.user_id).await.status_code, 200);
    assert_eq!(sign_outs(&bob.email), Some(1));

    let command = InternalCommand::EndSessions { tenant_id: admin.tenant };
    let response = harness.api.handle_internal(command.clone(), "suspension").await;
    assert_eq!(response, InternalResponse::SessionsEnded { users: 3 });
    assert_eq!(sign_outs(&bob.email), Some(2));
    assert_eq!(sign_outs(&carol.email), Some(1));
    let other_admin = harness.list(&other).await.items.remove(0);
    assert_eq!(sign_outs(&other_admin.email), Some(0), "another tenant's users keep their sessions");
    // Repeating it is safe.
    let again = harness.api.handle_internal(command, "suspension-retry").await;
    assert_eq!(again, InternalResponse::SessionsEnded { users: 3 });

    // An outage: refused as unavailable, to be retried.
    harness.directory().set_unavailable(true);
    let outage = harness.api.handle_internal(InternalCommand::EndSessions { tenant_id: admin.tenant }, "outage").await;
    assert!(matches!(outage, InternalResponse::Refused { status: 503, .. }), "{outage:?}");
}

#[tokio::test]
async fn an_unfinished_registration_is_discarded_and_a_finished_tenant_never() {
    let harness = Harness::new();
    // An unfinished registration: its first admin exists, its tenant has no record.
    let tenant = TenantId::generate();
    let address = email("stuck");
    let InternalResponse::Created { .. } = harness.internal(tenant, TenantTier::Free, &address, PASSWORD).await else {
        panic!("first admin not created")
    };
    // A finished tenant (it has a record once one of its tokens is seen).
    let finished = harness.tenant(TenantTier::Pro).await;
    assert_eq!(harness.list(&finished).await.items.len(), 1);

    let discard = |tenant_id| InternalCommand::DiscardRegistration { tenant_id, admin_email: address.clone() };
    let response = harness.api.handle_internal(discard(tenant), "sweep").await;
    assert_eq!(response, InternalResponse::Discarded { users: 1 });
    assert!(harness.directory().user(&address).is_none(), "the directory user is gone");
    assert!(!harness.store().snapshot().contains_key(&tenant), "memberships and counters are gone");
    // The email address is free for another registration.
    let again = harness.internal(TenantId::generate(), TenantTier::Free, &address, PASSWORD).await;
    assert!(matches!(again, InternalResponse::Created { .. }), "{again:?}");
    // Repeating is harmless.
    let repeat = harness.api.handle_internal(discard(tenant), "sweep-again").await;
    assert_eq!(repeat, InternalResponse::Discarded { users: 0 });

    // Another tenant's user is never removed, whatever email is named.
    let finished_admin = harness.list(&finished).await.items.remove(0);
    let foreign = InternalCommand::DiscardRegistration {
        tenant_id: TenantId::generate(),
        admin_email: finished_admin.email.clone(),
    };
    let response = harness.api.handle_internal(foreign, "sweep").await;
    assert_eq!(response, InternalResponse::Discarded { users: 0 });
    assert!(harness.directory().user(&finished_admin.email).is_some());

    // A tenant with a record keeps its users.
    let response = harness.api.handle_internal(discard(finished.tenant), "sweep").await;
    assert!(matches!(response, InternalResponse::Refused { status: 409, .. }), "{response:?}");
    assert_eq!(harness.list(&finished).await.items.len(), 1);
}

#[tokio::test]
async fn a_password_the_pool_would_refuse_is_refused_first_with_the_rule() {
    let harness = Harness::new();
    let tenant = TenantId::generate();
    let weak = harness.internal(tenant, TenantTier::Free, &email("weak"), "alllowercase-password").await;
    let rule = PasswordPolicy::default().check("alllowercase-password").expect_err("refused").to_string();
    assert_eq!(weak, InternalResponse::Refused { status: 400, detail: rule.clone() });
    assert!(harness.directory().user(&email("weak")).is_none(), "nothing written");

    let admin = harness.tenant(TenantTier::Pro).await;
    let response = harness
        .call(
            Req::to("POST /users")
                .body(json!({"email": email("temp"), "role": "member", "temporary_password": "short"}).to_string())
                .claims(admin.claims()),
        )
        .await;
    assert_eq!(response.status_code, 400);
    assert!(body_text(&response).contains(&PasswordPolicy::default().to_string()));
    assert!(harness.directory().user(&email("temp")).is_none());
}

/// A retried invitation with its `Idempotency-Key` answers with the member
/// it made, never "already a member"; the key with other input is refused.
#[tokio::test]
async fn an_invitation_with_an_idempotency_key_is_safe_to_retry() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let key = "k".repeat(48);
    let invite = |address: &str, role: &str, key: &str| {
        Req::to("POST /users")
            .body(json!({"email": address, "role": role}).to_string())
            .claims(admin.claims())
            .header("idempotency-key", key.to_owned())
    };
    let first = harness.call(invite("dan@example.com", "member", &key)).await;
    assert_eq!(first.status_code, 201, "{}", body_text(&first));
    let dan = user_of(&first);
    let again = harness.call(invite(" DAN@example.com", "member", &key)).await;
    assert_eq!(again.status_code, 201, "the same request: {}", body_text(&again));
    assert_eq!(user_of(&again), dan);
    assert_eq!(again.headers["location"], first.headers["location"]);
    assert_eq!(harness.directory().user("dan@example.com").expect("user").invitations_sent, 1);
    assert_eq!(harness.counters(&admin.tenant), (2, 1), "one member more");

    let other = harness.call(invite("dan@example.com", "admin", &key)).await;
    assert!(assert_problem(&other, 409).detail.contains("different request"));
    // Without the key the same invitation is what it is: already a member.
    let plain = harness.call(Req { header: None, ..invite("dan@example.com", "member", &key) }).await;
    assert!(assert_problem(&plain, 409).detail.contains("already belongs"));
    assert_problem(&harness.call(invite("eve@example.com", "member", "bad key")).await, 400);
}

#[tokio::test]
async fn each_request_is_one_audit_entry_and_each_change_one_event_in_order() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let bob = harness.invite(&admin, &email("bob"), "member").await;
    let id = bob.user_id.to_string();
    let at = |route, caller: &SignedIn| Req::to(route).param(id.clone()).claims(caller.claims());
    let member = SignedIn::new(admin.tenant, bob.user_id, "member", "pro");
    let promote = |caller| at("PUT /users/{user_id}/role", caller).body(r#"{"role":"admin"}"#);
    for (request, status) in [
        (promote(&member), 403),
        (promote(&admin), 200),
        (promote(&admin), 200), // the same role: no change
        (at("GET /users/{user_id}", &admin), 200),
        (at("POST /users/{user_id}/disable", &admin), 200),
        (at("POST /users/{user_id}/enable", &admin), 200),
        (at("DELETE /users/{user_id}", &admin), 204),
    ] {
        assert_eq!(harness.call(request).await.status_code, status);
    }

    // Every state-changing request, refusals included; reads are not.
    let entries = harness.api.audit().store().entries(&admin.tenant);
    let summary: Vec<_> = entries
        .iter()
        .map(|e| (e.actor.user_id, e.actor.role, e.action.as_str(), e.target.as_deref(), e.outcome))
        .collect();
    let target = Some(id.as_str());
    let by_admin = |action, outcome| (admin.user_id, ActorRole::Admin, action, target, outcome);
    assert_eq!(
        summary,
        [
            by_admin("POST /users", 201),
            (bob.user_id, ActorRole::Member, "PUT /users/{user_id}/role", target, 403),
            by_admin("PUT /users/{user_id}/role", 200),
            by_admin("PUT /users/{user_id}/role", 200),
            by_admin("POST /users/{user_id}/disable", 200),
            by_admin("POST /users/{user_id}/enable", 200),
            by_admin("DELETE /users/{user_id}", 204),
        ]
    );

    // Every change, once: no event for a refusal or a change to the same value.
    let published = harness.api.events().bus().published();
    let changes: Vec<Change> = published.iter().map(|e| e.change).collect();
    assert_eq!(
        changes,
        [Change::UserInvited, Change::UserRoleChanged, Change::UserDisabled, Change::UserEnabled, Change::UserRemoved]
    );
    assert!(published.iter().all(|e| e.tenant_id == admin.tenant && e.user.map(|u| u.user_id) == Some(bob.user_id)));
    assert!(published.iter().all(|e| e.actor.as_ref().map(|a| a.user_id) == Some(admin.user_id)));
    assert!(harness.api.store().outbox().is_empty());
}

#[tokio::test]
async fn offboarding_counts_then_erases_a_tenants_users_and_only_an_offboarding_tenants() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    let bob = harness.invite(&admin, &email("bob"), "member").await;
    let carol = harness.invite_only(&admin, &email("carol"), "admin").await;
    let other = harness.tenant(TenantTier::Pro).await;
    let count = InternalCommand::CountTenantData { tenant_id: admin.tenant };
    let erase = InternalCommand::EraseTenantData { tenant_id: admin.tenant };

    // Not offboarding: refused, nothing touched.
    for status in [None, Some(TenantStatus::Active), Some(TenantStatus::Suspended)] {
        if let Some(status) = status {
            harness.records().set_tenant(admin.tenant, TenantRecord { status, tier: TenantTier::Pro });
        }
        for command in [count.clone(), erase.clone()] {
            let refused = harness.api.handle_internal(command, "offboarding").await;
            assert!(matches!(refused, InternalResponse::Refused { status: 409, .. }), "{status:?}: {refused:?}");
        }
    }
    assert!(harness.directory().user(&bob.email).is_some());

    let offboarding = TenantRecord { status: TenantStatus::Offboarding, tier: TenantTier::Pro };
    harness.records().set_tenant(admin.tenant, offboarding);
    let counted = harness.api.handle_internal(count, "offboarding").await;
    let three = [("directory_users".to_owned(), 3), ("users".to_owned(), 3)].into_iter().collect();
    assert_eq!(counted, InternalResponse::Counted { items: three });
    let InternalResponse::Erased { removed, finished: true } = harness.api.handle_internal(erase, "offboarding").await
    else {
        panic!("not erased")
    };
    assert_eq!(removed, [("directory_users".to_owned(), 3), ("users".to_owned(), 3)].into_iter().collect());
    for gone in [&bob.email, &carol.email] {
        assert!(harness.directory().user(gone).is_none(), "{gone} is still in the directory");
    }
    assert!(harness.store().snapshot().iter().all(|(tenant, _)| *tenant != admin.tenant));
    // The other tenant keeps its users.
    assert_eq!(harness.list(&other).await.items.len(), 1);
}

#[tokio::test]
async fn an_erasure_pass_out_of_time_still_removes_a_member_and_the_next_goes_on() {
    let harness = Harness::new();
    let admin = harness.tenant(TenantTier::Pro).await;
    harness.invite(&admin, &email("bob"), "member").await;
    harness.invite_only(&admin, &email("carol"), "member").await;
    harness
        .records()
        .set_tenant(admin.tenant, TenantRecord { status: TenantStatus::Offboarding, tier: TenantTier::Pro });
    let members = users::entrypoint::members_of(harness.api.store(), harness.api.directory());
    let mut passes = 0;
    loop {
        passes += 1;
        // A deadline already past: one member per pass.
        let pass = members.erase(&admin.tenant, std::time::Instant::now()).await.expect("erase");
        if pass.finished {
            break;
        }
        assert_eq!(pass.removed.get("users"), Some(&1), "pass {passes}: {pass:?}");
    }
    assert_eq!(passes, 4, "three members, one per pass, then the rest of the partition");
    assert!(harness.directory().snapshot().values().all(|user| user.tenant != Some(admin.tenant)));
    assert!(harness.store().snapshot().iter().all(|(tenant, _)| *tenant != admin.tenant));
}
