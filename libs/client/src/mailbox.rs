//! The local stack's mailbox (`GET /_local/mailbox` of the local gateway):
//! every invitation and password-reset code Cognito would have emailed. Only
//! the stack's operator reads it, with the gateway's operator secret; on AWS
//! Cognito sends real email and there is no mailbox.

use serde::{Deserialize, Serialize};

use crate::{ApiClient, ClientConfig, Error, Method};

/// The header that carries the gateway's operator secret.
pub const OPERATOR_SECRET_HEADER: &str = "x-local-operator-secret";

/// One email Cognito would have sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailMessage {
    /// Increasing: later messages have larger ids.
    pub id: u64,
    /// The recipient, lowercase.
    pub to: String,
    /// `invitation` (username and temporary password) or
    /// `password_reset_code`.
    pub kind: String,
    pub subject: String,
    pub body: String,
    /// RFC 3339.
    pub sent_at: String,
}

#[derive(Deserialize)]
struct Listing {
    messages: Vec<MailMessage>,
}

/// The mailbox of the local stack at an endpoint.
pub struct LocalMailbox {
    api: ApiClient,
    operator_secret: String,
}

impl std::fmt::Debug for LocalMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMailbox").field("api", &self.api).finish_non_exhaustive()
    }
}

impl LocalMailbox {
    /// `config`: the local gateway (the API endpoint of a local profile).
    pub fn new(config: &ClientConfig, operator_secret: impl Into<String>) -> Result<Self, Error> {
        Ok(Self { api: ApiClient::anonymous(config)?, operator_secret: operator_secret.into() })
    }

    /// The messages to `to` (any case), or all of them; oldest first.
    pub async fn messages(&self, to: Option<&str>) -> Result<Vec<MailMessage>, Error> {
        let listing: Listing = self
            .api
            .call(Method::GET, &["_local", "mailbox"])
            .query_opt("to", to)
            .secret_header(OPERATOR_SECRET_HEADER, &self.operator_secret)?
            .send()
            .await?;
        Ok(listing.messages)
    }
}
