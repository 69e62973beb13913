//! End-to-end support: the whole system driven from the outside, through the
//! local gateway only (the public HTTP API and the Cognito endpoint at
//! `<gateway>/cognito`), the way a client on AWS would drive it.
//!
//! - [`Settings`]: `LOCAL_GATEWAY_URL` and `AWS_ENDPOINT_URL` (the emulator).
//! - [`Stack`]: sign-in (`InitiateAuth USER_PASSWORD_AUTH`, the
//!   `NEW_PASSWORD_REQUIRED` challenge, refresh), registration of tenants,
//!   invitations, platform admins, unique names per run.
//! - [`Member`]: a signed-in user with the typed clients (`notes-client`,
//!   `users-client`, `tenants-client`) on its token; [`Refused`] reads the
//!   problem of a refused call.
//! - [`Api`] / [`Reply`]: the raw HTTP API, for what no client would send
//!   (foreign headers, forged tokens, raw bodies) and exact statuses.
//! - [`jwt`]: reading token payloads, and the bad tokens (tampered, `alg:
//!   none`, signed with a key the gateway does not publish).
//! - [`process`]: the function instances a gateway runs (for the crash test).
//! - [`demo`]: the two-tenant story of `make demo`.
//!
//! The emulator is used directly for two things only: reading the app
//! client id the platform published in SSM, and creating a platform admin
//! (an operator action with the admin API; no route does it).

pub mod demo;
pub mod emulator;
pub mod jwt;
pub mod process;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, ChallengeNameType, MessageActionType};
use futures_util::TryStreamExt as _;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tenancy::events::LifecycleEvent;
pub use tenancy::idempotency::IdempotencyKey;
use tenancy::{Problem, TenantId, TenantTier, UserId};
use tenants_client::{ErasureReceipt, RegisterTenant, Tenant};
use users_client::{InviteUser, User};

/// The environment variable naming the local gateway (`http://127.0.0.1:4000`).
pub const GATEWAY_ENV: &str = "LOCAL_GATEWAY_URL";
/// The environment variable naming the emulator (moto).
pub const EMULATOR_ENV: &str = "AWS_ENDPOINT_URL";
/// Where the platform root publishes its app client id and user pool id.
pub const PLATFORM_SSM_PREFIX: &str = "/saas/local/platform";
/// The local stack's resource names begin with this (`<project>-<env>`).
pub const NAME_PREFIX: &str = "saas-local";
/// The Cognito group of platform operators.
pub const PLATFORM_ADMIN_GROUP: &str = "platform-admin";

/// Anything that went wrong, as text for a test failure or a demo line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<()> {
    if condition { Ok(()) } else { Err(Error(message())) }
}

// --- Settings ------------------------------------------------------------------

/// Where the running stack is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The local gateway, e.g. `http://127.0.0.1:4000` (no trailing slash).
    pub gateway: String,
    /// The emulator, e.g. `http://127.0.0.1:5055` (no trailing slash).
    pub emulator: String,
    pub region: String,
}

impl Settings {
    /// From `LOCAL_GATEWAY_URL`, `AWS_ENDPOINT_URL` and `AWS_REGION`
    /// (default `us-east-1`).
    pub fn from_env() -> Result<Self> {
        let read = |name: &str, what: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    Error(format!(
                        "{name} is not set: it must point at {what}. The end-to-end tests and the demo run \
                         against a running local stack and gateway: use `make test` or `make demo`, or by hand \
                         `make up`, `local/stack.sh gateway-start`, then \
                         LOCAL_GATEWAY_URL=http://127.0.0.1:4000 AWS_ENDPOINT_URL=http://127.0.0.1:5055 \
                         cargo test -p e2e -- --include-ignored"
                    ))
                })
        };
        Ok(Self {
            gateway: read(GATEWAY_ENV, "the local gateway (local/stack.sh gateway-start)")?,
            emulator: read(EMULATOR_ENV, "the emulator of the local stack (make up)")?,
            region: std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned()),
        })
    }

    /// [`Settings::from_env`], panicking with its message (for tests).
    pub fn from_env_or_panic() -> Self {
        Self::from_env().unwrap_or_else(|e| panic!("{e}"))
    }
}

// --- Tokens and sign-in --------------------------------------------------------------

/// The tokens of one sign-in.
#[derive(Clone)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

impl Tokens {
    /// The ID token's payload (not verified: the gateway does that).
    pub fn id_claims(&self) -> Result<Map<String, Value>> {
        jwt::claims(&self.id_token)
    }

    /// The access token's payload (not verified).
    pub fn access_claims(&self) -> Result<Map<String, Value>> {
        jwt::claims(&self.access_token)
    }

    /// The user's `sub` (the users service's user id).
    pub fn sub(&self) -> Result<String> {
        claim(&self.id_claims()?, "sub")
    }
}

/// A string claim, or an error naming it.
pub fn claim(claims: &Map<String, Value>, name: &str) -> Result<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error(format!("the token has no string claim {name}: {claims:?}")))
}

/// Why a sign-in did not produce tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInError {
    /// Cognito (through the gateway) refused: its error code
    /// (`NotAuthorizedException`, `UserLambdaValidationException`, ...) and message.
    Refused { code: String, message: String },
    /// Cognito asked for a challenge this call does not answer.
    Challenge(String),
    /// Anything else (connection, unexpected answer).
    Other(String),
}

impl fmt::Display for SignInError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused { code, message } => write!(f, "sign-in refused: {code}: {message}"),
            Self::Challenge(name) => write!(f, "sign-in asks for the challenge {name}"),
            Self::Other(message) => write!(f, "sign-in failed: {message}"),
        }
    }
}

impl std::error::Error for SignInError {}

impl From<SignInError> for Error {
    fn from(error: SignInError) -> Self {
        Self(error.to_string())
    }
}

pub(crate) fn sdk_error<E, R>(error: aws_sdk_cognitoidentityprovider::error::SdkError<E, R>) -> SignInError
where
    E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    match error.as_service_error() {
        Some(service) => SignInError::Refused {
            code: service.code().unwrap_or("unknown").to_owned(),
            message: service.message().unwrap_or_default().to_owned(),
        },
        None => SignInError::Other(format!("{}", aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&error))),
    }
}

fn tokens_from(
    result: Option<&aws_sdk_cognitoidentityprovider::types::AuthenticationResultType>,
) -> Result<Tokens, SignInError> {
    let result = result.ok_or_else(|| SignInError::Other("no AuthenticationResult in the answer".to_owned()))?;
    match (result.id_token(), result.access_token()) {
        (Some(id), Some(access)) => Ok(Tokens {
            id_token: id.to_owned(),
            access_token: access.to_owned(),
            refresh_token: result.refresh_token().map(str::to_owned),
        }),
        _ => Err(SignInError::Other("the AuthenticationResult lacks a token".to_owned())),
    }
}

// --- The stack ---------------------------------------------------------------------

/// A connection to a running stack + gateway.
#[derive(Debug, Clone)]
pub struct Stack {
    pub settings: Settings,
    /// The emulator's AWS configuration (dummy credentials).
    sdk: aws_config::SdkConfig,
    http: reqwest::Client,
    /// Cognito through the gateway (`<gateway>/cognito`): sign-in runs the trigger.
    cognito: aws_sdk_cognitoidentityprovider::Client,
    /// Cognito in the emulator: the admin API, for operator set-up only.
    emulator_cognito: aws_sdk_cognitoidentityprovider::Client,
    pub user_pool_id: String,
    pub app_client_id: String,
    run: String,
    counter: Arc<AtomicU64>,
}

/// [`Stack::platform_parameter`], for [`Stack::connect`] before the stack exists.
async fn platform_parameter(sdk: &aws_config::SdkConfig, name: &str) -> Result<String> {
    let path = format!("{PLATFORM_SSM_PREFIX}/{name}");
    aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(&path)
        .send()
        .await
        .map_err(|e| {
            Error(format!(
                "cannot read the SSM parameter {path} from the emulator: {} (is the stack up?)",
                aws_sdk_ssm::error::DisplayErrorContext(&e)
            ))
        })?
        .parameter
        .and_then(|p| p.value)
        .ok_or_else(|| Error(format!("the SSM parameter {path} has no value")))
}

/// Offboards `tenant` as a platform admin, request after request (the
/// erasure settles first), until nothing of it is left: the final receipt.
pub async fn offboard(operator: &tenants_client::TenantsClient, tenant: TenantId) -> Result<ErasureReceipt> {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let receipt = operator.offboard(tenant).await?;
        if receipt.status == tenants_client::TenantStatus::Offboarded {
            return Ok(receipt);
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error(format!("tenant {tenant} still not offboarded after two minutes: {receipt:?}")));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A password that satisfies the pool's policy (12+, upper, lower, digit).
pub fn strong_password() -> String {
    format!("Pw-{}-Aa1", uuid::Uuid::new_v4().simple())
}

impl Stack {
    /// Connects to the stack named by the environment ([`Settings::from_env`]).
    pub async fn from_env() -> Result<Self> {
        Self::connect(Settings::from_env()?).await
    }

    /// Reads the platform's published ids (SSM, in the emulator) and builds the clients.
    pub async fn connect(settings: Settings) -> Result<Self> {
        // The emulator and the gateway take any credentials; dummy ones keep
        // the tests independent of the caller's AWS profile.
        let credentials = aws_sdk_ssm::config::Credentials::new("test", "test", None, None, "e2e-static");
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(settings.region.clone()))
            .credentials_provider(credentials)
            .endpoint_url(&settings.emulator)
            .load()
            .await;
        let app_client_id = platform_parameter(&sdk, "app_client_id").await?;
        let user_pool_id = platform_parameter(&sdk, "user_pool_id").await?;
        let emulator_cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
        let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(
            aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
                .endpoint_url(format!("{}/cognito", settings.gateway))
                .build(),
        );
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error(format!("http client: {e}")))?;
        let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let stack = Self {
            settings,
            sdk,
            http,
            cognito,
            emulator_cognito,
            user_pool_id,
            app_client_id,
            run,
            counter: Arc::new(AtomicU64::new(0)),
        };
        // A clear failure when the gateway is not there.
        stack.http.get(format!("{}/cognito/.well-known/jwks.json", stack.settings.gateway)).send().await.map_err(
            |e| {
                Error(format!(
                    "the local gateway does not answer on {}: {e} (local/stack.sh gateway-start)",
                    stack.settings.gateway
                ))
            },
        )?;
        Ok(stack)
    }

    /// The emulator's AWS configuration, for tests that read or change the
    /// deployment directly.
    pub fn emulator_config(&self) -> &aws_config::SdkConfig {
        &self.sdk
    }

    /// A parameter the platform published (`<PLATFORM_SSM_PREFIX>/<name>`).
    pub async fn platform_parameter(&self, name: &str) -> Result<String> {
        platform_parameter(&self.sdk, name).await
    }

    /// The deployed freshness window of authority: how long a function may
    /// use a tenant record or membership it read (the platform's setting).
    pub async fn authority_freshness(&self) -> Result<Duration> {
        let seconds = self.platform_parameter("authority_freshness_seconds").await?;
        let seconds: u64 =
            seconds.parse().map_err(|_| Error(format!("authority_freshness_seconds is {seconds:?}, not a number")))?;
        Ok(Duration::from_secs(seconds))
    }

    /// Waits out the freshness window (and a second for clocks and queues):
    /// afterwards every function has read the records again.
    pub async fn wait_out_the_freshness_window(&self) -> Result<()> {
        tokio::time::sleep(self.authority_freshness().await? + Duration::from_secs(1)).await;
        Ok(())
    }

    /// The secret the gateway's operator endpoints (`/_local/...`) require:
    /// the file named by `LOCAL_GATEWAY_OPERATOR_SECRET_FILE`, else the one
    /// `local/stack.sh gateway-start` has the gateway write for its port
    /// (`.local/gateway-<port>/operator-secret`).
    pub fn operator_secret(&self) -> Result<String> {
        let path = self.operator_secret_path()?;
        std::fs::read_to_string(&path)
            .map(|secret| secret.trim().to_owned())
            .map_err(|e| Error(format!("the gateway's operator secret {}: {e}", path.display())))
    }

    /// Where the operator secret is (see [`Stack::operator_secret`]).
    pub fn operator_secret_path(&self) -> Result<std::path::PathBuf> {
        if let Some(path) = std::env::var_os("LOCAL_GATEWAY_OPERATOR_SECRET_FILE") {
            return Ok(std::path::PathBuf::from(path));
        }
        let port = url::Url::parse(&self.settings.gateway)
            .ok()
            .and_then(|url| url.port_or_known_default())
            .ok_or_else(|| Error(format!("no port in {}", self.settings.gateway)))?;
        Ok(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../.local")
            .join(format!("gateway-{port}"))
            .join("operator-secret"))
    }

    /// Invokes a function of the stack (`saas-local-<service>`) through the
    /// gateway's operator Invoke route, as a platform event source would
    /// (e.g. the tenants' registration sweep schedule).
    pub async fn invoke_function(&self, service: &str, payload: &Value) -> Result<Value> {
        let name = format!("{NAME_PREFIX}-{service}");
        let response = self
            .http
            .post(format!("{}/_local/functions/{name}/invoke", self.settings.gateway))
            .header("x-local-operator-secret", self.operator_secret()?)
            .json(payload)
            .send()
            .await
            .map_err(|e| Error(format!("invoking {name}: {e}")))?;
        if !response.status().is_success() || response.headers().contains_key("x-amz-function-error") {
            return Err(Error(format!("invoking {name}: {}", response.status())));
        }
        response.json().await.map_err(|e| Error(format!("{name}'s answer: {e}")))
    }

    /// The tenants service's registration expiry sweep, run now (on AWS a
    /// schedule runs it; the local stack has no scheduler).
    pub async fn sweep_registrations(&self) -> Result<Value> {
        self.invoke_function("tenants", &serde_json::json!({"internal": {"command": "expire_registrations"}})).await
    }

    /// The deployed expiry of unfinished registrations (tenants function's setting).
    pub async fn registration_expiry(&self) -> Result<Duration> {
        self.function_seconds("tenants", "REGISTRATION_EXPIRY_SECONDS").await
    }

    /// How long after offboarding began its erasure waits (tenants function's setting).
    pub async fn erasure_settling_time(&self) -> Result<Duration> {
        self.function_seconds("tenants", "ERASURE_SETTLE_SECONDS").await
    }

    /// A setting in seconds of a deployed function (its environment).
    async fn function_seconds(&self, service: &str, setting: &str) -> Result<Duration> {
        let name = format!("{NAME_PREFIX}-{service}");
        let config = aws_sdk_lambda::Client::new(&self.sdk)
            .get_function_configuration()
            .function_name(&name)
            .send()
            .await
            .map_err(|e| Error(format!("GetFunctionConfiguration {name}: {}", sdk_error(e))))?;
        let seconds = config
            .environment()
            .and_then(|environment| environment.variables())
            .and_then(|variables| variables.get(setting))
            .and_then(|seconds| seconds.parse().ok())
            .ok_or_else(|| Error(format!("{name} has no {setting}")))?;
        Ok(Duration::from_secs(seconds))
    }

    /// The tenant id of the registration holding `slug`, if one does (the
    /// tenants service's claims table).
    pub async fn slug_claim(&self, slug: &str) -> Result<Option<TenantId>> {
        let table = format!("{NAME_PREFIX}-tenant-slugs");
        let item = aws_sdk_dynamodb::Client::new(&self.sdk)
            .get_item()
            .table_name(&table)
            .key("slug", aws_sdk_dynamodb::types::AttributeValue::S(slug.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| Error(format!("GetItem on {table}: {}", sdk_error(e))))?
            .item;
        Ok(item.and_then(|item| item.get("tenant_id")?.as_s().ok().and_then(|id| TenantId::parse(id).ok())))
    }

    /// Whether the user pool has a user with this email address.
    pub async fn user_exists(&self, email: &str) -> Result<bool> {
        match self.emulator_cognito.admin_get_user().user_pool_id(&self.user_pool_id).username(email).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_user_not_found_exception()) => Ok(false),
            Err(e) => Err(Error(format!("emulator Cognito AdminGetUser: {}", sdk_error(e)))),
        }
    }

    /// Takes `email` out of the platform-admin group (emulator admin API).
    pub async fn remove_platform_admin(&self, email: &str) -> Result<()> {
        self.emulator_cognito
            .admin_remove_user_from_group()
            .user_pool_id(&self.user_pool_id)
            .username(email)
            .group_name(PLATFORM_ADMIN_GROUP)
            .send()
            .await
            .map_err(|e| Error(format!("emulator Cognito AdminRemoveUserFromGroup: {}", sdk_error(e))))?;
        Ok(())
    }

    /// The Cognito endpoint of the gateway, as a public client reaches it.
    pub fn cognito(&self) -> &aws_sdk_cognitoidentityprovider::Client {
        &self.cognito
    }

    /// [`Stack::from_env`], panicking with its message (for tests).
    pub async fn from_env_or_panic() -> Self {
        match Self::from_env().await {
            Ok(stack) => stack,
            Err(e) => panic!("{e}"),
        }
    }

    /// A name unique to this run and call: `<prefix>-<run>-<n>`, lowercase,
    /// valid as a slug and in an email address.
    pub fn unique(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{}-{}-{n}", prefix.to_lowercase(), self.run)
    }

    /// A client of the public API without a token.
    pub fn anonymous(&self) -> Api {
        Api { base: self.settings.gateway.clone(), http: self.http.clone(), token: None, headers: Vec::new() }
    }

    /// A client of the public API with `token` as the bearer token.
    pub fn api(&self, token: impl Into<String>) -> Api {
        self.anonymous().with_token(token)
    }

    /// `InitiateAuth USER_PASSWORD_AUTH` through the gateway: tokens (the
    /// trigger ran) or a challenge.
    async fn initiate_auth(&self, username: &str, password: &str) -> Result<InitiateAuthOutput, SignInError> {
        self.cognito
            .initiate_auth()
            .client_id(&self.app_client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(sdk_error)
    }

    /// `InitiateAuth USER_PASSWORD_AUTH` through the gateway (the trigger runs).
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<Tokens, SignInError> {
        let answer = self.initiate_auth(username, password).await?;
        if let Some(challenge) = answer.challenge_name() {
            return Err(SignInError::Challenge(challenge.as_str().to_owned()));
        }
        tokens_from(answer.authentication_result())
    }

    /// First sign-in of an invited user: the temporary password, then the
    /// `NEW_PASSWORD_REQUIRED` challenge answered with `new_password`.
    pub async fn sign_in_first_time(
        &self,
        username: &str,
        temporary_password: &str,
        new_password: &str,
    ) -> Result<Tokens, SignInError> {
        let answer = self.initiate_auth(username, temporary_password).await?;
        match answer.challenge_name() {
            Some(ChallengeNameType::NewPasswordRequired) => {}
            Some(other) => return Err(SignInError::Challenge(other.as_str().to_owned())),
            None => {
                return Err(SignInError::Other(
                    "expected the NEW_PASSWORD_REQUIRED challenge for a temporary password, got tokens".to_owned(),
                ));
            }
        }
        // Cognito names the user in the challenge (with email as the
        // username attribute, the username is not the email).
        let challenge_user = answer
            .challenge_parameters()
            .and_then(|p| p.get("USERNAME").or_else(|| p.get("USER_ID_FOR_SRP")))
            .map_or(username, String::as_str)
            .to_owned();
        let answer = self
            .cognito
            .respond_to_auth_challenge()
            .client_id(&self.app_client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .set_session(answer.session().map(str::to_owned))
            .challenge_responses("USERNAME", challenge_user)
            .challenge_responses("NEW_PASSWORD", new_password)
            .send()
            .await
            .map_err(sdk_error)?;
        if let Some(challenge) = answer.challenge_name() {
            return Err(SignInError::Challenge(challenge.as_str().to_owned()));
        }
        tokens_from(answer.authentication_result())
    }

    /// `InitiateAuth REFRESH_TOKEN_AUTH` through the gateway (the trigger runs again).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, SignInError> {
        let answer = self
            .cognito
            .initiate_auth()
            .client_id(&self.app_client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .send()
            .await
            .map_err(sdk_error)?;
        let mut tokens = tokens_from(answer.authentication_result())?;
        tokens.refresh_token.get_or_insert_with(|| refresh_token.to_owned());
        Ok(tokens)
    }

    /// Signs `email` in and wraps the result as a [`Member`].
    pub async fn member(&self, email: &str, password: &str) -> Result<Member> {
        let tokens = self.sign_in(email, password).await?;
        Ok(self.member_from(email, password, tokens))
    }

    fn member_from(&self, email: &str, password: &str, tokens: Tokens) -> Member {
        let client = self.client(&tokens.access_token);
        Member {
            email: email.to_owned(),
            password: password.to_owned(),
            notes: notes_client::NotesClient::new(client.clone()),
            users: users_client::UsersClient::new(client.clone()),
            tenants: tenants_client::TenantsClient::new(client),
            api: self.api(tokens.access_token.clone()),
            tokens,
        }
    }

    /// A typed-client transport with `token`, without retries: every test
    /// sees the API's first answer.
    pub fn client(&self, token: &str) -> saas_client::ApiClient {
        let token = Arc::new(saas_client::StaticToken::new(token.to_owned()));
        saas_client::ApiClient::new(&self.client_config(), token).expect("a client of the gateway")
    }

    /// The tenants client without a token: public registration.
    pub fn registration(&self) -> tenants_client::TenantsClient {
        let client = saas_client::ApiClient::anonymous(&self.client_config()).expect("a client of the gateway");
        tenants_client::TenantsClient::new(client)
    }

    fn client_config(&self) -> saas_client::ClientConfig {
        let mut config = saas_client::ClientConfig::new(&self.settings.gateway).expect("the gateway URL was read");
        config.retry = saas_client::RetryPolicy::none();
        config
    }

    /// A registration of a new tenant `name` under a unique slug, its admin
    /// `admin@<slug>.example.com` with a strong password.
    pub fn new_tenant(&self, name: &str, tier: TenantTier) -> RegisterTenant {
        let slug = self.unique(&name.replace(' ', "-"));
        RegisterTenant {
            name: name.to_owned(),
            admin_email: format!("admin@{slug}.example.com"),
            admin_password: strong_password().into(),
            slug,
            tier,
        }
    }

    /// Registers a tenant (`POST /tenants`, no token) with a fresh slug and
    /// admin, and signs the admin in.
    pub async fn register_tenant(&self, name: &str, tier: TenantTier) -> Result<TenantFixture> {
        let registration = self.new_tenant(name, tier);
        let registered = self.registration().register(&registration).await?;
        let admin = self.member(&registration.admin_email, registration.admin_password.expose()).await?;
        Ok(TenantFixture { tenant: registered.tenant, admin_user_id: registered.admin_user_id, admin })
    }

    /// [`register_tenant`](Self::register_tenant), for tests: panics if it fails.
    pub async fn tenant(&self, name: &str, tier: TenantTier) -> TenantFixture {
        self.register_tenant(name, tier).await.unwrap_or_else(|error| panic!("registering tenant {name:?}: {error}"))
    }

    /// Invites a user into the admin's tenant with a temporary password
    /// (`POST /users`), then signs them in for the first time (new password),
    /// which makes the member active; `user` is the member as it is then.
    pub async fn invite(
        &self,
        admin: &Member,
        local_part: &str,
        domain: &str,
        role: tenancy::TenantRole,
    ) -> Result<Invited> {
        let email = format!("{}@{domain}", self.unique(local_part));
        let temporary = strong_password();
        let invitation = InviteUser { email: email.clone(), role, temporary_password: Some(temporary.clone().into()) };
        let user = admin.users.invite(&invitation).await?;
        let password = strong_password();
        let tokens = self.sign_in_first_time(&email, &temporary, &password).await?;
        // The first sign-in made the membership active: the record as it is now.
        let user = admin.users.get(user.user_id).await?;
        Ok(Invited { user, member: self.member_from(&email, &password, tokens) })
    }

    /// Every lifecycle event of `tenant` the lifecycle-events queue delivers
    /// within `wait` (until `expected` arrived), oldest first; each checked
    /// against libs/tenancy/events.schema.json, its detail-type and source
    /// against the schema's table, and seen once. Messages are taken off the
    /// queue; other tenants' wait in this process for their own readers.
    pub async fn lifecycle_events(
        &self,
        tenant: TenantId,
        expected: usize,
        wait: Duration,
    ) -> Result<Vec<LifecycleEvent>> {
        let schema: Value = serde_json::from_str(include_str!("../../../libs/tenancy/events.schema.json"))
            .map_err(|e| Error(format!("the events schema: {e}")))?;
        let validator = jsonschema::validator_for(&schema).map_err(|e| Error(format!("the events schema: {e}")))?;
        let sqs = aws_sdk_sqs::Client::new(self.emulator_config());
        let queue = format!("{NAME_PREFIX}-lifecycle-events");
        let url = sqs
            .get_queue_url()
            .queue_name(&queue)
            .send()
            .await
            .map_err(|e| Error(format!("{queue}: {}", sdk_error(e))))?;
        let url = url.queue_url.ok_or_else(|| Error::new("no queue URL"))?;
        let ours = |envelope: &Value| envelope["detail"]["tenant_id"] == tenant.to_string();
        // What another reader here took off the queue for this tenant.
        let take_strays = || -> Vec<Value> {
            let mut stray = STRAY_EVENTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let (mine, others) = std::mem::take(&mut *stray).into_iter().partition(|e| ours(e));
            *stray = others;
            mine
        };
        let mut envelopes: Vec<Value> = Vec::new();
        let deadline = std::time::Instant::now() + wait;
        loop {
            envelopes.extend(take_strays());
            if std::time::Instant::now() >= deadline || envelopes.len() >= expected {
                break;
            }
            let received = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await;
            for message in
                received.map_err(|e| Error(format!("receive: {}", sdk_error(e))))?.messages.unwrap_or_default()
            {
                if let Some(handle) = message.receipt_handle() {
                    let deleted = sqs.delete_message().queue_url(&url).receipt_handle(handle).send().await;
                    deleted.map_err(|e| Error(format!("delete: {}", sdk_error(e))))?;
                }
                let envelope: Value = serde_json::from_str(message.body().unwrap_or_default())
                    .map_err(|e| Error(format!("not an event: {e}")))?;
                if ours(&envelope) {
                    envelopes.push(envelope);
                } else {
                    STRAY_EVENTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(envelope);
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mut seen: Vec<LifecycleEvent> = Vec::new();
        for envelope in envelopes {
            let detail = &envelope["detail"];
            let errors: Vec<String> = validator.iter_errors(detail).map(|e| e.to_string()).collect();
            ensure(errors.is_empty(), || format!("{detail} does not match the schema: {errors:?}"))?;
            let event: LifecycleEvent =
                serde_json::from_value(detail.clone()).map_err(|e| Error(format!("{detail}: {e}")))?;
            let change = serde_json::to_value(event.change).map_err(|e| Error(e.to_string()))?;
            let documented = &schema["x-detail-types"][change.as_str().unwrap_or_default()];
            ensure(envelope["detail-type"] == documented["detail-type"], || format!("detail-type of {envelope}"))?;
            ensure(envelope["source"] == documented["source"], || format!("source of {envelope}"))?;
            ensure(seen.iter().all(|e| e.event_id != event.event_id), || format!("delivered twice: {detail}"))?;
            seen.push(event);
        }
        seen.sort_by_key(|event| event.occurred_at);
        Ok(seen)
    }

    /// A platform operator: a Cognito user created with the admin API in the
    /// emulator's pool (no tenant attribute), in the `platform-admin` group,
    /// signed in through the gateway.
    pub async fn platform_admin(&self) -> Result<Member> {
        let email = format!("{}@operators.example.com", self.unique("operator"));
        let password = strong_password();
        let admin_error = |what: &str, e: String| Error(format!("emulator Cognito {what}: {e}"));
        self.emulator_cognito
            .admin_create_user()
            .user_pool_id(&self.user_pool_id)
            .username(&email)
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(&email)
                    .build()
                    .map_err(|e| admin_error("attribute", e.to_string()))?,
            )
            .user_attributes(
                AttributeType::builder()
                    .name("email_verified")
                    .value("true")
                    .build()
                    .map_err(|e| admin_error("attribute", e.to_string()))?,
            )
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .map_err(|e| admin_error("AdminCreateUser", sdk_error(e).to_string()))?;
        self.emulator_cognito
            .admin_set_user_password()
            .user_pool_id(&self.user_pool_id)
            .username(&email)
            .password(&password)
            .permanent(true)
            .send()
            .await
            .map_err(|e| admin_error("AdminSetUserPassword", sdk_error(e).to_string()))?;
        self.emulator_cognito
            .admin_add_user_to_group()
            .user_pool_id(&self.user_pool_id)
            .username(&email)
            .group_name(PLATFORM_ADMIN_GROUP)
            .send()
            .await
            .map_err(|e| admin_error("AdminAddUserToGroup", sdk_error(e).to_string()))?;
        self.member(&email, &password).await
    }
}

/// Lifecycle events taken off the queue for another tenant than their
/// reader's, kept for that tenant's reader in this process.
static STRAY_EVENTS: std::sync::Mutex<Vec<Value>> = std::sync::Mutex::new(Vec::new());

/// A signed-in user: the typed clients on its access token, and the raw API.
#[derive(Debug, Clone)]
pub struct Member {
    pub email: String,
    pub password: String,
    pub tokens: Tokens,
    pub notes: notes_client::NotesClient,
    pub users: users_client::UsersClient,
    pub tenants: tenants_client::TenantsClient,
    pub api: Api,
}

impl Member {
    /// Every note of the member's tenant, all pages; panics if listing fails.
    pub async fn all_notes(&self) -> Vec<notes_client::Note> {
        self.notes.list(None).try_collect().await.expect("the tenant's notes")
    }
}

/// The problem of a call the API refused.
pub trait Refused {
    /// The problem, if the call was refused with `status` and `type`
    /// `urn:problem:<kind>`; an error for a success or any other answer.
    fn refused(&self, status: u16, kind: &str) -> Result<Problem>;
}

impl<T: fmt::Debug> Refused for std::result::Result<T, saas_client::Error> {
    fn refused(&self, status: u16, kind: &str) -> Result<Problem> {
        let expected = format!("{}{kind}", tenancy::error::PROBLEM_TYPE_PREFIX);
        match self {
            Ok(value) => Err(Error(format!("expected {status} {expected}, got a success: {value:?}"))),
            Err(error) => match error.problem() {
                Some(problem) if problem.status == status && problem.kind == expected => Ok(problem.clone()),
                _ => Err(Error(format!("expected {status} {expected}, got: {error}"))),
            },
        }
    }
}

impl From<saas_client::Error> for Error {
    fn from(error: saas_client::Error) -> Self {
        Self(error.to_string())
    }
}

/// A registered tenant and its signed-in first admin.
#[derive(Debug, Clone)]
pub struct TenantFixture {
    pub tenant: Tenant,
    pub admin_user_id: UserId,
    pub admin: Member,
}

impl TenantFixture {
    pub fn id(&self) -> TenantId {
        self.tenant.tenant_id
    }
}

/// An invited user, signed in after the new-password challenge.
#[derive(Debug, Clone)]
pub struct Invited {
    pub user: User,
    pub member: Member,
}

// --- The HTTP API --------------------------------------------------------------------

/// A client of the HTTP API behind the gateway.
#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    headers: Vec<(String, String)>,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("headers", &self.headers)
            .finish()
    }
}

/// One answer of the API.
#[derive(Debug, Clone)]
pub struct Reply {
    /// `METHOD /path`, for messages.
    pub request: String,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    fn describe(&self) -> String {
        let body: String = self.body.chars().take(400).collect();
        format!("{}: {} {body}", self.request, self.status)
    }

    /// The body as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.body)
            .map_err(|e| Error(format!("{}: the body is not a {}: {e}", self.describe(), std::any::type_name::<T>())))
    }

    /// This reply if its status is `status`.
    pub fn expect_status(self, status: u16) -> Result<Self> {
        if self.status == status { Ok(self) } else { Err(Error(format!("expected {status}, got {}", self.describe()))) }
    }

    /// The body as `T`, if the status is `status`.
    pub fn expect_json<T: DeserializeOwned>(self, status: u16) -> Result<T> {
        self.expect_status(status)?.json()
    }

    /// A problem body (`application/problem+json`) with this status and
    /// `type` = `urn:problem:<kind>`.
    pub fn expect_problem(self, status: u16, kind: &str) -> Result<Problem> {
        let reply = self.expect_status(status)?;
        let content_type =
            reply.headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        ensure(content_type.starts_with("application/problem+json"), || {
            format!("expected a problem body, got content type {content_type:?}: {}", reply.describe())
        })?;
        let problem: Problem = reply.json()?;
        let expected = format!("{}{kind}", tenancy::error::PROBLEM_TYPE_PREFIX);
        ensure(problem.kind == expected && problem.status == status, || {
            format!("expected a {expected} problem, got {}", reply.describe())
        })?;
        Ok(problem)
    }

    /// The gateway's own refusal: 401 `{"message":"Unauthorized"}`.
    pub fn expect_gateway_unauthorized(self) -> Result<()> {
        let reply = self.expect_status(401)?;
        let body: Value = reply.json()?;
        ensure(body == serde_json::json!({"message": "Unauthorized"}), || {
            format!("expected the gateway's 401 body, got {}", reply.describe())
        })
    }
}

impl Api {
    /// The same client with another bearer token.
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Self { token: Some(token.into()), ..self.clone() }
    }

    /// The same client sending one more header on every request.
    pub fn with_header(&self, name: &str, value: &str) -> Self {
        let mut api = self.clone();
        api.headers.push((name.to_owned(), value.to_owned()));
        api
    }

    /// Sends a request; `body` is sent as JSON.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply> {
        let request = format!("{method} {path}");
        let mut builder = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let response =
            builder.send().await.map_err(|e| Error(format!("{request}: no answer from the gateway: {e}")))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.map_err(|e| Error(format!("{request}: reading the body: {e}")))?;
        Ok(Reply { request, status, headers, body })
    }

    async fn send_json(&self, method: Method, path: &str, body: &impl Serialize) -> Result<Reply> {
        let body = serde_json::to_value(body).map_err(|e| Error(format!("{method} {path}: body: {e}")))?;
        self.send(method, path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> Result<Reply> {
        self.send(Method::GET, path, None).await
    }

    /// `POST /tenants` with `key` as its `Idempotency-Key`, raw: the status
    /// (201 made, 200 a repeat) is part of what the tests check, and the
    /// client hides it.
    pub async fn register(&self, registration: &RegisterTenant, key: &IdempotencyKey) -> Result<Reply> {
        self.with_header("Idempotency-Key", key.as_str()).send_json(Method::POST, "/tenants", registration).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_meet_the_pool_policy() {
        let password = strong_password();
        assert!(password.len() >= 12);
        assert!(password.chars().any(|c| c.is_ascii_uppercase()));
        assert!(password.chars().any(|c| c.is_ascii_lowercase()));
        assert!(password.chars().any(|c| c.is_ascii_digit()));
    }
}
