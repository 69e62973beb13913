//! What a call can fail with. Every answer the API gives with a status of 400
//! or more carries a [`Problem`]: the services write RFC 9457 problem bodies,
//! and anything else (API Gateway's own `{"message": ...}`) is turned into one
//! here, so a caller always has a status, a kind and a detail to show.

use std::time::Duration;

use tenancy::Problem;
use tenancy::problem::PROBLEM_TYPE_PREFIX;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400, 413, 415 and any other 4xx without its own variant: the request
    /// itself is wrong; repeating it will not help.
    #[error("{}", describe(.0))]
    BadRequest(Problem),
    /// 401: no valid token (missing, expired, forged, wrong audience).
    #[error("{}", describe(.0))]
    Unauthorized(Problem),
    /// 403: a valid token without the right (not an admin, not a member of a
    /// tenant, not a platform admin, or a tier limit: see
    /// [`Error::is_limit_exceeded`]).
    #[error("{}", describe(.0))]
    Forbidden(Problem),
    /// 404: no such resource in the caller's tenant (another tenant's ids are
    /// indistinguishable from missing ones).
    #[error("{}", describe(.0))]
    NotFound(Problem),
    /// 409: a stale version, or a name already taken.
    #[error("{}", describe(.0))]
    Conflict(Problem),
    /// 429: slow down; retried automatically for idempotent calls.
    #[error("{}", describe(.problem))]
    TooManyRequests {
        problem: Problem,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// 5xx: the service or a dependency failed; retried automatically for
    /// idempotent calls.
    #[error("{}", describe(.0))]
    Server(Problem),
    /// The request did not complete: connection refused, reset, or timed out.
    #[error("cannot reach {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx answer whose body is not what the API documents.
    #[error("unexpected answer from {url} (HTTP {status}): {message}")]
    UnexpectedResponse { url: String, status: u16, message: String },
    /// Cognito refused: a wrong password or code, a refused account
    /// (disabled, suspended tenant), a challenge this client does not answer.
    #[error("sign-in failed: {0}")]
    SignIn(String),
    /// The session's refresh token no longer works (signed out, revoked when
    /// access ended, or expired): sign in again.
    #[error("the session has ended")]
    SessionEnded,
    /// The account's password was reset: choose a new one with the code
    /// sent by email (`ConfirmForgotPassword`) before signing in.
    #[error("a password reset is required before signing in")]
    PasswordResetRequired,
    /// Cognito could not be reached, timed out or failed: nothing was decided
    /// about the credentials; try again later.
    #[error("cannot sign in: {0}")]
    SignInUnavailable(String),
    /// The client was given an unusable setting (endpoint URL, token).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn describe(problem: &Problem) -> String {
    format!("{} (HTTP {}): {}", problem.title, problem.status, problem.detail)
}

impl Error {
    /// The error for a non-2xx answer with `body`.
    pub(crate) fn from_status(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        let problem = problem_from_body(status, body);
        match status {
            401 => Self::Unauthorized(problem),
            403 => Self::Forbidden(problem),
            404 => Self::NotFound(problem),
            409 => Self::Conflict(problem),
            429 => Self::TooManyRequests { problem, retry_after },
            500..=599 => Self::Server(problem),
            _ => Self::BadRequest(problem),
        }
    }

    /// The problem body of an HTTP error answer.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Self::BadRequest(problem)
            | Self::Unauthorized(problem)
            | Self::Forbidden(problem)
            | Self::NotFound(problem)
            | Self::Conflict(problem)
            | Self::Server(problem)
            | Self::TooManyRequests { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::UnexpectedResponse { status, .. } => Some(*status),
            other => other.problem().map(|problem| problem.status),
        }
    }

    /// A 403 because the tenant's tier allows no more of something.
    pub fn is_limit_exceeded(&self) -> bool {
        matches!(self, Self::Forbidden(problem) if problem.kind == format!("{PROBLEM_TYPE_PREFIX}limit-exceeded"))
    }

    /// Whether repeating the same idempotent call may succeed: 429, 5xx other
    /// than 501, and requests that never completed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::TooManyRequests { .. } | Self::Transport { .. } => true,
            Self::Server(problem) => problem.status != 501,
            _ => false,
        }
    }

    /// How long the server asked us to wait, if it did.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::TooManyRequests { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The problem body of an error answer; other bodies (API Gateway's
/// `{"message": "..."}`, HTML from a proxy, nothing) become a problem of kind
/// `about:blank` with what could be read from them.
fn problem_from_body(status: u16, body: &[u8]) -> Problem {
    if let Ok(problem) = serde_json::from_slice::<Problem>(body) {
        return problem;
    }
    let title = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
        .unwrap_or("Error")
        .to_owned();
    let detail = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() { title.clone() } else { text.chars().take(200).collect() }
        });
    Problem { kind: "about:blank".to_owned(), title, status, detail, request_id: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_their_variants() {
        let problem = br#"{"type":"urn:problem:conflict","title":"Conflict","status":409,"detail":"stale"}"#;
        assert!(matches!(Error::from_status(409, problem, None), Error::Conflict(p) if p.detail == "stale"));
        assert!(matches!(Error::from_status(401, b"", None), Error::Unauthorized(_)));
        assert!(matches!(Error::from_status(403, b"", None), Error::Forbidden(_)));
        assert!(matches!(Error::from_status(404, b"", None), Error::NotFound(_)));
        assert!(matches!(Error::from_status(413, b"", None), Error::BadRequest(_)));
        assert!(matches!(Error::from_status(503, b"", None), Error::Server(_)));
        let throttled = Error::from_status(429, b"", Some(Duration::from_secs(2)));
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(2)));
        assert!(throttled.is_transient());
        assert!(!Error::from_status(409, b"", None).is_transient());
        assert!(!Error::from_status(501, b"", None).is_transient());
    }

    #[test]
    fn gateway_bodies_become_problems() {
        let error = Error::from_status(401, br#"{"message":"Unauthorized"}"#, None);
        let problem = error.problem().expect("problem");
        assert_eq!((problem.kind.as_str(), problem.status), ("about:blank", 401));
        assert_eq!(problem.detail, "Unauthorized");
        assert_eq!(error.to_string(), "Unauthorized (HTTP 401): Unauthorized");
        let empty = Error::from_status(502, b"", None);
        assert_eq!(empty.problem().map(|p| p.detail.as_str()), Some("Bad Gateway"));
    }

    #[test]
    fn limit_exceeded_is_a_forbidden_of_its_own_kind() {
        let body = br#"{"type":"urn:problem:limit-exceeded","title":"Forbidden","status":403,"detail":"tier"}"#;
        assert!(Error::from_status(403, body, None).is_limit_exceeded());
        assert!(!Error::from_status(403, b"", None).is_limit_exceeded());
    }
}
