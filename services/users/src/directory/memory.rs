use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use tenancy::TenantId;

use super::{CreateOutcome, Directory, DirectoryError, DirectoryUser, NewUser, PasswordState};
use crate::domain::UserId;

/// A user of the in-memory directory, with what tests want to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub user_id: UserId,
    /// `custom:tenant_id` as written.
    pub tenant: Option<TenantId>,
    pub email_verified: bool,
    pub password: PasswordState,
    /// The current password (temporary or permanent), if known.
    pub password_value: Option<String>,
    /// Whether the invitation message was suppressed.
    pub message_suppressed: bool,
    pub enabled: bool,
    /// How many times all sessions were revoked.
    pub sign_outs: u32,
    /// Invitation emails sent (the first and every resend).
    pub invitations_sent: u32,
    /// Password-reset codes sent.
    pub reset_codes_sent: u32,
}

/// An in-memory user pool for tests, keyed by username (the email). Can be
/// switched to "unavailable".
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    users: Mutex<BTreeMap<String, FakeUser>>,
    unavailable: AtomicBool,
}

impl MemoryDirectory {
    /// Makes every call fail as if Cognito were down.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Every user (for assertions).
    pub fn snapshot(&self) -> BTreeMap<String, FakeUser> {
        self.users.lock().map(|users| users.clone()).unwrap_or_default()
    }

    /// One user (for assertions).
    pub fn user(&self, email: &str) -> Option<FakeUser> {
        self.snapshot().remove(email)
    }

    /// Adds a user directly (a leftover of an earlier failure, say).
    pub fn insert(&self, email: &str, user: FakeUser) {
        if let Ok(mut users) = self.users.lock() {
            users.insert(email.to_owned(), user);
        }
    }

    /// What a user does at first sign-in: replace the temporary password.
    pub fn confirm(&self, email: &str, password: &str) {
        if let Ok(mut users) = self.users.lock()
            && let Some(user) = users.get_mut(email)
        {
            user.password = PasswordState::Confirmed;
            user.password_value = Some(password.to_owned());
        }
    }

    fn locked(&self) -> Result<MutexGuard<'_, BTreeMap<String, FakeUser>>, DirectoryError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(DirectoryError::Unavailable("the in-memory directory is switched off".into()));
        }
        self.users.lock().map_err(|_| DirectoryError::Unavailable("poisoned lock".into()))
    }

    fn with_user(&self, email: &str, change: impl FnOnce(&mut FakeUser)) -> Result<(), DirectoryError> {
        let mut users = self.locked()?;
        let user = users.get_mut(email).ok_or(DirectoryError::UserNotFound)?;
        change(user);
        Ok(())
    }
}

fn view(user: &FakeUser) -> DirectoryUser {
    DirectoryUser { user_id: user.user_id, tenant: user.tenant, password: user.password.clone(), enabled: user.enabled }
}

impl Directory for MemoryDirectory {
    async fn create_user(&self, new: &NewUser) -> Result<CreateOutcome, DirectoryError> {
        let mut users = self.locked()?;
        if users.contains_key(&new.email) {
            return Ok(CreateOutcome::Exists);
        }
        let user = FakeUser {
            user_id: UserId::generate(),
            tenant: Some(new.tenant),
            email_verified: true,
            password: PasswordState::Temporary,
            password_value: new.temporary_password.as_ref().map(|password| password.expose().to_owned()),
            message_suppressed: new.temporary_password.is_some(),
            enabled: true,
            sign_outs: 0,
            invitations_sent: u32::from(new.temporary_password.is_none()),
            reset_codes_sent: 0,
        };
        let created = view(&user);
        users.insert(new.email.clone(), user);
        Ok(CreateOutcome::Created(created))
    }

    async fn get_user(&self, email: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        Ok(self.locked()?.get(email).map(view))
    }

    async fn set_permanent_password(&self, email: &str, password: &str) -> Result<(), DirectoryError> {
        self.with_user(email, |user| {
            user.password = PasswordState::Confirmed;
            user.password_value = Some(password.to_owned());
        })
    }

    async fn resend_invitation(&self, email: &str) -> Result<(), DirectoryError> {
        let mut users = self.locked()?;
        let user = users.get_mut(email).ok_or(DirectoryError::UserNotFound)?;
        if user.password != PasswordState::Temporary {
            return Err(DirectoryError::WrongState("not in FORCE_CHANGE_PASSWORD".into()));
        }
        user.password_value = None;
        user.invitations_sent += 1;
        Ok(())
    }

    async fn reset_password(&self, email: &str) -> Result<(), DirectoryError> {
        let mut users = self.locked()?;
        let user = users.get_mut(email).ok_or(DirectoryError::UserNotFound)?;
        if user.password == PasswordState::Temporary {
            return Err(DirectoryError::WrongState("never signed in".into()));
        }
        user.password = PasswordState::Other("RESET_REQUIRED".into());
        user.reset_codes_sent += 1;
        Ok(())
    }

    async fn disable_user(&self, email: &str) -> Result<(), DirectoryError> {
        self.with_user(email, |user| user.enabled = false)
    }

    async fn enable_user(&self, email: &str) -> Result<(), DirectoryError> {
        self.with_user(email, |user| user.enabled = true)
    }

    async fn sign_out_everywhere(&self, email: &str) -> Result<(), DirectoryError> {
        self.with_user(email, |user| user.sign_outs += 1)
    }

    async fn delete_user(&self, email: &str) -> Result<(), DirectoryError> {
        self.locked()?.remove(email).map(|_| ()).ok_or(DirectoryError::UserNotFound)
    }
}
