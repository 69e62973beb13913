//! Every notes route through the gateway: create, get, update (optimistic
//! concurrency), delete, and the list across pages.

use std::collections::HashSet;

use e2e::Stack;
use notes::api::{CreateNote, NoteList, UpdateNote};
use notes::domain::{Note, NoteId};
use tenancy::TenantTier;

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn notes_are_created_read_updated_with_versions_and_deleted() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.register_tenant("Notes", TenantTier::Free).await.expect("tenant");
    let api = &tenant.admin.api;

    let reply = api
        .create_note(&CreateNote {
            title: "  Groceries ".to_owned(),
            body: "milk\neggs".to_owned(),
        })
        .await
        .expect("create")
        .expect_status(201)
        .expect("201");
    let location = reply
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("a Location header");
    let created: Note = reply.json().expect("note");
    assert_eq!(
        (created.title.as_str(), created.body.as_str()),
        ("Groceries", "milk\neggs")
    );
    assert_eq!(created.version, 1);
    assert!(location.ends_with(&format!("/notes/{}", created.id)), "{location}");

    let read: Note = api
        .get_note(created.id)
        .await
        .expect("get")
        .expect_json(200)
        .expect("200");
    assert_eq!(read, created);

    let updated: Note = api
        .update_note(
            created.id,
            &UpdateNote {
                title: "Groceries (Sat)".to_owned(),
                body: "milk\neggs\nbread".to_owned(),
                version: 1,
            },
        )
        .await
        .expect("update")
        .expect_json(200)
        .expect("200");
    assert_eq!(
        (updated.id, updated.version, updated.created_at),
        (created.id, 2, created.created_at)
    );
    assert_eq!(updated.title, "Groceries (Sat)");

    // A writer that read version 1 is too late now: 409, nothing changed.
    api.update_note(
        created.id,
        &UpdateNote {
            title: "lost update".to_owned(),
            body: String::new(),
            version: 1,
        },
    )
    .await
    .expect("stale update")
    .expect_problem(409, "conflict")
    .expect("409 for a stale version");
    let current: Note = api
        .get_note(created.id)
        .await
        .expect("get")
        .expect_json(200)
        .expect("200");
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
    api.get("/notes/not-a-note-id")
        .await
        .expect("get")
        .expect_problem(400, "bad-request")
        .expect("bad id");
    api.get_note(NoteId::generate())
        .await
        .expect("get")
        .expect_problem(404, "not-found")
        .expect("unknown id");

    api.delete_note(created.id)
        .await
        .expect("delete")
        .expect_status(204)
        .expect("204");
    api.get_note(created.id)
        .await
        .expect("get")
        .expect_problem(404, "not-found")
        .expect("gone");
    api.delete_note(created.id)
        .await
        .expect("delete again")
        .expect_problem(404, "not-found")
        .expect("deleting twice");
    assert!(api.all_notes().await.expect("list").is_empty());
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn the_note_list_pages_newest_first() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.register_tenant("Pages", TenantTier::Free).await.expect("tenant");
    let api = &tenant.admin.api;
    let mut created = Vec::new();
    for n in 0..5 {
        let note: Note = api
            .create_note(&CreateNote {
                title: format!("note {n}"),
                body: String::new(),
            })
            .await
            .expect("create")
            .expect_json(201)
            .expect("201");
        created.push(note.id);
    }

    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page: NoteList = api
            .list_notes(Some(2), cursor.as_deref())
            .await
            .expect("list")
            .expect_json(200)
            .expect("200");
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
    let page: NoteList = api
        .list_notes(None, None)
        .await
        .expect("list")
        .expect_json(200)
        .expect("200");
    assert_eq!(page.items.len(), 5);
    assert!(page.next_cursor.is_none());
    for query in [
        "?limit=0",
        "?limit=101",
        "?limit=two",
        "?cursor=not-ours",
        "?colour=red",
    ] {
        api.get(&format!("/notes{query}"))
            .await
            .expect("list")
            .expect_problem(400, "bad-request")
            .unwrap_or_else(|e| panic!("{query}: {e}"));
    }
}
