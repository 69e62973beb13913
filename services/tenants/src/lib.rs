//! The tenants service: public registration (a tenant and its first admin),
//! a tenant's own record, and platform-admin tenant management.
//!
//! `domain` (rules), `store` (DynamoDB and in-memory), `users` (the users
//! service behind a trait), `operators` (who is a platform admin now), `registration` (the resumable registration flow),
//! `lifecycle` (the events a write makes), `entrypoint` (events to calls, results
//! to responses), `api` (wire types).
//! The Lambda binary in `src/bin/tenants.rs` only wires them together.

pub mod api;
pub mod domain;
pub mod entrypoint;
pub mod lifecycle;
pub mod offboarding;
pub mod openapi;
pub mod operators;
pub mod registration;
pub mod store;
pub mod users;
