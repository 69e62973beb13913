//! Whether a caller is a platform admin now. A token's `cognito:groups` is as
//! old as the token, so every platform-admin action reads the group membership
//! of the caller's Cognito user as it is (execution role: Cognito is not
//! tenant-scoped). A trait, the Cognito implementation, and a fake for tests.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use tenancy::context::PLATFORM_ADMIN_GROUP;
use tenancy::{ApiError, PlatformAdmin, UserId};

/// The platform admins as the user pool has them now.
pub trait Operators: Send + Sync + 'static {
    /// True when `caller`'s user exists, is enabled, is the same user (`sub`)
    /// and is in the platform-admin group.
    fn is_platform_admin(&self, caller: &PlatformAdmin) -> impl Future<Output = Result<bool, ApiError>> + Send;
}

/// Refuses `caller` unless it is a platform admin now.
pub async fn require_platform_admin(operators: &impl Operators, caller: &PlatformAdmin) -> Result<(), ApiError> {
    if operators.is_platform_admin(caller).await? {
        Ok(())
    } else {
        tracing::warn!(user_id = %caller.user_id, "a token named a platform admin the user pool no longer has");
        Err(ApiError::Forbidden("the caller is no longer a platform administrator".into()))
    }
}

/// [`Operators`] on the Cognito user pool.
#[derive(Debug, Clone)]
pub struct CognitoOperators {
    client: aws_sdk_cognitoidentityprovider::Client,
    user_pool_id: String,
}

impl CognitoOperators {
    pub fn new(client: aws_sdk_cognitoidentityprovider::Client, user_pool_id: impl Into<String>) -> Self {
        Self { client, user_pool_id: user_pool_id.into() }
    }
}

impl Operators for CognitoOperators {
    async fn is_platform_admin(&self, caller: &PlatformAdmin) -> Result<bool, ApiError> {
        let user =
            match self.client.admin_get_user().user_pool_id(&self.user_pool_id).username(&caller.username).send().await
            {
                Ok(user) => user,
                Err(error) if error.code() == Some("UserNotFoundException") => return Ok(false),
                Err(error) => return Err(unavailable(&error)),
            };
        // The same user: a deleted and re-created account has another `sub`.
        let same_user = user
            .user_attributes()
            .iter()
            .any(|attribute| attribute.name() == "sub" && attribute.value() == Some(&caller.user_id.to_string()));
        if !user.enabled() || !same_user {
            return Ok(false);
        }
        let groups = self
            .client
            .admin_list_groups_for_user()
            .user_pool_id(&self.user_pool_id)
            .username(&caller.username)
            .send()
            .await
            .map_err(|error| unavailable(&error))?;
        Ok(groups.groups().iter().any(|group| group.group_name() == Some(PLATFORM_ADMIN_GROUP)))
    }
}

fn unavailable<E, R>(error: &SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    tracing::warn!(code = error.code().unwrap_or("no answer"), "Cognito could not confirm a platform admin");
    ApiError::ServiceUnavailable("the user directory is temporarily unavailable; please retry".into())
}

/// In-memory [`Operators`]: every caller whose token names a platform admin
/// is one, until [`revoke`](Self::revoke)d.
#[derive(Debug, Default)]
pub struct FakeOperators {
    revoked: Mutex<HashSet<UserId>>,
}

impl FakeOperators {
    /// `user` leaves the platform-admin group.
    pub fn revoke(&self, user: UserId) {
        self.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(user);
    }
}

impl Operators for FakeOperators {
    async fn is_platform_admin(&self, caller: &PlatformAdmin) -> Result<bool, ApiError> {
        Ok(!self.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&caller.user_id))
    }
}
