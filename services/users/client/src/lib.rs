#![doc = include_str!("../README.md")]

use futures_util::Stream;
pub use saas_client::{ApiClient, Error, Page};
use saas_client::{Method, paginate};
use users_api::UserList;
pub use users_api::{ChangeRole, InviteUser, MembershipStatus, TenantRole, User, UserId, normalize_email};

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
        let list: UserList = self
            .api
            .call(Method::GET, &["users"])
            .query_opt("limit", limit)
            .query_opt("cursor", cursor)
            .send()
            .await?;
        Ok(Page {
            items: list.items,
            next_cursor: list.next_cursor,
        })
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
    /// temporary password is given). Not retried.
    pub async fn invite(&self, invite: &InviteUser) -> Result<User, Error> {
        self.api.call(Method::POST, &["users"]).json(invite)?.send().await
    }

    /// `GET /users/{user_id}`.
    pub async fn get(&self, id: UserId) -> Result<User, Error> {
        self.api.call(Method::GET, &["users", &id.to_string()]).send().await
    }

    /// `PUT /users/{user_id}/role`. The last active admin cannot be demoted
    /// ([`Error::Conflict`]).
    pub async fn change_role(&self, id: UserId, role: TenantRole) -> Result<User, Error> {
        self.api
            .call(Method::PUT, &["users", &id.to_string(), "role"])
            .json(&ChangeRole { role })?
            .send()
            .await
    }

    /// `POST /users/{user_id}/disable`: the member can no longer sign in.
    pub async fn disable(&self, id: UserId) -> Result<User, Error> {
        self.api
            .call(Method::POST, &["users", &id.to_string(), "disable"])
            .send()
            .await
    }

    /// `POST /users/{user_id}/enable`.
    pub async fn enable(&self, id: UserId) -> Result<User, Error> {
        self.api
            .call(Method::POST, &["users", &id.to_string(), "enable"])
            .send()
            .await
    }

    /// `DELETE /users/{user_id}`: removes the member (idempotent: a removal
    /// that failed part-way finishes when repeated).
    pub async fn remove(&self, id: UserId) -> Result<(), Error> {
        self.api
            .call(Method::DELETE, &["users", &id.to_string()])
            .send_empty()
            .await
    }
}
