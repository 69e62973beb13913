//! Registration that only its requester can finish, and that never leaves a
//! half-made tenant behind: the idempotency key, the expiry sweep, the
//! password policy before any write.
//!
//! Its own test binary: the interrupted registration stops the users
//! function's instances and the emulator for a few seconds, which would break
//! other tests' requests (cargo runs test binaries one after another), and
//! the tests here run one at a time for the same reason.

use std::time::Duration;

use e2e::{IdempotencyKey, Refused as _, Stack, process, strong_password};
use futures_util::TryStreamExt as _;
use tenancy::{TenantId, TenantTier};
use tenants_client::{RegisterTenant, Registered, Tenant};
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

fn registration(stack: &Stack, prefix: &str) -> RegisterTenant {
    let slug = stack.unique(prefix);
    RegisterTenant {
        name: format!("{prefix} Inc"),
        admin_email: format!("admin@{slug}.example.com"),
        slug,
        tier: TenantTier::Free,
        admin_password: strong_password().into(),
    }
}

/// Sends `registration` with `key` and interrupts it by an emulator pause
/// once its slug is claimed: the users function's instances are stopped
/// first (the registration waits on its first admin), then the emulator, then
/// the users function goes on into the stopped emulator and gives up. The
/// owner gets a 503; the claim stays. Returns the claim's tenant id.
async fn interrupted(stack: &Stack, registration: &RegisterTenant, key: &IdempotencyKey) -> TenantId {
    // A warm users instance to stop (registrations call it).
    stack.tenant("Warm", TenantTier::Free).await;
    let users = process::function_instances(&stack.settings.gateway, "users").expect("/proc");
    assert!(!users.is_empty(), "no users instance of {} found", stack.settings.gateway);
    let stopped: Vec<_> =
        users.iter().map(|instance| process::Stopped::stop(instance.pid).expect("SIGSTOP users")).collect();

    let owner = tokio::spawn({
        let (public, registration, key) = (stack.registration(), registration.clone(), key.clone());
        async move { public.register_with_key(&registration, &key).await }
    });
    let mut waited = Duration::ZERO;
    let tenant_id = loop {
        if let Some(tenant_id) = stack.slug_claim(&registration.slug).await.expect("read the claim") {
            break tenant_id;
        }
        assert!(waited < Duration::from_secs(5), "the registration never claimed its slug");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    };
    let emulator = process::emulator_pid(&stack.settings.emulator).expect("the emulator's pid");
    let frozen = process::Stopped::stop(emulator).expect("SIGSTOP the emulator");
    drop(stopped);
    let answer =
        tokio::time::timeout(Duration::from_secs(30), owner).await.expect("the owner is answered").expect("task");
    frozen.resume().expect("SIGCONT the emulator");
    answer.refused(503, "service-unavailable").expect("the interrupted registration is a 503");
    tenant_id
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn an_interrupted_registration_is_finished_by_its_key_and_by_nobody_else() {
    let _one = ONE_AT_A_TIME.lock().await;
    let stack = Stack::from_env_or_panic().await;
    let owner = registration(&stack, "owned");
    let owner_key = IdempotencyKey::generate();
    let tenant_id = interrupted(&stack, &owner, &owner_key).await;

    // Someone who knows every field, with a password of their own.
    let attacker = RegisterTenant { admin_password: strong_password().into(), ..owner.clone() };
    let no_key = stack
        .anonymous()
        .send(reqwest::Method::POST, "/tenants", Some(serde_json::to_value(&attacker).expect("json")))
        .await
        .expect("reply");
    assert!(!no_key.body.contains(&tenant_id.to_string()), "{no_key:?}");
    no_key.expect_problem(400, "bad-request").expect("no key is a 400");
    let another_key = stack.registration().register_with_key(&attacker, &IdempotencyKey::generate()).await;
    let problem = another_key.refused(409, "conflict").expect("another key is a 409");
    assert!(!format!("{problem:?}").contains(&tenant_id.to_string()), "{problem:?}");

    // The owner's retry with its key finishes it (201: made now, not
    // repeated), with the owner's password.
    let registered: Registered = stack
        .anonymous()
        .register(&owner, &owner_key)
        .await
        .expect("reply")
        .expect_json(201)
        .expect("the owner's retry completes the registration");
    assert_eq!(registered.tenant.tenant_id, tenant_id);
    stack.member(&owner.admin_email, owner.admin_password.expose()).await.expect("the owner's password signs in");
    assert!(
        stack.sign_in(&owner.admin_email, attacker.admin_password.expose()).await.is_err(),
        "the attacker's password does not"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn an_unfinished_registration_expires_and_frees_its_slug_and_email() {
    let _one = ONE_AT_A_TIME.lock().await;
    let stack = Stack::from_env_or_panic().await;
    let stuck = registration(&stack, "expiring");
    interrupted(&stack, &stuck, &IdempotencyKey::generate()).await;

    // Not before its expiry.
    stack.sweep_registrations().await.expect("sweep");
    assert!(stack.slug_claim(&stuck.slug).await.expect("claim").is_some());

    tokio::time::sleep(stack.registration_expiry().await.expect("expiry") + Duration::from_secs(1)).await;
    let swept = stack.sweep_registrations().await.expect("sweep");
    assert!(swept["removed"].as_u64().is_some_and(|n| n >= 1), "{swept}");
    assert_eq!(stack.slug_claim(&stuck.slug).await.expect("claim"), None);
    assert!(!stack.user_exists(&stuck.admin_email).await.expect("lookup"), "the admin is gone");

    // Anyone may now register the slug and the email.
    let again =
        RegisterTenant { name: "Someone Else".to_owned(), admin_password: strong_password().into(), ..stuck.clone() };
    stack.registration().register(&again).await.expect("the slug and email are free again");
    stack.member(&again.admin_email, again.admin_password.expose()).await.expect("the new admin signs in");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn refused_registrations_leave_nothing_behind() {
    let _one = ONE_AT_A_TIME.lock().await;
    let stack = Stack::from_env_or_panic().await;

    // A password the pool would refuse: refused first, with the rule.
    let weak =
        RegisterTenant { admin_password: "alllowercase-and-long".to_owned().into(), ..registration(&stack, "weak") };
    let problem =
        stack.registration().register(&weak).await.refused(400, "bad-request").expect("a weak password is a 400");
    assert!(problem.detail.contains("an uppercase letter"), "{}", problem.detail);
    assert_eq!(stack.slug_claim(&weak.slug).await.expect("claim"), None);
    assert!(!stack.user_exists(&weak.admin_email).await.expect("lookup"));

    // An email that belongs to another tenant's user: 409, the slug is free.
    let taken = stack.tenant("Taken", TenantTier::Free).await;
    let clash = RegisterTenant { admin_email: taken.admin.email.clone(), ..registration(&stack, "clash") };
    stack.registration().register(&clash).await.refused(409, "conflict").expect("a taken email is a 409");
    assert_eq!(stack.slug_claim(&clash.slug).await.expect("claim"), None);
    let operator = stack.platform_admin().await.expect("platform admin");
    let tenants: Vec<Tenant> = operator.tenants.list(None).try_collect().await.expect("tenants");
    assert!(tenants.iter().all(|t| t.slug.as_str() != clash.slug && t.slug.as_str() != weak.slug));
}
