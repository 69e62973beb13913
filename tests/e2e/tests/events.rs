//! Lifecycle events through the stack: each change of a tenant's life and
//! of its memberships is one event on the platform's bus, in order, with the
//! documented shape. Read from the lifecycle-events queue the bus feeds, each
//! checked against libs/tenancy/events.schema.json (`Stack::lifecycle_events`).

use std::time::Duration;

use e2e::Stack;
use tenancy::events::Change;
use tenancy::{TenantRole, TenantTier};

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn each_change_of_a_tenant_and_its_members_is_one_event_in_order() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Evented", TenantTier::Free).await;
    let users = &tenant.admin.users;
    let domain = format!("{}.example.com", tenant.tenant.slug);
    let bob = stack.invite(&tenant.admin, "bob", &domain, TenantRole::Member).await.expect("bob").user;
    users.change_role(bob.user_id, TenantRole::Admin).await.expect("promote");
    users.disable(bob.user_id).await.expect("disable");
    users.enable(bob.user_id).await.expect("enable");
    users.remove(bob.user_id).await.expect("remove");
    let operator = stack.platform_admin().await.expect("operator");
    operator.tenants.suspend(tenant.id()).await.expect("suspend");
    operator.tenants.suspend(tenant.id()).await.expect("suspend again: no change");
    operator.tenants.reactivate(tenant.id()).await.expect("reactivate");
    operator.tenants.change_tier(tenant.id(), TenantTier::Pro).await.expect("tier");
    let current = tenant.admin.tenants.current().await.expect("the tenant");
    tenant.admin.tenants.rename(&current, "Renamed").await.expect("a rename: no event");

    let expected = [
        Change::Registered,
        Change::Activated,
        Change::UserInvited,
        Change::UserRoleChanged,
        Change::UserDisabled,
        Change::UserEnabled,
        Change::UserRemoved,
        Change::Suspended,
        Change::Reactivated,
        Change::TierChanged,
    ];
    let events = stack.lifecycle_events(tenant.id(), expected.len(), Duration::from_secs(20)).await.expect("events");
    assert_eq!(events.iter().map(|e| e.change).collect::<Vec<_>>(), expected);
    // Nothing more arrives for it.
    let more = stack.lifecycle_events(tenant.id(), 1, Duration::from_secs(2)).await.expect("events");
    assert!(more.is_empty(), "{more:?}");

    assert_eq!(events[0].actor.as_ref().map(|a| a.user_id), Some(tenant.admin_user_id));
    assert!(events.iter().all(|e| e.request_id.is_some()));
    let (membership, tenant_changes) = events[2..].split_at(5);
    assert!(membership.iter().all(|e| e.user.map(|u| u.user_id) == Some(bob.user_id)), "{membership:?}");
    assert!(membership.iter().all(|e| e.actor.as_ref().map(|a| a.user_id) == Some(tenant.admin_user_id)));
    assert!(tenant_changes.iter().all(|e| e.actor.as_ref().map(|a| a.user_id) == Some(operator_id(&operator))));
    let versions: Vec<u64> = events.iter().filter_map(|e| e.tenant.map(|t| t.version)).collect();
    assert!(versions.windows(2).all(|pair| pair[0] <= pair[1]), "{versions:?}");
}

fn operator_id(operator: &e2e::Member) -> tenancy::UserId {
    let sub = operator.tokens.sub().expect("the operator's sub");
    tenancy::UserId::parse(&sub).expect("a user id")
}
