//! Sending an internal command to another service's function by synchronous
//! Lambda Invoke (feature `invoke`): how the tenants service and the
//! token-claims trigger reach the users and notes functions. Never through
//! the HTTP API; the execution role's policy names each function it may invoke.

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws_error::AwsService;

/// The envelope of every internal command: `{"internal": <command>}`, which
/// no HTTP API event has at its top level.
#[derive(Serialize)]
struct InternalRequest<C> {
    internal: C,
}

/// Why the function gave no answer the caller can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// No answer, throttled, or the function failed (`FunctionError`): retry later.
    #[error("{0}")]
    Unavailable(String),
    /// The invocation was refused (missing function, no permission) or the
    /// answer was unreadable: a deployment problem.
    #[error("{0}")]
    Misconfigured(String),
}

/// A service's function, reached with the caller's execution role.
#[derive(Debug, Clone)]
pub struct InternalFunction {
    client: aws_sdk_lambda::Client,
    function_name: String,
    /// The service, for messages: "the users service is unavailable".
    service: &'static str,
}

impl InternalFunction {
    pub fn new(client: aws_sdk_lambda::Client, function_name: impl Into<String>, service: &'static str) -> Self {
        Self { client, function_name: function_name.into(), service }
    }

    /// Sends one internal command and reads the answer.
    pub async fn send<C: Serialize, R: DeserializeOwned>(&self, command: C) -> Result<R, InvokeError> {
        let service = self.service;
        let request = InternalRequest { internal: command };
        let payload = serde_json::to_vec(&request)
            .map_err(|error| InvokeError::Misconfigured(format!("the {service} service cannot be used: {error}")))?;
        let output = self
            .client
            .invoke()
            .function_name(&self.function_name)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|error| classify(&error, service))?;
        if let Some(function_error) = output.function_error() {
            // The payload of a failed invocation describes the error; it is
            // not echoed anywhere (it could quote the request).
            return Err(InvokeError::Unavailable(format!(
                "the {service} service is unavailable: its function failed ({function_error})"
            )));
        }
        let body = output.payload().map(Blob::as_ref).unwrap_or_default();
        serde_json::from_slice(body).map_err(|_| {
            InvokeError::Misconfigured(format!(
                "the {service} service cannot be used: it answered something unreadable"
            ))
        })
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

fn classify<E, R>(error: &SdkError<E, R>, service: &str) -> InvokeError
where
    E: ProvideErrorMetadata,
{
    match LAMBDA.sort(error, InvokeError::Unavailable, InvokeError::Misconfigured) {
        InvokeError::Unavailable(reason) => {
            InvokeError::Unavailable(format!("the {service} service is unavailable: {reason}"))
        }
        InvokeError::Misconfigured(reason) => {
            InvokeError::Misconfigured(format!("the {service} service cannot be used: {reason}"))
        }
    }
}
