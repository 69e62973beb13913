//! The notes Lambda function: set up once, then serve invocations.

// The SDK futures nest deeply; computing their layout needs more than the default 128.
#![recursion_limit = "256"]

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{Error, LambdaEvent};
use notes::entrypoint::NotesApi;
use notes::store::DynamoNoteStore;
use tenancy::config::required_env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (tenancy, sdk) = tenancy::lambda::start("notes").await?;
    let table = required_env("NOTES_TABLE")?;
    let dynamo = tenancy.tenant_dynamo_cache(&sdk);
    let authority = tenancy.authority(dynamo.clone())?;
    let audit = tenancy.audit(dynamo.clone())?;
    let api = NotesApi::new(DynamoNoteStore::new(dynamo, table), authority, audit);
    tenancy::lambda::serve(api, |api, event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        Ok(api.handle(event.payload).await)
    })
    .await
}
