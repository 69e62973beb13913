//! Tenants, slugs, registration claims and their rules. Knows nothing of
//! DynamoDB or HTTP.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tenancy::idempotency::sha256_hex;
use tenancy::password::{Password, PasswordPolicy};
use tenancy::{TenantId, TenantTier, UserId};
use time::OffsetDateTime;

pub use tenants_api::{
    InvalidTenant, MAX_NAME_CHARS, MAX_SLUG_CHARS, MIN_SLUG_CHARS, Offboarding, Slug, Tenant, TenantName, TenantStatus,
};

/// A status change that is not allowed from the tenant's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the tenant is {from}; it cannot become {to}")]
pub struct InvalidTransition {
    pub from: TenantStatus,
    pub to: TenantStatus,
}

/// How a tenant comes to be and changes (the wire type [`Tenant`] lives in `tenants-api`).
pub trait TenantLifecycle: Sized {
    /// A tenant whose registration just finished (version 1, active). The
    /// record is written last, after its first admin exists, so a tenant
    /// record is never a half-done registration.
    fn registered(tenant_id: TenantId, name: TenantName, slug: Slug, tier: TenantTier, at: OffsetDateTime) -> Self;
    /// Platform admin: active → suspended.
    fn suspend(&self, at: OffsetDateTime) -> Result<Self, InvalidTransition>;
    /// Platform admin: suspended → active, or offboarding → active while
    /// the erasure has not begun (a closure taken back in its grace period).
    fn reactivate(&self, at: OffsetDateTime) -> Result<Self, InvalidTransition>;
    /// Active or suspended → offboarding, erased from `erase_after` on.
    fn begin_offboarding(&self, at: OffsetDateTime, erase_after: OffsetDateTime) -> Result<Self, InvalidTransition>;
    /// An offboarding tenant to be erased from `at` on, not later (a platform
    /// admin's offboarding ends a closure's grace period); `None` if it is so already.
    fn erase_now(&self, at: OffsetDateTime) -> Option<Self>;
    /// An offboarding tenant whose erasure begins at `at` (the same tenant
    /// if it began already); from then on it cannot be reactivated.
    fn begin_erasure(&self, at: OffsetDateTime) -> Result<Self, InvalidTransition>;
    /// The next version with a new name.
    fn rename(&self, name: TenantName, at: OffsetDateTime) -> Self;
    /// The next version with a new tier.
    fn with_tier(&self, tier: TenantTier, at: OffsetDateTime) -> Self;
}

/// The next version of `tenant`, changed at `at`.
fn next(tenant: &Tenant, at: OffsetDateTime) -> Tenant {
    Tenant { version: tenant.version + 1, updated_at: at.max(tenant.updated_at), ..tenant.clone() }
}

fn transition(
    tenant: &Tenant,
    from: TenantStatus,
    to: TenantStatus,
    at: OffsetDateTime,
) -> Result<Tenant, InvalidTransition> {
    if tenant.status != from {
        return Err(InvalidTransition { from: tenant.status, to });
    }
    Ok(Tenant { status: to, ..next(tenant, at) })
}

impl TenantLifecycle for Tenant {
    fn registered(tenant_id: TenantId, name: TenantName, slug: Slug, tier: TenantTier, at: OffsetDateTime) -> Self {
        Self {
            tenant_id,
            name,
            slug,
            tier,
            status: TenantStatus::Active,
            version: 1,
            created_at: at,
            updated_at: at,
            offboarding: None,
        }
    }

    fn suspend(&self, at: OffsetDateTime) -> Result<Self, InvalidTransition> {
        transition(self, TenantStatus::Active, TenantStatus::Suspended, at)
    }

    fn reactivate(&self, at: OffsetDateTime) -> Result<Self, InvalidTransition> {
        let closure_taken_back = self.offboarding.is_some_and(|offboarding| offboarding.erasure_started_at.is_none());
        if self.status == TenantStatus::Offboarding && closure_taken_back {
            return Ok(Self { status: TenantStatus::Active, offboarding: None, ..next(self, at) });
        }
        transition(self, TenantStatus::Suspended, TenantStatus::Active, at)
    }

    fn begin_offboarding(&self, at: OffsetDateTime, erase_after: OffsetDateTime) -> Result<Self, InvalidTransition> {
        if !matches!(self.status, TenantStatus::Active | TenantStatus::Suspended) {
            return Err(InvalidTransition { from: self.status, to: TenantStatus::Offboarding });
        }
        let offboarding = Offboarding { requested_at: at, erase_after, erasure_started_at: None };
        Ok(Self { status: TenantStatus::Offboarding, offboarding: Some(offboarding), ..next(self, at) })
    }

    fn erase_now(&self, at: OffsetDateTime) -> Option<Self> {
        let offboarding = self.offboarding.filter(|offboarding| offboarding.erase_after > at)?;
        Some(Self { offboarding: Some(Offboarding { erase_after: at, ..offboarding }), ..next(self, at) })
    }

    fn begin_erasure(&self, at: OffsetDateTime) -> Result<Self, InvalidTransition> {
        match self.offboarding {
            Some(offboarding) if self.status == TenantStatus::Offboarding => {
                if offboarding.erasure_started_at.is_some() {
                    return Ok(self.clone());
                }
                let offboarding = Offboarding { erasure_started_at: Some(at), ..offboarding };
                Ok(Self { offboarding: Some(offboarding), ..next(self, at) })
            }
            _ => Err(InvalidTransition { from: self.status, to: TenantStatus::Offboarded }),
        }
    }

    fn rename(&self, name: TenantName, at: OffsetDateTime) -> Self {
        Self { name, ..next(self, at) }
    }

    fn with_tier(&self, tier: TenantTier, at: OffsetDateTime) -> Self {
        Self { tier, ..next(self, at) }
    }
}

/// Whether a registration claim has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimState {
    Pending,
    Complete,
}

/// A slug reserved by a registration: who reserved it (the digest of its
/// idempotency key, a secret only the requester holds, and the fingerprint
/// of its input) and for which tenant id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlugClaim {
    pub slug: Slug,
    pub tenant_id: TenantId,
    /// SHA-256 of the requester's `Idempotency-Key` (never the key itself).
    pub key_digest: String,
    pub fingerprint: Fingerprint,
    /// The first admin's (normalised) email: what the expiry sweep removes
    /// from the user pool if the registration never finishes.
    pub admin_email: String,
    pub state: ClaimState,
    pub created_at: OffsetDateTime,
    /// Set when the registration completes, so a repeat can answer the same
    /// (none when the expiry sweep found it finished and completed it).
    pub admin_user_id: Option<UserId>,
}

impl SlugClaim {
    /// A fresh claim of `registration` for a new tenant id.
    pub fn new(registration: &Registration, key_digest: String, at: OffsetDateTime) -> Self {
        Self {
            slug: registration.slug.clone(),
            tenant_id: TenantId::generate(),
            key_digest,
            fingerprint: registration.fingerprint(),
            admin_email: registration.admin_email.clone(),
            state: ClaimState::Pending,
            created_at: at,
            admin_user_id: None,
        }
    }

    /// Whether a request with this key digest and input may go on with this
    /// claim at `at`: the requester that made it, with the same input, while
    /// the key is good (`expiry` after the claim was made).
    pub fn continued_by(
        &self,
        key_digest: &str,
        fingerprint: &Fingerprint,
        at: OffsetDateTime,
        expiry: Duration,
    ) -> bool {
        !self.key_digest.is_empty()
            && self.key_digest == key_digest
            && &self.fingerprint == fingerprint
            && !self.expired(at, expiry)
    }

    /// Whether the claim is older than `expiry` at `at`.
    pub fn expired(&self, at: OffsetDateTime, expiry: Duration) -> bool {
        at >= self.created_at + expiry
    }
}

/// SHA-256 (hex) of a registration's normalised input. Together with the
/// idempotency key, tells a retry of the same registration from anything
/// else. The password is deliberately not part of it.
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
/// users service; it is never stored, logged or printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub name: TenantName,
    pub slug: Slug,
    pub tier: TenantTier,
    /// Normalised (trimmed, lowercase).
    pub admin_email: String,
    admin_password: Password,
}

impl Registration {
    /// Validates and normalises registration input; the password against
    /// the user pool's `policy`, before anything is written.
    pub fn new(
        name: &str,
        slug: &str,
        tier: TenantTier,
        email: &str,
        password: &Password,
        policy: &PasswordPolicy,
    ) -> Result<Self, InvalidTenant> {
        let name = TenantName::parse(name)?;
        let slug = Slug::parse(slug)?;
        let admin_email = users_api::normalize_email(email).map_err(|_| InvalidTenant::BadEmail)?;
        policy.check(password.expose())?;
        Ok(Self { name, slug, tier, admin_email, admin_password: password.clone() })
    }

    /// The first admin's password (for the users service only).
    pub fn admin_password(&self) -> &Password {
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
        Fingerprint(sha256_hex(canonical.as_bytes()))
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
        Registration::new(name, "acme", TenantTier::Pro, email, &password.into(), &PasswordPolicy::default())
            .expect("valid")
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
        for bad in ["", "ab", "-abc", "abc-", "Acme", "ac me", "acme_corp", "acmé", &"a".repeat(41), " acme"] {
            assert_eq!(Slug::parse(bad), Err(InvalidTenant::BadSlug), "{bad}");
        }
    }

    #[test]
    fn the_fingerprint_ignores_the_password_and_normalisation_noise() {
        let a = registration("Acme", "Ada@Example.com", "First-passw0rd");
        let b = registration("  Acme ", " ada@example.COM", "Another-passw0rd");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), registration("Acme Corp", "ada@example.com", "First-passw0rd").fingerprint());
        assert_ne!(a.fingerprint(), registration("Acme", "bob@example.com", "First-passw0rd").fingerprint());
        let enterprise = Registration::new(
            "Acme",
            "acme",
            TenantTier::Enterprise,
            "ada@example.com",
            &"First-passw0rd".into(),
            &PasswordPolicy::default(),
        )
        .expect("valid");
        assert_ne!(a.fingerprint(), enterprise.fingerprint());
        assert_eq!(a.fingerprint().as_str().len(), 64);
    }

    #[test]
    fn passwords_follow_the_pools_policy_and_are_never_printed() {
        let policy = PasswordPolicy::default();
        for weak in ["Short-1", "no-uppercase-or-digit", &"P4ss".repeat(65)] {
            let refused = Registration::new("Acme", "acme", TenantTier::Free, "a@b.co", &weak.into(), &policy)
                .expect_err("refused");
            assert!(matches!(refused, InvalidTenant::WeakPassword(_)), "{weak}");
            assert_eq!(refused.to_string(), policy.check(weak).expect_err("refused").to_string());
        }
        assert_eq!(
            Registration::new("Acme", "acme", TenantTier::Free, "not-an-email", &"Long-enough-1".into(), &policy),
            Err(InvalidTenant::BadEmail)
        );
        let printed = format!("{:?}", registration("Acme", "a@b.co", "Sup3r-secret!"));
        assert!(!printed.contains("Sup3r-secret!"), "{printed}");
    }

    #[test]
    fn a_claim_continues_only_with_its_key_its_input_and_in_time() {
        let registration = registration("Acme", "ada@example.com", "First-passw0rd");
        let at = now();
        let expiry = Duration::from_secs(3600);
        let claim = SlugClaim::new(&registration, "k1".repeat(32), at);
        let fingerprint = registration.fingerprint();
        assert!(claim.continued_by(&"k1".repeat(32), &fingerprint, at, expiry));
        assert!(!claim.continued_by(&"k2".repeat(32), &fingerprint, at, expiry), "another key");
        let other = self::registration("Acme Corp", "ada@example.com", "First-passw0rd");
        assert!(!claim.continued_by(&"k1".repeat(32), &other.fingerprint(), at, expiry), "other input");
        assert!(!claim.continued_by(&"k1".repeat(32), &fingerprint, at + expiry, expiry), "expired");
        let keyless = SlugClaim { key_digest: String::new(), ..claim };
        assert!(!keyless.continued_by("", &fingerprint, at, expiry), "a claim from before keys");
    }

    #[test]
    fn status_transitions_follow_the_rules() {
        let at = now();
        let active = Tenant::registered(
            TenantId::generate(),
            TenantName::parse("Acme").expect("valid"),
            Slug::parse("acme").expect("valid"),
            TenantTier::Free,
            at,
        );
        assert_eq!((active.status, active.version), (TenantStatus::Active, 1));
        assert!(active.reactivate(at).is_err());
        let suspended = active.suspend(at).expect("suspend");
        assert_eq!(suspended.status, TenantStatus::Suspended);
        assert_eq!(
            suspended.suspend(at),
            Err(InvalidTransition { from: TenantStatus::Suspended, to: TenantStatus::Suspended })
        );
        let back = suspended.reactivate(at).expect("reactivate");
        assert_eq!((back.status, back.version), (TenantStatus::Active, 3));
        assert_eq!(back.created_at, active.created_at);
    }

    #[test]
    fn offboarding_can_be_taken_back_only_until_the_erasure_begins() {
        let at = now();
        let grace = time::Duration::days(7);
        let active = Tenant::registered(
            TenantId::generate(),
            TenantName::parse("Acme").expect("valid"),
            Slug::parse("acme").expect("valid"),
            TenantTier::Free,
            at,
        );
        let closing = active.begin_offboarding(at, at + grace).expect("closing");
        assert_eq!(closing.status, TenantStatus::Offboarding);
        assert_eq!(closing.offboarding.map(|o| o.erase_after), Some(at + grace));
        assert!(closing.begin_offboarding(at, at).is_err(), "offboarding twice");
        let taken_back = closing.reactivate(at).expect("taken back in the grace period");
        assert_eq!((taken_back.status, taken_back.offboarding), (TenantStatus::Active, None));
        let now_due = closing.erase_now(at).expect("the grace period ends");
        assert_eq!(now_due.offboarding.map(|o| o.erase_after), Some(at));
        assert_eq!(now_due.erase_now(at + grace), None, "due already");
        let erasing = closing.begin_erasure(at).expect("erasure");
        assert_eq!(erasing.begin_erasure(at + grace), Ok(erasing.clone()), "begins once");
        assert_eq!(
            erasing.reactivate(at),
            Err(InvalidTransition { from: TenantStatus::Offboarding, to: TenantStatus::Active })
        );
        assert!(active.begin_erasure(at).is_err(), "only an offboarding tenant is erased");
        let suspended = active.suspend(at).expect("suspend");
        assert!(suspended.begin_offboarding(at, at).is_ok(), "a suspended tenant can be let go");
    }
}
