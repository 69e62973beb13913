//! The users service, as the tenants service sees it: "create the first
//! admin of this tenant" (registration), "end this tenant's sessions"
//! (suspension) and "remove an unfinished registration's users" (expiry).
//! A trait, the Lambda Invoke implementation, and an in-memory
//! fake for tests.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tenancy::erasure::{ErasurePass, ItemCounts};
use tenancy::{ApiError, Password, TenantId, TenantTier, UserId};
use users_api::invoke::UsersFunction;
use users_api::{InternalCommand, InternalResponse};

use crate::offboarding::{DataService, FakeDataService, LambdaDataService};

/// Why the users service gave no answer we can use. The registration stays
/// resumable either way (its slug claim stays pending).
pub use users_api::invoke::InvokeError as UsersError;

/// The first admin of a new tenant.
#[derive(Debug)]
pub struct FirstAdmin<'a> {
    pub tenant_id: TenantId,
    pub tier: TenantTier,
    /// Normalised email address.
    pub email: &'a str,
    pub password: &'a Password,
}

/// The users service's internal command interface; offboarding counts and
/// erases a tenant's users through it too ([`DataService`]).
pub trait UsersService: DataService {
    /// Creates (idempotently) the first admin of `admin.tenant_id`.
    fn create_first_admin(
        &self,
        admin: &FirstAdmin<'_>,
    ) -> impl Future<Output = Result<InternalResponse, UsersError>> + Send;

    /// Revokes the refresh tokens of every member of `tenant` (idempotent).
    fn end_sessions(&self, tenant: &TenantId) -> impl Future<Output = Result<InternalResponse, UsersError>> + Send;

    /// Removes every user of `tenant`, a registration that never finished,
    /// and the pool's user `admin_email` if it is that tenant's (the users
    /// service refuses if the tenant has a record). Idempotent.
    fn discard_registration(
        &self,
        tenant: &TenantId,
        admin_email: &str,
    ) -> impl Future<Output = Result<InternalResponse, UsersError>> + Send;
}

/// [`UsersService`] by synchronous Lambda Invoke of the users function. Its
/// offboarding commands are the notes function's (the same wire), sent the
/// same way ([`LambdaDataService`]).
#[derive(Debug, Clone)]
pub struct LambdaUsersService {
    function: UsersFunction,
    data: LambdaDataService,
}

impl LambdaUsersService {
    pub fn new(client: aws_sdk_lambda::Client, function_name: impl Into<String>) -> Self {
        let function_name = function_name.into();
        Self {
            data: LambdaDataService::new(client.clone(), function_name.clone(), "users"),
            function: UsersFunction::new(client, function_name),
        }
    }

    async fn invoke(&self, command: InternalCommand) -> Result<InternalResponse, UsersError> {
        self.function.send(command).await
    }
}

impl DataService for LambdaUsersService {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        self.data.count(tenant).await
    }

    async fn erase(&self, tenant: &TenantId) -> Result<ErasurePass, ApiError> {
        self.data.erase(tenant).await
    }
}

impl UsersService for LambdaUsersService {
    async fn create_first_admin(&self, admin: &FirstAdmin<'_>) -> Result<InternalResponse, UsersError> {
        self.invoke(InternalCommand::CreateFirstAdmin {
            tenant_id: admin.tenant_id,
            tier: admin.tier,
            email: admin.email.to_owned(),
            password: admin.password.to_owned(),
        })
        .await
    }

    async fn end_sessions(&self, tenant: &TenantId) -> Result<InternalResponse, UsersError> {
        self.invoke(InternalCommand::EndSessions { tenant_id: *tenant }).await
    }

    async fn discard_registration(&self, tenant: &TenantId, admin_email: &str) -> Result<InternalResponse, UsersError> {
        self.invoke(InternalCommand::DiscardRegistration { tenant_id: *tenant, admin_email: admin_email.to_owned() })
            .await
    }
}

/// An admin the fake created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeAdmin {
    pub tenant_id: TenantId,
    pub tier: TenantTier,
    pub email: String,
    pub user_id: UserId,
}

/// In-memory [`UsersService`] with the real one's contract: idempotent for
/// the same tenant and email, 409 for an email of another tenant. Can fail
/// the next calls, and counts calls and creations.
#[derive(Debug, Default)]
pub struct FakeUsersService {
    /// The users' records, as offboarding counts and erases them.
    pub data: FakeDataService,
    admins: Mutex<HashMap<String, FakeAdmin>>,
    ended: Mutex<Vec<TenantId>>,
    calls: AtomicUsize,
    failures: AtomicUsize,
}

impl FakeUsersService {
    /// The next `count` calls fail as unavailable (like a FunctionError).
    pub fn fail_next(&self, count: usize) {
        self.failures.store(count, Ordering::SeqCst);
    }

    /// How many times the service was asked.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The tenants whose sessions were ended, in order.
    pub fn ended_sessions(&self) -> Vec<TenantId> {
        self.ended.lock().map(|ended| ended.clone()).unwrap_or_default()
    }

    /// Counts a call; fails it if failures were asked for.
    fn call(&self) -> Result<(), UsersError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)) {
            Ok(_) => Err(UsersError::Unavailable("injected failure".into())),
            Err(_) => Ok(()),
        }
    }

    /// The admins created (one per email).
    pub fn admins(&self) -> Vec<FakeAdmin> {
        self.admins.lock().map(|admins| admins.values().cloned().collect()).unwrap_or_default()
    }
}

impl DataService for FakeUsersService {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        self.data.count(tenant).await
    }

    async fn erase(&self, tenant: &TenantId) -> Result<ErasurePass, ApiError> {
        self.data.erase(tenant).await
    }
}

impl UsersService for FakeUsersService {
    async fn create_first_admin(&self, admin: &FirstAdmin<'_>) -> Result<InternalResponse, UsersError> {
        self.call()?;
        let mut admins = self.admins.lock().map_err(|_| UsersError::Unavailable("poisoned lock".into()))?;
        if let Some(existing) = admins.get(admin.email) {
            return Ok(if existing.tenant_id == admin.tenant_id {
                InternalResponse::Created { user_id: existing.user_id }
            } else {
                InternalResponse::Refused { status: 409, detail: "this email address already belongs to a user".into() }
            });
        }
        let created = FakeAdmin {
            tenant_id: admin.tenant_id,
            tier: admin.tier,
            email: admin.email.to_owned(),
            user_id: UserId::generate(),
        };
        admins.insert(admin.email.to_owned(), created.clone());
        Ok(InternalResponse::Created { user_id: created.user_id })
    }

    async fn end_sessions(&self, tenant: &TenantId) -> Result<InternalResponse, UsersError> {
        self.call()?;
        let mut ended = self.ended.lock().map_err(|_| UsersError::Unavailable("poisoned lock".into()))?;
        ended.push(*tenant);
        let users = self.admins().iter().filter(|admin| admin.tenant_id == *tenant).count();
        Ok(InternalResponse::SessionsEnded { users: u32::try_from(users).unwrap_or(u32::MAX) })
    }

    async fn discard_registration(
        &self,
        tenant: &TenantId,
        _admin_email: &str,
    ) -> Result<InternalResponse, UsersError> {
        self.call()?;
        let mut admins = self.admins.lock().map_err(|_| UsersError::Unavailable("poisoned lock".into()))?;
        let before = admins.len();
        admins.retain(|_, admin| admin.tenant_id != *tenant);
        Ok(InternalResponse::Discarded { users: u32::try_from(before - admins.len()).unwrap_or(u32::MAX) })
    }
}
