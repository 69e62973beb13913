//! The notes service: tenant-scoped notes over the HTTP API.
//!
//! `domain` (rules), `store` (DynamoDB and in-memory), `entrypoint` (events to
//! calls, results to responses), `api` (wire types). The Lambda binary in
//! `src/bin/notes.rs` only wires them together.

pub mod api;
pub mod domain;
pub mod entrypoint;
pub mod openapi;
pub mod store;
