//! Concurrent requests racing a version, a slug and a tier limit, through the
//! gateway: DynamoDB conditions and transactions must let exactly one (or
//! exactly the allowed number) win, whatever the interleaving.

use std::time::Instant;

use e2e::{IdempotencyKey, Reply, Stack, strong_password};
use notes::api::{CreateNote, UpdateNote};
use notes::domain::Note;
use tenancy::TenantTier;
use tenants::api::{RegisterTenant, Registered};
use tenants::domain::Tenant;
use tokio::task::JoinSet;

/// Counts replies by status, e.g. `[(200, 1), (409, 7)]`.
fn statuses(replies: &[Reply]) -> Vec<(u16, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for reply in replies {
        *counts.entry(reply.status).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

fn describe(replies: &[Reply]) -> String {
    replies
        .iter()
        .map(|r| format!("{} {}", r.status, r.body.chars().take(160).collect::<String>()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn concurrent_updates_of_one_version_let_exactly_one_win() {
    const WRITERS: usize = 8;
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.register_tenant("Racers", TenantTier::Free).await.expect("tenant");
    let api = tenant.admin.api.clone();
    let note: Note = api
        .create_note(&CreateNote {
            title: "start".to_owned(),
            body: "v1".to_owned(),
        })
        .await
        .expect("create")
        .expect_json(201)
        .expect("201");

    let mut writers = JoinSet::new();
    for writer in 0..WRITERS {
        let api = api.clone();
        let update = UpdateNote {
            title: format!("writer {writer}"),
            body: format!("content of writer {writer}"),
            version: note.version,
        };
        writers.spawn(async move { (update.clone(), api.update_note(note.id, &update).await.expect("update")) });
    }
    let mut replies = Vec::new();
    let mut winners = Vec::new();
    while let Some(joined) = writers.join_next().await {
        let (update, reply) = joined.expect("join");
        if reply.status == 200 {
            winners.push((update, reply.json::<Note>().expect("note")));
        } else {
            reply.clone().expect_problem(409, "conflict").expect("a loser gets 409");
        }
        replies.push(reply);
    }
    assert_eq!(
        statuses(&replies),
        [(200, 1), (409, WRITERS - 1)],
        "{}",
        describe(&replies)
    );
    let (update, answered) = winners.pop().expect("one winner");
    assert_eq!(answered.version, note.version + 1);
    assert_eq!(
        (answered.title.as_str(), answered.body.as_str()),
        (update.title.as_str(), update.body.as_str())
    );

    let stored: Note = api.get_note(note.id).await.expect("get").expect_json(200).expect("200");
    assert_eq!(stored.version, note.version + 1, "exactly one write landed");
    assert_eq!(
        (stored.title, stored.body),
        (update.title, update.body),
        "the winner's content"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn concurrent_registrations_of_one_slug_create_exactly_one_tenant() {
    const REGISTRANTS: usize = 6;
    let stack = Stack::from_env_or_panic().await;
    let slug = stack.unique("contested");
    let mut registrants = JoinSet::new();
    for _ in 0..REGISTRANTS {
        let anonymous = stack.anonymous();
        // The same fields each time, each registrant with its own password
        // and key: only the key tells them apart.
        let registration = RegisterTenant {
            name: "Contender".to_owned(),
            slug: slug.clone(),
            tier: TenantTier::Free,
            admin_email: format!("admin@{slug}.example.com"),
            admin_password: strong_password(),
        };
        registrants.spawn(async move {
            // Each registrant with its own key: exactly one may win.
            let key = IdempotencyKey::generate();
            let reply = anonymous.register(&registration, &key).await.expect("register");
            (registration, reply)
        });
    }
    let mut replies = Vec::new();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    while let Some(joined) = registrants.join_next().await {
        let (registration, reply) = joined.expect("join");
        if reply.status == 201 {
            winners.push((registration, reply.json::<Registered>().expect("registered")));
        } else {
            reply.clone().expect_problem(409, "conflict").expect("a loser gets 409");
            losers.push(registration);
        }
        replies.push(reply);
    }
    assert_eq!(
        statuses(&replies),
        [(201, 1), (409, REGISTRANTS - 1)],
        "{}",
        describe(&replies)
    );
    let (registration, registered) = winners.pop().expect("one winner");
    assert_eq!(registered.tenant.slug.as_str(), slug);
    assert_eq!(registered.tenant.name.as_str(), registration.name);

    // The operator's view: one tenant holds the slug, the winner's.
    let operator = stack.platform_admin().await.expect("platform admin");
    let holders: Vec<Tenant> = operator
        .api
        .admin_all_tenants()
        .await
        .expect("list")
        .into_iter()
        .filter(|tenant| tenant.slug.as_str() == slug)
        .collect();
    assert_eq!(holders.len(), 1, "{holders:?}");
    assert_eq!(holders[0].tenant_id, registered.tenant.tenant_id);
    assert_eq!(holders[0].name.as_str(), registration.name);

    // The winner's admin signs in to that tenant.
    let admin = stack
        .member(&registration.admin_email, &registration.admin_password)
        .await
        .expect("the winner's admin signs in");
    let own: Tenant = admin
        .api
        .get_tenant()
        .await
        .expect("get")
        .expect_json(200)
        .expect("200");
    assert_eq!(own.tenant_id, registered.tenant.tenant_id);
    // Only the winner's password: the losers' set nothing.
    for loser in &losers {
        assert!(
            stack.sign_in(&loser.admin_email, &loser.admin_password).await.is_err(),
            "a loser's password signs in"
        );
    }
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn concurrent_creates_at_the_tier_limit_never_exceed_it() {
    const BEFORE: usize = 95;
    const RACERS: usize = 10;
    let limit = usize::try_from(TenantTier::Free.limits().max_notes).expect("limit");
    assert_eq!(limit, 100);
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack
        .register_tenant("Crowded", TenantTier::Free)
        .await
        .expect("tenant");
    let api = tenant.admin.api.clone();
    let started = Instant::now();
    for n in 0..BEFORE {
        api.create_note(&CreateNote {
            title: format!("note {n}"),
            body: String::new(),
        })
        .await
        .expect("create")
        .expect_status(201)
        .expect("201 below the limit");
    }
    eprintln!("{BEFORE} sequential creates took {:?}", started.elapsed());

    let mut racers = JoinSet::new();
    for n in 0..RACERS {
        let api = api.clone();
        racers.spawn(async move {
            api.create_note(&CreateNote {
                title: format!("racer {n}"),
                body: String::new(),
            })
            .await
            .expect("create")
        });
    }
    let mut replies = Vec::new();
    while let Some(joined) = racers.join_next().await {
        let reply = joined.expect("join");
        if reply.status != 201 {
            reply
                .clone()
                .expect_problem(403, "limit-exceeded")
                .expect("a racer past the limit gets 403 limit-exceeded");
        }
        replies.push(reply);
    }
    assert_eq!(
        statuses(&replies),
        [(201, limit - BEFORE), (403, RACERS - (limit - BEFORE))],
        "{}",
        describe(&replies)
    );
    assert_eq!(
        api.all_notes().await.expect("list").len(),
        limit,
        "exactly the limit is stored"
    );
}
