//! Validated identifiers. Every id in the system is a UUID written in its one
//! canonical form (lowercase, hyphenated), so that the same entity always has
//! the same string: the tenant id is compared byte for byte by IAM
//! (`dynamodb:LeadingKeys` against the `TenantId` session tag).

use uuid::Uuid;

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be a lowercase hyphenated UUID")]
pub struct InvalidId {
    /// Which kind of id was expected ("tenant id", "note id", ...).
    pub kind: &'static str,
}

/// Parses `input` as a UUID in canonical form; any other spelling
/// (uppercase, braces, URN, simple) is refused.
pub fn parse_canonical_uuid(input: &str, kind: &'static str) -> Result<Uuid, InvalidId> {
    let invalid = InvalidId { kind };
    if input.len() != uuid::fmt::Hyphenated::LENGTH {
        return Err(invalid);
    }
    let uuid = Uuid::try_parse(input).map_err(|_| invalid.clone())?;
    if uuid.is_nil() || uuid.hyphenated().to_string() != input {
        return Err(invalid);
    }
    Ok(uuid)
}

/// Declares a UUID-backed id newtype with strict parsing and serde support.
#[macro_export]
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(::uuid::Uuid);

        impl $name {
            /// What this id is called in error messages.
            pub const KIND: &'static str = $kind;

            /// A new, time-ordered (UUIDv7) id.
            pub fn generate() -> Self {
                Self(::uuid::Uuid::now_v7())
            }

            /// Parses the canonical form; see [`parse_canonical_uuid`]($crate::ids::parse_canonical_uuid).
            pub fn parse(input: &str) -> Result<Self, $crate::ids::InvalidId> {
                $crate::ids::parse_canonical_uuid(input, $kind).map(Self)
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> ::uuid::Uuid {
                self.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ids::InvalidId;
            fn from_str(input: &str) -> Result<Self, Self::Err> {
                Self::parse(input)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(::serde::de::Error::custom)
            }
        }

        $crate::__uuid_id_schema!($name, $kind);
    };
}

/// With the `openapi` feature: the OpenAPI schema of an id (a `string` of
/// format `uuid`). Decided by this crate's feature, not the caller's.
#[cfg(feature = "openapi")]
#[doc(hidden)]
#[macro_export]
macro_rules! __uuid_id_schema {
    ($name:ident, $kind:literal) => {
        impl $crate::openapi::utoipa::PartialSchema for $name {
            fn schema() -> $crate::openapi::utoipa::openapi::RefOr<$crate::openapi::utoipa::openapi::schema::Schema> {
                $crate::openapi::uuid_schema(concat!("A ", $kind, ": a lowercase hyphenated UUID."))
            }
        }

        impl $crate::openapi::utoipa::ToSchema for $name {}
    };
}

/// Without the `openapi` feature: nothing.
#[cfg(not(feature = "openapi"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __uuid_id_schema {
    ($name:ident, $kind:literal) => {};
}

uuid_id!(
    /// A tenant: the partition key of all tenant data and the `TenantId` session tag.
    TenantId,
    "tenant id"
);

uuid_id!(
    /// A user: the Cognito `sub`.
    UserId,
    "user id"
);

#[cfg(test)]
mod tests {
    use super::*;

    const CANONICAL: &str = "0190b6d2-7c1e-7a3b-9f00-1234567890ab";

    #[test]
    fn accepts_the_canonical_form_and_round_trips() {
        let id = TenantId::parse(CANONICAL).expect("canonical id");
        assert_eq!(id.to_string(), CANONICAL);
        let json = serde_json::to_string(&id).expect("serialize");
        assert_eq!(json, format!("\"{CANONICAL}\""));
        let back: TenantId = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, id);
    }

    #[test]
    fn refuses_every_other_spelling() {
        for bad in [
            "",
            "tenant-a",
            "0190B6D2-7C1E-7A3B-9F00-1234567890AB",
            "{0190b6d2-7c1e-7a3b-9f00-1234567890ab}",
            "urn:uuid:0190b6d2-7c1e-7a3b-9f00-1234567890ab",
            "0190b6d27c1e7a3b9f001234567890ab",
            "00000000-0000-0000-0000-000000000000",
            "0190b6d2-7c1e-7a3b-9f00-1234567890ab ",
            "0190b6d2-7c1e-7a3b-9f00-1234567890a\u{e9}",
            "0190b6d2-7c1e-7a3b-9f00-1234567890ab\"}",
        ] {
            let err = TenantId::parse(bad).expect_err(bad);
            assert_eq!(err.kind, "tenant id");
        }
        assert!(serde_json::from_str::<UserId>("\"nope\"").is_err());
    }

    #[test]
    fn generated_ids_are_canonical_and_time_ordered() {
        let first = UserId::generate();
        let second = UserId::generate();
        assert_eq!(UserId::parse(&first.to_string()), Ok(first));
        assert!(first.to_string() < second.to_string());
    }
}
