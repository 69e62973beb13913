//! The Runtime API and instance pool, with a scripted runtime (curl).

mod support;

use std::time::Duration;

use axum::body::Bytes;
use local_gateway::runtime::{Failure, FunctionPool, Outcome, ProcessRegistry};
use serde_json::Value;
use support::{eventually, fake_spec, process_gone};

fn pid_of(outcome: &Result<Outcome, Failure>) -> u64 {
    match outcome {
        Ok(Outcome::Success(body)) => {
            let value: Value = serde_json::from_slice(body).expect("json answer");
            value["pid"].as_u64().expect("pid")
        }
        other => panic!("expected a response, got {other:?}"),
    }
}

fn pool(timeout: Duration, max: usize) -> (std::sync::Arc<FunctionPool>, ProcessRegistry) {
    let registry = ProcessRegistry::default();
    (FunctionPool::new(fake_spec("fake", timeout, max), registry.clone()), registry)
}

#[tokio::test]
async fn next_and_response_and_the_instance_stays_warm() {
    let (pool, registry) = pool(Duration::from_secs(5), 4);
    let first = pool.invoke(Bytes::from_static(br#"{"hello":"world"}"#)).await;
    let Ok(Outcome::Success(body)) = &first.result else { panic!("{first:?}") };
    let value: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(value["event"]["hello"], "world");
    let second = pool.invoke(Bytes::from_static(b"{}")).await;
    assert_eq!(pid_of(&first.result), pid_of(&second.result), "same warm instance");
    assert_ne!(first.request_id, second.request_id);
    assert_eq!(pool.instances_started(), 1);
    assert_eq!(registry.len(), 1);
    let pid = pid_of(&second.result);
    pool.stop();
    assert!(eventually(Duration::from_secs(5), || process_gone(pid)).await, "instance killed on stop");
}

#[tokio::test]
async fn invocation_error_is_a_function_error() {
    let (pool, _registry) = pool(Duration::from_secs(5), 4);
    let invocation = pool.invoke(Bytes::from_static(br#"{"x":"FAIL-ME"}"#)).await;
    match invocation.result {
        Ok(Outcome::FunctionError { payload, error_type }) => {
            assert_eq!(error_type, "Boom");
            let value: Value = serde_json::from_slice(&payload).expect("json");
            assert_eq!(value["errorMessage"], "boom");
        }
        other => panic!("{other:?}"),
    }
    // The instance survives an invocation error.
    let next = pool.invoke(Bytes::from_static(b"{}")).await;
    pid_of(&next.result);
    assert_eq!(pool.instances_started(), 1);
}

#[tokio::test]
async fn crash_fails_the_invocation_and_the_next_one_is_served() {
    let (pool, _registry) = pool(Duration::from_secs(5), 4);
    let warm = pid_of(&pool.invoke(Bytes::from_static(b"{}")).await.result);
    let crashed = pool.invoke(Bytes::from_static(br#"{"x":"CRASH-ME"}"#)).await;
    assert!(matches!(crashed.result, Err(Failure::Crashed(_))), "{crashed:?}");
    let next = pid_of(&pool.invoke(Bytes::from_static(b"{}")).await.result);
    assert_ne!(warm, next, "a new instance replaced the crashed one");
    assert!(process_gone(warm));
}

#[tokio::test]
async fn timeout_kills_the_instance_and_a_replacement_serves() {
    let (pool, registry) = pool(Duration::from_secs(1), 4);
    let warm = pid_of(&pool.invoke(Bytes::from_static(b"{}")).await.result);
    let started = std::time::Instant::now();
    let timed_out = pool.invoke(Bytes::from_static(br#"{"x":"HANG-ME"}"#)).await;
    assert_eq!(timed_out.result, Err(Failure::TimedOut(Duration::from_secs(1))));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(eventually(Duration::from_secs(5), || process_gone(warm)).await, "hung instance killed");
    let next = pid_of(&pool.invoke(Bytes::from_static(b"{}")).await.result);
    assert_ne!(warm, next);
    assert!(registry.len() <= 2, "{}", registry.len());
}

#[tokio::test]
async fn concurrent_invocations_get_a_second_instance_and_the_cap_queues() {
    let (pool, _registry) = pool(Duration::from_secs(5), 2);
    let sleep = || Bytes::from_static(br#"{"x":"SLEEP-ME"}"#);
    let (a, b) = tokio::join!(pool.invoke(sleep()), pool.invoke(sleep()));
    assert_ne!(pid_of(&a.result), pid_of(&b.result));
    assert_eq!(pool.instances_started(), 2);
    // Three at once with a cap of two: the third waits for a free instance.
    let (a, b, c) = tokio::join!(pool.invoke(sleep()), pool.invoke(sleep()), pool.invoke(sleep()));
    for result in [&a.result, &b.result, &c.result] {
        pid_of(result);
    }
    assert_eq!(pool.instances_started(), 2);
    assert_eq!(pool.idle_instances(), 2);
}

#[tokio::test]
async fn init_error_fails_the_invocation() {
    let registry = ProcessRegistry::default();
    let mut spec = fake_spec("broken", Duration::from_secs(5), 1);
    spec.env.push(("FAKE_INIT_ERROR".to_owned(), "1".to_owned()));
    let pool = FunctionPool::new(spec, registry);
    let invocation = pool.invoke(Bytes::from_static(b"{}")).await;
    match invocation.result {
        Err(Failure::InitFailed { error_type, .. }) => assert_eq!(error_type, "Runtime.InitError"),
        // The runtime may exit before its init error is seen.
        Err(Failure::Crashed(_)) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn kill_all_ends_every_instance() {
    let (pool, registry) = pool(Duration::from_secs(5), 4);
    let sleep = || Bytes::from_static(br#"{"x":"SLEEP-ME"}"#);
    let (a, b) = tokio::join!(pool.invoke(sleep()), pool.invoke(sleep()));
    let pids = [pid_of(&a.result), pid_of(&b.result)];
    registry.kill_all();
    assert!(eventually(Duration::from_secs(5), || pids.iter().all(|p| process_gone(*p))).await);
}

#[tokio::test]
async fn an_instance_that_died_while_idle_never_fails_a_request() {
    let (pool, _registry) = pool(Duration::from_secs(5), 4);
    for _ in 0..5 {
        let warm = pid_of(&pool.invoke(Bytes::from_static(b"{}")).await.result);
        let pid = nix::unistd::Pid::from_raw(i32::try_from(warm).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("kill the idle instance");
        // At once, before the gateway can notice: no code ran for this request,
        // so it must be served by a fresh instance, not answered with a 502.
        let next = pool.invoke(Bytes::from_static(b"{}")).await;
        assert_ne!(pid_of(&next.result), warm, "served by a new instance");
    }
}

#[tokio::test]
async fn metrics_report_init_first_response_cpu_and_memory_per_instance() {
    let (pool, _registry) = pool(Duration::from_secs(5), 4);
    let first = pid_of(&pool.invoke(Bytes::from_static(b"{}")).await.result);
    pool.invoke(Bytes::from_static(b"{}")).await;
    let snapshot = pool.snapshot();
    assert_eq!(snapshot.function, "fake");
    assert_eq!((snapshot.instances_started, snapshot.invocations), (1, 2));
    let [instance] = snapshot.instances.as_slice() else { panic!("{snapshot:?}") };
    assert_eq!(u64::from(instance.pid), first);
    assert!(instance.running);
    assert_eq!(instance.invocations, 2);
    let init = instance.init_ms.expect("init duration");
    let first_response = instance.first_response_ms.expect("first response");
    assert!(init > 0.0 && first_response >= init, "{instance:?}");
    assert!(instance.cpu_ticks.is_some() && instance.max_rss_kb.is_some_and(|kb| kb > 0));

    // Recycling (stop) ends the instance; its figures stay, and the next
    // invocation is a cold start on a new process.
    pool.stop();
    let next = pid_of(&pool.invoke(Bytes::from_static(b"{}")).await.result);
    assert_ne!(first, next);
    let snapshot = pool.snapshot();
    assert_eq!(snapshot.instances.len(), 2);
    assert!(!snapshot.instances[0].running);
    assert_eq!(snapshot.instances[0].init_ms, Some(init));
    assert!(snapshot.instances[1].running && snapshot.instances[1].init_ms.is_some());
}

#[tokio::test]
async fn every_line_an_instance_writes_lands_in_the_functions_log_file() {
    let folder = std::env::temp_dir().join(format!("gw-logs-{}", uuid::Uuid::new_v4().simple()));
    let log_file = folder.join("logs").join("fake.log");
    let mut spec = fake_spec("fake", Duration::from_secs(5), 2);
    spec.log_file = Some(log_file.clone());
    let pool = FunctionPool::new(spec, ProcessRegistry::default());
    let pid = pid_of(&pool.invoke(Bytes::from_static(br#"{"x":"LOG-ME"}"#)).await.result);
    let logged = || std::fs::read_to_string(&log_file).unwrap_or_default();
    assert!(
        eventually(Duration::from_secs(5), || {
            let text = logged();
            text.contains(&format!("out from {pid}\n")) && text.contains(&format!("err from {pid}\n"))
        })
        .await,
        "log file: {:?}",
        logged()
    );
    pool.stop();
    let _ = std::fs::remove_dir_all(folder);
}
