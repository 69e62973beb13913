//! Idempotency keys: the secret a client sends with a create
//! (`Idempotency-Key` header) and again with each retry of it.
//!
//! A retry proves it comes from the same requester by holding the key, never
//! by repeating the fields (anyone can repeat fields). Services store only
//! [`IdempotencyKey::digest`], so a leaked table holds no usable key.

use std::fmt;

use sha2::{Digest, Sha256};

/// The header, as API Gateway hands it over (lowercase).
pub const HEADER: &str = "idempotency-key";

/// Bounds of a key, in characters of `A-Z a-z 0-9 - _`. 32 is 128 bits as
/// hex; [`IdempotencyKey::generate`] makes 64 hex characters (244 random bits).
pub const MIN_KEY_CHARS: usize = 32;
pub const MAX_KEY_CHARS: usize = 128;

/// Why a key is refused; says the rule, never the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the Idempotency-Key header must be {MIN_KEY_CHARS} to {MAX_KEY_CHARS} characters of A-Z, a-z, 0-9, '-' \
     and '_': a random value the client makes for this request and sends again, unchanged, with every retry"
)]
pub struct InvalidIdempotencyKey;

/// A client's idempotency key. Not printed by `Debug`: it is a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A new random key (two v4 UUIDs from the OS's random source).
    pub fn generate() -> Self {
        Self(format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()))
    }

    pub fn parse(input: &str) -> Result<Self, InvalidIdempotencyKey> {
        let valid = (MIN_KEY_CHARS..=MAX_KEY_CHARS).contains(&input.len())
            && input.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if valid { Ok(Self(input.to_owned())) } else { Err(InvalidIdempotencyKey) }
    }

    /// The key itself, to send.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What a service stores: SHA-256 of the key, hex.
    pub fn digest(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

/// SHA-256 of `bytes`, lowercase hex: the digest of a key, and of the request
/// input a key must come with (e.g. the tenants' registration fingerprint).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdempotencyKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_valid_and_different() {
        let a = IdempotencyKey::generate();
        assert_eq!(IdempotencyKey::parse(a.as_str()), Ok(a.clone()));
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a, IdempotencyKey::generate());
    }

    #[test]
    fn short_long_or_odd_keys_are_refused() {
        for bad in [
            "",
            "retry",
            &"a".repeat(MIN_KEY_CHARS - 1),
            &"a".repeat(MAX_KEY_CHARS + 1),
            &format!("{} ", "a".repeat(40)),
            &format!("{}é", "a".repeat(40)),
            &format!("{}/", "a".repeat(40)),
        ] {
            assert_eq!(IdempotencyKey::parse(bad), Err(InvalidIdempotencyKey), "{bad:?}");
        }
        assert!(IdempotencyKey::parse(&"A-z_9".repeat(8)).is_ok());
    }

    #[test]
    fn the_digest_is_stable_and_the_key_is_never_printed() {
        let key = IdempotencyKey::parse(&"k".repeat(40)).expect("valid");
        assert_eq!(key.digest(), key.clone().digest());
        assert_eq!(key.digest().len(), 64);
        assert_ne!(key.digest(), IdempotencyKey::parse(&"j".repeat(40)).expect("valid").digest());
        assert!(!format!("{key:?}").contains("kkkk"));
    }
}
