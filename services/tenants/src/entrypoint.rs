//! HTTP API (payload 2.0) events in, responses out.
//!
//! Who may do what:
//! - `POST /tenants` is public (no token): registration.
//! - `/tenant` and `/audit` act on the caller's own tenant, taken from the
//!   verified claims and nowhere else; what the caller may do there comes
//!   from the records (read fresh for `PUT /tenant` and `GET /audit`).
//! - `/admin/...` routes are for platform admins only, as the user pool has
//!   them now; the path's tenant id is read only there, and only after the
//!   platform-admin check.

use std::time::{Duration, Instant};

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tenancy::audit::{AUDIT_CURSOR, Actor, ActorRole, Audit, AuditCursorKey, AuditQuery, AuditStore};
use tenancy::authority::{Authority, AuthorityStore};
use tenancy::events::{Cause, EventBus, Events, Records};
use tenancy::http::{
    DEFAULT_MAX_BODY_BYTES, RouteResult, answer, dispatch, filtered_page_query, idempotency_key, json_body,
    json_response, no_body, only_query_params, page_query, path_param, query_param,
};
use tenancy::password::PasswordPolicy;
use tenancy::table::DataError;
use tenancy::telemetry::{record_tenant, request_span};
use tenancy::{ApiError, Caller, PlatformAdmin, TenantContext, TenantId, UserId};
use tracing::Instrument as _;
use users_api::InternalResponse;

use crate::api::{
    AuditList, CURSOR, ChangeTier, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_REGISTRATION_BYTES, RegisterTenant,
    RegistrationRemoval, TenantList, UpdateTenant,
};
use crate::domain::{
    InvalidTenant, InvalidTransition, Registration, Slug, Tenant, TenantLifecycle, TenantName, TenantStatus, now,
};
use crate::lifecycle::{changes_between, tenant_events};
use crate::offboarding::{DataService, Erasure, OffboardingSettings, Progress};
use crate::operators::{Operators, require_platform_admin};
use crate::registration::{Outcome, expire, register, remove_unfinished};
use crate::store::{SlugStore, TenantStore};
use crate::users::{UsersError, UsersService};

/// The routes this function serves, as API Gateway route keys.
pub const ROUTES: [&str; 11] = [
    "POST /tenants",
    "GET /tenant",
    "PUT /tenant",
    "DELETE /tenant",
    "GET /audit",
    "GET /admin/tenants",
    "POST /admin/tenants/{tenant_id}/suspend",
    "POST /admin/tenants/{tenant_id}/reactivate",
    "PUT /admin/tenants/{tenant_id}/tier",
    "DELETE /admin/tenants/{tenant_id}",
    "DELETE /admin/registrations/{slug}",
];

/// An `action` filter of `GET /audit`: a route key, `METHOD /path`.
fn audit_action(text: &str) -> Result<String, ApiError> {
    let well_formed = text.len() <= 200
        && text.split_once(' ').is_some_and(|(method, path)| {
            ["POST", "PUT", "DELETE", "PATCH"].contains(&method) && path.starts_with('/') && !path.contains(' ')
        });
    if well_formed {
        Ok(text.to_owned())
    } else {
        Err(ApiError::BadRequest("action must be a route of a change, e.g. `POST /users`".into()))
    }
}

/// A `from` or `to` filter of `GET /audit`: an RFC 3339 time.
fn audit_time(name: &str, text: &str) -> Result<time::OffsetDateTime, ApiError> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| ApiError::BadRequest(format!("{name} must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z")))
}

/// How often a read-modify-write is retried when another request changed
/// the record in between.
const MODIFY_ATTEMPTS: usize = 3;

/// How registrations are checked and how long they may stay unfinished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationSettings {
    /// The user pool's password policy (`PASSWORD_POLICY`).
    pub password_policy: PasswordPolicy,
    /// `REGISTRATION_EXPIRY_SECONDS` (default 24 h): how long a registration
    /// may stay unfinished, and how long its idempotency key repeats it.
    pub expiry: Duration,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        Self { password_policy: PasswordPolicy::default(), expiry: Duration::from_secs(24 * 3600) }
    }
}

/// How the tenants service runs registrations and offboardings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    pub registration: RegistrationSettings,
    pub offboarding: OffboardingSettings,
}

/// The other services the tenants service calls (by Lambda Invoke).
#[derive(Debug, Default)]
pub struct Services<U, N> {
    pub users: U,
    /// The notes service, for offboarding only.
    pub notes: N,
}

/// A command the platform itself sends by Lambda Invoke (the schedule of
/// `terraform/modules/tenants`), as `{"internal": <command>}`; never
/// reachable through the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum InternalCommand {
    /// Clean up registrations left unfinished past their expiry.
    ExpireRegistrations,
    /// Publish every tenant's events still waiting in the outbox (a bus
    /// outage, or a function stopped between its write and the publication).
    PublishEvents,
    /// Erase the offboarding tenants whose grace period is over, and finish
    /// erasures a request left unfinished.
    FinishOffboarding,
}

/// The tenants API over its stores, the users service, the callers'
/// authority and the platform's operators.
#[derive(Debug)]
pub struct TenantsApi<T, S, U, A, L, B, O, N> {
    settings: Settings,
    tenants: T,
    slugs: S,
    users: U,
    notes: N,
    authority: Authority<A>,
    audit: Audit<L>,
    events: Events<B>,
    operators: O,
}

impl<T, S, U, A, L, B, O, N> TenantsApi<T, S, U, A, L, B, O, N>
where
    T: TenantStore,
    S: SlugStore,
    U: UsersService,
    A: AuthorityStore,
    L: AuditStore,
    B: EventBus,
    O: Operators,
    N: DataService,
{
    pub fn new(
        tenants: T,
        slugs: S,
        services: Services<U, N>,
        authority: Authority<A>,
        records: Records<L, B>,
        operators: O,
        settings: Settings,
    ) -> Self {
        let Records { audit, events } = records;
        let Services { users, notes } = services;
        Self { settings, tenants, slugs, users, notes, authority, audit, events, operators }
    }

    /// The notes service as offboarding reaches it (for tests).
    pub fn notes(&self) -> &N {
        &self.notes
    }

    /// The lifecycle events' publisher (for tests).
    pub fn events(&self) -> &Events<B> {
        &self.events
    }

    /// The audit trail (for tests).
    pub fn audit(&self) -> &Audit<L> {
        &self.audit
    }

    /// The callers' authority (for tests).
    pub fn authority(&self) -> &Authority<A> {
        &self.authority
    }

    /// The platform's operators (for tests).
    pub fn operators(&self) -> &O {
        &self.operators
    }

    /// The tenant store (for tests).
    pub fn tenants(&self) -> &T {
        &self.tenants
    }

    /// The slug store (for tests).
    pub fn slugs(&self) -> &S {
        &self.slugs
    }

    /// The users service (for tests).
    pub fn users(&self) -> &U {
        &self.users
    }

    /// Answers one raw invocation: an internal command (`{"internal":
    /// {"command": "expire_registrations"}}`, the schedule's) gets a JSON
    /// summary; anything else is taken as an HTTP API request.
    pub async fn invoke(&self, payload: Value, invocation_id: &str) -> Value {
        let internal = |command: Option<InternalCommand>| {
            async move {
                match command {
                    Some(InternalCommand::ExpireRegistrations) => self.expire_registrations().await,
                    Some(InternalCommand::PublishEvents) => self.publish_events().await,
                    Some(InternalCommand::FinishOffboarding) => self.finish_offboarding().await,
                    None => json!({"error": "the payload is not a valid internal command"}),
                }
            }
            .instrument(request_span(invocation_id))
        };
        dispatch(payload, invocation_id, internal, |request| self.handle(request)).await
    }

    /// Every tenant, all pages (the sweeps: a platform-wide Scan).
    async fn all_tenants(&self) -> Result<Vec<Tenant>, DataError> {
        let mut tenants = Vec::new();
        let mut after = None;
        loop {
            let page = self.tenants.list(MAX_PAGE_SIZE, after).await?;
            tenants.extend(page.tenants);
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(tenants),
            }
        }
    }

    /// The events sweep: every tenant's waiting events, tenant by tenant
    /// (the outbox is tenant-partitioned and read through the tenant role;
    /// the tenants come from the platform listing). What it did, or why it stopped.
    async fn publish_events(&self) -> Value {
        let tenants = match self.all_tenants().await {
            Ok(tenants) => tenants,
            Err(error) => {
                tracing::warn!(%error, "events sweep stopped");
                return json!({"error": error.to_string(), "published": 0});
            }
        };
        let (mut published, mut failed) = (0, 0);
        for tenant in &tenants {
            match self.events.publish_pending(&tenant.tenant_id, self.tenants.outbox()).await {
                Ok(count) => published += count,
                Err(error) => {
                    failed += 1;
                    tracing::warn!(%error, tenant_id = %tenant.tenant_id, "events still wait");
                }
            }
        }
        tracing::info!(tenants = tenants.len(), published, failed, "events swept");
        json!({"tenants": tenants.len(), "published": published, "failed": failed})
    }

    /// The offboarding sweep: erases the offboarding tenants that are due,
    /// within one invocation's budget (the next sweep goes on).
    async fn finish_offboarding(&self) -> Value {
        let deadline = Instant::now() + self.settings.offboarding.budget;
        let tenants = match self.all_tenants().await {
            Ok(tenants) => tenants,
            Err(error) => {
                tracing::warn!(%error, "offboarding sweep stopped");
                return json!({"error": error.to_string(), "offboarded": 0});
            }
        };
        let due = tenants.iter().filter(|tenant| {
            tenant.status == TenantStatus::Offboarding
                && tenant.offboarding.is_some_and(|offboarding| offboarding.erase_after <= now())
        });
        let (mut offboarded, mut unfinished, mut failed) = (0, 0, 0);
        for tenant in due {
            if Instant::now() >= deadline {
                unfinished += 1;
                continue;
            }
            let span = tracing::info_span!("offboarding", tenant_id = %tenant.tenant_id);
            match self.erasure().run(&tenant.tenant_id, &Cause::default(), deadline).instrument(span).await {
                Ok(Progress::Finished(_)) => offboarded += 1,
                Ok(Progress::Unfinished(_)) => unfinished += 1,
                Err(error) => {
                    failed += 1;
                    let detail = error.problem(None).detail;
                    tracing::warn!(tenant_id = %tenant.tenant_id, %detail, "offboarding still unfinished");
                }
            }
        }
        tracing::info!(offboarded, unfinished, failed, "offboarding swept");
        json!({"offboarded": offboarded, "unfinished": unfinished, "failed": failed})
    }

    /// The stores and services an erasure reaches.
    fn erasure(&self) -> Erasure<'_, T, S, L, B, N, U> {
        Erasure {
            tenants: &self.tenants,
            slugs: &self.slugs,
            audit: &self.audit,
            events: &self.events,
            notes: &self.notes,
            users: &self.users,
            settle: self.settings.offboarding.settle,
        }
    }

    /// The expiry sweep (see [`expire`]): what it did, or why it stopped.
    async fn expire_registrations(&self) -> Value {
        let stores = (&self.tenants, &self.slugs, &self.users);
        match expire(stores, self.settings.registration.expiry, now()).await {
            Ok(swept) => {
                tracing::info!(removed = swept.removed, completed = swept.completed, "registrations swept");
                json!({"removed": swept.removed, "completed": swept.completed})
            }
            Err(error) => {
                let problem = error.problem(None);
                tracing::warn!(status = problem.status, detail = %problem.detail, "registration sweep failed");
                json!({"error": problem.detail})
            }
        }
    }

    /// Answers one request; every failure becomes a problem response.
    pub async fn handle(&self, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let request = &request;
        answer(request, |span| async move { self.route(request, &span).await }).await
    }

    async fn route(&self, request: &ApiGatewayV2httpRequest, span: &tracing::Span) -> RouteResult {
        match request.request_context.route_key.as_deref().unwrap_or_default() {
            "POST /tenants" => self.register(request, span).await,
            "GET /tenant" => {
                let caller = caller(request, span)?;
                self.get_own(&self.authority.current(&caller).await?, request).await
            }
            // A privileged write: the caller's membership as it is now.
            "PUT /tenant" => {
                let context = self.authority.fresh(&caller(request, span)?).await?;
                let result = self.update_own(&context, request).await;
                self.audit.record(&context.tenant_id, context.tier, Actor::member(&context), request, &result).await;
                result
            }
            // Closing the tenant: a privileged write.
            "DELETE /tenant" => {
                let context = self.authority.fresh(&caller(request, span)?).await?;
                let result = self.close_own(&context, request).await;
                self.audit.record(&context.tenant_id, context.tier, Actor::member(&context), request, &result).await;
                result
            }
            // The trail tells what every member did: a privileged read.
            "GET /audit" => self.read_audit(&self.authority.fresh(&caller(request, span)?).await?, request).await,
            "GET /admin/tenants" => self.list(&self.platform_admin(request).await?, request).await,
            route @ ("POST /admin/tenants/{tenant_id}/suspend"
            | "POST /admin/tenants/{tenant_id}/reactivate"
            | "PUT /admin/tenants/{tenant_id}/tier") => {
                let admin = self.platform_admin(request).await?;
                let result = match route {
                    "POST /admin/tenants/{tenant_id}/suspend" => self.suspend(&admin, request, span).await,
                    "POST /admin/tenants/{tenant_id}/reactivate" => {
                        self.change_status(&admin, request, span, Tenant::reactivate).await
                    }
                    _ => self.change_tier(&admin, request, span).await,
                };
                self.after_platform_action(&admin, request, &result).await;
                result
            }
            // Not in the trail: the trail is erased with the tenant. The
            // events and the receipt tell of it.
            "DELETE /admin/tenants/{tenant_id}" => {
                let admin = self.platform_admin(request).await?;
                self.offboard(&admin, request, span).await
            }
            "DELETE /admin/registrations/{slug}" => {
                let admin = self.platform_admin(request).await?;
                self.remove_registration(&admin, request).await
            }
            _ => Err(ApiError::NotFound("no such route".into())),
        }
    }

    /// After a platform admin's action on a tenant: its events go out, and
    /// the action goes in the tenant's trail (none when there is no such tenant).
    async fn after_platform_action(
        &self,
        admin: &PlatformAdmin,
        request: &ApiGatewayV2httpRequest,
        result: &RouteResult,
    ) {
        let Some(target) = path_param(request, "tenant_id").ok().and_then(|id| TenantId::parse(id).ok()) else {
            return;
        };
        self.events.publish_after_change(&target, self.tenants.outbox()).await;
        match self.tenants.get(&target).await {
            Ok(Some(tenant)) => {
                self.audit.record(&target, tenant.tier, Actor::platform_admin(admin), request, result).await;
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, tenant_id = %target, "audit entry not written: tenant unreadable"),
        }
    }

    /// `GET /audit`: the tenant's trail, newest first (tenant admins).
    async fn read_audit(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        if !context.is_admin() {
            return Err(ApiError::Forbidden("only an admin of the tenant may read its audit trail".into()));
        }
        let filters = ["actor", "action", "from", "to"];
        let (limit, after) =
            filtered_page_query::<AuditCursorKey>(request, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, AUDIT_CURSOR, &filters)?;
        let actor = query_param(request, "actor")?
            .map(|text| UserId::parse(text).map_err(|_| ApiError::BadRequest("actor must be a user id".into())))
            .transpose()?;
        let action = query_param(request, "action")?.map(audit_action).transpose()?;
        let from = query_param(request, "from")?.map(|text| audit_time("from", text)).transpose()?;
        let to = query_param(request, "to")?.map(|text| audit_time("to", text)).transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(ApiError::BadRequest("from must not be after to".into()));
        }
        let query = AuditQuery { limit, after, actor, action, from, to };
        let page = self.audit.read(&context.tenant_id, &query).await?;
        let list = AuditList { items: page.entries, next_cursor: page.next_after.map(|key| AUDIT_CURSOR.encode(&key)) };
        Ok(json_response(StatusCode::OK, &list))
    }

    /// The caller, if its token names a platform admin and the user pool
    /// still has it in the group.
    async fn platform_admin(&self, request: &ApiGatewayV2httpRequest) -> Result<PlatformAdmin, ApiError> {
        let admin = PlatformAdmin::from_request(request)?;
        require_platform_admin(&self.operators, &admin).await?;
        Ok(admin)
    }

    /// `POST /tenants`: public; any token the request may carry is ignored.
    async fn register(&self, request: &ApiGatewayV2httpRequest, span: &tracing::Span) -> RouteResult {
        only_query_params(request, &[])?;
        let input: RegisterTenant = json_body(request, MAX_REGISTRATION_BYTES)?;
        let key = idempotency_key(request)?;
        // Every check before the first write.
        let registration = Registration::new(
            &input.name,
            &input.slug,
            input.tier,
            &input.admin_email,
            &input.admin_password,
            &self.settings.registration.password_policy,
        )
        .map_err(invalid)?;
        let stores = (&self.tenants, &self.slugs, &self.users);
        let request_id = request.request_context.request_id.as_deref();
        match register(stores, &registration, &key, self.settings.registration.expiry, request_id, span).await? {
            Outcome::Created(registered) => {
                self.events.publish_after_change(&registered.tenant.tenant_id, self.tenants.outbox()).await;
                let result = Ok(json_response(StatusCode::CREATED, &registered));
                // The tenant's first entry: its first admin registered it.
                let actor = Actor { user_id: registered.admin_user_id, role: ActorRole::Admin };
                let tenant = &registered.tenant;
                self.audit.record(&tenant.tenant_id, tenant.tier, actor, request, &result).await;
                result
            }
            Outcome::Repeated(registered) => Ok(json_response(StatusCode::OK, &registered)),
        }
    }

    /// `GET /tenant`: any member of the tenant.
    async fn get_own(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let tenant = self.tenants.get(&context.tenant_id).await?.ok_or_else(not_found)?;
        Ok(json_response(StatusCode::OK, &tenant))
    }

    /// `PUT /tenant`: tenant admins only; the name, with optimistic concurrency.
    async fn update_own(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        if !context.is_admin() {
            return Err(ApiError::Forbidden("only an admin of the tenant may change it".into()));
        }
        only_query_params(request, &[])?;
        let input: UpdateTenant = json_body(request, DEFAULT_MAX_BODY_BYTES)?;
        let name = TenantName::parse(&input.name).map_err(invalid)?;
        let current = self.tenants.get(&context.tenant_id).await?.ok_or_else(not_found)?;
        if current.status != TenantStatus::Active {
            return Err(ApiError::Forbidden(format!("the tenant is {}; it cannot be changed", current.status)));
        }
        if current.version != input.version {
            return Err(ApiError::Conflict(format!(
                "version {} is stale; the tenant is at version {}",
                input.version, current.version
            )));
        }
        let renamed = current.rename(name, now());
        // A rename is no lifecycle change: no event.
        self.tenants.replace(&renamed, input.version, &[]).await.map_err(|error| match error {
            DataError::ConditionFailed { exists: true, .. } => {
                ApiError::Conflict(format!("version {} is no longer current; read the tenant again", input.version))
            }
            DataError::ConditionFailed { exists: false, .. } => not_found(),
            other => other.into(),
        })?;
        tracing::info!(version = renamed.version, "tenant renamed");
        Ok(json_response(StatusCode::OK, &renamed))
    }

    /// `GET /admin/tenants`: every tenant, paginated.
    async fn list(&self, _admin: &PlatformAdmin, request: &ApiGatewayV2httpRequest) -> RouteResult {
        let (limit, after) = page_query(request, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, CURSOR)?;
        let page = self.tenants.list(limit, after).await?;
        let list = TenantList { items: page.tenants, next_cursor: page.next_after.map(|id| CURSOR.encode(&id)) };
        Ok(json_response(StatusCode::OK, &list))
    }

    /// `DELETE /admin/registrations/{slug}`: removes an unfinished
    /// registration before it expires, freeing its slug and email.
    async fn remove_registration(&self, admin: &PlatformAdmin, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let slug = Slug::parse(path_param(request, "slug")?).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let stores = (&self.tenants, &self.slugs, &self.users);
        let removed = remove_unfinished(stores, &slug).await?;
        tracing::info!(platform_admin = %admin.user_id, %slug, removed, "unfinished registration removal");
        Ok(json_response(StatusCode::OK, &RegistrationRemoval { slug, removed }))
    }

    /// Suspend or reactivate a tenant (platform admins).
    async fn change_status(
        &self,
        admin: &PlatformAdmin,
        request: &ApiGatewayV2httpRequest,
        span: &tracing::Span,
        transition: fn(&Tenant, time::OffsetDateTime) -> Result<Tenant, InvalidTransition>,
    ) -> RouteResult {
        let target = bodiless_target(request, span)?;
        let tenant = modify_tenant(&self.tenants, &target, &platform_cause(admin, request), |current| {
            changed(transition(current, now()))
        })
        .await?;
        tracing::info!(platform_admin = %admin.user_id, status = %tenant.status, "tenant status changed");
        Ok(json_response(StatusCode::OK, &tenant))
    }

    /// Suspends a tenant (platform admins) and ends its members' sessions.
    /// Repeating it on a suspended tenant ends the sessions again, so a
    /// suspension whose second step failed is finished by a retry.
    async fn suspend(
        &self,
        admin: &PlatformAdmin,
        request: &ApiGatewayV2httpRequest,
        span: &tracing::Span,
    ) -> RouteResult {
        let target = bodiless_target(request, span)?;
        let tenant = modify_tenant(&self.tenants, &target, &platform_cause(admin, request), |current| {
            if current.status == TenantStatus::Suspended {
                return Ok(None);
            }
            changed(current.suspend(now()))
        })
        .await?;
        tracing::info!(platform_admin = %admin.user_id, status = %tenant.status, "tenant status changed");
        self.end_sessions(&target, "suspended").await?;
        Ok(json_response(StatusCode::OK, &tenant))
    }

    /// Ends the sessions of every member of `tenant` (now `status`): no
    /// refresh token of theirs mints new tokens. Safe to repeat.
    async fn end_sessions(&self, tenant: &TenantId, status: &str) -> Result<(), ApiError> {
        let unfinished = || {
            ApiError::ServiceUnavailable(format!(
                "the tenant is {status}, but its members' sessions could not be ended yet; repeat the request"
            ))
        };
        match self.users.end_sessions(tenant).await {
            Ok(InternalResponse::SessionsEnded { users }) => {
                tracing::info!(users, "the tenant's sessions ended");
                Ok(())
            }
            Err(UsersError::Unavailable(reason)) => {
                tracing::warn!(%reason, "ending the tenant's sessions failed");
                Err(unfinished())
            }
            Ok(InternalResponse::Refused { status, detail }) => {
                tracing::warn!(status, %detail, "the users service refused to end the sessions");
                Err(unfinished())
            }
            Ok(other) => {
                tracing::error!(answer = ?other, "the users service answered another command");
                Err(ApiError::Internal)
            }
            Err(UsersError::Misconfigured(reason)) => {
                tracing::error!(%reason, "the users service cannot be used");
                Err(ApiError::Internal)
            }
        }
    }

    /// `DELETE /tenant`: a tenant admin closes its own tenant. From now on
    /// nobody of it can sign in or call the API; the schedule's sweep erases
    /// its data after the closure grace period, during which a platform
    /// admin may still take the closure back.
    async fn close_own(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        if !context.is_admin() {
            return Err(ApiError::Forbidden("only an admin of the tenant may close it".into()));
        }
        no_body(request)?;
        only_query_params(request, &[])?;
        let cause = Cause::of(context, request);
        let grace = time::Duration::try_from(self.settings.offboarding.closure_grace).unwrap_or(time::Duration::MAX);
        let tenant = modify_tenant(&self.tenants, &context.tenant_id, &cause, |current| {
            let at = now();
            changed(current.begin_offboarding(at, at + grace))
        })
        .await?;
        tracing::info!(erase_after = ?tenant.offboarding.map(|o| o.erase_after), "the tenant asked to be closed");
        self.events.publish_after_change(&context.tenant_id, self.tenants.outbox()).await;
        self.end_sessions(&context.tenant_id, "closing").await?;
        Ok(json_response(StatusCode::ACCEPTED, &tenant))
    }

    /// `DELETE /admin/tenants/{tenant_id}` (platform admins): offboards the
    /// tenant now, a closing one too (its grace period ends). Answers with
    /// the erasure receipt: 200 once nothing is left, 202 while the erasure
    /// settles or when this invocation's budget ran out (repeat the request
    /// to go on).
    async fn offboard(
        &self,
        admin: &PlatformAdmin,
        request: &ApiGatewayV2httpRequest,
        span: &tracing::Span,
    ) -> RouteResult {
        let target = bodiless_target(request, span)?;
        let cause = platform_cause(admin, request);
        modify_tenant(&self.tenants, &target, &cause, |current| {
            let at = now();
            if current.status == TenantStatus::Offboarding {
                return Ok(current.erase_now(at));
            }
            changed(current.begin_offboarding(at, at))
        })
        .await?;
        tracing::info!(platform_admin = %admin.user_id, "tenant offboarding");
        self.end_sessions(&target, "offboarding").await?;
        self.erase_answer(&target, &cause).await
    }

    /// Runs the erasure for this request's budget: the receipt, 200 when
    /// final, 202 while settling or unfinished.
    async fn erase_answer(&self, tenant: &TenantId, cause: &Cause) -> RouteResult {
        let deadline = Instant::now() + self.settings.offboarding.budget;
        match self.erasure().run(tenant, cause, deadline).await? {
            Progress::Finished(receipt) => Ok(json_response(StatusCode::OK, &receipt)),
            Progress::Unfinished(receipt) => Ok(json_response(StatusCode::ACCEPTED, &receipt)),
        }
    }

    /// `PUT /admin/tenants/{tenant_id}/tier` (platform admins).
    async fn change_tier(
        &self,
        admin: &PlatformAdmin,
        request: &ApiGatewayV2httpRequest,
        span: &tracing::Span,
    ) -> RouteResult {
        only_query_params(request, &[])?;
        let target = target_tenant(request, span)?;
        let input: ChangeTier = json_body(request, DEFAULT_MAX_BODY_BYTES)?;
        let tenant = modify_tenant(&self.tenants, &target, &platform_cause(admin, request), |current| {
            if current.status == TenantStatus::Pending {
                Err(ApiError::Conflict("the tenant's registration has not finished; its tier cannot change yet".into()))
            } else if current.status == TenantStatus::Offboarding {
                Err(ApiError::Conflict("the tenant is offboarding; its tier cannot change".into()))
            } else if current.tier == input.tier {
                Ok(None)
            } else {
                Ok(Some(current.with_tier(input.tier, now())))
            }
        })
        .await?;
        tracing::info!(platform_admin = %admin.user_id, tier = %tenant.tier, "tenant tier set");
        Ok(json_response(StatusCode::OK, &tenant))
    }
}

/// A transition as [`modify_tenant`] takes it; a refused one is a 409.
pub(crate) fn changed(transition: Result<Tenant, InvalidTransition>) -> Result<Option<Tenant>, ApiError> {
    transition.map(Some).map_err(|error| ApiError::Conflict(error.to_string()))
}

/// A platform admin's change, by `request`.
fn platform_cause(admin: &PlatformAdmin, request: &ApiGatewayV2httpRequest) -> Cause {
    Cause { actor: Some(Actor::platform_admin(admin)), request_id: request.request_context.request_id.clone() }
}

/// The caller as its token says, recorded on the request span.
fn caller(request: &ApiGatewayV2httpRequest, span: &tracing::Span) -> Result<Caller, ApiError> {
    let caller = Caller::from_request(request)?;
    record_tenant(span, &caller.tenant_id);
    Ok(caller)
}

/// The `{tenant_id}` of an admin route. Call only after the platform-admin check.
fn target_tenant(request: &ApiGatewayV2httpRequest, span: &tracing::Span) -> Result<TenantId, ApiError> {
    let tenant =
        TenantId::parse(path_param(request, "tenant_id")?).map_err(|error| ApiError::BadRequest(error.to_string()))?;
    record_tenant(span, &tenant);
    Ok(tenant)
}

/// The `{tenant_id}` of an admin route that takes no body and no query.
fn bodiless_target(request: &ApiGatewayV2httpRequest, span: &tracing::Span) -> Result<TenantId, ApiError> {
    no_body(request)?;
    only_query_params(request, &[])?;
    target_tenant(request, span)
}

/// Reads the tenant, applies `change` (`None`: nothing to change) and writes
/// the result conditional on the version read; retried a few times when a
/// concurrent request changed the record in between.
pub(crate) async fn modify_tenant<T: TenantStore>(
    tenants: &T,
    tenant: &TenantId,
    cause: &Cause,
    change: impl Fn(&Tenant) -> Result<Option<Tenant>, ApiError> + Send + Sync,
) -> Result<Tenant, ApiError> {
    for _ in 0..MODIFY_ATTEMPTS {
        let current = tenants.get(tenant).await?.ok_or_else(not_found)?;
        let Some(next) = change(&current)? else {
            return Ok(current);
        };
        let events = tenant_events(&changes_between(&current, &next), &next, cause);
        match tenants.replace(&next, current.version, &events).await {
            Ok(()) => return Ok(next),
            Err(DataError::ConditionFailed { exists: true, .. }) => continue,
            Err(DataError::ConditionFailed { exists: false, .. }) => return Err(not_found()),
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Conflict("the tenant is being changed by other requests; nothing was changed, please retry".into()))
}

fn invalid(error: InvalidTenant) -> ApiError {
    ApiError::BadRequest(error.to_string())
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such tenant".into())
}
