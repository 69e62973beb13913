//! Every tenants route through the gateway: the tenant's own record (GET/PUT
//! /tenant), and the platform-admin routes (list, suspend, reactivate, tier),
//! with sign-in following the tenant's status.

use e2e::{Refused as _, SignInError, Stack, claim};
use futures_util::TryStreamExt as _;
use tenancy::{TenantId, TenantRole, TenantTier};
use tenants_client::{Tenant, TenantStatus, TenantsClient, UpdateTenant};

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_tenant_reads_and_renames_itself() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Selfie", TenantTier::Free).await;
    let admin = &tenant.admin.tenants;
    let domain = format!("{}.example.com", tenant.tenant.slug);

    let read = admin.current().await.expect("get");
    assert_eq!(read, tenant.tenant);

    let renamed = admin.rename(&read, "Selfie & Sons").await.expect("rename");
    assert_eq!(renamed.name.as_str(), "Selfie & Sons");
    assert_eq!(renamed.version, read.version + 1);
    assert_eq!((renamed.slug.clone(), renamed.tier), (read.slug.clone(), read.tier));

    // A stale version changes nothing.
    admin.rename(&read, "Lost update").await.refused(409, "conflict").expect("409");
    // Slug, tier and tenant id are not the tenant admin's to change.
    for field in [
        ("slug", serde_json::json!("other-slug")),
        ("tier", serde_json::json!("enterprise")),
        ("tenant_id", serde_json::json!(TenantId::generate().to_string())),
    ] {
        let mut body = serde_json::json!({"name": "x", "version": renamed.version});
        body[field.0] = field.1;
        tenant
            .admin
            .api
            .send(reqwest::Method::PUT, "/tenant", Some(body))
            .await
            .expect("update")
            .expect_problem(400, "bad-request")
            .unwrap_or_else(|e| panic!("{}: {e}", field.0));
    }
    let current = admin.current().await.expect("get");
    assert_eq!(current, renamed);

    // A member reads the tenant but cannot change it.
    let member = stack.invite(&tenant.admin, "member", &domain, TenantRole::Member).await.expect("member");
    let seen = member.member.tenants.current().await.expect("get");
    assert_eq!(seen, renamed);
    member
        .member
        .tenants
        .rename(&renamed, "Member was here")
        .await
        .refused(403, "forbidden")
        .expect("403 for a member");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn platform_admins_list_suspend_reactivate_and_change_tiers() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Managed", TenantTier::Free).await;
    let other = stack.tenant("Bystander", TenantTier::Free).await;
    let tenant_admin = &tenant.admin.tenants;

    // Tenant admins have no business on /admin.
    tenant_admin.list_page(None, None).await.refused(403, "forbidden").expect("list");
    for answer in [
        tenant_admin.suspend(other.id()).await,
        tenant_admin.reactivate(other.id()).await,
        tenant_admin.change_tier(tenant.id(), TenantTier::Enterprise).await,
    ] {
        answer.refused(403, "forbidden").expect("403 for a tenant admin");
    }

    let operator = stack.platform_admin().await.expect("platform admin");
    let groups = operator.tokens.access_claims().expect("claims");
    assert!(groups.get("cognito:groups").is_some_and(|g| g.to_string().contains("platform-admin")), "{groups:?}");
    let ops = &operator.tenants;

    // The list: every tenant, pages of one included.
    let all: Vec<Tenant> = ops.list(None).try_collect().await.expect("list");
    for t in [&tenant, &other] {
        assert!(all.iter().any(|x| x.tenant_id == t.id()), "{} missing from the list", t.id());
    }
    let page = ops.list_page(Some(1), None).await.expect("list");
    assert_eq!(page.items.len(), 1);
    assert!(page.next_cursor.is_some(), "at least two tenants, so a second page");
    operator
        .api
        .get("/admin/tenants?cursor=bogus")
        .await
        .expect("list")
        .expect_problem(400, "bad-request")
        .expect("bad cursor");

    // Suspend: nobody of the tenant signs in, refresh included; the other tenant is untouched.
    let suspended = ops.suspend(tenant.id()).await.expect("suspend");
    assert_eq!(suspended.status, TenantStatus::Suspended);
    // Suspending again changes no record (a retry that finishes ending the sessions).
    let again = ops.suspend(tenant.id()).await.expect("suspend again");
    assert_eq!((again.status, again.version), (TenantStatus::Suspended, suspended.version));
    match stack.sign_in(&tenant.admin.email, &tenant.admin.password).await {
        Err(SignInError::Refused { code, message }) => {
            assert_eq!(code, "UserLambdaValidationException", "{message}");
            assert!(message.contains("PreTokenGeneration"), "{message}");
            assert!(!message.contains(&tenant.id().to_string()), "the refusal is generic: {message}");
        }
        other => panic!("a suspended tenant's admin signed in: {other:?}"),
    }
    let refresh = tenant.admin.tokens.refresh_token.as_deref().expect("refresh token");
    assert!(
        matches!(stack.refresh(refresh).await, Err(SignInError::Refused { .. })),
        "a refresh after the suspension must fail too"
    );
    // A token issued before the suspension cannot change the tenant.
    let rename = UpdateTenant { name: "Still here".to_owned(), version: suspended.version };
    tenant_admin.update(&rename).await.refused(403, "tenant-inactive").expect("a suspended tenant cannot be renamed");
    stack.sign_in(&other.admin.email, &other.admin.password).await.expect("another tenant is not affected");

    // Reactivate: sign-in works again.
    let active = ops.reactivate(tenant.id()).await.expect("reactivate");
    assert_eq!((active.status, active.version), (TenantStatus::Active, suspended.version + 1));
    ops.reactivate(tenant.id()).await.refused(409, "conflict").expect("only a suspended tenant can be reactivated");
    stack.sign_in(&tenant.admin.email, &tenant.admin.password).await.expect("the admin signs in after reactivation");

    // Tier: the next tokens carry the new tier; the same tier is a no-op.
    let upgraded = ops.change_tier(tenant.id(), TenantTier::Enterprise).await.expect("tier");
    assert_eq!(upgraded.tier, TenantTier::Enterprise);
    let same = ops.change_tier(tenant.id(), TenantTier::Enterprise).await.expect("same tier");
    assert_eq!(same.version, upgraded.version, "the same tier changes nothing");
    let tokens = stack.sign_in(&tenant.admin.email, &tenant.admin.password).await.expect("sign in");
    assert_eq!(claim(&tokens.access_claims().expect("claims"), "tenant_tier").expect("tier"), "enterprise");
    // Records a function read during the suspension are used for at most
    // one freshness window: the reactivation reaches every function after it.
    stack.wait_out_the_freshness_window().await.expect("window");
    let seen = TenantsClient::new(stack.client(&tokens.access_token)).current().await.expect("get");
    assert_eq!(seen.tier, TenantTier::Enterprise);

    // Unknown tenants and malformed ids.
    let unknown = TenantId::generate();
    ops.suspend(unknown).await.refused(404, "not-found").expect("404");
    ops.change_tier(unknown, TenantTier::Pro).await.refused(404, "not-found").expect("404");
    operator
        .api
        .send(reqwest::Method::POST, "/admin/tenants/not-a-tenant/suspend", None)
        .await
        .expect("suspend")
        .expect_problem(400, "bad-request")
        .expect("400");
}
