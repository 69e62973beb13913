//! Every tenants route through the gateway: the tenant's own record (GET/PUT
//! /tenant), and the platform-admin routes (list, suspend, reactivate, tier),
//! with sign-in following the tenant's status.

use e2e::{SignInError, Stack, claim};
use tenancy::{TenantId, TenantRole, TenantTier};
use tenants::api::{ChangeTier, TenantList, UpdateTenant};
use tenants::domain::{Tenant, TenantStatus};

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_tenant_reads_and_renames_itself() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.register_tenant("Selfie", TenantTier::Free).await.expect("tenant");
    let admin = &tenant.admin.api;
    let domain = format!("{}.example.com", tenant.tenant.slug);

    let read: Tenant = admin.get_tenant().await.expect("get").expect_json(200).expect("200");
    assert_eq!(read, tenant.tenant);

    let renamed: Tenant = admin
        .update_tenant(&UpdateTenant {
            name: "Selfie & Sons".to_owned(),
            version: read.version,
        })
        .await
        .expect("rename")
        .expect_json(200)
        .expect("200");
    assert_eq!(renamed.name.as_str(), "Selfie & Sons");
    assert_eq!(renamed.version, read.version + 1);
    assert_eq!((renamed.slug.clone(), renamed.tier), (read.slug.clone(), read.tier));

    // A stale version changes nothing.
    admin
        .update_tenant(&UpdateTenant {
            name: "Lost update".to_owned(),
            version: read.version,
        })
        .await
        .expect("stale rename")
        .expect_problem(409, "conflict")
        .expect("409");
    // Slug, tier and tenant id are not the tenant admin's to change.
    for field in [
        ("slug", serde_json::json!("other-slug")),
        ("tier", serde_json::json!("enterprise")),
        ("tenant_id", serde_json::json!(TenantId::generate().to_string())),
    ] {
        let mut body = serde_json::json!({"name": "x", "version": renamed.version});
        body[field.0] = field.1;
        admin
            .send(reqwest::Method::PUT, "/tenant", Some(body))
            .await
            .expect("update")
            .expect_problem(400, "bad-request")
            .unwrap_or_else(|e| panic!("{}: {e}", field.0));
    }
    let current: Tenant = admin.get_tenant().await.expect("get").expect_json(200).expect("200");
    assert_eq!(current, renamed);

    // A member reads the tenant but cannot change it.
    let member = stack
        .invite(admin, "member", &domain, TenantRole::Member)
        .await
        .expect("member");
    let seen: Tenant = member
        .member
        .api
        .get_tenant()
        .await
        .expect("get")
        .expect_json(200)
        .expect("200");
    assert_eq!(seen, renamed);
    member
        .member
        .api
        .update_tenant(&UpdateTenant {
            name: "Member was here".to_owned(),
            version: renamed.version,
        })
        .await
        .expect("member rename")
        .expect_problem(403, "forbidden")
        .expect("403 for a member");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn platform_admins_list_suspend_reactivate_and_change_tiers() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack
        .register_tenant("Managed", TenantTier::Free)
        .await
        .expect("tenant");
    let other = stack
        .register_tenant("Bystander", TenantTier::Free)
        .await
        .expect("other");
    let tenant_admin = &tenant.admin.api;

    // Tenant admins have no business on /admin.
    tenant_admin
        .admin_list_tenants(None, None)
        .await
        .expect("list")
        .expect_problem(403, "forbidden")
        .expect("list");
    for reply in [
        tenant_admin.suspend_tenant(other.id()).await,
        tenant_admin.reactivate_tenant(other.id()).await,
        tenant_admin
            .change_tier(
                tenant.id(),
                &ChangeTier {
                    tier: TenantTier::Enterprise,
                },
            )
            .await,
    ] {
        reply
            .expect("answer")
            .expect_problem(403, "forbidden")
            .expect("403 for a tenant admin");
    }

    let operator = stack.platform_admin().await.expect("platform admin");
    let groups = operator.tokens.access_claims().expect("claims");
    assert!(
        groups
            .get("cognito:groups")
            .is_some_and(|g| g.to_string().contains("platform-admin")),
        "{groups:?}"
    );
    let ops = &operator.api;

    // The list: every tenant, pages of one included.
    let all = ops.admin_all_tenants().await.expect("list");
    for t in [&tenant, &other] {
        assert!(
            all.iter().any(|x| x.tenant_id == t.id()),
            "{} missing from the list",
            t.id()
        );
    }
    let page: TenantList = ops
        .admin_list_tenants(Some(1), None)
        .await
        .expect("list")
        .expect_json(200)
        .expect("200");
    assert_eq!(page.items.len(), 1);
    assert!(page.next_cursor.is_some(), "at least two tenants, so a second page");
    ops.get("/admin/tenants?cursor=bogus")
        .await
        .expect("list")
        .expect_problem(400, "bad-request")
        .expect("bad cursor");

    // Suspend: nobody of the tenant signs in, refresh included; the other tenant is untouched.
    let suspended: Tenant = ops
        .suspend_tenant(tenant.id())
        .await
        .expect("suspend")
        .expect_json(200)
        .expect("200");
    assert_eq!(suspended.status, TenantStatus::Suspended);
    // Suspending again changes no record (a retry that finishes ending the sessions).
    let again: Tenant = ops
        .suspend_tenant(tenant.id())
        .await
        .expect("suspend again")
        .expect_json(200)
        .expect("200");
    assert_eq!(
        (again.status, again.version),
        (TenantStatus::Suspended, suspended.version)
    );
    match stack.sign_in(&tenant.admin.email, &tenant.admin.password).await {
        Err(SignInError::Refused { code, message }) => {
            assert_eq!(code, "UserLambdaValidationException", "{message}");
            assert!(message.contains("PreTokenGeneration"), "{message}");
            assert!(
                !message.contains(&tenant.id().to_string()),
                "the refusal is generic: {message}"
            );
        }
        other => panic!("a suspended tenant's admin signed in: {other:?}"),
    }
    let refresh = tenant.admin.tokens.refresh_token.as_deref().expect("refresh token");
    assert!(
        matches!(stack.refresh(refresh).await, Err(SignInError::Refused { .. })),
        "a refresh after the suspension must fail too"
    );
    // A token issued before the suspension cannot change the tenant.
    tenant_admin
        .update_tenant(&UpdateTenant {
            name: "Still here".to_owned(),
            version: suspended.version,
        })
        .await
        .expect("rename")
        .expect_problem(403, "tenant-inactive")
        .expect("a suspended tenant cannot be renamed");
    stack
        .sign_in(&other.admin.email, &other.admin.password)
        .await
        .expect("another tenant is not affected");

    // Reactivate: sign-in works again.
    let active: Tenant = ops
        .reactivate_tenant(tenant.id())
        .await
        .expect("reactivate")
        .expect_json(200)
        .expect("200");
    assert_eq!(
        (active.status, active.version),
        (TenantStatus::Active, suspended.version + 1)
    );
    ops.reactivate_tenant(tenant.id())
        .await
        .expect("reactivate again")
        .expect_problem(409, "conflict")
        .expect("only a suspended tenant can be reactivated");
    stack
        .sign_in(&tenant.admin.email, &tenant.admin.password)
        .await
        .expect("the admin signs in after reactivation");

    // Tier: the next tokens carry the new tier; the same tier is a no-op.
    let upgraded: Tenant = ops
        .change_tier(
            tenant.id(),
            &ChangeTier {
                tier: TenantTier::Enterprise,
            },
        )
        .await
        .expect("tier")
        .expect_json(200)
        .expect("200");
    assert_eq!(upgraded.tier, TenantTier::Enterprise);
    let same: Tenant = ops
        .change_tier(
            tenant.id(),
            &ChangeTier {
                tier: TenantTier::Enterprise,
            },
        )
        .await
        .expect("same tier")
        .expect_json(200)
        .expect("200");
    assert_eq!(same.version, upgraded.version, "the same tier changes nothing");
    let tokens = stack
        .sign_in(&tenant.admin.email, &tenant.admin.password)
        .await
        .expect("sign in");
    assert_eq!(
        claim(&tokens.access_claims().expect("claims"), "tenant_tier").expect("tier"),
        "enterprise"
    );
    // Records a function read during the suspension are used for at most
    // one freshness window: the reactivation reaches every function after it.
    stack.wait_out_the_freshness_window().await.expect("window");
    let seen: Tenant = stack
        .api(tokens.access_token)
        .get_tenant()
        .await
        .expect("get")
        .expect_json(200)
        .expect("200");
    assert_eq!(seen.tier, TenantTier::Enterprise);

    // Unknown tenants and malformed ids.
    let unknown = TenantId::generate();
    ops.suspend_tenant(unknown)
        .await
        .expect("suspend")
        .expect_problem(404, "not-found")
        .expect("404");
    ops.change_tier(unknown, &ChangeTier { tier: TenantTier::Pro })
        .await
        .expect("tier")
        .expect_problem(404, "not-found")
        .expect("404");
    ops.send(reqwest::Method::POST, "/admin/tenants/not-a-tenant/suspend", None)
        .await
        .expect("suspend")
        .expect_problem(400, "bad-request")
        .expect("400");
}
