//! Tenants, slugs, registration claims and their rules. Knows nothing of
//! DynamoDB or HTTP.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tenancy::{TenantId, TenantTier, UserId};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Longest tenant name, in characters (after trimming).
pub const MAX_NAME_CHARS: usize = 100;
/// Bounds of a slug, in characters.
pub const MIN_SLUG_CHARS: usize = 3;
pub const MAX_SLUG_CHARS: usize = 40;
/// Bounds of the first admin's password, in characters. Cognito enforces its
/// own policy on top; these bounds only keep absurd input out.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;

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
    #[error("the admin password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")]
    BadPassword,
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
            && input
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !input.starts_with('-')
            && !input.ends_with('-');
        if valid {
            Ok(Self(input.to_owned()))
        } else {
            Err(InvalidTenant::BadSlug)
        }
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

/// Where a tenant is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    /// Registration has not finished: nobody can sign in yet.
    Pending,
    Active,
    /// Stopped by a platform admin: nobody can sign in.
    Suspended,
}

impl TenantStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

impl fmt::Display for TenantStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant as stored and returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub tenant_id: TenantId,
    /// 1–100 characters, one line.
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    pub name: TenantName,
    /// Unique; 3–40 of `a-z`, `0-9` and `-`.
    #[schema(value_type = String, min_length = 3, max_length = 40, pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")]
    pub slug: Slug,
    pub tier: TenantTier,
    pub status: TenantStatus,
    /// Starts at 1; every change adds one. Updates must name the version they replace.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A status change that is not allowed from the tenant's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the tenant is {from}; it cannot become {to}")]
pub struct InvalidTransition {
    pub from: TenantStatus,
    pub to: TenantStatus,
}

impl Tenant {
    /// A tenant being registered (version 1, pending).
    pub fn pending(tenant_id: TenantId, name: TenantName, slug: Slug, tier: TenantTier, at: OffsetDateTime) -> Self {
        Self {
            tenant_id,
            name,
            slug,
            tier,
            status: TenantStatus::Pending,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    fn next(&self, at: OffsetDateTime) -> Self {
        Self {
            version: self.version + 1,
            updated_at: at.max(self.updated_at),
            ..self.clone()
        }
    }

    fn transition(&self, from: TenantStatus, to: TenantStatus, at: OffsetDateTime) -> Result<Self, InvalidTransition> {
        if self.status != from {
            return Err(InvalidTransition { from: self.status, to });
        }
        Ok(Self {
            status: to,
            ..self.next(at)
        })
    }

    /// Registration finished: pending → active.
    pub fn activate(&self, at: OffsetDateTime) -> Result<Self, InvalidTransition> {
        self.transition(TenantStatus::Pending, TenantStatus::Active, at)
    }

    /// Platform admin: active → suspended.
    pub fn suspend(&self, at: OffsetDateTime) -> Result<Self, InvalidTransition> {
        self.transition(TenantStatus::Active, TenantStatus::Suspended, at)
    }

    /// Platform admin: suspended → active.
    pub fn reactivate(&self, at: OffsetDateTime) -> Result<Self, InvalidTransition> {
        self.transition(TenantStatus::Suspended, TenantStatus::Active, at)
    }

    /// The next version with a new name.
    pub fn rename(&self, name: TenantName, at: OffsetDateTime) -> Self {
        Self { name, ..self.next(at) }
    }

    /// The next version with a new tier.
    pub fn with_tier(&self, tier: TenantTier, at: OffsetDateTime) -> Self {
        Self { tier, ..self.next(at) }
    }
}

/// Whether a registration claim has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimState {
    Pending,
    Complete,
}

/// A slug reserved by a registration: who reserved it (the fingerprint of
/// the registration input) and for which tenant id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlugClaim {
    pub slug: Slug,
    pub tenant_id: TenantId,
    pub fingerprint: Fingerprint,
    pub state: ClaimState,
    pub created_at: OffsetDateTime,
    /// Set when the registration completes, so a repeat can answer the same.
    pub admin_user_id: Option<UserId>,
}

impl SlugClaim {
    /// A fresh claim for a new tenant id.
    pub fn new(slug: Slug, fingerprint: Fingerprint, at: OffsetDateTime) -> Self {
        Self {
            slug,
            tenant_id: TenantId::generate(),
            fingerprint,
            state: ClaimState::Pending,
            created_at: at,
            admin_user_id: None,
        }
    }
}

/// SHA-256 (hex) of a registration's normalised input. Tells a retry of the
/// same registration from a different registration of the same slug. The
/// password is deliberately not part of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn from_hex(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated registration. The password is kept only to hand it to the
/// users service; it is never stored, logged or printed (see `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    pub name: TenantName,
    pub slug: Slug,
    pub tier: TenantTier,
    /// Normalised (trimmed, lowercase).
    pub admin_email: String,
    admin_password: String,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.name)
            .field("slug", &self.slug)
            .field("tier", &self.tier)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &"<redacted>")
            .finish()
    }
}

impl Registration {
    /// Validates and normalises registration input.
    pub fn new(name: &str, slug: &str, tier: TenantTier, email: &str, password: &str) -> Result<Self, InvalidTenant> {
        let name = TenantName::parse(name)?;
        let slug = Slug::parse(slug)?;
        let admin_email = users_api::normalize_email(email).map_err(|_| InvalidTenant::BadEmail)?;
        let password_chars = password.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&password_chars) {
            return Err(InvalidTenant::BadPassword);
        }
        Ok(Self {
            name,
            slug,
            tier,
            admin_email,
            admin_password: password.to_owned(),
        })
    }

    /// The first admin's password (for the users service only).
    pub fn admin_password(&self) -> &str {
        &self.admin_password
    }

    /// The fingerprint of the normalised (name, slug, tier, email); a JSON
    /// array is hashed so that field boundaries are unambiguous.
    pub fn fingerprint(&self) -> Fingerprint {
        let canonical = serde_json::json!([
            "tenant-registration-v1",
            self.name.as_str(),
            self.slug.as_str(),
            self.tier.as_str(),
            self.admin_email,
        ])
        .to_string();
        let digest = Sha256::digest(canonical.as_bytes());
        Fingerprint(digest.iter().map(|byte| format!("{byte:02x}")).collect())
    }
}

/// Now, to the millisecond (what clients see and what is stored).
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(name: &str, email: &str, password: &str) -> Registration {
        Registration::new(name, "acme", TenantTier::Pro, email, password).expect("valid")
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(TenantName::parse("  Acme ").expect("valid").as_str(), "Acme");
        assert_eq!(TenantName::parse(" \t "), Err(InvalidTenant::BlankName));
        assert_eq!(TenantName::parse(&"é".repeat(101)), Err(InvalidTenant::NameTooLong));
        assert!(TenantName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(TenantName::parse("a\nb"), Err(InvalidTenant::NameHasControlCharacters));
    }

    #[test]
    fn slugs_are_strict() {
        for good in ["abc", "acme-corp", "a-b", "123", &"a".repeat(40), "a--b"] {
            assert!(Slug::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ab",
            "-abc",
            "abc-",
            "Acme",
            "ac me",
            "acme_corp",
            "acmé",
            &"a".repeat(41),
            " acme",
        ] {
            assert_eq!(Slug::parse(bad), Err(InvalidTenant::BadSlug), "{bad}");
        }
    }

    #[test]
    fn the_fingerprint_ignores_the_password_and_normalisation_noise() {
        let a = registration("Acme", "Ada@Example.com", "first-password");
        let b = registration("  Acme ", " ada@example.COM", "another-password");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(
            a.fingerprint(),
            registration("Acme Corp", "ada@example.com", "first-password").fingerprint()
        );
        assert_ne!(
            a.fingerprint(),
            registration("Acme", "bob@example.com", "first-password").fingerprint()
        );
        let enterprise = Registration::new(
            "Acme",
            "acme",
            TenantTier::Enterprise,
            "ada@example.com",
            "first-password",
        )
        .expect("valid");
        assert_ne!(a.fingerprint(), enterprise.fingerprint());
        assert_eq!(a.fingerprint().as_str().len(), 64);
    }

    #[test]
    fn passwords_are_bounded_and_never_printed() {
        assert_eq!(
            Registration::new("Acme", "acme", TenantTier::Free, "a@b.co", "short"),
            Err(InvalidTenant::BadPassword)
        );
        assert_eq!(
            Registration::new("Acme", "acme", TenantTier::Free, "a@b.co", &"p".repeat(257)),
            Err(InvalidTenant::BadPassword)
        );
        assert_eq!(
            Registration::new("Acme", "acme", TenantTier::Free, "not-an-email", "long-enough"),
            Err(InvalidTenant::BadEmail)
        );
        let printed = format!("{:?}", registration("Acme", "a@b.co", "Sup3r-secret!"));
        assert!(!printed.contains("Sup3r-secret!"), "{printed}");
    }

    #[test]
    fn status_transitions_follow_the_rules() {
        let at = now();
        let pending = Tenant::pending(
            TenantId::generate(),
            TenantName::parse("Acme").expect("valid"),
            Slug::parse("acme").expect("valid"),
            TenantTier::Free,
            at,
        );
        assert!(pending.suspend(at).is_err());
        assert!(pending.reactivate(at).is_err());
        let active = pending.activate(at).expect("activate");
        assert_eq!((active.status, active.version), (TenantStatus::Active, 2));
        assert!(active.activate(at).is_err());
        assert!(active.reactivate(at).is_err());
        let suspended = active.suspend(at).expect("suspend");
        assert_eq!(suspended.status, TenantStatus::Suspended);
        assert_eq!(
            suspended.suspend(at),
            Err(InvalidTransition {
                from: TenantStatus::Suspended,
                to: TenantStatus::Suspended
            })
        );
        let back = suspended.reactivate(at).expect("reactivate");
        assert_eq!((back.status, back.version), (TenantStatus::Active, 4));
        assert_eq!(back.created_at, pending.created_at);
    }
}
