//! The notes Lambda function: set up once, then serve invocations.

// The SDK futures nest deeply; computing their layout needs more than the default 128.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent};
use notes::entrypoint::NotesApi;
use notes::store::DynamoNoteStore;
use serde_json::Value;
use tenancy::config::required_env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (tenancy, sdk) = tenancy::lambda::start("notes").await?;
    let table = required_env("NOTES_TABLE")?;
    let dynamo = tenancy.tenant_dynamo_cache(&sdk);
    let authority = tenancy.authority(dynamo.clone())?;
    let audit = tenancy.audit(dynamo.clone())?;
    let api = NotesApi::new(DynamoNoteStore::new(dynamo, table), authority, audit);
    // Raw JSON: the tenants service's offboarding command ({"internal": ...}) or an HTTP API request.
    tenancy::lambda::serve(api, |api, event: LambdaEvent<Value>| async move {
        Ok(api.invoke(event.payload, &event.context.request_id).await)
    })
    .await
}
