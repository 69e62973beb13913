//! The gateway's HTTP listener: the HTTP API (every path not taken below),
//! the Lambda Invoke API (`/2015-03-31/functions/{name}/invocations`) and
//! Cognito (`/cognito`, with the JWKS under `/cognito/.well-known/`), and
//! the local instance metrics (`/_local/functions`, for `make bench`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::authorizer::{Decision, JwtAuthorizer};
use crate::cognito::Cognito;
use crate::emulator::LoadError;
use crate::event::{EventContext, IncomingRequest, build_event, event_json, map_response};
use crate::functions::Functions;
use crate::iam::IamGuard;
use crate::routes::{Route, RouteTable};
use crate::runtime::{Failure, MAX_RESPONSE_BYTES, Outcome, PoolSnapshot};
use crate::throttle::Throttle;

/// API Gateway's payload limit for HTTP APIs.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

/// Where a route leads.
#[derive(Debug, Clone)]
pub struct RouteTarget {
    /// The Lambda function of the route's integration.
    pub function: Option<String>,
    /// The JWT authorizer when the route's authorization type is `JWT`.
    pub authorizer: Option<Arc<JwtAuthorizer>>,
    /// The route's bucket under the stage's throttling settings.
    pub throttle: Arc<Throttle>,
}

/// The HTTP API being served.
#[derive(Debug)]
pub struct HttpApi {
    pub api_id: String,
    pub account_id: String,
    pub routes: RouteTable<RouteTarget>,
}

impl HttpApi {
    pub fn new(api_id: String, account_id: String, routes: Vec<Route<RouteTarget>>) -> Self {
        let (routes, errors) = RouteTable::new(routes);
        for error in errors {
            tracing::warn!(%error, "route not served");
        }
        Self { api_id, account_id, routes }
    }
}

/// Everything a request may need.
#[derive(Debug)]
pub struct Gateway {
    pub api: Option<HttpApi>,
    pub functions: Arc<Functions>,
    pub cognito: Option<Arc<Cognito>>,
    /// Port the listener is on (for `x-forwarded-port`).
    pub port: u16,
    /// The per-stack secret the operator endpoints (`/_local/...`) require in
    /// [`OPERATOR_SECRET_HEADER`]: whatever listens on a port is reachable by
    /// more than its owner.
    pub operator_secret: String,
    /// Who may use the Lambda Invoke API (SigV4 and the deployed policies).
    pub iam_guard: IamGuard,
}

/// The header that carries the operator secret.
pub const OPERATOR_SECRET_HEADER: &str = "x-local-operator-secret";

impl Gateway {
    /// Whether `headers` carry the operator secret (compared in constant time).
    fn is_operator(&self, headers: &HeaderMap) -> bool {
        headers.get(OPERATOR_SECRET_HEADER).is_some_and(|given| {
            aws_lc_rs::constant_time::verify_slices_are_equal(given.as_bytes(), self.operator_secret.as_bytes()).is_ok()
        })
    }
}

/// The gateway's router.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .route("/cognito", post(cognito))
        .route("/cognito/", post(cognito))
        .route("/cognito/.well-known/jwks.json", get(jwks))
        .route("/cognito/.well-known/openid-configuration", get(openid_configuration))
        .route("/cognito/{pool}/.well-known/jwks.json", get(jwks))
        .route("/_local/functions", get(function_metrics))
        .route("/_local/functions/{name}/recycle", post(recycle))
        .route("/_local/functions/{name}/invoke", post(operator_invoke))
        .route("/_local/mailbox", get(mailbox))
        .fallback(http_api)
        .with_state(gateway)
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "message": text }))).into_response()
}

// --- HTTP API ----------------------------------------------------------------

async fn http_api(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let api_request_id = short_request_id();
    let mut response = serve_api(&gateway, peer, request, &api_request_id).await;
    if let Ok(value) = HeaderValue::from_str(&api_request_id) {
        response.headers_mut().insert("apigw-requestid", value);
    }
    response
}

async fn serve_api(gateway: &Gateway, peer: SocketAddr, request: Request, request_id: &str) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let Some(api) = &gateway.api else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let raw_path = parts.uri.path();
    let Some(found) = api.routes.find(parts.method.as_str(), raw_path) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };

    if !found.target.throttle.admit() {
        return message(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
    }

    let mut jwt = None;
    if let Some(authorizer) = &found.target.authorizer {
        match authorizer.authorize(&parts.headers).await {
            Decision::Allow { claims, scopes } => jwt = Some((claims, scopes)),
            Decision::Deny { www_authenticate } => {
                let mut response = message(StatusCode::UNAUTHORIZED, "Unauthorized");
                if let Ok(value) = HeaderValue::from_str(&www_authenticate) {
                    response.headers_mut().insert("www-authenticate", value);
                }
                return response;
            }
        }
    }

    let Some(function) = &found.target.function else {
        tracing::warn!(route = found.route_key, "route has no Lambda integration");
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let pool = match gateway.functions.get(function).await {
        Ok(pool) => pool,
        Err(error) => {
            tracing::error!(function, %error, "function unavailable");
            return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
    };

    let incoming = IncomingRequest {
        method: &parts.method,
        raw_path,
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
        source_ip: peer.ip().to_string(),
        protocol: format!("{:?}", parts.version),
        port: gateway.port,
    };
    let context = EventContext {
        api_id: api.api_id.clone(),
        account_id: api.account_id.clone(),
        route_key: found.route_key.to_owned(),
        path_parameters: found.path_parameters.clone(),
        request_id: request_id.to_owned(),
        trace_id: format!(
            "Root=1-{:08x}-{}",
            OffsetDateTime::now_utc().unix_timestamp(),
            &uuid::Uuid::new_v4().simple().to_string()[..24]
        ),
        now: OffsetDateTime::now_utc(),
        jwt,
    };
    let event = build_event(&incoming, &context);
    let payload = match event_json(&event) {
        Ok(payload) => payload,
        Err(error) => {
            tracing::error!(%error, "event not serialisable");
            return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
    };
    let invocation = pool.invoke(Bytes::from(payload)).await;
    match invocation.result {
        Ok(Outcome::Success(result)) => match map_response(&result) {
            Ok(answer) => {
                let mut response = Response::new(Body::from(answer.body));
                *response.status_mut() = answer.status;
                *response.headers_mut() = answer.headers;
                response
            }
            Err(error) => {
                tracing::warn!(function, %error, "function answered with a malformed response");
                message(StatusCode::BAD_GATEWAY, "Internal Server Error")
            }
        },
        Ok(Outcome::FunctionError { .. })
        | Err(Failure::Crashed(_) | Failure::InitFailed { .. } | Failure::StartFailed(_)) => {
            message(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
        Err(Failure::TimedOut(_)) => message(StatusCode::GATEWAY_TIMEOUT, "Endpoint request timed out"),
    }
}

/// API Gateway's request ids look like `JmP2vj2mIAMEbCw=`.
fn short_request_id() -> String {
    use base64::Engine as _;
    let id = uuid::Uuid::new_v4();
    base64::engine::general_purpose::STANDARD.encode(&id.as_bytes()[..10])
}

// --- Local instance metrics (make bench) ---------------------------------------

/// The body of `GET /_local/functions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionMetrics {
    /// Every function loaded so far with its instances: init duration (spawn
    /// to the first `next`), spawn to first response, CPU time and peak memory.
    pub functions: Vec<PoolSnapshot>,
}

async fn function_metrics(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    if !gateway.is_operator(&headers) {
        return message(StatusCode::FORBIDDEN, "Forbidden");
    }
    axum::Json(FunctionMetrics { functions: gateway.functions.snapshot().await }).into_response()
}

/// Stops the function's idle instances, so that the next invocation is a
/// cold start (a new process).
async fn recycle(State(gateway): State<Arc<Gateway>>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    if !gateway.is_operator(&headers) {
        return message(StatusCode::FORBIDDEN, "Forbidden");
    }
    match gateway.functions.get(&name).await {
        Ok(pool) => {
            pool.stop();
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => message(StatusCode::NOT_FOUND, &error.to_string()),
    }
}

// --- The mailbox (what Cognito would have emailed) -----------------------------

#[derive(Debug, Deserialize)]
struct MailboxQuery {
    /// Only the messages to this address (any case).
    to: Option<String>,
}

/// `GET /_local/mailbox[?to=<email>]`: the invitations and codes Cognito
/// would have emailed, oldest first. Operator only: they are passwords.
async fn mailbox(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(query): Query<MailboxQuery>,
) -> Response {
    if !gateway.is_operator(&headers) {
        return message(StatusCode::FORBIDDEN, "Forbidden");
    }
    let Some(cognito) = &gateway.cognito else {
        return message(StatusCode::NOT_FOUND, "this gateway serves no Cognito user pool");
    };
    axum::Json(cognito.mailbox().listing(query.to.as_deref())).into_response()
}

// --- Lambda Invoke API -------------------------------------------------------

fn lambda_error(status: StatusCode, error_type: &str, text: &str) -> Response {
    let mut response =
        (status, axum::Json(json!({ "Type": "User", "message": text, "Message": text }))).into_response();
    if let Ok(value) = HeaderValue::from_str(error_type) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

/// The Lambda Invoke API: only for requests signed with credentials the
/// gateway issued to a function whose deployed role may invoke the target.
async fn invoke(
    State(gateway): State<Arc<Gateway>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let path = request.uri().path_and_query().map_or_else(|| request.uri().path().to_owned(), ToString::to_string);
    let Some(payload) = invocation_payload(request).await else {
        return too_large();
    };
    let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let uri = format!("http://{host}{path}");
    let guard = &gateway.iam_guard;
    let function_arn = guard.function_arn(&name);
    match guard.authorize("lambda", "lambda:InvokeFunction", &function_arn, "POST", &uri, &headers, &payload).await {
        Ok(caller) => tracing::debug!(function = %name, caller = %caller.principal, "invocation authorized"),
        Err(refusal) => {
            tracing::info!(function = %name, code = refusal.code, "invocation refused");
            let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::FORBIDDEN);
            return lambda_error(status, refusal.code, &refusal.message);
        }
    }
    run_invocation(&gateway, &name, &headers, payload).await
}

/// The Invoke API for the stack's operator (`make bench`): the operator
/// secret instead of a signature.
async fn operator_invoke(
    State(gateway): State<Arc<Gateway>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    if !gateway.is_operator(&headers) {
        return message(StatusCode::FORBIDDEN, "Forbidden");
    }
    let Some(payload) = invocation_payload(request).await else {
        return too_large();
    };
    run_invocation(&gateway, &name, &headers, payload).await
}

async fn invocation_payload(request: Request) -> Option<Bytes> {
    axum::body::to_bytes(request.into_body(), MAX_RESPONSE_BYTES).await.ok()
}

fn too_large() -> Response {
    lambda_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestTooLargeException",
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    )
}

async fn run_invocation(gateway: &Gateway, name: &str, headers: &HeaderMap, payload: Bytes) -> Response {
    let pool = match gateway.functions.get(name).await {
        Ok(pool) => pool,
        Err(LoadError::NotFound(text)) => {
            return lambda_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                &format!("Function not found: {name} ({text})"),
            );
        }
        Err(error) => {
            tracing::error!(%name, %error, "function unavailable");
            return lambda_error(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", &error.to_string());
        }
    };
    let payload = if payload.is_empty() { Bytes::from_static(b"{}") } else { payload };
    match headers.get("x-amz-invocation-type").and_then(|v| v.to_str().ok()) {
        Some("DryRun") => return StatusCode::NO_CONTENT.into_response(),
        Some("Event") => {
            tokio::spawn(async move {
                let _ = pool.invoke(payload).await;
            });
            return StatusCode::ACCEPTED.into_response();
        }
        _ => {}
    }
    let invocation = pool.invoke(payload).await;
    let request_id = invocation.request_id.clone();
    let (body, function_error) = match invocation.result {
        Ok(Outcome::Success(body)) => (body, None),
        Ok(Outcome::FunctionError { payload, .. }) => (payload, Some("Unhandled")),
        Err(Failure::InitFailed { payload, .. }) => (payload, Some("Unhandled")),
        Err(Failure::Crashed(status)) => (
            Bytes::from(
                json!({
                    "errorType": "Runtime.ExitError",
                    "errorMessage": format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
                })
                .to_string(),
            ),
            Some("Unhandled"),
        ),
        Err(failure @ Failure::TimedOut(_)) => (
            Bytes::from(
                json!({
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": format!("RequestId: {request_id} Error: {failure}"),
                })
                .to_string(),
            ),
            Some("Unhandled"),
        ),
        Err(Failure::StartFailed(text)) => {
            return lambda_error(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", &text);
        }
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-amz-executed-version", HeaderValue::from_static("$LATEST"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    if let Some(kind) = function_error {
        headers.insert("x-amz-function-error", HeaderValue::from_static(kind));
    }
    response
}

// --- Cognito -----------------------------------------------------------------

async fn cognito(
    State(gateway): State<Arc<Gateway>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let uri = format!("http://{host}{}", uri.path_and_query().map_or("/cognito", |p| p.as_str()));
    match &gateway.cognito {
        Some(cognito) => cognito.handle(&headers, body, &uri, &gateway.iam_guard).await,
        None => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn jwks(State(gateway): State<Arc<Gateway>>, _pool: Option<Path<HashMap<String, String>>>) -> Response {
    match &gateway.cognito {
        Some(cognito) => axum::Json(cognito.keys().jwks().clone()).into_response(),
        None => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn openid_configuration(State(gateway): State<Arc<Gateway>>) -> Response {
    match &gateway.cognito {
        Some(cognito) => axum::Json(json!({
            "issuer": cognito.issuer(),
            "jwks_uri": format!("{}/.well-known/jwks.json", cognito.issuer()),
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["code", "token"],
        }))
        .into_response(),
        None => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}
