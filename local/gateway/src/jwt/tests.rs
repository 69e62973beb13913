use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use super::jwks::tests::{http_response, jwks_document, serve, source};
use super::*;

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test1234";
const CLIENT_ID: &str = "3n4b5urk1ft4fl3mg5e62d9ado";
const KID_1: &str = "test-key-1";
const KID_2: &str = "test-key-2";
const PRIVATE_1: &str = include_str!("testdata/signing_key_1.pem");
const PUBLIC_1_PEM: &str = include_str!("testdata/signing_key_1.pub.pem");
const PRIVATE_2: &str = include_str!("testdata/signing_key_2.pem");
const JWK_1: &str = include_str!("testdata/public_jwk_1.json");
const JWK_2: &str = include_str!("testdata/public_jwk_2.json");

// ---------------------------------------------------------------- helpers

fn jwk(text: &str) -> Jwk {
    serde_json::from_str(text).expect("fixture JWK parses")
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn id_claims() -> Value {
    let now = now();
    json!({
        "sub": "5f8e2a6c-0001-4b2e-9c1d-aaaaaaaaaaaa",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "email": "ada@example.com",
        "custom:tenant_id": "tenant-42",
        "tenant_id": "tenant-42",
        "tenant_role": "admin",
        "tenant_tier": "pro",
        "cognito:groups": ["tenant-42-admins"],
    })
}

fn access_claims() -> Value {
    let now = now();
    json!({
        "sub": "5f8e2a6c-0001-4b2e-9c1d-aaaaaaaaaaaa",
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "jti": "0d9a3c1e-1111-2222-3333-444444444444",
        "username": "ada",
        "tenant_id": "tenant-42",
    })
}

/// `claims` with `key` set to `value` (`Value::Null` removes it).
fn with(mut claims: Value, key: &str, value: Value) -> Value {
    let map = claims.as_object_mut().expect("claims are an object");
    if value.is_null() {
        map.remove(key);
    } else {
        map.insert(key.to_owned(), value);
    }
    claims
}

fn sign_with(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("token signs")
}

fn rsa_key(pem: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(pem.as_bytes()).expect("fixture key parses")
}

/// RS256, kid `test-key-1`, signed by key 1: what the issuer would produce.
fn issue(claims: &Value) -> String {
    sign_with(ALGORITHM, Some(KID_1), &rsa_key(PRIVATE_1), claims)
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_json(value: &Value) -> String {
    b64(serde_json::to_vec(value).expect("json"))
}

/// A token assembled by hand: any header, any signature.
fn raw_token(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64_json(header), b64_json(claims))
}

/// A key source that serves a settable result and counts fetches.
#[derive(Debug)]
struct FakeJwks {
    result: StdMutex<Result<JwkSet, String>>,
    fetches: AtomicUsize,
    delay: Duration,
}

impl FakeJwks {
    fn new(keys: Vec<Jwk>) -> Arc<Self> {
        Self::with_delay(keys, Duration::ZERO)
    }

    fn with_delay(keys: Vec<Jwk>, delay: Duration) -> Arc<Self> {
        Arc::new(Self { result: StdMutex::new(Ok(JwkSet { keys })), fetches: AtomicUsize::new(0), delay })
    }

    fn failing(message: &str) -> Arc<Self> {
        let fake = Self::new(Vec::new());
        fake.fail(message);
        fake
    }

    fn set_keys(&self, keys: Vec<Jwk>) {
        *self.result.lock().expect("fake lock") = Ok(JwkSet { keys });
    }

    fn fail(&self, message: &str) {
        *self.result.lock().expect("fake lock") = Err(message.to_owned());
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl JwksSource for FakeJwks {
    async fn fetch(&self) -> Result<JwkSet, JwtError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let result = self.result.lock().expect("fake lock").clone();
        result.map_err(JwtError::JwksUnavailable)
    }
}

fn config(rule: TokenUseRule) -> JwtVerifierConfig {
    JwtVerifierConfig::new(ISSUER, "http://127.0.0.1:9/unused", CLIENT_ID, rule)
}

fn verifier_with(config: JwtVerifierConfig, fake: &Arc<FakeJwks>) -> JwtVerifier<Arc<FakeJwks>> {
    JwtVerifier::with_source(config, Arc::clone(fake)).expect("valid config")
}

/// A verifier accepting both token kinds over a fake serving key 1.
fn setup(rule: TokenUseRule) -> (JwtVerifier<Arc<FakeJwks>>, Arc<FakeJwks>) {
    let fake = FakeJwks::new(vec![jwk(JWK_1)]);
    (verifier_with(config(rule), &fake), fake)
}

/// Asserts the error kind and that neither the token nor its signature leak
/// into the error's Display or Debug output.
#[track_caller]
fn assert_rejected(result: Result<VerifiedClaims, JwtError>, expected: &JwtError, token: &str) {
    let error = match result {
        Ok(claims) => panic!("expected {expected:?}, token accepted: {claims:?}"),
        Err(error) => error,
    };
    assert_eq!(&error, expected);
    assert!(!error.is_unavailable(), "{error:?} must not be 'unavailable'");
    let rendered = format!("{error} {error:?}");
    for part in token.split('.').filter(|part| part.len() >= 8) {
        assert!(!rendered.contains(part), "error output leaks the token: {rendered}");
    }
}

// ---------------------------------------------------------------- accepted

#[tokio::test]
async fn valid_id_token_is_accepted_with_all_claims() {
    let (verifier, fake) = setup(TokenUseRule::Both);
    let claims = id_claims();
    let verified = verifier.verify(&issue(&claims)).await.expect("valid ID token");

    assert_eq!(verified.sub, "5f8e2a6c-0001-4b2e-9c1d-aaaaaaaaaaaa");
    assert_eq!(verified.token_use, TokenUse::Id);
    assert_eq!(verified.iss, ISSUER);
    assert_eq!(Some(verified.exp), claims["exp"].as_u64());
    assert_eq!(verified.claim_str("tenant_id"), Some("tenant-42"));
    assert_eq!(verified.claim_str("custom:tenant_id"), Some("tenant-42"));
    assert_eq!(verified.claim_str("tenant_role"), Some("admin"));
    assert_eq!(verified.claim_str("tenant_tier"), Some("pro"));
    assert_eq!(verified.claim("cognito:groups"), Some(&json!(["tenant-42-admins"])));
    assert_eq!(Value::Object(verified.claims.clone()), claims);
    assert_eq!(fake.fetches(), 1, "JWKS fetched lazily, once");

    // Cached: a second verification does not fetch again.
    verifier.verify(&issue(&claims)).await.expect("still valid");
    assert_eq!(fake.fetches(), 1);
}

#[tokio::test]
async fn valid_access_token_is_accepted() {
    let (verifier, _) = setup(TokenUseRule::Both);
    let verified = verifier.verify(&issue(&access_claims())).await.expect("valid access token");
    assert_eq!(verified.token_use, TokenUse::Access);
    assert_eq!(verified.claim_str("client_id"), Some(CLIENT_ID));
    assert_eq!(verified.claim_str("username"), Some("ada"));
}

#[tokio::test]
async fn no_fetch_before_first_verification() {
    let (_verifier, fake) = setup(TokenUseRule::Both);
    assert_eq!(fake.fetches(), 0);
}

// ---------------------------------------------------------------- algorithms and header

#[tokio::test]
async fn alg_none_is_rejected_before_key_lookup() {
    let (verifier, fake) = setup(TokenUseRule::Both);
    for alg in ["none", "None", "NONE"] {
        let token = raw_token(&json!({"alg": alg, "kid": KID_1}), &id_claims(), "");
        assert_rejected(verifier.verify(&token).await, &JwtError::UnsupportedAlgorithm, &token);
    }
    // No alg at all.
    let token = raw_token(&json!({"kid": KID_1}), &id_claims(), "c2ln");
    assert_rejected(verifier.verify(&token).await, &JwtError::UnsupportedAlgorithm, &token);
    assert_eq!(fake.fetches(), 0, "rejected before any key lookup");
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_rejected() {
    let (verifier, fake) = setup(TokenUseRule::Both);
    // Classic key confusion: HMAC keyed with the published public key, as PEM
    // and as the raw JWK modulus.
    let rsa_params = match jwk(JWK_1).algorithm {
        AlgorithmParameters::RSA(params) => params,
        other => panic!("fixture is not RSA: {other:?}"),
    };
    for secret in [PUBLIC_1_PEM.as_bytes(), rsa_params.n.as_bytes()] {
        let token = sign_with(
            Algorithm::HS256,
            Some(KID_1),
            &EncodingKey::from_secret(secret).expect("hmac key"),
            &id_claims(),
        );
        assert_rejected(verifier.verify(&token).await, &JwtError::UnsupportedAlgorithm, &token);
    }
    assert_eq!(fake.fetches(), 0);
}

#[tokio::test]
async fn other_algorithms_are_rejected() {
    let (verifier, fake) = setup(TokenUseRule::Both);
    // Really signed with the right key, but RS512 / PS256.
    for alg in [Algorithm::RS512, Algorithm::RS384, Algorithm::PS256] {
        let token = sign_with(alg, Some(KID_1), &rsa_key(PRIVATE_1), &id_claims());
        assert_rejected(verifier.verify(&token).await, &JwtError::UnsupportedAlgorithm, &token);
    }
    // ES256 / EdDSA / lowercase headers with a junk signature.
    for alg in ["ES256", "EdDSA", "rs256", "HS512"] {
        let token = raw_token(&json!({"alg": alg, "kid": KID_1}), &id_claims(), "c2lnbmF0dXJlc2lnbmF0dXJl");
        assert_rejected(verifier.verify(&token).await, &JwtError::UnsupportedAlgorithm, &token);
    }
    assert_eq!(fake.fetches(), 0);
}

#[tokio::test]
async fn missing_kid_is_rejected() {
    let (verifier, fake) = setup(TokenUseRule::Both);
    let token = sign_with(ALGORITHM, None, &rsa_key(PRIVATE_1), &id_claims());
    assert_rejected(verifier.verify(&token).await, &JwtError::MissingKid, &token);

    let token = sign_with(ALGORITHM, Some(""), &rsa_key(PRIVATE_1), &id_claims());
    assert_rejected(verifier.verify(&token).await, &JwtError::MissingKid, &token);

    let token = raw_token(&json!({"alg": "RS256", "kid": 7}), &id_claims(), "c2ln");
    assert_rejected(verifier.verify(&token).await, &JwtError::Malformed, &token);
    assert_eq!(fake.fetches(), 0);
}

// ---------------------------------------------------------------- key set caching

#[tokio::test]
async fn unknown_kid_refreshes_once_then_is_rate_limited() {
    let (verifier, fake) = setup(TokenUseRule::Both);
    verifier.verify(&issue(&id_claims())).await.expect("valid");
    assert_eq!(fake.fetches(), 1);

    let key = rsa_key(PRIVATE_1);
    let token = sign_with(ALGORITHM, Some("unknown-kid"), &key, &id_claims());
    assert_rejected(verifier.verify(&token).await, &JwtError::UnknownKey, &token);
    assert_eq!(fake.fetches(), 2, "an unknown kid triggers exactly one refresh");

    let token = sign_with(ALGORITHM, Some("another-unknown-kid"), &key, &id_claims());
    assert_rejected(verifier.verify(&token).await, &JwtError::UnknownKey, &token);
    assert_eq!(fake.fetches(), 2, "no second refresh within the interval");

    // Known keys keep working and do not fetch.
    verifier.verify(&issue(&id_claims())).await.expect("valid");
    assert_eq!(fake.fetches(), 2);
}

#[tokio::test]
async fn unknown_kid_on_cold_cache_fetches_only_once() {
    let (verifier, fake) = setup(TokenUseRule::Both);
    let token = sign_with(ALGORITHM, Some("unknown-kid"), &rsa_key(PRIVATE_1), &id_claims());
    assert_rejected(verifier.verify(&token).await, &JwtError::UnknownKey, &token);
    assert_eq!(fake.fetches(), 1, "the first load is not followed by a refresh");
}

#[tokio::test]
async fn rotated_in_key_is_found_after_refresh() {
    let (verifier, fake) = setup(TokenUseRule::Both);
    verifier.verify(&issue(&id_claims())).await.expect("valid");

    // The issuer starts signing with key 2.
    fake.set_keys(vec![jwk(JWK_1), jwk(JWK_2)]);
    let token = sign_with(ALGORITHM, Some(KID_2), &rsa_key(PRIVATE_2), &id_claims());
    let verified = verifier.verify(&token).await.expect("rotated-in key accepted");
    assert_eq!(verified.token_use, TokenUse::Id);
    assert_eq!(fake.fetches(), 2);

    // Both keys are now cached.
    verifier.verify(&issue(&id_claims())).await.expect("key 1");
    verifier.verify(&token).await.expect("key 2");
    assert_eq!(fake.fetches(), 2);
}

#[tokio::test]
async fn refresh_is_allowed_again_after_the_interval_and_removed_keys_go() {
    let fake = FakeJwks::new(vec![jwk(JWK_1)]);
    let mut config = config(TokenUseRule::Both);
    config.min_jwks_refresh_interval = Duration::from_millis(100);
    let verifier = verifier_with(config, &fake);
    let token_2 = sign_with(ALGORITHM, Some(KID_2), &rsa_key(PRIVATE_2), &id_claims());

    assert_eq!(verifier.verify(&token_2).await, Err(JwtError::UnknownKey));
    assert_eq!(verifier.verify(&token_2).await, Err(JwtError::UnknownKey));
    assert_eq!(fake.fetches(), 2, "load, then one refresh");

    fake.set_keys(vec![jwk(JWK_2)]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    verifier.verify(&token_2).await.expect("found after the interval");
    assert_eq!(fake.fetches(), 3);

    // Key 1 was removed from the set: its tokens stop verifying.
    let token_1 = issue(&id_claims());
    assert_eq!(verifier.verify(&token_1).await, Err(JwtError::UnknownKey));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_verifications_fetch_once() {
    let fake = FakeJwks::with_delay(vec![jwk(JWK_1)], Duration::from_millis(100));
    let verifier = Arc::new(verifier_with(config(TokenUseRule::Both), &fake));
    let token = issue(&id_claims());

    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let verifier = Arc::clone(&verifier);
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("valid token");
    }
    assert_eq!(fake.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unknown_kids_refresh_once() {
    let fake = FakeJwks::with_delay(vec![jwk(JWK_1)], Duration::from_millis(50));
    let verifier = Arc::new(verifier_with(config(TokenUseRule::Both), &fake));
    verifier.verify(&issue(&id_claims())).await.expect("valid");
    assert_eq!(fake.fetches(), 1);

    let key = rsa_key(PRIVATE_1);
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let verifier = Arc::clone(&verifier);
            let token = sign_with(ALGORITHM, Some(&format!("kid-{i}")), &key, &id_claims());
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task"), Err(JwtError::UnknownKey));
    }
    assert_eq!(fake.fetches(), 2, "one refresh for all of them");
}

#[tokio::test]
async fn jwks_fetch_failure_is_unavailable_and_retried_on_cold_cache() {
    let fake = FakeJwks::failing("connection refused");
    let verifier = verifier_with(config(TokenUseRule::Both), &fake);
    let token = issue(&id_claims());

    let error = verifier.verify(&token).await.expect_err("no keys");
    assert!(error.is_unavailable(), "{error:?}");
    assert!(matches!(&error, JwtError::JwksUnavailable(m) if m.contains("connection refused")));
    assert!(!error.to_string().contains(&token));
    assert_eq!(fake.fetches(), 1);

    // Never loaded: the next request tries again and recovers.
    fake.set_keys(vec![jwk(JWK_1)]);
    verifier.verify(&token).await.expect("recovered");
    assert_eq!(fake.fetches(), 2);
}

#[tokio::test]
async fn failed_refresh_keeps_cached_keys() {
    let (verifier, fake) = setup(TokenUseRule::Both);
    verifier.verify(&issue(&id_claims())).await.expect("valid");

    fake.fail("HTTP 503");
    let token_2 = sign_with(ALGORITHM, Some(KID_2), &rsa_key(PRIVATE_2), &id_claims());
    let error = verifier.verify(&token_2).await.expect_err("refresh failed");
    assert!(error.is_unavailable(), "{error:?}");
    assert_eq!(fake.fetches(), 2);

    // Key 1 is still cached and usable.
    verifier.verify(&issue(&id_claims())).await.expect("still valid");
    assert_eq!(fake.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_verifications_share_a_failed_fetch() {
    let fake = FakeJwks::with_delay(Vec::new(), Duration::from_millis(100));
    fake.fail("down");
    let verifier = Arc::new(verifier_with(config(TokenUseRule::Both), &fake));
    let token = issue(&id_claims());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let verifier = Arc::clone(&verifier);
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        let error = task.await.expect("task").expect_err("keys unavailable");
        assert!(error.is_unavailable(), "{error:?}");
    }
    // Tasks that queued behind the in-flight fetch share its outcome; only a
    // task that arrives after it finished may try again.
    assert!(fake.fetches() < 8, "fetches: {}", fake.fetches());
}

#[tokio::test]
async fn jwks_keys_for_other_algorithms_or_uses_are_ignored() {
    let mut enc = jwk(JWK_1);
    enc.common.public_key_use = Some(PublicKeyUse::Encryption);
    let mut rs512 = jwk(JWK_1);
    rs512.common.key_algorithm = Some(KeyAlgorithm::RS512);
    let mut no_kid = jwk(JWK_1);
    no_kid.common.key_id = None;
    let oct: Jwk = serde_json::from_value(json!({
        "kty": "oct", "kid": KID_1, "k": b64(PUBLIC_1_PEM),
    }))
    .expect("oct jwk");
    for unusable in [enc, rs512, no_kid, oct] {
        let fake = FakeJwks::new(vec![unusable]);
        let verifier = verifier_with(config(TokenUseRule::Both), &fake);
        let token = issue(&id_claims());
        assert_rejected(verifier.verify(&token).await, &JwtError::UnknownKey, &token);
    }
}

// ---------------------------------------------------------------- time

#[tokio::test]
async fn expired_beyond_leeway_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    let token = issue(&with(id_claims(), "exp", json!(now() - 120)));
    assert_rejected(verifier.verify(&token).await, &JwtError::Expired, &token);
}

#[tokio::test]
async fn expired_within_leeway_is_accepted() {
    let (verifier, _) = setup(TokenUseRule::Both);
    let token = issue(&with(id_claims(), "exp", json!(now() - 10)));
    verifier.verify(&token).await.expect("within the 30 s leeway");
}

#[tokio::test]
async fn leeway_is_configurable() {
    let fake = FakeJwks::new(vec![jwk(JWK_1)]);
    let mut config = config(TokenUseRule::Both);
    config.leeway = Duration::ZERO;
    let verifier = verifier_with(config, &fake);
    let token = issue(&with(id_claims(), "exp", json!(now() - 10)));
    assert_rejected(verifier.verify(&token).await, &JwtError::Expired, &token);
}

#[tokio::test]
async fn missing_or_non_numeric_exp_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    let token = issue(&with(id_claims(), "exp", Value::Null));
    assert_rejected(verifier.verify(&token).await, &JwtError::InvalidClaim("exp"), &token);
    let token = issue(&with(id_claims(), "exp", json!("tomorrow")));
    assert_rejected(verifier.verify(&token).await, &JwtError::InvalidClaim("exp"), &token);
}

#[tokio::test]
async fn nbf_in_the_future_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    let token = issue(&with(id_claims(), "nbf", json!(now() + 3600)));
    assert_rejected(verifier.verify(&token).await, &JwtError::NotYetValid, &token);

    let token = issue(&with(id_claims(), "nbf", json!(now() + 10)));
    verifier.verify(&token).await.expect("nbf within the leeway");
}

// ---------------------------------------------------------------- issuer, audience, token_use

#[tokio::test]
async fn wrong_issuer_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    for iss in [
        json!(format!("{ISSUER}/")),
        json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"),
        json!([ISSUER]),
        Value::Null,
    ] {
        let token = issue(&with(id_claims(), "iss", iss));
        assert_rejected(verifier.verify(&token).await, &JwtError::WrongIssuer, &token);
    }
}

#[tokio::test]
async fn id_token_with_wrong_aud_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    for aud in [json!("another-client"), json!([CLIENT_ID]), Value::Null] {
        let token = issue(&with(id_claims(), "aud", aud));
        assert_rejected(verifier.verify(&token).await, &JwtError::WrongAudience, &token);
    }
    // A matching client_id does not stand in for aud on an ID token.
    let claims = with(with(id_claims(), "aud", json!("another-client")), "client_id", json!(CLIENT_ID));
    let token = issue(&claims);
    assert_rejected(verifier.verify(&token).await, &JwtError::WrongAudience, &token);
}

#[tokio::test]
async fn access_token_with_wrong_client_id_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    for client_id in [json!("another-client"), Value::Null] {
        let token = issue(&with(access_claims(), "client_id", client_id));
        assert_rejected(verifier.verify(&token).await, &JwtError::WrongAudience, &token);
    }
    // A matching aud does not stand in for client_id on an access token.
    let claims = with(with(access_claims(), "client_id", Value::Null), "aud", json!(CLIENT_ID));
    let token = issue(&claims);
    assert_rejected(verifier.verify(&token).await, &JwtError::WrongAudience, &token);
}

#[tokio::test]
async fn id_token_rejected_when_only_access_accepted() {
    let (verifier, _) = setup(TokenUseRule::Access);
    let token = issue(&id_claims());
    assert_rejected(verifier.verify(&token).await, &JwtError::WrongTokenUse, &token);
    verifier.verify(&issue(&access_claims())).await.expect("access accepted");
}

#[tokio::test]
async fn access_token_rejected_when_only_id_accepted() {
    let (verifier, _) = setup(TokenUseRule::Id);
    let token = issue(&access_claims());
    assert_rejected(verifier.verify(&token).await, &JwtError::WrongTokenUse, &token);
    verifier.verify(&issue(&id_claims())).await.expect("id accepted");
}

#[tokio::test]
async fn missing_or_unknown_token_use_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    for token_use in [Value::Null, json!("refresh"), json!("ID"), json!(1)] {
        let token = issue(&with(id_claims(), "token_use", token_use));
        assert_rejected(verifier.verify(&token).await, &JwtError::WrongTokenUse, &token);
    }
}

#[tokio::test]
async fn missing_sub_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    for sub in [Value::Null, json!(""), json!(42)] {
        let token = issue(&with(id_claims(), "sub", sub));
        assert_rejected(verifier.verify(&token).await, &JwtError::InvalidClaim("sub"), &token);
    }
}

// ---------------------------------------------------------------- tampering and garbage

#[tokio::test]
async fn tampered_payload_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    let token = issue(&id_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = with(id_claims(), "tenant_id", json!("tenant-666"));
    let tampered = format!("{}.{}.{}", parts[0], b64_json(&forged), parts[2]);
    assert_rejected(verifier.verify(&tampered).await, &JwtError::InvalidSignature, &tampered);
}

#[tokio::test]
async fn tampered_header_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    let token = issue(&id_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let header = json!({"alg": "RS256", "kid": KID_1, "typ": "JWT", "x": 1});
    let tampered = format!("{}.{}.{}", b64_json(&header), parts[1], parts[2]);
    assert_rejected(verifier.verify(&tampered).await, &JwtError::InvalidSignature, &tampered);
}

#[tokio::test]
async fn tampered_signature_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    let token = issue(&id_claims());
    let (message, signature) = token.rsplit_once('.').expect("three parts");
    let first = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{message}.{first}{}", &signature[1..]);
    assert_rejected(verifier.verify(&tampered).await, &JwtError::InvalidSignature, &tampered);

    // Signature of another token of the same issuer.
    let other = issue(&with(id_claims(), "sub", json!("someone-else")));
    let (_, other_signature) = other.rsplit_once('.').expect("three parts");
    let swapped = format!("{message}.{other_signature}");
    assert_rejected(verifier.verify(&swapped).await, &JwtError::InvalidSignature, &swapped);

    let empty = format!("{message}.");
    assert_rejected(verifier.verify(&empty).await, &JwtError::InvalidSignature, &empty);
}

#[tokio::test]
async fn token_signed_by_another_key_with_the_same_kid_is_rejected() {
    let (verifier, _) = setup(TokenUseRule::Both);
    let token = sign_with(ALGORITHM, Some(KID_1), &rsa_key(PRIVATE_2), &id_claims());
    assert_rejected(verifier.verify(&token).await, &JwtError::InvalidSignature, &token);
}

#[tokio::test]
async fn garbage_is_malformed_without_fetching() {
    let (verifier, fake) = setup(TokenUseRule::Both);
    let valid = issue(&id_claims());
    let (_, rest) = valid.split_once('.').expect("parts");
    let long = "a".repeat(MAX_TOKEN_LEN + 1);
    let garbage =
        ["", ".", "..", "a.b", "a.b.c", "a.b.c.d", "not base64!.x.y", "Bearer x.y.z", "\u{0}\u{1}.\u{2}.\u{3}", &long];
    for token in garbage {
        assert_rejected(verifier.verify(token).await, &JwtError::Malformed, token);
    }
    // Header that decodes but is not a JSON object, or is padded base64.
    let array_header = format!("{}.{rest}", b64("[\"RS256\"]"));
    let text_header = format!("{}.{rest}", b64("RS256"));
    let padded = format!("{}=.{rest}", b64(r#"{"alg":"RS256","kid":"test-key-1"}"#));
    let five_parts = format!("{valid}.x.y");
    for token in [&array_header, &text_header, &padded, &five_parts] {
        assert_rejected(verifier.verify(token).await, &JwtError::Malformed, token);
    }
    assert_eq!(fake.fetches(), 0);
}

#[tokio::test]
async fn correctly_signed_non_json_payload_is_malformed() {
    let (verifier, _) = setup(TokenUseRule::Both);
    let header = b64_json(&json!({"alg": "RS256", "kid": KID_1}));
    for payload in [b64("not json"), b64("[1,2,3]"), "***".to_owned()] {
        let message = format!("{header}.{payload}");
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &rsa_key(PRIVATE_1), ALGORITHM).expect("sign");
        let token = format!("{message}.{signature}");
        assert_rejected(verifier.verify(&token).await, &JwtError::Malformed, &token);
    }
}

// ---------------------------------------------------------------- configuration and HTTP

#[test]
fn config_defaults_and_validation() {
    let config = config(TokenUseRule::Id);
    assert_eq!(config.leeway, Duration::from_secs(30));
    assert_eq!(config.min_jwks_refresh_interval, Duration::from_secs(60));

    let fake = FakeJwks::new(Vec::new());
    let mut bad = config.clone();
    bad.issuer = String::new();
    assert!(matches!(JwtVerifier::with_source(bad, Arc::clone(&fake)), Err(JwtError::Config(_))));
    let mut bad = config.clone();
    bad.audience = " ".to_owned();
    assert!(matches!(JwtVerifier::with_source(bad, Arc::clone(&fake)), Err(JwtError::Config(_))));
    let mut bad = config;
    bad.leeway = MAX_LEEWAY + Duration::from_secs(1);
    assert!(matches!(JwtVerifier::with_source(bad, fake), Err(JwtError::Config(_))));
}

#[test]
fn only_jwks_unavailable_is_unavailable() {
    assert!(JwtError::JwksUnavailable("x".to_owned()).is_unavailable());
    for error in [
        JwtError::Malformed,
        JwtError::UnsupportedAlgorithm,
        JwtError::MissingKid,
        JwtError::UnknownKey,
        JwtError::InvalidSignature,
        JwtError::Expired,
        JwtError::NotYetValid,
        JwtError::WrongIssuer,
        JwtError::WrongAudience,
        JwtError::WrongTokenUse,
        JwtError::InvalidClaim("exp"),
        JwtError::Config("x".to_owned()),
    ] {
        assert!(!error.is_unavailable(), "{error:?}");
    }
}

#[test]
fn verifier_and_its_future_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let (verifier, _) = setup(TokenUseRule::Both);
    assert_send_sync(&verifier);
    assert_send(&verifier.verify("x"));
    let http = JwtVerifier::new(config(TokenUseRule::Both)).expect("builds");
    assert_send_sync(&http);
    assert_send(&http.verify("x"));
}

#[tokio::test]
async fn end_to_end_over_http() {
    let base = serve(Some(http_response("200 OK", &jwks_document()))).await;
    let source = source(format!("{base}/.well-known/jwks.json"));
    let verifier = JwtVerifier::with_source(config(TokenUseRule::Both), source).expect("config");
    let verified = verifier.verify(&issue(&id_claims())).await.expect("valid");
    assert_eq!(verified.claim_str("tenant_id"), Some("tenant-42"));
}

#[tokio::test]
async fn end_to_end_http_500_is_unavailable() {
    let base = serve(Some(http_response("500 Internal Server Error", "oops"))).await;
    let verifier = JwtVerifier::with_source(config(TokenUseRule::Both), source(base)).expect("config");
    let error = verifier.verify(&issue(&id_claims())).await.expect_err("no keys");
    assert!(error.is_unavailable(), "{error:?}");
}
