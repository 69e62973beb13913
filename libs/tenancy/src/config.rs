//! Configuration from the environment (what Terraform sets on each function).
//!
//! AWS endpoints are not configured here: the SDK's standard `AWS_ENDPOINT_URL`
//! (or `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_STS`, ...) redirects every
//! client, e.g. to the local emulator, with no code change.

use std::time::Duration;

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::{BehaviorVersion, SdkConfig};

use crate::audit::{Audit, DynamoAuditStore};
use crate::authority::{Authority, AuthoritySettings, DynamoAuthorityStore};
use crate::credentials::{RoleAssumer, StsRoleAssumer, TenantCacheSettings};
use crate::events::{DynamoOutbox, EventBridgeBus, Events, Records};
use crate::password::PasswordPolicy;
use crate::table::{TenantDynamoCache, tenant_dynamo_cache};

/// A setting is missing or invalid; the function cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the environment variable {0} is required")]
    Missing(&'static str),
    #[error("the environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// A required environment variable.
pub fn required_env(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// A whole-number setting within `range`, `default` when unset.
pub fn env_u64(name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, ConfigError> {
    let Ok(text) = std::env::var(name) else {
        return Ok(default);
    };
    let value: u64 =
        text.parse().map_err(|_| ConfigError::Invalid { name, reason: format!("{text:?} is not a whole number") })?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid { name, reason: format!("{value} is outside {range:?}") })
    }
}

/// `PASSWORD_POLICY`: the user pool's password policy as Terraform set it on
/// the pool (JSON, [`PasswordPolicy`]'s fields).
pub fn password_policy_from_env() -> Result<PasswordPolicy, ConfigError> {
    const NAME: &str = "PASSWORD_POLICY";
    let policy: PasswordPolicy = serde_json::from_str(&required_env(NAME)?)
        .map_err(|error| ConfigError::Invalid { name: NAME, reason: error.to_string() })?;
    if !PasswordPolicy::MINIMUM_LENGTH_RANGE.contains(&policy.minimum_length) {
        return Err(ConfigError::Invalid {
            name: NAME,
            reason: format!("minimum_length is outside {:?}", PasswordPolicy::MINIMUM_LENGTH_RANGE),
        });
    }
    Ok(policy)
}

/// How a service obtains tenant-scoped credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenancyConfig {
    /// `TENANT_ROLE_ARN`: the role assumed with the `TenantId` session tag.
    pub tenant_role_arn: String,
    /// `TENANT_SESSION_SECONDS` (900..=3600, default 3600).
    pub session_duration: Duration,
    /// `TENANT_REFRESH_MARGIN_SECONDS` (0..=600, default 300).
    pub refresh_margin: Duration,
    /// `TENANT_CACHE_CAPACITY` (1..=100000, default 1000).
    pub max_cached_tenants: u64,
    /// `AUTHORITY_FRESHNESS_SECONDS` (0..=60, default 10): the oldest a
    /// tenant record or membership behind a request's authority may be.
    pub authority_freshness: Duration,
    /// Names the caller in STS session names (CloudTrail).
    pub service_name: String,
}

impl TenancyConfig {
    /// Reads the settings for `service_name` from the environment.
    pub fn from_env(service_name: &str) -> Result<Self, ConfigError> {
        let config = Self {
            tenant_role_arn: required_env("TENANT_ROLE_ARN")?,
            session_duration: Duration::from_secs(env_u64("TENANT_SESSION_SECONDS", 3600, 900..=3600)?),
            refresh_margin: Duration::from_secs(env_u64("TENANT_REFRESH_MARGIN_SECONDS", 300, 0..=600)?),
            max_cached_tenants: env_u64("TENANT_CACHE_CAPACITY", 1000, 1..=100_000)?,
            authority_freshness: Duration::from_secs(env_u64("AUTHORITY_FRESHNESS_SECONDS", 10, 0..=60)?),
            service_name: service_name.to_owned(),
        };
        if !config.tenant_role_arn.starts_with("arn:") {
            return Err(ConfigError::Invalid { name: "TENANT_ROLE_ARN", reason: "not an ARN".into() });
        }
        Ok(config)
    }

    /// The per-tenant DynamoDB client cache, assuming the tenant role through STS.
    pub fn tenant_dynamo_cache(&self, sdk: &SdkConfig) -> TenantDynamoCache<StsRoleAssumer> {
        let assumer = StsRoleAssumer::new(
            aws_sdk_sts::Client::new(sdk),
            &self.tenant_role_arn,
            &self.service_name,
            self.session_duration,
        );
        let settings =
            TenantCacheSettings { max_tenants: self.max_cached_tenants, refresh_margin: self.refresh_margin };
        tenant_dynamo_cache(assumer, sdk.clone(), settings)
    }

    /// The callers' authority from the records (`TENANTS_TABLE`,
    /// `MEMBERSHIPS_TABLE`), read through `sessions` (the service's own: one
    /// `AssumeRole` per tenant serves both).
    pub fn authority<A: RoleAssumer>(
        &self,
        dynamo: TenantDynamoCache<A>,
    ) -> Result<Authority<DynamoAuthorityStore<A>>, ConfigError> {
        let store =
            DynamoAuthorityStore::new(dynamo, required_env("TENANTS_TABLE")?, required_env("MEMBERSHIPS_TABLE")?);
        let settings = AuthoritySettings { freshness: self.authority_freshness, ..AuthoritySettings::default() };
        Ok(Authority::new(store, settings))
    }

    /// The tenants' audit trails (`AUDIT_TABLE`), written and read through
    /// `dynamo` (the service's own).
    pub fn audit<A: RoleAssumer>(
        &self,
        dynamo: TenantDynamoCache<A>,
    ) -> Result<Audit<DynamoAuditStore<A>>, ConfigError> {
        Ok(Audit::new(DynamoAuditStore::new(dynamo, required_env("AUDIT_TABLE")?)))
    }

    /// The tenants' event outboxes (`OUTBOX_TABLE`), through `dynamo`.
    pub fn outbox<A: RoleAssumer>(&self, dynamo: TenantDynamoCache<A>) -> Result<DynamoOutbox<A>, ConfigError> {
        Ok(DynamoOutbox::new(dynamo, required_env("OUTBOX_TABLE")?))
    }

    /// The audit trail and the publisher on the platform's bus
    /// (`EVENT_BUS_NAME`), which runs with the execution role's credentials
    /// (`PutEvents` has no tenant dimension).
    pub fn records<A: RoleAssumer>(
        &self,
        dynamo: TenantDynamoCache<A>,
        sdk: &SdkConfig,
    ) -> Result<Records<DynamoAuditStore<A>, EventBridgeBus>, ConfigError> {
        let bus = EventBridgeBus::new(aws_sdk_eventbridge::Client::new(sdk), required_env("EVENT_BUS_NAME")?);
        Ok(Records { audit: self.audit(dynamo)?, events: Events::new(bus) })
    }
}

/// Time allowed to open a connection to an AWS endpoint.
pub const SDK_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time allowed for one attempt of an AWS call (sending it and reading the
/// whole answer). A stalled endpoint fails the attempt; the SDK's standard
/// retry then tries again.
pub const SDK_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time allowed for one AWS call, retries included. Well inside every
/// function's timeout (10 s for the services, 5 s for the Cognito trigger),
/// so an unreachable or frozen DynamoDB, STS or Cognito becomes a 503
/// problem (or a refused sign-in) instead of a Lambda timeout.
pub const SDK_OPERATION_TIMEOUT: Duration = Duration::from_secs(4);

/// The timeouts every SDK client of a function uses (see the constants).
pub fn sdk_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(SDK_CONNECT_TIMEOUT)
        .operation_attempt_timeout(SDK_ATTEMPT_TIMEOUT)
        .operation_timeout(SDK_OPERATION_TIMEOUT)
        .build()
}

/// The shared AWS configuration (region, credentials of the execution role,
/// endpoints from `AWS_ENDPOINT_URL*`, and [`sdk_timeouts`]).
///
/// Stalled-stream protection is off: it guards long transfers, and every call
/// here is a small request and answer that [`SDK_ATTEMPT_TIMEOUT`] already
/// bounds. Left on, it wakes each call every 100 ms while the endpoint works
/// to measure the upload's throughput, CPU a function pays for nothing.
pub async fn load_aws_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(sdk_timeouts())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_client_gets_the_timeouts_and_no_stalled_stream_protection() {
        let sdk = load_aws_config().await;
        let timeouts = sdk.timeout_config().expect("timeouts");
        assert_eq!(timeouts.connect_timeout(), Some(SDK_CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(SDK_ATTEMPT_TIMEOUT));
        assert_eq!(timeouts.operation_timeout(), Some(SDK_OPERATION_TIMEOUT));
        let stalled = sdk.stalled_stream_protection().expect("set explicitly");
        assert!(!stalled.is_enabled());
        // The tenant clients are built from this config and inherit it.
        let dynamo = aws_sdk_dynamodb::config::Builder::from(&sdk).build();
        assert!(dynamo.stalled_stream_protection().is_some_and(|s| !s.is_enabled()));
    }
}
