//! Verification of Cognito-style JWTs (ID and access tokens) signed with RS256
//! by a key published in the issuer's JWKS.
//!
//! ```ignore
//! let config = JwtVerifierConfig::new(issuer, jwks_url, app_client_id, TokenUseRule::Id);
//! let verifier = JwtVerifier::new(config)?; // build once, share (e.g. in an Arc)
//! let claims = verifier.verify(bearer_token).await?;
//! let tenant = claims.claim_str("tenant_id");
//! ```
//!
//! Errors never carry the token or key material; [`JwtError::is_unavailable`]
//! separates "could not get the keys" (answer 503) from "bad token" (401).

mod jwks;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

pub use jwks::{DEFAULT_JWKS_TIMEOUT, DEFAULT_MAX_JWKS_BYTES, HttpJwksSource, JwksSource};
/// The `token_use` claim (`"id"` or `"access"`), as the functions read it.
pub use tenancy::TokenUse;

/// Default clock-skew allowance for `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Default minimum time between two JWKS refreshes caused by unknown key ids.
pub const DEFAULT_MIN_JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// Largest leeway the verifier accepts (a larger one is a configuration error).
pub const MAX_LEEWAY: Duration = Duration::from_secs(3600);
/// Longer tokens are rejected as malformed before any parsing.
pub const MAX_TOKEN_LEN: usize = 32 * 1024;

/// The only signature algorithm accepted.
const ALGORITHM: Algorithm = Algorithm::RS256;

/// Which kinds of token a verifier accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenUseRule {
    /// ID tokens only.
    Id,
    /// Access tokens only.
    Access,
    /// ID and access tokens.
    Both,
}

impl TokenUseRule {
    /// Whether a token of kind `token_use` is accepted.
    pub fn accepts(self, token_use: TokenUse) -> bool {
        matches!((self, token_use), (Self::Both, _) | (Self::Id, TokenUse::Id) | (Self::Access, TokenUse::Access))
    }
}

/// Settings of a [`JwtVerifier`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtVerifierConfig {
    /// Expected `iss`, compared exactly (e.g.
    /// `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf`).
    pub issuer: String,
    /// Where the JWKS is fetched from; separate from `issuer` because local
    /// emulators serve it elsewhere.
    pub jwks_url: String,
    /// The app client id: `aud` of ID tokens, `client_id` of access tokens.
    pub audience: String,
    /// Accepted `token_use` values.
    pub accepted_token_use: TokenUseRule,
    /// Clock-skew allowance for `exp` and `nbf`, in whole seconds (at most
    /// [`MAX_LEEWAY`]).
    pub leeway: Duration,
    /// Minimum time between two refreshes caused by an unknown `kid`.
    pub min_jwks_refresh_interval: Duration,
}

impl JwtVerifierConfig {
    /// A configuration with [`DEFAULT_LEEWAY`] and
    /// [`DEFAULT_MIN_JWKS_REFRESH_INTERVAL`].
    pub fn new(
        issuer: impl Into<String>,
        jwks_url: impl Into<String>,
        audience: impl Into<String>,
        accepted_token_use: TokenUseRule,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            jwks_url: jwks_url.into(),
            audience: audience.into(),
            accepted_token_use,
            leeway: DEFAULT_LEEWAY,
            min_jwks_refresh_interval: DEFAULT_MIN_JWKS_REFRESH_INTERVAL,
        }
    }

    fn validate(&self) -> Result<(), JwtError> {
        if self.issuer.trim().is_empty() {
            return Err(JwtError::Config("issuer is empty".to_owned()));
        }
        if self.audience.trim().is_empty() {
            return Err(JwtError::Config("audience (app client id) is empty".to_owned()));
        }
        if self.leeway > MAX_LEEWAY {
            return Err(JwtError::Config(format!("leeway exceeds {} s", MAX_LEEWAY.as_secs())));
        }
        Ok(())
    }
}

/// The claims of a token that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    /// `sub`: the user's id.
    pub sub: String,
    /// `token_use`.
    pub token_use: TokenUse,
    /// `exp`, seconds since the Unix epoch.
    pub exp: u64,
    /// `iss` (equal to the configured issuer).
    pub iss: String,
    /// Every claim of the payload, including the ones above and custom ones
    /// such as `custom:tenant_id` or `cognito:groups`.
    pub claims: Map<String, Value>,
}

impl VerifiedClaims {
    /// Any claim by name.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// A claim by name if it is a string.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// Why a token was not accepted. Messages never contain the token or keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not a compact JWS with a base64url JSON header and payload, or too long.
    #[error("token is malformed")]
    Malformed,
    /// `alg` is missing or anything but RS256 (including `none` and HS256).
    #[error("token algorithm is not accepted (RS256 only)")]
    UnsupportedAlgorithm,
    /// The header has no `kid`.
    #[error("token header has no key id")]
    MissingKid,
    /// The `kid` is not in the issuer's key set.
    #[error("token key id is not in the issuer's key set")]
    UnknownKey,
    /// The signature does not verify with the key named by `kid`.
    #[error("token signature is invalid")]
    InvalidSignature,
    /// `exp` is past, beyond the leeway.
    #[error("token has expired")]
    Expired,
    /// `nbf` is ahead, beyond the leeway.
    #[error("token is not yet valid")]
    NotYetValid,
    /// `iss` is missing or not exactly the configured issuer.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// `aud` (ID token) or `client_id` (access token) is missing or not the
    /// configured app client id.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// `token_use` is missing, unknown or not accepted by the configuration.
    #[error("token_use is not accepted")]
    WrongTokenUse,
    /// A required claim (`exp`, `sub`) is missing or a time claim has the wrong type.
    #[error("claim `{0}` is missing or invalid")]
    InvalidClaim(&'static str),
    /// The key set could not be fetched; the token could not be checked.
    #[error("signing keys unavailable: {0}")]
    JwksUnavailable(String),
    /// The verifier or its key source is misconfigured.
    #[error("JWT verifier configuration: {0}")]
    Config(String),
}

impl JwtError {
    /// `true` when the key set could not be fetched (answer 503); every other
    /// error means the token is not acceptable (answer 401).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::JwksUnavailable(_))
    }
}

/// Verifies tokens against one issuer. Build it once and share it: it caches
/// the key set, fetched lazily on first use.
pub struct JwtVerifier<S = HttpJwksSource> {
    config: JwtVerifierConfig,
    validation: Validation,
    source: S,
    cache: RwLock<KeyCache>,
    /// Held while fetching, so at most one fetch is in flight.
    fetch_lock: Mutex<()>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, Arc<DecodingKey>>,
    /// A fetch has succeeded at least once.
    loaded: bool,
    /// Start of the last fetch made because of an unknown `kid` once loaded.
    last_refresh: Option<Instant>,
    /// Number of fetches attempted; lets waiters see that one finished.
    generation: u64,
    /// Outcome of the last fetch, if it failed.
    last_error: Option<String>,
}

impl KeyCache {
    fn lookup(&self, kid: &str) -> Result<Arc<DecodingKey>, JwtError> {
        match (self.keys.get(kid), &self.last_error) {
            (Some(key), _) => Ok(Arc::clone(key)),
            (None, Some(error)) => Err(JwtError::JwksUnavailable(error.clone())),
            (None, None) => Err(JwtError::UnknownKey),
        }
    }
}

impl JwtVerifier<HttpJwksSource> {
    /// A verifier fetching the key set from `config.jwks_url` over HTTP.
    pub fn new(config: JwtVerifierConfig) -> Result<Self, JwtError> {
        let source = HttpJwksSource::new(config.jwks_url.clone())?;
        Self::with_source(config, source)
    }
}

impl<S: JwksSource> JwtVerifier<S> {
    /// A verifier with its own key source (`config.jwks_url` is not used).
    pub fn with_source(config: JwtVerifierConfig, source: S) -> Result<Self, JwtError> {
        config.validate()?;
        let mut validation = Validation::new(ALGORITHM);
        validation.leeway = config.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // `aud`/`client_id` and `iss` are checked exactly below.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        Ok(Self { config, validation, source, cache: RwLock::new(KeyCache::default()), fetch_lock: Mutex::new(()) })
    }

    /// The configuration in use.
    pub fn config(&self) -> &JwtVerifierConfig {
        &self.config
    }

    /// Verify `token` (the compact JWS, without a `Bearer ` prefix).
    pub async fn verify(&self, token: &str) -> Result<VerifiedClaims, JwtError> {
        let result = self.verify_inner(token).await;
        if let Err(error) = &result {
            tracing::debug!(%error, "JWT rejected");
        }
        result
    }

    async fn verify_inner(&self, token: &str) -> Result<VerifiedClaims, JwtError> {
        let kid = check_header(token)?;
        let key = self.key_for(&kid).await?;
        let claims =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key, &self.validation).map_err(map_decode_error)?.claims;
        self.check_claims(claims)
    }

    fn check_claims(&self, claims: Map<String, Value>) -> Result<VerifiedClaims, JwtError> {
        let iss = match claims.get("iss") {
            Some(Value::String(iss)) if *iss == self.config.issuer => iss.clone(),
            _ => return Err(JwtError::WrongIssuer),
        };
        let token_use = claims
            .get("token_use")
            .and_then(Value::as_str)
            .and_then(|value| value.parse::<TokenUse>().ok())
            .filter(|token_use| self.config.accepted_token_use.accepts(*token_use))
            .ok_or(JwtError::WrongTokenUse)?;
        let audience_claim = match token_use {
            TokenUse::Id => "aud",
            TokenUse::Access => "client_id",
        };
        match claims.get(audience_claim) {
            Some(Value::String(aud)) if *aud == self.config.audience => {}
            _ => return Err(JwtError::WrongAudience),
        }
        let sub = match claims.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            _ => return Err(JwtError::InvalidClaim("sub")),
        };
        let exp = claims.get("exp").and_then(Value::as_u64).ok_or(JwtError::InvalidClaim("exp"))?;
        Ok(VerifiedClaims { sub, token_use, exp, iss, claims })
    }

    /// The key for `kid`, fetching the key set when it was never loaded, or
    /// refreshing it (rate-limited) when `kid` is unknown.
    async fn key_for(&self, kid: &str) -> Result<Arc<DecodingKey>, JwtError> {
        let seen_generation = {
            let cache = self.cache.read().await;
            if let Some(key) = cache.keys.get(kid) {
                return Ok(Arc::clone(key));
            }
            cache.generation
        };

        let _fetching = self.fetch_lock.lock().await;
        let loaded = {
            let cache = self.cache.read().await;
            if cache.generation != seen_generation {
                // A fetch finished while this call waited: share its outcome.
                return cache.lookup(kid);
            }
            let refreshed_recently =
                cache.last_refresh.is_some_and(|at| at.elapsed() < self.config.min_jwks_refresh_interval);
            if cache.loaded && refreshed_recently {
                return Err(JwtError::UnknownKey);
            }
            cache.loaded
        };

        let started = Instant::now();
        let fetched = self.source.fetch().await;
        let mut cache = self.cache.write().await;
        cache.generation += 1;
        if loaded {
            cache.last_refresh = Some(started);
        }
        match fetched {
            Ok(set) => {
                cache.keys = usable_keys(&set);
                cache.loaded = true;
                cache.last_error = None;
                tracing::debug!(keys = cache.keys.len(), "JWKS loaded");
            }
            Err(error) => {
                tracing::warn!(%error, "JWKS fetch failed");
                // Keep the keys we had; report the failure to this call and to
                // the calls that waited for it.
                cache.last_error = Some(match error {
                    JwtError::JwksUnavailable(message) => message,
                    other => other.to_string(),
                });
            }
        }
        cache.lookup(kid)
    }
}

impl<S: fmt::Debug> fmt::Debug for JwtVerifier<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("config", &self.config)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Decode the header without trusting it: RS256 and a `kid` are required
/// before any key is looked up. Returns the `kid`.
fn check_header(token: &str) -> Result<String, JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header = URL_SAFE_NO_PAD.decode(header).map_err(|_| JwtError::Malformed)?;
    let header: Map<String, Value> = serde_json::from_slice(&header).map_err(|_| JwtError::Malformed)?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "RS256" => {}
        _ => return Err(JwtError::UnsupportedAlgorithm),
    }
    match header.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => Ok(kid.clone()),
        None | Some(Value::Null) | Some(Value::String(_)) => Err(JwtError::MissingKid),
        Some(_) => Err(JwtError::Malformed),
    }
}

/// The RSA signing keys of `set` that have a `kid`, by `kid`. Keys for other
/// algorithms or uses are left out.
fn usable_keys(set: &JwkSet) -> HashMap<String, Arc<DecodingKey>> {
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.as_deref() else {
            continue;
        };
        let usable = matches!(jwk.algorithm, AlgorithmParameters::RSA(_))
            && matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256))
            && matches!(jwk.common.public_key_use, None | Some(PublicKeyUse::Signature));
        if !usable {
            tracing::debug!(kid, "JWKS key skipped: not an RS256 signing key");
            continue;
        }
        match DecodingKey::from_jwk(jwk) {
            Ok(key) => {
                keys.insert(kid.to_owned(), Arc::new(key));
            }
            Err(error) => tracing::warn!(kid, %error, "JWKS key skipped: unreadable"),
        }
    }
    keys
}

fn map_decode_error(error: jsonwebtoken::errors::Error) -> JwtError {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::InvalidSignature => JwtError::InvalidSignature,
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::ImmatureSignature => JwtError::NotYetValid,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::InvalidAlgorithmName => JwtError::UnsupportedAlgorithm,
        ErrorKind::MissingRequiredClaim(claim) | ErrorKind::InvalidClaimFormat(claim) => {
            JwtError::InvalidClaim(match claim.as_str() {
                "exp" => "exp",
                "nbf" => "nbf",
                "sub" => "sub",
                "iss" => "iss",
                "aud" => "aud",
                _ => "unknown",
            })
        }
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => JwtError::Malformed,
        // Key problems (e.g. an unusable modulus): the signature cannot be
        // verified with the published key.
        _ => {
            tracing::warn!(%error, "JWT could not be checked with the published key");
            JwtError::InvalidSignature
        }
    }
}

#[cfg(test)]
mod tests;
