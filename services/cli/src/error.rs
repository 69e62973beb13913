//! What a command can fail with, the exit code of each class of failure, and
//! the message and hint printed for it on stderr.

use saas_client::Error as ApiError;

/// Exit codes, one per class of failure. Fixed: scripts may rely on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// 0: done.
    Ok,
    /// 1: anything else (local I/O, an answer the CLI did not understand).
    Other,
    /// 2: bad usage or input: unknown flag, invalid value, missing
    /// configuration, or a 400-class answer of the API.
    Usage,
    /// 3: not signed in, the session expired, or the sign-in failed (401).
    Unauthenticated,
    /// 4: signed in but not allowed: a missing role, claim or permission, or
    /// a tier limit (403).
    Forbidden,
    /// 5: no such resource (404).
    NotFound,
    /// 6: a conflict: a stale version, a taken name, a wrong state (409).
    Conflict,
    /// 7: rate limited (429).
    RateLimited,
    /// 8: the service failed or is unavailable (5xx).
    Server,
    /// 9: the endpoint cannot be reached (connection refused, timeout).
    Unreachable,
}

impl Exit {
    pub const ALL: [Exit; 10] = [
        Exit::Ok,
        Exit::Other,
        Exit::Usage,
        Exit::Unauthenticated,
        Exit::Forbidden,
        Exit::NotFound,
        Exit::Conflict,
        Exit::RateLimited,
        Exit::Server,
        Exit::Unreachable,
    ];

    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Other => 1,
            Exit::Usage => 2,
            Exit::Unauthenticated => 3,
            Exit::Forbidden => 4,
            Exit::NotFound => 5,
            Exit::Conflict => 6,
            Exit::RateLimited => 7,
            Exit::Server => 8,
            Exit::Unreachable => 9,
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "success",
            Exit::Other => "other error (local I/O, unexpected answer)",
            Exit::Usage => "usage or invalid input (bad flag or value, missing configuration, HTTP 400)",
            Exit::Unauthenticated => "not signed in, session expired or sign-in refused (HTTP 401)",
            Exit::Forbidden => "forbidden: missing role, claim or permission, or a tier limit (HTTP 403)",
            Exit::NotFound => "not found (HTTP 404)",
            Exit::Conflict => "conflict: stale version, name taken, wrong state (HTTP 409)",
            Exit::RateLimited => "rate limited (HTTP 429)",
            Exit::Server => "service error or unavailable (HTTP 5xx)",
            Exit::Unreachable => "cannot reach the endpoint",
        }
    }
}

/// The exit codes as `--help` shows them.
pub fn exit_codes_help() -> String {
    let mut text = String::from("Exit codes:\n");
    for exit in Exit::ALL {
        text.push_str(&format!("  {}  {}\n", exit.code(), exit.meaning()));
    }
    text
}

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The API or the sign-in refused, or could not be reached.
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("not signed in with profile {profile}")]
    NotSignedIn { profile: String },
    #[error("profile {profile} has no {missing}: run `saas --profile {profile} configure`")]
    NotConfigured { profile: String, missing: &'static str },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(String),
}

impl CliError {
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Api(error) => api_exit(error),
            CliError::NotSignedIn { .. } => Exit::Unauthenticated,
            CliError::NotConfigured { .. } | CliError::Usage(_) => Exit::Usage,
            CliError::Io(_) => Exit::Other,
        }
    }

    /// What to do about it, when there is something to say.
    pub fn hint(&self, profile: &str) -> Option<String> {
        let login = format!("run `saas --profile {profile} login --email <you>` to sign in");
        match self {
            CliError::NotSignedIn { .. } => Some(login),
            CliError::NotConfigured { .. } => Some(
                "`saas configure --endpoint <API URL> --client-id <app client id> [--region ...] \
                 [--cognito-endpoint ...]`; for the local stack: `make cli-config`"
                    .to_owned(),
            ),
            CliError::Usage(_) | CliError::Io(_) => None,
            CliError::Api(error) => api_hint(error, &login),
        }
    }

    /// The lines printed on stderr: the error, its request id, the hint.
    pub fn report(&self, profile: &str) -> String {
        let mut text = format!("error: {self}\n");
        if let Some(request_id) = self.problem_request_id() {
            text.push_str(&format!("request id: {request_id}\n"));
        }
        if let Some(hint) = self.hint(profile) {
            text.push_str(&format!("hint: {hint}\n"));
        }
        text
    }

    fn problem_request_id(&self) -> Option<&str> {
        match self {
            CliError::Api(error) => error.problem().and_then(|p| p.request_id.as_deref()),
            _ => None,
        }
    }
}

fn api_exit(error: &ApiError) -> Exit {
    match error {
        ApiError::BadRequest(_) | ApiError::Config(_) => Exit::Usage,
        ApiError::Unauthorized(_) | ApiError::SignIn(_) | ApiError::SessionEnded | ApiError::PasswordResetRequired => {
            Exit::Unauthenticated
        }
        ApiError::Forbidden(_) => Exit::Forbidden,
        ApiError::NotFound(_) => Exit::NotFound,
        ApiError::Conflict(_) => Exit::Conflict,
        ApiError::TooManyRequests { .. } => Exit::RateLimited,
        ApiError::Server(_) => Exit::Server,
        ApiError::Transport { .. } | ApiError::SignInUnavailable(_) => Exit::Unreachable,
        ApiError::UnexpectedResponse { .. } => Exit::Other,
    }
}

fn api_hint(error: &ApiError, login: &str) -> Option<String> {
    let detail = error.problem().map(|p| p.detail.as_str()).unwrap_or_default();
    let hint = match error {
        ApiError::Unauthorized(_) => format!("your session is missing or no longer valid: {login}"),
        ApiError::SessionEnded => format!("your session has ended (signed out, revoked or expired): {login}"),
        ApiError::PasswordResetRequired => "choose a new password with the code emailed to you: \
             `saas password reset --email <you> --code <code>` (no code? `saas password forgot --email <you>`)"
            .to_owned(),
        ApiError::SignIn(reason) if reason.contains("not allowed") || reason.contains("disabled") => {
            "this account may not sign in now (disabled, or its tenant suspended): ask an admin of your tenant"
                .to_owned()
        }
        ApiError::SignIn(reason) if reason.contains("code") => {
            "use the latest code from the email, or ask for a new one: `saas password forgot --email <you>`".to_owned()
        }
        ApiError::SignIn(_) => format!("check the email address and password, then {login}"),
        ApiError::Forbidden(_) if error.is_limit_exceeded() => {
            "the tenant's tier allows no more of this: remove some, \
             or ask a platform admin for a higher tier (`saas admin tenants tier <tenant id> pro`)"
                .to_owned()
        }
        ApiError::Forbidden(_) if detail.contains("platform administrator") => {
            "this needs a platform admin (a user in the Cognito group `platform-admin`); sign in as one".to_owned()
        }
        ApiError::Forbidden(_) if detail.contains("administrators of the tenant") => {
            "this needs the tenant's `admin` role: ask an admin of your tenant (`saas users role <your user id> admin`)"
                .to_owned()
        }
        ApiError::Forbidden(_) if detail.contains("not a member of a tenant") => {
            "your token carries no tenant claims: sign in as a member of a tenant (platform admins have none)"
                .to_owned()
        }
        ApiError::Forbidden(_) => "the API's detail above says what is missing".to_owned(),
        ApiError::NotFound(_) => "no such resource in your tenant: check the id (list them with `list`)".to_owned(),
        ApiError::Conflict(_) if detail.contains("version") => {
            "it changed since the version you gave: show it again and retry with its current --version".to_owned()
        }
        ApiError::Conflict(_) => "the request conflicts with the current state (see the detail)".to_owned(),
        ApiError::TooManyRequests { retry_after, .. } => match retry_after {
            Some(wait) => format!("slow down: retry in {} s", wait.as_secs().max(1)),
            None => "slow down and retry in a moment".to_owned(),
        },
        ApiError::Server(_) => "the service failed or is unavailable: retry later; quote the request id if it \
             persists"
            .to_owned(),
        ApiError::Transport { .. } => "check the endpoint (`--endpoint` or the profile's) and that the API is up \
             (for the local stack: `make dev`)"
            .to_owned(),
        ApiError::SignInUnavailable(_) => "Cognito did not answer: check the profile's Cognito endpoint \
             (`saas configure`) and retry later"
            .to_owned(),
        ApiError::BadRequest(_) => "the API refused the input (see the detail)".to_owned(),
        ApiError::Config(_) => "check the profile's endpoints (`saas configure`)".to_owned(),
        ApiError::UnexpectedResponse { .. } => return None,
    };
    Some(hint)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use saas_client::Problem;

    use super::*;

    fn problem(status: u16, kind: &str, detail: &str) -> Problem {
        Problem {
            kind: format!("urn:problem:{kind}"),
            title: "Title".into(),
            status,
            detail: detail.into(),
            request_id: Some("req-42".into()),
        }
    }

    #[test]
    fn every_error_class_has_its_exit_code() {
        let cases: Vec<(CliError, u8)> = vec![
            (ApiError::BadRequest(problem(400, "bad-request", "x")).into(), 2),
            (ApiError::Config("bad url".into()).into(), 2),
            (ApiError::Unauthorized(problem(401, "unauthorized", "x")).into(), 3),
            (ApiError::SignIn("refused".into()).into(), 3),
            (ApiError::SessionEnded.into(), 3),
            (ApiError::PasswordResetRequired.into(), 3),
            (ApiError::SignInUnavailable("connection refused".into()).into(), 9),
            (ApiError::Forbidden(problem(403, "forbidden", "x")).into(), 4),
            (ApiError::Forbidden(problem(403, "limit-exceeded", "x")).into(), 4),
            (ApiError::NotFound(problem(404, "not-found", "x")).into(), 5),
            (ApiError::Conflict(problem(409, "conflict", "x")).into(), 6),
            (
                ApiError::TooManyRequests { problem: problem(429, "too-many-requests", "x"), retry_after: None }.into(),
                7,
            ),
            (ApiError::Server(problem(503, "service-unavailable", "x")).into(), 8),
            (ApiError::UnexpectedResponse { url: "u".into(), status: 200, message: "m".into() }.into(), 1),
            (CliError::NotSignedIn { profile: "p".into() }, 3),
            (CliError::NotConfigured { profile: "p".into(), missing: "endpoint" }, 2),
            (CliError::Usage("u".into()), 2),
            (CliError::Io("disk".into()), 1),
        ];
        for (error, code) in cases {
            assert_eq!(error.exit().code(), code, "{error:?}");
        }
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, (0..=9).collect::<Vec<u8>>());
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_exit_9() {
        // Port 9 (discard) is closed on any test machine we run on.
        let mut config = saas_client::ClientConfig::new("http://127.0.0.1:9").expect("config");
        config.retry = saas_client::RetryPolicy::none();
        let api = saas_client::ApiClient::anonymous(&config).expect("client");
        let error = tenants_client::TenantsClient::new(api).current().await.expect_err("nothing listens");
        assert!(matches!(error, ApiError::Transport { .. }), "{error:?}");
        let error = CliError::from(error);
        assert_eq!(error.exit(), Exit::Unreachable);
        assert!(error.report("p").contains("hint: check the endpoint"), "{}", error.report("p"));
    }

    #[test]
    fn reports_carry_the_problem_and_a_hint() {
        let unauthorized = CliError::from(ApiError::Unauthorized(problem(401, "unauthorized", "expired")));
        let report = unauthorized.report("work");
        assert!(report.starts_with("error: Title (HTTP 401): expired\n"), "{report}");
        assert!(report.contains("request id: req-42\n"), "{report}");
        assert!(report.contains("saas --profile work login"), "{report}");

        let limit = CliError::from(ApiError::Forbidden(problem(
            403,
            "limit-exceeded",
            "the free tier allows at most 100 notes",
        )));
        assert!(limit.report("p").contains("tier"), "{}", limit.report("p"));
        assert!(limit.report("p").contains("the free tier allows at most 100 notes"));

        let not_admin = CliError::from(ApiError::Forbidden(problem(
            403,
            "forbidden",
            "only administrators of the tenant may do this",
        )));
        assert!(not_admin.hint("p").expect("hint").contains("`admin` role"));
        let not_platform = CliError::from(ApiError::Forbidden(problem(
            403,
            "forbidden",
            "the caller is not a platform administrator",
        )));
        assert!(not_platform.hint("p").expect("hint").contains("platform-admin"));
        let no_tenant = CliError::from(ApiError::Forbidden(problem(
            403,
            "forbidden",
            "the token carries no tenant_id claim: the caller is not a member of a tenant",
        )));
        assert!(no_tenant.hint("p").expect("hint").contains("no tenant claims"));

        let throttled = CliError::from(ApiError::TooManyRequests {
            problem: problem(429, "too-many-requests", "x"),
            retry_after: Some(Duration::from_secs(3)),
        });
        assert_eq!(throttled.hint("p").as_deref(), Some("slow down: retry in 3 s"));
        let stale = CliError::from(ApiError::Conflict(problem(409, "conflict", "version 1 is stale")));
        assert!(stale.hint("p").expect("hint").contains("--version"));
        assert!(
            CliError::NotSignedIn { profile: "p".into() }.report("p").contains("hint: run `saas --profile p login")
        );
    }

    #[test]
    fn help_lists_every_exit_code() {
        let help = exit_codes_help();
        for exit in Exit::ALL {
            assert!(help.contains(&format!("  {}  {}", exit.code(), exit.meaning())), "{help}");
        }
    }
}
