//! A function instance that dies mid-invocation: the client gets API
//! Gateway's 502 `{"message":"Internal Server Error"}`, and the next request
//! is served by a fresh instance.
//!
//! Alone in its own test binary on purpose: it stops and kills every notes
//! instance of the gateway under test, which would break other tests'
//! requests if they ran at the same time (cargo runs test binaries one after
//! another). Only instances of this gateway are touched (matched through
//! their environment, see `e2e::process`).

use std::time::Duration;

use e2e::{Stack, process};
use nix::sys::signal::Signal;
use notes_client::CreateNote;
use tenancy::TenantTier;

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_crash_during_an_invocation_is_a_502_and_the_next_request_is_served() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Crashy", TenantTier::Free).await;
    let (api, notes) = (tenant.admin.api.clone(), &tenant.admin.notes);
    let survivor = CreateNote { title: "survives the crash".to_owned(), body: String::new() };
    let note = notes.create(&survivor).await.expect("create");

    // A warm notes instance exists now. Let its runtime get back into its
    // `/next` long-poll (it posts the 201 first, then asks for the next event),
    // so the next invocation is taken by it; then stop it, so it cannot run it.
    // (An instance that dies before taking an invocation is not a crash of the
    // function: the gateway serves that request from a fresh instance.)
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let instances = process::function_instances(&stack.settings.gateway, "notes").expect("/proc");
    assert!(
        !instances.is_empty(),
        "no notes instance of the gateway {} found under /proc (…/functions/<fn>/bootstrap)",
        stack.settings.gateway
    );
    for instance in &instances {
        process::signal(instance.pid, Signal::SIGSTOP).expect("SIGSTOP");
    }

    let in_flight = tokio::spawn({
        let api = api.clone();
        // The raw API: the answer to look at is the gateway's 502 body.
        async move { api.get("/notes").await }
    });
    // Let the gateway hand the invocation over (the function's timeout is
    // 10 s; this is well inside it).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!in_flight.is_finished(), "the request was answered while every notes instance was stopped");
    for instance in &instances {
        process::signal(instance.pid, Signal::SIGKILL).expect("SIGKILL");
    }

    let reply = tokio::time::timeout(Duration::from_secs(20), in_flight)
        .await
        .expect("the gateway answers after the crash")
        .expect("task")
        .expect("reply");
    assert_eq!(reply.status, 502, "{reply:?}");
    let body: serde_json::Value = reply.json().expect("json");
    assert_eq!(body, serde_json::json!({"message": "Internal Server Error"}));
    // The killed instances are gone (the gateway reaps them).
    for instance in &instances {
        let mut waited = 0;
        while process::exists(instance.pid) && waited < 100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += 1;
        }
        assert!(!process::is_alive(instance.pid), "{instance:?} is still running");
        assert!(!process::exists(instance.pid), "{instance:?} was never reaped by the gateway");
    }

    // The next request gets a fresh instance, and the data is intact.
    let page = notes.list_page(None, None).await.expect("200 after the crash");
    assert_eq!(page.items, vec![note]);
    let after = process::function_instances(&stack.settings.gateway, "notes").expect("/proc");
    assert!(after.iter().all(|i| !instances.iter().any(|old| old.pid == i.pid)), "a new instance serves: {after:?}");
}
