//! The lifecycle events of a membership: which changes a write makes, as
//! events for the outbox (see `tenancy::events`).

use tenancy::TenantId;
use tenancy::events::{Cause, Change, LifecycleEvent, UserFacts, events_of};

use crate::domain::{MembershipStatus, User};

/// The events of `changes` to `user` in `tenant`, with the member as the write leaves it.
pub fn user_events(changes: &[Change], tenant: TenantId, user: &User, cause: &Cause) -> Vec<LifecycleEvent> {
    let facts = UserFacts { user_id: user.user_id, role: user.role, status: user.status };
    let events = events_of(changes, tenant, cause);
    events.into_iter().map(|event| LifecycleEvent { user: Some(facts), ..event }).collect()
}

/// The lifecycle changes from `before` to `after`: a role change, a
/// disabling, an enabling, the start of a removal. A first sign-in is none.
pub fn changes_between(before: &User, after: &User) -> Vec<Change> {
    use MembershipStatus::{Active, Deleting, Disabled, Invited};
    let mut changes = Vec::new();
    if before.role != after.role {
        changes.push(Change::UserRoleChanged);
    }
    match (before.status, after.status) {
        (Active | Invited, Disabled) => changes.push(Change::UserDisabled),
        (Disabled, Active | Invited) => changes.push(Change::UserEnabled),
        (Active | Invited | Disabled, Deleting) => changes.push(Change::UserRemoved),
        _ => {}
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{TenantRole, new_membership, now};
    use tenancy::UserId;

    #[test]
    fn each_membership_change_is_one_event_and_a_first_sign_in_is_none() {
        let invited =
            new_membership(UserId::generate(), "a@b.co".into(), TenantRole::Member, MembershipStatus::Invited, now());
        let with = |role, status| User { role, status, ..invited.clone() };
        let active = with(TenantRole::Member, MembershipStatus::Active);
        assert_eq!(changes_between(&invited, &active), []);
        assert_eq!(
            changes_between(&active, &with(TenantRole::Admin, MembershipStatus::Active)),
            [Change::UserRoleChanged]
        );
        let disabled = with(TenantRole::Member, MembershipStatus::Disabled);
        assert_eq!(changes_between(&active, &disabled), [Change::UserDisabled]);
        assert_eq!(changes_between(&disabled, &active), [Change::UserEnabled]);
        assert_eq!(
            changes_between(&disabled, &with(TenantRole::Member, MembershipStatus::Deleting)),
            [Change::UserRemoved]
        );
        let events = user_events(&[Change::UserDisabled], TenantId::generate(), &disabled, &Cause::default());
        assert_eq!(events[0].user.map(|u| u.status), Some(MembershipStatus::Disabled));
    }
}
