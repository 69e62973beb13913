//! The wire types of the tenants API.

use std::fmt;

use serde::{Deserialize, Serialize};
use tenancy::{TenantId, TenantTier, UserId};
use utoipa::ToSchema;

use crate::domain::Tenant;

/// Body of `POST /tenants` (public registration).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterTenant {
    /// 1–100 characters after trimming, one line.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// 3–40 of `a-z`, `0-9` and `-`, not starting or ending with `-`; unique.
    #[schema(min_length = 3, max_length = 40, pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")]
    pub slug: String,
    pub tier: TenantTier,
    #[schema(max_length = 254)]
    pub admin_email: String,
    /// Handed to the users service only; never stored or logged.
    #[schema(min_length = 8, max_length = 256, format = Password)]
    pub admin_password: String,
}

impl fmt::Debug for RegisterTenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterTenant")
            .field("name", &self.name)
            .field("slug", &self.slug)
            .field("tier", &self.tier)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &"<redacted>")
            .finish()
    }
}

/// Largest `POST /tenants` body.
pub const MAX_REGISTRATION_BYTES: usize = 16 * 1024;

/// Response of `POST /tenants`: 201 the first time, 200 for a repeat of a
/// completed registration with the same input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registered {
    pub tenant: Tenant,
    pub admin_user_id: UserId,
}

/// Body of `PUT /tenant`: the new name and the version it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// 1–100 characters after trimming, one line.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The version read; a stale one is refused with 409.
    #[schema(minimum = 1)]
    pub version: u64,
}

/// Body of `PUT /admin/tenants/{tenant_id}/tier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeTier {
    pub tier: TenantTier,
}

/// Response of `GET /admin/tenants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantList {
    pub items: Vec<Tenant>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Default and bounds of `limit` on `GET /admin/tenants`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

const CURSOR_PREFIX: &str = "t1:";

/// An opaque position in the tenant list: the tenant to continue after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub TenantId);

impl Cursor {
    pub fn encode(&self) -> String {
        tenancy::cursor::encode(CURSOR_PREFIX, &self.0)
    }

    /// `None` for anything this service did not hand out.
    pub fn decode(text: &str) -> Option<Self> {
        tenancy::cursor::decode(CURSOR_PREFIX, text).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let cursor = Cursor(TenantId::generate());
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        let raw = TenantId::generate().to_string();
        for bad in [
            "",
            "%%%",
            raw.as_str(),
            &URL_SAFE_NO_PAD.encode(&raw),
            &URL_SAFE_NO_PAD.encode(format!("n1:{raw}")),
            &"A".repeat(4096),
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

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
