//! Token payloads, and tokens the gateway must refuse. Nothing here verifies
//! a signature: that is the gateway's job, and what the tests check.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::{Error, Result};

fn parts(token: &str) -> Result<[&str; 3]> {
    let parts: Vec<&str> = token.split('.').collect();
    <[&str; 3]>::try_from(parts).map_err(|_| Error::new("a JWT has three dot-separated parts"))
}

fn decode_part(part: &str, what: &str) -> Result<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|e| Error(format!("the JWT {what} is not base64url: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| Error(format!("the JWT {what} is not a JSON object: {e}")))
}

fn encode_part(value: &Map<String, Value>) -> Result<String> {
    let json = serde_json::to_vec(value).map_err(|e| Error(format!("JWT part: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// The payload of a token, unverified.
pub fn claims(token: &str) -> Result<Map<String, Value>> {
    decode_part(parts(token)?[1], "payload")
}

/// The header of a token, unverified.
pub fn header(token: &str) -> Result<Map<String, Value>> {
    decode_part(parts(token)?[0], "header")
}

/// `token` with its payload changed by `edit`, header and signature kept:
/// what an attacker who edits a real token sends.
pub fn tampered(token: &str, edit: impl FnOnce(&mut Map<String, Value>)) -> Result<String> {
    let [head, payload, signature] = parts(token)?;
    let mut claims = decode_part(payload, "payload")?;
    edit(&mut claims);
    Ok(format!("{head}.{}.{signature}", encode_part(&claims)?))
}

/// `token` re-issued as an unsecured JWT: header `alg: none` (kid kept),
/// the same payload, an empty signature.
pub fn unsigned(token: &str) -> Result<String> {
    let [head, payload, _] = parts(token)?;
    let mut header = decode_part(head, "header")?;
    header.insert("alg".to_owned(), Value::from("none"));
    Ok(format!("{}.{payload}.", encode_part(&header)?))
}

/// An RSA key the gateway has never seen: tokens it signs look right in
/// every field and must still be refused.
pub struct ForeignKey {
    pair: KeyPair,
}

impl std::fmt::Debug for ForeignKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForeignKey").finish_non_exhaustive()
    }
}

impl ForeignKey {
    pub fn generate() -> Result<Self> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|e| Error(format!("RSA key: {e}")))?;
        Ok(Self { pair })
    }

    /// An RS256 JWS of `claims` with `header` (its `alg` forced to RS256).
    pub fn sign(&self, header: &Map<String, Value>, claims: &Map<String, Value>) -> Result<String> {
        let mut header = header.clone();
        header.insert("alg".to_owned(), Value::from("RS256"));
        let input = format!("{}.{}", encode_part(&header)?, encode_part(claims)?);
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature)
            .map_err(|e| Error(format!("RS256 sign: {e}")))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// `token` re-signed with this key: same header (kid included) and
    /// payload after `edit`.
    pub fn resign(&self, token: &str, edit: impl FnOnce(&mut Map<String, Value>)) -> Result<String> {
        let mut claims = claims(token)?;
        edit(&mut claims);
        self.sign(&header(token)?, &claims)
    }
}

/// `token`'s header and payload "signed" HS256 with `secret` (header `alg`
/// set to HS256, kid kept): the algorithm-confusion attack, where the
/// verifier is tricked into using public key material as an HMAC secret.
pub fn hs256(token: &str, secret: &[u8]) -> Result<String> {
    let [head, payload, _] = parts(token)?;
    let mut header = decode_part(head, "header")?;
    header.insert("alg".to_owned(), Value::from("HS256"));
    let input = format!("{}.{payload}", encode_part(&header)?);
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())))
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        let key = ForeignKey::generate().expect("key");
        let mut header = Map::new();
        header.insert("kid".to_owned(), Value::from("k1"));
        let mut claims = Map::new();
        claims.insert("tenant_id".to_owned(), Value::from("a"));
        key.sign(&header, &claims).expect("signed")
    }

    #[test]
    fn tampering_keeps_header_and_signature() {
        let token = sample();
        let forged = tampered(&token, |c| {
            c.insert("tenant_id".to_owned(), Value::from("b"));
        })
        .expect("tampered");
        let (a, b) = (parts(&token).expect("parts"), parts(&forged).expect("parts"));
        assert_eq!((a[0], a[2]), (b[0], b[2]));
        assert_eq!(claims(&forged).expect("claims")["tenant_id"], "b");
    }

    #[test]
    fn unsigned_tokens_say_alg_none() {
        let token = unsigned(&sample()).expect("unsigned");
        assert!(token.ends_with('.'));
        assert_eq!(header(&token).expect("header")["alg"], "none");
        assert_eq!(header(&token).expect("header")["kid"], "k1");
        assert_eq!(claims(&token).expect("claims")["tenant_id"], "a");
    }
}
