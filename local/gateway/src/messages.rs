//! What Cognito would have emailed (invitations with their temporary
//! password, password-reset codes), kept in a mailbox that the stack's
//! operator reads at `GET /_local/mailbox`, and the codes Cognito would
//! check. moto sends nothing, accepts any reset code that lacks its own
//! prefix, and creates an invited user without a password: the gateway does
//! these parts itself (see `cognito.rs`).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::types::{PasswordPolicyType, UserPoolType};
use serde::{Deserialize, Serialize};

/// Messages kept; past this the oldest go (a local stack lives hours).
const MAX_MESSAGES: usize = 1_000;
/// Cognito's reset codes are valid for an hour.
pub const CODE_VALIDITY: Duration = Duration::from_secs(3_600);
/// Wrong codes before a code is void (Cognito limits attempts too).
const MAX_CODE_FAILURES: u8 = 5;

/// Cognito's default templates, used when the pool sets none.
const DEFAULT_INVITATION_SUBJECT: &str = "Your temporary password";
const DEFAULT_INVITATION_BODY: &str = "Your username is {username} and temporary password is {####}.";
const DEFAULT_CODE_SUBJECT: &str = "Your verification code";
const DEFAULT_CODE_BODY: &str = "Your verification code is {####}.";

/// What a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// AdminCreateUser (or its RESEND): the username and a temporary password.
    Invitation,
    /// ForgotPassword or AdminResetUserPassword: a code for ConfirmForgotPassword.
    PasswordResetCode,
}

/// One email Cognito would have sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Increasing: later messages have larger ids.
    pub id: u64,
    /// The recipient's email address, lowercase.
    pub to: String,
    pub kind: MessageKind,
    pub subject: String,
    pub body: String,
    /// RFC 3339.
    pub sent_at: String,
}

/// The body of `GET /_local/mailbox`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxListing {
    /// Oldest first.
    pub messages: Vec<Message>,
}

/// Every message sent since the gateway started, oldest first.
#[derive(Debug, Default)]
pub struct Mailbox {
    messages: Mutex<VecDeque<Message>>,
    next_id: Mutex<u64>,
}

impl Mailbox {
    pub fn send(&self, to: &str, kind: MessageKind, subject: String, body: String) {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *next += 1;
            *next
        };
        let sent_at =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let mut messages = self.messages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if messages.len() >= MAX_MESSAGES {
            messages.pop_front();
        }
        // Never the body: it holds a temporary password or a code.
        tracing::info!(id, ?kind, "message kept in the local mailbox");
        messages.push_back(Message { id, to: to.trim().to_lowercase(), kind, subject, body, sent_at });
    }

    /// The messages to `to` (any case), or all of them.
    pub fn listing(&self, to: Option<&str>) -> MailboxListing {
        let to = to.map(|to| to.trim().to_lowercase());
        let messages = self.messages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        MailboxListing {
            messages: messages
                .iter()
                .filter(|message| to.as_ref().is_none_or(|to| message.to == *to))
                .cloned()
                .collect(),
        }
    }
}

/// How a code compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Valid,
    /// Wrong code; the code stays good for a few more attempts.
    Mismatch,
    /// No code, an expired one, or one voided by too many wrong attempts.
    Expired,
}

#[derive(Debug)]
struct PendingCode {
    code: String,
    issued: Instant,
    failures: u8,
}

/// The reset codes in force, one per user (`<pool>/<sub>`); a new one
/// replaces the old.
#[derive(Debug, Default)]
pub struct Codes {
    pending: Mutex<HashMap<String, PendingCode>>,
}

impl Codes {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, PendingCode>> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new six-digit code for `user`.
    pub fn issue(&self, user: &str) -> String {
        let code = format!("{:06}", random_u64() % 1_000_000);
        let mut pending = self.pending();
        pending.retain(|_, held| held.issued.elapsed() < CODE_VALIDITY);
        pending.insert(user.to_owned(), PendingCode { code: code.clone(), issued: Instant::now(), failures: 0 });
        code
    }

    /// Compares `code` with `user`'s (in constant time). A valid code stays
    /// until [`Codes::consume`], so a refused new password can be retried.
    pub fn check(&self, user: &str, code: &str) -> CodeCheck {
        let mut pending = self.pending();
        let Some(held) = pending.get_mut(user) else {
            return CodeCheck::Expired;
        };
        if held.issued.elapsed() >= CODE_VALIDITY || held.failures >= MAX_CODE_FAILURES {
            pending.remove(user);
            return CodeCheck::Expired;
        }
        if aws_lc_rs::constant_time::verify_slices_are_equal(held.code.as_bytes(), code.trim().as_bytes()).is_ok() {
            CodeCheck::Valid
        } else {
            held.failures += 1;
            CodeCheck::Mismatch
        }
    }

    pub fn consume(&self, user: &str) {
        self.pending().remove(user);
    }
}

/// The pool's message templates (Terraform's `invite_message_template` and
/// `verification_message_template`), else Cognito's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    pub invitation_subject: String,
    pub invitation_body: String,
    pub code_subject: String,
    pub code_body: String,
}

impl Templates {
    pub fn of_pool(pool: &UserPoolType) -> Self {
        let invite = pool.admin_create_user_config().and_then(|c| c.invite_message_template());
        let verification = pool.verification_message_template();
        let pick = |value: Option<&str>, default: &str| value.filter(|v| !v.is_empty()).unwrap_or(default).to_owned();
        Self {
            invitation_subject: pick(invite.and_then(|t| t.email_subject()), DEFAULT_INVITATION_SUBJECT),
            invitation_body: pick(invite.and_then(|t| t.email_message()), DEFAULT_INVITATION_BODY),
            code_subject: pick(
                verification.and_then(|t| t.email_subject()).or(pool.email_verification_subject()),
                DEFAULT_CODE_SUBJECT,
            ),
            code_body: pick(
                verification.and_then(|t| t.email_message()).or(pool.email_verification_message()),
                DEFAULT_CODE_BODY,
            ),
        }
    }
}

/// A template with `{username}` and `{####}` (the code or temporary password) filled in.
pub fn render(template: &str, username: &str, secret: &str) -> String {
    template.replace("{username}", username).replace("{####}", secret)
}

/// A temporary password the pool's policy accepts: 20 random letters and
/// digits (about 119 bits) plus one of each class the policy may require.
pub fn temporary_password(policy: Option<&PasswordPolicyType>) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let minimum =
        policy.and_then(PasswordPolicyType::minimum_length).and_then(|n| usize::try_from(n).ok()).unwrap_or(8);
    let length = minimum.max(20);
    let mut password: String = (0..length)
        .map(|_| {
            let index = usize::try_from(random_u64() % ALPHABET.len() as u64).unwrap_or(0);
            char::from(ALPHABET[index])
        })
        .collect();
    password.push_str("Aa7^");
    password
}

/// `a***@e***`: where Cognito says the code went, without the address.
pub fn masked_destination(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let first = |text: &str| text.chars().next().map(String::from).unwrap_or_default();
    format!("{}***@{}***", first(local), first(domain))
}

fn random_u64() -> u64 {
    let mut bytes = [0_u8; 8];
    // aws-lc's generator fails only if the OS has no randomness: nothing runs then.
    aws_lc_rs::rand::fill(&mut bytes).expect("the OS random number generator");
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mailbox_filters_by_recipient_in_any_case_and_keeps_order() {
        let mailbox = Mailbox::default();
        mailbox.send("Ann@Example.com", MessageKind::Invitation, "s".into(), "one".into());
        mailbox.send("bob@example.com", MessageKind::PasswordResetCode, "s".into(), "two".into());
        mailbox.send("ann@example.com", MessageKind::PasswordResetCode, "s".into(), "three".into());
        let ann = mailbox.listing(Some(" ANN@example.com"));
        let bodies: Vec<&str> = ann.messages.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["one", "three"]);
        assert!(ann.messages[0].id < ann.messages[1].id);
        assert_eq!(ann.messages[0].to, "ann@example.com");
        assert_eq!(mailbox.listing(None).messages.len(), 3);
    }

    #[test]
    fn the_mailbox_forgets_the_oldest_past_its_bound() {
        let mailbox = Mailbox::default();
        for n in 0..=MAX_MESSAGES {
            mailbox.send("a@example.com", MessageKind::Invitation, "s".into(), n.to_string());
        }
        let all = mailbox.listing(None).messages;
        assert_eq!(all.len(), MAX_MESSAGES);
        assert_eq!(all[0].body, "1");
    }

    #[test]
    fn codes_are_checked_replaced_and_voided_after_too_many_failures() {
        let codes = Codes::default();
        assert_eq!(codes.check("pool/a", "123456"), CodeCheck::Expired, "none issued");
        let first = codes.issue("pool/a");
        assert_eq!(first.len(), 6);
        assert!(first.chars().all(|c| c.is_ascii_digit()));
        let second = codes.issue("pool/a");
        if first != second {
            assert_eq!(codes.check("pool/a", &first), CodeCheck::Mismatch, "replaced");
        }
        assert_eq!(codes.check("pool/b", &second), CodeCheck::Expired, "another user's");
        assert_eq!(codes.check("pool/a", &second), CodeCheck::Valid);
        assert_eq!(codes.check("pool/a", &second), CodeCheck::Valid, "valid until consumed");
        codes.consume("pool/a");
        assert_eq!(codes.check("pool/a", &second), CodeCheck::Expired, "consumed");

        let code = codes.issue("pool/a");
        let wrong = if code == "000000" { "000001" } else { "000000" };
        for _ in 0..MAX_CODE_FAILURES {
            assert_eq!(codes.check("pool/a", wrong), CodeCheck::Mismatch);
        }
        assert_eq!(codes.check("pool/a", &code), CodeCheck::Expired, "voided");
    }

    #[test]
    fn temporary_passwords_meet_any_cognito_policy() {
        let strict = PasswordPolicyType::builder()
            .minimum_length(30)
            .require_lowercase(true)
            .require_uppercase(true)
            .require_numbers(true)
            .require_symbols(true)
            .build();
        let password = temporary_password(Some(&strict));
        assert!(password.len() >= 30);
        assert!(password.chars().any(|c| c.is_ascii_lowercase()));
        assert!(password.chars().any(|c| c.is_ascii_uppercase()));
        assert!(password.chars().any(|c| c.is_ascii_digit()));
        assert!(password.contains('^'));
        assert_ne!(temporary_password(None), temporary_password(None));
    }

    #[test]
    fn templates_are_rendered_and_destinations_masked() {
        assert_eq!(
            render(DEFAULT_INVITATION_BODY, "ann@example.com", "Pw1"),
            "Your username is ann@example.com and temporary password is Pw1."
        );
        assert_eq!(masked_destination("ann@example.com"), "a***@e***");
        let pool = UserPoolType::builder().build();
        assert_eq!(Templates::of_pool(&pool).code_body, DEFAULT_CODE_BODY);
    }
}
