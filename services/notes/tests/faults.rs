//! Faults of the dependencies, without the emulator: DynamoDB not listening,
//! STS unavailable, DynamoDB throttling. The handler must answer a 503
//! problem (never panic, never 500 for a transient fault), and a throttled
//! call must be retried by the SDK's standard retry strategy.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use notes::domain::NoteId;
use notes::entrypoint::NotesApi;
use notes::store::{DynamoNoteStore, NoteStore};
use tenancy::TenantId;
use tenancy::audit::{Audit, DynamoAuditStore};
use tenancy::authority::{Authority, AuthoritySettings, DynamoAuthorityStore};
use tenancy::credentials::{CredentialsError, RoleAssumer, TenantCacheSettings};
use tenancy::table::{DataError, tenant_dynamo_cache};
use tenancy::testing::{Req, SignedIn, body_text};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

// --- Fakes -----------------------------------------------------------------------------

/// A role assumer that answers with a fixed result and counts its calls.
#[derive(Debug, Clone)]
struct FakeAssumer {
    fail: Option<CredentialsError>,
    calls: Arc<AtomicUsize>,
}

impl FakeAssumer {
    fn succeeding() -> Self {
        Self { fail: None, calls: Arc::default() }
    }

    fn failing(error: CredentialsError) -> Self {
        Self { fail: Some(error), calls: Arc::default() }
    }
}

impl RoleAssumer for FakeAssumer {
    async fn assume(&self, _tenant: &TenantId) -> Result<Credentials, CredentialsError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match &self.fail {
            Some(error) => Err(error.clone()),
            None => Ok(Credentials::new(
                "AKIDTENANT",
                "secret",
                Some("session-token".into()),
                Some(SystemTime::now() + Duration::from_secs(3600)),
                "fake",
            )),
        }
    }
}

/// An SDK configuration that sends DynamoDB calls to `endpoint`, with the
/// SDK's defaults otherwise (standard retry: 3 attempts with backoff). Built
/// by hand so no environment variable (`AWS_ENDPOINT_URL` under `make test`)
/// can redirect it.
fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .build()
}

fn store(endpoint: &str, assumer: FakeAssumer) -> DynamoNoteStore<FakeAssumer> {
    let dynamo = tenant_dynamo_cache(assumer, sdk_config(endpoint), TenantCacheSettings::default());
    DynamoNoteStore::new(dynamo, "notes-faults")
}

type Api = NotesApi<DynamoNoteStore<FakeAssumer>, DynamoAuthorityStore<FakeAssumer>, DynamoAuditStore<FakeAssumer>>;

/// The notes API as the function builds it: notes and the callers' records
/// (authority) through one tenant DynamoDB cache, against `endpoint`.
fn api(endpoint: &str, assumer: FakeAssumer) -> Api {
    let dynamo = tenant_dynamo_cache(assumer, sdk_config(endpoint), TenantCacheSettings::default());
    let authority = Authority::new(
        DynamoAuthorityStore::new(dynamo.clone(), "tenants-faults", "memberships-faults"),
        AuthoritySettings::default(),
    );
    let audit = Audit::new(DynamoAuditStore::new(dynamo.clone(), "audit-faults"));
    NotesApi::new(DynamoNoteStore::new(dynamo, "notes-faults"), authority, audit)
}

/// A local port nothing listens on (bound, noted, released).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    port
}

// --- Requests --------------------------------------------------------------------------

fn event(
    caller: &SignedIn,
    route: &'static str,
    note_id: Option<NoteId>,
    body: Option<serde_json::Value>,
) -> ApiGatewayV2httpRequest {
    Req {
        route,
        path_param: note_id.map(|id| id.to_string()),
        body: body.map(|body| body.to_string()),
        claims: caller.claims(),
        ..Req::default()
    }
    .event()
}

/// One request per route, each valid, so only the fault can make it fail.
fn every_route(caller: &SignedIn) -> Vec<(&'static str, ApiGatewayV2httpRequest)> {
    let id = NoteId::generate();
    let content = serde_json::json!({"title": "t", "body": "b"});
    let update = serde_json::json!({"title": "t", "body": "b", "version": 1});
    vec![
        ("GET /notes", event(caller, "GET /notes", None, None)),
        ("POST /notes", event(caller, "POST /notes", None, Some(content))),
        ("GET /notes/{note_id}", event(caller, "GET /notes/{note_id}", Some(id), None)),
        ("PUT /notes/{note_id}", event(caller, "PUT /notes/{note_id}", Some(id), Some(update))),
        ("DELETE /notes/{note_id}", event(caller, "DELETE /notes/{note_id}", Some(id), None)),
    ]
}

fn assert_problem(route: &str, response: &ApiGatewayV2httpResponse, status: u16, kind: &str) {
    let problem = tenancy::testing::assert_problem(response, i64::from(status));
    assert_eq!(problem.kind, format!("urn:problem:{kind}"), "{route}");
}

/// Runs every route concurrently (the SDK backs off between attempts) and
/// returns the responses in route order.
async fn answer_every_route(api: &Arc<Api>, caller: &SignedIn) -> Vec<(&'static str, ApiGatewayV2httpResponse)> {
    let tasks: Vec<_> = every_route(caller)
        .into_iter()
        .map(|(route, request)| {
            let api = Arc::clone(api);
            (route, tokio::spawn(async move { api.handle(request).await }))
        })
        .collect();
    let mut responses = Vec::new();
    for (route, task) in tasks {
        let response = task.await.unwrap_or_else(|e| panic!("{route}: the handler panicked: {e}"));
        responses.push((route, response));
    }
    responses
}

// --- DynamoDB not listening, STS unavailable --------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_not_listening_is_503_on_every_route() {
    let port = closed_port().await;
    let assumer = FakeAssumer::succeeding();
    let calls = Arc::clone(&assumer.calls);
    let api = Arc::new(api(&format!("http://127.0.0.1:{port}"), assumer));
    let caller = SignedIn::member_of_new_tenant();
    for (route, response) in answer_every_route(&api, &caller).await {
        assert_problem(route, &response, 503, "service-unavailable");
    }
    // The credentials were had (so the failure is DynamoDB's), once per tenant.
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_unavailable_is_503_on_every_route() {
    let port = closed_port().await;
    let assumer = FakeAssumer::failing(CredentialsError::Unavailable("Throttling".into()));
    let calls = Arc::clone(&assumer.calls);
    let api = Arc::new(api(&format!("http://127.0.0.1:{port}"), assumer));
    let caller = SignedIn::member_of_new_tenant();
    for (route, response) in answer_every_route(&api, &caller).await {
        assert_problem(route, &response, 503, "service-unavailable");
    }
    assert!(calls.load(Ordering::SeqCst) >= 1, "the handler asked for credentials");
    // A failure is not cached: the next request asks STS again.
    let before = calls.load(Ordering::SeqCst);
    let again = api.handle(event(&caller, "GET /notes", None, None)).await;
    assert_problem("GET /notes (again)", &again, 503, "service-unavailable");
    // The request reads two records (the tenant's, the caller's membership),
    // each asking for the tenant's credentials: two calls, none served from a cache.
    assert_eq!(calls.load(Ordering::SeqCst), before + 2, "a failed AssumeRole must not be cached");
}

#[tokio::test]
async fn sts_refusing_is_a_500_that_reveals_nothing() {
    let assumer = FakeAssumer::failing(CredentialsError::Refused("AccessDenied: arn:aws:iam::123:role/x".into()));
    let api = api("http://127.0.0.1:9", assumer);
    let caller = SignedIn::member_of_new_tenant();
    let response = api.handle(event(&caller, "GET /notes", None, None)).await;
    assert_problem("GET /notes", &response, 500, "internal");
    let body = body_text(&response);
    assert!(!body.contains("arn:aws") && !body.contains("AccessDenied"), "{body}");
}

// --- DynamoDB throttling ----------------------------------------------------------------

const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}"#;

/// A stand-in for DynamoDB: answers the n-th request (from 0) with
/// `answers[min(n, len - 1)]` (status, JSON body) and records each request's
/// `X-Amz-Target`.
#[derive(Debug)]
struct FakeDynamo {
    endpoint: String,
    targets: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeDynamo {
    async fn start(answers: Vec<(u16, String)>) -> Self {
        assert!(!answers.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let targets: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = Arc::clone(&targets);
        let answers = Arc::new(answers);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = Arc::clone(&seen);
                let answers = Arc::clone(&answers);
                tokio::spawn(async move { serve(stream, &seen, &answers).await });
            }
        });
        Self { endpoint, targets, task }
    }

    async fn targets(&self) -> Vec<String> {
        self.targets.lock().await.clone()
    }
}

impl Drop for FakeDynamo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves requests on one connection until the client closes it.
async fn serve(mut stream: TcpStream, seen: &Mutex<Vec<String>>, answers: &[(u16, String)]) {
    let mut buffer = Vec::new();
    loop {
        // Read one request: the head, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
        let header = |name: &str| {
            head.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
                .map(|(_, value)| value.trim().to_owned())
        };
        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..head_end + length);
        let index = {
            let mut seen = seen.lock().await;
            seen.push(header("x-amz-target").unwrap_or_default());
            seen.len() - 1
        };
        let (status, body) = &answers[index.min(answers.len() - 1)];
        let reason = if *status == 200 { "OK" } else { "Bad Request" };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/x-amz-json-1.0\r\n\
             x-amzn-requestid: fake-{index}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn get_item_answer(tenant: &TenantId, id: NoteId) -> String {
    serde_json::json!({
        "Item": {
            "tenant_id": {"S": tenant.to_string()},
            "sk": {"S": format!("note#{id}")},
            "note_id": {"S": id.to_string()},
            "title": {"S": "after the storm"},
            "body": {"S": "it passed"},
            "version": {"N": "4"},
            "created_at": {"S": "2026-01-02T03:04:05Z"},
            "updated_at": {"S": "2026-01-02T03:04:06Z"},
        }
    })
    .to_string()
}

#[tokio::test]
async fn a_throttled_call_is_retried_and_succeeds() {
    let tenant = TenantId::generate();
    let id = NoteId::generate();
    let dynamo = FakeDynamo::start(vec![(400, THROTTLED.to_owned()), (200, get_item_answer(&tenant, id))]).await;
    let store = store(&dynamo.endpoint, FakeAssumer::succeeding());

    let note = store.get(&tenant, id).await.expect("the retry succeeds").expect("the note");
    assert_eq!((note.id, note.title.as_str(), note.version), (id, "after the storm", 4));
    assert_eq!(
        dynamo.targets().await,
        ["DynamoDB_20120810.GetItem", "DynamoDB_20120810.GetItem"],
        "one throttled attempt, one retry"
    );
}

#[tokio::test]
async fn throttled_every_time_is_unavailable_after_bounded_attempts() {
    let dynamo = FakeDynamo::start(vec![(400, THROTTLED.to_owned())]).await;
    let api = api(&dynamo.endpoint, FakeAssumer::succeeding());
    let caller = SignedIn::member_of_new_tenant();

    let store_error = api.store().get(&caller.tenant, NoteId::generate()).await.expect_err("throttled every time");
    assert!(matches!(&store_error, DataError::Unavailable(code) if code == "ThrottlingException"), "{store_error:?}");
    // The SDK's standard retry strategy: 3 attempts in all, then it gives up.
    assert_eq!(dynamo.targets().await.len(), 3);

    // Through the handler, the caller's records are read first: the tenant
    // record and the membership, 3 attempts each, then 503.
    let response = api.handle(event(&caller, "GET /notes/{note_id}", Some(NoteId::generate()), None)).await;
    assert_problem("GET /notes/{note_id}", &response, 503, "service-unavailable");
    assert_eq!(dynamo.targets().await.len(), 9, "3 + 2 x 3 attempts, then 503");
}
