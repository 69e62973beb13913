//! Where a client's bearer token comes from: a fixed token, or a Cognito
//! session that signs in once and refreshes itself shortly before the access
//! token expires (and once more if the API refuses it anyway). The same code
//! talks to Cognito on AWS and to the local stack's Cognito, by endpoint.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider as cognito;
use cognito::error::{ProvideErrorMetadata, SdkError};
use cognito::types::{AuthFlowType, AuthenticationResultType, ChallengeNameType};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::Error;

/// Hands the transport a bearer token for each request.
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token to send now.
    async fn access_token(&self) -> Result<String, Error>;

    /// The API refused `rejected` (401). A source that can get a new token
    /// does so (unless someone already did) and returns `true`; the call is
    /// then made once more. A fixed token returns `false`.
    async fn renew(&self, rejected: &str) -> Result<bool, Error> {
        let _ = rejected;
        Ok(false)
    }
}

/// A token obtained elsewhere, used as is.
#[derive(Clone)]
pub struct StaticToken(String);

impl StaticToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

#[async_trait]
impl TokenSource for StaticToken {
    async fn access_token(&self) -> Result<String, Error> {
        Ok(self.0.clone())
    }
}

/// The tokens of one Cognito sign-in. Serializable, so a command-line tool can
/// keep them between runs; never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// What the API takes as `Authorization: Bearer`.
    pub access_token: String,
    pub id_token: String,
    /// Absent when Cognito did not issue one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Where the user pool's app client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoSettings {
    pub region: String,
    /// The app client (public, no secret) that allows `USER_PASSWORD_AUTH`.
    pub client_id: String,
    /// `None` for Cognito on AWS; the local stack's is `http://<gateway>/cognito`.
    pub endpoint_url: Option<String>,
}

/// The user pool's sign-in API. Needs no AWS credentials: `InitiateAuth` and
/// `RespondToAuthChallenge` are unauthenticated calls.
#[derive(Clone)]
pub struct Cognito {
    client: cognito::Client,
    client_id: String,
}

impl fmt::Debug for Cognito {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cognito").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// The answer to a password sign-in.
#[derive(Debug)]
pub enum SignIn {
    Tokens(Tokens),
    /// An invited user signing in with the temporary password must choose a
    /// new one: answer with [`Cognito::set_new_password`].
    NewPasswordRequired(NewPasswordChallenge),
}

/// A pending `NEW_PASSWORD_REQUIRED` challenge.
pub struct NewPasswordChallenge {
    session: Option<String>,
    username: String,
}

impl fmt::Debug for NewPasswordChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewPasswordChallenge").field("username", &self.username).finish_non_exhaustive()
    }
}

impl Cognito {
    pub fn new(settings: &CognitoSettings) -> Self {
        let mut config = cognito::Config::builder()
            .behavior_version(cognito::config::BehaviorVersion::latest())
            .region(cognito::config::Region::new(settings.region.clone()))
            .timeout_config(
                cognito::config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_timeout(Duration::from_secs(20))
                    .build(),
            );
        if let Some(endpoint) = &settings.endpoint_url {
            config = config.endpoint_url(endpoint);
        }
        Self { client: cognito::Client::from_conf(config.build()), client_id: settings.client_id.clone() }
    }

    /// `USER_PASSWORD_AUTH`.
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<SignIn, Error> {
        // Usernames are email addresses, stored normalised (trimmed, lowercase).
        let username = username.trim().to_lowercase();
        let username = username.as_str();
        let answer = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(sign_in_error)?;
        match answer.challenge_name() {
            None => tokens_from(answer.authentication_result(), None).map(SignIn::Tokens),
            Some(ChallengeNameType::NewPasswordRequired) => {
                // With email as the username attribute Cognito names the user
                // by its internal username in the challenge.
                let username = answer
                    .challenge_parameters()
                    .and_then(|p| p.get("USERNAME").or_else(|| p.get("USER_ID_FOR_SRP")))
                    .map_or(username, String::as_str)
                    .to_owned();
                Ok(SignIn::NewPasswordRequired(NewPasswordChallenge {
                    session: answer.session().map(str::to_owned),
                    username,
                }))
            }
            Some(other) => Err(Error::SignIn(format!(
                "Cognito asks for the {} challenge, which this client does not support",
                other.as_str()
            ))),
        }
    }

    /// Answers `NEW_PASSWORD_REQUIRED` (first sign-in of an invited user).
    pub async fn set_new_password(&self, challenge: NewPasswordChallenge, new_password: &str) -> Result<Tokens, Error> {
        let answer = self
            .client
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .set_session(challenge.session)
            .challenge_responses("USERNAME", challenge.username)
            .challenge_responses("NEW_PASSWORD", new_password)
            .send()
            .await
            .map_err(sign_in_error)?;
        if let Some(other) = answer.challenge_name() {
            return Err(Error::SignIn(format!("Cognito asks for the {} challenge", other.as_str())));
        }
        tokens_from(answer.authentication_result(), None)
    }

    /// `REFRESH_TOKEN_AUTH`: new access and ID tokens (with fresh tenant
    /// claims); the refresh token is kept.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, Error> {
        let answer = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .send()
            .await
            .map_err(|error| match error.code() {
                // Revoked (signed out, disabled, removed, suspended) or expired.
                Some("NotAuthorizedException") => Error::SessionEnded,
                _ => sign_in_error(error),
            })?;
        tokens_from(answer.authentication_result(), Some(refresh_token))
    }

    /// `ForgotPassword`: Cognito emails `username` a code for
    /// [`Cognito::confirm_forgot_password`]. Needs no credentials; an unknown
    /// address gets the same answer (the app client hides which exist).
    pub async fn forgot_password(&self, username: &str) -> Result<(), Error> {
        self.client
            .forgot_password()
            .client_id(&self.client_id)
            .username(username.trim().to_lowercase())
            .send()
            .await
            .map_err(sign_in_error)?;
        Ok(())
    }

    /// `ConfirmForgotPassword`: the emailed code and a new password (the
    /// pool's policy applies); the user can then sign in with it.
    pub async fn confirm_forgot_password(&self, username: &str, code: &str, new_password: &str) -> Result<(), Error> {
        self.client
            .confirm_forgot_password()
            .client_id(&self.client_id)
            .username(username.trim().to_lowercase())
            .confirmation_code(code.trim())
            .password(new_password)
            .send()
            .await
            .map_err(sign_in_error)?;
        Ok(())
    }
}

impl Cognito {
    /// `RevokeToken`: the refresh token, and the access tokens issued with
    /// it, stop working (sign-out). Needs no AWS credentials either.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), Error> {
        self.client
            .revoke_token()
            .client_id(&self.client_id)
            .token(refresh_token)
            .send()
            .await
            .map_err(sign_in_error)?;
        Ok(())
    }
}

fn tokens_from(result: Option<&AuthenticationResultType>, kept_refresh_token: Option<&str>) -> Result<Tokens, Error> {
    let result = result.ok_or_else(|| Error::SignIn("Cognito answered without tokens".to_owned()))?;
    match (result.access_token(), result.id_token()) {
        (Some(access), Some(id)) => Ok(Tokens {
            access_token: access.to_owned(),
            id_token: id.to_owned(),
            refresh_token: result.refresh_token().or(kept_refresh_token).map(str::to_owned),
            expires_at: OffsetDateTime::now_utc() + time::Duration::seconds(i64::from(result.expires_in().max(0))),
        }),
        _ => Err(Error::SignIn("Cognito answered without an access or ID token".to_owned())),
    }
}

/// Cognito's refusals in plain words; never the SDK's debug text.
fn sign_in_error<E, R>(error: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    if matches!(error, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_)) {
        return Error::SignInUnavailable(format!("Cognito did not answer ({})", innermost_cause(&error)));
    }
    let message = plain(error.message().unwrap_or_default());
    match error.code() {
        Some(
            "InternalErrorException"
            | "TooManyRequestsException"
            | "UnexpectedLambdaException"
            | "TooManyFailedAttemptsException",
        ) => Error::SignInUnavailable("Cognito is busy or failing; try again in a moment".to_owned()),
        Some("LimitExceededException") => {
            Error::SignInUnavailable("too many attempts for this account; try again later".to_owned())
        }
        // The pre-token-generation trigger refused or failed: its message
        // (after Cognito's prefix) is written for the user.
        Some("UserLambdaValidationException") => {
            let reason = message.rsplit("failed with error ").next().unwrap_or(&message).to_owned();
            if reason.contains("temporarily unavailable") {
                Error::SignInUnavailable(reason)
            } else {
                Error::SignIn(reason)
            }
        }
        Some("NotAuthorizedException" | "UserNotFoundException") if message.contains("disabled") => {
            Error::SignIn("the account is disabled".to_owned())
        }
        Some("NotAuthorizedException" | "UserNotFoundException") if message.contains("current state") => {
            Error::SignIn("the password cannot be reset before the first sign-in".to_owned())
        }
        Some("NotAuthorizedException" | "UserNotFoundException") => {
            Error::SignIn("incorrect email address or password".to_owned())
        }
        Some("InvalidPasswordException") => {
            Error::SignIn(format!("the new password does not meet the policy: {message}"))
        }
        Some("PasswordResetRequiredException") => Error::PasswordResetRequired,
        Some("CodeMismatchException") => Error::SignIn("the code is not the one sent".to_owned()),
        Some("ExpiredCodeException") => Error::SignIn("the code has expired or was used; ask for a new one".to_owned()),
        Some(code) if message.is_empty() => Error::SignIn(code.to_owned()),
        _ => Error::SignIn(message),
    }
}

/// An error message as a clause: no trailing full stop.
fn plain(message: &str) -> String {
    message.trim().trim_end_matches('.').to_owned()
}

/// The last cause in an error's chain (e.g. "Connection refused (os error 111)").
fn innermost_cause<E: std::error::Error>(error: &E) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = cause.to_string();
        source = cause.source();
    }
    text
}

/// A signed-in Cognito user: hands out the access token, refreshing it
/// `refresh_margin` (default 60 s) before it expires. One refresh at a time;
/// concurrent callers wait for it and share the result.
pub struct CognitoSession {
    cognito: Cognito,
    tokens: Mutex<Tokens>,
    refresh_margin: Duration,
    refreshes: AtomicU64,
}

impl fmt::Debug for CognitoSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoSession")
            .field("cognito", &self.cognito)
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

impl CognitoSession {
    pub fn new(cognito: Cognito, tokens: Tokens) -> Self {
        Self {
            cognito,
            tokens: Mutex::new(tokens),
            refresh_margin: Duration::from_secs(60),
            refreshes: AtomicU64::new(0),
        }
    }

    /// Signs in with a password (no challenge expected).
    pub async fn sign_in(cognito: Cognito, username: &str, password: &str) -> Result<Self, Error> {
        match cognito.sign_in(username, password).await? {
            SignIn::Tokens(tokens) => Ok(Self::new(cognito, tokens)),
            SignIn::NewPasswordRequired(_) => Err(Error::SignIn(
                "this user must choose a new password first (sign in with the temporary password)".to_owned(),
            )),
        }
    }

    /// Refresh this long before the access token expires.
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The current tokens (to store them, e.g. after a refresh).
    pub async fn tokens(&self) -> Tokens {
        self.tokens.lock().await.clone()
    }

    /// How many times this session refreshed its tokens.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    async fn refresh(&self, tokens: &mut Tokens) -> Result<(), Error> {
        let refresh_token = tokens.refresh_token.as_deref().ok_or(Error::SessionEnded)?;
        *tokens = self.cognito.refresh(refresh_token).await?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[async_trait]
impl TokenSource for CognitoSession {
    async fn access_token(&self) -> Result<String, Error> {
        let mut tokens = self.tokens.lock().await;
        let margin = time::Duration::try_from(self.refresh_margin).unwrap_or(time::Duration::MAX);
        // A margin reaching before the start of time means "always refresh".
        let refresh_at = tokens.expires_at.checked_sub(margin);
        if refresh_at.is_none_or(|at| at <= OffsetDateTime::now_utc()) {
            self.refresh(&mut tokens).await?;
        }
        Ok(tokens.access_token.clone())
    }

    async fn renew(&self, rejected: &str) -> Result<bool, Error> {
        let mut tokens = self.tokens.lock().await;
        if tokens.access_token == rejected {
            if tokens.refresh_token.is_none() {
                return Ok(false);
            }
            self.refresh(&mut tokens).await?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(refresh_token: Option<&str>, expires_in: time::Duration) -> CognitoSession {
        let cognito = Cognito::new(&CognitoSettings {
            region: "us-east-1".to_owned(),
            client_id: "client".to_owned(),
            // Never called by these tests: nothing listens there.
            endpoint_url: Some("http://127.0.0.1:9".to_owned()),
        });
        CognitoSession::new(
            cognito,
            Tokens {
                access_token: "access".to_owned(),
                id_token: "id".to_owned(),
                refresh_token: refresh_token.map(str::to_owned),
                expires_at: OffsetDateTime::now_utc() + expires_in,
            },
        )
    }

    #[tokio::test]
    async fn a_token_outside_the_margin_is_served_without_a_refresh() {
        let session = session(None, time::Duration::hours(1));
        assert_eq!(session.access_token().await.expect("token"), "access");
        assert_eq!(session.refresh_count(), 0);
    }

    #[tokio::test]
    async fn a_margin_beyond_the_start_of_time_means_refresh_and_never_panics() {
        let session = session(None, time::Duration::hours(1)).with_refresh_margin(Duration::MAX);
        let error = session.access_token().await.expect_err("needs a refresh it cannot make");
        assert!(matches!(error, Error::SessionEnded), "{error:?}");
    }

    #[tokio::test]
    async fn an_unreachable_cognito_is_one_plain_line() {
        let error = session(Some("refresh"), time::Duration::ZERO).access_token().await.expect_err("nothing listens");
        let Error::SignInUnavailable(text) = &error else { panic!("{error:?}") };
        assert!(text.starts_with("Cognito did not answer ("), "{text}");
        assert!(!text.contains('\n') && !text.contains("DispatchFailure"), "{text}");
    }
}
