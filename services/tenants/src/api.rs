//! The wire types of the tenants API (crate `tenants-api`, shared with the
//! client) and the service's own list cursor.

use tenancy::TenantId;

pub use tenants_api::{
    ChangeTier, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_REGISTRATION_BYTES, RegisterTenant, Registered,
    RegistrationRemoval, TenantList, UpdateTenant,
};

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
}
