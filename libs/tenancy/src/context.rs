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

/// Who is calling, as the verified token says: the user, and the tenant the
/// token names. The only source of a tenant id for data access. Identity
/// only: what the caller may do comes from the records
/// ([`crate::authority::Authority`] turns a `Caller` into a [`TenantContext`]).
/// The token's `tenant_role` and `tenant_tier` claims are not read: they are
/// as old as the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Caller {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub token_use: TokenUse,
}

impl Caller {
    /// Reads the JWT authorizer claims of an HTTP API (payload 2.0) request.
    pub fn from_request(request: &ApiGatewayV2httpRequest) -> Result<Self, ClaimsError> {
        Self::from_claims(authorizer_claims(request)?)
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
        })
    }
}

/// A caller with its current authority: the role from its membership, the
/// tier from its tenant's record, both active when this was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantContext {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: TenantRole,
    pub tier: TenantTier,
    pub token_use: TokenUse,
}

impl TenantContext {
    /// `caller` with the role and tier its records give it.
    pub fn new(caller: &Caller, role: TenantRole, tier: TenantTier) -> Self {
        Self { tenant_id: caller.tenant_id, user_id: caller.user_id, role, tier, token_use: caller.token_use }
    }

    /// True when the caller administers its tenant.
    pub fn is_admin(&self) -> bool {
        self.role == TenantRole::Admin
    }
}

/// A caller whose token says it is an operator of the SaaS (member of the
/// `platform-admin` Cognito group). The claim is as old as the token: the
/// tenants service checks the group membership as it is now before acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformAdmin {
    pub user_id: UserId,
    /// The Cognito user name, to look the user up.
    pub username: String,
}

impl PlatformAdmin {
    /// Reads the JWT authorizer claims; refuses callers outside the group.
    pub fn from_request(request: &ApiGatewayV2httpRequest) -> Result<Self, ClaimsError> {
        let claims = authorizer_claims(request)?;
        let user_id =
            claims.get(claim::SUBJECT).and_then(|sub| UserId::parse(sub).ok()).ok_or(ClaimsError::Unauthenticated)?;
        let groups = claims.get(claim::GROUPS).map(|value| groups(value)).unwrap_or_default();
        if !groups.contains(&PLATFORM_ADMIN_GROUP) {
            return Err(ClaimsError::NotPlatformAdmin);
        }
        let username = claims
            .get(claim::USERNAME)
            .or_else(|| claims.get(claim::ID_TOKEN_USERNAME))
            .filter(|name| !name.is_empty())
            .ok_or(ClaimsError::Unauthenticated)?
            .clone();
        Ok(Self { user_id, username })
    }
}

/// The claims API Gateway's JWT authorizer verified, if any.
fn authorizer_claims(request: &ApiGatewayV2httpRequest) -> Result<&HashMap<String, String>, ClaimsError> {
    request
        .request_context
        .authorizer
        .as_ref()
        .and_then(|authorizer| authorizer.jwt.as_ref())
        .map(|jwt| &jwt.claims)
        .ok_or(ClaimsError::Unauthenticated)
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
            ("username", "ops@example.com"),
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
    fn builds_the_caller_from_authorizer_claims() {
        let caller = Caller::from_request(&request_with(Some(claims()))).expect("caller");
        assert_eq!(caller.tenant_id.to_string(), TENANT);
        assert_eq!(caller.user_id.to_string(), USER);
        assert_eq!(caller.token_use, TokenUse::Access);
        let context = TenantContext::new(&caller, TenantRole::Member, TenantTier::Free);
        assert_eq!((context.tenant_id, context.user_id), (caller.tenant_id, caller.user_id));
        assert_eq!((context.role, context.tier), (TenantRole::Member, TenantTier::Free));
        assert!(!context.is_admin());
        assert!(TenantContext::new(&caller, TenantRole::Admin, TenantTier::Free).is_admin());
    }

    #[test]
    fn no_authorizer_context_is_unauthenticated() {
        assert_eq!(Caller::from_request(&request_with(None)), Err(ClaimsError::Unauthenticated));
    }

    #[test]
    fn missing_or_malformed_subject_is_unauthenticated() {
        let mut without_sub = claims();
        without_sub.remove("sub");
        assert_eq!(Caller::from_claims(&without_sub), Err(ClaimsError::Unauthenticated));
        let mut bad_sub = claims();
        bad_sub.insert("sub".into(), "root".into());
        assert_eq!(Caller::from_claims(&bad_sub), Err(ClaimsError::Unauthenticated));
    }

    #[test]
    fn each_missing_identity_claim_is_named() {
        for (name, expected) in [("tenant_id", claim::TENANT_ID), ("token_use", claim::TOKEN_USE)] {
            let mut partial = claims();
            partial.remove(name);
            assert_eq!(Caller::from_claims(&partial), Err(ClaimsError::MissingClaim(expected)));
        }
    }

    #[test]
    fn role_and_tier_claims_are_not_read() {
        // They are as old as the token; the records decide (authority.rs).
        let expected = Caller::from_claims(&claims()).expect("caller");
        let mut other = claims();
        other.insert("tenant_role".into(), "owner".into());
        other.remove("tenant_tier");
        assert_eq!(Caller::from_claims(&other), Ok(expected));
    }

    #[test]
    fn platform_admins_are_recognised_by_their_group_only() {
        let mut admin = claims();
        for rendering in ["[platform-admin]", "[readers platform-admin]", r#"["readers","platform-admin"]"#] {
            admin.insert("cognito:groups".into(), rendering.into());
            let caller = PlatformAdmin::from_request(&request_with(Some(admin.clone()))).expect(rendering);
            assert_eq!(caller.user_id.to_string(), USER);
            assert_eq!(caller.username, "ops@example.com");
        }
        for rendering in ["[readers]", "platform-admins", "[platform-administrator]", ""] {
            admin.insert("cognito:groups".into(), rendering.into());
            assert_eq!(
                PlatformAdmin::from_request(&request_with(Some(admin.clone()))),
                Err(ClaimsError::NotPlatformAdmin),
                "{rendering}"
            );
        }
        assert_eq!(PlatformAdmin::from_request(&request_with(Some(claims()))), Err(ClaimsError::NotPlatformAdmin));
        assert_eq!(PlatformAdmin::from_request(&request_with(None)), Err(ClaimsError::Unauthenticated));
        // The user name is needed to check the group as it is now.
        admin.insert("cognito:groups".into(), "[platform-admin]".into());
        admin.remove("username");
        assert_eq!(PlatformAdmin::from_request(&request_with(Some(admin.clone()))), Err(ClaimsError::Unauthenticated));
        admin.insert("cognito:username".into(), "ops@example.com".into());
        assert!(PlatformAdmin::from_request(&request_with(Some(admin))).is_ok());
    }

    #[test]
    fn higher_tiers_allow_more() {
        let (free, pro, enterprise) =
            (TenantTier::Free.limits(), TenantTier::Pro.limits(), TenantTier::Enterprise.limits());
        assert!(free.max_users < pro.max_users && pro.max_users < enterprise.max_users);
        assert!(free.max_notes < pro.max_notes && pro.max_notes < enterprise.max_notes);
    }

    #[test]
    fn malformed_claims_are_refused() {
        for (name, value) in [
            ("tenant_id", "other-tenant"),
            ("tenant_id", "0190B6D2-7C1E-7A3B-9F00-1234567890AB"),
            ("tenant_id", "0190b6d2-7c1e-7a3b-9f00-1234567890ab\" OR 1=1"),
            ("token_use", "refresh"),
        ] {
            let mut bad = claims();
            bad.insert(name.into(), value.into());
            assert!(
                matches!(Caller::from_claims(&bad), Err(ClaimsError::MalformedClaim(n)) if n == name),
                "{name}={value} should be malformed"
            );
        }
    }
}
