//! Wire types of the users service: its HTTP API and the internal commands
//! other services send it by Lambda Invoke. Shared by the service, its
//! callers and its client, so they cannot drift apart.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use tenancy::erasure::ItemCounts;
pub use tenancy::{MembershipStatus, Password, TenantId, TenantRole, TenantTier, UserId};

#[cfg(feature = "invoke")]
pub mod invoke;

/// Longest email address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// A member of the caller's tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct User {
    pub user_id: UserId,
    pub email: String,
    pub role: TenantRole,
    pub status: MembershipStatus,
    /// Every change adds one.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Response of `GET /users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserList {
    pub items: Vec<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Body of `POST /users`: invite a user into the caller's tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InviteUser {
    /// The invitee's email address (`name@domain`), the username to sign in with.
    #[cfg_attr(feature = "openapi", schema(max_length = 254, format = Email))]
    pub email: String,
    pub role: TenantRole,
    /// A temporary password the invitee must change at first sign-in; when
    /// absent, Cognito generates one and sends the invitation email. The user
    /// pool's password policy applies, checked before anything is written
    /// (default: 12 to 256 characters with a lowercase letter, an uppercase
    /// letter and a digit); a password it refuses is a 400 stating the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, min_length = 6, max_length = 256, format = Password))]
    pub temporary_password: Option<Password>,
}

/// Body of `PUT /users/{user_id}/role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    pub role: TenantRole,
}

/// A command another service sends by Lambda Invoke (never reachable through
/// the HTTP API, whose events API Gateway builds). The invoke payload is
/// `{"internal": <command>}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternalRequest {
    pub internal: InternalCommand,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum InternalCommand {
    /// Registration: create the first admin of a new tenant, with a permanent
    /// password. Idempotent: repeating it with the same input completes a
    /// creation that failed part-way and never changes a finished one.
    CreateFirstAdmin { tenant_id: TenantId, tier: TenantTier, email: String, password: Password },
    /// The tenant was suspended: revoke every member's refresh tokens, so no
    /// new tokens can be minted with them. Safe to repeat.
    EndSessions { tenant_id: TenantId },
    /// A registration expired unfinished: remove every user of the tenant
    /// (directory user and membership), its counters, and the directory user
    /// `admin_email` if it belongs to the tenant (made before its membership
    /// was). Refused (409) when the tenant has a record, so no finished tenant
    /// can lose its users. Safe to repeat.
    DiscardRegistration { tenant_id: TenantId, admin_email: String },
    /// An invited member signed in for the first time (the token-claims
    /// trigger): its membership becomes active. Safe to repeat; refused
    /// (409) for a membership that is neither invited nor active.
    ActivateInvited { tenant_id: TenantId, user_id: UserId },
    /// Offboarding (see `tenancy::erasure::ErasureCommand`): count the
    /// tenant's users and records.
    CountTenantData { tenant_id: TenantId },
    /// Offboarding: remove the tenant's users (directory users first) and
    /// records, one time-bounded pass.
    EraseTenantData { tenant_id: TenantId },
}

/// The users service's answer to an [`InternalRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum InternalResponse {
    Created {
        user_id: UserId,
    },
    /// [`InternalCommand::EndSessions`] done: this many users signed out.
    SessionsEnded {
        users: u32,
    },
    /// [`InternalCommand::DiscardRegistration`] done: this many users removed.
    Discarded {
        users: u32,
    },
    /// [`InternalCommand::ActivateInvited`] done: the membership is active.
    Activated {
        user_id: UserId,
    },
    /// [`InternalCommand::CountTenantData`] done.
    Counted {
        items: ItemCounts,
    },
    /// [`InternalCommand::EraseTenantData`] done: one pass; `finished` when
    /// nothing of the tenant is left.
    Erased {
        removed: ItemCounts,
        finished: bool,
    },
    /// Refused with an HTTP-style status (409: the email belongs to another
    /// tenant; 400: invalid input; 503: a dependency is down).
    Refused {
        status: u16,
        detail: String,
    },
}

/// Why an email address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidEmail;

impl std::fmt::Display for InvalidEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the email address is not valid (at most {MAX_EMAIL_LEN} characters, name@domain)")
    }
}

impl std::error::Error for InvalidEmail {}

/// Normalises an email address (trimmed, lowercase) after a plain shape
/// check; Cognito verifies deliverability.
pub fn normalize_email(input: &str) -> Result<String, InvalidEmail> {
    let email = input.trim().to_lowercase();
    let valid = email.len() <= MAX_EMAIL_LEN
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                && !domain.ends_with('.') && !domain.contains('@'));
    if valid { Ok(email) } else { Err(InvalidEmail) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email("  Ada@Example.COM "), Ok("ada@example.com".into()));
        for bad in
            ["", "ada", "@example.com", "ada@", "ada@example", "a da@example.com", "ada@@example.com", "ada@.com"]
        {
            assert_eq!(normalize_email(bad), Err(InvalidEmail), "{bad}");
        }
        assert!(normalize_email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn internal_commands_have_a_stable_shape() {
        let tenant = TenantId::generate();
        let request = InternalRequest {
            internal: InternalCommand::CreateFirstAdmin {
                tenant_id: tenant,
                tier: TenantTier::Free,
                email: "ada@example.com".into(),
                password: "Secret-passw0rd".into(),
            },
        };
        let json = serde_json::to_value(&request).expect("json");
        assert_eq!(json["internal"]["command"], "create_first_admin");
        assert_eq!(json["internal"]["tenant_id"], tenant.to_string());
        assert_eq!(serde_json::from_value::<InternalRequest>(json).expect("round trip"), request);
        let refused: InternalResponse =
            serde_json::from_str(r#"{"outcome":"refused","status":409,"detail":"taken"}"#).expect("parse");
        assert_eq!(refused, InternalResponse::Refused { status: 409, detail: "taken".into() });
        assert!(serde_json::from_str::<InternalRequest>(r#"{"internal":{"command":"drop_tables"}}"#).is_err());
        let printed = format!("{request:?}");
        assert!(!printed.contains("Secret-passw0rd") && printed.contains("<redacted>"), "{printed}");
    }
}

#[cfg(test)]
mod erasure_wire_tests {
    use super::*;
    use tenancy::erasure::{ErasureAnswer, ErasureCommand};

    /// The tenants service sends the users function the same offboarding
    /// commands as the notes function and reads its answers the same way.
    #[test]
    fn offboarding_commands_and_answers_are_the_shared_erasure_wire() {
        let tenant_id = TenantId::generate();
        for (ours, shared) in [
            (InternalCommand::CountTenantData { tenant_id }, ErasureCommand::CountTenantData { tenant_id }),
            (InternalCommand::EraseTenantData { tenant_id }, ErasureCommand::EraseTenantData { tenant_id }),
        ] {
            assert_eq!(serde_json::to_value(&ours).expect("json"), serde_json::to_value(&shared).expect("json"));
        }
        let items = ItemCounts::from([("users".to_owned(), 2)]);
        for (ours, shared) in [
            (InternalResponse::Counted { items: items.clone() }, ErasureAnswer::Counted { items: items.clone() }),
            (
                InternalResponse::Erased { removed: items.clone(), finished: true },
                ErasureAnswer::Erased { removed: items, finished: true },
            ),
            (
                InternalResponse::Refused { status: 409, detail: "no".into() },
                ErasureAnswer::Refused { status: 409, detail: "no".into() },
            ),
        ] {
            let read: ErasureAnswer = serde_json::from_value(serde_json::to_value(&ours).expect("json")).expect("read");
            assert_eq!(read, shared);
        }
    }
}
