//! The parts of the services' OpenAPI documents that are the same everywhere
//! (feature `openapi`): the bearer-JWT security scheme, the gateway's own 401
//! body, id schemas, rendering, and the checks the services' tests run
//! against their committed documents.
//!
//! Nothing here is used by the Lambda binaries at run time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use serde_json::Value;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Type, schema::Schema, schema::SchemaFormat,
};

use crate::error::Problem;

#[doc(hidden)]
pub use utoipa;

/// Name of the bearer-JWT security scheme in every document.
pub const BEARER: &str = "bearer";

/// Media type of every error body the functions write.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The body API Gateway itself answers with when its JWT authorizer refuses
/// a request (`{"message":"Unauthorized"}`), before any function runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayMessage {
    #[schema(example = "Unauthorized")]
    pub message: String,
}

/// Adds the `bearer` security scheme (a Cognito JWT, verified by the API
/// Gateway JWT authorizer) to a document's components.
#[derive(Debug)]
pub struct BearerJwt;

impl utoipa::Modify for BearerJwt {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".to_owned());
        http.description = Some(
            "A Cognito access or ID token of the platform's user pool, verified by the API Gateway JWT authorizer \
             (issuer and audience); the tenant comes from its `tenant_id`, `tenant_role` and `tenant_tier` claims."
                .to_owned(),
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(http));
    }
}

/// The 401 of every operation behind the authorizer.
const UNAUTHORIZED: &str = "No verified identity: the gateway's authorizer refused the token (`{\"message\"}`), or the \
                            function found no claims (problem)";
/// The 500 of every operation.
const INTERNAL: &str = "Internal error (logged, never detailed)";

/// Adds the error responses operations share, where an operation does not
/// declare its own: 401 (behind the authorizer only), 403 (likewise) and 503
/// in the service's words, and 500. Operations declare only what is theirs.
#[derive(Debug)]
pub struct StandardErrors {
    /// Why a signed-in caller is refused.
    pub forbidden: &'static str,
    /// Which dependency may be unavailable, and what a retry does.
    pub unavailable: &'static str,
}

impl utoipa::Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                self.add_missing(operation);
            }
        }
    }
}

impl StandardErrors {
    fn add_missing(&self, operation: &mut Operation) {
        let behind_authorizer = operation.security.as_ref().is_some_and(|security| !security.is_empty());
        let responses = &mut operation.responses.responses;
        if behind_authorizer {
            responses.entry("401".to_owned()).or_insert_with(|| {
                let gateway = ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("GatewayMessage")))
                    .build();
                let mut response = problem_response(UNAUTHORIZED);
                response.content.insert("application/json".to_owned(), gateway);
                RefOr::T(response)
            });
            responses
                .entry("403".to_owned())
                .or_insert_with(|| RefOr::T(problem_response(self.forbidden)));
        }
        responses
            .entry("500".to_owned())
            .or_insert_with(|| RefOr::T(problem_response(INTERNAL)));
        responses
            .entry("503".to_owned())
            .or_insert_with(|| RefOr::T(problem_response(self.unavailable)));
    }
}

/// A response whose body is a problem.
fn problem_response(description: &str) -> Response {
    let problem = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, problem)
        .build()
}

/// The schema of an id: a `string` of format `uuid`.
pub fn uuid_schema(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("uuid".to_owned())))
        .description(Some(description))
        .into()
}

/// A document as committed: pretty-printed JSON with a final newline.
pub fn render(openapi: &utoipa::openapi::OpenApi) -> String {
    let mut text = openapi.to_pretty_json().expect("an OpenAPI document serializes");
    text.push('\n');
    text
}

/// Compares the committed document at `path` with `generated`. With
/// `UPDATE_OPENAPI=1` in the environment it rewrites the file instead.
/// Panics with the command that regenerates it when they differ.
pub fn assert_committed(path: &Path, generated: &str, regenerate: &str) {
    if std::env::var_os("UPDATE_OPENAPI").is_some_and(|value| value == "1") {
        std::fs::write(path, generated).unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()))
            + 1;
        panic!(
            "{} is not the document the code generates (first difference at line {line}).\n\
             Regenerate it with:\n\n    {regenerate}\n\nand commit the result.",
            path.display()
        );
    }
}

/// What a service's `tests/openapi.rs` checks (see [`contract_tests!`]).
#[derive(Debug)]
pub struct Contract {
    /// The committed `openapi.json`.
    pub committed: std::path::PathBuf,
    /// The document the code generates.
    pub generated: String,
    /// The route keys the function serves.
    pub routes: BTreeSet<String>,
    /// Route keys without the authorizer (everything else requires the bearer JWT).
    pub public: BTreeSet<String>,
    /// The command that regenerates the committed document.
    pub regenerate: String,
}

impl Contract {
    /// The committed document is the generated one.
    pub fn assert_committed(&self) {
        assert_committed(&self.committed, &self.generated, &self.regenerate);
    }

    /// Both documents declare exactly the routes the function serves.
    pub fn assert_routes(&self) {
        assert_eq!(Document::from_json(&self.generated_json()).route_keys(), self.routes);
        assert_eq!(Document::load(&self.committed).route_keys(), self.routes);
    }

    /// Every operation requires the bearer JWT, but the public ones, which
    /// have neither security nor a 401.
    pub fn assert_security(&self) {
        let generated = self.generated_json();
        assert_eq!(generated["openapi"], "3.1.0");
        for (path, item) in generated["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                let route = format!("{} {path}", method.to_uppercase());
                if self.public.contains(&route) {
                    assert!(operation.get("security").is_none(), "{route} is public");
                    assert!(operation["responses"].get("401").is_none(), "{route} has no authorizer");
                } else {
                    assert_eq!(
                        operation["security"],
                        serde_json::json!([{ "bearer": [] }]),
                        "{route} must require the bearer JWT"
                    );
                }
            }
        }
    }

    fn generated_json(&self) -> Value {
        serde_json::from_str(&self.generated).expect("the generated document is JSON")
    }
}

/// The contract tests of a service crate `$service` (with `openapi::document_json`
/// and `entrypoint::ROUTES`), for its `tests/openapi.rs`:
/// `tenancy::contract_tests!(notes);` or, with routes outside the authorizer,
/// `tenancy::contract_tests!(tenants, public: ["POST /tenants"]);`.
#[macro_export]
macro_rules! contract_tests {
    ($service:ident $(, public: [$($public:literal),* $(,)?])?) => {
        fn contract() -> $crate::openapi::Contract {
            $crate::openapi::Contract {
                committed: ::std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json")),
                generated: $service::openapi::document_json(),
                routes: $service::entrypoint::ROUTES.iter().map(|route| route.to_string()).collect(),
                public: [$($($public),*)?].into_iter().map(str::to_owned).collect(),
                regenerate: concat!("UPDATE_OPENAPI=1 cargo test -p ", stringify!($service), " --test openapi").to_owned(),
            }
        }

        #[test]
        fn committed_document_is_the_generated_one() {
            contract().assert_committed();
        }

        #[test]
        fn document_declares_exactly_the_routes() {
            contract().assert_routes();
        }

        #[test]
        fn every_operation_but_the_public_ones_requires_the_bearer_jwt() {
            contract().assert_security();
        }
    };
}

/// A committed OpenAPI document, read for checks.
#[derive(Debug, Clone)]
pub struct Document {
    /// `"METHOD /path"` → documented status codes → the response's media types.
    operations: BTreeMap<String, BTreeMap<u16, BTreeSet<String>>>,
}

impl Document {
    /// Reads and parses the document at `path`; panics if it cannot.
    pub fn load(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        let json: Value =
            serde_json::from_str(&text).unwrap_or_else(|error| panic!("parsing {}: {error}", path.display()));
        Self::from_json(&json)
    }

    /// Reads the operations of a parsed document.
    pub fn from_json(json: &Value) -> Self {
        let mut operations = BTreeMap::new();
        let paths = json["paths"].as_object().cloned().unwrap_or_default();
        for (path, item) in paths {
            let Some(item) = item.as_object() else { continue };
            for (method, operation) in item {
                if !["get", "put", "post", "delete", "patch", "head", "options", "trace"].contains(&method.as_str()) {
                    continue;
                }
                let mut statuses = BTreeMap::new();
                for (status, response) in operation["responses"].as_object().cloned().unwrap_or_default() {
                    let status: u16 = status
                        .parse()
                        .unwrap_or_else(|_| panic!("{method} {path}: status {status:?} is not a number"));
                    let types = response["content"]
                        .as_object()
                        .map(|content| content.keys().cloned().collect())
                        .unwrap_or_default();
                    statuses.insert(status, types);
                }
                operations.insert(format!("{} {path}", method.to_uppercase()), statuses);
            }
        }
        Self { operations }
    }

    /// The operations as API Gateway route keys (`"GET /notes/{note_id}"`).
    pub fn route_keys(&self) -> BTreeSet<String> {
        self.operations.keys().cloned().collect()
    }

    /// The status codes documented for an operation.
    pub fn statuses(&self, route_key: &str) -> Option<BTreeSet<u16>> {
        self.operations
            .get(route_key)
            .map(|statuses| statuses.keys().copied().collect())
    }

    /// Checks one response a function gave for `route_key`: its status must
    /// be documented for that operation, with its content type; an error
    /// (4xx/5xx) must be a problem body whose `status` is the response's.
    /// Panics with what is missing.
    pub fn check_response(&self, route_key: &str, response: &ApiGatewayV2httpResponse) {
        let status = u16::try_from(response.status_code).unwrap_or(0);
        let Some(statuses) = self.operations.get(route_key) else {
            // API Gateway only sends declared route keys; a function handed
            // any other must refuse it with a 404 problem and nothing else.
            assert_eq!(
                status, 404,
                "the handler answered {route_key:?}, which the OpenAPI document does not declare, with {status}"
            );
            check_problem(route_key, status, response);
            return;
        };
        let Some(media_types) = statuses.get(&status) else {
            panic!(
                "{route_key} answered {status}, which its OpenAPI document does not list (it lists {:?}); \
                 document the response in src/openapi.rs and regenerate openapi.json",
                statuses.keys().collect::<Vec<_>>()
            );
        };
        let content_type = content_type(response);
        let body = body_text(route_key, response);
        match &content_type {
            Some(content_type) if !body.is_empty() => assert!(
                media_types.contains(content_type),
                "{route_key} answered {status} as {content_type}, but the document lists {media_types:?} for it"
            ),
            _ => assert!(
                body.is_empty() && media_types.is_empty(),
                "{route_key} answered {status} with content type {content_type:?} and a {}-byte body; \
                 the document lists {media_types:?} for it",
                body.len()
            ),
        }
        if status >= 400 {
            check_problem(route_key, status, response);
        }
    }
}

fn content_type(response: &ApiGatewayV2httpResponse) -> Option<String> {
    response
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().trim().to_owned())
}

fn body_text(route_key: &str, response: &ApiGatewayV2httpResponse) -> String {
    match &response.body {
        Some(Body::Text(text)) => text.clone(),
        Some(Body::Binary(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        None | Some(Body::Empty) => String::new(),
        Some(other) => panic!("{route_key}: unexpected body {other:?}"),
    }
}

/// An error response must be a problem body whose `status` is the response's.
fn check_problem(route_key: &str, status: u16, response: &ApiGatewayV2httpResponse) {
    assert_eq!(
        content_type(response).as_deref(),
        Some(PROBLEM_JSON),
        "{route_key} answered {status} without a problem body"
    );
    let body = body_text(route_key, response);
    let problem: Problem = serde_json::from_str(&body)
        .unwrap_or_else(|error| panic!("{route_key} answered {status} with a malformed problem ({error}): {body}"));
    assert_eq!(
        problem.status, status,
        "{route_key}: the problem's status is not the response's"
    );
    assert!(
        problem.kind.starts_with(crate::error::PROBLEM_TYPE_PREFIX),
        "{route_key}: problem type {:?}",
        problem.kind
    );
    assert!(
        !problem.title.is_empty() && !problem.detail.is_empty(),
        "{route_key}: empty title or detail"
    );
}
