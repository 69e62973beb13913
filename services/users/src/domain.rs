//! Memberships and their rules. Knows nothing of DynamoDB, Cognito or HTTP.

use tenancy::cursor::ListCursor;
use time::OffsetDateTime;
pub use users_api::{MembershipStatus, TenantRole, User, UserId};

/// Default and bounds of `limit` on `GET /users`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

/// Now, to the millisecond (what clients see and what is stored).
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

/// A new membership at version 1: `Active` for a first admin who chose its
/// password, `Invited` for an invitee until its first sign-in.
pub fn new_membership(
    user_id: UserId,
    email: String,
    role: TenantRole,
    status: MembershipStatus,
    at: OffsetDateTime,
) -> User {
    User { user_id, email, role, status, version: 1, created_at: at, updated_at: at }
}

/// True when `user` counts towards the `admins` counter (an active admin).
pub fn is_active_admin(user: &User) -> bool {
    user.role == TenantRole::Admin && user.status == MembershipStatus::Active
}

/// The next version of `user` with `role` and `status`.
pub fn revise(user: &User, role: TenantRole, status: MembershipStatus, at: OffsetDateTime) -> User {
    User { role, status, version: user.version + 1, updated_at: at.max(user.updated_at), ..user.clone() }
}

/// How the `admins` counter moves when `before` becomes `after`: +1, -1 or 0.
pub fn admins_delta(before: &User, after: &User) -> i64 {
    i64::from(is_active_admin(after)) - i64::from(is_active_admin(before))
}

/// The user list's cursors: the user to continue after.
pub const CURSOR: ListCursor = ListCursor::new("u1:");

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: TenantRole, status: MembershipStatus) -> User {
        User { role, status, ..new_membership(UserId::generate(), "a@example.com".into(), role, status, now()) }
    }

    #[test]
    fn only_active_admins_count_as_admins() {
        use MembershipStatus::*;
        use TenantRole::*;
        assert!(is_active_admin(&member(Admin, Active)));
        for (role, status) in
            [(Admin, Invited), (Admin, Disabled), (Admin, Deleting), (Member, Active), (Member, Disabled)]
        {
            assert!(!is_active_admin(&member(role, status)), "{role:?} {status:?}");
        }
    }

    #[test]
    fn the_admin_counter_moves_with_role_and_status() {
        use MembershipStatus::*;
        use TenantRole::*;
        let admin = member(Admin, Active);
        let at = now();
        assert_eq!(admins_delta(&admin, &revise(&admin, Member, Active, at)), -1);
        assert_eq!(admins_delta(&admin, &revise(&admin, Admin, Disabled, at)), -1);
        assert_eq!(admins_delta(&admin, &revise(&admin, Admin, Deleting, at)), -1);
        let disabled_admin = member(Admin, Disabled);
        assert_eq!(admins_delta(&disabled_admin, &revise(&disabled_admin, Admin, Active, at)), 1);
        assert_eq!(admins_delta(&disabled_admin, &revise(&disabled_admin, Member, Disabled, at)), 0);
        let user = member(Member, Active);
        assert_eq!(admins_delta(&user, &revise(&user, Admin, Active, at)), 1);
        let invited_admin = member(Admin, Invited);
        assert_eq!(
            admins_delta(&invited_admin, &revise(&invited_admin, Admin, Active, at)),
            1,
            "an invited admin counts from its first sign-in"
        );
    }

    #[test]
    fn revising_bumps_the_version_and_keeps_identity() {
        let user = member(TenantRole::Member, MembershipStatus::Active);
        let revised = revise(&user, TenantRole::Admin, MembershipStatus::Active, now());
        assert_eq!(
            (revised.user_id, revised.version, revised.created_at, revised.email.as_str()),
            (user.user_id, 2, user.created_at, "a@example.com")
        );
    }
}
