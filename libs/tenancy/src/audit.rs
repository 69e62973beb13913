//! The tenant's audit trail: one entry per state-changing request of the
//! tenant's members and of platform admins acting on the tenant: who acted
//! (user id and role as the records gave them), what (the route and its
//! target), when, the request id and the outcome (the HTTP status).
//!
//! Entries live in the tenant's partition of the audit table, written and
//! read through the tenant role like all tenant data, and only ever added:
//! no route changes or deletes one. Each expires after its tier's retention.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::UserId;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub user_id: UserId,
    pub role: ActorRole,
}

/// The actor's role when it acted: in the tenant, or as an operator of the SaaS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorRole {
    Admin,
    Member,
    PlatformAdmin,
}

/// One entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// When the request was answered.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The API request id (also in the response's problem bodies and the logs).
    pub request_id: String,
    pub actor: Actor,
    /// The route, as `METHOD /path/{param}`.
    pub action: String,
    /// What the action was on: the route's path parameter, or the id a create answered.
    pub target: Option<String>,
    /// The HTTP status of the answer.
    pub outcome: u16,
}

#[cfg(feature = "service")]
mod trail;
#[cfg(feature = "service")]
pub use trail::*;
