//! The JSON problem body (RFC 9457 `application/problem+json`) every error
//! response carries, shared by the services and their clients.

use serde::{Deserialize, Serialize};

/// The JSON problem body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// A URI naming the kind of problem, stable for clients to match on.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(example = "urn:problem:not-found"))]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request id, for support and log correlation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Prefix of every problem `type`.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:problem:";
