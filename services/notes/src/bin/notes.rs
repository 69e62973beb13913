//! The notes Lambda function: set up once, then serve invocations.

// The SDK futures nest deeply; computing their layout needs more than the default 128.
#![recursion_limit = "256"]

use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use notes::entrypoint::NotesApi;
use notes::store::DynamoNoteStore;
use tenancy::config::{TenancyConfig, load_aws_config, required_env};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tenancy::telemetry::init_tracing();
    let tenancy = TenancyConfig::from_env("notes")?;
    let table = required_env("NOTES_TABLE")?;
    let sdk = load_aws_config().await;
    let dynamo = tenancy.tenant_dynamo_cache(&sdk);
    let authority = tenancy.authority(dynamo.clone())?;
    let api = Arc::new(NotesApi::new(DynamoNoteStore::new(dynamo, table), authority));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
        let api = Arc::clone(&api);
        async move { Ok::<_, Error>(api.handle(event.payload).await) }
    }))
    .await
}
