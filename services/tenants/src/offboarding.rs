//! Letting a tenant go. Once its status is `offboarding` (a platform
//! admin's `DELETE /admin/tenants/{id}`, or the tenant's own `DELETE /tenant`
//! after the closure grace period), nobody can sign in or call the API, and
//! the erasure runs:
//!
//! 0. it waits for the settling time: a member whose authority a function
//!    cached before offboarding may still be admitted for one authority
//!    window, and that request may run for one request timeout; only after
//!    both can nothing of the tenant be written any more;
//! 1. the record notes when the erasure began (no reactivation after that);
//! 2. the tenant's waiting events go out (the outbox is erased below);
//! 3. every service counts the tenant's records, once: the receipt;
//! 4. each service erases its own records, through the tenant's credentials:
//!    notes, then users (directory users too), then this service's audit
//!    trail, outbox and slug claim;
//! 5. the `offboarded` event goes out, carrying the receipt;
//! 6. the tenant's record and receipt go, in one transaction.
//!
//! Every step is safe to repeat, so a run stopped anywhere (an outage, the
//! time budget of one invocation) resumes where it stopped, by a repeated
//! request or by the schedule's sweep.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tenancy::audit::{Audit, AuditStore};
use tenancy::erasure::{ErasureAnswer, ErasureCommand, ErasurePass, ErasureReceipt, ItemCounts, TenantData};
use tenancy::events::{Cause, Change, EventBus, Events, LifecycleEvent, TenantFacts};
use tenancy::invoke::{InternalFunction, InvokeError};
use tenancy::{ApiError, TenantId, TenantStatus};

use crate::domain::{Tenant, TenantLifecycle, now};
use crate::entrypoint::{changed, modify_tenant};
use crate::store::{SlugStore, TenantStore};

/// How offboarding runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffboardingSettings {
    /// `CLOSURE_GRACE_SECONDS` (default 7 days): how long after a tenant
    /// admin's `DELETE /tenant` the erasure waits, while a platform admin
    /// may still take the closure back. Zero: the erasure runs at once.
    pub closure_grace: Duration,
    /// How long one invocation erases before it answers (the rest follows
    /// on the next request or sweep): inside the function's timeout.
    pub budget: Duration,
    /// `ERASURE_SETTLE_SECONDS` (default 20 s): how long after offboarding
    /// began the erasure waits, the authority window plus the longest a
    /// request of the services may run (their function timeout).
    pub settle: Duration,
}

impl Default for OffboardingSettings {
    fn default() -> Self {
        Self {
            closure_grace: Duration::from_secs(7 * 24 * 3600),
            budget: Duration::from_secs(5),
            settle: Duration::from_secs(20),
        }
    }
}

/// A service that keeps records of tenants, as offboarding reaches it.
pub trait DataService: Send + Sync + 'static {
    /// The tenant's records in the service, counted by kind.
    fn count(&self, tenant: &TenantId) -> impl Future<Output = Result<ItemCounts, ApiError>> + Send;

    /// One time-bounded pass of removing them.
    fn erase(&self, tenant: &TenantId) -> impl Future<Output = Result<ErasurePass, ApiError>> + Send;
}

/// [`DataService`] by Lambda Invoke of the service's function.
#[derive(Debug, Clone)]
pub struct LambdaDataService(InternalFunction);

impl LambdaDataService {
    pub fn new(client: aws_sdk_lambda::Client, function_name: impl Into<String>, service: &'static str) -> Self {
        Self(InternalFunction::new(client, function_name, service))
    }

    async fn send(&self, command: ErasureCommand) -> Result<ErasureAnswer, ApiError> {
        match self.0.send(command).await {
            Ok(ErasureAnswer::Refused { status: 503, detail }) | Err(InvokeError::Unavailable(detail)) => {
                tracing::warn!(%detail, "a service could not erase now");
                Err(ApiError::ServiceUnavailable(format!("{detail}; the offboarding resumes when repeated")))
            }
            Ok(ErasureAnswer::Refused { status, detail }) => {
                tracing::error!(status, %detail, "a service refused the erasure");
                Err(ApiError::Internal)
            }
            Ok(answer) => Ok(answer),
            Err(InvokeError::Misconfigured(reason)) => {
                tracing::error!(%reason, "a service cannot be reached");
                Err(ApiError::Internal)
            }
        }
    }
}

fn unexpected(answer: &ErasureAnswer) -> ApiError {
    tracing::error!(?answer, "a service answered another command");
    ApiError::Internal
}

impl DataService for LambdaDataService {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        match self.send(ErasureCommand::CountTenantData { tenant_id: *tenant }).await? {
            ErasureAnswer::Counted { items } => Ok(items),
            other => Err(unexpected(&other)),
        }
    }

    async fn erase(&self, tenant: &TenantId) -> Result<ErasurePass, ApiError> {
        match self.send(ErasureCommand::EraseTenantData { tenant_id: *tenant }).await? {
            ErasureAnswer::Erased { removed, finished } => Ok(ErasurePass { removed, finished }),
            other => Err(unexpected(&other)),
        }
    }
}

/// In-memory [`DataService`]: each tenant's records as counts; erases one
/// kind per pass, and can fail the next calls.
#[derive(Debug, Default)]
pub struct FakeDataService {
    records: Mutex<HashMap<TenantId, ItemCounts>>,
    failures: AtomicUsize,
}

impl FakeDataService {
    /// Gives `tenant` these records.
    pub fn hold(&self, tenant: TenantId, records: ItemCounts) {
        self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(tenant, records);
    }

    /// What `tenant` has left.
    pub fn held(&self, tenant: &TenantId) -> ItemCounts {
        let records = self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        records.get(tenant).cloned().unwrap_or_default()
    }

    /// The next `count` calls fail as unavailable.
    pub fn fail_next(&self, count: usize) {
        self.failures.store(count, Ordering::SeqCst);
    }

    fn call(&self) -> Result<(), ApiError> {
        match self.failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)) {
            Ok(_) => Err(ApiError::ServiceUnavailable("injected failure".into())),
            Err(_) => Ok(()),
        }
    }
}

impl DataService for FakeDataService {
    async fn count(&self, tenant: &TenantId) -> Result<ItemCounts, ApiError> {
        self.call()?;
        Ok(self.held(tenant))
    }

    async fn erase(&self, tenant: &TenantId) -> Result<ErasurePass, ApiError> {
        self.call()?;
        let mut records = self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let held = records.entry(*tenant).or_default();
        let mut pass = ErasurePass::default();
        if let Some((kind, count)) = held.pop_first() {
            pass.removed.insert(kind, count);
        }
        pass.finished = held.is_empty();
        Ok(pass)
    }
}

/// Where an erasure stands when its invocation answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Nothing of the tenant is left; the receipt is final.
    Finished(ErasureReceipt),
    /// Settling (no `started_at` yet), or the time budget ran out:
    /// repeating the request (or the sweep) goes on.
    Unfinished(ErasureReceipt),
}

/// The stores and services one erasure reaches.
#[derive(Debug)]
pub(crate) struct Erasure<'a, T, S, L, B, N, U> {
    pub tenants: &'a T,
    pub slugs: &'a S,
    pub audit: &'a Audit<L>,
    pub events: &'a Events<B>,
    pub notes: &'a N,
    pub users: &'a U,
    pub settle: Duration,
}

impl<T, S, L, B, N, U> Erasure<'_, T, S, L, B, N, U>
where
    T: TenantStore,
    S: SlugStore,
    L: AuditStore,
    B: EventBus,
    N: DataService,
    U: DataService,
{
    /// Erases an offboarding tenant (see the module), until done or `deadline`.
    pub async fn run(&self, tenant: &TenantId, cause: &Cause, deadline: Instant) -> Result<Progress, ApiError> {
        let current = self.tenants.get(tenant).await?.ok_or_else(|| ApiError::NotFound("no such tenant".into()))?;
        let Some(offboarding) = current.offboarding.filter(|_| current.status == TenantStatus::Offboarding) else {
            return Err(ApiError::Conflict(format!("the tenant is {}, not offboarding", current.status)));
        };
        let settle = time::Duration::try_from(self.settle).unwrap_or(time::Duration::MAX);
        if offboarding.erasure_started_at.is_none() && now() < offboarding.requested_at + settle {
            return Ok(Progress::Unfinished(ErasureReceipt {
                tenant_id: *tenant,
                status: TenantStatus::Offboarding,
                requested_at: offboarding.requested_at,
                started_at: None,
                finished_at: None,
                removed: BTreeMap::new(),
            }));
        }
        let started = modify_tenant(self.tenants, tenant, cause, |current| {
            if current.offboarding.is_some_and(|offboarding| offboarding.erasure_started_at.is_some()) {
                return Ok(None);
            }
            changed(current.begin_erasure(now()))
        })
        .await?;
        // Every waiting event goes out before the outbox is erased (a page at a time).
        while self.events.publish_pending(tenant, self.tenants.outbox()).await.map_err(|error| {
            tracing::warn!(%error, "offboarding waits for the event bus");
            ApiError::ServiceUnavailable("the event bus is unavailable; the offboarding resumes when repeated".into())
        })? > 0
        {}
        let mut receipt = match self.tenants.receipt(tenant).await? {
            Some(receipt) => receipt,
            None => self.take_receipt(&started).await?,
        };
        // One service after the other, a pass at a time.
        while !self.notes.erase(tenant).await?.finished {
            if Instant::now() >= deadline {
                return Ok(Progress::Unfinished(receipt));
            }
        }
        while !self.users.erase(tenant).await?.finished {
            if Instant::now() >= deadline {
                return Ok(Progress::Unfinished(receipt));
            }
        }
        for own in
            [self.audit.store().erase(tenant, deadline).await?, self.tenants.outbox().erase(tenant, deadline).await?]
        {
            if !own.finished {
                return Ok(Progress::Unfinished(receipt));
            }
        }
        self.slugs.forget(&started.slug, tenant).await?;
        receipt.status = TenantStatus::Offboarded;
        receipt.finished_at = Some(now());
        self.announce(&started, &receipt, cause).await?;
        self.tenants.remove(tenant).await?;
        tracing::info!(removed = ?receipt.removed, "tenant offboarded");
        Ok(Progress::Finished(receipt))
    }

    /// Counts what every service holds of the tenant, before anything goes.
    async fn take_receipt(&self, tenant: &Tenant) -> Result<ErasureReceipt, ApiError> {
        let id = &tenant.tenant_id;
        let mut own = ItemCounts::from([("tenant_records".to_owned(), 1)]);
        if self.slugs.get(&tenant.slug).await?.is_some_and(|claim| claim.tenant_id == *id) {
            own.insert("slug_claims".into(), 1);
        }
        own.extend(self.audit.store().count(id).await?);
        own.extend(self.tenants.outbox().count(id).await?);
        let removed = [
            ("notes".to_owned(), self.notes.count(id).await?),
            ("users".to_owned(), self.users.count(id).await?),
            ("tenants".to_owned(), own),
        ];
        let offboarding =
            tenant.offboarding.ok_or_else(|| ApiError::Conflict("the tenant is not offboarding".into()))?;
        let receipt = ErasureReceipt {
            tenant_id: *id,
            status: TenantStatus::Offboarding,
            requested_at: offboarding.requested_at,
            started_at: Some(offboarding.erasure_started_at.unwrap_or_else(now)),
            finished_at: None,
            removed: removed.into_iter().collect(),
        };
        self.tenants.save_receipt(&receipt).await?;
        tracing::info!(removed = ?receipt.removed, "offboarding counted the tenant's records");
        Ok(receipt)
    }

    /// Publishes the `offboarded` event straight to the bus (the outbox is
    /// gone by now). Its id is fixed per tenant, so a repeat after a failed
    /// removal is one event to consumers.
    async fn announce(&self, tenant: &Tenant, receipt: &ErasureReceipt, cause: &Cause) -> Result<(), ApiError> {
        let event = LifecycleEvent {
            event_id: format!("{}:offboarded", tenant.tenant_id),
            tenant: Some(TenantFacts { status: TenantStatus::Offboarded, tier: tenant.tier, version: tenant.version }),
            receipt: Some(receipt.clone()),
            ..LifecycleEvent::new(Change::Offboarded, tenant.tenant_id, cause)
        };
        self.events.bus().put(&[event]).await.map_err(|error| {
            tracing::warn!(%error, "the offboarded event waits for the event bus");
            ApiError::ServiceUnavailable("the event bus is unavailable; the offboarding resumes when repeated".into())
        })
    }
}
