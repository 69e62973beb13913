//! Cognito's user-pool API for clients (AWS JSON 1.1), in front of the
//! emulator. Only the operations a public app client may call are served
//! ([`PUBLIC_OPERATIONS`]); admin operations and anything else of the
//! emulator are refused, as Cognito refuses an unsigned admin call.
//! Attribute writes are held to the app client's write attributes and the
//! pool's immutable attributes, which moto does not enforce. A successful
//! answer carrying an `AuthenticationResult` gets its ID and access tokens
//! re-issued the way Cognito issues them: after the pool's
//! pre-token-generation trigger ran (a real invocation of the deployed
//! function), with the trigger's claims, the gateway's issuer and its RS256
//! key. moto never calls the trigger. What Cognito emails, and the codes
//! and temporary passwords in those emails, are `recovery`'s.

mod recovery;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lambda_events::cognito::{
    CognitoEventUserPoolsPreTokenGenTriggerSource as TriggerSource, CognitoEventUserPoolsPreTokenGenV2,
};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::emulator::Emulator;
use crate::functions::Functions;
use crate::iam::IamGuard;
use crate::keys::SigningKey;
use crate::messages::{Codes, Mailbox};
use crate::runtime::{Failure, Outcome};

const JSON_1_1: &str = "application/x-amz-json-1.1";
/// Claims a trigger may not add, change or suppress (Cognito ignores them).
const PROTECTED_CLAIMS: [&str; 17] = [
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "client_id",
    "cognito:username",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "sub",
];
/// What a public app client (no AWS credentials) may call: sign-in and its
/// challenges, refresh and revocation, sign-up and recovery, and what a user
/// does with its own access token.
pub const PUBLIC_OPERATIONS: [&str; 21] = [
    "InitiateAuth",
    "RespondToAuthChallenge",
    "GetTokensFromRefreshToken",
    "RevokeToken",
    "SignUp",
    "ConfirmSignUp",
    "ResendConfirmationCode",
    "ForgotPassword",
    "ConfirmForgotPassword",
    "GetUser",
    "ChangePassword",
    "UpdateUserAttributes",
    "DeleteUserAttributes",
    "GetUserAttributeVerificationCode",
    "VerifyUserAttribute",
    "GlobalSignOut",
    "DeleteUser",
    "SetUserMFAPreference",
    "AssociateSoftwareToken",
    "VerifySoftwareToken",
    "ListDevices",
];

/// Re-issued access tokens remembered (to hand moto its own on GetUser etc.).
const MAX_REMEMBERED_TOKENS: usize = 10_000;
/// Refresh tokens revoked with `RevokeToken` (moto has no such operation).
/// Past this many the oldest half is forgotten: a local stack lives hours.
const MAX_REVOKED_TOKENS: usize = 100_000;

/// The Cognito endpoint of the gateway.
pub struct Cognito {
    emulator: Arc<Emulator>,
    http: reqwest::Client,
    idp: aws_sdk_cognitoidentityprovider::Client,
    functions: Arc<Functions>,
    keys: Arc<SigningKey>,
    issuer: String,
    /// Our access token → moto's.
    access_tokens: Mutex<HashMap<String, String>>,
    /// Refresh tokens revoked by `RevokeToken`, in revocation order.
    revoked: Mutex<Vec<String>>,
    /// What Cognito would have emailed.
    mailbox: Mailbox,
    /// Password-reset codes in force.
    codes: Codes,
}

impl std::fmt::Debug for Cognito {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cognito")
            .field("emulator", &self.emulator.endpoint)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// A sign-in that must fail the way Cognito fails it.
#[derive(Debug)]
struct CognitoError {
    kind: &'static str,
    message: String,
}

impl CognitoError {
    fn trigger(detail: impl std::fmt::Display) -> Self {
        Self {
            kind: "UserLambdaValidationException",
            message: format!("PreTokenGeneration failed with error {detail}."),
        }
    }

    fn not_authorized(message: &str) -> Self {
        Self { kind: "NotAuthorizedException", message: message.to_owned() }
    }

    fn internal(detail: impl std::fmt::Display) -> Self {
        Self { kind: "InternalErrorException", message: detail.to_string() }
    }

    fn response(&self) -> Response {
        let body = json!({ "__type": self.kind, "message": self.message }).to_string();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = if self.kind == "InternalErrorException" {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        };
        response.headers_mut().insert("content-type", HeaderValue::from_static(JSON_1_1));
        if let Ok(value) = HeaderValue::from_str(self.kind) {
            response.headers_mut().insert("x-amzn-errortype", value);
        }
        response
    }
}

impl Cognito {
    pub fn new(emulator: Arc<Emulator>, functions: Arc<Functions>, keys: Arc<SigningKey>, issuer: String) -> Self {
        Self {
            idp: aws_sdk_cognitoidentityprovider::Client::new(&emulator.sdk),
            http: reqwest::Client::new(),
            emulator,
            functions,
            keys,
            issuer,
            access_tokens: Mutex::new(HashMap::new()),
            revoked: Mutex::new(Vec::new()),
            mailbox: Mailbox::default(),
            codes: Codes::default(),
        }
    }

    /// The messages Cognito would have sent (`GET /_local/mailbox`).
    pub fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn keys(&self) -> &SigningKey {
        &self.keys
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.access_tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn revoked(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What Cognito does itself and moto does not: refuse self sign-up when
    /// the pool allows admin-created users only, revoke refresh tokens
    /// (`RevokeToken`), refuse a revoked one, refuse a password sign-in while
    /// a reset is required, and send and check reset codes. `None`: forward
    /// to moto.
    async fn answer_locally(&self, operation: &str, request: Option<&Value>) -> Option<Response> {
        let field = |name: &str| request.and_then(|r| r.get(name)).and_then(Value::as_str);
        match operation {
            "SignUp" => {
                let client_id = field("ClientId")?;
                match self.admin_create_only(client_id).await {
                    Ok(true) => {
                        Some(CognitoError::not_authorized("SignUp is not permitted for this user pool").response())
                    }
                    Ok(false) => None,
                    Err(error) => Some(error.response()),
                }
            }
            "RevokeToken" => {
                let token = field("Token")?;
                let mut revoked = self.revoked();
                if revoked.len() >= MAX_REVOKED_TOKENS {
                    revoked.drain(..MAX_REVOKED_TOKENS / 2);
                }
                revoked.push(token.to_owned());
                tracing::info!("refresh token revoked");
                Some(json_response(StatusCode::OK, json!({})))
            }
            "UpdateUserAttributes" | "DeleteUserAttributes" => {
                let names = attribute_names(operation, request);
                match self.refused_attribute_write(request, &names).await {
                    Ok(None) => None,
                    Ok(Some(refusal)) | Err(refusal) => Some(refusal.response()),
                }
            }
            "InitiateAuth" => {
                let parameter = |name: &str| {
                    request.and_then(|r| r.get("AuthParameters")).and_then(|p| p.get(name)).and_then(Value::as_str)
                };
                if let Some(token) = parameter("REFRESH_TOKEN") {
                    return self
                        .revoked()
                        .iter()
                        .any(|revoked| revoked == token)
                        .then(|| CognitoError::not_authorized("Refresh Token has been revoked").response());
                }
                let (client_id, username) = (field("ClientId")?, parameter("USERNAME")?);
                match self.reset_required(client_id, username).await {
                    Ok(false) => None,
                    Ok(true) => Some(
                        CognitoError {
                            kind: "PasswordResetRequiredException",
                            message: "Password reset required for the user".to_owned(),
                        }
                        .response(),
                    ),
                    Err(error) => Some(error.response()),
                }
            }
            "ForgotPassword" => Some(self.forgot_password(request).await.unwrap_or_else(|e| e.response())),
            "ConfirmForgotPassword" => {
                Some(self.confirm_forgot_password(request).await.unwrap_or_else(|e| e.response()))
            }
            _ => None,
        }
    }

    async fn describe_pool(
        &self,
        pool_id: &str,
    ) -> Result<aws_sdk_cognitoidentityprovider::types::UserPoolType, CognitoError> {
        self.idp
            .describe_user_pool()
            .user_pool_id(pool_id)
            .send()
            .await
            .map_err(|e| CognitoError::internal(format!("DescribeUserPool {pool_id}: {e}")))?
            .user_pool
            .ok_or_else(|| CognitoError::internal(format!("DescribeUserPool {pool_id}: no pool in the answer")))
    }

    /// Why Cognito would refuse writing `names` with the request's access
    /// token: an attribute the token's app client may not write, or an
    /// immutable one. `None`: allowed.
    async fn refused_attribute_write(
        &self,
        request: Option<&Value>,
        names: &[String],
    ) -> Result<Option<CognitoError>, CognitoError> {
        let token = request
            .and_then(|r| r.get("AccessToken"))
            .and_then(Value::as_str)
            .filter(|token| self.remembered().contains_key(*token))
            .ok_or_else(|| CognitoError::not_authorized("Invalid Access Token"))?;
        let claims = unverified_claims(token)?;
        let client_id = claims.get("client_id").and_then(Value::as_str).unwrap_or_default();
        let pool_id = self.pool_of_client(client_id).await?;
        let client = self
            .idp
            .describe_user_pool_client()
            .user_pool_id(&pool_id)
            .client_id(client_id)
            .send()
            .await
            .map_err(|e| CognitoError::internal(format!("DescribeUserPoolClient: {e}")))?;
        let writable = client.user_pool_client().map(|c| c.write_attributes().to_vec()).unwrap_or_default();
        let pool = self.describe_pool(&pool_id).await?;
        let immutable: Vec<String> = pool
            .schema_attributes()
            .iter()
            .filter(|a| a.mutable() == Some(false))
            .filter_map(|a| a.name().map(str::to_owned))
            .collect();
        Ok(write_refusal(names, &writable, &immutable))
    }

    /// The pool an app client belongs to.
    async fn pool_of_client(&self, client_id: &str) -> Result<String, CognitoError> {
        let pools = self
            .idp
            .list_user_pools()
            .max_results(60)
            .send()
            .await
            .map_err(|e| CognitoError::internal(format!("ListUserPools: {e}")))?;
        for pool in pools.user_pools() {
            let Some(pool_id) = pool.id() else { continue };
            let described =
                self.idp.describe_user_pool_client().user_pool_id(pool_id).client_id(client_id).send().await;
            if described.is_ok() {
                return Ok(pool_id.to_owned());
            }
        }
        Err(CognitoError {
            kind: "ResourceNotFoundException",
            message: format!("User pool client {client_id} does not exist."),
        })
    }

    /// Whether the pool of `client_id` lets only admins create users.
    async fn admin_create_only(&self, client_id: &str) -> Result<bool, CognitoError> {
        let pool = self.describe_pool(&self.pool_of_client(client_id).await?).await?;
        Ok(pool.admin_create_user_config().is_some_and(|config| config.allow_admin_create_user_only()))
    }

    /// One client request.
    /// `uri` is the request's full URI (for SigV4); `guard` decides admin calls.
    pub async fn handle(&self, headers: &HeaderMap, body: Bytes, uri: &str, guard: &IamGuard) -> Response {
        let operation = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_prefix("AWSCognitoIdentityProviderService."))
            .unwrap_or_default()
            .to_owned();
        let request: Option<Value> = serde_json::from_slice(&body).ok();
        if !PUBLIC_OPERATIONS.contains(&operation.as_str()) {
            // An admin operation: only with credentials the deployed policies allow.
            if operation.is_empty() || !headers.contains_key("authorization") {
                tracing::info!(operation, "refused: not an operation of a public app client");
                return refuse_unsigned(&operation).response();
            }
            let pool = request
                .as_ref()
                .and_then(|r| r.get("UserPoolId"))
                .and_then(Value::as_str)
                .map_or_else(|| "*".to_owned(), |id| guard.user_pool_arn(id));
            let action = format!("cognito-idp:{operation}");
            if let Err(refusal) = guard.authorize("cognito-idp", &action, &pool, "POST", uri, headers, &body).await {
                tracing::info!(operation, code = refusal.code, "admin call refused");
                return CognitoError { kind: refusal.code, message: refusal.message }.response();
            }
            return self.admin_operation(&operation, request, headers, body).await;
        }
        if let Some(answer) = self.answer_locally(&operation, request.as_ref()).await {
            return answer;
        }
        self.forward(&operation, request, headers, body).await
    }

    /// Forwards the request to moto; tokens in its answer are re-issued.
    async fn forward(&self, operation: &str, mut request: Option<Value>, headers: &HeaderMap, body: Bytes) -> Response {
        let mut body = body;
        // Tokens we issued mean nothing to moto: hand it its own.
        if let Some(Value::Object(map)) = &mut request
            && let Some(Value::String(token)) = map.get("AccessToken")
            && let Some(original) = self.remembered().get(token).cloned()
        {
            map.insert("AccessToken".to_owned(), Value::String(original));
            body = Bytes::from(Value::Object(map.clone()).to_string());
        }

        let mut forward = self.http.post(format!("{}/", self.emulator.endpoint)).body(body);
        for (name, value) in headers {
            if !matches!(name.as_str(), "host" | "content-length" | "connection" | "accept-encoding") {
                forward = forward.header(name, value);
            }
        }
        let answer = match forward.send().await {
            Ok(answer) => answer,
            Err(error) => return CognitoError::internal(format!("emulator unreachable: {error}")).response(),
        };
        let status = answer.status();
        let answer_headers = answer.headers().clone();
        let answer_body = match answer.bytes().await {
            Ok(bytes) => bytes,
            Err(error) => return CognitoError::internal(format!("emulator answer unreadable: {error}")).response(),
        };

        let mut body = answer_body;
        if status.is_success()
            && let Ok(Value::Object(mut document)) = serde_json::from_slice::<Value>(&body)
            && let Some(Value::Object(result)) = document.get_mut("AuthenticationResult")
        {
            let source = trigger_source(operation, request.as_ref());
            let client_id = request.as_ref().and_then(|r| r.get("ClientId")).and_then(Value::as_str).map(str::to_owned);
            if let Err(error) = self.reissue(result, source, client_id).await {
                tracing::info!(operation, error = %error.message, "sign-in refused");
                return error.response();
            }
            body = Bytes::from(Value::Object(document).to_string());
        }

        let mut response = Response::new(Body::from(body));
        *response.status_mut() = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        for name in ["content-type", "x-amzn-requestid", "x-amzn-errortype"] {
            if let Some(value) = answer_headers.get(name).and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok()) {
                response.headers_mut().insert(name, value);
            }
        }
        if !response.headers().contains_key("content-type") {
            response.headers_mut().insert("content-type", HeaderValue::from_static(JSON_1_1));
        }
        response
    }

    /// Replaces `IdToken` and `AccessToken` in `result` (moto's) with ours.
    async fn reissue(
        &self,
        result: &mut Map<String, Value>,
        source: TriggerSource,
        client_id: Option<String>,
    ) -> Result<(), CognitoError> {
        let moto_access = result.get("AccessToken").and_then(Value::as_str).map(str::to_owned);
        let mut id_claims = result.get("IdToken").and_then(Value::as_str).map(unverified_claims).transpose()?;
        let mut access_claims = moto_access.as_deref().map(unverified_claims).transpose()?;
        let any = id_claims
            .as_ref()
            .or(access_claims.as_ref())
            .ok_or_else(|| CognitoError::internal("AuthenticationResult without tokens"))?;
        let pool_id = any
            .get("iss")
            .and_then(Value::as_str)
            .and_then(|iss| iss.rsplit('/').next())
            .unwrap_or_default()
            .to_owned();
        let username = id_claims
            .as_ref()
            .and_then(|c| c.get("cognito:username"))
            .or_else(|| access_claims.as_ref().and_then(|c| c.get("username")))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let client_id = client_id
            .or_else(|| {
                access_claims.as_ref().and_then(|c| c.get("client_id")).and_then(Value::as_str).map(str::to_owned)
            })
            .unwrap_or_default();
        let scopes: Vec<String> = access_claims
            .as_ref()
            .and_then(|c| c.get("scope"))
            .and_then(Value::as_str)
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();

        let overrides = self.run_trigger(&pool_id, &username, &client_id, source, scopes).await?;
        if let Some(claims) = &mut id_claims {
            overrides.apply_id(claims);
            claims.insert("iss".to_owned(), Value::String(self.issuer.clone()));
            let token = self.keys.sign(claims).map_err(CognitoError::internal)?;
            result.insert("IdToken".to_owned(), Value::String(token));
        }
        if let Some(claims) = &mut access_claims {
            overrides.apply_access(claims);
            claims.insert("iss".to_owned(), Value::String(self.issuer.clone()));
            let token = self.keys.sign(claims).map_err(CognitoError::internal)?;
            if let Some(original) = moto_access {
                let mut remembered = self.remembered();
                if remembered.len() >= MAX_REMEMBERED_TOKENS {
                    remembered.clear();
                }
                remembered.insert(token.clone(), original);
            }
            result.insert("AccessToken".to_owned(), Value::String(token));
        }
        Ok(())
    }

    /// Runs the pool's pre-token trigger, if it has one.
    async fn run_trigger(
        &self,
        pool_id: &str,
        username: &str,
        client_id: &str,
        source: TriggerSource,
        scopes: Vec<String>,
    ) -> Result<Overrides, CognitoError> {
        let pool = self.describe_pool(pool_id).await?;
        let lambda_config = pool.lambda_config();
        let trigger = lambda_config
            .and_then(|c| c.pre_token_generation_config())
            .map(|c| c.lambda_arn().to_owned())
            .or_else(|| lambda_config.and_then(|c| c.pre_token_generation()).map(str::to_owned));
        let Some(trigger) = trigger else {
            return Ok(Overrides::default());
        };

        let user = self
            .pool_user(pool_id, username)
            .await?
            .ok_or_else(|| CognitoError::internal("AdminGetUser: no such user"))?;
        let mut attributes = user.attributes;
        if let Some(status) = user.status {
            attributes.insert("cognito:user_status".to_owned(), status.as_str().to_owned());
        }
        let groups = self
            .idp
            .admin_list_groups_for_user()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| CognitoError::internal(format!("AdminListGroupsForUser: {e}")))?;
        let groups: Vec<String> = groups.groups().iter().filter_map(|g| g.group_name().map(str::to_owned)).collect();

        let event = pre_token_event(
            &self.emulator.region,
            pool_id,
            username,
            client_id,
            source,
            attributes,
            groups.clone(),
            scopes,
        );
        let payload = serde_json::to_vec(&event).map_err(CognitoError::internal)?;
        let pool = self.functions.get(&trigger).await.map_err(|e| CognitoError {
            kind: "UnexpectedLambdaException",
            message: format!("PreTokenGeneration function unavailable: {e}"),
        })?;
        let invocation = pool.invoke(Bytes::from(payload)).await;
        let output = match invocation.result {
            Ok(Outcome::Success(output)) => output,
            Ok(Outcome::FunctionError { payload, .. }) | Err(Failure::InitFailed { payload, .. }) => {
                let message = serde_json::from_slice::<Value>(&payload)
                    .ok()
                    .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| String::from_utf8_lossy(&payload).into_owned());
                return Err(CognitoError::trigger(message));
            }
            Err(failure) => return Err(CognitoError::trigger(failure)),
        };
        let output: Value = serde_json::from_slice(&output).map_err(|_| CognitoError {
            kind: "InvalidLambdaResponseException",
            message: "Invalid lambda response received".to_owned(),
        })?;
        let mut overrides = Overrides::parse(&output);
        if overrides.groups.is_none() && !groups.is_empty() {
            overrides.groups = Some(groups);
        }
        Ok(overrides)
    }
}

/// Cognito's answer to an operation that needs AWS credentials (an admin
/// operation) or is not Cognito's, sent without them.
fn refuse_unsigned(operation: &str) -> CognitoError {
    if operation.is_empty() {
        return CognitoError {
            kind: "UnknownOperationException",
            message: "the request names no Cognito user pool operation".to_owned(),
        };
    }
    CognitoError {
        kind: "MissingAuthenticationTokenException",
        message: format!("{operation} needs AWS credentials; a public app client cannot call it"),
    }
}

/// The attribute names an `UpdateUserAttributes` (`UserAttributes[].Name`)
/// or `DeleteUserAttributes` (`UserAttributeNames[]`) request writes.
fn attribute_names(operation: &str, request: Option<&Value>) -> Vec<String> {
    let list = |field: &str| request.and_then(|r| r.get(field)).and_then(Value::as_array).cloned().unwrap_or_default();
    if operation == "DeleteUserAttributes" {
        return strings(request.and_then(|r| r.get("UserAttributeNames")));
    }
    list("UserAttributes").iter().filter_map(|a| a.get("Name").and_then(Value::as_str).map(str::to_owned)).collect()
}

/// Cognito's refusal of writing `names` by an app client that may write
/// `writable`, in a pool whose `immutable` attributes never change.
fn write_refusal(names: &[String], writable: &[String], immutable: &[String]) -> Option<CognitoError> {
    let custom = |name: &str| format!("custom:{}", name.trim_start_matches("custom:"));
    if let Some(name) = names.iter().find(|name| immutable.iter().any(|i| custom(i) == custom(name) || *i == **name)) {
        return Some(CognitoError {
            kind: "InvalidParameterException",
            message: format!(
                "Invalid user attributes: {name}: Attribute cannot be updated. (changing an immutable attribute)"
            ),
        });
    }
    names
        .iter()
        .any(|name| !writable.contains(name))
        .then(|| CognitoError::not_authorized("A client attempted to write unauthorized attribute"))
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static(JSON_1_1));
    response
}

/// The V2_0 pre-token-generation event Cognito sends.
#[allow(clippy::too_many_arguments)]
pub fn pre_token_event(
    region: &str,
    pool_id: &str,
    username: &str,
    client_id: &str,
    source: TriggerSource,
    attributes: HashMap<String, String>,
    groups: Vec<String>,
    scopes: Vec<String>,
) -> CognitoEventUserPoolsPreTokenGenV2 {
    let mut event = CognitoEventUserPoolsPreTokenGenV2::default();
    let header = &mut event.cognito_event_user_pools_header;
    header.version = Some("2".to_owned());
    header.trigger_source = Some(source);
    header.region = Some(region.to_owned());
    header.user_pool_id = Some(pool_id.to_owned());
    header.user_name = Some(username.to_owned());
    header.caller_context.client_id = Some(client_id.to_owned());
    header.caller_context.awssdk_version = Some("aws-sdk-unknown-unknown".to_owned());
    event.request.user_attributes = attributes;
    event.request.group_configuration.groups_to_override = groups;
    event.request.scopes = scopes;
    event
}

/// What the trigger asked for.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Overrides {
    pub id_add: Map<String, Value>,
    pub id_suppress: Vec<String>,
    pub access_add: Map<String, Value>,
    pub access_suppress: Vec<String>,
    pub scopes_add: Vec<String>,
    pub scopes_suppress: Vec<String>,
    /// `cognito:groups` (from `groupOverrideDetails`, else the user's groups).
    pub groups: Option<Vec<String>>,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn object(value: Option<&Value>) -> Map<String, Value> {
    value.and_then(Value::as_object).cloned().unwrap_or_default()
}

impl Overrides {
    /// From the trigger's answer (V2 `claimsAndScopeOverrideDetails`, or V1
    /// `claimsOverrideDetails`, which applies to the ID token).
    pub fn parse(output: &Value) -> Self {
        let response = output.get("response");
        if let Some(details) = response.and_then(|r| r.get("claimsAndScopeOverrideDetails")).filter(|d| d.is_object()) {
            let id = details.get("idTokenGeneration");
            let access = details.get("accessTokenGeneration");
            return Self {
                id_add: object(id.and_then(|i| i.get("claimsToAddOrOverride"))),
                id_suppress: strings(id.and_then(|i| i.get("claimsToSuppress"))),
                access_add: object(access.and_then(|a| a.get("claimsToAddOrOverride"))),
                access_suppress: strings(access.and_then(|a| a.get("claimsToSuppress"))),
                scopes_add: strings(access.and_then(|a| a.get("scopesToAdd"))),
                scopes_suppress: strings(access.and_then(|a| a.get("scopesToSuppress"))),
                groups: details
                    .get("groupOverrideDetails")
                    .and_then(|g| g.get("groupsToOverride"))
                    .filter(|g| g.is_array())
                    .map(|g| strings(Some(g))),
            };
        }
        if let Some(details) = response.and_then(|r| r.get("claimsOverrideDetails")).filter(|d| d.is_object()) {
            return Self {
                id_add: object(details.get("claimsToAddOrOverride")),
                id_suppress: strings(details.get("claimsToSuppress")),
                groups: details
                    .get("groupOverrideDetails")
                    .and_then(|g| g.get("groupsToOverride"))
                    .filter(|g| g.is_array())
                    .map(|g| strings(Some(g))),
                ..Self::default()
            };
        }
        Self::default()
    }

    fn apply_common(
        claims: &mut Map<String, Value>,
        add: &Map<String, Value>,
        suppress: &[String],
        groups: Option<&Vec<String>>,
    ) {
        if let Some(groups) = groups {
            if groups.is_empty() {
                claims.remove("cognito:groups");
            } else {
                claims.insert("cognito:groups".to_owned(), json!(groups));
            }
        }
        for (name, value) in add {
            if PROTECTED_CLAIMS.contains(&name.as_str()) {
                tracing::warn!(claim = %name, "pre-token trigger may not override this claim: ignored");
                continue;
            }
            claims.insert(name.clone(), value.clone());
        }
        for name in suppress {
            if PROTECTED_CLAIMS.contains(&name.as_str()) {
                continue;
            }
            claims.remove(name);
        }
    }

    pub fn apply_id(&self, claims: &mut Map<String, Value>) {
        Self::apply_common(claims, &self.id_add, &self.id_suppress, self.groups.as_ref());
    }

    pub fn apply_access(&self, claims: &mut Map<String, Value>) {
        Self::apply_common(claims, &self.access_add, &self.access_suppress, self.groups.as_ref());
        if !self.scopes_add.is_empty() || !self.scopes_suppress.is_empty() {
            let mut scopes: Vec<String> = claims
                .get("scope")
                .and_then(Value::as_str)
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
            for scope in &self.scopes_add {
                if !scopes.contains(scope) {
                    scopes.push(scope.clone());
                }
            }
            scopes.retain(|s| !self.scopes_suppress.contains(s));
            claims.insert("scope".to_owned(), Value::String(scopes.join(" ")));
        }
    }
}

/// Which trigger source Cognito reports for an operation.
fn trigger_source(operation: &str, request: Option<&Value>) -> TriggerSource {
    let flow = request.and_then(|r| r.get("AuthFlow")).and_then(Value::as_str).unwrap_or_default();
    let challenge = request.and_then(|r| r.get("ChallengeName")).and_then(Value::as_str).unwrap_or_default();
    match (operation, flow, challenge) {
        (_, "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN", _) | ("GetTokensFromRefreshToken", _, _) => {
            TriggerSource::RefreshTokens
        }
        (_, _, "NEW_PASSWORD_REQUIRED") => TriggerSource::NewPasswordChallenge,
        _ => TriggerSource::Authentication,
    }
}

/// The payload of a token moto issued (it is trusted: it came from moto).
fn unverified_claims(token: &str) -> Result<Map<String, Value>, CognitoError> {
    let payload = token.split('.').nth(1).ok_or_else(|| CognitoError::internal("emulator token is not a JWT"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| CognitoError::internal("emulator token payload is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| CognitoError::internal("emulator token payload is not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_is_the_v2_shape() {
        let event = pre_token_event(
            "us-east-1",
            "us-east-1_abc",
            "alice",
            "client1",
            TriggerSource::RefreshTokens,
            [("email".to_owned(), "a@example.com".to_owned())].into_iter().collect(),
            vec!["admins".to_owned()],
            vec!["openid".to_owned()],
        );
        let value = serde_json::to_value(&event).expect("json");
        assert_eq!(value["version"], "2");
        assert_eq!(value["triggerSource"], "TokenGeneration_RefreshTokens");
        assert_eq!(value["userPoolId"], "us-east-1_abc");
        assert_eq!(value["userName"], "alice");
        assert_eq!(value["callerContext"]["clientId"], "client1");
        assert_eq!(value["request"]["userAttributes"]["email"], "a@example.com");
        assert_eq!(value["request"]["groupConfiguration"]["groupsToOverride"][0], "admins");
        assert_eq!(value["request"]["scopes"][0], "openid");
        let back: CognitoEventUserPoolsPreTokenGenV2 = serde_json::from_value(value).expect("deserialises");
        assert_eq!(back.request.scopes, vec!["openid".to_owned()]);
    }

    #[test]
    fn overrides_apply_to_each_token() {
        let output = json!({"response": {"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {"claimsToAddOrOverride": {"tenant_id": "t1", "iss": "evil"}, "claimsToSuppress": ["email"]},
            "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant_id": "t1"}, "scopesToAdd": ["notes/read"], "scopesToSuppress": ["profile"]},
            "groupOverrideDetails": {"groupsToOverride": ["g1"]}
        }}});
        let overrides = Overrides::parse(&output);
        let mut id = json!({"iss": "moto", "email": "a@x", "sub": "u"}).as_object().cloned().expect("map");
        overrides.apply_id(&mut id);
        assert_eq!(id["tenant_id"], "t1");
        assert_eq!(id["iss"], "moto", "protected claims are kept");
        assert!(id.get("email").is_none());
        assert_eq!(id["cognito:groups"], json!(["g1"]));
        let mut access = json!({"scope": "openid profile"}).as_object().cloned().expect("map");
        overrides.apply_access(&mut access);
        assert_eq!(access["tenant_id"], "t1");
        assert_eq!(access["scope"], "openid notes/read");
        assert_eq!(
            Overrides::parse(&json!({"response": {"claimsAndScopeOverrideDetails": null}})),
            Overrides::default()
        );
    }

    #[test]
    fn attribute_writes_are_held_to_the_client_and_the_schema() {
        let writable = vec!["name".to_owned(), "email".to_owned()];
        let immutable = vec!["tenant_id".to_owned()];
        let names = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert!(write_refusal(&names(&["name"]), &writable, &immutable).is_none());
        assert!(write_refusal(&[], &writable, &immutable).is_none());
        let immutable_write =
            write_refusal(&names(&["name", "custom:tenant_id"]), &writable, &immutable).expect("refused");
        assert_eq!(immutable_write.kind, "InvalidParameterException");
        let unwritable = write_refusal(&names(&["custom:role"]), &writable, &immutable).expect("refused");
        assert_eq!(unwritable.kind, "NotAuthorizedException");
        let request =
            json!({"UserAttributes": [{"Name": "name", "Value": "x"}, {"Name": "custom:tenant_id", "Value": "t"}]});
        assert_eq!(attribute_names("UpdateUserAttributes", Some(&request)), names(&["name", "custom:tenant_id"]));
        let request = json!({"UserAttributeNames": ["email"]});
        assert_eq!(attribute_names("DeleteUserAttributes", Some(&request)), names(&["email"]));
    }

    #[test]
    fn only_a_public_clients_operations_are_served() {
        for operation in ["InitiateAuth", "RespondToAuthChallenge", "GlobalSignOut", "UpdateUserAttributes"] {
            assert!(PUBLIC_OPERATIONS.contains(&operation), "{operation}");
        }
        for operation in [
            "AdminAddUserToGroup",
            "AdminSetUserPassword",
            "AdminCreateUser",
            "ListUsers",
            "DescribeUserPool",
            "CreateUserPoolClient",
            "",
        ] {
            assert!(!PUBLIC_OPERATIONS.contains(&operation), "{operation}");
        }
        assert_eq!(refuse_unsigned("AdminAddUserToGroup").kind, "MissingAuthenticationTokenException");
        assert_eq!(refuse_unsigned("").kind, "UnknownOperationException");
    }

    #[test]
    fn trigger_sources() {
        let refresh = json!({"AuthFlow": "REFRESH_TOKEN_AUTH"});
        assert_eq!(trigger_source("InitiateAuth", Some(&refresh)), TriggerSource::RefreshTokens);
        let password = json!({"AuthFlow": "USER_PASSWORD_AUTH"});
        assert_eq!(trigger_source("InitiateAuth", Some(&password)), TriggerSource::Authentication);
        let challenge = json!({"ChallengeName": "NEW_PASSWORD_REQUIRED"});
        assert_eq!(trigger_source("RespondToAuthChallenge", Some(&challenge)), TriggerSource::NewPasswordChallenge);
    }
}
