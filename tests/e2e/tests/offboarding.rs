//! Offboarding through the stack: a platform admin lets a tenant go, every
//! service erases its records, and afterwards nothing anywhere on the
//! emulator (every table, the user pool) mentions the tenant, its users or
//! its notes, while another tenant keeps all of its data. The receipt counts
//! exactly what was stored; an offboarding interrupted by an emulator pause
//! and repeated ends the same way.
//!
//! One test on purpose, alone in its binary: it freezes the emulator (see
//! outage.rs), and its scans must not meet other tests' tenants mid-change.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use e2e::emulator::Emulator;
use e2e::{Refused as _, Stack, TenantFixture, process};
use notes_client::CreateNote;
use tenancy::TenantRole;
use tenancy::events::Change;
use tenants_client::{ErasureReceipt, ItemCounts, TenantId, TenantStatus, TenantTier, TenantsClient};

async fn offboard(operator: &TenantsClient, tenant: TenantId) -> ErasureReceipt {
    e2e::offboard(operator, tenant).await.expect("offboard")
}

/// A tenant with invited members and notes (some of them created and
/// deleted), and everything that identifies it in stored data.
struct Populated {
    fixture: TenantFixture,
    needles: Vec<String>,
    /// Member emails and passwords, to try signing in afterwards.
    members: Vec<(String, String)>,
}

async fn populated(stack: &Stack, name: &str, members: usize, notes: usize) -> Populated {
    let fixture = stack.tenant(name, TenantTier::Pro).await;
    let domain = format!("{}.example.com", fixture.tenant.slug);
    let mut needles = vec![fixture.id().to_string(), fixture.tenant.slug.to_string(), domain.clone()];
    needles.push(fixture.admin_user_id.to_string());
    let mut signed_in = Vec::new();
    for n in 0..members {
        let invited = stack.invite(&fixture.admin, &format!("member{n}"), &domain, TenantRole::Member).await;
        let invited = invited.expect("invite");
        needles.push(invited.user.user_id.to_string());
        signed_in.push(invited.member);
    }
    for n in 0..notes {
        let writer = signed_in.get(n % (members + 1)).unwrap_or(&fixture.admin);
        let note = CreateNote { title: format!("note {n}"), body: "to be erased".into() };
        let created = writer.notes.create(&note).await.expect("create");
        needles.push(created.id.to_string());
        if n % 5 == 4 {
            writer.notes.delete(created.id).await.expect("delete");
        }
    }
    let members = signed_in.iter().map(|m| (m.email.clone(), m.password.clone())).collect();
    Populated { fixture, needles, members }
}

/// What the tenant has in each table, as the receipt should count it:
/// per service, the number of items (and directory users for `users`).
async fn stored(emulator: &Emulator, stack: &Stack, tenant: &Populated) -> BTreeMap<&'static str, u64> {
    let id = tenant.fixture.id();
    let size = |table: &'static str| async move {
        let table = emulator.table(table).await.expect("table");
        u64::try_from(emulator.partition(&table, id).await.expect("partition").len()).expect("count")
    };
    let pool_users = emulator.pool_users().await.expect("pool");
    let directory_users =
        pool_users.iter().filter(|(_, attributes)| attributes.contains(&format!("custom:tenant_id={id}"))).count();
    let slug_claims =
        u64::from(stack.slug_claim(tenant.fixture.tenant.slug.as_str()).await.expect("claim") == Some(id));
    BTreeMap::from([
        ("notes", size("notes").await),
        ("users", size("memberships").await),
        ("directory_users", u64::try_from(directory_users).expect("count")),
        ("audit_entries", size("audit").await),
        ("outbox_events", size("outbox").await),
        ("tenant_records", size("tenants").await),
        ("slug_claims", slug_claims),
    ])
}

/// The receipt, summed the way [`stored`] counts.
fn counted(receipt: &ErasureReceipt) -> BTreeMap<&'static str, u64> {
    let service = |name: &str| receipt.removed.get(name).cloned().unwrap_or_default();
    let total = |counts: &ItemCounts, except: &str| counts.iter().filter(|(k, _)| *k != except).map(|(_, n)| n).sum();
    let kind = |counts: &ItemCounts, kind: &str| counts.get(kind).copied().unwrap_or(0);
    let (notes, users, tenants) = (service("notes"), service("users"), service("tenants"));
    BTreeMap::from([
        ("notes", total(&notes, "")),
        ("users", total(&users, "directory_users")),
        ("directory_users", kind(&users, "directory_users")),
        ("audit_entries", kind(&tenants, "audit_entries")),
        ("outbox_events", kind(&tenants, "outbox_events")),
        ("tenant_records", kind(&tenants, "tenant_records")),
        ("slug_claims", kind(&tenants, "slug_claims")),
    ])
}

/// After offboarding: nothing mentions the tenant, its members can neither
/// sign in nor use the tokens they hold, and the receipt counted `before`.
async fn assert_gone(
    stack: &Stack,
    emulator: &Emulator,
    tenant: &Populated,
    before: &BTreeMap<&str, u64>,
    receipt: &ErasureReceipt,
) {
    let left = emulator.mentions(&tenant.needles).await.expect("scan");
    assert!(left.is_empty(), "left of {}: {left:#?}", tenant.fixture.tenant.slug);
    assert_eq!((receipt.tenant_id, receipt.status), (tenant.fixture.id(), TenantStatus::Offboarded));
    assert_eq!(&counted(receipt), before, "the receipt counts what was stored: {receipt:?}");
    for (email, password) in &tenant.members {
        let signed_in = stack.sign_in(email, password).await;
        assert!(matches!(signed_in, Err(e2e::SignInError::Refused { .. })), "{email}: {signed_in:?}");
    }
    // The token the admin still holds names a tenant without a record.
    let listed = tenant.fixture.admin.notes.list_page(None, None).await;
    listed.refused(403, "tenant-inactive").unwrap_or_else(|e| panic!("the admin's token after offboarding: {e}"));
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn offboarding_erases_everything_of_a_tenant_and_nothing_of_another() {
    let stack = Stack::from_env_or_panic().await;
    let emulator = Emulator::connect(&stack);
    let operator = stack.platform_admin().await.expect("operator");

    let leaving = populated(&stack, "Leaving", 2, 6).await;
    let staying = populated(&stack, "Staying", 1, 3).await;
    let staying_before = emulator.mentions(&staying.needles).await.expect("scan");
    let before = stored(&emulator, &stack, &leaving).await;
    assert_eq!((before["directory_users"], before["tenant_records"], before["slug_claims"]), (3, 1, 1));
    assert!(before["audit_entries"] >= 9, "{before:?}");

    let started = Instant::now();
    let receipt = offboard(&operator.tenants, leaving.fixture.id()).await;
    assert!(started.elapsed() >= stack.erasure_settling_time().await.expect("setting"), "the erasure did not settle");
    assert_gone(&stack, &emulator, &leaving, &before, &receipt).await;
    assert_eq!(emulator.mentions(&staying.needles).await.expect("scan"), staying_before, "the other tenant changed");
    assert_eq!(staying.fixture.admin.all_notes().await.len(), 3, "the other tenant works as before");
    let repeat = operator.tenants.offboard(leaving.fixture.id()).await;
    assert!(matches!(repeat, Err(saas_client::Error::NotFound(_))), "{repeat:?}");

    // The events: requested, then done with the receipt.
    let expected = [
        Change::Registered,
        Change::Activated,
        Change::UserInvited,
        Change::UserInvited,
        Change::OffboardingRequested,
        Change::Offboarded,
    ];
    let events = stack.lifecycle_events(leaving.fixture.id(), expected.len(), Duration::from_secs(20)).await;
    let events = events.expect("events");
    assert_eq!(events.iter().map(|e| e.change).collect::<Vec<_>>(), expected);
    assert_eq!(events[5].receipt.as_ref(), Some(&receipt));

    // Interrupted: the emulator freezes once the erasure has counted the
    // tenant's records; the request fails, a repeat finishes the same way.
    let interrupted = populated(&stack, "Interrupted", 1, 30).await;
    let before = stored(&emulator, &stack, &interrupted).await;
    let tenants_table = emulator.table("tenants").await.expect("table");
    let id = interrupted.fixture.id();
    let settling = operator.tenants.offboard(id).await.expect("offboarding begins");
    assert_eq!((settling.status, settling.started_at), (TenantStatus::Offboarding, None));
    tokio::time::sleep(stack.erasure_settling_time().await.expect("setting") + Duration::from_millis(200)).await;
    let request = tokio::spawn({
        let operator = operator.tenants.clone();
        async move { operator.offboard(id).await }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !emulator.partition(&tenants_table, id).await.expect("partition").contains_key("erasure_receipt") {
        assert!(Instant::now() < deadline && !request.is_finished(), "the erasure never counted the records");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = process::emulator_pid(&stack.settings.emulator).expect("the emulator's process");
    let frozen = process::Stopped::stop(pid).expect("SIGSTOP the emulator");
    let first = tokio::time::timeout(Duration::from_secs(30), request).await.expect("an answer").expect("the task");
    frozen.resume().expect("SIGCONT the emulator");
    assert!(
        first.as_ref().is_err() || first.as_ref().is_ok_and(|r| r.status == TenantStatus::Offboarding),
        "the pause did not interrupt the erasure: {first:?}"
    );
    let receipt = offboard(&operator.tenants, id).await;
    assert_gone(&stack, &emulator, &interrupted, &before, &receipt).await;
    assert_eq!(emulator.mentions(&staying.needles).await.expect("scan"), staying_before, "the other tenant changed");
    let events = stack.lifecycle_events(id, 6, Duration::from_secs(20)).await.expect("events");
    assert_eq!(events.iter().filter(|e| e.change == Change::Offboarded).count(), 1, "{events:?}");
}
