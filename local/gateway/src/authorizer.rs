//! The HTTP API's JWT authorizer: the bearer token must be signed by the
//! issuer's key, carry the issuer and one of the audiences, and not be
//! expired; otherwise 401 and the function is not invoked.

use std::collections::HashMap;
use std::sync::Arc;

use crate::jwt::{HttpJwksSource, JwksSource, JwtError, JwtVerifier, JwtVerifierConfig, TokenUseRule};
use http::HeaderMap;
use jsonwebtoken::jwk::JwkSet;
use serde_json::{Map, Value};

/// Where an authorizer gets its issuer's keys.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Keys held in memory: the gateway's own (it is the issuer).
    Static(Arc<JwkSet>),
    /// A JWKS fetched over HTTP.
    Http(HttpJwksSource),
}

impl JwksSource for KeySource {
    async fn fetch(&self) -> Result<JwkSet, JwtError> {
        match self {
            Self::Static(set) => Ok(set.as_ref().clone()),
            Self::Http(source) => source.fetch().await,
        }
    }
}

/// A JWT authorizer as deployed (`jwt_configuration`).
#[derive(Debug)]
pub struct JwtAuthorizer {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    /// Header holding the token (from `$request.header.Authorization`).
    pub identity_header: String,
    /// One verifier per audience (the verifier checks one client id).
    verifiers: Vec<JwtVerifier<KeySource>>,
}

/// The authorizer's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Claims as API Gateway renders them, and the access token's scopes.
    Allow { claims: HashMap<String, String>, scopes: Option<Vec<String>> },
    /// 401, with this `www-authenticate` value.
    Deny { www_authenticate: String },
}

impl JwtAuthorizer {
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        issuer: impl Into<String>,
        audiences: Vec<String>,
        identity_sources: &[String],
        keys: KeySource,
    ) -> Result<Self, JwtError> {
        let issuer = issuer.into();
        let verifiers = audiences
            .iter()
            .map(|audience| {
                let config = JwtVerifierConfig::new(issuer.clone(), "", audience.clone(), TokenUseRule::Both);
                JwtVerifier::with_source(config, keys.clone())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let identity_header = identity_sources
            .iter()
            .find_map(|s| s.strip_prefix("$request.header."))
            .unwrap_or("Authorization")
            .to_ascii_lowercase();
        Ok(Self { id: id.into(), name: name.into(), issuer, audiences, identity_header, verifiers })
    }

    /// Checks the request's token.
    pub async fn authorize(&self, headers: &HeaderMap) -> Decision {
        let Some(token) = headers
            .get(self.identity_header.as_str())
            .and_then(|v| v.to_str().ok())
            .map(strip_bearer)
            .filter(|t| !t.is_empty())
        else {
            return Decision::Deny { www_authenticate: "Bearer".to_owned() };
        };
        let mut first_error = None;
        for verifier in &self.verifiers {
            match verifier.verify(token).await {
                Ok(verified) => {
                    return Decision::Allow {
                        scopes: scopes(&verified.claims),
                        claims: render_claims(&verified.claims),
                    };
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        let description = first_error.map_or_else(|| "no audience configured".to_owned(), |e| e.to_string());
        tracing::info!(authorizer = %self.name, reason = %description, "request unauthorized");
        Decision::Deny {
            www_authenticate: format!(
                "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{}\"",
                description.replace('"', "'")
            ),
        }
    }
}

/// `Bearer xyz` or `xyz` (API Gateway accepts both).
fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    }
}

/// Claims as API Gateway hands them to the function: every value a string;
/// numbers and booleans as text, arrays as `[a b c]`, objects as JSON.
pub fn render_claims(claims: &Map<String, Value>) -> HashMap<String, String> {
    claims.iter().map(|(name, value)| (name.clone(), render_value(value))).collect()
}

fn render_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(render_value).collect::<Vec<_>>().join(" ")),
        other => other.to_string(),
    }
}

/// The access token's `scope` claim, split; `None` for ID tokens.
pub fn scopes(claims: &Map<String, Value>) -> Option<Vec<String>> {
    claims.get("scope").and_then(Value::as_str).map(|s| s.split_whitespace().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn claims_are_rendered_like_api_gateway() {
        let claims = json!({
            "sub": "u1",
            "exp": 1_700_000_000_u64,
            "ratio": 1.5,
            "email_verified": true,
            "cognito:groups": ["admin", "users"],
            "nested": {"a": 1},
        });
        let rendered = render_claims(claims.as_object().expect("object"));
        assert_eq!(rendered["sub"], "u1");
        assert_eq!(rendered["exp"], "1700000000");
        assert_eq!(rendered["ratio"], "1.5");
        assert_eq!(rendered["email_verified"], "true");
        assert_eq!(rendered["cognito:groups"], "[admin users]");
        assert_eq!(rendered["nested"], "{\"a\":1}");
    }

    #[test]
    fn scopes_come_from_the_scope_claim() {
        let access = json!({"scope": "openid aws.cognito.signin.user.admin"});
        assert_eq!(
            scopes(access.as_object().expect("object")),
            Some(vec!["openid".to_owned(), "aws.cognito.signin.user.admin".to_owned()])
        );
        assert_eq!(scopes(json!({}).as_object().expect("object")), None);
    }

    #[test]
    fn bearer_prefix_is_optional() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer  abc "), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
    }
}
