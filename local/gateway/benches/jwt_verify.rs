//! The local gateway's JWT authorizer (criterion): one RS256 access token
//! verified against a JWKS already cached. On AWS, API Gateway does this work;
//! `make bench` reports it beside the tenancy hot path.

use std::hint::black_box;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use local_gateway::jwt::{JwksSource, JwtError, JwtVerifier, JwtVerifierConfig, TokenUseRule};
use serde_json::json;

const SIGNING_KEY: &str = include_str!("../src/jwt/testdata/signing_key_1.pem");
const PUBLIC_JWK: &str = include_str!("../src/jwt/testdata/public_jwk_1.json");
const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench";
const CLIENT_ID: &str = "bench-client";

/// The key set, served from memory (the verifier caches it after one fetch).
#[derive(Debug, Clone)]
struct StaticJwks(JwkSet);

impl JwksSource for StaticJwks {
    async fn fetch(&self) -> Result<JwkSet, JwtError> {
        Ok(self.0.clone())
    }
}

fn jwt_verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-key-1".to_owned());
    let token = jsonwebtoken::encode(
        &header,
        &json!({
            "sub": "0190b6d2-7c1e-7a3b-9f00-1234567890ab", "iss": ISSUER, "client_id": CLIENT_ID,
            "token_use": "access", "exp": now + 3600, "iat": now,
            "tenant_id": "0190b6d2-7c1e-7a3b-9f00-000000000001", "tenant_role": "admin",
            "tenant_tier": "pro", "scope": "aws.cognito.signin.user.admin",
        }),
        &EncodingKey::from_rsa_pem(SIGNING_KEY.as_bytes()).expect("signing key"),
    )
    .expect("token");
    let jwk: Jwk = serde_json::from_str(PUBLIC_JWK).expect("jwk");
    let verifier = JwtVerifier::with_source(
        JwtVerifierConfig::new(ISSUER, "unused", CLIENT_ID, TokenUseRule::Both),
        StaticJwks(JwkSet { keys: vec![jwk] }),
    )
    .expect("verifier");
    runtime.block_on(verifier.verify(&token)).expect("token verifies");

    let mut group = c.benchmark_group("gateway");
    group.bench_function("jwt_verify_cached_jwks", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(verifier.verify(black_box(&token)).await.expect("valid"));
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, jwt_verify);
criterion_main!(benches);
