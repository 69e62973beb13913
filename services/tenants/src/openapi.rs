//! The OpenAPI 3.1 document of the tenants API, generated from the wire
//! types and the route declarations below. The committed copy is
//! `services/tenants/openapi.json`; `tests/openapi.rs` keeps it equal to this
//! and to [`ROUTES`](crate::entrypoint::ROUTES), and the handler tests check
//! every status they see against it. Not used by the Lambda binary.

use tenancy::openapi::{BearerJwt, GatewayMessage, PageParams, StandardErrors};
use tenancy::{Problem, TenantId, UserId};
use utoipa::OpenApi;

use crate::api::{
    AuditList, ChangeTier, ErasureReceipt, RegisterTenant, Registered, RegistrationRemoval, TenantList, UpdateTenant,
};
use crate::domain::Tenant;

/// Registration is public: no tenant, hence no token, exists yet.
const AUTH: BearerJwt = BearerJwt { public: &["POST /tenants"] };

/// The errors an operation has unless it declares its own (see [`StandardErrors`]).
const ERRORS: StandardErrors = StandardErrors {
    forbidden: "The caller is not a platform admin (by its current group membership)",
    unavailable: "The data store, STS or users service is unavailable; retry (a change is made in full or not at all)",
    body_limit: "64 KiB",
};

/// The tenants API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "tenants",
        description = "Tenant registration (public), the caller's own tenant, and the platform admins' tenant \
                       management. Every error is an `application/problem+json` body.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        ops::register_tenant,
        ops::get_tenant,
        ops::update_tenant,
        ops::close_tenant,
        ops::read_audit,
        ops::list_tenants,
        ops::suspend_tenant,
        ops::reactivate_tenant,
        ops::change_tier,
        ops::offboard_tenant,
        ops::remove_registration
    ),
    components(schemas(Problem, GatewayMessage)),
    modifiers(&AUTH, &ERRORS),
    tags(
        (name = "registration", description = "Public sign-up of a new tenant"),
        (name = "tenant", description = "The caller's own tenant"),
        (name = "audit", description = "The caller's tenant's audit trail: one entry per change, only ever added"),
        (name = "platform-admin", description = "All tenants; platform admins only (Cognito group `platform-admin`)")
    ),
)]
pub struct TenantsDoc;

/// The document as committed: pretty-printed JSON.
pub fn document_json() -> String {
    tenancy::openapi::render(&TenantsDoc::openapi())
}

/// The route declarations (the handlers are in `entrypoint.rs`).
#[allow(dead_code, reason = "declarations read by the OpenApi derive only")]
mod ops {
    use super::*;

    /// Register a tenant and its first admin (public). Safe to retry by its requester only: send a
    /// random `Idempotency-Key` and the same key with every retry. The same key and input resume an
    /// unfinished registration or repeat a finished one (200) for a day; anything else on a taken slug
    /// is a 409 that says nothing about the tenant. The password takes no part in this and is never
    /// stored. The user pool's password policy is checked before anything is written.
    #[utoipa::path(post, path = "/tenants", operation_id = "registerTenant", tag = "registration",
        params(
            ("Idempotency-Key" = String, Header,
                description = "A random value of 32 to 128 characters (`A-Z a-z 0-9 - _`; 128 random bits or more) that the client makes for this registration, keeps, and sends again unchanged with every retry of it",
                pattern = "^[A-Za-z0-9_-]{32,128}$", min_length = 32, max_length = 128),
        ),
        request_body(content = RegisterTenant, example = json!({
            "name": "Acme Corp",
            "slug": "acme",
            "tier": "free",
            "admin_email": "admin@acme.example.com",
            "admin_password": "Example-Passw0rd-1",
        })),
        responses(
            (status = 200, description = "A repeat of a completed registration: the same Idempotency-Key and input, within the registration expiry", body = Registered),
            (status = 201, description = "Registered: the tenant is active and its admin can sign in", body = Registered),
            (status = 400, description = "Invalid JSON, unknown or missing fields, a bad name, slug or email, a password the pool's policy refuses (the detail states the rule), a missing or malformed Idempotency-Key, or a query parameter", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The slug is taken (by another requester, or the key with other input, or a key past its expiry), or the email belongs to another user; nothing of the tenant is revealed", body = Problem, content_type = "application/problem+json"),
            (status = 413, description = "Body over 16 KiB", body = Problem, content_type = "application/problem+json"),
            (status = 429, description = "Too many registrations; retry later", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "The data store, STS or users service is unavailable; retry with the same Idempotency-Key (the registration resumes where it stopped)", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn register_tenant() {}

    /// The caller's tenant (any member).
    #[utoipa::path(get, path = "/tenant", operation_id = "getOwnTenant", tag = "tenant",
        responses(
            (status = 200, description = "The tenant", body = Tenant),
            (status = 403, description = "No tenant claims, the tenant is not active (`urn:problem:tenant-inactive`), or the caller is no longer an active member (`urn:problem:membership-inactive`)", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "The tenant does not exist", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn get_tenant() {}

    /// Rename the caller's tenant, naming the version read (admins).
    #[utoipa::path(put, path = "/tenant", operation_id = "updateOwnTenant", tag = "tenant",
        request_body = UpdateTenant,
        responses(
            (status = 200, description = "The tenant at its new version", body = Tenant),
            (status = 400, description = "Invalid JSON, unknown or missing fields (`slug`, `tier` and `tenant_id` are not changeable here), a bad name, or a query parameter", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "No tenant claims, not an admin (by the current membership), or the tenant is not active (`urn:problem:tenant-inactive`), or the caller is no longer an active member (`urn:problem:membership-inactive`)", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "The tenant does not exist", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "`version` is stale, or a concurrent request changed the tenant; nothing was changed", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn update_tenant() {}

    /// Close the caller's tenant (admins). From now on nobody of it can sign in or call the API, and
    /// every session ends. Its data is erased after the platform's closure grace period (7 days by
    /// default), during which a platform admin may take the closure back; export the data first.
    #[utoipa::path(delete, path = "/tenant", operation_id = "closeOwnTenant", tag = "tenant",
        responses(
            (status = 202, description = "The tenant is closing (`status: offboarding`); `offboarding.erase_after` says when its erasure begins", body = Tenant),
            (status = 400, description = "A query parameter or a body", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "No tenant claims, not an admin (by the current membership), the tenant is not active (`urn:problem:tenant-inactive`), or the caller is no longer an active member (`urn:problem:membership-inactive`)", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "The tenant does not exist", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The tenant cannot close now (already closing), or concurrent requests kept changing it; nothing was changed", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "A dependency is unavailable; retry. If the closure was written but the sessions could not all be ended, the detail says so", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn close_tenant() {}

    /// Filters of the audit trail (each optional; together, all must hold).
    #[derive(utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AuditFilters {
        /// Only this user's entries.
        pub actor: Option<UserId>,
        /// Only this route, as `METHOD /path`, e.g. `PUT /users/{user_id}/role`.
        #[param(max_length = 200)]
        pub action: Option<String>,
        /// Entries at or after this time (RFC 3339).
        #[param(format = DateTime)]
        pub from: Option<String>,
        /// Entries at or before this time (RFC 3339).
        #[param(format = DateTime)]
        pub to: Option<String>,
    }

    /// The tenant's audit trail, newest first (admins): who changed what, when, with which outcome.
    /// Entries are only ever added; each is kept for its tier's retention (free 30 days, pro 1 year,
    /// enterprise 7 years).
    #[utoipa::path(get, path = "/audit", operation_id = "readAuditTrail", tag = "audit",
        params(PageParams, AuditFilters),
        responses(
            (status = 200, description = "A page of entries; filters may leave it short (even empty) with a `next_cursor`", body = AuditList),
            (status = 400, description = "Bad `limit`, `cursor`, `actor`, `action`, `from` or `to`, `from` after `to`, an unknown query parameter or a body", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "No tenant claims, not an admin (by the current membership), the tenant is not active (`urn:problem:tenant-inactive`), or the caller is no longer an active member (`urn:problem:membership-inactive`)", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn read_audit() {}

    /// List all tenants (platform admins).
    #[utoipa::path(get, path = "/admin/tenants", operation_id = "listTenants", tag = "platform-admin",
        params(PageParams),
        responses(
            (status = 200, description = "A page of tenants", body = TenantList),
            (status = 400, description = "Bad `limit` or `cursor`, an unknown query parameter or a body", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn list_tenants() {}

    /// Suspend a tenant: nobody of it can sign in or refresh tokens (platform admins).
    #[utoipa::path(post, path = "/admin/tenants/{tenant_id}/suspend", operation_id = "suspendTenant", tag = "platform-admin",
        params(("tenant_id" = TenantId, Path, description = "The tenant's id")),
        responses(
            (status = 200, description = "The tenant, suspended, and its members' refresh tokens revoked; repeating it on a suspended tenant revokes them again", body = Tenant),
            (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The tenant is pending (its registration has not finished), or concurrent requests kept changing it; nothing was changed", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "The data store, STS or users service is unavailable; retry. If the suspension was written but the sessions could not all be ended, the detail says so and a retry finishes it", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn suspend_tenant() {}

    /// Reactivate a suspended tenant, or take back a tenant's closure before its erasure began (platform admins).
    #[utoipa::path(post, path = "/admin/tenants/{tenant_id}/reactivate", operation_id = "reactivateTenant", tag = "platform-admin",
        params(("tenant_id" = TenantId, Path, description = "The tenant's id")),
        responses(
            (status = 200, description = "The tenant with its new status", body = Tenant),
            (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The tenant is neither suspended nor closing (or its erasure began), or concurrent requests kept changing it; nothing was changed", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn reactivate_tenant() {}

    /// Change a tenant's tier (platform admins); the same tier is a no-op.
    #[utoipa::path(put, path = "/admin/tenants/{tenant_id}/tier", operation_id = "changeTenantTier", tag = "platform-admin",
        params(("tenant_id" = TenantId, Path, description = "The tenant's id")),
        request_body = ChangeTier,
        responses(
            (status = 200, description = "The tenant with its tier", body = Tenant),
            (status = 400, description = "A bad id, invalid JSON, unknown or missing fields, or a query parameter", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The tenant cannot change tier now (its registration has not finished, or it is offboarding), or concurrent requests kept changing it; nothing was changed", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn change_tier() {}

    /// Offboard a tenant now (platform admins): nobody of it can sign in or call the API any more, and
    /// each service erases the tenant's records: notes; users, memberships and directory users; the
    /// audit trail, outbox, slug claim and the tenant's record. A closing tenant's grace period ends.
    /// The erasure begins once no request admitted before can still run (the platform's settling time,
    /// seconds). Safe to repeat: a repeat resumes an unfinished erasure. The receipt counts what the
    /// tenant had when the erasure began; the `offboarded` event carries it too. Afterwards the tenant
    /// is gone (404).
    #[utoipa::path(delete, path = "/admin/tenants/{tenant_id}", operation_id = "offboardTenant", tag = "platform-admin",
        params(("tenant_id" = TenantId, Path, description = "The tenant's id")),
        responses(
            (status = 200, description = "Offboarded: nothing of the tenant is left", body = ErasureReceipt),
            (status = 202, description = "Offboarding: settling (no `started_at` yet), or erasing and not finished within this request; repeat it (or let the schedule's sweep) to go on", body = ErasureReceipt),
            (status = 400, description = "A bad id, a query parameter or a body", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "No such tenant (or it is offboarded already)", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The tenant's registration has not finished, or concurrent requests kept changing it; nothing was changed", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "A dependency (data store, STS, another service, the event bus) is unavailable; retry, the erasure resumes where it stopped", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn offboard_tenant() {}

    /// Remove an unfinished registration now, before it expires: its first admin and its claim go,
    /// and its slug and email address are free again (platform admins).
    #[utoipa::path(delete, path = "/admin/registrations/{slug}", operation_id = "removeRegistration", tag = "platform-admin",
        params(("slug" = String, Path, description = "The slug the registration holds",
            min_length = 3, max_length = 40, pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")),
        responses(
            (status = 200, description = "Whether an unfinished registration held the slug and is now removed (`removed: false`: none held it, nothing changed)", body = RegistrationRemoval),
            (status = 400, description = "A bad slug, a query parameter or a body", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The slug belongs to a registered tenant (suspend it instead), or the users service kept the registration's admin; nothing was removed", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "The data store, STS or users service is unavailable; nothing was removed, retry", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn remove_registration() {}
}
