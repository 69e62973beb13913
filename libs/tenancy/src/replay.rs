//! Creates made with an idempotency key are remembered in the tenant's own
//! partition (a `request#<caller>#<key digest>` item next to what they
//! created, with a TTL), so that a retry with the same key and input answers
//! with the same resource instead of making another, and the same key with
//! other input is refused. Keys are per caller: another member of the tenant
//! holding the same key reaches nothing.

use std::fmt;

/// How long a create made with a key is remembered: a retry within it
/// repeats the create (DynamoDB's TTL removes the record some time after).
pub const REMEMBERED_SECONDS: i64 = 24 * 3600;

/// A create made with an idempotency key, kept in the tenant's partition
/// next to what it created (sort key [`RememberedCreate::sort_key`]), so that
/// a retry with the same key and input answers with the same resource.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RememberedCreate {
    /// SHA-256 of the request's input ([`fingerprint`]).
    pub fingerprint: String,
    /// The id of what the request created.
    pub resource_id: String,
    /// Unix seconds; the table's TTL attribute.
    pub expires_at: i64,
}

/// A create to remember with what it creates, in the same transaction: the
/// record's sort key and the record.
pub type Remember<'a> = (&'a str, &'a RememberedCreate);

/// Sort-key prefix of remembered creates (never a resource's).
pub const REMEMBERED_PREFIX: &str = "request#";

impl RememberedCreate {
    pub fn new(fingerprint: String, resource_id: String, now: time::OffsetDateTime) -> Self {
        Self { fingerprint, resource_id, expires_at: now.unix_timestamp() + REMEMBERED_SECONDS }
    }

    /// One caller's key: another member of the tenant cannot hit it.
    pub fn sort_key(caller: &crate::UserId, key: &crate::idempotency::IdempotencyKey) -> String {
        format!("{REMEMBERED_PREFIX}{caller}#{}", key.digest())
    }
}

/// A create sent with an idempotency key: where it is remembered, and its
/// input's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedCreate {
    pub sort_key: String,
    pub fingerprint: String,
}

impl KeyedCreate {
    /// `input`: what must be the same for a retry (never a password).
    pub fn new(
        caller: &crate::UserId,
        key: &crate::idempotency::IdempotencyKey,
        input: &impl serde::Serialize,
    ) -> Self {
        Self { sort_key: RememberedCreate::sort_key(caller, key), fingerprint: fingerprint(input) }
    }

    /// The record to write with the resource it creates.
    pub fn record(&self, resource_id: impl fmt::Display, at: time::OffsetDateTime) -> RememberedCreate {
        RememberedCreate::new(self.fingerprint.clone(), resource_id.to_string(), at)
    }

    /// The resource a remembered create made, if it had this input; 409 if
    /// the key came with other input.
    pub fn repeated_id<'r>(&self, remembered: &'r RememberedCreate) -> Result<&'r str, crate::ApiError> {
        if remembered.fingerprint == self.fingerprint { Ok(&remembered.resource_id) } else { Err(key_reused()) }
    }
}

/// SHA-256 of a request's input (its JSON), for [`RememberedCreate`].
pub fn fingerprint(input: &impl serde::Serialize) -> String {
    crate::idempotency::sha256_hex(&serde_json::to_vec(input).unwrap_or_default())
}

/// The refusal of a key used before with other input.
pub fn key_reused() -> crate::ApiError {
    crate::ApiError::Conflict(
        "this Idempotency-Key was used for a different request; make a new key for a new request".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;
    use crate::idempotency::IdempotencyKey;

    #[test]
    fn a_key_repeats_its_own_input_only_and_belongs_to_one_caller() {
        let key = IdempotencyKey::generate();
        let (ann, bob) = (UserId::generate(), UserId::generate());
        assert_ne!(RememberedCreate::sort_key(&ann, &key), RememberedCreate::sort_key(&bob, &key));
        assert!(RememberedCreate::sort_key(&ann, &key).starts_with(REMEMBERED_PREFIX));
        assert!(!RememberedCreate::sort_key(&ann, &key).contains(key.as_str()), "only the digest");

        let input = serde_json::json!({"title": "a", "body": "b"});
        let now = time::OffsetDateTime::now_utc();
        let keyed = KeyedCreate::new(&ann, &key, &input);
        let remembered = keyed.record("id-1", now);
        assert_eq!(remembered.expires_at, now.unix_timestamp() + REMEMBERED_SECONDS);
        assert_eq!(keyed.repeated_id(&remembered).map_err(|e| e.to_string()), Ok("id-1"));
        let other = KeyedCreate::new(&ann, &key, &serde_json::json!({"title": "a", "body": "c"}));
        assert!(matches!(other.repeated_id(&remembered), Err(crate::ApiError::Conflict(_))));
    }
}
