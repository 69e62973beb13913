//! The committed OpenAPI document is the generated one, and it declares
//! exactly the routes the function serves; only registration is public.

tenancy::contract_tests!(tenants, public: ["POST /tenants"]);
