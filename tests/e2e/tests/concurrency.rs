//! Concurrent requests racing a version, a slug and a tier limit, through the
//! gateway: DynamoDB conditions and transactions must let exactly one (or
//! exactly the allowed number) win, whatever the interleaving.

use std::time::Instant;

use e2e::{IdempotencyKey, Refused as _, Stack, strong_password};
use futures_util::TryStreamExt as _;
use notes_client::{CreateNote, Note, UpdateNote};
use saas_client::Error;
use tenancy::TenantTier;
use tenants_client::{RegisterTenant, Tenant};
use tokio::task::JoinSet;

/// Counts answers by status, e.g. `[(200, 1), (409, 7)]`: `ok` for a
/// success, the problem's status for a refusal.
fn statuses<T>(answers: &[Result<T, Error>], ok: u16) -> Vec<(u16, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for answer in answers {
        let status = match answer {
            Ok(_) => ok,
            Err(error) => error.problem().map_or(0, |problem| problem.status),
        };
        *counts.entry(status).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

fn describe<T: std::fmt::Debug>(answers: &[Result<T, Error>]) -> String {
    answers.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn concurrent_updates_of_one_version_let_exactly_one_win() {
    const WRITERS: usize = 8;
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Racers", TenantTier::Free).await;
    let notes = tenant.admin.notes.clone();
    let start = CreateNote { title: "start".to_owned(), body: "v1".to_owned() };
    let note = notes.create(&start).await.expect("create");

    let mut writers = JoinSet::new();
    for writer in 0..WRITERS {
        let notes = notes.clone();
        let update = UpdateNote {
            title: format!("writer {writer}"),
            body: format!("content of writer {writer}"),
            version: note.version,
        };
        writers.spawn(async move { (update.clone(), notes.update(note.id, &update).await) });
    }
    let mut answers = Vec::new();
    let mut winners = Vec::new();
    while let Some(joined) = writers.join_next().await {
        let (update, answer) = joined.expect("join");
        match &answer {
            Ok(note) => winners.push((update, note.clone())),
            Err(_) => {
                answer.refused(409, "conflict").expect("a loser gets 409");
            }
        }
        answers.push(answer);
    }
    assert_eq!(statuses(&answers, 200), [(200, 1), (409, WRITERS - 1)], "{}", describe(&answers));
    let (update, answered) = winners.pop().expect("one winner");
    assert_eq!(answered.version, note.version + 1);
    assert_eq!((answered.title.as_str(), answered.body.as_str()), (update.title.as_str(), update.body.as_str()));

    let stored = notes.get(note.id).await.expect("get");
    assert_eq!(stored.version, note.version + 1, "exactly one write landed");
    assert_eq!((stored.title, stored.body), (update.title, update.body), "the winner's content");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn concurrent_registrations_of_one_slug_create_exactly_one_tenant() {
    const REGISTRANTS: usize = 6;
    let stack = Stack::from_env_or_panic().await;
    let slug = stack.unique("contested");
    let mut registrants = JoinSet::new();
    for _ in 0..REGISTRANTS {
        let public = stack.registration();
        // The same fields each time, each registrant with its own password
        // and key: only the key tells them apart.
        let registration = RegisterTenant {
            name: "Contender".to_owned(),
            slug: slug.clone(),
            tier: TenantTier::Free,
            admin_email: format!("admin@{slug}.example.com"),
            admin_password: strong_password().into(),
        };
        registrants.spawn(async move {
            // Each registrant with its own key: exactly one may win.
            let key = IdempotencyKey::generate();
            let answer = public.register_with_key(&registration, &key).await;
            (registration, answer)
        });
    }
    let mut answers = Vec::new();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    while let Some(joined) = registrants.join_next().await {
        let (registration, answer) = joined.expect("join");
        match &answer {
            Ok(registered) => winners.push((registration, registered.clone())),
            Err(_) => {
                answer.refused(409, "conflict").expect("a loser gets 409");
                losers.push(registration);
            }
        }
        answers.push(answer);
    }
    assert_eq!(statuses(&answers, 201), [(201, 1), (409, REGISTRANTS - 1)], "{}", describe(&answers));
    let (registration, registered) = winners.pop().expect("one winner");
    assert_eq!(registered.tenant.slug.as_str(), slug);
    assert_eq!(registered.tenant.name.as_str(), registration.name);

    // The operator's view: one tenant holds the slug, the winner's.
    let operator = stack.platform_admin().await.expect("platform admin");
    let every: Vec<Tenant> = operator.tenants.list(None).try_collect().await.expect("list");
    let holders: Vec<Tenant> = every.into_iter().filter(|tenant| tenant.slug.as_str() == slug).collect();
    assert_eq!(holders.len(), 1, "{holders:?}");
    assert_eq!(holders[0].tenant_id, registered.tenant.tenant_id);
    assert_eq!(holders[0].name.as_str(), registration.name);

    // The winner's admin signs in to that tenant.
    let admin = stack
        .member(&registration.admin_email, registration.admin_password.expose())
        .await
        .expect("the winner's admin signs in");
    let own = admin.tenants.current().await.expect("get");
    assert_eq!(own.tenant_id, registered.tenant.tenant_id);
    // Only the winner's password: the losers' set nothing.
    for loser in &losers {
        assert!(
            stack.sign_in(&loser.admin_email, loser.admin_password.expose()).await.is_err(),
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
    let tenant = stack.tenant("Crowded", TenantTier::Free).await;
    let notes = tenant.admin.notes.clone();
    let note = |title: String| CreateNote { title, body: String::new() };
    let started = Instant::now();
    for n in 0..BEFORE {
        notes.create(&note(format!("note {n}"))).await.expect("201 below the limit");
    }
    eprintln!("{BEFORE} sequential creates took {:?}", started.elapsed());

    let mut racers = JoinSet::new();
    for n in 0..RACERS {
        let (notes, racer) = (notes.clone(), note(format!("racer {n}")));
        racers.spawn(async move { notes.create(&racer).await });
    }
    let mut answers = Vec::new();
    while let Some(joined) = racers.join_next().await {
        let answer = joined.expect("join");
        if answer.is_err() {
            answer.refused(403, "limit-exceeded").expect("a racer past the limit gets 403 limit-exceeded");
        }
        answers.push(answer);
    }
    assert_eq!(
        statuses(&answers, 201),
        [(201, limit - BEFORE), (403, RACERS - (limit - BEFORE))],
        "{}",
        describe(&answers)
    );
    let stored: Vec<Note> = notes.list(Some(100)).try_collect().await.expect("list");
    assert_eq!(stored.len(), limit, "exactly the limit is stored");
}
