//! The verified identity of a request: who is calling, for which tenant.
//!
//! Built only from the JWT authorizer's claims (`requestContext.authorizer.jwt`),
//! which API Gateway fills after verifying the token. Nothing the caller can
//! write (body, path, query, headers) is read here.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use std::collections::HashMap;

use crate::ids::{TenantId, UserId};

pub use crate::model::{PLATFORM_ADMIN_GROUP, TenantRole, TenantTier, TierLimits, TokenUse, claim};

/// Why a request has no usable tenant context.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    /// No verified token reached the function (no authorizer context, no `sub`).
    #[error("the request carries no verified identity")]
    Unauthenticated,
    /// A verified token that does not belong to any tenant.
    #[error("the token carries no {0} claim")]
    MissingClaim(&'static str),
    /// A claim is present but not well-formed.
    #[error("the token's {0} claim is malformed")]
    MalformedClaim(&'static str),
    /// A verified token without the platform-admin group, on a platform route.
    #[error("the caller is not a platform administrator")]
    NotPlatformAdmin,
}

/// Who is calling, for which tenant. The only source of a tenant id for data access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantContext {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: TenantRole,
    pub tier: TenantTier,
    pub token_use: TokenUse,
}

impl TenantContext {
    /// Reads the JWT authorizer claims of an HTTP API (payload 2.0) request.
    pub fn from_request(request: &ApiGatewayV2httpRequest) -> Result<Self, ClaimsError> {
        let claims = request
            .request_context
            .authorizer
            .as_ref()
            .and_then(|authorizer| authorizer.jwt.as_ref())
            .map(|jwt| &jwt.claims)
            .ok_or(ClaimsError::Unauthenticated)?;
        Self::from_claims(claims)
    }

    /// Reads already-verified claims.
    pub fn from_claims(claims: &HashMap<String, String>) -> Result<Self, ClaimsError> {
        let user_id = claims
            .get(claim::SUBJECT)
            .ok_or(ClaimsError::Unauthenticated)
            .and_then(|sub| UserId::parse(sub).map_err(|_| ClaimsError::Unauthenticated))?;
        Ok(Self {
            user_id,
            token_use: parse_claim(claims, claim::TOKEN_USE, |v| v.parse().ok())?,
            tenant_id: parse_claim(claims, claim::TENANT_ID, |v| TenantId::parse(v).ok())?,
            role: parse_claim(claims, claim::TENANT_ROLE, |v| v.parse().ok())?,
            tier: parse_claim(claims, claim::TENANT_TIER, |v| v.parse().ok())?,
        })
    }

    /// True when the caller administers its tenant.
    pub fn is_admin(&self) -> bool {
        self.role == TenantRole::Admin
    }
}

/// An operator of the SaaS (member of the `platform-admin` Cognito group).
/// Platform routes take this instead of a [`TenantContext`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformAdmin {
    pub user_id: UserId,
}

impl PlatformAdmin {
    /// Reads the JWT authorizer claims; refuses callers outside the group.
    pub fn from_request(request: &ApiGatewayV2httpRequest) -> Result<Self, ClaimsError> {
        let claims = request
            .request_context
            .authorizer
            .as_ref()
            .and_then(|authorizer| authorizer.jwt.as_ref())
            .map(|jwt| &jwt.claims)
            .ok_or(ClaimsError::Unauthenticated)?;
        let user_id = claims
            .get(claim::SUBJECT)
            .and_then(|sub| UserId::parse(sub).ok())
            .ok_or(ClaimsError::Unauthenticated)?;
        let groups = claims.get(claim::GROUPS).map(|value| groups(value)).unwrap_or_default();
        if groups.contains(&PLATFORM_ADMIN_GROUP) {
            Ok(Self { user_id })
        } else {
            Err(ClaimsError::NotPlatformAdmin)
        }
    }
}

/// The groups of a `cognito:groups` claim as API Gateway passes it: a JSON
/// array, or API Gateway's rendering of an array claim, `[a b]`.
fn groups(value: &str) -> Vec<&str> {
    let inner = value.trim().trim_start_matches('[').trim_end_matches(']');
    inner
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|group| group.trim_matches('"'))
        .filter(|group| !group.is_empty())
        .collect()
}

fn parse_claim<T>(
    claims: &HashMap<String, String>,
    name: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, ClaimsError> {
    let value = claims.get(name).ok_or(ClaimsError::MissingClaim(name))?;
    parse(value).ok_or(ClaimsError::MalformedClaim(name))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use aws_lambda_events::apigw::{ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription};

    pub const TENANT: &str = "0190b6d2-7c1e-7a3b-9f00-1234567890ab";
    pub const USER: &str = "6f1c2b9e-1d2a-4c3b-8e4f-5a6b7c8d9e0f";

    pub fn claims() -> HashMap<String, String> {
        [
            ("sub", USER),
            ("token_use", "access"),
            ("tenant_id", TENANT),
            ("tenant_role", "admin"),
            ("tenant_tier", "pro"),
            ("client_id", "abc"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    pub fn request_with(claims: Option<HashMap<String, String>>) -> ApiGatewayV2httpRequest {
        let mut request = ApiGatewayV2httpRequest::default();
        if let Some(claims) = claims {
            let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
            jwt.claims = claims;
            let mut authorizer = ApiGatewayRequestAuthorizer::default();
            authorizer.jwt = Some(jwt);
            request.request_context.authorizer = Some(authorizer);
        }
        request
    }

    #[test]
    fn builds_the_context_from_authorizer_claims() {
        let context = TenantContext::from_request(&request_with(Some(claims()))).expect("context");
        assert_eq!(context.tenant_id.to_string(), TENANT);
        assert_eq!(context.user_id.to_string(), USER);
        assert_eq!(context.role, TenantRole::Admin);
        assert_eq!(context.tier, TenantTier::Pro);
        assert_eq!(context.token_use, TokenUse::Access);
        assert!(context.is_admin());
    }

    #[test]
    fn no_authorizer_context_is_unauthenticated() {
        assert_eq!(
            TenantContext::from_request(&request_with(None)),
            Err(ClaimsError::Unauthenticated)
        );
    }

    #[test]
    fn missing_or_malformed_subject_is_unauthenticated() {
        let mut without_sub = claims();
        without_sub.remove("sub");
        assert_eq!(
            TenantContext::from_claims(&without_sub),
            Err(ClaimsError::Unauthenticated)
        );
        let mut bad_sub = claims();
        bad_sub.insert("sub".into(), "root".into());
        assert_eq!(TenantContext::from_claims(&bad_sub), Err(ClaimsError::Unauthenticated));
    }

    #[test]
    fn each_missing_tenant_claim_is_named() {
        for name in ["tenant_id", "tenant_role", "tenant_tier", "token_use"] {
            let mut partial = claims();
            partial.remove(name);
            assert_eq!(
                TenantContext::from_claims(&partial),
                Err(ClaimsError::MissingClaim(match name {
                    "tenant_id" => claim::TENANT_ID,
                    "tenant_role" => claim::TENANT_ROLE,
                    "tenant_tier" => claim::TENANT_TIER,
                    _ => claim::TOKEN_USE,
                }))
            );
        }
    }

    #[test]
    fn platform_admins_are_recognised_by_their_group_only() {
        let mut admin = claims();
        for rendering in [
            "[platform-admin]",
            "[readers platform-admin]",
            r#"["readers","platform-admin"]"#,
        ] {
            admin.insert("cognito:groups".into(), rendering.into());
            let caller = PlatformAdmin::from_request(&request_with(Some(admin.clone()))).expect(rendering);
            assert_eq!(caller.user_id.to_string(), USER);
        }
        for rendering in ["[readers]", "platform-admins", "[platform-administrator]", ""] {
            admin.insert("cognito:groups".into(), rendering.into());
            assert_eq!(
                PlatformAdmin::from_request(&request_with(Some(admin.clone()))),
                Err(ClaimsError::NotPlatformAdmin),
                "{rendering}"
            );
        }
        assert_eq!(
            PlatformAdmin::from_request(&request_with(Some(claims()))),
            Err(ClaimsError::NotPlatformAdmin)
        );
        assert_eq!(
            PlatformAdmin::from_request(&request_with(None)),
            Err(ClaimsError::Unauthenticated)
        );
    }

    #[test]
    fn higher_tiers_allow_more() {
        let (free, pro, enterprise) = (
            TenantTier::Free.limits(),
            TenantTier::Pro.limits(),
            TenantTier::Enterprise.limits(),
        );
        assert!(free.max_users < pro.max_users && pro.max_users < enterprise.max_users);
        assert!(free.max_notes < pro.max_notes && pro.max_notes < enterprise.max_notes);
    }

    #[test]
    fn malformed_claims_are_refused() {
        for (name, value) in [
            ("tenant_id", "other-tenant"),
            ("tenant_id", "0190B6D2-7C1E-7A3B-9F00-1234567890AB"),
            ("tenant_id", "0190b6d2-7c1e-7a3b-9f00-1234567890ab\" OR 1=1"),
            ("tenant_role", "owner"),
            ("tenant_role", "Admin"),
            ("tenant_tier", "gold"),
            ("token_use", "refresh"),
        ] {
            let mut bad = claims();
            bad.insert(name.into(), value.into());
            assert!(
                matches!(TenantContext::from_claims(&bad), Err(ClaimsError::MalformedClaim(n)) if n == name),
                "{name}={value} should be malformed"
            );
        }
    }
}
