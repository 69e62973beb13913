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
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
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

/// Query parameters of every list operation (`params(PageParams)`).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u32>,
    /// Opaque position from the previous page's `next_cursor`.
    #[param(max_length = 128)]
    pub cursor: Option<String>,
}

/// Adds the `bearer` security scheme (a Cognito JWT, verified by the API
/// Gateway JWT authorizer) to a document's components, and requires it on
/// every operation but the `public` ones.
#[derive(Debug)]
pub struct BearerJwt {
    /// Route keys (`"POST /tenants"`) without the authorizer; keep it short.
    pub public: &'static [&'static str],
}

/// Every operation requires the bearer JWT.
pub const BEARER_EVERYWHERE: BearerJwt = BearerJwt { public: &[] };

impl utoipa::Modify for BearerJwt {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (route, operation) in operations_mut(openapi) {
            if !self.public.contains(&route.as_str()) {
                operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
            }
        }
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".to_owned());
        http.description = Some(
            "A Cognito access or ID token of the platform's user pool, verified by the API Gateway JWT authorizer \
             (issuer and audience); the tenant comes from its `tenant_id`, `tenant_role` and `tenant_tier` claims."
                .to_owned(),
        );
        openapi.components.get_or_insert_with(Default::default).add_security_scheme(BEARER, SecurityScheme::Http(http));
    }
}

/// The 401 of every operation behind the authorizer.
const UNAUTHORIZED: &str = "No verified identity: the gateway's authorizer refused the token (`{\"message\"}`), or the \
                            function found no claims (problem)";
/// The 500 of every operation.
const INTERNAL: &str = "Internal error (logged, never detailed)";

/// `"METHOD /path"` and the operation, for every operation of a document.
fn operations_mut(openapi: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = (String, &mut Operation)> {
    openapi.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ]
        .into_iter()
        .filter_map(move |(method, operation)| Some((format!("{method} {path}"), operation.as_mut()?)))
    })
}

/// The 400 of an operation without a body that declares none: what every
/// function checks before anything else.
const BAD_REQUEST: &str = "A query parameter or a body";
/// The same, for an operation with an id in its path.
const BAD_ID_OR_REQUEST: &str = "A bad id, a query parameter or a body";
/// The 415 of every operation with a body.
const NOT_JSON: &str = "Body not sent as `application/json`";

/// Adds the error responses operations share, where an operation does not
/// declare its own: 401 (behind the authorizer only), 403 (likewise) and 503
/// in the service's words; 500; 400 for an operation without a body; 413 and
/// 415 for one with a body. Operations declare only what is theirs. Apply it
/// after [`BearerJwt`].
#[derive(Debug)]
pub struct StandardErrors {
    /// Why a signed-in caller is refused.
    pub forbidden: &'static str,
    /// Which dependency may be unavailable, and what a retry does.
    pub unavailable: &'static str,
    /// The largest body the function reads, e.g. "64 KiB".
    pub body_limit: &'static str,
}

impl utoipa::Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (_, operation) in operations_mut(openapi) {
            self.add_missing(operation);
        }
    }
}

impl StandardErrors {
    fn add_missing(&self, operation: &mut Operation) {
        let behind_authorizer = operation.security.as_ref().is_some_and(|security| !security.is_empty());
        let has_body = operation.request_body.is_some();
        let has_path_id = (operation.parameters.iter().flatten()).any(|p| p.parameter_in == ParameterIn::Path);
        let responses = &mut operation.responses.responses;
        let mut add = |status: &str, response: Response| {
            responses.entry(status.to_owned()).or_insert(RefOr::T(response));
        };
        if has_body {
            add("413", problem_response(&format!("Body over {}", self.body_limit)));
            add("415", problem_response(NOT_JSON));
        } else {
            add("400", problem_response(if has_path_id { BAD_ID_OR_REQUEST } else { BAD_REQUEST }));
        }
        if behind_authorizer {
            // The gateway's own refusal, or the function's problem.
            let mut unauthorized = problem_response(UNAUTHORIZED);
            let gateway = ContentBuilder::new().schema(Some(Ref::from_schema_name("GatewayMessage"))).build();
            unauthorized.content.insert("application/json".to_owned(), gateway);
            add("401", unauthorized);
            add("403", problem_response(self.forbidden));
        }
        add("500", problem_response(INTERNAL));
        add("503", problem_response(self.unavailable));
    }
}

/// A response whose body is a problem.
fn problem_response(description: &str) -> Response {
    let problem = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    ResponseBuilder::new().description(description).content(PROBLEM_JSON, problem).build()
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

/// The JSON Schema (2020-12) of a lifecycle event's `detail`, with the
/// detail-type and source of each change (`x-detail-types`): what
/// `libs/tenancy/events.schema.json` holds.
pub fn events_schema() -> String {
    use crate::events::{Change, LifecycleEvent};
    use utoipa::OpenApi as _;

    #[derive(utoipa::OpenApi)]
    #[openapi(components(schemas(LifecycleEvent)))]
    struct Events;

    let components = serde_json::to_value(Events::openapi().components).expect("schemas serialize");
    // OpenAPI 3.1 schemas are JSON Schema 2020-12; only the references move.
    let defs = serde_json::to_string(&components["schemas"]).expect("schemas serialize");
    let defs: Value = serde_json::from_str(&defs.replace("#/components/schemas/", "#/$defs/")).expect("json");
    let detail_types: serde_json::Map<String, Value> = Change::ALL
        .iter()
        .map(|change| {
            let name = serde_json::to_value(change).expect("a change serializes");
            let name = name.as_str().unwrap_or_default().to_owned();
            (name, serde_json::json!({"detail-type": change.detail_type(), "source": change.source()}))
        })
        .collect();
    let schema = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/saas/libs/tenancy/events.schema.json",
        "title": "LifecycleEvent",
        "description": "The detail of a lifecycle event on the platform's EventBridge bus (<prefix>-lifecycle). \
                        `x-detail-types` gives each change's detail-type and source.",
        "$ref": "#/$defs/LifecycleEvent",
        "$defs": defs,
        "x-detail-types": detail_types,
    });
    let mut text = serde_json::to_string_pretty(&schema).expect("the schema serializes");
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
                    let status: u16 =
                        status.parse().unwrap_or_else(|_| panic!("{method} {path}: status {status:?} is not a number"));
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
        self.operations.get(route_key).map(|statuses| statuses.keys().copied().collect())
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
    assert_eq!(problem.status, status, "{route_key}: the problem's status is not the response's");
    assert!(
        problem.kind.starts_with(crate::error::PROBLEM_TYPE_PREFIX),
        "{route_key}: problem type {:?}",
        problem.kind
    );
    assert!(!problem.title.is_empty() && !problem.detail.is_empty(), "{route_key}: empty title or detail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::OpenApi;

    #[derive(utoipa::ToSchema, serde::Deserialize)]
    #[allow(dead_code, reason = "a request body for the document only")]
    struct Thing {
        name: String,
    }

    #[utoipa::path(put, path = "/things/{id}", params(("id" = String, Path)), request_body = Thing,
        responses((status = 200, description = "Changed")))]
    #[allow(dead_code, reason = "a declaration for the document only")]
    fn change_thing() {}

    #[utoipa::path(get, path = "/things", params(PageParams),
        responses((status = 200, description = "A page"), (status = 503, description = "Its own")))]
    #[allow(dead_code, reason = "a declaration for the document only")]
    fn list_things() {}

    #[utoipa::path(delete, path = "/things/{id}", params(("id" = String, Path)),
        responses((status = 204, description = "Removed")))]
    #[allow(dead_code, reason = "a declaration for the document only")]
    fn remove_thing() {}

    #[utoipa::path(post, path = "/signup", responses((status = 201, description = "Signed up")))]
    #[allow(dead_code, reason = "a declaration for the document only")]
    fn sign_up() {}

    const AUTH: BearerJwt = BearerJwt { public: &["POST /signup"] };
    const ERRORS: StandardErrors = StandardErrors { forbidden: "Not yours", unavailable: "Down", body_limit: "1 KiB" };

    #[derive(OpenApi)]
    #[openapi(paths(change_thing, list_things, remove_thing, sign_up), modifiers(&AUTH, &ERRORS))]
    struct Doc;

    fn statuses(doc: &Value, route: (&str, &str)) -> Vec<(String, String)> {
        let responses = doc["paths"][route.1][route.0]["responses"].as_object().expect("responses");
        responses
            .iter()
            .map(|(status, response)| (status.clone(), response["description"].as_str().unwrap_or("").to_owned()))
            .collect()
    }

    #[test]
    fn every_operation_but_the_public_ones_requires_the_bearer_jwt() {
        let doc = serde_json::to_value(Doc::openapi()).expect("json");
        assert_eq!(doc["paths"]["/things"]["get"]["security"], serde_json::json!([{ "bearer": [] }]));
        assert_eq!(doc["paths"]["/things/{id}"]["put"]["security"], serde_json::json!([{ "bearer": [] }]));
        assert!(doc["paths"]["/signup"]["post"].get("security").is_none());
        assert!(doc["components"]["securitySchemes"].get(BEARER).is_some());
    }

    #[test]
    fn standard_errors_fill_what_an_operation_leaves_out() {
        let doc = serde_json::to_value(Doc::openapi()).expect("json");
        let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(s, d)| (s.to_string(), d.to_string())).collect()
        };
        // A body: 413 in the service's limit and 415, no generic 400.
        assert_eq!(
            statuses(&doc, ("put", "/things/{id}")),
            owned(&[
                ("200", "Changed"),
                ("401", UNAUTHORIZED),
                ("403", "Not yours"),
                ("413", "Body over 1 KiB"),
                ("415", NOT_JSON),
                ("500", INTERNAL),
                ("503", "Down"),
            ])
        );
        // No body and no id: the generic 400; the operation's own 503 stays.
        assert_eq!(
            statuses(&doc, ("get", "/things")),
            owned(&[
                ("200", "A page"),
                ("400", BAD_REQUEST),
                ("401", UNAUTHORIZED),
                ("403", "Not yours"),
                ("500", INTERNAL),
                ("503", "Its own"),
            ])
        );
        // No body, an id in the path.
        assert_eq!(statuses(&doc, ("delete", "/things/{id}"))[1], ("400".to_owned(), BAD_ID_OR_REQUEST.to_owned()));
        // Public: neither 401 nor 403.
        assert_eq!(
            statuses(&doc, ("post", "/signup")),
            owned(&[("201", "Signed up"), ("400", BAD_REQUEST), ("500", INTERNAL), ("503", "Down")])
        );
        let page: Vec<&str> = doc["paths"]["/things"]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(page, ["limit", "cursor"]);
    }
}
