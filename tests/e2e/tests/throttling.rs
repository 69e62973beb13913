//! Stage throttling through the typed client, against the local stack: the
//! gateway enforces the deployed `$default` stage's route limits
//! (`throttling_burst_limit` / `throttling_rate_limit` in
//! terraform/platform) as API Gateway does, so a drained route answers
//! `429 {"message":"Too Many Requests"}` and the client reports
//! `Error::TooManyRequests`, or retries it for an idempotent call.
//!
//! A test binary of its own on purpose: cargo runs test binaries one after
//! another, so draining `GET /notes` here cannot throttle another test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use e2e::Stack;
use notes_client::NotesClient;
use saas_client::{ApiClient, ClientConfig, Error, RetryPolicy, StaticToken};
use tenants_client::TenantTier;

/// The route drained here.
const ROUTE: &str = "GET /notes";
/// Unauthenticated requests in flight while the route is drained: far more
/// than any stage rate refills (the throttle answers before the authorizer).
const FLOODERS: usize = 16;

/// The deployed limits of [`ROUTE`]: its own route setting, else the stage default.
async fn deployed_limits(stack: &Stack) -> (i32, f64) {
    let api_id = stack.platform_parameter("api_id").await.expect("the published api id");
    let stage = aws_sdk_apigatewayv2::Client::new(stack.emulator_config())
        .get_stage()
        .api_id(api_id)
        .stage_name("$default")
        .send()
        .await
        .expect("the $default stage");
    let route = stage.route_settings().and_then(|routes| routes.get(ROUTE));
    let default = stage.default_route_settings();
    let burst = route
        .and_then(|r| r.throttling_burst_limit())
        .or_else(|| default.and_then(|d| d.throttling_burst_limit()))
        .expect("the stage sets a burst limit");
    let rate = route
        .and_then(|r| r.throttling_rate_limit())
        .or_else(|| default.and_then(|d| d.throttling_rate_limit()))
        .expect("the stage sets a rate limit");
    (burst, rate)
}

/// Unauthenticated `GET /notes` from [`FLOODERS`] tasks until stopped; counts 429s.
struct Flood {
    stop: Arc<AtomicBool>,
    throttled: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Flood {
    fn start(gateway: &str) -> Self {
        let (stop, throttled) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let http = reqwest::Client::builder().no_proxy().build().expect("http");
        let tasks = (0..FLOODERS)
            .map(|_| {
                let (http, stop, throttled) = (http.clone(), Arc::clone(&stop), Arc::clone(&throttled));
                let url = format!("{gateway}/notes");
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        if let Ok(response) = http.get(&url).send().await
                            && response.status() == 429
                        {
                            throttled.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        Self { stop, throttled, tasks }
    }

    /// Waits until the route answers 429.
    async fn until_throttled(&self, limits: (i32, f64)) {
        let drained = tokio::time::timeout(Duration::from_secs(30), async {
            while self.throttled.load(Ordering::Relaxed) == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(drained.is_ok(), "{FLOODERS} concurrent requests never drained {ROUTE} (burst, rate = {limits:?})");
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("flood task");
        }
    }
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_drained_route_is_too_many_requests_and_an_idempotent_call_retries_through_it() {
    let stack = Stack::from_env_or_panic().await;
    let limits = deployed_limits(&stack).await;
    let tenant = stack.tenant("Throttled Co", TenantTier::Pro).await;
    let token = Arc::new(StaticToken::new(tenant.admin.tokens.access_token.clone()));
    let mut config = ClientConfig::new(&stack.settings.gateway).expect("gateway URL");
    config.retry = RetryPolicy::none();
    let no_retries = NotesClient::new(ApiClient::new(&config, token.clone()).expect("client"));
    let retrying = NotesClient::new(
        ApiClient::new(&ClientConfig::new(&stack.settings.gateway).expect("gateway URL"), token).expect("client"),
    );
    assert!(no_retries.list_page(None, None).await.is_ok(), "the route works before the flood");

    // While the flood keeps the bucket empty, a call finds no token (it can
    // win one refilled token now and then, hence a few tries).
    let flood = Flood::start(&stack.settings.gateway);
    flood.until_throttled(limits).await;
    let mut throttled = None;
    for _ in 0..20 {
        if let Err(error) = no_retries.list_page(None, None).await {
            throttled = Some(error);
            break;
        }
    }
    let error = throttled.expect("a call during the flood");
    let Error::TooManyRequests { problem, retry_after } = &error else {
        panic!("expected TooManyRequests, got {error:?}");
    };
    assert_eq!(error.status(), Some(429));
    assert_eq!(
        (problem.kind.as_str(), problem.title.as_str(), problem.detail.as_str()),
        ("about:blank", "Too Many Requests", "Too Many Requests"),
        "API Gateway's own body becomes an about:blank problem"
    );
    assert_eq!(*retry_after, None, "API Gateway sends no Retry-After");
    assert!(error.is_transient());

    // The default policy retries the idempotent list after a jittered delay
    // (100 ms at least): the flood stops 150 ms into the call, the bucket
    // refills, and a retry gets through.
    let call = tokio::spawn(async move { retrying.list_page(None, None).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    flood.stop().await;
    let page = call.await.expect("call task");
    assert!(page.is_ok(), "retried through the throttle: {page:?}");

    // Leave the bucket full for whatever runs next.
    let (burst, rate) = limits;
    tokio::time::sleep(Duration::from_secs_f64(f64::from(burst.max(0)) / rate.max(1.0))).await;
}
