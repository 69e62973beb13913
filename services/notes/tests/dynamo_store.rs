//! The DynamoDB note store against the emulator, through tenant-scoped
//! credentials obtained from STS. Run with `make test` (which starts the
//! emulator and sets `AWS_ENDPOINT_URL`).

use notes::domain::{Note, NoteContent, NoteId, NoteRules, now};
use notes::store::{Created, DynamoNoteStore, NoteStore};
use tenancy::TenantId;
use tenancy::credentials::StsRoleAssumer;
use tenancy::table::DataError;
use tenancy::testing::{create_tenant_table, emulator_sdk, emulator_tenancy};

async fn store() -> DynamoNoteStore<StsRoleAssumer> {
    let sdk = emulator_sdk().await;
    let table = format!("notes-it-{}", uuid::Uuid::new_v4().simple());
    create_tenant_table(&aws_sdk_dynamodb::Client::new(&sdk), &table).await;
    DynamoNoteStore::new(emulator_tenancy("notes").tenant_dynamo_cache(&sdk), table)
}

const LIMIT: i64 = 1_000;

fn note(title: &str) -> Note {
    Note::create(NoteContent::new(title, "body").expect("valid"), now())
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn crud_round_trip() {
    let store = store().await;
    let tenant = TenantId::generate();
    let original = note("first");
    assert_eq!(store.create(&tenant, &original, LIMIT, None).await.expect("create"), Created::Yes);
    assert_eq!(store.get(&tenant, original.id).await.expect("get"), Some(original.clone()));

    let revised = original.revise(NoteContent::new("second", "new body").expect("valid"), now());
    store.replace(&tenant, &revised, 1).await.expect("replace");
    assert_eq!(store.get(&tenant, original.id).await.expect("get"), Some(revised.clone()));

    store.delete(&tenant, original.id).await.expect("delete");
    assert_eq!(store.get(&tenant, original.id).await.expect("get"), None);
    assert!(matches!(store.delete(&tenant, original.id).await, Err(DataError::ConditionFailed { exists: false, .. })));
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn a_stale_version_is_refused_and_changes_nothing() {
    let store = store().await;
    let tenant = TenantId::generate();
    let original = note("v1");
    assert_eq!(store.create(&tenant, &original, LIMIT, None).await.expect("create"), Created::Yes);
    let winner = original.revise(NoteContent::new("winner", "").expect("valid"), now());
    let loser = original.revise(NoteContent::new("loser", "").expect("valid"), now());
    store.replace(&tenant, &winner, 1).await.expect("first writer wins");
    let outcome = store.replace(&tenant, &loser, 1).await;
    assert!(matches!(outcome, Err(DataError::ConditionFailed { exists: true, .. })), "{outcome:?}");
    assert_eq!(store.get(&tenant, original.id).await.expect("get"), Some(winner));

    let ghost = note("never created");
    let outcome = store.replace(&tenant, &ghost, 1).await;
    assert!(matches!(outcome, Err(DataError::ConditionFailed { exists: false, .. })), "{outcome:?}");
    assert_eq!(store.get(&tenant, ghost.id).await.expect("get"), None);
    assert!(matches!(
        store.create(&tenant, &original, LIMIT, None).await,
        Err(DataError::ConditionFailed { exists: true, .. })
    ));
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn pages_cover_every_note_once_newest_first() {
    let store = store().await;
    let tenant = TenantId::generate();
    let mut created = Vec::new();
    for n in 0..23 {
        let note = note(&format!("note {n}"));
        assert_eq!(store.create(&tenant, &note, LIMIT, None).await.expect("create"), Created::Yes);
        created.push(note.id);
    }
    let mut seen: Vec<NoteId> = Vec::new();
    let mut after = None;
    let mut page_sizes = Vec::new();
    loop {
        let page = store.list(&tenant, 10, after).await.expect("list");
        page_sizes.push(page.notes.len());
        seen.extend(page.notes.iter().map(|note| note.id));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created);
    assert_eq!(page_sizes, vec![10, 10, 3]);
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn each_tenant_sees_only_its_partition() {
    let store = store().await;
    let (alice, bob) = (TenantId::generate(), TenantId::generate());
    let alices = note("alice");
    store.create(&alice, &alices, LIMIT, None).await.expect("create");
    store.create(&bob, &note("bob"), LIMIT, None).await.expect("create");
    assert_eq!(store.get(&bob, alices.id).await.expect("get"), None);
    assert!(matches!(store.delete(&bob, alices.id).await, Err(DataError::ConditionFailed { exists: false, .. })));
    let bobs = store.list(&bob, 100, None).await.expect("list");
    assert_eq!(bobs.notes.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["bob"]);
    assert_eq!(store.get(&alice, alices.id).await.expect("get"), Some(alices));
}

#[tokio::test]
#[ignore = "needs the emulator: make test"]
async fn the_note_limit_holds_and_deleting_frees_room() {
    let store = store().await;
    let tenant = TenantId::generate();
    let mut kept = Vec::new();
    for n in 0..3 {
        let note = note(&format!("note {n}"));
        assert_eq!(store.create(&tenant, &note, 3, None).await.expect("create"), Created::Yes);
        kept.push(note.id);
    }
    let refused = note("one too many");
    assert_eq!(store.create(&tenant, &refused, 3, None).await.expect("create"), Created::LimitReached);
    assert_eq!(store.get(&tenant, refused.id).await.expect("get"), None);
    // Another tenant has its own count.
    assert_eq!(store.create(&TenantId::generate(), &note("elsewhere"), 3, None).await.expect("create"), Created::Yes);

    store.delete(&tenant, kept[0]).await.expect("delete");
    assert_eq!(store.create(&tenant, &refused, 3, None).await.expect("create"), Created::Yes);
    assert_eq!(store.list(&tenant, 10, None).await.expect("list").notes.len(), 3);
}
