//! The pre-token-generation decision: which tenant claims a token gets, or
//! whether sign-in fails.
//!
//! The tenant comes from the user attribute `custom:tenant_id`, which only
//! the users service writes (AdminCreateUser; the app client cannot write
//! custom attributes). It is still only a pointer: the claims are granted only
//! if that tenant holds an active membership `user#<sub>` and is itself
//! active, both read with credentials scoped to that very tenant
//! (`tenancy::authority`, the reads and rule every API request uses too).
//!
//! An invited member's first sign-in is the moment its membership becomes
//! active: the trigger asks the users service, which owns memberships
//! ([`Activation`]), and fails the sign-in if that does not happen.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;

use aws_lambda_events::cognito::{
    ClaimsAndScopeOverrideDetailsV2, CognitoAccessTokenGenerationV2, CognitoEventUserPoolsPreTokenGenV2,
    CognitoIdTokenGenerationV2,
};
use serde_json::Value;
use tenancy::authority::{AuthorityStore, Membership, decide};
use tenancy::context::{PLATFORM_ADMIN_GROUP, claim};
use tenancy::table::DataError;
use tenancy::telemetry::{record_tenant, request_span};
use tenancy::{MembershipStatus, TenantId, TenantRole, TenantTier, UserId};
use tracing::Instrument as _;
use users_api::InternalCommand;
use users_api::InternalResponse;
use users_api::invoke::{InvokeError, UsersFunction};

/// The user attribute naming the user's tenant.
pub const TENANT_ATTRIBUTE: &str = "custom:tenant_id";

/// Why sign-in fails. The message is what the user sees (Cognito shows it),
/// so it says nothing about the account; the real reason is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("sign-in is not allowed for this account")]
    NotAllowed,
    #[error("sign-in is temporarily unavailable; please try again")]
    Unavailable,
}

/// The real reason for a refusal, for the logs only.
#[derive(Debug, Clone)]
enum Refusal {
    NoSubject,
    NoTenantAndNotPlatformAdmin,
    MalformedTenant,
    Records(tenancy::authority::Refusal),
    Store(DataError),
    Activation(ActivationError),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSubject => f.write_str("the event has no valid sub attribute"),
            Self::NoTenantAndNotPlatformAdmin => f.write_str("no custom:tenant_id and not in the platform-admin group"),
            Self::MalformedTenant => f.write_str("custom:tenant_id is not a tenant id"),
            Self::Records(refusal) => refusal.fmt(f),
            Self::Store(error) => write!(f, "reading the tenant's data failed: {error}"),
            Self::Activation(error) => write!(f, "the invited membership could not be made active: {error}"),
        }
    }
}

impl Refusal {
    fn to_error(&self) -> SignInError {
        match self {
            Self::Store(DataError::Corrupt(_)) => SignInError::NotAllowed,
            Self::Store(_) | Self::Activation(ActivationError::Unavailable(_)) => SignInError::Unavailable,
            _ => SignInError::NotAllowed,
        }
    }
}

/// The claims a tenant member's tokens get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantClaims {
    pub tenant_id: TenantId,
    pub role: TenantRole,
    pub tier: TenantTier,
}

impl TenantClaims {
    fn to_map(self) -> HashMap<String, Value> {
        HashMap::from([
            (claim::TENANT_ID.to_owned(), Value::String(self.tenant_id.to_string())),
            (claim::TENANT_ROLE.to_owned(), Value::String(self.role.to_string())),
            (claim::TENANT_TIER.to_owned(), Value::String(self.tier.to_string())),
        ])
    }
}

/// Why an invited membership did not become active.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivationError {
    /// The users service refused (the membership changed meanwhile).
    #[error("refused: {0}")]
    Refused(String),
    /// No usable answer: the sign-in may be tried again.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Makes an invited member's membership active (the users service owns
/// memberships; the trigger only reads them).
pub trait Activation: Send + Sync + 'static {
    fn activate(&self, tenant: &TenantId, user: &UserId) -> impl Future<Output = Result<(), ActivationError>> + Send;
}

/// The users function's `ActivateInvited` command.
impl Activation for UsersFunction {
    async fn activate(&self, tenant: &TenantId, user: &UserId) -> Result<(), ActivationError> {
        let command = InternalCommand::ActivateInvited { tenant_id: *tenant, user_id: *user };
        match self.send(command).await {
            Ok(InternalResponse::Activated { .. }) => Ok(()),
            Ok(InternalResponse::Refused { status: 503, detail }) => Err(ActivationError::Unavailable(detail)),
            Ok(InternalResponse::Refused { status, detail }) => {
                Err(ActivationError::Refused(format!("{status}: {detail}")))
            }
            Ok(other) => Err(ActivationError::Unavailable(format!("unexpected answer {other:?}"))),
            Err(error @ (InvokeError::Unavailable(_) | InvokeError::Misconfigured(_))) => {
                Err(ActivationError::Unavailable(error.to_string()))
            }
        }
    }
}

/// An in-memory [`Activation`] for tests: records the calls and answers
/// what it was told to.
#[derive(Debug, Default)]
pub struct FakeActivation {
    calls: std::sync::Mutex<Vec<(TenantId, UserId)>>,
    failure: std::sync::Mutex<Option<ActivationError>>,
}

impl FakeActivation {
    /// Every later call fails with `error` (`None`: succeeds).
    pub fn fail_with(&self, error: Option<ActivationError>) {
        *self.failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = error;
    }

    /// The activations asked for, in order.
    pub fn calls(&self) -> Vec<(TenantId, UserId)> {
        self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

impl Activation for FakeActivation {
    async fn activate(&self, tenant: &TenantId, user: &UserId) -> Result<(), ActivationError> {
        self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((*tenant, *user));
        match self.failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// The trigger over a store of records and the users service.
#[derive(Debug)]
pub struct TokenClaims<S, A> {
    store: S,
    activation: A,
}

impl<S: AuthorityStore, A: Activation> TokenClaims<S, A> {
    pub fn new(store: S, activation: A) -> Self {
        Self { store, activation }
    }

    /// The activation (for tests).
    pub fn activation(&self) -> &A {
        &self.activation
    }

    /// The store (for tests).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Answers one V2_0 event: the event with its response filled in, or an
    /// error that makes Cognito fail the sign-in.
    pub async fn handle(
        &self,
        mut event: CognitoEventUserPoolsPreTokenGenV2,
        request_id: &str,
    ) -> Result<CognitoEventUserPoolsPreTokenGenV2, SignInError> {
        let span = request_span(request_id);
        async {
            let trigger = event.cognito_event_user_pools_header.trigger_source.clone();
            match self.decide(&event, &span).await {
                Ok(None) => {
                    tracing::info!(?trigger, "platform admin signed in without tenant claims");
                    event.response.claims_and_scope_override_details = None;
                    Ok(event)
                }
                Ok(Some(claims)) => {
                    tracing::info!(?trigger, role = %claims.role, tier = %claims.tier, "tenant claims added");
                    event.response.claims_and_scope_override_details = Some(override_details(&event, claims));
                    Ok(event)
                }
                Err(refusal) => {
                    let error = refusal.to_error();
                    if error == SignInError::Unavailable {
                        tracing::warn!(?trigger, reason = %refusal, "sign-in failed");
                    } else {
                        tracing::warn!(?trigger, reason = %refusal, "sign-in refused");
                    }
                    Err(error)
                }
            }
        }
        .instrument(span.clone())
        .await
    }

    /// `Ok(None)`: a platform admin without a tenant, no tenant claims.
    async fn decide(
        &self,
        event: &CognitoEventUserPoolsPreTokenGenV2,
        span: &tracing::Span,
    ) -> Result<Option<TenantClaims>, Refusal> {
        let attributes = &event.request.user_attributes;
        let user = attributes.get(claim::SUBJECT).and_then(|sub| UserId::parse(sub).ok()).ok_or(Refusal::NoSubject)?;
        let Some(raw_tenant) = attributes.get(TENANT_ATTRIBUTE) else {
            let groups = &event.request.group_configuration.groups_to_override;
            return if groups.iter().any(|group| group == PLATFORM_ADMIN_GROUP) {
                Ok(None)
            } else {
                Err(Refusal::NoTenantAndNotPlatformAdmin)
            };
        };
        let tenant = TenantId::parse(raw_tenant).map_err(|_| Refusal::MalformedTenant)?;
        record_tenant(span, &tenant);

        // The same records and rule as every API request (tenancy::authority), read now.
        let (membership, record) = tokio::join!(self.store.membership(&tenant, &user), self.store.tenant(&tenant));
        let (membership, record) = (membership.map_err(Refusal::Store)?, record.map_err(Refusal::Store)?);
        // An invited member signing in is decided as the active member it
        // becomes, and becomes it only if the rest of the decision allows.
        let invited = membership.is_some_and(|m| m.status == MembershipStatus::Invited);
        let membership =
            membership.map(|m| Membership { status: if invited { MembershipStatus::Active } else { m.status }, ..m });
        let (role, tier) = decide(record, membership).map_err(Refusal::Records)?;
        if invited {
            self.activation.activate(&tenant, &user).await.map_err(Refusal::Activation)?;
            tracing::info!("first sign-in of an invited member: membership active");
        }
        Ok(Some(TenantClaims { tenant_id: tenant, role, tier }))
    }
}

/// The V2 response: the same tenant claims in the ID and access tokens, and
/// `custom:tenant_id` suppressed from the ID token so the tenant has one
/// canonical claim name. The groups are passed through unchanged (an empty
/// override would strip `cognito:groups`).
fn override_details(
    event: &CognitoEventUserPoolsPreTokenGenV2,
    claims: TenantClaims,
) -> ClaimsAndScopeOverrideDetailsV2 {
    let mut id_token = CognitoIdTokenGenerationV2::default();
    id_token.claims_to_add_or_override = claims.to_map();
    id_token.claims_to_suppress = vec![TENANT_ATTRIBUTE.to_owned()];
    let mut access_token = CognitoAccessTokenGenerationV2::default();
    access_token.claims_to_add_or_override = claims.to_map();
    let mut details = ClaimsAndScopeOverrideDetailsV2::default();
    details.group_override_details = event.request.group_configuration.clone();
    details.id_token_generation = Some(id_token);
    details.access_token_generation = Some(access_token);
    details
}
