//! The emulator stops answering mid-run while the gateway and the function
//! instances keep running: every route answers 503 with a problem body (the
//! typed client's `Error::Server`), well inside the functions' timeout (the
//! SDK timeouts of `tenancy::config`), no instance dies, and once the
//! emulator is back nothing is half-written.
//!
//! The emulator is frozen with `SIGSTOP` (its state is in memory: killing it
//! would lose the stack) and always resumed with `SIGCONT` by a guard, even
//! when an assertion fails. Alone in its own test binary on purpose: cargo
//! runs test binaries one after another, so no other test's request meets
//! the frozen emulator.
//!
//! A request the emulator had received before it froze is carried out when
//! it resumes, after the function gave up on it, as a write that timed out
//! may still land on AWS. So "nothing half-written" is checked as: every
//! write attempted during the outage is either absent or present in full,
//! and the notes usage counter still equals the number of notes.

use std::time::{Duration, Instant};

use e2e::emulator::Emulator;
use e2e::{IdempotencyKey, Refused as _, Stack, process};
use futures_util::TryStreamExt as _;
use notes_client::{CreateNote, Note, NotesClient, UpdateNote};
use saas_client::Error;
use tenancy::{TenantRole, TenantTier};
use tenants_client::{RegisterTenant, TenantStatus, UpdateTenant};
use users_client::{InviteUser, User};

/// The services' function timeout (Terraform, `timeout = 10`): a 503 must
/// come well before it, from the SDK's own timeouts, not from Lambda.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one request while the emulator is frozen and checks the answer: a
/// 503 `urn:problem:service-unavailable` problem (the client's
/// `Error::Server`) with a clear detail, well inside the function timeout.
async fn during_outage<T: std::fmt::Debug>(label: &str, call: impl std::future::Future<Output = Result<T, Error>>) {
    let started = Instant::now();
    let answer = tokio::time::timeout(FUNCTION_TIMEOUT + Duration::from_secs(10), call)
        .await
        .unwrap_or_else(|_| panic!("{label}: no answer at all during the outage"));
    let elapsed = started.elapsed();
    assert!(matches!(answer, Err(Error::Server(_))), "{label}: {answer:?}");
    let problem = answer.refused(503, "service-unavailable").unwrap_or_else(|e| panic!("{label}: {e}"));
    assert!(
        elapsed < FUNCTION_TIMEOUT - Duration::from_secs(2),
        "{label}: the 503 took {elapsed:?}; the SDK timeouts must answer well before the function's {FUNCTION_TIMEOUT:?}"
    );
    assert!(
        problem.detail.contains("unavailable") && problem.detail.contains("retry"),
        "{label}: the detail should say what happened and what to do: {problem:?}"
    );
    for internal in ["dispatch", "timeout", "Timeout", "SdkError", "127.0.0.1", "connector"] {
        assert!(!problem.detail.contains(internal), "{label}: internal error text in the detail: {problem:?}");
    }
    assert!(problem.request_id.is_some(), "{label}: {problem:?}");
}

async fn note(notes: &NotesClient, title: &str) -> Note {
    let note = CreateNote { title: title.to_owned(), body: "before the outage".to_owned() };
    notes.create(&note).await.expect("create")
}

fn pids(stack: &Stack, service: &str) -> Vec<i32> {
    process::function_instances(&stack.settings.gateway, service).expect("/proc").iter().map(|i| i.pid).collect()
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn an_emulator_outage_is_a_503_problem_on_every_route_and_leaves_nothing_half_written() {
    let stack = Stack::from_env_or_panic().await;
    let emulator = Emulator::connect(&stack);
    let notes_table = emulator.table("notes").await.expect("the notes table");

    // Before: a tenant whose credentials every function has cached (its
    // requests meet a frozen DynamoDB), a second tenant the notes function
    // has never served (its request meets a frozen STS), a platform admin.
    let warm = stack.tenant("Outage", TenantTier::Pro).await;
    let cold = stack.tenant("Outage cold", TenantTier::Pro).await;
    let operator = stack.platform_admin().await.expect("platform admin");
    let admin = &warm.admin;
    let kept = note(&admin.notes, "kept").await;
    let to_update = note(&admin.notes, "to update").await;
    let to_delete = note(&admin.notes, "to delete").await;
    admin.notes.list_page(None, None).await.expect("notes");
    admin.users.list_page(None, None).await.expect("users");
    admin.users.me().await.expect("me");
    let tenant_before = admin.tenants.current().await.expect("tenant");
    operator.tenants.list_page(Some(1), None).await.expect("tenants");
    let before = emulator.partition(&notes_table, warm.id()).await.expect("the partition");
    let instances: Vec<(&str, Vec<i32>)> =
        ["notes", "users", "tenants"].into_iter().map(|service| (service, pids(&stack, service))).collect();
    for (service, pids) in &instances {
        assert!(!pids.is_empty(), "no warm {service} instance of this gateway");
    }

    let outage_title = "written during the outage";
    let invitee = format!("{}@{}.example.com", stack.unique("invitee"), warm.tenant.slug);
    let registration_key = IdempotencyKey::generate();
    let registration = RegisterTenant {
        name: "Registered during the outage".to_owned(),
        slug: stack.unique("outage-reg"),
        tier: TenantTier::Free,
        admin_email: format!("admin@{}.example.com", stack.unique("outage-reg")),
        admin_password: e2e::strong_password().into(),
    };

    // The outage: every request one after another (a second concurrent
    // request would start a new instance, whose set-up needs the emulator).
    let pid = process::emulator_pid(&stack.settings.emulator).expect("the emulator's process");
    let frozen = process::Stopped::stop(pid).expect("SIGSTOP the emulator");
    // The clients do not retry here (Stack::client): a retry would only wait
    // for the same 503.
    let public = stack.registration();
    let outage_note = CreateNote { title: outage_title.to_owned(), body: "maybe".to_owned() };
    let outage_update =
        UpdateNote { title: outage_title.to_owned(), body: "maybe".to_owned(), version: to_update.version };
    let invitation = InviteUser {
        email: invitee.clone(),
        role: TenantRole::Member,
        temporary_password: Some(e2e::strong_password().into()),
    };
    let rename = UpdateTenant { name: outage_title.to_owned(), version: tenant_before.version };
    during_outage("GET /notes", admin.notes.list_page(None, None)).await;
    during_outage("GET /notes/{id}", admin.notes.get(kept.id)).await;
    during_outage("POST /notes", admin.notes.create(&outage_note)).await;
    during_outage("PUT /notes/{id}", admin.notes.update(to_update.id, &outage_update)).await;
    during_outage("DELETE /notes/{id}", admin.notes.delete(to_delete.id)).await;
    during_outage("GET /notes (STS: credentials not cached)", cold.admin.notes.list_page(None, None)).await;
    during_outage("GET /users", admin.users.list_page(None, None)).await;
    during_outage("GET /users/me", admin.users.me()).await;
    during_outage("GET /users/{id}", admin.users.get(warm.admin_user_id)).await;
    during_outage("POST /users", admin.users.invite_with_key(&invitation, &IdempotencyKey::generate())).await;
    during_outage("GET /tenant", admin.tenants.current()).await;
    during_outage("PUT /tenant", admin.tenants.update(&rename)).await;
    during_outage("POST /tenants", public.register_with_key(&registration, &registration_key)).await;
    during_outage("GET /admin/tenants", operator.tenants.list_page(None, None)).await;
    frozen.resume().expect("SIGCONT the emulator");

    // No instance died (a panic would be a 502 and a replacement instance).
    for (service, pids) in &instances {
        for pid in pids {
            assert!(process::is_alive(*pid), "the {service} instance {pid} died during the outage");
        }
    }

    // After: the same instances answer again (the emulator first works off
    // the requests it had queued while frozen).
    let started = Instant::now();
    loop {
        match admin.notes.list_page(Some(100), None).await {
            Ok(_) => break,
            Err(Error::Server(_)) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(other) => panic!("GET /notes after the outage: {other}"),
        }
    }
    let after: Vec<Note> = admin.notes.list(Some(100)).try_collect().await.expect("notes");
    admin.users.me().await.expect("users answers again");
    let tenant_after = admin.tenants.current().await.expect("tenant");
    operator.tenants.list_page(Some(1), None).await.expect("admin list answers again");
    cold.admin.notes.list_page(None, None).await.expect("STS answers again");

    // Notes: each outage write absent or whole, the counter equal to the notes.
    assert!(after.contains(&kept), "an untouched note changed: {after:?}");
    for note in &after {
        if note.id == to_update.id {
            let untouched = note == &to_update;
            let whole = note.title == outage_title && note.body == "maybe" && note.version == to_update.version + 1;
            assert!(untouched || whole, "a half-applied update: {note:?}");
        } else if note.id == to_delete.id {
            assert_eq!(note, &to_delete, "the note to delete changed");
        } else if note.id != kept.id {
            assert!(
                note.title == outage_title && note.body == "maybe" && note.version == 1,
                "an unexpected note: {note:?}"
            );
        }
    }
    assert!(
        after.iter().filter(|n| n.title == outage_title && n.id != to_update.id).count() <= 1,
        "the outage create was applied more than once: {after:?}"
    );
    let partition = emulator.partition(&notes_table, warm.id()).await.expect("the partition");
    let note_items = partition.keys().filter(|sk| sk.starts_with("note#")).count();
    assert_eq!(note_items, after.len(), "items and the API disagree: {partition:?}");
    let counter = partition
        .get("usage")
        .and_then(|usage| usage.get("notes"))
        .and_then(|n| n.as_n().ok())
        .and_then(|n| n.parse::<usize>().ok());
    assert_eq!(
        counter,
        Some(note_items),
        "the usage counter must equal the number of notes (before the outage: {before:?})"
    );

    // Users: the invitation stopped at its first read, before Cognito.
    let users: Vec<User> = admin.users.list(None).try_collect().await.expect("users");
    assert!(users.iter().all(|u| u.email != invitee), "{users:?}");
    assert!(
        !stack.user_exists(&invitee).await.expect("AdminGetUser"),
        "a Cognito user without a membership was left behind"
    );

    // The tenant: unchanged, or renamed in full.
    let untouched = tenant_after == tenant_before;
    let whole = tenant_after.name.as_str() == outage_title && tenant_after.version == tenant_before.version + 1;
    assert!(untouched || whole, "a half-applied rename: {tenant_after:?}");

    // Registration: the same request, retried, completes (a slug claim left
    // by the outage is resumed, never a 409), and its admin signs in.
    let registered = public
        .register_with_key(&registration, &registration_key)
        .await
        .expect("the registration retried after the outage");
    assert_eq!(registered.tenant.status, TenantStatus::Active);
    assert_eq!(registered.tenant.slug.as_str(), registration.slug);
    stack
        .member(&registration.admin_email, registration.admin_password.expose())
        .await
        .expect("the admin of the retried registration signs in");
    // The invitation, retried, succeeds too.
    admin.users.invite(&invitation).await.expect("the invitation retried after the outage");
}
