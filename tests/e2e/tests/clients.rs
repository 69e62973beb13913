//! The typed clients (notes-client, users-client, tenants-client on
//! saas-client) against the running stack: every route of every service,
//! lists across several pages, a stale version, token refresh, and the error
//! variants. 429 (`TooManyRequests`) is in tests/throttling.rs and 5xx
//! (`Server`) in tests/outage.rs: each drains or freezes something every
//! other test would feel, so each runs alone in its own test binary.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use e2e::{Stack, strong_password};
use futures_util::TryStreamExt as _;
use notes_client::{CreateNote, NoteId, NotesClient, UpdateNote};
use saas_client::{
    ApiClient, ClientConfig, Cognito, CognitoSession, CognitoSettings, Error, SignIn, StaticToken, TokenSource as _,
    Tokens,
};
use tenants_client::{IdempotencyKey, RegisterTenant, Registered, TenantStatus, TenantTier, TenantsClient};
use users_client::{InviteUser, MembershipStatus, TenantRole, UsersClient};

struct Fixture {
    stack: Stack,
    config: ClientConfig,
    cognito: Cognito,
}

impl Fixture {
    async fn new() -> Self {
        let stack = Stack::from_env_or_panic().await;
        let config = ClientConfig::new(&stack.settings.gateway).expect("gateway URL");
        let cognito = Cognito::new(&CognitoSettings {
            region: stack.settings.region.clone(),
            client_id: stack.app_client_id.clone(),
            endpoint_url: Some(format!("{}/cognito", stack.settings.gateway)),
        });
        Self { stack, config, cognito }
    }

    fn anonymous(&self) -> TenantsClient {
        TenantsClient::new(ApiClient::anonymous(&self.config).expect("client"))
    }

    async fn session(&self, email: &str, password: &str) -> Arc<CognitoSession> {
        Arc::new(CognitoSession::sign_in(self.cognito.clone(), email, password).await.expect("sign in"))
    }

    fn api(&self, session: Arc<CognitoSession>) -> ApiClient {
        ApiClient::new(&self.config, session).expect("client")
    }

    /// Registers a tenant through the client and signs its admin in.
    async fn tenant(&self, name: &str, tier: TenantTier) -> (Registered, ApiClient, Arc<CognitoSession>) {
        let registration = self.stack.new_tenant(name, tier);
        let key = IdempotencyKey::generate();
        let registered = self.anonymous().register_with_key(&registration, &key).await.expect("register");
        let again =
            self.anonymous().register_with_key(&registration, &key).await.expect("a repeat with the key is answered");
        assert_eq!(again.tenant.tenant_id, registered.tenant.tenant_id, "registration is idempotent");
        let session = self.session(&registration.admin_email, registration.admin_password.expose()).await;
        (registered, self.api(session.clone()), session)
    }

    /// Invites a member with a temporary password and signs them in for the
    /// first time through the NEW_PASSWORD_REQUIRED challenge.
    async fn member(&self, users: &UsersClient, role: TenantRole) -> (users_client::User, ApiClient) {
        let email = format!("{}@members.example.com", self.stack.unique("member"));
        let temporary = strong_password();
        let user = users
            .invite(&InviteUser { email: email.clone(), role, temporary_password: Some(temporary.clone().into()) })
            .await
            .expect("invite");
        let challenge = match self.cognito.sign_in(&email, &temporary).await.expect("first sign-in") {
            SignIn::NewPasswordRequired(challenge) => challenge,
            SignIn::Tokens(_) => panic!("a temporary password must lead to the new-password challenge"),
        };
        let tokens = self.cognito.set_new_password(challenge, &strong_password()).await.expect("new password");
        let session = Arc::new(CognitoSession::new(self.cognito.clone(), tokens));
        (user, self.api(session))
    }
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn notes_client_covers_every_route_pages_and_optimistic_concurrency() {
    let fixture = Fixture::new().await;
    let (_, api, _) = fixture.tenant("client-notes", TenantTier::Pro).await;
    let notes = NotesClient::new(api);

    let mut created = Vec::new();
    for n in 0..7 {
        let note =
            notes.create(&CreateNote { title: format!("note {n}"), body: "body".to_owned() }).await.expect("create");
        assert_eq!(note.version, 1);
        created.push(note.id);
    }
    // A create sent again with its idempotency key answers with the same
    // note (what a retry after a lost answer does); no second note appears.
    let key = IdempotencyKey::generate();
    let extra = CreateNote { title: "once".to_owned(), body: "only".to_owned() };
    let once = notes.create_with_key(&extra, &key).await.expect("create");
    let again = notes.create_with_key(&extra, &key).await.expect("repeat");
    assert_eq!(again, once);
    notes.delete(once.id).await.expect("delete");

    // Several pages: 7 notes, 2 per page = 4 requests, newest first.
    let first = notes.list_page(Some(2), None).await.expect("first page");
    assert_eq!(first.items.len(), 2);
    assert!(first.next_cursor.is_some());
    let listed: Vec<NoteId> = notes.list(Some(2)).map_ok(|note| note.id).try_collect().await.expect("all pages");
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first);

    let read = notes.get(created[0]).await.expect("get");
    let updated = notes.replace(&read, "renamed", "new body").await.expect("replace");
    assert_eq!((updated.version, updated.title.as_str()), (2, "renamed"));

    // The version read is stale now: a conflict carrying the problem body.
    match notes.replace(&read, "lost update", "x").await {
        Err(Error::Conflict(problem)) => {
            assert_eq!(problem.status, 409);
            assert_eq!(problem.kind, "urn:problem:conflict");
        }
        other => panic!("a stale version must be a conflict, got {other:?}"),
    }
    let explicit = notes.update(read.id, &UpdateNote { title: "t".into(), body: String::new(), version: 1 }).await;
    assert!(matches!(explicit, Err(Error::Conflict(_))), "{explicit:?}");

    // modify re-reads and re-applies when another writer got in between.
    let mut calls = 0;
    let modified = notes
        .modify(read.id, |current| {
            calls += 1;
            (current.title.clone(), format!("{} + more", current.body))
        })
        .await
        .expect("modify");
    assert_eq!((modified.version, modified.body.as_str(), calls), (3, "new body + more", 1));

    notes.delete(created[1]).await.expect("delete");
    assert!(matches!(notes.get(created[1]).await, Err(Error::NotFound(_))));
    assert!(matches!(notes.delete(created[1]).await, Err(Error::NotFound(_))));
    assert!(matches!(notes.get(NoteId::generate()).await, Err(Error::NotFound(_))));

    // Invalid content is the API's 400 problem, not a client-side panic.
    let blank = notes.create(&CreateNote { title: "   ".into(), body: String::new() }).await;
    assert!(matches!(&blank, Err(Error::BadRequest(p)) if p.status == 400), "{blank:?}");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn users_client_covers_every_route_and_the_admin_rules() {
    let fixture = Fixture::new().await;
    let (registered, api, _) = fixture.tenant("client-users", TenantTier::Pro).await;
    let users = UsersClient::new(api);

    let me = users.me().await.expect("me");
    assert_eq!((me.user_id, me.role), (registered.admin_user_id, TenantRole::Admin));

    let (invited, member_api) = fixture.member(&users, TenantRole::Member).await;
    assert_eq!(invited.status, MembershipStatus::Invited);
    assert_eq!(
        users.get(invited.user_id).await.expect("get").status,
        MembershipStatus::Active,
        "the first sign-in made it active"
    );
    let (_, _) = fixture.member(&users, TenantRole::Member).await;

    // Three members, one per page.
    let all: Vec<_> = users.list(Some(1)).try_collect().await.expect("list");
    let ids: HashSet<_> = all.iter().map(|u| u.user_id).collect();
    assert_eq!(all.len(), 3);
    assert!(ids.contains(&me.user_id) && ids.contains(&invited.user_id));

    assert_eq!(users.get(invited.user_id).await.expect("get").email, invited.email);
    let promoted = users.change_role(invited.user_id, TenantRole::Admin).await.expect("role");
    assert_eq!(promoted.role, TenantRole::Admin);
    users.change_role(invited.user_id, TenantRole::Member).await.expect("demote");
    let disabled = users.disable(invited.user_id).await.expect("disable");
    assert_eq!(disabled.status, MembershipStatus::Disabled);
    let enabled = users.enable(invited.user_id).await.expect("enable");
    assert_eq!(enabled.status, MembershipStatus::Active);

    // A member may read, not administer: 403 with the API's reason.
    let member_users = UsersClient::new(member_api);
    assert_eq!(member_users.me().await.expect("member me").user_id, invited.user_id);
    match member_users.disable(me.user_id).await {
        Err(Error::Forbidden(problem)) => assert!(!problem.detail.is_empty()),
        other => panic!("a member must not disable users, got {other:?}"),
    }

    // The last admin stays: a conflict.
    assert!(matches!(users.change_role(me.user_id, TenantRole::Member).await, Err(Error::Conflict(_))));

    // Invitations and password resets: each only in its state.
    let pending = users
        .invite(&InviteUser {
            email: format!("{}@members.example.com", fixture.stack.unique("pending")),
            role: TenantRole::Member,
            temporary_password: None,
        })
        .await
        .expect("invite without a password");
    let resent = users.resend_invitation(pending.user_id).await.expect("resend");
    assert_eq!((resent.user_id, resent.status), (pending.user_id, MembershipStatus::Invited));
    assert!(matches!(users.reset_password(pending.user_id).await, Err(Error::Conflict(_))));
    let reset = users.reset_password(invited.user_id).await.expect("reset");
    assert_eq!((reset.user_id, reset.status), (invited.user_id, MembershipStatus::Active));
    assert!(matches!(users.resend_invitation(invited.user_id).await, Err(Error::Conflict(_))));
    users.remove(pending.user_id).await.expect("remove the invitee");

    users.remove(invited.user_id).await.expect("remove");
    assert!(matches!(users.get(invited.user_id).await, Err(Error::NotFound(_))));
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn tenants_client_covers_self_service_and_the_platform_admin_routes() {
    let fixture = Fixture::new().await;
    let (registered, api, _) = fixture.tenant("client-tenants", TenantTier::Free).await;
    let tenants = TenantsClient::new(api);

    let current = tenants.current().await.expect("current");
    assert_eq!(current.tenant_id, registered.tenant.tenant_id);
    let renamed = tenants.rename(&current, "Renamed").await.expect("rename");
    assert_eq!((renamed.name.as_str(), renamed.version), ("Renamed", current.version + 1));
    assert!(matches!(tenants.rename(&current, "Stale").await, Err(Error::Conflict(_))));

    // A tenant admin is not a platform admin.
    assert!(matches!(tenants.list_page(None, None).await, Err(Error::Forbidden(_))));

    // The slug is taken: a conflict for a different registration.
    let taken = fixture
        .anonymous()
        .register(&RegisterTenant {
            name: "Other".into(),
            slug: registered.tenant.slug.to_string(),
            tier: TenantTier::Free,
            admin_email: format!("{}@x.example.com", fixture.stack.unique("other")),
            admin_password: strong_password().into(),
        })
        .await;
    assert!(matches!(taken, Err(Error::Conflict(_))), "{taken:?}");

    let operator = fixture.stack.platform_admin().await.expect("platform admin");
    let admin = TenantsClient::new(fixture.api(fixture.session(&operator.email, &operator.password).await));
    let listed: Vec<_> = admin.list(Some(2)).try_collect().await.expect("all tenants");
    assert!(listed.iter().any(|t| t.tenant_id == current.tenant_id));
    let unique: HashSet<_> = listed.iter().map(|t| t.tenant_id).collect();
    assert_eq!(unique.len(), listed.len(), "no tenant twice across pages");

    let suspended = admin.suspend(current.tenant_id).await.expect("suspend");
    assert_eq!(suspended.status, TenantStatus::Suspended);
    // Suspending again is a retry: same record, the sessions ended again.
    let again = admin.suspend(current.tenant_id).await.expect("suspend again");
    assert_eq!((again.status, again.version), (TenantStatus::Suspended, suspended.version));
    let reactivated = admin.reactivate(current.tenant_id).await.expect("reactivate");
    assert_eq!(reactivated.status, TenantStatus::Active);
    let upgraded = admin.change_tier(current.tenant_id, TenantTier::Pro).await.expect("tier");
    assert_eq!(upgraded.tier, TenantTier::Pro);
    assert!(matches!(admin.suspend(tenants_client::TenantId::generate()).await, Err(Error::NotFound(_))));
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn sessions_refresh_before_expiry_and_after_a_refused_token() {
    let fixture = Fixture::new().await;
    let (_, _, session) = fixture.tenant("client-refresh", TenantTier::Free).await;
    let tokens = session.tokens().await;

    // A margin longer than the token's life: every request refreshes first.
    let eager = Arc::new(
        CognitoSession::new(fixture.cognito.clone(), tokens.clone())
            .with_refresh_margin(Duration::from_secs(60 * 60 * 24)),
    );
    let notes = NotesClient::new(fixture.api(eager.clone()));
    notes.list_page(None, None).await.expect("list with a refreshed token");
    notes.list_page(None, None).await.expect("again");
    assert_eq!(eager.refresh_count(), 2);
    assert!(eager.tokens().await.expires_at > tokens.expires_at - time::Duration::seconds(1));

    // A token the API refuses (revoked, or a clock that lies): renewed once
    // with the refresh token, and the call succeeds.
    let refused = Tokens { access_token: "not-a-token".to_owned(), ..tokens.clone() };
    let renewing = Arc::new(CognitoSession::new(fixture.cognito.clone(), refused));
    let notes = NotesClient::new(fixture.api(renewing.clone()));
    notes.list_page(None, None).await.expect("renewed after 401");
    assert_eq!(renewing.refresh_count(), 1);
    assert_ne!(renewing.access_token().await.expect("token"), "not-a-token");

    // Without a refresh token there is nothing to renew: 401.
    let dead = Arc::new(CognitoSession::new(
        fixture.cognito.clone(),
        Tokens { access_token: "not-a-token".to_owned(), refresh_token: None, ..tokens },
    ));
    let result = NotesClient::new(fixture.api(dead)).list_page(None, None).await;
    assert!(matches!(result, Err(Error::Unauthorized(_))), "{result:?}");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn each_error_variant_the_stack_can_produce() {
    let fixture = Fixture::new().await;
    let (_, api, _) = fixture.tenant("client-errors", TenantTier::Free).await;
    let users = UsersClient::new(api.clone());

    // 401: a forged token, refused by the gateway's authorizer.
    let forged = ApiClient::new(&fixture.config, Arc::new(StaticToken::new("eyJhbGciOiJub25lIn0.e30."))).expect("c");
    let error = NotesClient::new(forged).list_page(None, None).await.expect_err("401");
    assert!(matches!(&error, Error::Unauthorized(_)), "{error:?}");
    assert_eq!(error.status(), Some(401));

    // 403 limit-exceeded: the free tier allows 3 members.
    fixture.member(&users, TenantRole::Member).await;
    fixture.member(&users, TenantRole::Member).await;
    let over = users
        .invite(&InviteUser {
            email: format!("{}@members.example.com", fixture.stack.unique("over")),
            role: TenantRole::Member,
            temporary_password: Some(strong_password().into()),
        })
        .await
        .expect_err("a fourth member on the free tier");
    assert!(over.is_limit_exceeded(), "{over:?}");
    assert!(matches!(over, Error::Forbidden(_)));

    // 404 and 400 (a bad id is the API's 400, not a client panic).
    let notes = NotesClient::new(api);
    assert!(matches!(notes.get(NoteId::generate()).await, Err(Error::NotFound(_))));
    let bad = notes.create(&CreateNote { title: "x".repeat(500), body: String::new() }).await;
    assert!(matches!(bad, Err(Error::BadRequest(_))), "{bad:?}");

    // Sign-in failures are their own variant.
    let wrong = CognitoSession::sign_in(fixture.cognito.clone(), "nobody@example.com", "Wrong-Password-1").await;
    assert!(matches!(wrong, Err(Error::SignIn(_))), "{wrong:?}");

    // Nothing listening: a transport error after the retries.
    let mut closed = ClientConfig::new("http://127.0.0.1:9").expect("config");
    closed.retry.min_delay = Duration::from_millis(1);
    closed.retry.max_delay = Duration::from_millis(5);
    let unreachable = NotesClient::new(ApiClient::anonymous(&closed).expect("c"));
    assert!(matches!(unreachable.list_page(None, None).await, Err(Error::Transport { .. })));
}
