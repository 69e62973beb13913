//! The built `saas` binary, driven as a user would: stdout, stderr and exit
//! codes. The tests marked `#[ignore]` need the local stack and gateway
//! (`LOCAL_GATEWAY_URL`, `AWS_ENDPOINT_URL`, as tests/e2e); `make test` runs
//! them. The others run anywhere.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use e2e::Stack;
use notes_client::{Note, NoteId};
use saas_client::MailMessage;
use serde::de::DeserializeOwned;
use tenants_client::{AuditEntry, ErasureReceipt, Registered, Tenant, TenantStatus, TenantTier};
use time::OffsetDateTime;
use users_client::{MembershipStatus, TenantRole, User};

/// What one run of `saas` did.
#[derive(Debug)]
struct Outcome {
    args: String,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn describe(&self) -> String {
        format!("saas {} -> exit {}\n--- stdout\n{}--- stderr\n{}", self.args, self.code, self.stdout, self.stderr)
    }

    /// Asserts the exit code.
    fn code(self, expected: i32) -> Self {
        assert_eq!(self.code, expected, "{}", self.describe());
        self
    }

    fn ok(self) -> Self {
        self.code(0)
    }

    /// Stdout as `T` (the whole of it: nothing else may be printed there).
    fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a {}: {e}\n{}", std::any::type_name::<T>(), self.describe()))
    }

    fn stderr_has(self, text: &str) -> Self {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}\n{}", self.describe());
        self
    }

    fn stdout_has(self, text: &str) -> Self {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}\n{}", self.describe());
        self
    }
}

/// One user of the CLI: a config dir of their own.
struct Saas {
    dir: tempfile::TempDir,
}

impl Saas {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("tempdir") }
    }

    /// A user whose default profile points at the running stack (as `make
    /// cli-config` writes it, the mailbox's operator secret file included).
    fn configured(stack: &Stack) -> Self {
        let saas = Self::new();
        let gateway = &stack.settings.gateway;
        let secret_file = stack.operator_secret_path().expect("operator secret path");
        saas.run(&[
            "configure",
            "--endpoint",
            gateway,
            "--cognito-endpoint",
            &format!("{gateway}/cognito"),
            "--region",
            &stack.settings.region,
            "--client-id",
            &stack.app_client_id,
            "--local-operator-secret-file",
            secret_file.to_str().expect("utf-8 path"),
        ])
        .ok()
        .stderr_has("profile default written");
        saas
    }

    fn session_path(&self) -> PathBuf {
        self.dir.path().join("sessions").join("default.json")
    }

    fn run(&self, args: &[&str]) -> Outcome {
        self.run_with_stdin(args, "")
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Outcome {
        let mut command = Command::new(env!("CARGO_BIN_EXE_saas"));
        command
            .args(args)
            .env("SAAS_CONFIG_DIR", self.dir.path())
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for name in ["SAAS_PROFILE", "SAAS_ENDPOINT", "SAAS_OUTPUT", "SAAS_EMAIL", "SAAS_PASSWORD", "SAAS_NEW_PASSWORD"]
        {
            command.env_remove(name);
        }
        let mut child = command.spawn().expect("start saas");
        // A command that fails before reading stdin closes it: not an error here.
        match child.stdin.take().expect("stdin").write_all(stdin.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing stdin: {e}"),
            _ => {}
        }
        let output = child.wait_with_output().expect("saas runs");
        Outcome {
            args: args.join(" "),
            code: output.status.code().expect("exit code, not a signal"),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        }
    }

    fn login(&self, email: &str, passwords: &str) -> Outcome {
        self.run_with_stdin(&["login", "--email", email, "--password-stdin"], passwords)
    }

    fn session_mode(&self) -> u32 {
        std::fs::metadata(self.session_path()).expect("session file").permissions().mode() & 0o777
    }

    fn session(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.session_path()).expect("read session")).expect("session json")
    }
}

// --- Without the stack ------------------------------------------------------------

#[test]
fn help_documents_the_exit_codes() {
    let help = Saas::new().run(&["--help"]).ok();
    for line in [
        "Exit codes:",
        "0  success",
        "2  usage",
        "3  not signed in",
        "4  forbidden",
        "5  not found",
        "6  conflict",
        "7  rate limited",
        "8  service error",
        "9  cannot reach the endpoint",
    ] {
        assert!(help.stdout.contains(line), "{line:?} missing\n{}", help.describe());
    }
}

#[test]
fn completion_scripts_are_printed() {
    for shell in ["bash", "zsh", "fish"] {
        let outcome = Saas::new().run(&["completion", shell]).ok();
        assert!(outcome.stdout.contains("notes"), "{}", outcome.describe());
        assert!(outcome.stdout.contains("saas"), "{}", outcome.describe());
    }
    Saas::new().run(&["completion", "tcsh"]).code(2);
}

#[test]
fn usage_errors_exit_2() {
    let saas = Saas::new();
    saas.run(&["notes", "show", "not-a-note-id"]).code(2);
    saas.run(&["notes", "frobnicate"]).code(2);
    saas.run(&["--output", "yaml", "whoami"]).code(2);
    saas.run(&["--profile", "../evil", "whoami"]).code(2).stderr_has("profile name");
    // Sign-in needs a configured profile.
    saas.run_with_stdin(&["login", "--email", "a@b.co", "--password-stdin"], "pw\n")
        .code(2)
        .stderr_has("run `saas --profile default configure`");
}

#[test]
fn without_a_session_commands_exit_3() {
    let saas = Saas::new();
    saas.run(&["configure", "--endpoint", "http://127.0.0.1:9", "--client-id", "client"]).ok();
    let outcome = saas
        .run(&["-o", "json", "notes", "list"])
        .code(3)
        .stderr_has("not signed in with profile default")
        .stderr_has("hint: run `saas --profile default login");
    assert_eq!(outcome.stdout, "", "nothing on stdout for an error");
}

#[test]
fn an_unreachable_endpoint_exits_9() {
    let saas = Saas::new();
    let outcome = saas
        .run_with_stdin(
            &[
                "--endpoint",
                "http://127.0.0.1:9",
                "-o",
                "json",
                "register",
                "--name",
                "Nowhere",
                "--slug",
                "nowhere",
                "--admin-email",
                "a@nowhere.example.com",
                "--password-stdin",
            ],
            "Pw-unreachable-Aa1\n",
        )
        .code(9)
        .stderr_has("cannot reach http://127.0.0.1:9/tenants")
        .stderr_has("hint: check the endpoint")
        .stderr_has("run the same command again to resume it");
    assert_eq!(outcome.stdout, "");
    assert!(!outcome.stderr.contains("Pw-unreachable-Aa1"), "{}", outcome.describe());
}

#[test]
fn an_unfinished_registration_keeps_its_key_for_the_retry_and_a_bad_slug_sends_nothing() {
    let saas = Saas::new();
    let register = |slug: &str, email: &str| {
        saas.run_with_stdin(
            &[
                "--endpoint",
                "http://127.0.0.1:9",
                "register",
                "--name",
                "Nowhere",
                "--slug",
                slug,
                "--admin-email",
                email,
                "--password-stdin",
            ],
            "Pw-unreachable-Aa1\n",
        )
    };
    register("nowhere", "a@nowhere.example.com").code(9);
    let key_file = saas.dir.path().join("registrations").join("default.nowhere.key");
    let key = std::fs::read_to_string(&key_file).expect("the key is kept");
    assert!(e2e::IdempotencyKey::parse(key.trim()).is_ok(), "{key:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner may read the key");
    }
    // The retry sends the same key (the file is unchanged, not replaced).
    register("nowhere", "a@nowhere.example.com").code(9);
    assert_eq!(std::fs::read_to_string(&key_file).expect("kept"), key);

    // Refused before anything is sent: the CLI checks slug and email itself.
    register("Not A Slug", "a@nowhere.example.com").code(2).stderr_has("the slug must be");
    register("nowhere2", "not-an-email").code(2).stderr_has("email address is not valid");
    assert!(!saas.dir.path().join("registrations").join("default.nowhere2.key").exists());
}

#[test]
fn an_unreachable_cognito_exits_9_not_3() {
    let saas = Saas::new();
    saas.run(&[
        "configure",
        "--endpoint",
        "http://127.0.0.1:9",
        "--cognito-endpoint",
        "http://127.0.0.1:9/cognito",
        "--client-id",
        "client",
    ])
    .ok();
    let outcome = saas
        .run_with_stdin(&["login", "--email", "a@b.co", "--password-stdin"], "Pw-nowhere-Aa1\n")
        .code(9)
        .stderr_has("cannot sign in")
        .stderr_has("hint: Cognito did not answer");
    assert!(!outcome.stderr.contains("Pw-nowhere-Aa1"), "{}", outcome.describe());
}

// --- Against the local stack ------------------------------------------------------------

#[tokio::test]
#[ignore = "needs the local stack and gateway (LOCAL_GATEWAY_URL, AWS_ENDPOINT_URL): make test"]
async fn a_tenant_story_from_registration_to_the_deletion_of_a_note() {
    let stack = Stack::from_env_or_panic().await;
    let admin = Saas::configured(&stack);

    // Register, then sign in.
    let slug = stack.unique("cli");
    let email = format!("admin@{slug}.example.com");
    let password = e2e::strong_password();
    let registered: Registered = admin
        .run_with_stdin(
            &[
                "-o",
                "json",
                "register",
                "--name",
                "Cli Story",
                "--slug",
                &slug,
                "--tier",
                "free",
                "--admin-email",
                &email,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
        .ok()
        .stderr_has(&format!("registered tenant {slug}"))
        .json();
    assert_eq!(registered.tenant.name.as_str(), "Cli Story");
    assert_eq!(registered.tenant.slug.as_str(), slug);
    assert_eq!(registered.tenant.tier, TenantTier::Free);
    assert_eq!(registered.tenant.status, TenantStatus::Active);
    let tenant_id = registered.tenant.tenant_id.to_string();

    admin.run(&["whoami"]).code(3).stderr_has("saas --profile default login");
    admin.login(&email, "not-the-password\n").code(3).stderr_has("sign-in failed");
    let login = admin.login(&email, &format!("{password}\n")).ok().stderr_has(&format!("signed in as {email}"));
    assert_eq!(login.stdout, "");
    assert_eq!(admin.session_mode(), 0o600);
    let access_token = admin.session()["tokens"]["access_token"].as_str().expect("access token").to_owned();
    assert!(!login.stderr.contains(&access_token) && !login.stderr.contains(&password));

    let me: User = admin.run(&["-o", "json", "whoami"]).ok().json();
    assert_eq!(me.user_id, registered.admin_user_id);
    assert_eq!(me.email, email);
    assert_eq!(me.role, TenantRole::Admin);
    assert_eq!(me.status, MembershipStatus::Active);
    admin.run(&["whoami"]).ok().stdout_has(&email).stdout_has("admin");

    // Notes.
    let groceries: Note = admin
        .run(&["-o", "json", "notes", "add", "--title", "Groceries", "--body", "milk"])
        .ok()
        .stderr_has("added (version 1)")
        .json();
    assert_eq!((groceries.title.as_str(), groceries.body.as_str(), groceries.version), ("Groceries", "milk", 1));
    let chores: Note = admin.run(&["-o", "json", "notes", "add", "--title", "Chores"]).ok().json();
    assert_eq!(chores.body, "");
    let listed: Vec<Note> = admin.run(&["-o", "json", "notes", "list"]).ok().json();
    assert_eq!(listed, vec![chores.clone(), groceries.clone()], "newest first, field by field");
    let first: Vec<Note> = admin.run(&["-o", "json", "notes", "list", "--limit", "1"]).ok().json();
    assert_eq!(first, vec![chores.clone()]);
    admin
        .run(&["notes", "list"])
        .ok()
        .stdout_has("Groceries")
        .stdout_has("Chores")
        .stdout_has(&groceries.id.to_string());
    let id = groceries.id.to_string();
    let shown: Note = admin.run(&["-o", "json", "notes", "show", &id]).ok().json();
    assert_eq!(shown, groceries);

    // Edit: read-then-write, a stale version (exit 6), the current version.
    let edited: Note = admin.run(&["-o", "json", "notes", "edit", &id, "--title", "Groceries (Sat)"]).ok().json();
    assert_eq!(
        (edited.id, edited.title.as_str(), edited.body.as_str(), edited.version),
        (groceries.id, "Groceries (Sat)", "milk", 2)
    );
    let stale = admin
        .run(&["-o", "json", "notes", "edit", &id, "--body", "eggs", "--version", "1"])
        .code(6)
        .stderr_has("(HTTP 409)")
        .stderr_has("version 1 is stale")
        .stderr_has("--version");
    assert_eq!(stale.stdout, "");
    let edited: Note = admin.run(&["-o", "json", "notes", "edit", &id, "--body", "eggs", "--version", "2"]).ok().json();
    assert_eq!((edited.title.as_str(), edited.body.as_str(), edited.version), ("Groceries (Sat)", "eggs", 3));
    admin.run(&["notes", "show", &NoteId::generate().to_string()]).code(5).stderr_has("(HTTP 404)");

    // Users: invite a member, who signs in for the first time with a new password.
    let member_email = format!("member@{slug}.example.com");
    let temporary = e2e::strong_password();
    let invited: User = admin
        .run_with_stdin(
            &["-o", "json", "users", "invite", "--email", &member_email, "--role", "member", "--password-stdin"],
            &format!("{temporary}\n"),
        )
        .ok()
        .stderr_has("temporary password")
        .json();
    assert_eq!((invited.email.as_str(), invited.role), (member_email.as_str(), TenantRole::Member));
    let member = Saas::configured(&stack);
    let new_password = e2e::strong_password();
    member
        .login(&member_email, &format!("{temporary}\n"))
        .code(2)
        .stderr_has("stdin ended before the password was read");
    member.login(&member_email, &format!("{temporary}\n{new_password}\n")).ok().stderr_has("first sign-in");
    let member_me: User = member.run(&["-o", "json", "whoami"]).ok().json();
    assert_eq!(member_me.user_id, invited.user_id);
    // A member doing an admin's thing: 4, with what is missing.
    member
        .run(&["users", "invite", "--email", &format!("x@{slug}.example.com")])
        .code(4)
        .stderr_has("only administrators of the tenant may do this")
        .stderr_has("`admin` role");
    member
        .run(&["admin", "tenants", "list"])
        .code(4)
        .stderr_has("not a platform administrator")
        .stderr_has("platform-admin");
    let member_id = invited.user_id.to_string();
    let promoted: User = admin.run(&["-o", "json", "users", "role", &member_id, "admin"]).ok().json();
    assert_eq!(promoted.role, TenantRole::Admin);
    let demoted: User = admin.run(&["-o", "json", "users", "role", &member_id, "member"]).ok().json();
    assert_eq!(demoted.role, TenantRole::Member);
    let disabled: User = admin.run(&["-o", "json", "users", "disable", &member_id]).ok().json();
    assert_eq!(disabled.status, MembershipStatus::Disabled);
    // A refused sign-in: one plain line and a hint, never SDK debug text.
    let refused = member
        .login(&member_email, &format!("{new_password}\n"))
        .code(3)
        .stderr_has("error: sign-in failed: the account is disabled\n")
        .stderr_has("hint: this account may not sign in now");
    assert_eq!(refused.stderr.lines().count(), 2, "{}", refused.describe());
    let enabled: User = admin.run(&["-o", "json", "users", "enable", &member_id]).ok().json();
    assert_eq!(enabled.status, MembershipStatus::Active);
    member.login(&member_email, &format!("{new_password}\n")).ok();
    let users: Vec<User> = admin.run(&["-o", "json", "users", "list"]).ok().json();
    let mut emails: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
    emails.sort_unstable();
    assert_eq!(emails, vec![email.as_str(), member_email.as_str()]);
    let removed = admin.run(&["-o", "json", "users", "remove", &member_id]).ok();
    assert_eq!(removed.stdout, "");
    admin.run(&["users", "show", &member_id]).code(5);

    // The free tier's member limit: a 403 of its own kind, with the tier as the hint.
    let max_users = TenantTier::Free.limits().max_users;
    let mut limited = None;
    for n in 0..=max_users {
        let outcome = admin.run(&["users", "invite", "--email", &format!("extra{n}@{slug}.example.com")]);
        if outcome.code != 0 {
            limited = Some(outcome);
            break;
        }
    }
    limited
        .expect("the free tier refuses a member at some point")
        .code(4)
        .stderr_has(&format!("at most {max_users}"))
        .stderr_has("higher tier");
    let members: Vec<User> = admin.run(&["-o", "json", "users", "list"]).ok().json();
    assert_eq!(i64::try_from(members.len()).expect("count"), max_users);

    // The tenant.
    let tenant: Tenant = admin.run(&["-o", "json", "tenant", "show"]).ok().json();
    assert_eq!(tenant, registered.tenant);
    let renamed: Tenant = admin.run(&["-o", "json", "tenant", "update", "--name", "Cli Story Renamed"]).ok().json();
    assert_eq!(
        (renamed.tenant_id, renamed.name.as_str(), renamed.version),
        (tenant.tenant_id, "Cli Story Renamed", tenant.version + 1)
    );
    admin.run(&["tenant", "update", "--name", "Again", "--version", &tenant.version.to_string()]).code(6);

    // A platform admin.
    let operator = stack.platform_admin().await.expect("platform admin");
    let platform = Saas::configured(&stack);
    platform.login(&operator.email, &format!("{}\n", operator.password)).ok();
    let tenants: Vec<Tenant> = platform.run(&["-o", "json", "admin", "tenants", "list"]).ok().json();
    let listed = tenants.iter().find(|t| t.tenant_id == tenant.tenant_id).expect("our tenant is listed");
    assert_eq!(listed, &renamed);
    // Unfinished registrations: a registered tenant's slug is refused (6), a
    // slug nobody holds changes nothing.
    platform.run(&["admin", "registrations", "remove", &slug]).code(6).stderr_has("belongs to a registered tenant");
    let free = stack.unique("free");
    let removal: serde_json::Value = platform
        .run(&["-o", "json", "admin", "registrations", "remove", &free])
        .ok()
        .stderr_has("nothing to remove")
        .json();
    assert_eq!(removal["removed"], false);
    let pro: Tenant = platform.run(&["-o", "json", "admin", "tenants", "tier", &tenant_id, "pro"]).ok().json();
    assert_eq!((pro.tier, pro.status), (TenantTier::Pro, TenantStatus::Active));
    let suspended: Tenant = platform.run(&["-o", "json", "admin", "tenants", "suspend", &tenant_id]).ok().json();
    assert_eq!(suspended.status, TenantStatus::Suspended);
    // Again: a retry that ends the sessions once more, the record unchanged.
    platform.run(&["admin", "tenants", "suspend", &tenant_id]).ok().stderr_has("is suspended");
    admin.login(&email, &format!("{password}\n")).code(3);
    let reactivated: Tenant = platform.run(&["-o", "json", "admin", "tenants", "reactivate", &tenant_id]).ok().json();
    assert_eq!((reactivated.status, reactivated.tier), (TenantStatus::Active, TenantTier::Pro));
    admin.login(&email, &format!("{password}\n")).ok();

    // The audit trail: every change above, newest first, filtered; members may not read it.
    let trail: Vec<AuditEntry> = admin.run(&["-o", "json", "audit"]).ok().json();
    assert_eq!(trail.first().map(|e| e.action.as_str()), Some("POST /admin/tenants/{tenant_id}/reactivate"));
    assert_eq!(trail.last().map(|e| e.action.as_str()), Some("POST /tenants"));
    let renames: Vec<AuditEntry> = admin.run(&["-o", "json", "audit", "--action", "PUT /tenant"]).ok().json();
    assert_eq!(renames.iter().map(|e| e.outcome).collect::<Vec<_>>(), [409, 200]);
    admin.run(&["audit", "--limit", "1"]).ok().stderr_has("1 entry");
    admin.run(&["audit", "--from", "yesterday"]).code(2);
    member.run(&["audit"]).code(4);

    // Delete a note, and sign out.
    admin.run(&["-o", "json", "notes", "delete", &id]).ok().stderr_has(&format!("note {id} deleted"));
    admin.run(&["notes", "show", &id]).code(5);
    let remaining: Vec<Note> = admin.run(&["-o", "json", "notes", "list"]).ok().json();
    assert_eq!(remaining.iter().map(|n| n.id).collect::<Vec<_>>(), vec![chores.id]);
    // Sign out: the refresh token is revoked, not only forgotten.
    let session: serde_json::Value =
        serde_json::from_slice(&std::fs::read(admin.session_path()).expect("session file")).expect("session json");
    let refresh_token = session["tokens"]["refresh_token"].as_str().expect("a refresh token").to_owned();
    admin.run(&["logout"]).ok().stderr_has("the session was revoked");
    assert!(!admin.session_path().exists());
    admin.run(&["whoami"]).code(3);
    match stack.refresh(&refresh_token).await {
        Err(e2e::SignInError::Refused { code, .. }) => assert_eq!(code, "NotAuthorizedException"),
        other => panic!("the logged-out refresh token still refreshes: {other:?}"),
    }

    // The tenant's end: closed by its admin (confirmed), then offboarded.
    admin.login(&email, &format!("{password}\n")).ok();
    admin.run(&["tenant", "close"]).code(2).stderr_has("--yes");
    let closing: Tenant = admin.run(&["-o", "json", "tenant", "close", "--yes"]).ok().json();
    assert_eq!(closing.status, TenantStatus::Offboarding);
    platform.run(&["admin", "tenants", "offboard", &tenant_id]).code(2).stderr_has("--yes");
    let receipt: ErasureReceipt =
        platform.run(&["-o", "json", "admin", "tenants", "offboard", &tenant_id, "--yes"]).ok().json();
    assert_eq!(receipt.status, TenantStatus::Offboarded);
    assert_eq!(receipt.removed["notes"]["notes"], 1, "{receipt:?}");
    platform.run(&["admin", "tenants", "offboard", &tenant_id, "--yes"]).code(5);
}

#[tokio::test]
#[ignore = "needs the local stack and gateway (LOCAL_GATEWAY_URL, AWS_ENDPOINT_URL): make test"]
async fn an_expired_access_token_is_refreshed_and_stored_again() {
    let stack = Stack::from_env_or_panic().await;
    let fixture = stack.tenant("Cli Refresh", TenantTier::Free).await;
    let saas = Saas::configured(&stack);
    saas.login(&fixture.admin.email, &format!("{}\n", fixture.admin.password)).ok();

    // Make the stored access token look expired.
    let mut session = saas.session();
    let before = session.clone();
    session["tokens"]["expires_at"] = "2001-01-01T00:00:00Z".into();
    std::fs::write(saas.session_path(), serde_json::to_vec(&session).expect("json")).expect("write");
    assert_eq!(saas.session_mode(), 0o600);

    let me: User = saas.run(&["-o", "json", "whoami"]).ok().json();
    assert_eq!(me.email, fixture.admin.email);
    let after = saas.session();
    let expires_at = OffsetDateTime::parse(
        after["tokens"]["expires_at"].as_str().expect("expires_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("rfc 3339");
    assert!(expires_at > OffsetDateTime::now_utc() + time::Duration::minutes(5), "refreshed and stored: {expires_at}");
    assert_eq!(after["tokens"]["refresh_token"], before["tokens"]["refresh_token"]);
    assert_eq!(after["username"], before["username"]);
    assert_eq!(saas.session_mode(), 0o600, "still 0600 after the refresh was stored");
    // The next run needs no refresh: the file is left as it is.
    saas.run(&["whoami"]).ok();
    assert_eq!(saas.session(), after);

    // A session that can no longer be refreshed: sign in again (3).
    let mut broken = after.clone();
    broken["tokens"]["expires_at"] = "2001-01-01T00:00:00Z".into();
    broken["tokens"]["refresh_token"] = "not-a-refresh-token".into();
    std::fs::write(saas.session_path(), serde_json::to_vec(&broken).expect("json")).expect("write");
    saas.run(&["whoami"])
        .code(3)
        .stderr_has("error: the session has ended")
        .stderr_has("hint: your session has ended")
        .stderr_has("login");
}

/// The word after `lead` in a message body (the temporary password or the code).
fn secret_after(body: &str, lead: &str) -> String {
    body.split(lead)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|word| word.trim_end_matches('.').to_owned())
        .unwrap_or_else(|| panic!("no {lead:?} in {body:?}"))
}

/// The messages the local mailbox holds for `to`, oldest first.
fn mailbox(saas: &Saas, to: &str) -> Vec<MailMessage> {
    saas.run(&["-o", "json", "mailbox", "--to", to]).ok().json()
}

#[tokio::test]
#[ignore = "needs the local stack and gateway (LOCAL_GATEWAY_URL, AWS_ENDPOINT_URL): make test"]
async fn invitations_and_password_recovery_work_through_the_local_mailbox() {
    let stack = Stack::from_env_or_panic().await;
    let fixture = stack.tenant("Cli Mailbox", TenantTier::Pro).await;
    let admin = Saas::configured(&stack);
    admin.login(&fixture.admin.email, &format!("{}\n", fixture.admin.password)).ok();
    let member_email = format!("invitee@{}.example.com", fixture.tenant.slug);

    // An invitation without a password: Cognito's email, in the local mailbox.
    let invited: User = admin
        .run(&["-o", "json", "users", "invite", "--email", &member_email])
        .ok()
        .stderr_has("Cognito emails the invitation")
        .json();
    assert_eq!(invited.status, MembershipStatus::Invited);
    let id = invited.user_id.to_string();
    let messages = mailbox(&admin, &member_email);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!((messages[0].kind.as_str(), messages[0].to.as_str()), ("invitation", member_email.as_str()));
    assert!(messages[0].body.contains(&member_email), "the username: {}", messages[0].body);
    let first_temporary = secret_after(&messages[0].body, "temporary password is ");

    // Resend: a new temporary password; the first one no longer works.
    let resent: User =
        admin.run(&["-o", "json", "users", "resend-invitation", &id]).ok().stderr_has("sent again").json();
    assert_eq!(resent.status, MembershipStatus::Invited);
    let messages = mailbox(&admin, &member_email);
    assert_eq!(messages.len(), 2);
    let temporary = secret_after(&messages[1].body, "temporary password is ");
    assert_ne!(temporary, first_temporary);
    let member = Saas::configured(&stack);
    let chosen = e2e::strong_password();
    member
        .login(&member_email, &format!("{first_temporary}\n{chosen}\n"))
        .code(3)
        .stderr_has("incorrect email address or password");
    // Before the first sign-in there is no password to reset.
    admin.run(&["users", "reset-password", &id]).code(6).stderr_has("resend the invitation");

    // The first sign-in: a new password, and the member is active.
    member.login(&member_email, &format!("{temporary}\n{chosen}\n")).ok().stderr_has("first sign-in");
    let active: User = admin.run(&["-o", "json", "users", "show", &id]).ok().json();
    assert_eq!(active.status, MembershipStatus::Active);
    let me: User = member.run(&["-o", "json", "whoami"]).ok().json();
    assert_eq!(me.status, MembershipStatus::Active);
    admin.run(&["users", "resend-invitation", &id]).code(6).stderr_has("only resent before the first sign-in");

    // Forgot-password: a code by email; a wrong code is refused in words.
    let anyone = Saas::configured(&stack);
    anyone
        .run(&["password", "forgot", "--email", &member_email.to_uppercase()])
        .ok()
        .stderr_has("a code is on its way");
    let messages = mailbox(&admin, &member_email);
    let reset = messages.last().expect("a message");
    assert_eq!(reset.kind, "password_reset_code");
    let code = secret_after(&reset.body, "code is ");
    assert_eq!(code.len(), 6, "{code}");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let recovered = e2e::strong_password();
    let reset_password = |code: &str, password: &str| {
        anyone.run_with_stdin(
            &["password", "reset", "--email", &member_email, "--code", code, "--password-stdin"],
            &format!("{password}\n"),
        )
    };
    reset_password(wrong, &recovered).code(3).stderr_has("the code is not the one sent");
    reset_password(&code, &recovered).ok().stderr_has("password changed");
    member.login(&member_email, &format!("{chosen}\n")).code(3);
    member.login(&member_email, &format!("{recovered}\n")).ok();
    // A used code is spent.
    reset_password(&code, &e2e::strong_password()).code(3).stderr_has("ask for a new one");

    // An admin's reset: the old password stops working until a new one is set
    // with the emailed code.
    admin.run(&["users", "reset-password", &id]).ok().stderr_has("password was reset");
    member
        .login(&member_email, &format!("{recovered}\n"))
        .code(3)
        .stderr_has("a password reset is required")
        .stderr_has("saas password reset");
    let code = secret_after(&mailbox(&admin, &member_email).last().expect("a message").body, "code is ");
    let after_reset = e2e::strong_password();
    member
        .run_with_stdin(
            &["password", "reset", "--email", &member_email, "--code", &code, "--password-stdin"],
            &format!("{after_reset}\n"),
        )
        .ok();
    member.login(&member_email, &format!("{after_reset}\n")).ok();

    // The mailbox is the local stack's only, and its operator's.
    let aws_profile = Saas::new();
    aws_profile.run(&["configure", "--endpoint", &stack.settings.gateway, "--client-id", "c"]).ok();
    aws_profile.run(&["mailbox"]).code(2).stderr_has("exists on the local stack only");
}
