//! The Cognito pre-token-generation trigger (event V2_0): adds `tenant_id`,
//! `tenant_role` and `tenant_tier` claims to the ID and access tokens of a
//! member of an active tenant, lets platform admins without a tenant sign in
//! without them, and fails every other sign-in.
//!
//! `trigger` (the decision and the V2 response), over the records of
//! `tenancy::authority`. The Lambda binary only wires them together.

pub mod trigger;
