#![doc = include_str!("../README.md")]

use futures_util::Stream;
pub use saas_client::{ApiClient, Error, Page};
use saas_client::{Method, paginate};
pub use tenants_api::{
    Actor, ActorRole, AuditEntry, ChangeTier, ErasureReceipt, IdempotencyKey, ItemCounts, Offboarding, Password,
    RegisterTenant, Registered, RegistrationRemoval, Slug, Tenant, TenantId, TenantName, TenantStatus, TenantTier,
    UpdateTenant, UserId,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Which entries of the audit trail to read; each filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this user's entries.
    pub actor: Option<UserId>,
    /// Only this route, as `METHOD /path`, e.g. `PUT /users/{user_id}/role`.
    pub action: Option<String>,
    /// Entries at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Entries at or before this time.
    pub to: Option<OffsetDateTime>,
}

/// Tenants: public registration (`/tenants`), the caller's own tenant
/// (`/tenant`) and the platform-admin routes (`/admin/tenants`).
#[derive(Debug, Clone)]
pub struct TenantsClient {
    api: ApiClient,
}

impl TenantsClient {
    /// `api` may be anonymous ([`ApiClient::anonymous`]) for [`Self::register`] alone.
    pub fn new(api: ApiClient) -> Self {
        Self { api }
    }

    /// `POST /tenants`: a new tenant and its first admin, with a new
    /// idempotency key that every retry of this call repeats.
    /// [`Error::Conflict`] when the slug is taken.
    pub async fn register(&self, registration: &RegisterTenant) -> Result<Registered, Error> {
        self.register_with_key(registration, &IdempotencyKey::generate()).await
    }

    /// `POST /tenants` with the caller's idempotency key: keep the key (the
    /// CLI keeps it on disk) to resume a registration that failed part-way
    /// after this process is gone. The same key with the same input completes
    /// or repeats the registration; the key is good for the registration's
    /// expiry (a day by default).
    pub async fn register_with_key(
        &self,
        registration: &RegisterTenant,
        key: &IdempotencyKey,
    ) -> Result<Registered, Error> {
        self.api.call(Method::POST, &["tenants"]).json(registration)?.idempotency_key(key).send().await
    }

    /// `GET /tenant`: the caller's tenant.
    pub async fn current(&self) -> Result<Tenant, Error> {
        self.api.call(Method::GET, &["tenant"]).send().await
    }

    /// `PUT /tenant` (admins): renames the caller's tenant, over the version read.
    pub async fn rename(&self, read: &Tenant, name: impl Into<String>) -> Result<Tenant, Error> {
        let update = UpdateTenant { name: name.into(), version: read.version };
        self.update(&update).await
    }

    /// `PUT /tenant` with an explicit version.
    pub async fn update(&self, update: &UpdateTenant) -> Result<Tenant, Error> {
        self.api.call(Method::PUT, &["tenant"]).json(update)?.send().await
    }

    /// `GET /audit` (tenant admins): one page of the tenant's trail, newest
    /// first. Filters may leave a page short with a cursor: follow it.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<Page<AuditEntry>, Error> {
        let time = |at: Option<OffsetDateTime>| at.and_then(|at| at.format(&Rfc3339).ok());
        self.api
            .call(Method::GET, &["audit"])
            .query_opt("limit", limit)
            .query_opt("cursor", cursor)
            .query_opt("actor", filter.actor)
            .query_opt("action", filter.action.as_deref())
            .query_opt("from", time(filter.from))
            .query_opt("to", time(filter.to))
            .send()
            .await
    }

    /// Every entry of the tenant's trail that `filter` keeps (tenant
    /// admins), newest first, following the cursors.
    pub fn audit<'a>(
        &'a self,
        filter: &'a AuditFilter,
        page_size: Option<usize>,
    ) -> impl Stream<Item = Result<AuditEntry, Error>> + 'a {
        paginate(move |cursor| async move { self.audit_page(filter, page_size, cursor.as_deref()).await })
    }

    /// `GET /admin/tenants` (platform admins): one page.
    pub async fn list_page(&self, limit: Option<usize>, cursor: Option<&str>) -> Result<Page<Tenant>, Error> {
        self.api.list_page(&["admin", "tenants"], limit, cursor).await
    }

    /// Every tenant (platform admins), following the cursors.
    pub fn list(&self, page_size: Option<usize>) -> impl Stream<Item = Result<Tenant, Error>> + '_ {
        paginate(move |cursor| async move { self.list_page(page_size, cursor.as_deref()).await })
    }

    /// `DELETE /admin/registrations/{slug}` (platform admins): removes the
    /// unfinished registration holding `slug` (its first admin too), freeing
    /// slug and email; `removed: false` if none held it. [`Error::Conflict`]
    /// for a registered tenant's slug.
    pub async fn remove_registration(&self, slug: &Slug) -> Result<RegistrationRemoval, Error> {
        self.api.call(Method::DELETE, &["admin", "registrations", slug.as_str()]).send().await
    }

    /// `POST /admin/tenants/{tenant_id}/suspend` (platform admins): nobody of
    /// the tenant can sign in. [`Error::Conflict`] unless it is active.
    pub async fn suspend(&self, id: TenantId) -> Result<Tenant, Error> {
        self.api.call(Method::POST, &["admin", "tenants", &id.to_string(), "suspend"]).send().await
    }

    /// `POST /admin/tenants/{tenant_id}/reactivate` (platform admins): a
    /// suspended tenant, or a closing one whose erasure has not begun.
    /// [`Error::Conflict`] otherwise.
    pub async fn reactivate(&self, id: TenantId) -> Result<Tenant, Error> {
        self.api.call(Method::POST, &["admin", "tenants", &id.to_string(), "reactivate"]).send().await
    }

    /// `DELETE /tenant` (tenant admins): closes the caller's tenant. Nobody
    /// of it can sign in or call the API afterwards; its data is erased
    /// after the platform's grace period (`offboarding.erase_after`).
    pub async fn close(&self) -> Result<Tenant, Error> {
        self.api.call(Method::DELETE, &["tenant"]).send().await
    }

    /// `DELETE /admin/tenants/{tenant_id}` (platform admins): offboards the
    /// tenant now. The erasure begins once no request admitted before can
    /// still run (the platform's settling time, seconds), and goes on for as
    /// long as one request may: the receipt's status is `offboarded` once
    /// nothing is left, `offboarding` before (call again; safe to repeat).
    /// [`Error::NotFound`] once the tenant is gone.
    pub async fn offboard(&self, id: TenantId) -> Result<ErasureReceipt, Error> {
        self.api.call(Method::DELETE, &["admin", "tenants", &id.to_string()]).send().await
    }

    /// `PUT /admin/tenants/{tenant_id}/tier` (platform admins).
    pub async fn change_tier(&self, id: TenantId, tier: TenantTier) -> Result<Tenant, Error> {
        self.api
            .call(Method::PUT, &["admin", "tenants", &id.to_string(), "tier"])
            .json(&ChangeTier { tier })?
            .send()
            .await
    }
}
