//! Lifecycle events: one per change in a tenant's life or in its
//! membership, published on the platform's EventBridge bus for the rest of
//! the business. The EventBridge `detail` is a [`LifecycleEvent`]; its
//! detail-type is awslabs/sbt-aws's where the change means the same
//! ([`Change::detail_type`]), and its source is the service that made it.
//!
//! An event is never lost silently: the service writes it to the tenant's
//! outbox in the same DynamoDB transaction as the change, and removes it only
//! once the bus has taken it (see `publish`). Delivery is at least once:
//! consumers drop repeats by `event_id`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::audit::Actor;
use crate::erasure::ErasureReceipt;
use crate::{MembershipStatus, TenantId, TenantRole, TenantStatus, TenantTier, UserId};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A tenant registered (its record and first admin exist).
    Registered,
    /// The tenant became active for the first time.
    Activated,
    /// A platform admin suspended the tenant.
    Suspended,
    /// A platform admin reactivated the suspended tenant.
    Reactivated,
    /// The tenant's tier changed.
    TierChanged,
    /// Offboarding of the tenant began.
    OffboardingRequested,
    /// The tenant's data is erased.
    Offboarded,
    /// A user was invited into the tenant.
    UserInvited,
    /// A member's role changed.
    UserRoleChanged,
    /// A member was disabled.
    UserDisabled,
    /// A disabled member was enabled again.
    UserEnabled,
    /// A member was removed.
    UserRemoved,
}

impl Change {
    /// Every change, in the order of a tenant's life.
    pub const ALL: [Self; 12] = [
        Self::Registered,
        Self::Activated,
        Self::Suspended,
        Self::Reactivated,
        Self::TierChanged,
        Self::OffboardingRequested,
        Self::Offboarded,
        Self::UserInvited,
        Self::UserRoleChanged,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserRemoved,
    ];

    /// The EventBridge detail-type: sbt-aws's control-plane name where the
    /// change means the same, else this platform's in the same style.
    pub const fn detail_type(self) -> &'static str {
        match self {
            Self::Registered => "sbt_aws_onboardingRequest",
            Self::Activated | Self::Reactivated => "sbt_aws_activateSuccess",
            Self::Suspended => "sbt_aws_deactivateSuccess",
            Self::TierChanged => "saas_tierChanged",
            Self::OffboardingRequested => "sbt_aws_offboardingRequest",
            Self::Offboarded => "sbt_aws_offboardingSuccess",
            Self::UserInvited => "sbt_aws_tenantUserCreated",
            Self::UserRoleChanged => "saas_tenantUserRoleChanged",
            Self::UserDisabled => "saas_tenantUserDisabled",
            Self::UserEnabled => "saas_tenantUserEnabled",
            Self::UserRemoved => "sbt_aws_tenantUserDeleted",
        }
    }

    /// The EventBridge source: the service that makes the change.
    pub const fn source(self) -> &'static str {
        match self {
            Self::UserInvited | Self::UserRoleChanged | Self::UserDisabled | Self::UserEnabled | Self::UserRemoved => {
                "saas.users"
            }
            _ => "saas.tenants",
        }
    }
}

/// The tenant as the change left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TenantFacts {
    pub status: TenantStatus,
    pub tier: TenantTier,
    /// The tenant record's version after the change.
    pub version: u64,
}

/// The member as the change left it (no email: events carry no personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserFacts {
    pub user_id: UserId,
    pub role: TenantRole,
    pub status: MembershipStatus,
}

/// One lifecycle event: the EventBridge `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LifecycleEvent {
    /// Unique per event; a repeat delivery has the same id.
    pub event_id: String,
    pub change: Change,
    pub tenant_id: TenantId,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// Who made the change; absent when the platform itself did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    /// The API request that made it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For tenant changes: the tenant after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantFacts>,
    /// For user changes: the member after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserFacts>,
    /// For `offboarded`: what the erasure removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ErasureReceipt>,
}

impl LifecycleEvent {
    /// A new event of `change` in `tenant`, now.
    pub fn new(change: Change, tenant_id: TenantId, cause: &Cause) -> Self {
        Self {
            event_id: uuid::Uuid::new_v4().to_string(),
            change,
            tenant_id,
            occurred_at: OffsetDateTime::now_utc(),
            actor: cause.actor.clone(),
            request_id: cause.request_id.clone(),
            tenant: None,
            user: None,
            receipt: None,
        }
    }
}

/// The events of `changes` made by one write, a nanosecond apart so their
/// times order them as listed.
pub fn events_of(changes: &[Change], tenant_id: TenantId, cause: &Cause) -> Vec<LifecycleEvent> {
    let at = OffsetDateTime::now_utc();
    (0..)
        .zip(changes)
        .map(|(n, change)| LifecycleEvent {
            occurred_at: at + time::Duration::nanoseconds(n),
            ..LifecycleEvent::new(*change, tenant_id, cause)
        })
        .collect()
}

/// Who and which request caused a change (both absent for the platform's own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cause {
    pub actor: Option<Actor>,
    pub request_id: Option<String>,
}

#[cfg(feature = "service")]
mod publish;
#[cfg(feature = "service")]
pub use publish::*;
