//! A service's side of offboarding: the same checks for every service.

use std::future::Future;
use std::time::Instant;

use super::{ErasureAnswer, ErasureCommand, ErasurePass, ItemCounts, PASS_TIME};
use crate::authority::AuthorityStore;
use crate::error::ApiError;
use crate::telemetry::record_tenant;
use crate::{TenantId, TenantStatus};

/// A service's records of a tenant, as offboarding counts and removes them.
pub trait TenantData: Send + Sync {
    /// Every record of the tenant, counted by kind.
    fn count(&self, tenant: &TenantId) -> impl Future<Output = Result<ItemCounts, ApiError>> + Send;

    /// Removes the tenant's records until none is left or `deadline` passes.
    fn erase(&self, tenant: &TenantId, deadline: Instant)
    -> impl Future<Output = Result<ErasurePass, ApiError>> + Send;
}

/// Runs one [`ErasureCommand`], only for a tenant whose record says
/// `offboarding` (read now, through the tenant's credentials): no mistaken or
/// replayed invoke can erase a tenant that is not being let go. Call it in
/// the invocation's span.
pub async fn answer_erasure(
    tenants: &impl AuthorityStore,
    data: &impl TenantData,
    command: ErasureCommand,
) -> ErasureAnswer {
    let tenant = match &command {
        ErasureCommand::CountTenantData { tenant_id } | ErasureCommand::EraseTenantData { tenant_id } => *tenant_id,
    };
    record_tenant(&tracing::Span::current(), &tenant);
    let result = async {
        match tenants.tenant(&tenant).await?.map(|record| record.status) {
            Some(TenantStatus::Offboarding) => {}
            status => {
                let status = status.map_or("without a record".to_owned(), |status| status.to_string());
                return Err(ApiError::Conflict(format!("the tenant is {status}, not offboarding; nothing erased")));
            }
        }
        match command {
            ErasureCommand::CountTenantData { .. } => {
                let items = data.count(&tenant).await?;
                tracing::info!(?items, "tenant data counted for offboarding");
                Ok(ErasureAnswer::Counted { items })
            }
            ErasureCommand::EraseTenantData { .. } => {
                let pass = data.erase(&tenant, Instant::now() + PASS_TIME).await?;
                tracing::info!(removed = ?pass.removed, finished = pass.finished, "tenant data erased");
                Ok(ErasureAnswer::from(pass))
            }
        }
    }
    .await;
    result.unwrap_or_else(|error: ApiError| {
        let problem = error.problem(None);
        tracing::info!(status = problem.status, "erasure command refused");
        ErasureAnswer::Refused { status: problem.status, detail: problem.detail }
    })
}
