#![doc = include_str!("../README.md")]

use futures_util::Stream;
pub use saas_client::{ApiClient, Error, IdempotencyKey, Page};
use saas_client::{Method, paginate};
pub use users_api::{ChangeRole, InviteUser, MembershipStatus, Password, TenantRole, User, UserId, normalize_email};

/// The members of the caller's tenant (`/users`). Changing members needs the
/// tenant's `admin` role ([`Error::Forbidden`] otherwise).
#[derive(Debug, Clone)]
pub struct UsersClient {
    api: ApiClient,
}

impl UsersClient {
    pub fn new(api: ApiClient) -> Self {
        Self { api }
    }

    /// `GET /users`: one page (`limit` 1–100, default 20).
    pub async fn list_page(&self, limit: Option<usize>, cursor: Option<&str>) -> Result<Page<User>, Error> {
        self.api.list_page(&["users"], limit, cursor).await
    }

    /// Every member, following the cursors `page_size` at a time.
    pub fn list(&self, page_size: Option<usize>) -> impl Stream<Item = Result<User, Error>> + '_ {
        paginate(move |cursor| async move { self.list_page(page_size, cursor.as_deref()).await })
    }

    /// `GET /users/me`: the caller.
    pub async fn me(&self) -> Result<User, Error> {
        self.api.call(Method::GET, &["users", "me"]).send().await
    }

    /// `POST /users`: invites a member (Cognito sends the invitation unless a
    /// temporary password is given), with a new idempotency key: retried like
    /// a read (a retry answers with the member the first attempt made).
    pub async fn invite(&self, invite: &InviteUser) -> Result<User, Error> {
        self.invite_with_key(invite, &IdempotencyKey::generate()).await
    }

    /// `POST /users` with the caller's `key` (see [`UsersClient::invite`]).
    pub async fn invite_with_key(&self, invite: &InviteUser, key: &IdempotencyKey) -> Result<User, Error> {
        self.api.call(Method::POST, &["users"]).idempotency_key(key).json(invite)?.send().await
    }

    /// `GET /users/{user_id}`.
    pub async fn get(&self, id: UserId) -> Result<User, Error> {
        self.api.call(Method::GET, &["users", &id.to_string()]).send().await
    }

    /// `PUT /users/{user_id}/role`. The last active admin cannot be demoted
    /// ([`Error::Conflict`]).
    pub async fn change_role(&self, id: UserId, role: TenantRole) -> Result<User, Error> {
        self.api.call(Method::PUT, &["users", &id.to_string(), "role"]).json(&ChangeRole { role })?.send().await
    }

    /// `POST /users/{user_id}/disable`: the member can no longer sign in.
    pub async fn disable(&self, id: UserId) -> Result<User, Error> {
        self.api.call(Method::POST, &["users", &id.to_string(), "disable"]).send().await
    }

    /// `POST /users/{user_id}/enable`.
    pub async fn enable(&self, id: UserId) -> Result<User, Error> {
        self.api.call(Method::POST, &["users", &id.to_string(), "enable"]).send().await
    }

    /// `POST /users/{user_id}/invitation`: Cognito emails the invitation
    /// again with a new temporary password (the old one stops working).
    /// Only before the member's first sign-in ([`Error::Conflict`] after).
    pub async fn resend_invitation(&self, id: UserId) -> Result<User, Error> {
        self.api.call(Method::POST, &["users", &id.to_string(), "invitation"]).send().await
    }

    /// `POST /users/{user_id}/password-reset`: the member's password stops
    /// working, its sessions end, and Cognito emails it a code to choose a
    /// new one (`saas_client::Cognito::confirm_forgot_password`). Only for an
    /// active member ([`Error::Conflict`] otherwise).
    pub async fn reset_password(&self, id: UserId) -> Result<User, Error> {
        self.api.call(Method::POST, &["users", &id.to_string(), "password-reset"]).send().await
    }

    /// `DELETE /users/{user_id}`: removes the member (idempotent: a removal
    /// that failed part-way finishes when repeated).
    pub async fn remove(&self, id: UserId) -> Result<(), Error> {
        self.api.call(Method::DELETE, &["users", &id.to_string()]).send_empty().await
    }
}
