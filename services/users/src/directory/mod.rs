//! The user directory (the Cognito user pool): who can sign in, with which
//! password, for which tenant (`custom:tenant_id`, read by the token-claims
//! trigger). One trait, a Cognito implementation and an in-memory fake.
//!
//! Users are addressed by their username, the normalised email address.
//!
//! Cognito cannot be tenant-scoped (IAM has no condition on a user's
//! `custom:tenant_id`, and session tags do not reach cognito-idp), so the
//! directory runs with the function's execution role. The service checks
//! through the tenant-scoped memberships table that a user belongs to the
//! caller's tenant before it acts on the user.

mod cognito;
mod memory;

use std::future::Future;

use tenancy::{ApiError, Password, TenantId};

pub use cognito::{CognitoDirectory, TENANT_ID_ATTRIBUTE};
pub use memory::{FakeUser, MemoryDirectory};

use crate::domain::UserId;

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The username: a normalised email address.
    pub email: String,
    /// Written to `custom:tenant_id`; always from verified claims or the
    /// tenants service, never from a request body.
    pub tenant: TenantId,
    /// When given: the user's temporary password, and no invitation message
    /// is sent. When absent, Cognito generates one and sends the invitation.
    pub temporary_password: Option<Password>,
}

/// Where a user stands with its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordState {
    /// Created by an administrator and never signed in (`FORCE_CHANGE_PASSWORD`).
    Temporary,
    /// Has a password of its own (`CONFIRMED`).
    Confirmed,
    /// Any other Cognito status.
    Other(String),
}

/// A user as the directory knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// The Cognito `sub`.
    pub user_id: UserId,
    /// `custom:tenant_id`, if present and well-formed.
    pub tenant: Option<TenantId>,
    pub password: PasswordState,
    pub enabled: bool,
}

/// What came of a create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created(DirectoryUser),
    /// A user with this username exists already; nothing was changed.
    Exists,
}

/// Why a directory call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("no such user in the directory")]
    UserNotFound,
    /// The directory refused the input (password policy, attribute format);
    /// the text is Cognito's message, safe to show the caller.
    #[error("the directory refused the input: {0}")]
    InvalidInput(String),
    /// The directory did not answer or throttled us: try again later.
    #[error("the user directory is unavailable: {0}")]
    Unavailable(String),
    /// The user is not in the state the operation needs (an invitation is
    /// resent only before the first sign-in; a password is reset only after).
    #[error("the user is in the wrong state for this: {0}")]
    WrongState(String),
    /// The directory refused the request (permissions, configuration, ...).
    #[error("the user directory refused the request: {0}")]
    Refused(String),
}

impl From<DirectoryError> for ApiError {
    fn from(error: DirectoryError) -> Self {
        match error {
            DirectoryError::InvalidInput(detail) => ApiError::BadRequest(detail),
            DirectoryError::WrongState(detail) => ApiError::Conflict(detail),
            DirectoryError::Unavailable(_) => {
                tracing::warn!(%error, "the user directory is unavailable");
                ApiError::ServiceUnavailable("the user directory is temporarily unavailable; please retry".into())
            }
            DirectoryError::UserNotFound | DirectoryError::Refused(_) => {
                tracing::error!(%error, "user directory call failed");
                ApiError::Internal
            }
        }
    }
}

/// The user directory. Every method is one Cognito call on the execution role.
pub trait Directory: Send + Sync + 'static {
    /// Creates a user with `email`, `email_verified=true` and `custom:tenant_id`.
    fn create_user(&self, user: &NewUser) -> impl Future<Output = Result<CreateOutcome, DirectoryError>> + Send;

    /// The user with this username, if any.
    fn get_user(&self, email: &str) -> impl Future<Output = Result<Option<DirectoryUser>, DirectoryError>> + Send;

    /// Sets the user's permanent password (the user becomes `CONFIRMED`).
    fn set_permanent_password(
        &self,
        email: &str,
        password: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Emails the invitation again with a new temporary password; only
    /// while the user has never signed in (`WrongState` otherwise).
    fn resend_invitation(&self, email: &str) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Voids the user's password and emails a code to choose a new one
    /// (confirm-forgot-password); only for a user with a password of its own
    /// (`WrongState` otherwise).
    fn reset_password(&self, email: &str) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    fn disable_user(&self, email: &str) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    fn enable_user(&self, email: &str) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Revokes the user's refresh tokens.
    fn sign_out_everywhere(&self, email: &str) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Deletes the user; `UserNotFound` if there is none.
    fn delete_user(&self, email: &str) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}
