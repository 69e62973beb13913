//! The committed OpenAPI document is the generated one, and it declares
//! exactly the routes the function serves, all behind the authorizer.

tenancy::contract_tests!(notes);
