//! [`Directory`] on a Cognito user pool.
//!
//! Every call here runs with the function's execution role: user management
//! is not tenant data and cannot be tenant-scoped (no IAM condition reaches a
//! user's `custom:tenant_id`). Callers check tenant membership first.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType, UserStatusType};
use tenancy::TenantId;
use tenancy::aws_error::AwsService;

use super::{CreateOutcome, Directory, DirectoryError, DirectoryUser, NewUser, PasswordState};
use crate::domain::UserId;

/// The user attribute the token-claims trigger reads the tenant from.
pub const TENANT_ID_ATTRIBUTE: &str = "custom:tenant_id";

/// The users of one Cognito user pool.
#[derive(Debug, Clone)]
pub struct CognitoDirectory {
    client: Client,
    user_pool_id: String,
}

impl CognitoDirectory {
    /// `client` carries the execution role's credentials (not a tenant's).
    pub fn new(client: Client, user_pool_id: impl Into<String>) -> Self {
        Self { client, user_pool_id: user_pool_id.into() }
    }
}

fn attribute(name: &str, value: &str) -> Result<AttributeType, DirectoryError> {
    AttributeType::builder().name(name).value(value).build().map_err(|error| DirectoryError::Refused(error.to_string()))
}

/// Builds a [`DirectoryUser`] from Cognito's attributes and status.
fn directory_user(
    attributes: &[AttributeType],
    status: Option<&UserStatusType>,
    enabled: bool,
) -> Result<DirectoryUser, DirectoryError> {
    let value =
        |name: &str| attributes.iter().find(|attribute| attribute.name() == name).and_then(AttributeType::value);
    let user_id = value("sub")
        .and_then(|sub| UserId::parse(sub).ok())
        .ok_or_else(|| DirectoryError::Refused("the user has no valid sub".into()))?;
    let password = match status {
        Some(UserStatusType::ForceChangePassword) => PasswordState::Temporary,
        Some(UserStatusType::Confirmed) => PasswordState::Confirmed,
        Some(other) => PasswordState::Other(other.as_str().to_owned()),
        None => PasswordState::Other("unknown".into()),
    };
    Ok(DirectoryUser {
        user_id,
        tenant: value(TENANT_ID_ATTRIBUTE).and_then(|tenant| TenantId::parse(tenant).ok()),
        password,
        enabled,
    })
}

/// Cognito as the directory sees it.
const COGNITO: AwsService = AwsService {
    name: "Cognito",
    transient: &["TooManyRequestsException", "InternalErrorException", "LimitExceededException"],
};

fn classify<E, R>(error: &SdkError<E, R>) -> DirectoryError
where
    E: ProvideErrorMetadata,
{
    // Only an answer from Cognito has a code.
    match error.code() {
        Some("UserNotFoundException") => DirectoryError::UserNotFound,
        // Cognito's messages for these describe the input only (policy, format).
        Some("InvalidPasswordException" | "InvalidParameterException") => {
            DirectoryError::InvalidInput(error.message().unwrap_or("the directory refused the input").to_owned())
        }
        Some("UnsupportedUserStateException") => {
            DirectoryError::WrongState("the invitation can only be resent before the member's first sign-in".into())
        }
        _ => COGNITO.sort(error, DirectoryError::Unavailable, DirectoryError::Refused),
    }
}

/// An Admin* call on one user of this pool, `$operation(...).user_pool_id(..)
/// .username($email)` plus any further `.setter(value)`, sent. It runs as the
/// execution role: user management is not tenant data and cannot be
/// tenant-scoped; the service checks the user is the caller's tenant's first.
macro_rules! on_user {
    ($directory:expr, $operation:ident, $email:expr $(, $setter:ident($value:expr))*) => {
        $directory
            .client
            .$operation()
            .user_pool_id(&$directory.user_pool_id)
            .username($email)
            $(.$setter($value))*
            .send()
            .await
    };
}

/// The outcome of a call whose answer carries nothing we need.
fn done<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<(), DirectoryError>
where
    E: ProvideErrorMetadata,
{
    result.map(|_| ()).map_err(|error| classify(&error))
}

impl Directory for CognitoDirectory {
    async fn create_user(&self, user: &NewUser) -> Result<CreateOutcome, DirectoryError> {
        // Execution role: user management is not tenant data and cannot be tenant-scoped.
        let mut request = self
            .client
            .admin_create_user()
            .user_pool_id(&self.user_pool_id)
            .username(&user.email)
            .user_attributes(attribute("email", &user.email)?)
            .user_attributes(attribute("email_verified", "true")?)
            .user_attributes(attribute(TENANT_ID_ATTRIBUTE, &user.tenant.to_string())?);
        if let Some(password) = &user.temporary_password {
            request = request.temporary_password(password.expose()).message_action(MessageActionType::Suppress);
        }
        match request.send().await {
            Ok(output) => {
                let created =
                    output.user.ok_or_else(|| DirectoryError::Refused("AdminCreateUser returned no user".into()))?;
                match directory_user(created.attributes(), created.user_status(), created.enabled) {
                    Ok(created) => Ok(CreateOutcome::Created(created)),
                    // Some pools leave `sub` out of the answer: read the user back.
                    Err(_) => self
                        .get_user(&user.email)
                        .await?
                        .map(CreateOutcome::Created)
                        .ok_or(DirectoryError::UserNotFound),
                }
            }
            Err(error)
                if error.as_service_error().and_then(ProvideErrorMetadata::code) == Some("UsernameExistsException") =>
            {
                Ok(CreateOutcome::Exists)
            }
            Err(error) => Err(classify(&error)),
        }
    }

    async fn get_user(&self, email: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        match on_user!(self, admin_get_user, email) {
            Ok(output) => directory_user(output.user_attributes(), output.user_status(), output.enabled).map(Some),
            Err(error) => match classify(&error) {
                DirectoryError::UserNotFound => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn set_permanent_password(&self, email: &str, password: &str) -> Result<(), DirectoryError> {
        done(on_user!(self, admin_set_user_password, email, password(password), permanent(true)))
    }

    async fn resend_invitation(&self, email: &str) -> Result<(), DirectoryError> {
        done(on_user!(self, admin_create_user, email, message_action(MessageActionType::Resend)))
    }

    async fn reset_password(&self, email: &str) -> Result<(), DirectoryError> {
        on_user!(self, admin_reset_user_password, email).map(|_| ()).map_err(|error| {
            match error.as_service_error().and_then(ProvideErrorMetadata::code) {
                // Cognito's answer for a user who never chose a password.
                Some("NotAuthorizedException") => DirectoryError::WrongState(
                    "the password can only be reset after the member's first sign-in; resend the invitation instead"
                        .into(),
                ),
                _ => classify(&error),
            }
        })
    }

    async fn disable_user(&self, email: &str) -> Result<(), DirectoryError> {
        done(on_user!(self, admin_disable_user, email))
    }

    async fn enable_user(&self, email: &str) -> Result<(), DirectoryError> {
        done(on_user!(self, admin_enable_user, email))
    }

    async fn sign_out_everywhere(&self, email: &str) -> Result<(), DirectoryError> {
        done(on_user!(self, admin_user_global_sign_out, email))
    }

    async fn delete_user(&self, email: &str) -> Result<(), DirectoryError> {
        done(on_user!(self, admin_delete_user, email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_read_from_their_attributes() {
        let (sub, tenant) = (UserId::generate(), TenantId::generate());
        let attributes = vec![
            attribute("sub", &sub.to_string()).expect("attr"),
            attribute("email", "a@example.com").expect("attr"),
            attribute(TENANT_ID_ATTRIBUTE, &tenant.to_string()).expect("attr"),
        ];
        let user = directory_user(&attributes, Some(&UserStatusType::Confirmed), true).expect("user");
        assert_eq!(user.user_id, sub);
        assert_eq!(user.tenant, Some(tenant));
        assert_eq!(user.password, PasswordState::Confirmed);
        let user = directory_user(&attributes[..2], Some(&UserStatusType::ForceChangePassword), false).expect("user");
        assert_eq!((user.tenant, user.password, user.enabled), (None, PasswordState::Temporary, false));
        assert!(directory_user(&attributes[1..], None, true).is_err(), "no sub");
    }
}
