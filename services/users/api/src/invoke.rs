//! Sending an [`InternalCommand`] to the users function by synchronous
//! Lambda Invoke: the one way the tenants service and the token-claims
//! trigger reach it (feature `invoke`).

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use tenancy::aws_error::AwsService;

use crate::{InternalCommand, InternalRequest, InternalResponse};

/// Why the users function gave no answer the caller can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// No answer, throttled, or the function failed (`FunctionError`): retry later.
    #[error("the users service is unavailable: {0}")]
    Unavailable(String),
    /// The invocation was refused (missing function, no permission) or the
    /// answer was unreadable: a deployment problem.
    #[error("the users service cannot be used: {0}")]
    Misconfigured(String),
}

/// The users function, reached with the caller's execution role.
#[derive(Debug, Clone)]
pub struct UsersFunction {
    client: aws_sdk_lambda::Client,
    function_name: String,
}

impl UsersFunction {
    pub fn new(client: aws_sdk_lambda::Client, function_name: impl Into<String>) -> Self {
        Self { client, function_name: function_name.into() }
    }

    /// Sends one internal command and reads the answer.
    pub async fn send(&self, command: InternalCommand) -> Result<InternalResponse, InvokeError> {
        let request = InternalRequest { internal: command };
        let payload = serde_json::to_vec(&request).map_err(|error| InvokeError::Misconfigured(error.to_string()))?;
        let output = self
            .client
            .invoke()
            .function_name(&self.function_name)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|error| classify(&error))?;
        if let Some(function_error) = output.function_error() {
            // The payload of a failed invocation describes the error; it is
            // not echoed anywhere (it could quote the request).
            return Err(InvokeError::Unavailable(format!("the users function failed ({function_error})")));
        }
        let body = output.payload().map(Blob::as_ref).unwrap_or_default();
        serde_json::from_slice(body)
            .map_err(|_| InvokeError::Misconfigured("the users function answered something unreadable".into()))
    }
}

/// Lambda as the invoker sees it: any other code is a deployment mistake.
const LAMBDA: AwsService = AwsService {
    name: "Lambda",
    transient: &[
        "TooManyRequestsException",
        "ServiceException",
        "ResourceNotReadyException",
        "EC2ThrottledException",
        "ThrottlingException",
    ],
};

fn classify<E, R>(error: &SdkError<E, R>) -> InvokeError
where
    E: ProvideErrorMetadata,
{
    LAMBDA.sort(error, InvokeError::Unavailable, InvokeError::Misconfigured)
}
