//! Invitations and password recovery the way Cognito does them, over moto:
//!
//! - `AdminCreateUser` without `SUPPRESS`: a temporary password when none
//!   is given (moto leaves the user without one), and the invitation email.
//! - `AdminCreateUser` with `RESEND`: a new temporary password and the
//!   email again, for a user still in `FORCE_CHANGE_PASSWORD` (moto would
//!   create a second user).
//! - `ForgotPassword`, `AdminResetUserPassword`: a six-digit code by email.
//! - `ConfirmForgotPassword`: only with that code (moto takes any code
//!   without its prefix); the new password is held to the pool's policy and
//!   the user is `CONFIRMED` afterwards.
//! - A password sign-in while a reset is required fails
//!   (`PasswordResetRequiredException`; moto signs the user in).
//!
//! Every email goes to the gateway's mailbox ([`crate::messages`]).

use std::collections::HashMap;

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{UserPoolType, UserStatusType};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Cognito, CognitoError, json_response};
use crate::emulator::error_chain;
use crate::messages::{CodeCheck, MessageKind, Templates, masked_destination, render, temporary_password};

/// A user of a pool, as the recovery operations and the token trigger need it.
#[derive(Debug)]
pub(super) struct PoolUser {
    /// moto's username (the `sub` when email is the username attribute).
    username: String,
    sub: String,
    email: String,
    pub(super) attributes: HashMap<String, String>,
    pub(super) status: Option<UserStatusType>,
    enabled: bool,
}

impl PoolUser {
    /// The key of the user's reset code.
    fn code_key(&self, pool_id: &str) -> String {
        format!("{pool_id}/{}", self.sub)
    }
}

/// Cognito's own error codes from an emulator call pass through; anything
/// else is the gateway's internal error.
fn emulator_error<E, R>(operation: &str, error: &SdkError<E, R>) -> CognitoError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    const PASSED_ON: [&str; 5] = [
        "UserNotFoundException",
        "InvalidPasswordException",
        "InvalidParameterException",
        "NotAuthorizedException",
        "UsernameExistsException",
    ];
    if let Some(service) = error.as_service_error()
        && let Some(kind) = PASSED_ON.iter().find(|kind| service.code() == Some(**kind))
    {
        return CognitoError { kind, message: service.message().unwrap_or(kind).to_owned() };
    }
    CognitoError::internal(format!("{operation}: {}", error_chain(error)))
}

fn required<'a>(request: Option<&'a Value>, name: &str) -> Result<&'a str, CognitoError> {
    request.and_then(|r| r.get(name)).and_then(Value::as_str).filter(|value| !value.is_empty()).ok_or_else(|| {
        CognitoError {
            kind: "InvalidParameterException",
            message: format!(
                "1 validation error detected: Value at '{name}' failed to satisfy constraint: Member must not be null"
            ),
        }
    })
}

fn code_delivery(email: &str) -> Value {
    json!({
        "CodeDeliveryDetails": {
            "Destination": masked_destination(email),
            "DeliveryMedium": "EMAIL",
            "AttributeName": "email",
        }
    })
}

impl Cognito {
    /// An admin operation the deployed policies allowed.
    pub(super) async fn admin_operation(
        &self,
        operation: &str,
        request: Option<Value>,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Response {
        let field = |name: &str| request.as_ref().and_then(|r| r.get(name)).and_then(Value::as_str).map(str::to_owned);
        match (operation, field("MessageAction").as_deref()) {
            ("AdminCreateUser", Some("SUPPRESS")) => self.forward(operation, request, headers, body).await,
            ("AdminCreateUser", Some("RESEND")) => {
                self.resend_invitation(request.as_ref()).await.unwrap_or_else(|e| e.response())
            }
            ("AdminCreateUser", _) => self.create_and_invite(request, headers, body).await,
            ("AdminResetUserPassword", _) => {
                let response = self.forward(operation, request.clone(), headers, body).await;
                if !response.status().is_success() {
                    return response;
                }
                let sent = match (field("UserPoolId"), field("Username")) {
                    (Some(pool_id), Some(username)) => self.send_reset_code(&pool_id, &username).await,
                    _ => Err(CognitoError::internal("AdminResetUserPassword without a pool or user")),
                };
                sent.map_or_else(|e| e.response(), |()| response)
            }
            _ => self.forward(operation, request, headers, body).await,
        }
    }

    pub(super) async fn pool_user(&self, pool_id: &str, username: &str) -> Result<Option<PoolUser>, CognitoError> {
        let output = match self.idp.admin_get_user().user_pool_id(pool_id).username(username).send().await {
            Ok(output) => output,
            Err(error)
                if error.as_service_error().and_then(ProvideErrorMetadata::code) == Some("UserNotFoundException") =>
            {
                return Ok(None);
            }
            Err(error) => return Err(emulator_error("AdminGetUser", &error)),
        };
        let attributes: HashMap<String, String> = output
            .user_attributes()
            .iter()
            .map(|a| (a.name().to_owned(), a.value().unwrap_or_default().to_owned()))
            .collect();
        let attribute = |name: &str| attributes.get(name).cloned().unwrap_or_default();
        Ok(Some(PoolUser {
            username: output.username().to_owned(),
            sub: attribute("sub"),
            email: attribute("email"),
            status: output.user_status().cloned(),
            enabled: output.enabled(),
            attributes,
        }))
    }

    fn send_invitation(&self, pool: &UserPoolType, email: &str, temporary_password: &str) {
        let templates = Templates::of_pool(pool);
        self.mailbox.send(
            email,
            MessageKind::Invitation,
            templates.invitation_subject,
            render(&templates.invitation_body, email, temporary_password),
        );
    }

    /// A new reset code for the user, by email.
    async fn send_reset_code(&self, pool_id: &str, username: &str) -> Result<(), CognitoError> {
        let user = self
            .pool_user(pool_id, username)
            .await?
            .ok_or_else(|| CognitoError::internal("the user vanished during the reset"))?;
        self.send_code_to(&self.describe_pool(pool_id).await?, pool_id, &user);
        Ok(())
    }

    fn send_code_to(&self, pool: &UserPoolType, pool_id: &str, user: &PoolUser) {
        let code = self.codes.issue(&user.code_key(pool_id));
        let templates = Templates::of_pool(pool);
        self.mailbox.send(
            &user.email,
            MessageKind::PasswordResetCode,
            templates.code_subject,
            render(&templates.code_body, &user.email, &code),
        );
    }

    /// `AdminCreateUser` that sends the invitation.
    async fn create_and_invite(&self, request: Option<Value>, headers: &HeaderMap, body: Bytes) -> Response {
        let Some(Value::Object(mut fields)) = request else {
            return self.forward("AdminCreateUser", request, headers, body).await;
        };
        let (Some(pool_id), Some(username)) = (
            fields.get("UserPoolId").and_then(Value::as_str).map(str::to_owned),
            fields.get("Username").and_then(Value::as_str).map(str::to_owned),
        ) else {
            return self.forward("AdminCreateUser", Some(Value::Object(fields)), headers, body).await;
        };
        let pool = match self.describe_pool(&pool_id).await {
            Ok(pool) => pool,
            Err(error) => return error.response(),
        };
        let password = match fields.get("TemporaryPassword").and_then(Value::as_str) {
            Some(given) => given.to_owned(),
            None => {
                let generated = temporary_password(pool.policies().and_then(|p| p.password_policy()));
                fields.insert("TemporaryPassword".to_owned(), Value::String(generated.clone()));
                generated
            }
        };
        let body = Bytes::from(Value::Object(fields.clone()).to_string());
        let response = self.forward("AdminCreateUser", Some(Value::Object(fields)), headers, body).await;
        if response.status().is_success() {
            self.send_invitation(&pool, &username.trim().to_lowercase(), &password);
        }
        response
    }

    /// `AdminCreateUser` with `RESEND`.
    async fn resend_invitation(&self, request: Option<&Value>) -> Result<Response, CognitoError> {
        let pool_id = required(request, "UserPoolId")?;
        let username = required(request, "Username")?;
        let user = self.pool_user(pool_id, username).await?.ok_or_else(|| CognitoError {
            kind: "UserNotFoundException",
            message: "User does not exist.".to_owned(),
        })?;
        if user.status != Some(UserStatusType::ForceChangePassword) {
            let status = user.status.as_ref().map_or("UNKNOWN", UserStatusType::as_str);
            return Err(CognitoError {
                kind: "UnsupportedUserStateException",
                message: format!("Resend not possible. {username} status is {status}."),
            });
        }
        let pool = self.describe_pool(pool_id).await?;
        let password = match request.and_then(|r| r.get("TemporaryPassword")).and_then(Value::as_str) {
            Some(given) => given.to_owned(),
            None => temporary_password(pool.policies().and_then(|p| p.password_policy())),
        };
        self.idp
            .admin_set_user_password()
            .user_pool_id(pool_id)
            .username(&user.username)
            .password(&password)
            .permanent(false)
            .send()
            .await
            .map_err(|e| emulator_error("AdminSetUserPassword", &e))?;
        self.send_invitation(&pool, &user.email, &password);
        Ok(json_response(
            StatusCode::OK,
            json!({ "User": {
                "Username": user.username,
                "Attributes": [{"Name": "sub", "Value": user.sub}, {"Name": "email", "Value": user.email}],
                "Enabled": user.enabled,
                "UserStatus": "FORCE_CHANGE_PASSWORD",
            }}),
        ))
    }

    /// Whether `username` of `client_id`'s pool must reset its password
    /// before it signs in.
    pub(super) async fn reset_required(&self, client_id: &str, username: &str) -> Result<bool, CognitoError> {
        let pool_id = self.pool_of_client(client_id).await?;
        Ok(self
            .pool_user(&pool_id, username)
            .await?
            .is_some_and(|user| user.status == Some(UserStatusType::ResetRequired)))
    }

    /// `ForgotPassword`: a code by email. An unknown user gets the same
    /// answer (the app client prevents user-existence errors).
    pub(super) async fn forgot_password(&self, request: Option<&Value>) -> Result<Response, CognitoError> {
        let client_id = required(request, "ClientId")?;
        let username = required(request, "Username")?;
        let pool_id = self.pool_of_client(client_id).await?;
        let Some(user) = self.pool_user(&pool_id, username).await? else {
            return Ok(json_response(StatusCode::OK, code_delivery(username)));
        };
        if !user.enabled {
            return Err(CognitoError::not_authorized("User is disabled."));
        }
        if user.status == Some(UserStatusType::ForceChangePassword) {
            return Err(CognitoError::not_authorized("User password cannot be reset in the current state."));
        }
        self.send_code_to(&self.describe_pool(&pool_id).await?, &pool_id, &user);
        Ok(json_response(StatusCode::OK, code_delivery(&user.email)))
    }

    /// `ConfirmForgotPassword`: the code sent, and a password the pool's
    /// policy accepts; the user is `CONFIRMED` afterwards.
    pub(super) async fn confirm_forgot_password(&self, request: Option<&Value>) -> Result<Response, CognitoError> {
        let client_id = required(request, "ClientId")?;
        let username = required(request, "Username")?;
        let code = required(request, "ConfirmationCode")?;
        let password = required(request, "Password")?;
        let pool_id = self.pool_of_client(client_id).await?;
        let mismatch = || CognitoError {
            kind: "CodeMismatchException",
            message: "Invalid verification code provided, please try again.".to_owned(),
        };
        let user = self.pool_user(&pool_id, username).await?.ok_or_else(mismatch)?;
        let key = user.code_key(&pool_id);
        match self.codes.check(&key, code) {
            CodeCheck::Valid => {}
            CodeCheck::Mismatch => return Err(mismatch()),
            CodeCheck::Expired => {
                return Err(CognitoError {
                    kind: "ExpiredCodeException",
                    message: "Invalid code provided, please request a code again.".to_owned(),
                });
            }
        }
        self.idp
            .admin_set_user_password()
            .user_pool_id(&pool_id)
            .username(&user.username)
            .password(password)
            .permanent(true)
            .send()
            .await
            .map_err(|e| emulator_error("AdminSetUserPassword", &e))?;
        self.codes.consume(&key);
        tracing::info!("password reset confirmed");
        Ok(json_response(StatusCode::OK, json!({})))
    }
}
