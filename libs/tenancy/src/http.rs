//! Reading HTTP API (payload 2.0) requests and writing responses, the same way
//! in every service: JSON bodies with a size limit, strict content type,
//! problem bodies for errors.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use base64::Engine as _;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, LOCATION};
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::str::FromStr;

use crate::cursor::ListCursor;
use crate::error::ApiError;
use crate::idempotency::{self, IdempotencyKey, InvalidIdempotencyKey};

/// Default upper bound for request bodies.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

const JSON: &str = "application/json";
const PROBLEM_JSON: &str = "application/problem+json";

/// What a route's handler answers: the response, or the error that becomes
/// its problem body.
pub type RouteResult = Result<ApiGatewayV2httpResponse, ApiError>;

/// Decodes the request's JSON body into `T`, refusing bodies over `max_bytes`,
/// a content type other than JSON, and anything `T` does not accept (types use
/// `#[serde(deny_unknown_fields)]` so unknown fields are refused too).
pub fn json_body<T: DeserializeOwned>(request: &ApiGatewayV2httpRequest, max_bytes: usize) -> Result<T, ApiError> {
    let bytes = raw_body(request, max_bytes)?;
    if bytes.is_empty() {
        return Err(ApiError::BadRequest("a JSON request body is required".into()));
    }
    require_json_content_type(&request.headers)?;
    serde_json::from_slice(&bytes)
        .map_err(|error| ApiError::BadRequest(format!("the request body is not valid: {error}")))
}

fn raw_body(request: &ApiGatewayV2httpRequest, max_bytes: usize) -> Result<Vec<u8>, ApiError> {
    let Some(body) = request.body.as_deref() else {
        return Ok(Vec::new());
    };
    let too_large = ApiError::PayloadTooLarge { limit_bytes: max_bytes };
    if !request.is_base64_encoded {
        return if body.len() > max_bytes { Err(too_large) } else { Ok(body.as_bytes().to_vec()) };
    }
    // Base64 is 4/3 of the payload: refuse early, before decoding a huge body.
    if body.len() / 4 * 3 > max_bytes + 3 {
        return Err(too_large);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| ApiError::BadRequest("the request body is not valid base64".into()))?;
    if bytes.len() > max_bytes { Err(too_large) } else { Ok(bytes) }
}

fn require_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case(JSON) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!("send the body as {JSON} (got {:?})", truncate(media_type, 64))))
    }
}

/// Refuses a body on routes that take none (DELETE, GET).
pub fn no_body(request: &ApiGatewayV2httpRequest) -> Result<(), ApiError> {
    match request.body.as_deref() {
        Some(body) if !body.is_empty() => Err(ApiError::BadRequest("this route takes no request body".into())),
        _ => Ok(()),
    }
}

/// Answers one raw Lambda invocation of a function that serves both the HTTP
/// API and internal commands of type `C`. A payload with the top-level key
/// `internal` is a command (`{"internal": C}`), sent by another service's or
/// the platform's Lambda Invoke: API Gateway's events never have that key.
/// `internal` gets the command, or `None` for a payload that is not a valid
/// one (serde's message may quote the input, a password say: it is never
/// passed on). Anything else is an HTTP API request for `http`. The payload
/// is never logged.
pub async fn dispatch<C, R, I, IF, H, HF>(payload: Value, invocation_id: &str, internal: I, http: H) -> Value
where
    C: DeserializeOwned,
    R: Serialize,
    I: FnOnce(Option<C>) -> IF,
    IF: Future<Output = R>,
    H: FnOnce(ApiGatewayV2httpRequest) -> HF,
    HF: Future<Output = ApiGatewayV2httpResponse>,
{
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Internal<C> {
        internal: C,
    }
    let answer = if payload.get("internal").is_some() {
        let command = serde_json::from_value::<Internal<C>>(payload).ok().map(|wrapper| wrapper.internal);
        serde_json::to_value(internal(command).await)
    } else {
        match serde_json::from_value::<ApiGatewayV2httpRequest>(payload) {
            Ok(request) => serde_json::to_value(http(request).await),
            Err(_) => serde_json::to_value(problem_response(
                &ApiError::BadRequest("the event is not an HTTP API request".into()),
                Some(invocation_id),
            )),
        }
    };
    answer.unwrap_or_else(|error| {
        tracing::error!(%error, "response serialization failed");
        Value::Null
    })
}

/// The request's `Idempotency-Key` header (required: a create's retry proves
/// it is the same requester with it). Given more than once is refused too.
pub fn idempotency_key(request: &ApiGatewayV2httpRequest) -> Result<IdempotencyKey, ApiError> {
    let mut values = request.headers.get_all(idempotency::HEADER).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().ok().and_then(|text| IdempotencyKey::parse(text).ok()),
        _ => None,
    }
    .ok_or_else(|| ApiError::BadRequest(InvalidIdempotencyKey.to_string()))
}

/// The request's `Idempotency-Key`, if it sends one (an authenticated
/// create: the key is optional, and makes the create safe to retry); 400 if
/// it is malformed or given twice.
pub fn optional_idempotency_key(request: &ApiGatewayV2httpRequest) -> Result<Option<IdempotencyKey>, ApiError> {
    if request.headers.contains_key(idempotency::HEADER) { idempotency_key(request).map(Some) } else { Ok(None) }
}

/// A path parameter the route declares, e.g. `note_id` in `/notes/{note_id}`.
pub fn path_param<'r>(request: &'r ApiGatewayV2httpRequest, name: &str) -> Result<&'r str, ApiError> {
    request
        .path_parameters
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| ApiError::BadRequest(format!("the path parameter {name} is missing")))
}

/// A query parameter given at most once.
pub fn query_param<'r>(request: &'r ApiGatewayV2httpRequest, name: &str) -> Result<Option<&'r str>, ApiError> {
    match request.query_string_parameters.all(name) {
        None => Ok(None),
        Some(values) if values.len() == 1 => Ok(values.first().copied()),
        Some(_) => Err(ApiError::BadRequest(format!("the query parameter {name} is given more than once"))),
    }
}

/// Refuses query parameters the route does not know, so typos do not pass silently.
pub fn only_query_params(request: &ApiGatewayV2httpRequest, known: &[&str]) -> Result<(), ApiError> {
    match request.query_string_parameters.iter().map(|(name, _)| name).find(|name| !known.contains(name)) {
        Some(unknown) => Err(ApiError::BadRequest(format!(
            "unknown query parameter {:?}; this route accepts {known:?}",
            truncate(unknown, 64)
        ))),
        None => Ok(()),
    }
}

/// The `limit` and `cursor` of a list route, which takes no body and no other
/// query parameter: `limit` from 1 to `max` (default `default`), `cursor` as
/// `list` handed it out (400 for any other).
pub fn page_query<T: FromStr>(
    request: &ApiGatewayV2httpRequest,
    default: usize,
    max: usize,
    list: ListCursor,
) -> Result<(usize, Option<T>), ApiError> {
    filtered_page_query(request, default, max, list, &[])
}

/// [`page_query`] for a list that also takes the query parameters `filters`
/// (read them with [`query_param`]).
pub fn filtered_page_query<T: FromStr>(
    request: &ApiGatewayV2httpRequest,
    default: usize,
    max: usize,
    list: ListCursor,
    filters: &[&str],
) -> Result<(usize, Option<T>), ApiError> {
    no_body(request)?;
    let known: Vec<&str> = ["limit", "cursor"].iter().chain(filters).copied().collect();
    only_query_params(request, &known)?;
    let limit = match query_param(request, "limit")? {
        None => default,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=max).contains(limit))
            .ok_or_else(|| ApiError::BadRequest(format!("limit must be a whole number from 1 to {max}")))?,
    };
    let cursor = query_param(request, "cursor")?
        .map(|text| list.decode(text).ok_or_else(|| ApiError::BadRequest("the cursor is not valid".into())))
        .transpose()?;
    Ok((limit, cursor))
}

/// Answers one HTTP request inside its request span (so every line logged
/// carries the request id, and the tenant once `route` records it): `route`'s
/// errors become problem responses, and one line logs the outcome.
pub async fn answer<F, Fut>(request: &ApiGatewayV2httpRequest, route: F) -> ApiGatewayV2httpResponse
where
    F: FnOnce(tracing::Span) -> Fut,
    Fut: std::future::Future<Output = RouteResult>,
{
    use tracing::Instrument as _;
    let request_id = request.request_context.request_id.clone().unwrap_or_default();
    let span = crate::telemetry::request_span(&request_id);
    // On the heap: a service's routes make one large future, which a debug
    // build would otherwise copy through a test thread's 2 MiB stack.
    let routed = Box::pin(route(span.clone()));
    async {
        let response = routed.await.unwrap_or_else(|error| problem_response(&error, Some(&request_id)));
        tracing::info!(
            route = request.request_context.route_key.as_deref().unwrap_or("-"),
            status = response.status_code,
            "request answered"
        );
        response
    }
    .instrument(span)
    .await
}

/// A JSON response.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> ApiGatewayV2httpResponse {
    match serde_json::to_string(value) {
        Ok(body) => response(status, JSON, Some(body)),
        Err(error) => {
            tracing::error!(%error, "response serialization failed");
            problem_response(&ApiError::Internal, None)
        }
    }
}

/// `201 Created` with a `Location` header.
pub fn created<T: Serialize>(location: &str, value: &T) -> ApiGatewayV2httpResponse {
    let mut response = json_response(StatusCode::CREATED, value);
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers.insert(LOCATION, location);
    }
    response
}

/// A response without a body (`204 No Content`).
pub fn no_content() -> ApiGatewayV2httpResponse {
    response(StatusCode::NO_CONTENT, JSON, None)
}

/// The problem response for `error`. Logs server-side failures.
pub fn problem_response(error: &ApiError, request_id: Option<&str>) -> ApiGatewayV2httpResponse {
    let problem = error.problem(request_id);
    let body = serde_json::to_string(&problem).unwrap_or_else(|_| {
        r#"{"type":"urn:problem:internal","title":"Internal Server Error","status":500,"detail":"internal error"}"#
            .to_owned()
    });
    response(error.status(), PROBLEM_JSON, Some(body))
}

fn response(status: StatusCode, content_type: &'static str, body: Option<String>) -> ApiGatewayV2httpResponse {
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(status.as_u16());
    if body.is_some() {
        response.headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    // Tenant data must not be kept by shared caches.
    response.headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.body = body.map(Body::Text);
    response
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Input {
        title: String,
    }

    fn request(body: Option<&str>, content_type: Option<&str>) -> ApiGatewayV2httpRequest {
        let mut request = ApiGatewayV2httpRequest::default();
        request.body = body.map(str::to_owned);
        if let Some(content_type) = content_type {
            request.headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).expect("header"));
        }
        request
    }

    #[test]
    fn decodes_a_json_body() {
        let input: Input = json_body(&request(Some(r#"{"title":"x"}"#), Some("application/json; charset=utf-8")), 100)
            .expect("valid body");
        assert_eq!(input, Input { title: "x".into() });
    }

    #[test]
    fn decodes_a_base64_body() {
        let mut encoded = request(Some("eyJ0aXRsZSI6IngifQ=="), Some("application/json"));
        encoded.is_base64_encoded = true;
        assert_eq!(json_body::<Input>(&encoded, 100), Ok(Input { title: "x".into() }));
        encoded.body = Some("!!!".into());
        assert!(matches!(json_body::<Input>(&encoded, 100), Err(ApiError::BadRequest(_))));
    }

    #[test]
    fn refuses_bad_bodies_with_the_right_status() {
        let cases: [(Option<&str>, Option<&str>, u16); 7] = [
            (None, Some(JSON), 400),
            (Some("{"), Some(JSON), 400),
            (Some(r#"{"title":"x","tenant_id":"y"}"#), Some(JSON), 400),
            (Some(r#"{}"#), Some(JSON), 400),
            (Some(r#"{"title":1}"#), Some(JSON), 400),
            (Some(r#"{"title":"x"}"#), Some("text/plain"), 415),
            (Some(r#"{"title":"x"}"#), None, 415),
        ];
        for (body, content_type, status) in cases {
            let error = json_body::<Input>(&request(body, content_type), 100).expect_err("must fail");
            assert_eq!(error.status().as_u16(), status, "{body:?} {content_type:?}");
        }
        let big = format!(r#"{{"title":"{}"}}"#, "x".repeat(200));
        assert_eq!(
            json_body::<Input>(&request(Some(&big), Some(JSON)), 100),
            Err(ApiError::PayloadTooLarge { limit_bytes: 100 })
        );
    }

    #[test]
    fn query_parameters_are_strict() {
        let mut request = request(None, None);
        request.query_string_parameters = "limit=5&limit=6&x=1".parse().expect("query");
        assert!(query_param(&request, "limit").is_err());
        assert_eq!(query_param(&request, "cursor"), Ok(None));
        assert!(only_query_params(&request, &["limit"]).is_err());
        request.query_string_parameters = "limit=5".parse().expect("query");
        assert_eq!(query_param(&request, "limit"), Ok(Some("5")));
        assert_eq!(only_query_params(&request, &["limit", "cursor"]), Ok(()));
    }

    #[test]
    fn page_queries_are_bounded_and_strict() {
        let cursor = ListCursor::new("x1:");
        let mut list = request(None, None);
        assert_eq!(page_query::<u32>(&list, 20, 100, cursor), Ok((20, None)));
        list.query_string_parameters = format!("limit=100&cursor={}", cursor.encode(&7)).parse().expect("query");
        assert_eq!(page_query(&list, 20, 100, cursor), Ok((100, Some(7))));
        for bad in ["limit=0", "limit=101", "limit=-1", "limit=ten", "limit=1&limit=2", "cursor=bad", "tenant=x"] {
            list.query_string_parameters = bad.parse().expect("query");
            assert!(matches!(page_query::<u32>(&list, 20, 100, cursor), Err(ApiError::BadRequest(_))), "{bad}");
        }
        let with_body = request(Some("{}"), Some(JSON));
        assert!(page_query::<u32>(&with_body, 20, 100, cursor).is_err());
    }

    #[test]
    fn problem_responses_carry_problem_json() {
        let response = problem_response(&ApiError::NotFound("no such note".into()), Some("r-1"));
        assert_eq!(response.status_code, 404);
        assert_eq!(response.headers[CONTENT_TYPE], PROBLEM_JSON);
        let Some(Body::Text(body)) = response.body else { panic!("text body expected") };
        let problem: crate::error::Problem = serde_json::from_str(&body).expect("problem json");
        assert_eq!(problem.status, 404);
        assert_eq!(problem.request_id.as_deref(), Some("r-1"));
    }
}
