//! The token-claims Lambda function (Cognito pre-token-generation trigger):
//! set up once, then serve invocations.

// The SDK futures nest deeply; computing their layout needs more than the default 128.
#![recursion_limit = "256"]

use aws_lambda_events::cognito::CognitoEventUserPoolsPreTokenGenV2;
use lambda_runtime::{Error, LambdaEvent};
use tenancy::authority::DynamoAuthorityStore;
use tenancy::config::required_env;
use token_claims::trigger::TokenClaims;
use users_api::invoke::UsersFunction;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (tenancy, sdk) = tenancy::lambda::start("token-claims").await?;
    let tenants_table = required_env("TENANTS_TABLE")?;
    let memberships_table = required_env("MEMBERSHIPS_TABLE")?;
    let users_function = required_env("USERS_FUNCTION_NAME")?;
    let trigger = TokenClaims::new(
        DynamoAuthorityStore::new(tenancy.tenant_dynamo_cache(&sdk), tenants_table, memberships_table),
        UsersFunction::new(aws_sdk_lambda::Client::new(&sdk), users_function),
    );
    tenancy::lambda::serve(trigger, |trigger, event: LambdaEvent<CognitoEventUserPoolsPreTokenGenV2>| async move {
        // The error's message is what Cognito shows the user: generic.
        trigger.handle(event.payload, &event.context.request_id).await.map_err(Error::from)
    })
    .await
}
