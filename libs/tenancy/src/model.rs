//! The tenancy vocabulary shared by the services and their clients: roles,
//! tiers and their limits, token kinds and the claim names the token-claims
//! trigger writes. Plain data, no AWS.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A member's role inside its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TenantRole {
    Admin,
    Member,
}

/// A tenant's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TenantTier {
    Free,
    Pro,
    Enterprise,
}

/// Where a tenant is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    /// Registration has not finished: nobody can sign in yet.
    Pending,
    Active,
    /// Stopped by a platform admin: nobody can sign in.
    Suspended,
    /// Being let go: nobody can sign in or call the API; its data is erased
    /// (after the closure's grace period, when the tenant asked for it).
    Offboarding,
    /// Its data is erased. Only events and erasure receipts say so: no
    /// record of the tenant is left to hold this status.
    Offboarded,
}

/// Whether a member may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MembershipStatus {
    /// Invited and never signed in; the first sign-in makes it active.
    Invited,
    Active,
    Disabled,
    /// Being removed: no longer able to sign in; the removal resumes on retry.
    Deleting,
}

/// What a tier allows. Enforced by the services on create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierLimits {
    /// Members of the tenant (disabled ones included).
    pub max_users: i64,
    /// Notes of the tenant.
    pub max_notes: i64,
    /// Days an audit entry is kept.
    pub audit_retention_days: i64,
}

impl TenantTier {
    /// The limits of this tier.
    pub fn limits(&self) -> TierLimits {
        match self {
            Self::Free => TierLimits { max_users: 3, max_notes: 100, audit_retention_days: 30 },
            Self::Pro => TierLimits { max_users: 50, max_notes: 10_000, audit_retention_days: 365 },
            Self::Enterprise => TierLimits { max_users: 5_000, max_notes: 1_000_000, audit_retention_days: 7 * 365 },
        }
    }
}

/// Which Cognito token the caller presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TokenUse {
    Id,
    Access,
}

macro_rules! lowercase_enum_from_str {
    ($ty:ident { $($text:literal => $variant:ident),+ $(,)? }) => {
        impl FromStr for $ty {
            type Err = ();
            fn from_str(input: &str) -> Result<Self, ()> {
                match input {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(()),
                }
            }
        }

        impl $ty {
            /// The claim value.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

lowercase_enum_from_str!(TenantRole { "admin" => Admin, "member" => Member });
lowercase_enum_from_str!(TenantTier {
    "free" => Free,
    "pro" => Pro,
    "enterprise" => Enterprise,
});
lowercase_enum_from_str!(TokenUse { "id" => Id, "access" => Access });
lowercase_enum_from_str!(TenantStatus {
    "pending" => Pending,
    "active" => Active,
    "suspended" => Suspended,
    "offboarding" => Offboarding,
    "offboarded" => Offboarded,
});
lowercase_enum_from_str!(MembershipStatus {
    "invited" => Invited,
    "active" => Active,
    "disabled" => Disabled,
    "deleting" => Deleting,
});

/// Claim names the token-claims trigger writes.
pub mod claim {
    pub const SUBJECT: &str = "sub";
    pub const TOKEN_USE: &str = "token_use";
    pub const TENANT_ID: &str = "tenant_id";
    pub const TENANT_ROLE: &str = "tenant_role";
    pub const TENANT_TIER: &str = "tenant_tier";
    pub const GROUPS: &str = "cognito:groups";
    /// The Cognito user name: `username` in access tokens, `cognito:username` in ID tokens.
    pub const USERNAME: &str = "username";
    pub const ID_TOKEN_USERNAME: &str = "cognito:username";
}

/// The Cognito group of the SaaS operators (not a tenant role).
pub const PLATFORM_ADMIN_GROUP: &str = "platform-admin";
