//! The one error type every service answers with, and its JSON problem body
//! (RFC 9457 `application/problem+json`: `type`, `title`, `status`, `detail`).

use crate::context::ClaimsError;
pub use crate::problem::{PROBLEM_TYPE_PREFIX, Problem};
use http::StatusCode;

/// An error a client gets to see. `detail` is written for the client: never
/// put internal error text, tokens or credentials in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The caller's tenant is not active (suspended, pending, gone).
    #[error("tenant inactive: {0}")]
    TenantInactive(String),
    /// The caller is no longer an active member of the tenant.
    #[error("membership inactive: {0}")]
    MembershipInactive(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The tenant's tier does not allow more of something.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    #[error("payload too large: the limit is {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// Something is wrong on our side; the cause is logged, never returned.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::TenantInactive(_) | Self::MembershipInactive(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::LimitExceeded(_) => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Short, stable name of the problem kind.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::TenantInactive(_) => "tenant-inactive",
            Self::MembershipInactive(_) => "membership-inactive",
            Self::NotFound(_) => "not-found",
            Self::Conflict(_) => "conflict",
            Self::LimitExceeded(_) => "limit-exceeded",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::TooManyRequests(_) => "too-many-requests",
            Self::ServiceUnavailable(_) => "service-unavailable",
            Self::Internal => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest(detail)
            | Self::Unauthorized(detail)
            | Self::Forbidden(detail)
            | Self::TenantInactive(detail)
            | Self::MembershipInactive(detail)
            | Self::NotFound(detail)
            | Self::Conflict(detail)
            | Self::LimitExceeded(detail)
            | Self::UnsupportedMediaType(detail)
            | Self::TooManyRequests(detail)
            | Self::ServiceUnavailable(detail) => detail.clone(),
            Self::PayloadTooLarge { limit_bytes } => {
                format!("the request body exceeds the limit of {limit_bytes} bytes")
            }
            Self::Internal => "an internal error occurred; it has been logged".to_owned(),
        }
    }

    /// The problem body for this error.
    pub fn problem(&self, request_id: Option<&str>) -> Problem {
        let status = self.status();
        Problem {
            kind: format!("{PROBLEM_TYPE_PREFIX}{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            request_id: request_id.map(str::to_owned),
        }
    }
}

impl From<ClaimsError> for ApiError {
    fn from(error: ClaimsError) -> Self {
        match error {
            ClaimsError::Unauthenticated => Self::Unauthorized(error.to_string()),
            ClaimsError::MissingClaim(_) | ClaimsError::MalformedClaim(_) => {
                Self::Forbidden(format!("{error}: the caller is not a member of a tenant"))
            }
            ClaimsError::NotPlatformAdmin => Self::Forbidden(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_errors_map_to_401_and_403() {
        assert_eq!(ApiError::from(ClaimsError::Unauthenticated).status(), 401);
        assert_eq!(ApiError::from(ClaimsError::MissingClaim("tenant_id")).status(), 403);
        assert_eq!(ApiError::from(ClaimsError::MalformedClaim("tenant_id")).status(), 403);
    }

    #[test]
    fn problem_body_has_the_rfc_9457_members() {
        let problem = ApiError::Conflict("version 3 is stale".into()).problem(Some("req-1"));
        let json = serde_json::to_value(&problem).expect("serialize");
        assert_eq!(
            json,
            serde_json::json!({
                "type": "urn:problem:conflict",
                "title": "Conflict",
                "status": 409,
                "detail": "version 3 is stale",
                "request_id": "req-1",
            })
        );
    }

    #[test]
    fn internal_errors_reveal_nothing() {
        let problem = ApiError::Internal.problem(None);
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("dynamo"));
        assert!(problem.request_id.is_none());
    }
}
