//! The users service: the members of a tenant (memberships table + Cognito users).
//!
//! `domain` (rules), `store` (memberships: DynamoDB and in-memory),
//! `directory` (Cognito and in-memory), `entrypoint` (events to calls, results
//! to responses, internal commands). The Lambda binary in `src/bin/users.rs`
//! only wires them together. Wire types live in the `users-api` crate.

pub mod directory;
pub mod domain;
pub mod entrypoint;
pub mod lifecycle;
pub mod openapi;
pub mod store;
