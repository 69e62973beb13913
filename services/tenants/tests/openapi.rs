//! The committed OpenAPI document is the generated one, and it declares
//! exactly the routes the function serves; only registration is public.

tenancy::contract_tests!(tenants, public: ["POST /tenants"]);

/// The lifecycle events' schema (their publisher is this service and users).
#[test]
fn committed_events_schema_is_the_generated_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../libs/tenancy/events.schema.json");
    let regenerate = "UPDATE_OPENAPI=1 cargo test -p tenants --test openapi";
    tenancy::openapi::assert_committed(&path, &tenancy::openapi::events_schema(), regenerate);
}
