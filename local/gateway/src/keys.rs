//! The gateway's token signing key: RSA 2048 generated at start (aws-lc-rs),
//! published as a JWKS, used to sign RS256 ID and access tokens.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

/// A signing key and its public JWKS.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwks: JwkSet,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// Key generation or signing failed.
#[derive(Debug, thiserror::Error)]
#[error("signing key: {0}")]
pub struct KeyError(String);

impl SigningKey {
    /// A fresh RSA 2048 key with a random key id.
    pub fn generate() -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|e| KeyError(format!("generate: {e}")))?;
        let pkcs8 = pair.as_der().map_err(|e| KeyError(format!("export: {e}")))?;
        let pem = pem_wrap("PRIVATE KEY", pkcs8.as_ref());
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| KeyError(format!("load: {e}")))?;
        let public = pair.public_key();
        let kid = format!("local-gateway-{}", uuid::Uuid::new_v4().simple());
        let jwk = json!({
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        });
        let jwks: JwkSet =
            serde_json::from_value(json!({ "keys": [jwk] })).map_err(|e| KeyError(format!("jwks: {e}")))?;
        Ok(Self { kid, encoding, jwks })
    }

    /// The public key set, as served at `.../.well-known/jwks.json`.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The key id in every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact RS256 JWS of `claims`.
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| KeyError(format!("sign: {e}")))
    }
}

fn pem_wrap(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    #[test]
    fn signed_tokens_verify_with_the_published_key() {
        let key = SigningKey::generate().expect("key");
        let mut claims = Map::new();
        claims.insert("sub".to_owned(), json!("u1"));
        claims.insert("exp".to_owned(), json!(4_000_000_000_u64));
        let token = key.sign(&claims).expect("signed");
        let jwk = &key.jwks().keys[0];
        assert_eq!(jwk.common.key_id.as_deref(), Some(key.kid()));
        let decoding = DecodingKey::from_jwk(jwk).expect("decoding key");
        let decoded = jsonwebtoken::decode::<Map<String, Value>>(&token, &decoding, &Validation::new(Algorithm::RS256))
            .expect("verifies");
        assert_eq!(decoded.claims["sub"], "u1");
        assert_eq!(decoded.header.kid.as_deref(), Some(key.kid()));
        let other = SigningKey::generate().expect("key");
        let other_decoding = DecodingKey::from_jwk(&other.jwks().keys[0]).expect("decoding key");
        assert!(
            jsonwebtoken::decode::<Map<String, Value>>(&token, &other_decoding, &Validation::new(Algorithm::RS256))
                .is_err()
        );
    }
}
