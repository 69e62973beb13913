//! The tenants Lambda function: set up once, then serve invocations.

// The SDK futures nest deeply; computing their layout needs more than the default 128.
#![recursion_limit = "256"]

use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;
use tenancy::config::{env_u64, password_policy_from_env, required_env};
use tenants::entrypoint::{RegistrationSettings, Services, Settings, TenantsApi};
use tenants::offboarding::{LambdaDataService, OffboardingSettings};
use tenants::operators::CognitoOperators;
use tenants::store::{DynamoSlugStore, DynamoTenantStore};
use tenants::users::LambdaUsersService;

/// The Lambda client that invokes the users and notes functions: an
/// invocation may take longer than one of their own AWS calls (4 s each,
/// `tenancy::config`; an erasure pass 3 s), and must end inside this
/// function's 10 s timeout. The
/// attempt timeout equals the operation timeout, so a slow invocation is not
/// repeated behind the caller's back (throttles still are retried).
fn invoke_client(sdk: &aws_config::SdkConfig) -> aws_sdk_lambda::Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(tenancy::config::SDK_CONNECT_TIMEOUT)
        .operation_attempt_timeout(INVOKE_TIMEOUT)
        .operation_timeout(INVOKE_TIMEOUT)
        .build();
    aws_sdk_lambda::Client::from_conf(aws_sdk_lambda::config::Builder::from(sdk).timeout_config(timeouts).build())
}

/// How long one invocation of the users or notes function may take.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(8);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (tenancy, sdk) = tenancy::lambda::start("tenants").await?;
    let tenants_table = required_env("TENANTS_TABLE")?;
    let slugs_table = required_env("TENANT_SLUGS_TABLE")?;
    let users_function = required_env("USERS_FUNCTION_NAME")?;
    let user_pool_id = required_env("USER_POOL_ID")?;
    let notes_function = required_env("NOTES_FUNCTION_NAME")?;
    let registration = RegistrationSettings {
        password_policy: password_policy_from_env()?,
        expiry: Duration::from_secs(env_u64("REGISTRATION_EXPIRY_SECONDS", 24 * 3600, 10..=7 * 24 * 3600)?),
    };
    let offboarding = OffboardingSettings {
        closure_grace: Duration::from_secs(env_u64("CLOSURE_GRACE_SECONDS", 7 * 24 * 3600, 0..=90 * 24 * 3600)?),
        settle: Duration::from_secs(env_u64("ERASURE_SETTLE_SECONDS", 20, 0..=120)?),
        ..OffboardingSettings::default()
    };
    // Execution-role client: slug claims (public registration, before any
    // tenant exists) and the platform-admin listing (cross-tenant). Tenant
    // records themselves go through tenant-scoped dynamo.
    let execution = aws_sdk_dynamodb::Client::new(&sdk);
    let dynamo = tenancy.tenant_dynamo_cache(&sdk);
    let authority = tenancy.authority(dynamo.clone())?;
    let records = tenancy.records(dynamo.clone(), &sdk)?;
    let outbox = tenancy.outbox(dynamo.clone())?;
    let api = TenantsApi::new(
        DynamoTenantStore::new(dynamo, execution.clone(), tenants_table, outbox),
        DynamoSlugStore::new(execution, slugs_table),
        Services {
            users: LambdaUsersService::new(invoke_client(&sdk), users_function),
            notes: LambdaDataService::new(invoke_client(&sdk), notes_function, "notes"),
        },
        authority,
        records,
        // Execution role: who is a platform admin is the user pool's to say.
        CognitoOperators::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), user_pool_id),
        Settings { registration, offboarding },
    );
    // Raw JSON: the schedule's internal command ({"internal": ...}) or an HTTP API request.
    tenancy::lambda::serve(api, |api, event: LambdaEvent<Value>| async move {
        Ok(api.invoke(event.payload, &event.context.request_id).await)
    })
    .await
}
