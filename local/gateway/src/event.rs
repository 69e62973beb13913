//! Payload format 2.0: the event API Gateway hands an HTTP API's Lambda
//! integration, and the mapping of the function's answer back to HTTP.

use std::collections::HashMap;

use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription, ApiGatewayV2httpRequest,
    ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription, ApiGatewayV2httpResponse,
};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::query_map::QueryMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{CONTENT_TYPE, COOKIE, HOST, SET_COOKIE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::routes::percent_decode_with;

/// The HTTP request as received.
#[derive(Debug)]
pub struct IncomingRequest<'a> {
    pub method: &'a Method,
    /// Path as sent, still percent-encoded.
    pub raw_path: &'a str,
    /// Query string as sent, without `?`.
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: String,
    /// `HTTP/1.1`.
    pub protocol: String,
    /// Port the gateway listens on, for `x-forwarded-port`.
    pub port: u16,
}

/// The JWT authorizer's output: claims rendered as strings, and scopes.
pub type JwtContext = (HashMap<String, String>, Option<Vec<String>>);

/// What API Gateway knows about the request besides the request itself.
#[derive(Debug, Clone)]
pub struct EventContext {
    pub api_id: String,
    pub account_id: String,
    pub route_key: String,
    pub path_parameters: HashMap<String, String>,
    pub request_id: String,
    pub trace_id: String,
    pub now: OffsetDateTime,
    /// Claims (rendered as strings) and scopes of the JWT authorizer.
    pub jwt: Option<JwtContext>,
}

/// The payload 2.0 event.
pub fn build_event(request: &IncomingRequest<'_>, context: &EventContext) -> ApiGatewayV2httpRequest {
    let mut headers = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in request.headers.keys() {
        let values: Vec<&str> = request.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        if *name == COOKIE {
            cookies.extend(
                values.iter().flat_map(|v| v.split(';')).map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned),
            );
            continue;
        }
        if let Ok(value) = HeaderValue::from_str(&values.join(",")) {
            headers.insert(name.clone(), value);
        }
    }
    let forwarded = [
        ("x-forwarded-for", request.source_ip.clone()),
        ("x-forwarded-port", request.port.to_string()),
        ("x-forwarded-proto", "http".to_owned()),
        ("x-amzn-trace-id", context.trace_id.clone()),
    ];
    for (name, value) in forwarded {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }

    let host = request.headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_owned();
    let domain_prefix = match host.split(':').next().unwrap_or_default() {
        h if h.bytes().any(|b| b.is_ascii_alphabetic()) => h.split('.').next().unwrap_or(h).to_owned(),
        h => h.to_owned(),
    };

    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = request.method.clone();
    http.path = Some(request.raw_path.to_owned());
    http.protocol = Some(request.protocol.clone());
    http.source_ip = Some(request.source_ip.clone());
    http.user_agent =
        Some(request.headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned());

    let mut request_context = ApiGatewayV2httpRequestContext::default();
    request_context.route_key = Some(context.route_key.clone());
    request_context.account_id = Some(context.account_id.clone());
    request_context.stage = Some("$default".to_owned());
    request_context.request_id = Some(context.request_id.clone());
    request_context.apiid = Some(context.api_id.clone());
    request_context.domain_name = Some(host);
    request_context.domain_prefix = Some(domain_prefix);
    request_context.time = Some(format_time(context.now));
    request_context.time_epoch = (context.now.unix_timestamp_nanos() / 1_000_000) as i64;
    request_context.http = http;
    if let Some((claims, scopes)) = &context.jwt {
        let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
        jwt.claims = claims.clone();
        jwt.scopes = scopes.clone();
        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.jwt = Some(jwt);
        request_context.authorizer = Some(authorizer);
    }

    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".to_owned());
    event.route_key = Some(context.route_key.clone());
    event.raw_path = Some(request.raw_path.to_owned());
    event.raw_query_string = Some(request.raw_query.to_owned());
    event.cookies = (!cookies.is_empty()).then_some(cookies);
    event.headers = headers;
    event.query_string_parameters = parse_query(request.raw_query);
    event.path_parameters = context.path_parameters.clone();
    event.request_context = request_context;
    if !request.body.is_empty() {
        match std::str::from_utf8(request.body) {
            Ok(text) => event.body = Some(text.to_owned()),
            Err(_) => {
                event.body = Some(STANDARD.encode(request.body));
                event.is_base64_encoded = true;
            }
        }
    }
    event
}

/// The event as the JSON API Gateway sends: without the fields of other
/// payload kinds that `aws_lambda_events` serialises too (`httpMethod`, ...).
pub fn event_json(event: &ApiGatewayV2httpRequest) -> Result<Vec<u8>, serde_json::Error> {
    let mut value = serde_json::to_value(event)?;
    if let Value::Object(map) = &mut value {
        for key in ["type", "methodArn", "httpMethod", "identitySource", "authorizationToken", "resource"] {
            map.remove(key);
        }
        if map.get("stageVariables").is_some_and(|v| v.as_object().is_some_and(|o| o.is_empty())) {
            map.remove("stageVariables");
        }
    }
    serde_json::to_vec(&value)
}

/// `12/Mar/2020:19:03:58 +0000`, API Gateway's `requestContext.time`.
pub fn format_time(now: OffsetDateTime) -> String {
    let format = format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000");
    now.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}

/// `a=1&a=2&b=x%20y` → `{a: [1, 2], b: [x y]}` (joined with `,` when serialised).
pub fn parse_query(raw: &str) -> QueryMap {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        map.entry(percent_decode_with(key, true)).or_default().push(percent_decode_with(value, true));
    }
    QueryMap::from(map)
}

/// The HTTP answer API Gateway makes of a function's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Why a function's result could not be turned into an HTTP answer (API
/// Gateway answers 502 then).
#[derive(Debug, thiserror::Error)]
#[error("malformed Lambda proxy response: {0}")]
pub struct MalformedResponse(String);

/// Maps the function's result: an `ApiGatewayV2httpResponse` when it has a
/// `statusCode`, else (any other JSON) a 200 with the JSON as the body.
pub fn map_response(payload: &[u8]) -> Result<HttpAnswer, MalformedResponse> {
    let mut value: Value = serde_json::from_slice(payload).map_err(|e| MalformedResponse(e.to_string()))?;
    let is_response = value.as_object().is_some_and(|o| o.contains_key("statusCode"));
    if !is_response {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Ok(HttpAnswer { status: StatusCode::OK, headers, body: payload.to_vec() });
    }
    if let Value::Object(map) = &mut value {
        // Optional in practice; required by the type.
        for key in ["cookies", "headers", "multiValueHeaders"] {
            if map.get(key).is_none_or(Value::is_null) {
                map.insert(
                    key.to_owned(),
                    if key == "cookies" { Value::Array(vec![]) } else { Value::Object(Default::default()) },
                );
            }
        }
    }
    let response: ApiGatewayV2httpResponse =
        serde_json::from_value(value).map_err(|e| MalformedResponse(e.to_string()))?;
    let status = u16::try_from(response.status_code)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| MalformedResponse(format!("statusCode {}", response.status_code)))?;
    let mut headers = HeaderMap::new();
    for (name, value) in &response.multi_value_headers {
        headers.append(name.clone(), value.clone());
    }
    for (name, value) in &response.headers {
        headers.insert(name.clone(), value.clone());
    }
    for cookie in &response.cookies {
        let value = HeaderValue::from_str(cookie).map_err(|e| MalformedResponse(format!("cookie: {e}")))?;
        headers.append(SET_COOKIE, value);
    }
    let body = match response.body {
        None | Some(Body::Empty) => Vec::new(),
        Some(Body::Text(text)) if response.is_base64_encoded => {
            STANDARD.decode(text.as_bytes()).map_err(|e| MalformedResponse(format!("body is not base64: {e}")))?
        }
        Some(Body::Text(text)) => text.into_bytes(),
        Some(Body::Binary(bytes)) => bytes,
        Some(_) => Vec::new(),
    };
    Ok(HttpAnswer { status, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(method: &'a Method, headers: &'a HeaderMap, body: &'a [u8]) -> IncomingRequest<'a> {
        IncomingRequest {
            method,
            raw_path: "/notes/a%20b",
            raw_query: "limit=5&tag=x&tag=y%2Bz&q=a+b&flag",
            headers,
            body,
            source_ip: "127.0.0.1".to_owned(),
            protocol: "HTTP/1.1".to_owned(),
            port: 4000,
        }
    }

    fn context(jwt: bool) -> EventContext {
        let claims: HashMap<String, String> =
            [("sub", "u1"), ("tenant_id", "t1")].into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        EventContext {
            api_id: "api1".to_owned(),
            account_id: "123456789012".to_owned(),
            route_key: "GET /notes/{note_id}".to_owned(),
            path_parameters: [("note_id".to_owned(), "a b".to_owned())].into_iter().collect(),
            request_id: "req-1".to_owned(),
            trace_id: "Root=1-00000000-000000000000000000000000".to_owned(),
            now: OffsetDateTime::from_unix_timestamp(1_583_348_638).expect("time"),
            jwt: jwt.then(|| (claims, Some(vec!["openid".to_owned()]))),
        }
    }

    fn headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static("api.example.com"));
        h.insert(USER_AGENT, HeaderValue::from_static("curl/8"));
        h.append("x-multi", HeaderValue::from_static("a"));
        h.append("x-multi", HeaderValue::from_static("b"));
        h.append(COOKIE, HeaderValue::from_static("c1=v1; c2=v2"));
        h.append(COOKIE, HeaderValue::from_static("c3=v3"));
        h
    }

    #[test]
    fn event_round_trips_through_the_lambda_events_type() {
        let h = headers();
        let event = build_event(&request(&Method::GET, &h, b"{\"a\":1}"), &context(true));
        let json = event_json(&event).expect("json");
        let value: Value = serde_json::from_slice(&json).expect("value");
        assert_eq!(value["version"], "2.0");
        assert_eq!(value["routeKey"], "GET /notes/{note_id}");
        assert_eq!(value["rawPath"], "/notes/a%20b");
        assert_eq!(value["rawQueryString"], "limit=5&tag=x&tag=y%2Bz&q=a+b&flag");
        assert_eq!(value["cookies"], serde_json::json!(["c1=v1", "c2=v2", "c3=v3"]));
        assert!(value["headers"].get("cookie").is_none());
        assert_eq!(value["headers"]["x-multi"], "a,b");
        assert_eq!(value["headers"]["x-forwarded-for"], "127.0.0.1");
        assert_eq!(value["queryStringParameters"]["tag"], "x,y+z");
        assert_eq!(value["queryStringParameters"]["q"], "a b");
        assert_eq!(value["queryStringParameters"]["flag"], "");
        assert_eq!(value["pathParameters"]["note_id"], "a b");
        assert_eq!(value["requestContext"]["stage"], "$default");
        assert_eq!(value["requestContext"]["apiId"], "api1");
        assert_eq!(value["requestContext"]["domainPrefix"], "api");
        assert_eq!(value["requestContext"]["time"], "04/Mar/2020:19:03:58 +0000");
        assert_eq!(value["requestContext"]["timeEpoch"], 1_583_348_638_000_i64);
        assert_eq!(value["requestContext"]["http"]["method"], "GET");
        assert_eq!(value["requestContext"]["http"]["userAgent"], "curl/8");
        assert_eq!(value["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"], "t1");
        assert_eq!(value["requestContext"]["authorizer"]["jwt"]["scopes"][0], "openid");
        assert_eq!(value["body"], "{\"a\":1}");
        assert_eq!(value["isBase64Encoded"], false);
        assert!(value.get("httpMethod").is_none());

        let back: ApiGatewayV2httpRequest = serde_json::from_slice(&json).expect("deserialises");
        assert_eq!(back.request_context.http.method, Method::GET);
        assert_eq!(back.path_parameters.get("note_id").map(String::as_str), Some("a b"));
        // The library splits joined values again.
        assert_eq!(back.query_string_parameters.all("tag"), Some(vec!["x", "y+z"]));
        let jwt = back.request_context.authorizer.and_then(|a| a.jwt).expect("jwt");
        assert_eq!(jwt.claims.get("sub").map(String::as_str), Some("u1"));
    }

    #[test]
    fn binary_body_is_base64_and_no_authorizer_without_jwt() {
        let h = HeaderMap::new();
        let event = build_event(&request(&Method::POST, &h, &[0xff, 0x00, 0xfe]), &context(false));
        assert!(event.is_base64_encoded);
        assert_eq!(event.body.as_deref(), Some("/wD+"));
        assert!(event.request_context.authorizer.is_none());
        assert!(event.cookies.is_none());
        let empty = build_event(&request(&Method::POST, &h, b""), &context(false));
        assert_eq!(empty.body, None);
    }

    #[test]
    fn response_mapping() {
        let answer = map_response(
            br#"{"statusCode":201,"headers":{"content-type":"text/plain"},"multiValueHeaders":{"x-a":["1","2"]},
                 "cookies":["a=1","b=2; Path=/"],"body":"aGVsbG8=","isBase64Encoded":true}"#,
        )
        .expect("maps");
        assert_eq!(answer.status, StatusCode::CREATED);
        assert_eq!(answer.body, b"hello");
        assert_eq!(answer.headers.get_all(SET_COOKIE).iter().count(), 2);
        assert_eq!(answer.headers.get_all("x-a").iter().count(), 2);
        assert_eq!(answer.headers["content-type"], "text/plain");

        // A response built with the type itself (what lambda_runtime sends).
        let mut typed = ApiGatewayV2httpResponse::default();
        typed.status_code = 404;
        typed.body = Some(Body::Text("{\"x\":1}".to_owned()));
        let answer = map_response(&serde_json::to_vec(&typed).expect("json")).expect("maps");
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(answer.body, b"{\"x\":1}");

        // No statusCode, no cookies: inferred 200 with the JSON as body.
        let answer = map_response(br#"{"hello":"world"}"#).expect("maps");
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, br#"{"hello":"world"}"#);
        let answer = map_response(br#"{"statusCode":204}"#).expect("maps");
        assert_eq!(answer.status, StatusCode::NO_CONTENT);

        assert!(map_response(b"not json").is_err());
        assert!(map_response(br#"{"statusCode":99999}"#).is_err());
    }
}
