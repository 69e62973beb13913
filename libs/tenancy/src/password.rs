//! The user pool's password policy, as one value the services check before
//! they write anything.
//!
//! Terraform defines the policy once (`password_policy` of the platform), sets
//! it on the Cognito user pool and passes the same object to the functions
//! (`PASSWORD_POLICY`, JSON with the pool's field names). A password that
//! passes [`PasswordPolicy::check`] is one the pool accepts: the check counts
//! symbols only from Cognito's list (not the space Cognito also allows), so it
//! is never more lenient than the pool.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest password any path accepts (Cognito's own limit).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The characters Cognito counts as symbols.
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

/// A password on its way to the user pool: its text on the wire, never in
/// `Debug` output, so no log line can show it. [`expose`](Self::expose) it
/// only where it is checked or sent on.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// The password's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<&str> for Password {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a password must contain; field names as in Terraform's
/// `password_policy` block of `aws_cognito_user_pool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    pub minimum_length: usize,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

impl Default for PasswordPolicy {
    /// The platform's default (terraform/platform/variables.tf).
    fn default() -> Self {
        Self {
            minimum_length: 12,
            require_lowercase: true,
            require_uppercase: true,
            require_numbers: true,
            require_symbols: false,
        }
    }
}

/// A password the policy refuses; says the whole rule, never the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the password must be {0}")]
pub struct WeakPassword(PasswordPolicy);

impl PasswordPolicy {
    /// Cognito's bounds for the minimum length.
    pub const MINIMUM_LENGTH_RANGE: std::ops::RangeInclusive<usize> = 6..=99;

    /// Checks `password`: its length, the required character classes, and no
    /// control characters (a copy-paste accident, never a real password).
    pub fn check(&self, password: &str) -> Result<(), WeakPassword> {
        let chars = password.chars().count();
        let has = |class: fn(char) -> bool| password.chars().any(class);
        let ok = (self.minimum_length..=MAX_PASSWORD_CHARS).contains(&chars)
            && !has(char::is_control)
            && (!self.require_lowercase || has(|c| c.is_ascii_lowercase()))
            && (!self.require_uppercase || has(|c| c.is_ascii_uppercase()))
            && (!self.require_numbers || has(|c| c.is_ascii_digit()))
            && (!self.require_symbols || has(|c| SYMBOLS.contains(c)));
        if ok { Ok(()) } else { Err(WeakPassword(*self)) }
    }
}

impl fmt::Display for PasswordPolicy {
    /// "12 to 256 characters with a lowercase letter, an uppercase letter and a digit".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {MAX_PASSWORD_CHARS} characters", self.minimum_length)?;
        let classes: Vec<&str> = [
            (self.require_lowercase, "a lowercase letter (a-z)"),
            (self.require_uppercase, "an uppercase letter (A-Z)"),
            (self.require_numbers, "a digit"),
            (self.require_symbols, "a symbol such as ! or -"),
        ]
        .into_iter()
        .filter_map(|(required, class)| required.then_some(class))
        .collect();
        match classes.split_last() {
            None => Ok(()),
            Some((last, [])) => write!(f, " with {last}"),
            Some((last, rest)) => write!(f, " with {} and {last}", rest.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = Password::from("Secret-Passw0rd");
        assert_eq!(format!("{password:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&password)), "Some(<redacted>)");
        assert_eq!(password.expose(), "Secret-Passw0rd");
        assert_eq!(serde_json::to_string(&password).expect("json"), "\"Secret-Passw0rd\"");
    }

    #[test]
    fn the_default_policy_is_the_pools() {
        let policy = PasswordPolicy::default();
        assert!(policy.check("Correct-horse-7").is_ok());
        assert!(policy.check("Abcdefghij1k").is_ok(), "exactly 12");
        for weak in [
            "Abcdefghi1k",                     // 11 characters
            "abcdefghijk1",                    // no uppercase
            "ABCDEFGHIJK1",                    // no lowercase
            "Abcdefghijkl",                    // no digit
            "Abcdefghij1\nk",                  // control character
            &format!("A1{}", "a".repeat(255)), // 257 characters
        ] {
            assert_eq!(policy.check(weak), Err(WeakPassword(policy)), "{weak:?}");
        }
    }

    #[test]
    fn symbols_count_only_from_cognitos_list() {
        let policy = PasswordPolicy { require_symbols: true, ..PasswordPolicy::default() };
        assert!(policy.check("Abcdefghij1!").is_ok());
        assert!(policy.check("Abcdefghij1-").is_ok());
        assert!(policy.check("Abcdefghij1 x").is_err(), "a space is not counted");
        assert!(policy.check("Abcdefghij1é").is_err());
    }

    #[test]
    fn the_message_states_the_rule_and_never_the_password() {
        let error = PasswordPolicy::default().check("Secret").expect_err("refused");
        assert_eq!(
            error.to_string(),
            "the password must be 12 to 256 characters with a lowercase letter (a-z), \
             an uppercase letter (A-Z) and a digit"
        );
        let loose = PasswordPolicy {
            minimum_length: 8,
            require_lowercase: false,
            require_uppercase: false,
            require_numbers: true,
            require_symbols: false,
        };
        assert_eq!(loose.to_string(), "8 to 256 characters with a digit");
    }

    #[test]
    fn the_policy_reads_terraforms_field_names() {
        let policy: PasswordPolicy = serde_json::from_str(
            r#"{"minimum_length":14,"require_lowercase":true,"require_uppercase":false,
                "require_numbers":true,"require_symbols":true}"#,
        )
        .expect("valid");
        assert_eq!(policy.minimum_length, 14);
        assert!(serde_json::from_str::<PasswordPolicy>(r#"{"minimum_length":14}"#).is_err());
    }
}
