//! What every service client (`notes-client`, `users-client`,
//! `tenants-client`) shares:
//!
//! - [`ApiClient`]: one HTTP connection pool, a timeout on every attempt,
//!   retries with jittered exponential backoff on 429 and 5xx for idempotent
//!   calls only, path segments percent-encoded;
//! - [`TokenSource`]: a fixed token ([`StaticToken`]) or a Cognito session
//!   ([`CognitoSession`]) that refreshes itself before expiry, on AWS or on the
//!   local stack by endpoint;
//! - [`Error`]: 401, 403, 404, 409 and 429 as variants a caller can match, each
//!   carrying the API's problem body;
//! - [`paginate`]: a list route as a stream that follows the cursors.

mod auth;
mod error;
mod mailbox;
mod pages;
mod transport;

pub use auth::{
    Cognito, CognitoSession, CognitoSettings, NewPasswordChallenge, SignIn, StaticToken, TokenSource, Tokens,
};
pub use error::Error;
pub use mailbox::{LocalMailbox, MailMessage, OPERATOR_SECRET_HEADER};
pub use pages::{Page, paginate};
pub use tenancy::Problem;
pub use tenancy::idempotency::IdempotencyKey;
pub use transport::{ApiClient, Call, ClientConfig, RetryPolicy};

/// Re-exported for the service clients.
pub use reqwest::Method;
