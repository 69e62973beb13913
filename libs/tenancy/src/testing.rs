//! The test harness of the services (feature `testing`, dev-dependencies
//! only): for handler tests, requests as API Gateway passes them, callers as
//! the JWT authorizer passes them, and readers of responses; for emulator
//! tests, the SDK configuration, tenancy settings and tables.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription, ApiGatewayV2httpRequest,
    ApiGatewayV2httpResponse,
};
use aws_lambda_events::encodings::Body;
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use http::HeaderValue;
use http::header::CONTENT_TYPE;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::audit::{Audit, MemoryAuditStore};
use crate::authority::{Authority, AuthoritySettings, MemoryAuthorityStore};
use crate::config::{TenancyConfig, load_aws_config};
use crate::events::{Events, MemoryBus, Records};
use crate::openapi::Document;
use crate::{Problem, TenantId, UserId};

/// The request id of every [`Req`]; problem bodies must echo it.
pub const REQUEST_ID: &str = "test-request";

/// An HTTP API request to a function, as API Gateway passes it.
#[derive(Debug, Default, Clone)]
pub struct Req {
    /// The route key, e.g. `"GET /notes/{note_id}"`.
    pub route: &'static str,
    /// The value of the route's one path parameter (the `{name}` in `route`).
    pub path_param: Option<String>,
    /// The query string, e.g. `"limit=5&cursor=abc"`.
    pub query: Option<String>,
    pub body: Option<String>,
    /// Sent with a body; `application/json` unless set.
    pub content_type: Option<&'static str>,
    /// The verified claims; `None` for a route without the authorizer.
    pub claims: Option<HashMap<String, String>>,
    pub header: Option<(&'static str, String)>,
}

impl Req {
    /// A request to `route`, e.g. `Req::to("GET /notes/{note_id}").param(id)`.
    pub fn to(route: &'static str) -> Self {
        Self { route, ..Self::default() }
    }

    /// The value of the route's one path parameter.
    pub fn param(self, value: impl Into<String>) -> Self {
        Self { path_param: Some(value.into()), ..self }
    }

    /// The query string, e.g. `"limit=5&cursor=abc"`.
    pub fn query(self, query: impl Into<String>) -> Self {
        Self { query: Some(query.into()), ..self }
    }

    /// A body, sent as `application/json` unless [`content_type`](Self::content_type) says otherwise.
    pub fn body(self, body: impl Into<String>) -> Self {
        Self { body: Some(body.into()), ..self }
    }

    /// The media type the body is sent as.
    pub fn content_type(self, content_type: &'static str) -> Self {
        Self { content_type: Some(content_type), ..self }
    }

    /// The verified claims (a map, or `None` for none).
    pub fn claims(self, claims: impl Into<Option<HashMap<String, String>>>) -> Self {
        Self { claims: claims.into(), ..self }
    }

    /// One more header.
    pub fn header(self, name: &'static str, value: impl Into<String>) -> Self {
        Self { header: Some((name, value.into())), ..self }
    }

    /// The payload-2.0 event API Gateway would send.
    pub fn event(self) -> ApiGatewayV2httpRequest {
        let mut request = ApiGatewayV2httpRequest::default();
        request.request_context.route_key = Some(self.route.to_owned());
        request.request_context.request_id = Some(REQUEST_ID.to_owned());
        if let Some(value) = self.path_param {
            let name = path_param_name(self.route).unwrap_or_else(|| panic!("{} has no path parameter", self.route));
            request.path_parameters.insert(name.to_owned(), value);
        }
        if let Some(query) = self.query {
            request.query_string_parameters = query.parse().expect("a query string");
        }
        if self.body.is_some() {
            let content_type = self.content_type.unwrap_or("application/json");
            request.headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        if let Some((name, value)) = self.header {
            request.headers.insert(name, HeaderValue::from_str(&value).expect("a header value"));
        }
        request.body = self.body;
        if let Some(claims) = self.claims {
            request.request_context.authorizer = Some(authorizer(claims));
        }
        request
    }
}

/// `note_id` of `"GET /notes/{note_id}"`.
fn path_param_name(route: &str) -> Option<&str> {
    let start = route.find('{')? + 1;
    let end = start + route[start..].find('}')?;
    Some(&route[start..end])
}

/// An audit trail in memory.
pub fn memory_audit() -> Audit<MemoryAuditStore> {
    Audit::new(MemoryAuditStore::default())
}

/// An audit trail and a bus in memory.
pub fn memory_records() -> Records<MemoryAuditStore, MemoryBus> {
    Records { audit: memory_audit(), events: Events::new(MemoryBus::default()) }
}

/// The authority over in-memory records, cached for `freshness` (zero: the
/// records are read on every request).
pub fn memory_authority(freshness: Duration) -> Authority<MemoryAuthorityStore> {
    let settings = AuthoritySettings { freshness, ..AuthoritySettings::default() };
    Authority::new(MemoryAuthorityStore::default(), settings)
}

/// The JWT authorizer's part of a request: the verified claims.
pub fn authorizer(claims: HashMap<String, String>) -> ApiGatewayRequestAuthorizer {
    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.claims = claims;
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    authorizer
}

/// A signed-in member of a tenant, with the claims its access token carries.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub tenant: TenantId,
    pub user_id: UserId,
    pub claims: HashMap<String, String>,
}

impl SignedIn {
    /// `role` and `tier` as the token says them (tests may say nonsense).
    pub fn new(tenant: TenantId, user_id: UserId, role: &str, tier: &str) -> Self {
        let claims = claims(&[
            ("sub", user_id.to_string()),
            ("token_use", "access".to_owned()),
            ("tenant_id", tenant.to_string()),
            ("tenant_role", role.to_owned()),
            ("tenant_tier", tier.to_owned()),
        ]);
        Self { tenant, user_id, claims }
    }

    /// A member of a new free-tier tenant.
    pub fn member_of_new_tenant() -> Self {
        Self::new(TenantId::generate(), UserId::generate(), "member", "free")
    }

    /// The claims, as [`Req::claims`] takes them.
    pub fn claims(&self) -> Option<HashMap<String, String>> {
        Some(self.claims.clone())
    }
}

/// A claims map from pairs.
pub fn claims(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect()
}

/// The claims of a platform admin (the Cognito group, no tenant).
pub fn platform_admin_claims() -> HashMap<String, String> {
    claims(&[
        ("sub", UserId::generate().to_string()),
        ("token_use", "access".into()),
        ("username", "ops@example.com".into()),
        ("cognito:groups", "[platform-admin]".into()),
    ])
}

/// A response's body as text (empty for none).
pub fn body_text(response: &ApiGatewayV2httpResponse) -> String {
    match &response.body {
        Some(Body::Text(text)) => text.clone(),
        None | Some(Body::Empty) => String::new(),
        Some(other) => panic!("unexpected body {other:?}"),
    }
}

/// A response's JSON body.
pub fn json_of(response: &ApiGatewayV2httpResponse) -> Value {
    serde_json::from_str(&body_text(response)).expect("a JSON body")
}

/// Asserts that `response` is a `status` problem with a detail and the
/// request id, and returns it.
pub fn assert_problem(response: &ApiGatewayV2httpResponse, status: i64) -> Problem {
    assert_eq!(response.status_code, status, "{}", body_text(response));
    assert_eq!(response.headers[CONTENT_TYPE], "application/problem+json");
    let problem: Problem = serde_json::from_str(&body_text(response)).expect("a problem body");
    assert_eq!(i64::from(problem.status), status);
    assert!(!problem.detail.is_empty());
    assert_eq!(problem.request_id.as_deref(), Some(REQUEST_ID));
    problem
}

/// Every page of a list route, `limit` items at a time, in order. `fetch`
/// answers the route for one query: `limit=N`, then `limit=N&cursor=…`.
pub async fn every_page<T: DeserializeOwned>(
    limit: usize,
    mut fetch: impl AsyncFnMut(String) -> ApiGatewayV2httpResponse,
) -> Vec<Vec<T>> {
    #[derive(Deserialize)]
    struct Page<T> {
        items: Vec<T>,
        next_cursor: Option<String>,
    }
    let mut pages = Vec::new();
    let mut query = format!("limit={limit}");
    loop {
        let response = fetch(query).await;
        assert_eq!(response.status_code, 200, "{}", body_text(&response));
        let page: Page<T> = serde_json::from_value(json_of(&response)).expect("a page");
        pages.push(page.items);
        match page.next_cursor {
            Some(cursor) => query = format!("limit={limit}&cursor={cursor}"),
            None => return pages,
        }
    }
}

/// The committed `openapi.json` in `manifest_dir` (pass
/// `env!("CARGO_MANIFEST_DIR")`), read once per test binary: every
/// (route, status) a handler answers must be in it.
pub fn committed_document(manifest_dir: &str) -> &'static Document {
    static DOCUMENT: OnceLock<(String, Document)> = OnceLock::new();
    let (dir, document) = DOCUMENT.get_or_init(|| {
        let document = Document::load(&Path::new(manifest_dir).join("openapi.json"));
        (manifest_dir.to_owned(), document)
    });
    assert_eq!(dir, manifest_dir, "one service's document per test binary");
    document
}

/// The SDK configuration of an emulator test; panics, saying how to run it,
/// when no emulator endpoint is set.
pub async fn emulator_sdk() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "these tests need the emulator: run them with `make test`, which sets AWS_ENDPOINT_URL"
    );
    load_aws_config().await
}

/// Tenancy settings of an emulator test of `service` (the emulator's
/// account, a tenant role it accepts, hour-long credentials).
pub fn emulator_tenancy(service: &str) -> TenancyConfig {
    TenancyConfig {
        tenant_role_arn: "arn:aws:iam::123456789012:role/saas-it-tenant".into(),
        session_duration: std::time::Duration::from_secs(3600),
        refresh_margin: std::time::Duration::from_secs(300),
        max_cached_tenants: 100,
        authority_freshness: std::time::Duration::from_secs(10),
        service_name: format!("{service}-it"),
    }
}

/// A new on-demand table keyed by the string `partition_key` and, if given,
/// the string `sort_key`.
pub async fn create_table(admin: &aws_sdk_dynamodb::Client, name: &str, partition_key: &str, sort_key: Option<&str>) {
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("a key")
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("an attribute")
    };
    let mut request = admin
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(partition_key, KeyType::Hash))
        .attribute_definitions(attribute(partition_key));
    if let Some(sort_key) = sort_key {
        request = request.key_schema(key(sort_key, KeyType::Range)).attribute_definitions(attribute(sort_key));
    }
    request.send().await.expect("create the test table");
}

/// A new tenant-data table (`tenant_id`, `sk`) as the services' are.
pub async fn create_tenant_table(admin: &aws_sdk_dynamodb::Client, name: &str) {
    create_table(admin, name, "tenant_id", Some("sk")).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_parameter_is_named_by_the_route() {
        let event = Req { route: "GET /notes/{note_id}", path_param: Some("n-1".into()), ..Req::default() }.event();
        assert_eq!(event.path_parameters["note_id"], "n-1");
        assert_eq!(path_param_name("GET /notes"), None);
        assert_eq!(path_param_name("DELETE /admin/registrations/{slug}"), Some("slug"));
    }
}
