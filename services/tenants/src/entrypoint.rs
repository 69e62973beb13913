//! HTTP API (payload 2.0) events in, responses out.
//!
//! Who may do what:
//! - `POST /tenants` is public (no token): registration.
//! - `/tenant` routes act on the caller's own tenant, taken from the verified
//!   claims and nowhere else.
//! - `/admin/...` routes are for platform admins only; the path's tenant id is
//!   read only there, and only after the platform-admin check.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use http::StatusCode;
use tenancy::http::{
    DEFAULT_MAX_BODY_BYTES, answer, json_body, json_response, no_body, only_query_params, page_query, path_param,
};
use tenancy::table::DataError;
use tenancy::telemetry::record_tenant;
use tenancy::{ApiError, PlatformAdmin, TenantContext, TenantId};

use crate::api::{
    ChangeTier, Cursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_REGISTRATION_BYTES, RegisterTenant, TenantList,
    UpdateTenant,
};
use crate::domain::{InvalidTenant, Registration, Tenant, TenantLifecycle, TenantName, TenantStatus, now};
use crate::registration::{Outcome, register};
use crate::store::{SlugStore, TenantStore};
use crate::users::UsersService;

/// The routes this function serves, as API Gateway route keys.
pub const ROUTES: [&str; 7] = [
    "POST /tenants",
    "GET /tenant",
    "PUT /tenant",
    "GET /admin/tenants",
    "POST /admin/tenants/{tenant_id}/suspend",
    "POST /admin/tenants/{tenant_id}/reactivate",
    "PUT /admin/tenants/{tenant_id}/tier",
];

/// How often a read-modify-write is retried when another request changed
/// the record in between.
const MODIFY_ATTEMPTS: usize = 3;

/// The tenants API over its stores and the users service.
#[derive(Debug)]
pub struct TenantsApi<T, S, U> {
    tenants: T,
    slugs: S,
    users: U,
}

impl<T: TenantStore, S: SlugStore, U: UsersService> TenantsApi<T, S, U> {
    pub fn new(tenants: T, slugs: S, users: U) -> Self {
        Self { tenants, slugs, users }
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

    /// Answers one request; every failure becomes a problem response.
    pub async fn handle(&self, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let request = &request;
        answer(request, |span| async move { self.route(request, &span).await }).await
    }

    async fn route(
        &self,
        request: &ApiGatewayV2httpRequest,
        span: &tracing::Span,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        match request.request_context.route_key.as_deref().unwrap_or_default() {
            "POST /tenants" => self.register(request, span).await,
            "GET /tenant" => self.get_own(&member(request, span)?, request).await,
            "PUT /tenant" => self.update_own(&member(request, span)?, request).await,
            "GET /admin/tenants" => self.list(&PlatformAdmin::from_request(request)?, request).await,
            "POST /admin/tenants/{tenant_id}/suspend" => {
                let admin = PlatformAdmin::from_request(request)?;
                self.change_status(&admin, request, span, Tenant::suspend).await
            }
            "POST /admin/tenants/{tenant_id}/reactivate" => {
                let admin = PlatformAdmin::from_request(request)?;
                self.change_status(&admin, request, span, Tenant::reactivate).await
            }
            "PUT /admin/tenants/{tenant_id}/tier" => {
                let admin = PlatformAdmin::from_request(request)?;
                self.change_tier(&admin, request, span).await
            }
            _ => Err(ApiError::NotFound("no such route".into())),
        }
    }

    /// `POST /tenants`: public; any token the request may carry is ignored.
    async fn register(
        &self,
        request: &ApiGatewayV2httpRequest,
        span: &tracing::Span,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        only_query_params(request, &[])?;
        let input: RegisterTenant = json_body(request, MAX_REGISTRATION_BYTES)?;
        let registration = Registration::new(
            &input.name,
            &input.slug,
            input.tier,
            &input.admin_email,
            &input.admin_password,
        )
        .map_err(invalid)?;
        match register(&self.tenants, &self.slugs, &self.users, &registration, span).await? {
            Outcome::Created(registered) => Ok(json_response(StatusCode::CREATED, &registered)),
            Outcome::Repeated(registered) => Ok(json_response(StatusCode::OK, &registered)),
        }
    }

    /// `GET /tenant`: any member of the tenant.
    async fn get_own(
        &self,
        context: &TenantContext,
        request: &ApiGatewayV2httpRequest,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        no_body(request)?;
        only_query_params(request, &[])?;
        let tenant = self.tenants.get(&context.tenant_id).await?.ok_or_else(not_found)?;
        Ok(json_response(StatusCode::OK, &tenant))
    }

    /// `PUT /tenant`: tenant admins only; the name, with optimistic concurrency.
    async fn update_own(
        &self,
        context: &TenantContext,
        request: &ApiGatewayV2httpRequest,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        if !context.is_admin() {
            return Err(ApiError::Forbidden("only an admin of the tenant may change it".into()));
        }
        only_query_params(request, &[])?;
        let input: UpdateTenant = json_body(request, DEFAULT_MAX_BODY_BYTES)?;
        let name = TenantName::parse(&input.name).map_err(invalid)?;
        let current = self.tenants.get(&context.tenant_id).await?.ok_or_else(not_found)?;
        if current.status != TenantStatus::Active {
            return Err(ApiError::Forbidden(format!(
                "the tenant is {}; it cannot be changed",
                current.status
            )));
        }
        if current.version != input.version {
            return Err(ApiError::Conflict(format!(
                "version {} is stale; the tenant is at version {}",
                input.version, current.version
            )));
        }
        let renamed = current.rename(name, now());
        self.tenants
            .replace(&renamed, input.version)
            .await
            .map_err(|error| match error {
                DataError::ConditionFailed { exists: true, .. } => ApiError::Conflict(format!(
                    "version {} is no longer current; read the tenant again",
                    input.version
                )),
                DataError::ConditionFailed { exists: false, .. } => not_found(),
                other => other.into(),
            })?;
        tracing::info!(version = renamed.version, "tenant renamed");
        Ok(json_response(StatusCode::OK, &renamed))
    }

    /// `GET /admin/tenants`: every tenant, paginated.
    async fn list(
        &self,
        _admin: &PlatformAdmin,
        request: &ApiGatewayV2httpRequest,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let (limit, after) = page_query(request, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Cursor::decode)?;
        let page = self.tenants.list(limit, after.map(|cursor| cursor.0)).await?;
        let list = TenantList {
            items: page.tenants,
            next_cursor: page.next_after.map(|id| Cursor(id).encode()),
        };
        Ok(json_response(StatusCode::OK, &list))
    }

    /// Suspend or reactivate a tenant (platform admins).
    async fn change_status(
        &self,
        admin: &PlatformAdmin,
        request: &ApiGatewayV2httpRequest,
        span: &tracing::Span,
        transition: fn(&Tenant, time::OffsetDateTime) -> Result<Tenant, crate::domain::InvalidTransition>,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        no_body(request)?;
        only_query_params(request, &[])?;
        let target = target_tenant(request, span)?;
        let tenant = modify_tenant(&self.tenants, &target, |current| {
            transition(current, now())
                .map(Some)
                .map_err(|error| ApiError::Conflict(error.to_string()))
        })
        .await?;
        tracing::info!(platform_admin = %admin.user_id, status = %tenant.status, "tenant status changed");
        Ok(json_response(StatusCode::OK, &tenant))
    }

    /// `PUT /admin/tenants/{tenant_id}/tier` (platform admins).
    async fn change_tier(
        &self,
        admin: &PlatformAdmin,
        request: &ApiGatewayV2httpRequest,
        span: &tracing::Span,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        only_query_params(request, &[])?;
        let target = target_tenant(request, span)?;
        let input: ChangeTier = json_body(request, DEFAULT_MAX_BODY_BYTES)?;
        let tenant = modify_tenant(&self.tenants, &target, |current| {
            if current.status == TenantStatus::Pending {
                Err(ApiError::Conflict(
                    "the tenant's registration has not finished; its tier cannot change yet".into(),
                ))
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

/// The caller's tenant context (any role), recorded on the request span.
fn member(request: &ApiGatewayV2httpRequest, span: &tracing::Span) -> Result<TenantContext, ApiError> {
    let context = TenantContext::from_request(request)?;
    record_tenant(span, &context.tenant_id);
    Ok(context)
}

/// The `{tenant_id}` of an admin route. Call only after the platform-admin check.
fn target_tenant(request: &ApiGatewayV2httpRequest, span: &tracing::Span) -> Result<TenantId, ApiError> {
    let tenant =
        TenantId::parse(path_param(request, "tenant_id")?).map_err(|error| ApiError::BadRequest(error.to_string()))?;
    record_tenant(span, &tenant);
    Ok(tenant)
}

/// Reads the tenant, applies `change` (`None`: nothing to change) and writes
/// the result conditional on the version read; retried a few times when a
/// concurrent request changed the record in between.
pub(crate) async fn modify_tenant<T: TenantStore>(
    tenants: &T,
    tenant: &TenantId,
    change: impl Fn(&Tenant) -> Result<Option<Tenant>, ApiError> + Send + Sync,
) -> Result<Tenant, ApiError> {
    for _ in 0..MODIFY_ATTEMPTS {
        let current = tenants.get(tenant).await?.ok_or_else(not_found)?;
        let Some(next) = change(&current)? else {
            return Ok(current);
        };
        match tenants.replace(&next, current.version).await {
            Ok(()) => return Ok(next),
            Err(DataError::ConditionFailed { exists: true, .. }) => continue,
            Err(DataError::ConditionFailed { exists: false, .. }) => return Err(not_found()),
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Conflict(
        "the tenant is being changed by other requests; nothing was changed, please retry".into(),
    ))
}

fn invalid(error: InvalidTenant) -> ApiError {
    ApiError::BadRequest(error.to_string())
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such tenant".into())
}
