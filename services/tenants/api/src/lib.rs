//! Wire types of the tenants service: registration, a tenant's own record and
//! the platform-admin routes. Shared by the service and `tenants-client`, so
//! they cannot drift apart. Names and slugs are validated on the way in
//! (deserializing a [`Tenant`] checks them), on either side of the wire.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use tenancy::{Password, TenantId, TenantStatus, TenantTier, UserId};

/// Longest tenant name, in characters (after trimming).
pub const MAX_NAME_CHARS: usize = 100;
/// Bounds of a slug, in characters.
pub const MIN_SLUG_CHARS: usize = 3;
pub const MAX_SLUG_CHARS: usize = 40;
pub use tenancy::idempotency::IdempotencyKey;
pub use tenancy::password::WeakPassword;

/// A rule some tenant input broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTenant {
    #[error("the name must not be blank")]
    BlankName,
    #[error("the name is longer than {MAX_NAME_CHARS} characters")]
    NameTooLong,
    #[error("the name must be a single line without control characters")]
    NameHasControlCharacters,
    #[error(
        "the slug must be {MIN_SLUG_CHARS} to {MAX_SLUG_CHARS} characters of a-z, 0-9 and '-', \
         not starting or ending with '-'"
    )]
    BadSlug,
    #[error("the admin email address is not valid")]
    BadEmail,
    /// The user pool's password policy refuses the admin password.
    #[error(transparent)]
    WeakPassword(#[from] WeakPassword),
}

/// A tenant's display name: trimmed, 1..=100 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TenantName(String);

impl TenantName {
    pub fn parse(input: &str) -> Result<Self, InvalidTenant> {
        let name = input.trim();
        if name.is_empty() {
            return Err(InvalidTenant::BlankName);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(InvalidTenant::NameTooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(InvalidTenant::NameHasControlCharacters);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for TenantName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant's unique short name: 3..=40 of `[a-z0-9-]`, not starting or
/// ending with `-`. Taken exactly as written (no case folding), so one slug
/// has one spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(input: &str) -> Result<Self, InvalidTenant> {
        let length = input.chars().count();
        let valid = (MIN_SLUG_CHARS..=MAX_SLUG_CHARS).contains(&length)
            && input.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !input.starts_with('-')
            && !input.ends_with('-');
        if valid { Ok(Self(input.to_owned())) } else { Err(InvalidTenant::BadSlug) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant as stored and returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub tenant_id: TenantId,
    /// 1–100 characters, one line.
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 1, max_length = 100))]
    pub name: TenantName,
    /// Unique; 3–40 of `a-z`, `0-9` and `-`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 3, max_length = 40, pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"))]
    pub slug: Slug,
    pub tier: TenantTier,
    pub status: TenantStatus,
    /// Starts at 1; every change adds one. Updates must name the version they replace.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Set once offboarding was requested (status `offboarding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offboarding: Option<Offboarding>,
}

/// Where a tenant's offboarding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Offboarding {
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// When the erasure may begin: at once for a platform admin's
    /// offboarding, after the closure grace period for the tenant's own request.
    #[serde(with = "time::serde::rfc3339")]
    pub erase_after: OffsetDateTime,
    /// When the erasure began; until then a platform admin may still
    /// reactivate the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub erasure_started_at: Option<OffsetDateTime>,
}

/// Answer of `DELETE /admin/tenants/{tenant_id}`.
pub use tenancy::erasure::{ErasureReceipt, ItemCounts};

/// Body of `POST /tenants` (public registration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterTenant {
    /// 1–100 characters after trimming, one line.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// 3–40 of `a-z`, `0-9` and `-`, not starting or ending with `-`; unique.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 3, max_length = 40, pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    )]
    pub slug: String,
    pub tier: TenantTier,
    /// The first admin's email address (`name@domain`), the username to sign in with.
    #[cfg_attr(feature = "openapi", schema(max_length = 254, format = Email))]
    pub admin_email: String,
    /// Handed to the users service only; never stored or logged. The user
    /// pool's password policy applies, checked before anything is written
    /// (default: 12 to 256 characters with a lowercase letter, an uppercase
    /// letter and a digit); a password it refuses is a 400 stating the rule.
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 6, max_length = 256, format = Password))]
    pub admin_password: Password,
}

/// Largest `POST /tenants` body.
pub const MAX_REGISTRATION_BYTES: usize = 16 * 1024;

/// Response of `POST /tenants`: 201 the first time, 200 for a repeat of a
/// completed registration with the same input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Registered {
    pub tenant: Tenant,
    pub admin_user_id: UserId,
}

/// Response of `DELETE /admin/registrations/{slug}` (platform admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegistrationRemoval {
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 3, max_length = 40, pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"))]
    pub slug: Slug,
    /// `true`: an unfinished registration held the slug and is gone (its
    /// first admin too): slug and email are free. `false`: none held it.
    pub removed: bool,
}

/// Body of `PUT /tenant`: the new name and the version it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// 1–100 characters after trimming, one line.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// The version read; a stale one is refused with 409.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub version: u64,
}

/// Body of `PUT /admin/tenants/{tenant_id}/tier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeTier {
    pub tier: TenantTier,
}

/// Response of `GET /admin/tenants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TenantList {
    pub items: Vec<Tenant>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Response of `GET /audit`: the tenant's audit trail, newest first. Filters
/// may leave a page short, even empty, with a `next_cursor`: follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

pub use tenancy::audit::{Actor, ActorRole, AuditEntry};

/// Default and bounds of `limit` on `GET /admin/tenants` and `GET /audit`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_refused_and_the_password_is_not_printed() {
        assert!(serde_json::from_str::<UpdateTenant>(r#"{"name":"a","version":1,"slug":"x"}"#).is_err());
        assert!(serde_json::from_str::<UpdateTenant>(r#"{"name":"a","version":1,"tier":"pro"}"#).is_err());
        assert!(serde_json::from_str::<ChangeTier>(r#"{"tier":"gold"}"#).is_err());
        let input: RegisterTenant = serde_json::from_str(
            r#"{"name":"A","slug":"acme","tier":"free","admin_email":"a@b.co","admin_password":"Secret-123"}"#,
        )
        .expect("valid");
        assert!(!format!("{input:?}").contains("Secret-123"));
    }
}
