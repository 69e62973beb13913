//! The command line (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use notes_client::NoteId;
use tenants_client::{TenantId, TenantTier};
use time::OffsetDateTime;
use users_client::{TenantRole, UserId};

use crate::output::Format;

const ABOUT: &str = "Command-line tool of the multi-tenant SaaS platform: register a tenant, sign in, \
manage notes, users, the tenant, and (platform admins) every tenant.";

const PASSWORDS: &str = "Passwords are never taken as flag values (they would show in `ps` and shell \
history): `--password-stdin` reads them from standard input, one per line; otherwise SAAS_PASSWORD \
(and SAAS_NEW_PASSWORD for the first sign-in of an invited user) are used, else they are prompted for \
on the terminal.";

#[derive(Debug, Parser)]
#[command(name = "saas", version, about = ABOUT, long_about = None)]
pub struct Cli {
    /// The profile: which endpoint and user pool, and whose session.
    #[arg(long, global = true, env = "SAAS_PROFILE", default_value = "default")]
    pub profile: String,

    /// The API's base URL, over the profile's.
    #[arg(long, global = true, env = "SAAS_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,

    /// How results are printed on stdout (messages always go to stderr).
    #[arg(long, short = 'o', global = true, env = "SAAS_OUTPUT", value_enum, default_value_t = Format::Table)]
    pub output: Format,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Writes a profile: `--endpoint` (the API), Cognito endpoint, region, app
    /// client id. Only the settings given change.
    Configure(ConfigureArgs),
    /// Registers a new tenant and its first admin (no sign-in needed).
    #[command(after_help = PASSWORDS)]
    Register(RegisterArgs),
    /// Signs in and stores the tokens (mode 0600) for the profile.
    #[command(after_help = PASSWORDS)]
    Login(LoginArgs),
    /// Forgets the profile's stored tokens.
    Logout,
    /// A forgotten or reset password: a code by email, then a new password
    /// with it (no sign-in needed).
    #[command(subcommand)]
    Password(PasswordCommand),
    /// Local stack only: the invitations and codes Cognito would have emailed.
    Mailbox(MailboxArgs),
    #[command(flatten)]
    SignedIn(SignedInCommand),
    /// Prints a shell completion script (e.g. `saas completion bash > ~/.local/share/bash-completion/completions/saas`).
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The commands that run with the profile's stored session.
#[derive(Debug, Subcommand)]
pub enum SignedInCommand {
    /// Shows the signed-in member (GET /users/me).
    Whoami,
    /// The notes of your tenant.
    #[command(subcommand)]
    Notes(NotesCommand),
    /// The members of your tenant (changes need the `admin` role).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Your tenant.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Your tenant's audit trail, newest first (admins): who changed what, when.
    Audit(AuditArgs),
    /// Platform administration (platform admins only).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub list: ListArgs,
    /// Only this user's entries (a user id).
    #[arg(long)]
    pub actor: Option<UserId>,
    /// Only this route, e.g. "PUT /users/{user_id}/role".
    #[arg(long)]
    pub action: Option<String>,
    /// Entries at or after this time (RFC 3339, e.g. 2026-01-31T12:00:00Z).
    #[arg(long, value_parser = rfc3339)]
    pub from: Option<OffsetDateTime>,
    /// Entries at or before this time (RFC 3339).
    #[arg(long, value_parser = rfc3339)]
    pub to: Option<OffsetDateTime>,
}

fn rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| "an RFC 3339 time, e.g. 2026-01-31T12:00:00Z".to_owned())
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    // The API's base URL is the global `--endpoint` (e.g. http://127.0.0.1:4000,
    // or the HTTP API's URL on AWS).
    /// The Cognito endpoint: the local stack's is <gateway>/cognito; leave unset on AWS.
    #[arg(long, value_name = "URL")]
    pub cognito_endpoint: Option<String>,
    /// Forget the Cognito endpoint (use Cognito on AWS).
    #[arg(long, conflicts_with = "cognito_endpoint")]
    pub aws_cognito: bool,
    /// The user pool's region (default us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// The user pool's app client id.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Local stack only: the gateway's operator secret file, which `saas
    /// mailbox` needs (`make cli-config` sets it).
    #[arg(long, value_name = "PATH")]
    pub local_operator_secret_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PasswordCommand {
    /// Emails you a code to choose a new password (Cognito's ForgotPassword).
    Forgot {
        /// Your email address.
        #[arg(long, env = "SAAS_EMAIL")]
        email: String,
    },
    /// Sets a new password with the emailed code; then sign in with it.
    #[command(after_help = PASSWORDS)]
    Reset {
        /// Your email address.
        #[arg(long, env = "SAAS_EMAIL")]
        email: String,
        /// The code from the email.
        #[arg(long)]
        code: String,
        /// Read the new password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct MailboxArgs {
    /// Only the messages to this address.
    #[arg(long)]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The tenant's display name.
    #[arg(long)]
    pub name: String,
    /// Unique short name: 3–40 of a-z, 0-9 and '-'.
    #[arg(long)]
    pub slug: String,
    #[arg(long, value_enum, default_value_t = TierArg::Free)]
    pub tier: TierArg,
    /// The first admin's email address (the username to sign in with).
    #[arg(long)]
    pub admin_email: String,
    /// Read the admin's password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Your email address.
    #[arg(long, env = "SAAS_EMAIL")]
    pub email: String,
    /// Read the password from the first line of stdin and, when Cognito asks
    /// for a new one (first sign-in of an invited user), the new password
    /// from the second.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum NotesCommand {
    /// Lists notes, newest first, following the pages.
    List(ListArgs),
    /// Adds a note.
    Add {
        #[arg(long)]
        title: String,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Shows a note.
    Show { id: NoteId },
    /// Changes a note's title and/or body. With --version the write succeeds
    /// only over that version (exit code 6 when the note has moved on);
    /// without it the note is read and written back over the version read.
    Edit {
        id: NoteId,
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        body: BodyArgs,
        /// The version you read (see `notes show`).
        #[arg(long)]
        version: Option<u64>,
    },
    /// Deletes a note.
    Delete { id: NoteId },
}

#[derive(Debug, Args)]
pub struct BodyArgs {
    /// The note's body.
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Read the body from a file (`-`: stdin).
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show at most this many (default: all).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Lists the members.
    List(ListArgs),
    /// Invites a member. With --password-stdin the first line of stdin is a
    /// temporary password to hand over (changed at first sign-in); without
    /// it Cognito emails an invitation.
    Invite {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Member)]
        role: RoleArg,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Shows a member.
    Show { id: UserId },
    /// Changes a member's role.
    Role {
        id: UserId,
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// Disables a member: they can no longer sign in.
    Disable { id: UserId },
    /// Enables a disabled member.
    Enable { id: UserId },
    /// Emails the invitation again with a new temporary password (only
    /// before the member's first sign-in).
    ResendInvitation { id: UserId },
    /// Resets a member's password: its sessions end and it is emailed a code
    /// to choose a new one (`saas password reset`).
    ResetPassword { id: UserId },
    /// Removes a member.
    Remove { id: UserId },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Shows your tenant.
    Show,
    /// Renames your tenant (admins). With --version the write succeeds only
    /// over that version; without it, over the version just read.
    Update {
        #[arg(long)]
        name: String,
        #[arg(long)]
        version: Option<u64>,
    },
    /// Closes your tenant (admins): nobody of it can sign in any more, and
    /// its data is erased after the platform's grace period. Export first.
    Close {
        /// Confirms the closure (without it nothing is sent).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Every tenant.
    #[command(subcommand)]
    Tenants(AdminTenantsCommand),
    /// Unfinished registrations.
    #[command(subcommand)]
    Registrations(AdminRegistrationsCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminRegistrationsCommand {
    /// Removes the unfinished registration holding SLUG now (it would expire
    /// by itself): its first admin goes, slug and email are free again.
    Remove { slug: String },
}

#[derive(Debug, Subcommand)]
pub enum AdminTenantsCommand {
    /// Lists every tenant.
    List(ListArgs),
    /// Suspends a tenant: nobody of it can sign in.
    Suspend { id: TenantId },
    /// Reactivates a suspended tenant, or takes back a closure whose
    /// erasure has not begun.
    Reactivate { id: TenantId },
    /// Offboards a tenant now: erases all of its data in every service and
    /// prints the erasure receipt. Safe to repeat.
    Offboard {
        id: TenantId,
        /// Confirms the offboarding (without it nothing is sent).
        #[arg(long)]
        yes: bool,
    },
    /// Changes a tenant's tier.
    Tier {
        id: TenantId,
        #[arg(value_enum)]
        tier: TierArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Admin,
    Member,
}

impl From<RoleArg> for TenantRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => TenantRole::Admin,
            RoleArg::Member => TenantRole::Member,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TierArg {
    Free,
    Pro,
    Enterprise,
}

impl From<TierArg> for TenantTier {
    fn from(tier: TierArg) -> Self {
        match tier {
            TierArg::Free => TenantTier::Free,
            TierArg::Pro => TenantTier::Pro,
            TierArg::Enterprise => TenantTier::Enterprise,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn ids_and_enums_are_checked_by_the_parser() {
        let parse = |args: &[&str]| Cli::try_parse_from(std::iter::once("saas").chain(args.iter().copied()));
        assert!(parse(&["notes", "show", "not-a-uuid"]).is_err());
        assert!(parse(&["users", "role", &UserId::generate().to_string(), "owner"]).is_err());
        let cli = parse(&["-o", "json", "admin", "tenants", "tier", &TenantId::generate().to_string(), "pro"])
            .expect("valid");
        assert_eq!(cli.output, Format::Json);
        assert!(matches!(
            cli.command,
            Command::SignedIn(SignedInCommand::Admin(AdminCommand::Tenants(AdminTenantsCommand::Tier {
                tier: TierArg::Pro,
                ..
            })))
        ));
        assert!(parse(&["notes", "list", "--limit", "0"]).is_err());
        let error = parse(&["notes", "frobnicate"]).expect_err("unknown subcommand");
        assert_eq!(error.exit_code(), 2);
    }
}
