//! Sending an [`InternalCommand`] to the users function by synchronous
//! Lambda Invoke: the one way the tenants service and the token-claims
//! trigger reach it (feature `invoke`).

use tenancy::invoke::InternalFunction;
pub use tenancy::invoke::InvokeError;

use crate::{InternalCommand, InternalResponse};

/// The users function, reached with the caller's execution role.
#[derive(Debug, Clone)]
pub struct UsersFunction(InternalFunction);

impl UsersFunction {
    pub fn new(client: aws_sdk_lambda::Client, function_name: impl Into<String>) -> Self {
        Self(InternalFunction::new(client, function_name, "users"))
    }

    /// Sends one internal command and reads the answer.
    pub async fn send(&self, command: InternalCommand) -> Result<InternalResponse, InvokeError> {
        self.0.send(command).await
    }
}
