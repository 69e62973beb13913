//! How every function starts: tracing, its settings and the AWS configuration,
//! read once; then each invocation served with the state built from them.

use std::future::Future;
use std::sync::Arc;

use aws_config::SdkConfig;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{TenancyConfig, load_aws_config};

/// Starts `service`'s function: tracing, then its tenancy settings and the
/// AWS configuration (a missing or bad setting ends the start).
pub async fn start(service: &str) -> Result<(TenancyConfig, SdkConfig), Error> {
    crate::telemetry::init_tracing();
    let tenancy = TenancyConfig::from_env(service)?;
    Ok((tenancy, load_aws_config().await))
}

/// Serves every invocation: `handle` gets the state built once at start and
/// the event.
pub async fn serve<S, E, R, F, Fut>(state: S, handle: F) -> Result<(), Error>
where
    S: Send + Sync + 'static,
    E: DeserializeOwned,
    R: Serialize,
    F: Fn(Arc<S>, LambdaEvent<E>) -> Fut,
    Fut: Future<Output = Result<R, Error>>,
{
    let state = Arc::new(state);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<E>| handle(Arc::clone(&state), event))).await
}
