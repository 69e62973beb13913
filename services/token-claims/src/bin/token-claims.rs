//! The token-claims Lambda function (Cognito pre-token-generation trigger):
//! set up once, then serve invocations.

// The SDK futures nest deeply; computing their layout needs more than the default 128.
#![recursion_limit = "256"]

use std::sync::Arc;

use aws_lambda_events::cognito::CognitoEventUserPoolsPreTokenGenV2;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tenancy::authority::DynamoAuthorityStore;
use tenancy::config::{TenancyConfig, load_aws_config, required_env};
use token_claims::trigger::TokenClaims;
use users_api::invoke::UsersFunction;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tenancy::telemetry::init_tracing();
    let tenancy = TenancyConfig::from_env("token-claims")?;
    let tenants_table = required_env("TENANTS_TABLE")?;
    let memberships_table = required_env("MEMBERSHIPS_TABLE")?;
    let users_function = required_env("USERS_FUNCTION_NAME")?;
    let sdk = load_aws_config().await;
    let trigger = Arc::new(TokenClaims::new(
        DynamoAuthorityStore::new(tenancy.tenant_dynamo_cache(&sdk), tenants_table, memberships_table),
        UsersFunction::new(aws_sdk_lambda::Client::new(&sdk), users_function),
    ));
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<CognitoEventUserPoolsPreTokenGenV2>| {
            let trigger = Arc::clone(&trigger);
            async move {
                // The error's message is what Cognito shows the user: generic.
                trigger
                    .handle(event.payload, &event.context.request_id)
                    .await
                    .map_err(Error::from)
            }
        },
    ))
    .await
}
