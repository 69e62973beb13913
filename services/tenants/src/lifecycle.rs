//! The lifecycle events of a tenant's record: which changes a write makes,
//! as events for the outbox (see `tenancy::events`).

use tenancy::events::{Cause, Change, LifecycleEvent, TenantFacts, events_of};

use crate::domain::{Tenant, TenantStatus};

/// The events of `changes` to `tenant`, with the tenant as the write leaves it.
pub fn tenant_events(changes: &[Change], tenant: &Tenant, cause: &Cause) -> Vec<LifecycleEvent> {
    let facts = TenantFacts { status: tenant.status, tier: tenant.tier, version: tenant.version };
    let events = events_of(changes, tenant.tenant_id, cause);
    events.into_iter().map(|event| LifecycleEvent { tenant: Some(facts), ..event }).collect()
}

/// The lifecycle changes from `before` to `after` (a rename is none).
pub fn changes_between(before: &Tenant, after: &Tenant) -> Vec<Change> {
    let mut changes = Vec::new();
    match (before.status, after.status) {
        (TenantStatus::Active, TenantStatus::Suspended) => changes.push(Change::Suspended),
        (TenantStatus::Suspended | TenantStatus::Offboarding, TenantStatus::Active) => {
            changes.push(Change::Reactivated);
        }
        (TenantStatus::Active | TenantStatus::Suspended, TenantStatus::Offboarding) => {
            changes.push(Change::OffboardingRequested);
        }
        (TenantStatus::Pending, TenantStatus::Active) => changes.push(Change::Activated),
        _ => {}
    }
    if before.tier != after.tier {
        changes.push(Change::TierChanged);
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Slug, TenantLifecycle, TenantName, now};
    use tenancy::{TenantId, TenantTier};

    #[test]
    fn each_status_or_tier_change_is_one_event_and_a_rename_is_none() {
        let name = TenantName::parse("Acme").expect("name");
        let active = Tenant::registered(
            TenantId::generate(),
            name.clone(),
            Slug::parse("acme").expect("slug"),
            TenantTier::Free,
            now(),
        );
        let suspended = active.suspend(now()).expect("suspend");
        let upgraded = Tenant { tier: TenantTier::Pro, ..active.clone() };
        assert_eq!(changes_between(&active, &suspended), [Change::Suspended]);
        assert_eq!(changes_between(&suspended, &active), [Change::Reactivated]);
        assert_eq!(changes_between(&active, &upgraded), [Change::TierChanged]);
        assert_eq!(changes_between(&active, &active.rename(name, now())), []);
        let events = tenant_events(&[Change::Suspended], &suspended, &Cause::default());
        assert_eq!(events[0].tenant.map(|t| (t.status, t.version)), Some((TenantStatus::Suspended, suspended.version)));
    }
}
