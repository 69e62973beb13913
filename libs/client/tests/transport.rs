//! The transport against a scripted HTTP server (wiremock): which calls are
//! retried and how, what a refused token does, timeouts, and how answers map
//! to errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::TryStreamExt as _;
use saas_client::{ApiClient, ClientConfig, Error, Method, Page, RetryPolicy, StaticToken, TokenSource, paginate};
use serde_json::{Value, json};
use tenancy::idempotency::IdempotencyKey;
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn problem(status: u16, kind: &str) -> Value {
    json!({"type": format!("urn:problem:{kind}"), "title": "t", "status": status, "detail": kind})
}

fn fast_config(server: &MockServer) -> ClientConfig {
    let mut config = ClientConfig::new(&server.uri()).expect("config");
    config.retry =
        RetryPolicy { max_retries: 3, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50) };
    config
}

fn client(server: &MockServer) -> ApiClient {
    ApiClient::new(&fast_config(server), Arc::new(StaticToken::new("token-1"))).expect("client")
}

/// Answers the scripted responses in order, then the last one forever.
struct Script(Vec<ResponseTemplate>, AtomicUsize);

impl Script {
    fn new(responses: Vec<ResponseTemplate>) -> Self {
        Self(responses, AtomicUsize::new(0))
    }
}

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.1.fetch_add(1, Ordering::SeqCst);
        self.0[n.min(self.0.len() - 1)].clone()
    }
}

#[tokio::test]
async fn idempotent_calls_are_retried_on_429_and_5xx_until_they_succeed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/things"))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(503).set_body_json(problem(503, "service-unavailable")),
            ResponseTemplate::new(429).set_body_json(problem(429, "too-many-requests")),
            ResponseTemplate::new(200).set_body_json(json!({"ok": true})),
        ]))
        .expect(3)
        .mount(&server)
        .await;
    let answer: Value = client(&server).call(Method::GET, &["things"]).send().await.expect("third try");
    assert_eq!(answer, json!({"ok": true}));
}

#[tokio::test]
async fn retries_stop_after_the_policy_and_return_the_last_error() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503).set_body_json(problem(503, "service-unavailable")))
        .expect(4) // one try + 3 retries
        .mount(&server)
        .await;
    let error = client(&server).call(Method::PUT, &["things", "1"]).send::<Value>().await.expect_err("always 503");
    assert!(matches!(&error, Error::Server(p) if p.status == 503), "{error:?}");
}

#[tokio::test]
async fn posts_are_retried_only_with_an_idempotency_key_sent_each_time() {
    let server = MockServer::start().await;
    let key = IdempotencyKey::generate();
    Mock::given(method("POST"))
        .and(path("/once"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/safe"))
        .and(header("idempotency-key", key.as_str()))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(502),
            ResponseTemplate::new(201).set_body_json(json!({"created": 1})),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    let api = client(&server);
    let error = api.call(Method::POST, &["once"]).send::<Value>().await.expect_err("503");
    assert_eq!(error.status(), Some(503));
    let created: Value = api.call(Method::POST, &["safe"]).idempotency_key(&key).send().await.expect("retried");
    assert_eq!(created, json!({"created": 1}));
}

#[tokio::test]
async fn client_errors_are_never_retried_and_keep_their_problem() {
    let server = MockServer::start().await;
    for (status, kind) in [(400, "bad-request"), (404, "not-found"), (409, "conflict"), (403, "forbidden")] {
        Mock::given(method("GET"))
            .and(path(format!("/s{status}")))
            .respond_with(ResponseTemplate::new(status).set_body_json(problem(status, kind)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let api = client(&server);
    let fetch = |status: u16| {
        let api = api.clone();
        async move { api.call(Method::GET, &[&format!("s{status}")]).send::<Value>().await.expect_err("error") }
    };
    assert!(matches!(fetch(400).await, Error::BadRequest(p) if p.kind == "urn:problem:bad-request"));
    assert!(matches!(fetch(404).await, Error::NotFound(p) if p.detail == "not-found"));
    assert!(matches!(fetch(409).await, Error::Conflict(_)));
    assert!(matches!(fetch(403).await, Error::Forbidden(_)));
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_the_maximum_delay() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(429).insert_header("Retry-After", "1"),
            ResponseTemplate::new(200).set_body_json(json!(1)),
        ]))
        .mount(&server)
        .await;
    let mut config = fast_config(&server);
    config.retry.max_delay = Duration::from_millis(300);
    let api = ApiClient::new(&config, Arc::new(StaticToken::new("t"))).expect("client");
    let started = Instant::now();
    let _: Value = api.call(Method::GET, &["x"]).send().await.expect("retried");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "Retry-After (1 s) capped at max_delay (300 ms), waited {waited:?}");
}

/// A token source that hands out `token-<n>` and renews on request.
#[derive(Debug, Default)]
struct Rotating {
    current: AtomicUsize,
}

#[async_trait]
impl TokenSource for Rotating {
    async fn access_token(&self) -> Result<String, Error> {
        Ok(format!("token-{}", self.current.load(Ordering::SeqCst)))
    }

    async fn renew(&self, rejected: &str) -> Result<bool, Error> {
        if rejected == format!("token-{}", self.current.load(Ordering::SeqCst)) {
            self.current.fetch_add(1, Ordering::SeqCst);
        }
        Ok(true)
    }
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_call_repeated_even_for_a_post() {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer token-0"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "Unauthorized"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!("made")))
        .expect(1)
        .mount(&server)
        .await;
    let tokens = Arc::new(Rotating::default());
    let api = ApiClient::new(&fast_config(&server), tokens.clone()).expect("client");
    let made: String = api.call(Method::POST, &["notes"]).send().await.expect("renewed");
    assert_eq!(made, "made");
    assert_eq!(tokens.current.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_fixed_token_that_is_refused_is_an_unauthorized_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "Unauthorized"})))
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server).call(Method::GET, &["notes"]).send::<Value>().await.expect_err("401");
    assert!(matches!(&error, Error::Unauthorized(p) if p.detail == "Unauthorized"), "{error:?}");
}

#[tokio::test]
async fn a_slow_answer_times_out_as_a_transport_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let mut config = fast_config(&server);
    config.timeout = Duration::from_millis(200);
    let api = ApiClient::new(&config, Arc::new(StaticToken::new("t"))).expect("client");
    let error = api.call(Method::POST, &["slow"]).send::<Value>().await.expect_err("timeout");
    assert!(matches!(&error, Error::Transport { source, .. } if source.is_timeout()), "{error:?}");
}

#[tokio::test]
async fn path_segments_are_encoded_and_anonymous_calls_carry_no_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/notes/..%2Fadmin%3Fx"))
        .and(query_param("cursor", "a b&c"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(true)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(header_exists("authorization")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
    let api = ApiClient::anonymous(&fast_config(&server)).expect("client");
    let answer: bool =
        api.call(Method::GET, &["notes", "../admin?x"]).query("cursor", "a b&c").send().await.expect("encoded");
    assert!(answer);
}

#[tokio::test]
async fn a_body_that_is_not_the_documented_json_is_an_unexpected_response() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("<html>")).mount(&server).await;
    let error = client(&server).call(Method::GET, &["x"]).send::<Vec<u8>>().await.expect_err("html");
    assert!(matches!(error, Error::UnexpectedResponse { .. }), "{error:?}");
}

#[tokio::test]
async fn pagination_follows_cursors_and_refuses_a_loop() {
    let pages = paginate(|cursor: Option<String>| async move {
        Ok::<_, Error>(match cursor.as_deref() {
            None => Page { items: vec![1, 2], next_cursor: Some("a".into()) },
            Some("a") => Page { items: vec![3], next_cursor: Some("b".into()) },
            _ => Page { items: vec![4], next_cursor: None },
        })
    });
    assert_eq!(pages.try_collect::<Vec<_>>().await.expect("pages"), vec![1, 2, 3, 4]);

    let looping = paginate(|_cursor: Option<String>| async move {
        Ok::<_, Error>(Page { items: vec![0], next_cursor: Some("same".into()) })
    });
    let error = looping.try_collect::<Vec<_>>().await.expect_err("a cursor loop");
    assert!(matches!(error, Error::UnexpectedResponse { .. }));
}
