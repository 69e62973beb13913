//! The committed OpenAPI document is the generated one, and it declares
//! exactly the routes the function serves.

use std::collections::BTreeSet;
use std::path::Path;

use tenancy::openapi::{Document, assert_committed};

const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

#[test]
fn committed_document_is_the_generated_one() {
    assert_committed(
        Path::new(DOCUMENT),
        &notes::openapi::document_json(),
        "UPDATE_OPENAPI=1 cargo test -p notes --test openapi",
    );
}

#[test]
fn document_declares_exactly_the_routes() {
    let generated: serde_json::Value = serde_json::from_str(&notes::openapi::document_json()).expect("JSON");
    let routes: BTreeSet<String> = notes::entrypoint::ROUTES
        .iter()
        .map(|route| route.to_string())
        .collect();
    assert_eq!(Document::from_json(&generated).route_keys(), routes);
    assert_eq!(Document::load(Path::new(DOCUMENT)).route_keys(), routes);
}

#[test]
fn every_operation_requires_the_bearer_jwt() {
    let generated: serde_json::Value = serde_json::from_str(&notes::openapi::document_json()).expect("JSON");
    assert_eq!(generated["openapi"], "3.1.0");
    for (path, item) in generated["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            assert_eq!(
                operation["security"],
                serde_json::json!([{"bearer": []}]),
                "{method} {path} must require the bearer JWT"
            );
        }
    }
}
