//! The OpenAPI 3.1 document of the users API, generated from the wire types
//! (`users_api`) and the route declarations below. The committed copy is
//! `services/users/openapi.json`; `tests/openapi.rs` keeps it equal to this
//! and to [`ROUTES`](crate::entrypoint::ROUTES), and the handler tests check
//! every status they see against it. Not used by the Lambda binary.

use tenancy::Problem;
use tenancy::openapi::{BEARER_EVERYWHERE, GatewayMessage, PageParams, StandardErrors};
use users_api::{ChangeRole, InviteUser, User, UserId, UserList};
use utoipa::OpenApi;

/// The errors an operation has unless it declares its own (see [`StandardErrors`]).
const ERRORS: StandardErrors = StandardErrors {
    forbidden: "No tenant claims, not an admin (by the current membership), or the tenant is not active (`urn:problem:tenant-inactive`), or the caller is no longer an active member (`urn:problem:membership-inactive`)",
    unavailable: "A dependency (data store, STS or user directory) is unavailable; retry (a change is made in full or not at all)",
    body_limit: "4 KiB",
};

/// The users API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "users",
        description = "The members of the caller's tenant and their Cognito users. The tenant is the one in the caller's \
                       token; another tenant's members are answered 404. Every error is an `application/problem+json` body.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        ops::list_users,
        ops::invite_user,
        ops::get_me,
        ops::get_user,
        ops::change_role,
        ops::disable_user,
        ops::enable_user,
        ops::resend_invitation,
        ops::reset_password,
        ops::delete_user
    ),
    components(schemas(Problem, GatewayMessage)),
    modifiers(&BEARER_EVERYWHERE, &ERRORS),
    tags((name = "users", description = "Members of the caller's tenant")),
)]
pub struct UsersDoc;

/// The document as committed: pretty-printed JSON.
pub fn document_json() -> String {
    tenancy::openapi::render(&UsersDoc::openapi())
}

/// The route declarations (the handlers are in `entrypoint.rs`).
#[allow(dead_code, reason = "declarations read by the OpenApi derive only")]
mod ops {
    use super::*;

    /// List the tenant's members (any member).
    #[utoipa::path(get, path = "/users", operation_id = "listUsers", tag = "users",
        params(PageParams),
        responses(
            (status = 200, description = "A page of members", body = UserList),
            (status = 400, description = "Bad `limit` or `cursor`, an unknown query parameter or a body", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "No tenant claims, the tenant is not active (`urn:problem:tenant-inactive`), or the caller is no longer an active member (`urn:problem:membership-inactive`)", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn list_users() {}

    /// Invite a user into the caller's tenant (admins). With an `Idempotency-Key`, safe to retry: the
    /// same key and input within a day answer with the member the first request made.
    #[utoipa::path(post, path = "/users", operation_id = "inviteUser", tag = "users",
        params(
            ("Idempotency-Key" = Option<String>, Header,
                description = "Optional. A random value of 32 to 128 characters (`A-Z a-z 0-9 - _`) the client makes for this invitation and sends again, unchanged, with every retry of it; it is the caller's own",
                pattern = "^[A-Za-z0-9_-]{32,128}$", min_length = 32, max_length = 128),
        ),
        request_body(content = InviteUser, example = json!({
            "email": "new.member@example.com",
            "role": "member",
            "temporary_password": "Temporary-Passw0rd-1",
        })),
        responses(
            (status = 201, description = "Invited: the member is `invited` until its first sign-in", body = User, headers(("Location" = String, description = "`/users/{user_id}` of the new member"))),
            (status = 400, description = "Invalid JSON, unknown or missing fields, a bad email or temporary password, a malformed Idempotency-Key, or a query parameter", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "No tenant claims, not an admin (by the current membership), the tenant is not active (`urn:problem:tenant-inactive`), or the caller is no longer an active member (`urn:problem:membership-inactive`), or the tier's user limit is reached (`urn:problem:limit-exceeded`)", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The email already belongs to a member of this tenant or is registered elsewhere (also at the user limit), the Idempotency-Key was used with other input or its member has since been removed, or a concurrent request changed the same data", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn invite_user() {}

    /// The caller's own membership (any member).
    #[utoipa::path(get, path = "/users/me", operation_id = "getMe", tag = "users",
        responses(
            (status = 200, description = "The caller", body = User),
            (status = 403, description = "No tenant claims, the tenant is not active (`urn:problem:tenant-inactive`), or the caller is no longer an active member (`urn:problem:membership-inactive`)", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "The caller has no membership in the tenant", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn get_me() {}

    /// Get one member (admins).
    #[utoipa::path(get, path = "/users/{user_id}", operation_id = "getUser", tag = "users",
        params(("user_id" = UserId, Path, description = "The member's user id (Cognito `sub`)")),
        responses(
            (status = 200, description = "The member", body = User),
            (status = 404, description = "No such member in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn get_user() {}

    /// Change a member's role (admins).
    #[utoipa::path(put, path = "/users/{user_id}/role", operation_id = "changeUserRole", tag = "users",
        params(("user_id" = UserId, Path, description = "The member's user id (Cognito `sub`)")),
        request_body = ChangeRole,
        responses(
            (status = 200, description = "The member with its role (unchanged if it already had it)", body = User),
            (status = 400, description = "A bad id, invalid JSON, unknown or missing fields, or a query parameter", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "No such member in the caller's tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The last active admin would be demoted, the member is being deleted, or a concurrent request changed it; nothing was changed", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn change_role() {}

    /// Disable a member: it can no longer sign in and its sessions end (admins).
    #[utoipa::path(post, path = "/users/{user_id}/disable", operation_id = "disableUser", tag = "users",
        params(("user_id" = UserId, Path, description = "The member's user id (Cognito `sub`)")),
        responses(
            (status = 200, description = "The member (unchanged if it already was disabled)", body = User),
            (status = 404, description = "No such member in the caller's tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The last active admin would be disabled, the member is being deleted, or a concurrent request changed it; nothing was changed", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn disable_user() {}

    /// Enable a disabled member (admins): `active` again, or `invited` if it never signed in.
    #[utoipa::path(post, path = "/users/{user_id}/enable", operation_id = "enableUser", tag = "users",
        params(("user_id" = UserId, Path, description = "The member's user id (Cognito `sub`)")),
        responses(
            (status = 200, description = "The member (unchanged if it already was enabled)", body = User),
            (status = 404, description = "No such member in the caller's tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The member is being deleted, or a concurrent request changed it; nothing was changed", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn enable_user() {}

    /// Email the invitation again with a new temporary password (the old one
    /// stops working); only before the member's first sign-in (admins).
    #[utoipa::path(post, path = "/users/{user_id}/invitation", operation_id = "resendInvitation", tag = "users",
        params(("user_id" = UserId, Path, description = "The member's user id (Cognito `sub`)")),
        responses(
            (status = 202, description = "The invitation is on its way; the member, still `invited`", body = User),
            (status = 404, description = "No such member in the caller's tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The member has signed in already (not `invited`), is being deleted, or its sign-in account is gone", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn resend_invitation() {}

    /// Reset a member's password: its password stops working, its sessions
    /// end, and it is emailed a code to choose a new one (confirm-forgot-
    /// password); only for an active member (admins).
    #[utoipa::path(post, path = "/users/{user_id}/password-reset", operation_id = "resetUserPassword", tag = "users",
        params(("user_id" = UserId, Path, description = "The member's user id (Cognito `sub`)")),
        responses(
            (status = 202, description = "The code is on its way; the member", body = User),
            (status = 404, description = "No such member in the caller's tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The member has not signed in yet (resend the invitation), is disabled, is being deleted, or its sign-in account is gone", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn reset_password() {}

    /// Remove a member and its Cognito user (admins).
    #[utoipa::path(delete, path = "/users/{user_id}", operation_id = "deleteUser", tag = "users",
        params(("user_id" = UserId, Path, description = "The member's user id (Cognito `sub`)")),
        responses(
            (status = 204, description = "Removed"),
            (status = 404, description = "No such member in the caller's tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The last active admin would be removed, or a concurrent request changed the member; retry", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn delete_user() {}
}
