//! Events in, responses out: HTTP API (payload 2.0) requests, whose tenant
//! comes from the verified claims and nowhere else, and internal commands the
//! tenants service sends by Lambda Invoke.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use http::StatusCode;
use serde_json::Value;
use std::time::Instant;
use tenancy::audit::{Actor, Audit, AuditStore};
use tenancy::authority::{Authority, AuthorityStore};

use tenancy::erasure::{ErasureAnswer, ErasureCommand, ErasurePass, ItemCounts, TenantData, answer_erasure, count_one};
use tenancy::events::{Cause, Change, EventBus, Events, Records};
use tenancy::http::{
    RouteResult, answer, created, dispatch, json_body, json_response, no_body, no_content, only_query_params,
    optional_idempotency_key, page_query, path_param,
};
use tenancy::password::{Password, PasswordPolicy};
use tenancy::replay::{KeyedCreate, RememberedCreate};
use tenancy::telemetry::{record_tenant, request_span};
use tenancy::{ApiError, Caller, TenantContext, TenantId, TenantTier};
use tracing::Instrument as _;
use users_api::{ChangeRole, InternalCommand, InternalResponse, InviteUser, UserList, normalize_email};

use crate::directory::{CreateOutcome, Directory, DirectoryError, DirectoryUser, NewUser, PasswordState};
use crate::domain::{
    CURSOR, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MembershipStatus, TenantRole, User, UserId, admins_delta, new_membership,
    now, revise,
};
use crate::lifecycle::{changes_between, user_events};
use crate::store::{CounterChange, MembershipStore, NewMembership, Revision, Written};

/// The routes this function serves, as API Gateway route keys.
pub const ROUTES: [&str; 10] = [
    "GET /users",
    "POST /users",
    "GET /users/me",
    "GET /users/{user_id}",
    "PUT /users/{user_id}/role",
    "POST /users/{user_id}/disable",
    "POST /users/{user_id}/enable",
    "POST /users/{user_id}/invitation",
    "POST /users/{user_id}/password-reset",
    "DELETE /users/{user_id}",
];

/// Upper bound for request bodies (an invitation is a few hundred bytes).
pub const MAX_REQUEST_BYTES: usize = 4 * 1024;

const LAST_ADMIN: &str =
    "the tenant must keep at least one active administrator; make another member an administrator first";

/// The users API over a membership store and a user directory, for callers
/// whose authority the records give.
#[derive(Debug)]
pub struct UsersApi<S, D, A, T, B> {
    password_policy: PasswordPolicy,
    store: S,
    directory: D,
    authority: Authority<A>,
    audit: Audit<T>,
    events: Events<B>,
}

impl<S, D, A, T, B> UsersApi<S, D, A, T, B>
where
    S: MembershipStore,
    D: Directory,
    A: AuthorityStore,
    T: AuditStore,
    B: EventBus,
{
    /// `password_policy`: the user pool's, checked before any write.
    pub fn new(
        store: S,
        directory: D,
        authority: Authority<A>,
        records: Records<T, B>,
        password_policy: PasswordPolicy,
    ) -> Self {
        let Records { audit, events } = records;
        Self { password_policy, store, directory, authority, audit, events }
    }

    /// The lifecycle events' publisher (for tests).
    pub fn events(&self) -> &Events<B> {
        &self.events
    }

    /// The audit trail (for tests).
    pub fn audit(&self) -> &Audit<T> {
        &self.audit
    }

    /// The callers' authority (for tests).
    pub fn authority(&self) -> &Authority<A> {
        &self.authority
    }

    /// The store (for tests).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The directory (for tests).
    pub fn directory(&self) -> &D {
        &self.directory
    }

    /// Answers one raw invocation: an [`users_api::InternalRequest`] (top-level key
    /// `internal`) gets an [`InternalResponse`]; anything else is taken as an
    /// HTTP API request. The payload is never logged (commands carry passwords).
    pub async fn invoke(&self, payload: Value, invocation_id: &str) -> Value {
        let internal = |command: Option<InternalCommand>| async move {
            match command {
                Some(command) => self.handle_internal(command, invocation_id).await,
                None => InternalResponse::Refused {
                    status: 400,
                    detail: "the payload is not a valid internal command".into(),
                },
            }
        };
        dispatch(payload, invocation_id, internal, |request| self.handle(request)).await
    }

    /// Answers one HTTP request; every failure becomes a problem response.
    pub async fn handle(&self, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let request = &request;
        answer(request, |span| async move { self.route(request, &span).await }).await
    }

    /// Runs one internal command.
    pub async fn handle_internal(&self, command: InternalCommand, invocation_id: &str) -> InternalResponse {
        let span = request_span(invocation_id);
        async {
            let result = match command {
                InternalCommand::CreateFirstAdmin { tenant_id, tier, email, password } => {
                    record_tenant(&tracing::Span::current(), &tenant_id);
                    self.create_first_admin(tenant_id, tier, &email, &password).await.map(|user_id| {
                        tracing::info!(user_id = %user_id, "first admin created");
                        InternalResponse::Created { user_id }
                    })
                }
                InternalCommand::EndSessions { tenant_id } => {
                    record_tenant(&tracing::Span::current(), &tenant_id);
                    self.end_sessions(&tenant_id).await.map(|users| {
                        tracing::info!(users, "the tenant's sessions ended");
                        InternalResponse::SessionsEnded { users }
                    })
                }
                InternalCommand::DiscardRegistration { tenant_id, admin_email } => {
                    record_tenant(&tracing::Span::current(), &tenant_id);
                    self.discard_registration(&tenant_id, &admin_email).await.map(|users| {
                        tracing::info!(users, "an unfinished registration's users removed");
                        InternalResponse::Discarded { users }
                    })
                }
                InternalCommand::CountTenantData { tenant_id } => {
                    Ok(self.erasure(ErasureCommand::CountTenantData { tenant_id }).await)
                }
                InternalCommand::EraseTenantData { tenant_id } => {
                    Ok(self.erasure(ErasureCommand::EraseTenantData { tenant_id }).await)
                }
                InternalCommand::ActivateInvited { tenant_id, user_id } => {
                    record_tenant(&tracing::Span::current(), &tenant_id);
                    self.activate_invited(&tenant_id, user_id).await.map(|()| InternalResponse::Activated { user_id })
                }
            };
            match result {
                Ok(response) => response,
                Err(error) => {
                    let problem = error.problem(None);
                    tracing::info!(status = problem.status, "internal command refused");
                    InternalResponse::Refused { status: problem.status, detail: problem.detail }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Offboarding: counts or erases the tenant's users (see [`Members`]).
    async fn erasure(&self, command: ErasureCommand) -> InternalResponse {
        let members = Members { store: &self.store, directory: &self.directory };
        match answer_erasure(self.authority.store(), &members, command).await {
            ErasureAnswer::Counted { items } => InternalResponse::Counted { items },
            ErasureAnswer::Erased { removed, finished } => InternalResponse::Erased { removed, finished },
            ErasureAnswer::Refused { status, detail } => InternalResponse::Refused { status, detail },
        }
    }

    async fn route(&self, request: &ApiGatewayV2httpRequest, span: &tracing::Span) -> RouteResult {
        let caller = Caller::from_request(request)?;
        record_tenant(span, &caller.tenant_id);
        let route = request.request_context.route_key.as_deref().unwrap_or_default();
        let context = match route {
            "GET /users" => return self.list(&self.authority.current(&caller).await?, request).await,
            "GET /users/me" => return self.me(&self.authority.current(&caller).await?, request).await,
            "GET /users/{user_id}" => self.authority.current(&caller).await?,
            // Privileged writes: the caller's membership as it is now, so a
            // demoted, disabled or removed admin's old token undoes nothing.
            _ if ROUTES.contains(&route) => self.authority.fresh(&caller).await?,
            _ => return Err(ApiError::NotFound("no such route".into())),
        };
        let result = self.admin_route(&context, route, request).await;
        // A read changes nothing: no outbox to look at.
        if !route.starts_with("GET ") {
            self.events.publish_after_change(&context.tenant_id, self.store.outbox()).await;
        }
        self.audit.record(&context.tenant_id, context.tier, Actor::member(&context), request, &result).await;
        result
    }

    async fn admin_route(
        &self,
        context: &TenantContext,
        route: &str,
        request: &ApiGatewayV2httpRequest,
    ) -> RouteResult {
        require_admin(context)?;
        match route {
            "POST /users" => self.invite(context, request).await,
            "GET /users/{user_id}" => self.get(context, request).await,
            "PUT /users/{user_id}/role" => self.change_role(context, request).await,
            "POST /users/{user_id}/disable" => self.disable(context, request).await,
            "POST /users/{user_id}/enable" => self.enable(context, request).await,
            "POST /users/{user_id}/invitation" => self.resend_invitation(context, request).await,
            "POST /users/{user_id}/password-reset" => self.reset_password(context, request).await,
            _ => self.delete(context, request).await,
        }
    }

    async fn list(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        let (limit, after) = page_query(request, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, CURSOR)?;
        let page = self.store.list(&context.tenant_id, limit, after).await?;
        let list = UserList { items: page.users, next_cursor: page.next_after.map(|id| CURSOR.encode(&id)) };
        Ok(json_response(StatusCode::OK, &list))
    }

    async fn me(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let user = self
            .store
            .get(&context.tenant_id, context.user_id)
            .await?
            .ok_or_else(|| ApiError::NotFound("you have no membership in this tenant".into()))?;
        Ok(json_response(StatusCode::OK, &user))
    }

    async fn get(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let user = self.existing(context, user_id(request)?).await?;
        Ok(json_response(StatusCode::OK, &user))
    }

    async fn invite(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        only_query_params(request, &[])?;
        let key = optional_idempotency_key(request)?;
        let input: InviteUser = json_body(request, MAX_REQUEST_BYTES)?;
        let email = normalize_email(&input.email).map_err(|error| ApiError::BadRequest(error.to_string()))?;
        if let Some(password) = &input.temporary_password {
            self.check_password(password)?;
        }
        let tenant = context.tenant_id;
        // With a key: a retry of an invitation that happened answers with its
        // member. The temporary password takes no part (never hashed, stored).
        let keyed = key.map(|key| {
            let input = (&email, input.role, input.temporary_password.is_some());
            KeyedCreate::new(&context.user_id, &key, &input)
        });
        if let Some(keyed) = &keyed
            && let Some(remembered) = self.store.remembered(&tenant, &keyed.sort_key).await?
        {
            return self.repeat_invitation(context, keyed, &remembered).await;
        }
        let max_users = context.tier.limits().max_users;
        // Early and non-binding (the transaction below decides): spares Cognito
        // a user that could not become a member anyway.
        if self.store.user_count(&tenant).await? >= max_users {
            return Err(self.refusal_at_limit(context, &email).await?);
        }
        let new_user = NewUser {
            email: email.clone(),
            // From the verified claims, never from the request.
            tenant,
            temporary_password: input.temporary_password,
        };
        let (directory_user, created_now) = match self.directory.create_user(&new_user).await? {
            CreateOutcome::Created(user) => (user, true),
            CreateOutcome::Exists => (self.adoptable(context, &email).await?, false),
        };
        let user = new_membership(directory_user.user_id, email, input.role, MembershipStatus::Invited, now());
        let record = keyed.as_ref().map(|keyed| keyed.record(user.user_id, user.created_at));
        let pair = keyed.as_ref().zip(record.as_ref()).map(|(keyed, record)| (keyed.sort_key.as_str(), record));
        let events = user_events(&[Change::UserInvited], tenant, &user, &Cause::of(context, request));
        let new = NewMembership { user: &user, max_users, remember: pair, events: &events };
        let outcome = self.store.create(&tenant, new).await;
        match outcome {
            Ok(Written::Done) => {
                tracing::info!(user_id = %user.user_id, role = %user.role, adopted = !created_now, "user invited");
                Ok(created(&format!("/users/{}", user.user_id), &user))
            }
            // A concurrent request with the same key won: answer as it did.
            Ok(Written::KeyUsed) => {
                if created_now {
                    self.compensate(&tenant, &user).await;
                }
                let keyed = keyed.as_ref().ok_or(ApiError::Internal)?;
                let remembered = self.store.remembered(&tenant, &keyed.sort_key).await?.ok_or(ApiError::Internal)?;
                self.repeat_invitation(context, keyed, &remembered).await
            }
            // Someone else's membership for this user: not ours to undo.
            Ok(Written::Exists) => Err(already_member()),
            other => {
                if created_now {
                    self.compensate(&tenant, &user).await;
                }
                Err(match other {
                    Ok(Written::LimitReached) => self.refusal_at_limit(context, &user.email).await?,
                    Err(error) => error.into(),
                    Ok(_) => ApiError::Internal,
                })
            }
        }
    }

    /// The answer to an invitation whose idempotency key is remembered: the
    /// same member for the same input, a conflict for other input.
    async fn repeat_invitation(
        &self,
        context: &TenantContext,
        keyed: &KeyedCreate,
        remembered: &RememberedCreate,
    ) -> RouteResult {
        let id = UserId::parse(keyed.repeated_id(remembered)?).map_err(|_| ApiError::Internal)?;
        let user = self.store.get(&context.tenant_id, id).await?.ok_or_else(|| {
            ApiError::Conflict(format!(
                "the request with this Idempotency-Key invited user {id}, who has since been removed"
            ))
        })?;
        tracing::info!(user_id = %id, "invitation repeated");
        Ok(created(&format!("/users/{id}"), &user))
    }

    /// Why an invitation of `email` is refused when the tenant is at its user
    /// limit: the real reason first (already a member, or the address is
    /// taken), the limit only when the invitation could otherwise succeed.
    async fn refusal_at_limit(&self, context: &TenantContext, email: &str) -> Result<ApiError, ApiError> {
        Ok(match self.directory.get_user(email).await? {
            Some(existing) if existing.tenant != Some(context.tenant_id) => {
                ApiError::Conflict("this email address is already registered".into())
            }
            Some(existing) if self.store.get(&context.tenant_id, existing.user_id).await?.is_some() => already_member(),
            _ => limit_exceeded(context.tier),
        })
    }

    /// The existing directory user behind an email that is already taken, if
    /// it is a leftover of this tenant (created by an invitation that failed
    /// part-way) that can become the member now.
    async fn adoptable(&self, context: &TenantContext, email: &str) -> Result<DirectoryUser, ApiError> {
        let existing =
            self.directory.get_user(email).await?.ok_or_else(|| {
                ApiError::Conflict("the email address changed during the request; please retry".into())
            })?;
        if existing.tenant != Some(context.tenant_id) {
            // Do not reveal which tenant (or whether a platform account) holds it.
            return Err(ApiError::Conflict("this email address is already registered".into()));
        }
        if self.store.get(&context.tenant_id, existing.user_id).await?.is_some() {
            return Err(already_member());
        }
        Ok(existing)
    }

    /// Deletes the directory user an invitation created when its membership
    /// could not be written, unless a membership for it exists after all
    /// (a concurrent invitation adopted it, or the write did land).
    async fn compensate(&self, tenant: &TenantId, user: &User) {
        // Unreadable (store down): the write most likely failed too; undo.
        if let Ok(Some(_)) = self.store.get(tenant, user.user_id).await {
            return;
        }
        match self.directory.delete_user(&user.email).await {
            Ok(()) | Err(DirectoryError::UserNotFound) => {
                tracing::info!(user_id = %user.user_id, "invitation undone: directory user deleted");
            }
            Err(error) => tracing::error!(
                user_id = %user.user_id,
                %error,
                "could not undo the invitation; a repeated invitation adopts the directory user"
            ),
        }
    }

    async fn change_role(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        only_query_params(request, &[])?;
        let id = user_id(request)?;
        let input: ChangeRole = json_body(request, MAX_REQUEST_BYTES)?;
        let current = self.changeable(context, id).await?;
        if current.role == input.role {
            return Ok(json_response(StatusCode::OK, &current));
        }
        let next = revise(&current, input.role, current.status, now());
        self.replace(&context.tenant_id, &current, &next, 0, &Cause::of(context, request)).await?;
        tracing::info!(user_id = %id, role = %next.role, "role changed");
        Ok(json_response(StatusCode::OK, &next))
    }

    async fn disable(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let current = self.changeable(context, user_id(request)?).await?;
        // An invitee too: its first sign-in is blocked until it is enabled.
        let user = if matches!(current.status, MembershipStatus::Active | MembershipStatus::Invited) {
            let next = revise(&current, current.role, MembershipStatus::Disabled, now());
            self.replace(&context.tenant_id, &current, &next, 0, &Cause::of(context, request)).await?;
            next
        } else {
            current
        };
        // Also when already disabled: a retry completes an earlier attempt.
        if self.directory_user_matches(&user).await? {
            // Execution role (Cognito is not tenant-scoped); the membership read
            // above, with tenant credentials, proved the user is in this tenant.
            ignore_missing(self.directory.disable_user(&user.email).await)?;
            ignore_missing(self.directory.sign_out_everywhere(&user.email).await)?;
        }
        tracing::info!(user_id = %user.user_id, "user disabled");
        Ok(json_response(StatusCode::OK, &user))
    }

    async fn enable(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let current = self.changeable(context, user_id(request)?).await?;
        // Only the directory user the membership names (its `sub`).
        let account = self.directory.get_user(&current.email).await?.filter(|found| found.user_id == current.user_id);
        let user = if current.status == MembershipStatus::Disabled {
            // Back to `invited` if it never signed in (its password is still
            // the temporary one), else `active`.
            let never_signed_in = account.as_ref().is_some_and(|found| found.password == PasswordState::Temporary);
            let status = if never_signed_in { MembershipStatus::Invited } else { MembershipStatus::Active };
            let next = revise(&current, current.role, status, now());
            self.replace(&context.tenant_id, &current, &next, 0, &Cause::of(context, request)).await?;
            next
        } else {
            current
        };
        if account.is_some() {
            // Execution role (Cognito is not tenant-scoped); see `disable`.
            ignore_missing(self.directory.enable_user(&user.email).await)?;
        }
        tracing::info!(user_id = %user.user_id, "user enabled");
        Ok(json_response(StatusCode::OK, &user))
    }

    async fn delete(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let current = self.existing(context, user_id(request)?).await?;
        // (1) Mark it: it can no longer sign in, and no longer counts.
        let marked = if current.status == MembershipStatus::Deleting {
            current
        } else {
            let next = revise(&current, current.role, MembershipStatus::Deleting, now());
            self.replace(&context.tenant_id, &current, &next, -1, &Cause::of(context, request)).await?;
            next
        };
        // (2) The directory user, if it is still this one: its sessions
        // first, so no refresh token outlives the membership.
        if self.directory_user_matches(&marked).await? {
            // Execution role (Cognito is not tenant-scoped); the membership
            // proved the user is in this tenant.
            ignore_missing(self.directory.sign_out_everywhere(&marked.email).await)?;
            ignore_missing(self.directory.delete_user(&marked.email).await)?;
        }
        // (3) The membership.
        match self.store.remove(&context.tenant_id, marked.user_id, marked.version).await? {
            Written::Done | Written::Missing => {}
            _ => return Err(concurrent_change()),
        }
        tracing::info!(user_id = %marked.user_id, "user deleted");
        Ok(no_content())
    }

    /// Emails the invitation again, with a new temporary password (the old
    /// one stops working): only before the member's first sign-in.
    async fn resend_invitation(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let user = self.changeable(context, user_id(request)?).await?;
        if user.status != MembershipStatus::Invited {
            return Err(ApiError::Conflict(
                "the member has signed in already; an invitation is only resent before the first sign-in".into(),
            ));
        }
        self.require_sign_in_account(&user).await?;
        // Execution role (Cognito is not tenant-scoped); the membership read
        // with tenant credentials proved the user is in this tenant.
        self.directory.resend_invitation(&user.email).await?;
        tracing::info!(user_id = %user.user_id, "invitation resent");
        Ok(json_response(StatusCode::ACCEPTED, &user))
    }

    /// Voids the member's password, ends its sessions and emails it a code to
    /// choose a new one: only for a member who has signed in (is active).
    async fn reset_password(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let user = self.changeable(context, user_id(request)?).await?;
        match user.status {
            MembershipStatus::Active => {}
            MembershipStatus::Invited => {
                return Err(ApiError::Conflict(
                    "the member has not signed in yet; resend the invitation instead".into(),
                ));
            }
            _ => {
                return Err(ApiError::Conflict("the member is disabled; enable them first".into()));
            }
        }
        self.require_sign_in_account(&user).await?;
        // Execution role; see `resend_invitation`. Sessions end first: a reset
        // usually means the password is known to someone else.
        ignore_missing(self.directory.sign_out_everywhere(&user.email).await)?;
        self.directory.reset_password(&user.email).await?;
        tracing::info!(user_id = %user.user_id, "password reset");
        Ok(json_response(StatusCode::ACCEPTED, &user))
    }

    /// The first sign-in of an invited member (from the token-claims
    /// trigger): `invited` becomes `active`, and an admin starts counting.
    async fn activate_invited(&self, tenant: &TenantId, id: UserId) -> Result<(), ApiError> {
        let current = self.store.get(tenant, id).await?.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
        match current.status {
            MembershipStatus::Active => Ok(()),
            MembershipStatus::Invited => {
                let next = revise(&current, current.role, MembershipStatus::Active, now());
                self.replace(tenant, &current, &next, 0, &Cause::default()).await?;
                tracing::info!(user_id = %id, "invited member signed in: active");
                Ok(())
            }
            status => Err(ApiError::Conflict(format!("the membership is {status}"))),
        }
    }

    /// The membership `id` of the caller's tenant, or 404.
    async fn existing(&self, context: &TenantContext, id: UserId) -> Result<User, ApiError> {
        self.store.get(&context.tenant_id, id).await?.ok_or_else(|| ApiError::NotFound("no such user".into()))
    }

    /// Like [`existing`](Self::existing), refusing a user being removed.
    async fn changeable(&self, context: &TenantContext, id: UserId) -> Result<User, ApiError> {
        let user = self.existing(context, id).await?;
        if user.status == MembershipStatus::Deleting {
            return Err(ApiError::Conflict("the user is being removed; repeat the DELETE to finish".into()));
        }
        Ok(user)
    }

    /// Writes `next` over `current` with the counter changes and the
    /// lifecycle events that go with it.
    async fn replace(
        &self,
        tenant: &TenantId,
        current: &User,
        next: &User,
        users: i64,
        cause: &Cause,
    ) -> Result<(), ApiError> {
        let change = CounterChange { users, admins: admins_delta(current, next) };
        let events = user_events(&changes_between(current, next), *tenant, next, cause);
        let revision = Revision { user: next, expected_version: current.version, change, events: &events };
        match self.store.replace(tenant, revision).await? {
            Written::Done => Ok(()),
            Written::LastAdmin => Err(ApiError::Conflict(LAST_ADMIN.into())),
            Written::Missing => Err(ApiError::NotFound("no such user".into())),
            Written::Stale | Written::Exists | Written::LimitReached | Written::KeyUsed => Err(concurrent_change()),
        }
    }

    /// 409 unless the member's directory user still exists (see
    /// [`Self::directory_user_matches`]).
    async fn require_sign_in_account(&self, user: &User) -> Result<(), ApiError> {
        if self.directory_user_matches(user).await? {
            Ok(())
        } else {
            Err(ApiError::Conflict(
                "the member's sign-in account is gone; remove the member and invite them again".into(),
            ))
        }
    }

    /// Whether the directory user named by `user`'s email is `user` (its
    /// `sub`): never act on a user who took over the address meanwhile.
    async fn directory_user_matches(&self, user: &User) -> Result<bool, ApiError> {
        directory_user_matches(&self.directory, user).await
    }

    /// Revokes the refresh tokens of every member of `tenant` (the tenant was
    /// suspended): no new tokens can be minted with them. Returns how many
    /// users were signed out. Safe to repeat.
    async fn end_sessions(&self, tenant: &TenantId) -> Result<u32, ApiError> {
        let mut after = None;
        let mut signed_out = 0;
        loop {
            let page = self.store.list(tenant, MAX_PAGE_SIZE, after).await?;
            for user in &page.users {
                // Only the directory user the membership names (its `sub`).
                if self.directory_user_matches(user).await? {
                    ignore_missing(self.directory.sign_out_everywhere(&user.email).await)?;
                    signed_out += 1;
                }
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(signed_out),
            }
        }
    }

    fn check_password(&self, password: &Password) -> Result<(), ApiError> {
        self.password_policy.check(password.expose()).map_err(|error| ApiError::BadRequest(error.to_string()))
    }

    /// Removes every user of a tenant whose registration never finished:
    /// directory user (if it is still this tenant's), membership, counters;
    /// then the directory user `admin_email` if it is this tenant's (created
    /// before a membership failed). A tenant with a record is no unfinished
    /// registration: refused.
    async fn discard_registration(&self, tenant: &TenantId, admin_email: &str) -> Result<u32, ApiError> {
        if self.authority.store().tenant(tenant).await?.is_some() {
            return Err(ApiError::Conflict(
                "the tenant has a record; only unfinished registrations are discarded".into(),
            ));
        }
        let mut removed = 0;
        let mut after = None;
        loop {
            let page = self.store.list(tenant, MAX_PAGE_SIZE, after).await?;
            for user in &page.users {
                if self.directory_user_matches(user).await? {
                    ignore_missing(self.directory.delete_user(&user.email).await)?;
                }
                if self.store.remove(tenant, user.user_id, user.version).await? == Written::Done {
                    removed += 1;
                }
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        self.store.forget_counters(tenant).await?;
        if let Ok(email) = normalize_email(admin_email)
            && let Some(user) = self.directory.get_user(&email).await?
            && user.tenant == Some(*tenant)
        {
            ignore_missing(self.directory.delete_user(&email).await)?;
            removed += 1;
        }
        Ok(removed)
    }

    async fn create_first_admin(
        &self,
        tenant: TenantId,
        tier: TenantTier,
        email: &str,
        password: &Password,
    ) -> Result<UserId, ApiError> {
        let email = normalize_email(email).map_err(|error| ApiError::BadRequest(error.to_string()))?;
        self.check_password(password)?;
        let new_user = NewUser {
            email: email.clone(),
            tenant,
            // Checks the pool's password policy before the user exists.
            temporary_password: Some(password.clone()),
        };
        // Execution role (Cognito is not tenant-scoped); the tenant is the
        // tenants service's, the only caller the function's policy allows.
        let directory_user = match self.directory.create_user(&new_user).await? {
            CreateOutcome::Created(user) => user,
            CreateOutcome::Exists => {
                let existing = self.directory.get_user(&email).await?.ok_or_else(|| {
                    ApiError::Conflict("the email address changed during the request; please retry".into())
                })?;
                if existing.tenant != Some(tenant) {
                    return Err(ApiError::Conflict("this email address is already registered".into()));
                }
                existing
            }
        };
        // Only a user who never signed in gets the password: a repeated
        // registration must never reset a working admin's password.
        if directory_user.password == PasswordState::Temporary {
            self.directory.set_permanent_password(&email, password.expose()).await?;
        }
        let user = new_membership(directory_user.user_id, email, TenantRole::Admin, MembershipStatus::Active, now());
        // The first admin comes with its tenant's registration: no event of its own.
        let new = NewMembership { user: &user, max_users: tier.limits().max_users, remember: None, events: &[] };
        match self.store.create(&tenant, new).await? {
            // Exists: a retry of a registration whose membership was written.
            Written::Done | Written::Exists => Ok(user.user_id),
            Written::LimitReached => Err(limit_exceeded(tier)),
            Written::LastAdmin | Written::Stale | Written::Missing | Written::KeyUsed => Err(ApiError::Internal),
        }
    }
}

/// Whether the directory's user of `user`'s email is the one the membership
/// names (its `sub`): never act on a namesake.
async fn directory_user_matches(directory: &impl Directory, user: &User) -> Result<bool, ApiError> {
    Ok(directory.get_user(&user.email).await?.is_some_and(|found| found.user_id == user.user_id))
}

/// A tenant's users as offboarding counts and removes them: the directory
/// users first (found through the memberships), then the memberships
/// table's partition (memberships, counters, remembered invitations).
struct Members<'a, S, D> {
    store: &'a S,
    directory: &'a D,
}

/// A tenant's users as offboarding counts and removes them (for tests; the
/// service answers `count_tenant_data` and `erase_tenant_data` with it).
pub fn members_of<'a, S: MembershipStore, D: Directory>(store: &'a S, directory: &'a D) -> impl TenantData + 'a {
    Members { store, directory }
}

impl<S: MembershipStore, D: Directory> TenantData for Members<'_, S, D> {
    /// The partition by kind, and the directory users the memberships name
    /// (one directory lookup per member, in one invocation).
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        let mut counts = self.store.count(tenant).await?;
        let mut after = None;
        loop {
            let page = self.store.list(tenant, MAX_PAGE_SIZE, after).await?;
            for user in &page.users {
                if directory_user_matches(self.directory, user).await? {
                    count_one(&mut counts, "directory_users");
                }
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(counts),
            }
        }
    }

    /// Member by member, its directory user then its membership (so every
    /// pass goes on where the last stopped); then the rest of the partition.
    async fn erase(&self, tenant: &TenantId, deadline: Instant) -> Result<ErasurePass, ApiError> {
        let mut members = ErasurePass::default();
        loop {
            let page = self.store.list(tenant, MAX_PAGE_SIZE, None).await?;
            if page.users.is_empty() {
                break;
            }
            for user in &page.users {
                if directory_user_matches(self.directory, user).await? {
                    ignore_missing(self.directory.delete_user(&user.email).await)?;
                    count_one(&mut members.removed, "directory_users");
                }
                if self.store.remove(tenant, user.user_id, user.version).await? == Written::Done {
                    count_one(&mut members.removed, "users");
                }
                // After one at least: every pass makes progress.
                if Instant::now() >= deadline {
                    return Ok(members);
                }
            }
        }
        members.finished = true;
        Ok(members.and(self.store.erase(tenant, deadline).await?))
    }
}

fn require_admin(context: &TenantContext) -> Result<(), ApiError> {
    if context.is_admin() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only administrators of the tenant may do this".into()))
    }
}

fn user_id(request: &ApiGatewayV2httpRequest) -> Result<UserId, ApiError> {
    UserId::parse(path_param(request, "user_id")?).map_err(|error| ApiError::BadRequest(error.to_string()))
}

fn ignore_missing(result: Result<(), DirectoryError>) -> Result<(), ApiError> {
    match result {
        Ok(()) | Err(DirectoryError::UserNotFound) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

fn limit_exceeded(tier: TenantTier) -> ApiError {
    ApiError::LimitExceeded(format!(
        "the {tier} tier allows at most {} users; remove some or change the tier",
        tier.limits().max_users
    ))
}

fn already_member() -> ApiError {
    ApiError::Conflict("this email address already belongs to a member of the tenant".into())
}

fn concurrent_change() -> ApiError {
    ApiError::Conflict("the user was changed by a concurrent request; nothing was changed, please retry".into())
}
