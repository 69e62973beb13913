//! The local stack's stand-in for what the emulator stores but does not run:
//! API Gateway's HTTP API with its JWT authorizer, Lambda (the real function
//! binaries behind the Runtime API, and the Invoke API), and Cognito sign-in
//! with the pre-token-generation trigger. Everything is configured from what
//! Terraform deployed to the emulator.

pub mod authorizer;
pub mod cognito;
pub mod emulator;
pub mod event;
pub mod functions;
pub mod gateway;
pub mod iam;
pub mod jwt;
pub mod keys;
pub mod messages;
pub mod routes;
pub mod runtime;
pub mod throttle;
