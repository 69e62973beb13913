//! Offboarding's erasure as the services report it: each service removes its
//! own records of the tenant and counts them by kind; the tenants service
//! gathers the counts into the tenant's [`ErasureReceipt`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{TenantId, TenantStatus};

/// How many records of each kind (`notes`, `users`, `audit_entries`, ...).
pub type ItemCounts = BTreeMap<String, u64>;

/// Adds `kind` once to `counts`.
pub fn count_one(counts: &mut ItemCounts, kind: &str) {
    *counts.entry(kind.to_owned()).or_default() += 1;
}

/// One pass of a service's erasure: what it removed, and whether anything is
/// left (a pass stops at its time budget; the next pass goes on). On the
/// wire it is [`ErasureAnswer::Erased`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErasurePass {
    pub removed: ItemCounts,
    /// Nothing of the tenant is left in the service.
    pub finished: bool,
}

impl ErasurePass {
    /// Adds `other`'s counts; finished only if both are.
    pub fn and(mut self, other: Self) -> Self {
        for (kind, count) in other.removed {
            *self.removed.entry(kind).or_default() += count;
        }
        Self { removed: self.removed, finished: self.finished && other.finished }
    }
}

/// What the tenants service asks of each service while it offboards a tenant
/// (Lambda Invoke, `{"internal": <command>}`). Each service refuses (409)
/// unless the tenant's record says `offboarding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum ErasureCommand {
    /// Count the tenant's records, by kind, without changing anything.
    CountTenantData { tenant_id: TenantId },
    /// Remove the tenant's records, for as long as one pass may take.
    EraseTenantData { tenant_id: TenantId },
}

/// A service's answer to an [`ErasureCommand`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum ErasureAnswer {
    Counted {
        items: ItemCounts,
    },
    Erased {
        removed: ItemCounts,
        finished: bool,
    },
    /// Refused with an HTTP-style status (409: the tenant is not offboarding;
    /// 503: a dependency is down).
    Refused {
        status: u16,
        detail: String,
    },
}

impl From<ErasurePass> for ErasureAnswer {
    fn from(pass: ErasurePass) -> Self {
        Self::Erased { removed: pass.removed, finished: pass.finished }
    }
}

/// What offboarding erased: every record the tenant had when its erasure
/// began, per service and kind, counted before the first one was removed.
/// The erasure begins a settling time after offboarding does (the authority
/// window plus the longest request), so no request admitted before can
/// still write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ErasureReceipt {
    pub tenant_id: TenantId,
    /// `offboarding` until nothing is left, then `offboarded`.
    pub status: TenantStatus,
    /// When offboarding began: nobody of the tenant could sign in or call
    /// the API from then on.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// When the erasure began: once no request admitted before offboarding
    /// can still be running (absent until then; `removed` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When the last record was removed.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Per service (`notes`, `users`, `tenants`): how many records of each kind it removed.
    pub removed: BTreeMap<String, ItemCounts>,
}

/// How long one erasure pass of a service may run: well inside its
/// invoker's timeout, so a large tenant is erased over several passes.
pub const PASS_TIME: std::time::Duration = std::time::Duration::from_secs(3);

#[cfg(feature = "service")]
mod serve;
#[cfg(feature = "service")]
pub use serve::{TenantData, answer_erasure};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_add_up_and_finish_together() {
        let mut first = ErasurePass { finished: true, ..ErasurePass::default() };
        count_one(&mut first.removed, "notes");
        let mut second = ErasurePass::default();
        count_one(&mut second.removed, "notes");
        count_one(&mut second.removed, "counters");
        let both = first.clone().and(second);
        assert_eq!(both.removed, ItemCounts::from([("counters".into(), 1), ("notes".into(), 2)]));
        assert!(!both.finished, "the second pass left something");
        assert!(first.clone().and(first).finished);
    }
}
