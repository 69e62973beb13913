//! Every notes route through the gateway: create, get, update (optimistic
//! concurrency), delete, and the list across pages.

use std::collections::HashSet;

use e2e::{Refused as _, Stack};
use futures_util::TryStreamExt as _;
use notes_client::{CreateNote, Note, NoteId, UpdateNote};
use tenancy::TenantTier;

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn notes_are_created_read_updated_with_versions_and_deleted() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Notes", TenantTier::Free).await;
    let (api, notes) = (&tenant.admin.api, &tenant.admin.notes);

    // The raw API: the client hides the status and the Location header.
    let groceries = serde_json::json!({"title": "  Groceries ", "body": "milk\neggs"});
    let reply = api
        .send(reqwest::Method::POST, "/notes", Some(groceries))
        .await
        .expect("create")
        .expect_status(201)
        .expect("201");
    let location =
        reply.headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_owned).expect("a Location header");
    let created: Note = reply.json().expect("note");
    assert_eq!((created.title.as_str(), created.body.as_str()), ("Groceries", "milk\neggs"));
    assert_eq!(created.version, 1);
    assert!(location.ends_with(&format!("/notes/{}", created.id)), "{location}");

    let read = notes.get(created.id).await.expect("get");
    assert_eq!(read, created);

    let updated = notes
        .update(
            created.id,
            &UpdateNote { title: "Groceries (Sat)".to_owned(), body: "milk\neggs\nbread".to_owned(), version: 1 },
        )
        .await
        .expect("update");
    assert_eq!((updated.id, updated.version, updated.created_at), (created.id, 2, created.created_at));
    assert_eq!(updated.title, "Groceries (Sat)");

    // A writer that read version 1 is too late now: 409, nothing changed.
    let stale = UpdateNote { title: "lost update".to_owned(), body: String::new(), version: 1 };
    notes.update(created.id, &stale).await.refused(409, "conflict").expect("409 for a stale version");
    let current = notes.get(created.id).await.expect("get");
    assert_eq!(current, updated);

    // Invalid input is refused before anything is written.
    for body in [
        serde_json::json!({"title": "   "}),
        serde_json::json!({"title": "a\nb"}),
        serde_json::json!({"title": "x", "colour": "red"}),
        serde_json::json!({"body": "no title"}),
    ] {
        api.send(reqwest::Method::POST, "/notes", Some(body.clone()))
            .await
            .expect("create")
            .expect_problem(400, "bad-request")
            .unwrap_or_else(|e| panic!("{body}: {e}"));
    }
    api.get("/notes/not-a-note-id").await.expect("get").expect_problem(400, "bad-request").expect("bad id");
    notes.get(NoteId::generate()).await.refused(404, "not-found").expect("unknown id");

    api.send(reqwest::Method::DELETE, &format!("/notes/{}", created.id), None)
        .await
        .expect("delete")
        .expect_status(204)
        .expect("204");
    notes.get(created.id).await.refused(404, "not-found").expect("gone");
    notes.delete(created.id).await.refused(404, "not-found").expect("deleting twice");
    let left: Vec<Note> = notes.list(None).try_collect().await.expect("list");
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn the_note_list_pages_newest_first() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Pages", TenantTier::Free).await;
    let (api, notes) = (&tenant.admin.api, &tenant.admin.notes);
    let mut created = Vec::new();
    for n in 0..5 {
        let note = CreateNote { title: format!("note {n}"), body: String::new() };
        created.push(notes.create(&note).await.expect("create").id);
    }

    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = notes.list_page(Some(2), cursor.as_deref()).await.expect("list");
        pages.push(page.items.iter().map(|n| n.id).collect::<Vec<_>>());
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages.len() < 10, "the pages never end: {pages:?}");
    }
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1], "{pages:?}");
    let listed: Vec<NoteId> = pages.concat();
    let newest_first: Vec<NoteId> = created.iter().rev().copied().collect();
    assert_eq!(listed, newest_first, "every note once, newest first");
    assert_eq!(listed.iter().collect::<HashSet<_>>().len(), 5);

    // The default page holds them all; bad limits and cursors are refused.
    let page = notes.list_page(None, None).await.expect("list");
    assert_eq!(page.items.len(), 5);
    assert!(page.next_cursor.is_none());
    for query in ["?limit=0", "?limit=101", "?limit=two", "?cursor=not-ours", "?colour=red"] {
        api.get(&format!("/notes{query}"))
            .await
            .expect("list")
            .expect_problem(400, "bad-request")
            .unwrap_or_else(|e| panic!("{query}: {e}"));
    }
}
