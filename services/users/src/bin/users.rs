//! The users Lambda function: set up once, then serve invocations (HTTP API
//! requests and internal commands from the tenants service).

// The SDK futures nest deeply; computing their layout needs more than the default 128.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;
use tenancy::config::{password_policy_from_env, required_env};
use users::directory::CognitoDirectory;
use users::entrypoint::UsersApi;
use users::store::DynamoMembershipStore;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (tenancy, sdk) = tenancy::lambda::start("users").await?;
    let table = required_env("MEMBERSHIPS_TABLE")?;
    let user_pool_id = required_env("USER_POOL_ID")?;
    let dynamo = tenancy.tenant_dynamo_cache(&sdk);
    let authority = tenancy.authority(dynamo.clone())?;
    let records = tenancy.records(dynamo.clone(), &sdk)?;
    let outbox = tenancy.outbox(dynamo.clone())?;
    let store = DynamoMembershipStore::new(dynamo, table, outbox);
    // The execution role's client: Cognito user management cannot be tenant-scoped.
    let directory = CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), user_pool_id);
    let api = UsersApi::new(store, directory, authority, records, password_policy_from_env()?);
    // Raw JSON: an internal command ({"internal": ...}) or an HTTP API request.
    tenancy::lambda::serve(api, |api, event: LambdaEvent<Value>| async move {
        Ok(api.invoke(event.payload, &event.context.request_id).await)
    })
    .await
}
