//! The audit trail through the gateway: every change of a tenant, by its
//! members and by platform admins, lands in that tenant's trail (written by
//! the functions through the tenant role into the audit table); its admins
//! read it, its members and other tenants cannot.

use e2e::{Refused as _, Stack};
use futures_util::TryStreamExt as _;
use notes_client::CreateNote;
use tenancy::{TenantRole, TenantTier};
use tenants_client::{ActorRole, AuditEntry, AuditFilter};

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn each_change_is_in_its_tenants_trail_with_actor_target_and_outcome() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Audited", TenantTier::Pro).await;
    let admin = &tenant.admin;
    let domain = format!("{}.example.com", tenant.tenant.slug);

    let bob = stack.invite(admin, "bob", &domain, TenantRole::Member).await.expect("bob");
    let note = bob.member.notes.create(&CreateNote { title: "hello".into(), body: String::new() }).await.expect("note");
    bob.member.tenants.rename(&tenant.tenant, "Not yours").await.refused(403, "forbidden").expect("403");
    admin.users.change_role(bob.user.user_id, TenantRole::Admin).await.expect("promote");
    let operator = stack.platform_admin().await.expect("operator");
    operator.tenants.change_tier(tenant.id(), TenantTier::Enterprise).await.expect("tier");

    let filter = AuditFilter::default();
    let trail: Vec<AuditEntry> = admin.tenants.audit(&filter, Some(2)).try_collect().await.expect("trail");
    let mut oldest_first: Vec<_> =
        trail.iter().map(|e| (e.actor.role, e.action.as_str(), e.target.clone(), e.outcome)).collect();
    oldest_first.reverse();
    let (bob_id, tenant_id) = (Some(bob.user.user_id.to_string()), Some(tenant.id().to_string()));
    assert_eq!(
        oldest_first,
        [
            (ActorRole::Admin, "POST /tenants", None, 201),
            (ActorRole::Admin, "POST /users", bob_id.clone(), 201),
            (ActorRole::Member, "POST /notes", Some(note.id.to_string()), 201),
            (ActorRole::Member, "PUT /tenant", None, 403),
            (ActorRole::Admin, "PUT /users/{user_id}/role", bob_id, 200),
            (ActorRole::PlatformAdmin, "PUT /admin/tenants/{tenant_id}/tier", tenant_id, 200),
        ]
    );
    assert!(trail.windows(2).all(|pair| pair[0].at >= pair[1].at), "newest first");
    assert!(trail.iter().all(|e| !e.request_id.is_empty()));
    let by_bob = AuditFilter { actor: Some(bob.user.user_id), ..AuditFilter::default() };
    let bobs: Vec<AuditEntry> = admin.tenants.audit(&by_bob, None).try_collect().await.expect("bob's");
    assert_eq!(bobs.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["PUT /tenant", "POST /notes"]);

    // Only the tenant's admins read it, and only their own tenant's.
    let carol = stack.invite(admin, "carol", &domain, TenantRole::Member).await.expect("carol");
    carol.member.tenants.audit_page(&filter, None, None).await.refused(403, "forbidden").expect("member");
    let other = stack.tenant("Elsewhere", TenantTier::Free).await;
    let theirs: Vec<AuditEntry> = other.admin.tenants.audit(&filter, None).try_collect().await.expect("theirs");
    assert_eq!(theirs.len(), 1, "only its own registration: {theirs:?}");
    assert_eq!(theirs[0].actor.user_id, other.admin_user_id);
    // No route changes an entry.
    for method in [reqwest::Method::PUT, reqwest::Method::DELETE, reqwest::Method::POST] {
        let reply = admin.api.send(method, "/audit", None).await.expect("send");
        assert!(matches!(reply.status, 404 | 405), "{} {}", reply.request, reply.status);
    }
}
