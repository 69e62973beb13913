//! Tenant-scoped credentials: STS `AssumeRole` on the tenant role with the
//! session tag `TenantId=<tenant>`, cached per tenant.
//!
//! The tenant role lets a session touch only DynamoDB items whose partition
//! key equals its `TenantId` tag, so every client built here can reach its own
//! tenant's data and nothing else, whatever the code using it asks for.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_sts::types::Tag;
use moka::Expiry;
use moka::future::Cache;

use crate::aws_error::AwsService;
use crate::ids::TenantId;

/// The session tag the tenant role's policies read (`aws:PrincipalTag/TenantId`).
pub const TENANT_ID_TAG: &str = "TenantId";

/// Why tenant credentials could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CredentialsError {
    /// STS did not answer, throttled us, or failed on its side: try again later.
    #[error("the security token service is unavailable: {0}")]
    Unavailable(String),
    /// STS refused or answered with something unusable: a deployment problem.
    #[error("assuming the tenant role failed: {0}")]
    Refused(String),
}

/// Obtains credentials that are limited to one tenant.
pub trait RoleAssumer: Send + Sync + 'static {
    /// Credentials for `tenant`, with their expiry set.
    fn assume(&self, tenant: &TenantId) -> impl Future<Output = Result<Credentials, CredentialsError>> + Send;
}

/// [`RoleAssumer`] on STS.
#[derive(Debug, Clone)]
pub struct StsRoleAssumer {
    client: aws_sdk_sts::Client,
    role_arn: String,
    session_prefix: String,
    duration: Duration,
}

impl StsRoleAssumer {
    /// `session_prefix` names the caller (the service) in CloudTrail; the
    /// session name is `<prefix>-<tenant id>`.
    pub fn new(
        client: aws_sdk_sts::Client,
        role_arn: impl Into<String>,
        session_prefix: &str,
        duration: Duration,
    ) -> Self {
        let session_prefix: String = session_prefix
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c))
            .take(64 - 1 - uuid::fmt::Hyphenated::LENGTH)
            .collect();
        Self { client, role_arn: role_arn.into(), session_prefix, duration }
    }

    /// The role session name used for `tenant`: at most 64 characters of `[\w+=,.@-]`.
    pub fn session_name(&self, tenant: &TenantId) -> String {
        format!("{}-{tenant}", self.session_prefix)
    }
}

impl RoleAssumer for StsRoleAssumer {
    async fn assume(&self, tenant: &TenantId) -> Result<Credentials, CredentialsError> {
        let tag = Tag::builder()
            .key(TENANT_ID_TAG)
            .value(tenant.to_string())
            .build()
            .map_err(|error| CredentialsError::Refused(error.to_string()))?;
        let duration_seconds = i32::try_from(self.duration.as_secs()).unwrap_or(3600);
        let output = self
            .client
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(self.session_name(tenant))
            .duration_seconds(duration_seconds)
            .tags(tag)
            .send()
            .await
            .map_err(|error| classify_sts_error(&error))?;
        let credentials =
            output.credentials.ok_or_else(|| CredentialsError::Refused("STS returned no credentials".into()))?;
        let expiry = SystemTime::try_from(credentials.expiration)
            .map_err(|_| CredentialsError::Refused("STS returned an unreadable expiry".into()))?;
        Ok(Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            Some(credentials.session_token),
            Some(expiry),
            "tenant-role",
        ))
    }
}

/// STS as the tenant cache sees it.
const STS: AwsService = AwsService {
    name: "STS",
    transient: &["Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable", "InternalFailure"],
};

fn classify_sts_error<E, R>(error: &aws_sdk_sts::error::SdkError<E, R>) -> CredentialsError
where
    E: aws_sdk_sts::error::ProvideErrorMetadata,
{
    STS.sort(error, CredentialsError::Unavailable, CredentialsError::Refused)
}

/// Settings of [`TenantCache`].
#[derive(Debug, Clone, Copy)]
pub struct TenantCacheSettings {
    /// How many tenants one execution environment keeps.
    pub max_tenants: u64,
    /// Once a session's credentials have less than this left, the next
    /// request starts one background refresh and is served with the cached
    /// session meanwhile. The session itself is used until
    /// [`USE_UNTIL_BEFORE_EXPIRY`] (or this margin, if smaller) before expiry.
    pub refresh_margin: Duration,
}

/// A cached session is not used closer than this to its credentials' expiry
/// (capped at the refresh margin): a request signed with it must still be
/// valid when it reaches the service.
pub const USE_UNTIL_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// After a failed background refresh, the next one waits this long (the
/// cached session stays in use; STS is not asked on every request).
pub const REFRESH_RETRY_AFTER: Duration = Duration::from_secs(5);

impl Default for TenantCacheSettings {
    fn default() -> Self {
        Self { max_tenants: 1_000, refresh_margin: Duration::from_secs(300) }
    }
}

type BuildScoped<S> = dyn Fn(TenantId, &Credentials) -> S + Send + Sync;

struct Entry<S> {
    scoped: Arc<S>,
    expires_at: Option<SystemTime>,
    /// Set while a background refresh of this entry runs (one at a time).
    refreshing: Arc<AtomicBool>,
}

impl<S> Entry<S> {
    fn new(scoped: S, expires_at: Option<SystemTime>) -> Self {
        Self { scoped: Arc::new(scoped), expires_at, refreshing: Arc::new(AtomicBool::new(false)) }
    }
}

impl<S> Clone for Entry<S> {
    fn clone(&self) -> Self {
        Self { scoped: Arc::clone(&self.scoped), expires_at: self.expires_at, refreshing: Arc::clone(&self.refreshing) }
    }
}

/// Entries leave the cache `margin` before their credentials expire.
struct ExpireBeforeCredentials {
    margin: Duration,
}

impl<S> Expiry<TenantId, Entry<S>> for ExpireBeforeCredentials {
    fn expire_after_create(&self, _tenant: &TenantId, entry: &Entry<S>, _now: Instant) -> Option<Duration> {
        let expires_at = entry.expires_at?;
        let remaining = expires_at.duration_since(SystemTime::now()).unwrap_or_default();
        Some(remaining.saturating_sub(self.margin))
    }
}

/// A bounded per-tenant cache of values built from tenant credentials.
///
/// One STS call per tenant per credential lifetime: concurrent first requests
/// for a tenant wait on the same call. Within `refresh_margin` of expiry, a
/// request starts one background refresh (prefetch) and gets the cached,
/// still valid session without waiting; the refreshed session replaces it
/// when STS answers. Entries leave the cache [`USE_UNTIL_BEFORE_EXPIRY`]
/// before their credentials expire, or when the cache is full.
pub struct TenantCache<A, S> {
    assumer: Arc<A>,
    build: Arc<BuildScoped<S>>,
    cache: Cache<TenantId, Entry<S>>,
    refresh_margin: Duration,
}

/// A handle on the same cache (one `AssumeRole` per tenant serves every holder).
impl<A, S> Clone for TenantCache<A, S> {
    fn clone(&self) -> Self {
        Self {
            assumer: Arc::clone(&self.assumer),
            build: Arc::clone(&self.build),
            cache: self.cache.clone(),
            refresh_margin: self.refresh_margin,
        }
    }
}

impl<A, S> std::fmt::Debug for TenantCache<A, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCache").field("cached_tenants", &self.cache.entry_count()).finish()
    }
}

impl<A: RoleAssumer, S: Send + Sync + 'static> TenantCache<A, S> {
    /// `build` makes the cached value (a DynamoDB client, say) from one
    /// tenant's credentials; it must not do I/O.
    pub fn new(
        assumer: A,
        settings: TenantCacheSettings,
        build: impl Fn(TenantId, &Credentials) -> S + Send + Sync + 'static,
    ) -> Self {
        let cache = Cache::builder()
            .max_capacity(settings.max_tenants)
            .expire_after(ExpireBeforeCredentials { margin: settings.refresh_margin.min(USE_UNTIL_BEFORE_EXPIRY) })
            .build();
        Self { assumer: Arc::new(assumer), build: Arc::new(build), cache, refresh_margin: settings.refresh_margin }
    }

    /// The tenant's scoped value, from the cache or from a fresh `AssumeRole`.
    pub async fn get(&self, tenant: &TenantId) -> Result<Arc<S>, CredentialsError> {
        // Hit: no allocation, no STS; maybe a background refresh.
        if let Some(entry) = self.cache.get(tenant).await {
            self.prefetch_if_due(*tenant, &entry);
            return Ok(entry.scoped);
        }
        let assumer = Arc::clone(&self.assumer);
        let build = Arc::clone(&self.build);
        let tenant = *tenant;
        let entry = self
            .cache
            .try_get_with(tenant, async move {
                let credentials = assumer.assume(&tenant).await?;
                tracing::debug!(tenant_id = %tenant, "assumed the tenant role");
                Ok::<_, CredentialsError>(Entry::new(build(tenant, &credentials), credentials.expiry()))
            })
            .await
            .map_err(|error: Arc<CredentialsError>| (*error).clone())?;
        Ok(entry.scoped)
    }

    /// Starts one background refresh when `entry`'s credentials are within
    /// the refresh margin of expiry (and none is running for it).
    fn prefetch_if_due(&self, tenant: TenantId, entry: &Entry<S>) {
        let Some(expires_at) = entry.expires_at else {
            return;
        };
        let due = SystemTime::now().checked_add(self.refresh_margin).is_none_or(|horizon| horizon >= expires_at);
        if !due || entry.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            entry.refreshing.store(false, Ordering::Release);
            return;
        };
        let assumer = Arc::clone(&self.assumer);
        let build = Arc::clone(&self.build);
        let cache = self.cache.clone();
        let refreshing = Arc::clone(&entry.refreshing);
        runtime.spawn(async move {
            match assumer.assume(&tenant).await {
                Ok(credentials) => {
                    tracing::debug!(tenant_id = %tenant, "refreshed the tenant role's credentials ahead of expiry");
                    let fresh = Entry::new(build(tenant, &credentials), credentials.expiry());
                    cache.insert(tenant, fresh).await;
                }
                Err(error) => {
                    tracing::warn!(tenant_id = %tenant, %error, "background credential refresh failed; the cached credentials stay in use until they expire");
                    tokio::time::sleep(REFRESH_RETRY_AFTER).await;
                    refreshing.store(false, Ordering::Release);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct CountingAssumer {
        calls: AtomicUsize,
        lifetime: Duration,
        delay: Duration,
    }

    impl CountingAssumer {
        fn new(lifetime: Duration) -> Self {
            Self { calls: AtomicUsize::new(0), lifetime, delay: Duration::ZERO }
        }
    }

    impl RoleAssumer for Arc<CountingAssumer> {
        async fn assume(&self, tenant: &TenantId) -> Result<Credentials, CredentialsError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            Ok(Credentials::new(
                format!("AKIA{}", tenant.as_uuid().simple()),
                "secret",
                Some("token".into()),
                Some(SystemTime::now() + self.lifetime),
                "test",
            ))
        }
    }

    #[derive(Debug)]
    struct Scoped {
        tenant: TenantId,
        access_key: String,
    }

    fn scoped(tenant: TenantId, credentials: &Credentials) -> Scoped {
        Scoped { tenant, access_key: credentials.access_key_id().to_owned() }
    }

    fn tenants(assumer: &Arc<CountingAssumer>) -> TenantCache<Arc<CountingAssumer>, Scoped> {
        TenantCache::new(Arc::clone(assumer), TenantCacheSettings::default(), scoped)
    }

    #[tokio::test]
    async fn many_calls_for_one_tenant_assume_the_role_once() {
        let assumer = Arc::new(CountingAssumer::new(Duration::from_secs(3600)));
        let tenants = tenants(&assumer);
        let tenant = TenantId::generate();
        for _ in 0..100 {
            let scoped = tenants.get(&tenant).await.expect("session");
            assert_eq!(scoped.tenant, tenant);
        }
        assert_eq!(assumer.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn two_tenants_assume_twice_and_get_their_own_credentials() {
        let assumer = Arc::new(CountingAssumer::new(Duration::from_secs(3600)));
        let tenants = tenants(&assumer);
        let (first, second) = (TenantId::generate(), TenantId::generate());
        for _ in 0..10 {
            let a = tenants.get(&first).await.expect("first");
            let b = tenants.get(&second).await.expect("second");
            assert_ne!(a.access_key, b.access_key);
            assert_eq!(b.tenant, second);
        }
        assert_eq!(assumer.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_calls_for_one_tenant_share_one_assume() {
        let assumer = Arc::new(CountingAssumer {
            delay: Duration::from_millis(50),
            ..CountingAssumer::new(Duration::from_secs(3600))
        });
        let tenants = Arc::new(tenants(&assumer));
        let tenant = TenantId::generate();
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let tenants = Arc::clone(&tenants);
                tokio::spawn(async move { tenants.get(&tenant).await.map(|s| s.tenant) })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.expect("join").expect("session"), tenant);
        }
        assert_eq!(assumer.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_inside_the_refresh_margin_are_assumed_again() {
        // Lifetime shorter than the 5-minute margin: never worth caching.
        let assumer = Arc::new(CountingAssumer::new(Duration::from_secs(60)));
        let tenants = tenants(&assumer);
        let tenant = TenantId::generate();
        tenants.get(&tenant).await.expect("first");
        tenants.get(&tenant).await.expect("second");
        assert_eq!(assumer.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_cache_is_bounded() {
        let assumer = Arc::new(CountingAssumer::new(Duration::from_secs(3600)));
        let tenants = TenantCache::new(
            Arc::clone(&assumer),
            TenantCacheSettings { max_tenants: 10, ..TenantCacheSettings::default() },
            scoped,
        );
        for _ in 0..100 {
            tenants.get(&TenantId::generate()).await.expect("session");
        }
        tenants.cache.run_pending_tasks().await;
        assert!(tenants.cache.entry_count() <= 10, "{} entries", tenants.cache.entry_count());
    }

    /// The first call answers at once; later calls wait for the gate (or fail).
    struct GatedAssumer {
        calls: AtomicUsize,
        lifetime: Duration,
        gate: tokio::sync::Semaphore,
        fail_after_first: bool,
    }

    impl GatedAssumer {
        fn new(lifetime: Duration, fail_after_first: bool) -> Arc<Self> {
            Arc::new(Self {
                calls: AtomicUsize::new(0),
                lifetime,
                gate: tokio::sync::Semaphore::new(0),
                fail_after_first,
            })
        }
    }

    impl RoleAssumer for Arc<GatedAssumer> {
        async fn assume(&self, _tenant: &TenantId) -> Result<Credentials, CredentialsError> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if call > 1 {
                if self.fail_after_first {
                    return Err(CredentialsError::Unavailable("Throttling".into()));
                }
                self.gate.acquire().await.expect("gate open").forget();
            }
            Ok(Credentials::new(
                format!("AKIA-CALL-{call}"),
                "secret",
                Some("token".into()),
                Some(SystemTime::now() + self.lifetime),
                "test",
            ))
        }
    }

    // 200 s left: inside the 300 s refresh margin, outside the 60 s where a
    // session is no longer used.
    const IN_PREFETCH_WINDOW: Duration = Duration::from_secs(200);

    #[tokio::test]
    async fn a_request_in_the_prefetch_window_gets_the_cached_session_while_one_refresh_runs() {
        let assumer = GatedAssumer::new(IN_PREFETCH_WINDOW, false);
        let tenants = TenantCache::new(Arc::clone(&assumer), TenantCacheSettings::default(), scoped);
        let tenant = TenantId::generate();
        assert_eq!(tenants.get(&tenant).await.expect("first").access_key, "AKIA-CALL-1");
        // The refresh is blocked on the gate: requests must not wait for it.
        for _ in 0..20 {
            let scoped = tokio::time::timeout(Duration::from_secs(1), tenants.get(&tenant))
                .await
                .expect("served without waiting for STS")
                .expect("session");
            assert_eq!(scoped.access_key, "AKIA-CALL-1", "the cached credentials meanwhile");
            tokio::task::yield_now().await;
        }
        assert_eq!(assumer.calls.load(Ordering::SeqCst), 2, "exactly one background refresh");
        // STS answers: the refreshed session replaces the old one.
        assumer.gate.add_permits(1);
        let mut refreshed = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if tenants.cache.get(&tenant).await.map(|e| e.scoped.access_key.clone()) == Some("AKIA-CALL-2".into()) {
                refreshed = true;
                break;
            }
        }
        assert!(refreshed, "the refreshed credentials are cached");
        assert_eq!(tenants.get(&tenant).await.expect("after").access_key, "AKIA-CALL-2");
    }

    #[tokio::test]
    async fn a_failed_background_refresh_keeps_the_cached_session_and_is_not_retried_per_request() {
        let assumer = GatedAssumer::new(IN_PREFETCH_WINDOW, true);
        let tenants = TenantCache::new(Arc::clone(&assumer), TenantCacheSettings::default(), scoped);
        let tenant = TenantId::generate();
        tenants.get(&tenant).await.expect("first");
        for _ in 0..20 {
            assert_eq!(tenants.get(&tenant).await.expect("cached").access_key, "AKIA-CALL-1");
            tokio::task::yield_now().await;
        }
        assert_eq!(assumer.calls.load(Ordering::SeqCst), 2, "one refresh attempt, then a pause");
    }

    #[tokio::test]
    async fn outside_the_prefetch_window_there_is_no_refresh() {
        let assumer = GatedAssumer::new(Duration::from_secs(3600), false);
        let tenants = TenantCache::new(Arc::clone(&assumer), TenantCacheSettings::default(), scoped);
        let tenant = TenantId::generate();
        for _ in 0..20 {
            tenants.get(&tenant).await.expect("session");
            tokio::task::yield_now().await;
        }
        assert_eq!(assumer.calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn session_names_fit_sts_rules() {
        let config = aws_sdk_sts::Config::builder().behavior_version_latest().build();
        let assumer = StsRoleAssumer::new(
            aws_sdk_sts::Client::from_conf(config),
            "arn:aws:iam::123456789012:role/tenant",
            "notes service with a very long name!",
            Duration::from_secs(900),
        );
        let name = assumer.session_name(&TenantId::generate());
        assert!(name.len() <= 64 && name.len() >= 2, "{name}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)), "{name}");
        assert!(name.starts_with("notesservicewithave"));
    }
}
