//! Public registration: a new tenant and its first admin, all or nothing from
//! the caller's view, and safe to retry.
//!
//! 1. Claim the slug (conditional put) with a fingerprint of the input and a
//!    new tenant id; a claim with the same fingerprint is a retry and lends
//!    its tenant id; a different fingerprint means the slug is taken.
//! 2. Store the tenant record as `pending` (an existing record is a retry).
//! 3. Ask the users service for the first admin (idempotent on its side).
//! 4. Activate the tenant, then mark the claim complete with the admin id.
//!
//! A failure in 2–4 leaves a pending claim that the same request resumes. A
//! repeat of a completed registration answers from the claim and the record
//! and calls nobody, so it can never reset the admin's password.

use tenancy::ApiError;
use tenancy::UserId;
use tenancy::table::DataError;
use tenancy::telemetry::record_tenant;
use users_api::InternalResponse;

use crate::api::Registered;
use crate::domain::{ClaimState, Registration, SlugClaim, Tenant, TenantLifecycle, TenantStatus, now};
use crate::entrypoint::modify_tenant;
use crate::store::{ClaimOutcome, SlugStore, TenantStore};
use crate::users::{FirstAdmin, UsersError, UsersService};

/// What came of a registration request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This request completed the registration (201).
    Created(Registered),
    /// The registration had completed before; nothing was done (200).
    Repeated(Registered),
}

/// Runs (or resumes, or repeats) a registration.
pub async fn register<T: TenantStore, S: SlugStore, U: UsersService>(
    tenants: &T,
    slugs: &S,
    users: &U,
    registration: &Registration,
    span: &tracing::Span,
) -> Result<Outcome, ApiError> {
    let fingerprint = registration.fingerprint();
    let fresh = SlugClaim::new(registration.slug.clone(), fingerprint.clone(), now());
    let claim = match slugs.claim(&fresh).await? {
        ClaimOutcome::Claimed => fresh,
        ClaimOutcome::Existing(existing) if existing.fingerprint == fingerprint => existing,
        ClaimOutcome::Existing(_) => {
            return Err(ApiError::Conflict(format!(
                "the slug {:?} is taken; choose another",
                registration.slug.as_str()
            )));
        }
    };
    record_tenant(span, &claim.tenant_id);

    if claim.state == ClaimState::Complete {
        return repeat(tenants, &claim).await.map(Outcome::Repeated);
    }

    let pending = Tenant::pending(
        claim.tenant_id,
        registration.name.clone(),
        registration.slug.clone(),
        registration.tier,
        now(),
    );
    match tenants.create(&pending).await {
        // Exists: an earlier attempt of this registration got this far.
        Ok(()) | Err(DataError::ConditionFailed { exists: true, .. }) => {}
        Err(other) => return Err(other.into()),
    }

    let admin = FirstAdmin {
        tenant_id: claim.tenant_id,
        tier: registration.tier,
        email: &registration.admin_email,
        password: registration.admin_password(),
    };
    let admin_user_id = match users.create_first_admin(&admin).await {
        Ok(InternalResponse::Created { user_id }) => user_id,
        Ok(InternalResponse::Refused { status, detail }) => {
            return Err(refused(slugs, &claim, status, detail).await);
        }
        Err(UsersError::Unavailable(reason)) => {
            tracing::warn!(%reason, "the users service is unavailable; the registration stays resumable");
            return Err(ApiError::ServiceUnavailable(
                "the user directory is temporarily unavailable; please retry the same request".into(),
            ));
        }
        Ok(other @ InternalResponse::SessionsEnded { .. }) => {
            tracing::error!(answer = ?other, "the users service answered another command");
            return Err(ApiError::Internal);
        }
        Err(UsersError::Misconfigured(reason)) => {
            tracing::error!(%reason, "the users service cannot be used");
            return Err(ApiError::Internal);
        }
    };

    // Already active (or suspended since) is an earlier attempt's doing: fine.
    let tenant = modify_tenant(tenants, &claim.tenant_id, |current| match current.status {
        TenantStatus::Pending => current
            .activate(now())
            .map(Some)
            .map_err(|error| ApiError::Conflict(error.to_string())),
        TenantStatus::Active | TenantStatus::Suspended => Ok(None),
    })
    .await?;
    slugs.complete(&claim.slug, &fingerprint, admin_user_id).await?;
    tracing::info!(slug = %claim.slug, admin_user_id = %admin_user_id, "tenant registered");
    Ok(Outcome::Created(Registered { tenant, admin_user_id }))
}

/// The answer to a repeat of a completed registration, from what is stored.
async fn repeat<T: TenantStore>(tenants: &T, claim: &SlugClaim) -> Result<Registered, ApiError> {
    let admin_user_id: UserId = claim.admin_user_id.ok_or_else(|| {
        tracing::error!(slug = %claim.slug, "a complete slug claim without its admin");
        ApiError::Internal
    })?;
    let tenant = tenants.get(&claim.tenant_id).await?.ok_or_else(|| {
        tracing::error!(slug = %claim.slug, "a complete slug claim without its tenant record");
        ApiError::Internal
    })?;
    tracing::info!(slug = %claim.slug, "repeat of a completed registration; nothing done");
    Ok(Registered { tenant, admin_user_id })
}

/// The users service refused the admin. For a definitive refusal (invalid
/// input, email taken) the slug is released, so the caller can correct the
/// input and register again; the pending tenant record stays behind, unused
/// (nobody can sign in to a pending tenant, and the tenant role may not delete).
async fn refused<S: SlugStore>(slugs: &S, claim: &SlugClaim, status: u16, detail: String) -> ApiError {
    tracing::info!(status, "the users service refused the first admin");
    let definitive = match status {
        400 | 422 => ApiError::BadRequest(detail),
        409 => ApiError::Conflict(detail),
        429 => return ApiError::TooManyRequests("too many registrations; please retry later".into()),
        500..=599 => {
            return ApiError::ServiceUnavailable(
                "the user directory is temporarily unavailable; please retry the same request".into(),
            );
        }
        _ => {
            tracing::error!(status, "unexpected status from the users service");
            return ApiError::Internal;
        }
    };
    if let Err(error) = slugs.release(&claim.slug, &claim.fingerprint).await {
        tracing::warn!(%error, slug = %claim.slug, "could not release the slug claim");
    }
    definitive
}
