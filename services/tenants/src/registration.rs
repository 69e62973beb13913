//! Public registration: a new tenant and its first admin, all or nothing from
//! the caller's view, and safe to retry by the caller that began it, and by
//! nobody else.
//!
//! 1. Claim the slug (conditional put): a new tenant id, the digest of the
//!    request's idempotency key, and a fingerprint of its input. Exactly one
//!    registration of a slug wins. The same key with the same input, within
//!    the expiry, continues that claim; anything else is a 409 that says
//!    nothing about who holds the slug.
//! 2. Ask the users service for the first admin (idempotent on its side).
//!    A refusal for good (email taken, password refused) frees the slug:
//!    nothing is left behind.
//! 3. Write the tenant record, active: the record exists only once the
//!    registration has its admin, so a tenant is never half made.
//! 4. Mark the claim complete with the admin id.
//!
//! A failure in 2–4 leaves a pending claim that the same request (same key)
//! resumes, or that the expiry sweep ([`expire`]) cleans up. A repeat of a
//! completed registration answers from the records and calls nobody, so it
//! can never reset the admin's password.

use std::time::Duration;
use tenancy::audit::{Actor, ActorRole};
use tenancy::events::{Cause, Change};

use tenancy::ApiError;
use tenancy::idempotency::IdempotencyKey;
use tenancy::table::DataError;
use tenancy::telemetry::record_tenant;
use time::OffsetDateTime;
use users_api::InternalResponse;

use crate::api::Registered;
use crate::domain::{ClaimState, Registration, Slug, SlugClaim, Tenant, TenantLifecycle, TenantStatus, now};
use crate::lifecycle::tenant_events;
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

/// Runs (or resumes, or repeats) a registration. `expiry`: how long a claim
/// may stay unfinished, and how long its key may repeat a finished one.
pub async fn register<T: TenantStore, S: SlugStore, U: UsersService>(
    stores: (&T, &S, &U),
    registration: &Registration,
    key: &IdempotencyKey,
    expiry: Duration,
    request_id: Option<&str>,
    span: &tracing::Span,
) -> Result<Outcome, ApiError> {
    let (tenants, slugs, users) = stores;
    let key_digest = key.digest();
    let fresh = SlugClaim::new(registration, key_digest.clone(), now());
    let claim = match slugs.claim(&fresh).await? {
        ClaimOutcome::Claimed => fresh,
        ClaimOutcome::Existing(existing) if existing.continued_by(&key_digest, &fresh.fingerprint, now(), expiry) => {
            existing
        }
        ClaimOutcome::Existing(_) => return Err(slug_taken(registration)),
    };
    record_tenant(span, &claim.tenant_id);

    if claim.state == ClaimState::Complete {
        return repeat(tenants, &claim, registration).await.map(Outcome::Repeated);
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
                "the user directory is temporarily unavailable; retry the same request with the same Idempotency-Key"
                    .into(),
            ));
        }
        Ok(other) => {
            tracing::error!(answer = ?other, "the users service answered another command");
            return Err(ApiError::Internal);
        }
        Err(UsersError::Misconfigured(reason)) => {
            tracing::error!(%reason, "the users service cannot be used");
            return Err(ApiError::Internal);
        }
    };

    let registered = Tenant::registered(
        claim.tenant_id,
        registration.name.clone(),
        registration.slug.clone(),
        registration.tier,
        claim.created_at,
    );
    // Registered and active in one write, with the events that say so.
    let actor = Actor { user_id: admin_user_id, role: ActorRole::Admin };
    let cause = Cause { actor: Some(actor), request_id: request_id.map(str::to_owned) };
    let events = tenant_events(&[Change::Registered, Change::Activated], &registered, &cause);
    let tenant = match tenants.create(&registered, &events).await {
        Ok(()) => registered,
        // An earlier attempt of this registration wrote it.
        Err(DataError::ConditionFailed { exists: true, .. }) => stored(tenants, &claim).await?,
        Err(other) => return Err(other.into()),
    };
    slugs.complete(&claim.slug, &key_digest, Some(admin_user_id)).await?;
    tracing::info!(slug = %claim.slug, admin_user_id = %admin_user_id, "tenant registered");
    Ok(Outcome::Created(Registered { tenant, admin_user_id }))
}

/// The same 409 whoever holds the slug, and in whatever state.
fn slug_taken(registration: &Registration) -> ApiError {
    ApiError::Conflict(format!(
        "the slug {:?} is taken; choose another (a retry of your own registration must send its \
         Idempotency-Key and the same name, slug, tier and admin email)",
        registration.slug.as_str()
    ))
}

/// The answer to a repeat of a completed registration, from what is stored.
async fn repeat<T: TenantStore>(
    tenants: &T,
    claim: &SlugClaim,
    registration: &Registration,
) -> Result<Registered, ApiError> {
    // Completed by the expiry sweep: nothing to answer with.
    let admin_user_id = claim.admin_user_id.ok_or_else(|| slug_taken(registration))?;
    let tenant = stored(tenants, claim).await?;
    tracing::info!(slug = %claim.slug, "repeat of a completed registration; nothing done");
    Ok(Registered { tenant, admin_user_id })
}

async fn stored<T: TenantStore>(tenants: &T, claim: &SlugClaim) -> Result<Tenant, ApiError> {
    tenants.get(&claim.tenant_id).await?.ok_or_else(|| {
        tracing::error!(slug = %claim.slug, "the tenant record of a registration vanished");
        ApiError::Internal
    })
}

/// The users service refused the admin. For a definitive refusal (invalid
/// input, email taken) the slug is released: the caller can correct the
/// input and register again, and nothing of this attempt remains.
async fn refused<S: SlugStore>(slugs: &S, claim: &SlugClaim, status: u16, detail: String) -> ApiError {
    tracing::info!(status, "the users service refused the first admin");
    let definitive = match status {
        400 | 422 => ApiError::BadRequest(detail),
        409 => ApiError::Conflict(detail),
        429 => return ApiError::TooManyRequests("too many registrations; please retry later".into()),
        500..=599 => {
            return ApiError::ServiceUnavailable(
                "the user directory is temporarily unavailable; retry the same request with the same Idempotency-Key"
                    .into(),
            );
        }
        _ => {
            tracing::error!(status, "unexpected status from the users service");
            return ApiError::Internal;
        }
    };
    if let Err(error) = slugs.release(&claim.slug, &claim.key_digest).await {
        tracing::warn!(%error, slug = %claim.slug, "could not release the slug claim");
    }
    definitive
}

/// What one expiry sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Unfinished registrations removed (first admin, membership, claim).
    pub removed: u32,
    /// Registrations found finished but not marked so, now marked complete.
    pub completed: u32,
}

/// What became of one unfinished registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    /// It had finished (the tenant record exists): its claim is now complete.
    Completed,
    /// Its first admin, then its claim, are gone: slug and email are free.
    Removed,
    /// The users service kept its admin (logged): nothing was freed.
    Kept,
}

/// Ends one unfinished registration: marks it complete if its tenant exists,
/// else removes its first admin (directory user and membership) and then its
/// claim, which frees the slug and the email address.
async fn settle<T: TenantStore, S: SlugStore, U: UsersService>(
    (tenants, slugs, users): (&T, &S, &U),
    claim: &SlugClaim,
) -> Result<Settled, ApiError> {
    if let Some(tenant) = tenants.get(&claim.tenant_id).await?
        && tenant.status != TenantStatus::Pending
    {
        slugs.complete(&claim.slug, &claim.key_digest, None).await?;
        return Ok(Settled::Completed);
    }
    match users.discard_registration(&claim.tenant_id, &claim.admin_email).await {
        Ok(InternalResponse::Discarded { .. }) => {}
        Ok(other) => {
            tracing::warn!(slug = %claim.slug, answer = ?other, "the users service kept the registration's admin");
            return Ok(Settled::Kept);
        }
        Err(error) => {
            tracing::warn!(%error, "the users service is unavailable");
            return Err(ApiError::ServiceUnavailable(
                "the user directory is temporarily unavailable; nothing was removed, retry".into(),
            ));
        }
    }
    match slugs.release(&claim.slug, &claim.key_digest).await {
        // Finished or removed meanwhile: nothing to free.
        Ok(()) | Err(DataError::ConditionFailed { .. }) => {}
        Err(other) => return Err(other.into()),
    }
    tracing::info!(slug = %claim.slug, tenant_id = %claim.tenant_id, "unfinished registration removed");
    Ok(Settled::Removed)
}

/// Cleans up every registration left unfinished for longer than `expiry` at
/// `at` ([`settle`] each); stops at the first outage (the next sweep goes on).
pub async fn expire<T: TenantStore, S: SlugStore, U: UsersService>(
    stores: (&T, &S, &U),
    expiry: Duration,
    at: OffsetDateTime,
) -> Result<Swept, ApiError> {
    let mut swept = Swept::default();
    for claim in stores.1.pending_created_before(at - expiry).await? {
        match settle(stores, &claim).await? {
            Settled::Completed => swept.completed += 1,
            Settled::Removed => swept.removed += 1,
            Settled::Kept => {}
        }
    }
    Ok(swept)
}

/// A platform admin removes the unfinished registration holding `slug` now,
/// before it expires. `Ok(false)`: no unfinished registration holds it
/// (nothing to do); a slug of a registered tenant is a conflict.
pub async fn remove_unfinished<T: TenantStore, S: SlugStore, U: UsersService>(
    stores: (&T, &S, &U),
    slug: &Slug,
) -> Result<bool, ApiError> {
    let finished = || {
        ApiError::Conflict("the slug belongs to a registered tenant; only an unfinished registration is removed".into())
    };
    let Some(claim) = stores.1.get(slug).await? else {
        return Ok(false);
    };
    if claim.state != ClaimState::Pending {
        return Err(finished());
    }
    match settle(stores, &claim).await? {
        Settled::Removed => Ok(true),
        Settled::Completed => Err(finished()),
        Settled::Kept => {
            Err(ApiError::Conflict("the users service kept the registration's admin; nothing was removed".into()))
        }
    }
}
