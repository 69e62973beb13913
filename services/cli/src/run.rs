//! Runs one parsed command with the service clients; returns what goes to
//! stdout. Messages for people go to stderr.

use std::io::{self, BufRead as _, Read as _};
use std::sync::Arc;

use clap::CommandFactory as _;
use futures_util::{StreamExt as _, TryStreamExt as _};
use notes_client::{CreateNote, Note, NotesClient, UpdateNote};
use saas_client::{ApiClient, ClientConfig, Cognito, CognitoSession, LocalMailbox, MailMessage, SignIn, TokenSource};
use tenants_client::{
    AuditEntry, AuditFilter, ErasureReceipt, RegisterTenant, Slug, Tenant, TenantId, TenantStatus, TenantsClient,
    UpdateTenant,
};
use time::format_description::well_known::Rfc3339;
use users_client::{InviteUser, User, UsersClient, normalize_email};

use crate::CliError;
use crate::cli::{
    AdminCommand, AdminRegistrationsCommand, AdminTenantsCommand, BodyArgs, Cli, Command, ConfigureArgs, ListArgs,
    LoginArgs, MailboxArgs, NotesCommand, PasswordCommand, RegisterArgs, SignedInCommand, TenantCommand, UsersCommand,
};
use crate::config::{ConfigDir, Profile, StoredSession};
use crate::output::{self, Format};

/// The password when `--password-stdin` is not given.
pub const PASSWORD_ENV: &str = "SAAS_PASSWORD";
/// The new password asked for at an invited user's first sign-in.
pub const NEW_PASSWORD_ENV: &str = "SAAS_NEW_PASSWORD";

/// Largest page the list routes serve.
const MAX_PAGE_SIZE: usize = 100;

/// What a command needs to know about where it runs.
#[derive(Debug)]
struct Context {
    dir: ConfigDir,
    profile_name: String,
    profile: Profile,
    endpoint_override: Option<String>,
    format: Format,
}

impl Context {
    fn endpoint(&self) -> Result<ClientConfig, CliError> {
        let endpoint = self.profile.endpoint(&self.profile_name, self.endpoint_override.as_deref())?;
        Ok(ClientConfig::new(&endpoint)?)
    }
}

/// Runs `cli`; `Some(text)` is printed on stdout.
pub async fn run(cli: Cli) -> Result<Option<String>, CliError> {
    // Only completion runs without the config dir.
    let context = || -> Result<Context, CliError> {
        let dir = ConfigDir::locate()?;
        Ok(Context {
            profile: dir.profile(&cli.profile)?,
            dir,
            profile_name: cli.profile,
            endpoint_override: cli.endpoint,
            format: cli.output,
        })
    };
    match cli.command {
        Command::Completion { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "saas", &mut script);
            Ok(Some(String::from_utf8_lossy(&script).into_owned()))
        }
        Command::Configure(args) => configure(&context()?, args).map(|()| None),
        Command::Register(args) => register(&context()?, args).await.map(Some),
        Command::Login(args) => login(&context()?, args).await.map(|()| None),
        Command::Logout => logout(&context()?).await.map(|()| None),
        Command::Password(command) => password(&context()?, command).await.map(|()| None),
        Command::Mailbox(args) => mailbox(&context()?, args).await.map(Some),
        Command::SignedIn(command) => {
            let context = context()?;
            let signed = SignedIn::load(&context)?;
            let result = signed_in(&context, &signed.api, command).await;
            signed.persist(&context).await;
            result.map(Some)
        }
    }
}

fn configure(context: &Context, args: ConfigureArgs) -> Result<(), CliError> {
    let ConfigureArgs { cognito_endpoint, aws_cognito, region, client_id, local_operator_secret_file } = args;
    if let Some(endpoint) = &context.endpoint_override {
        ClientConfig::new(endpoint)?;
    }
    if let Some(endpoint) = &cognito_endpoint {
        ClientConfig::new(endpoint)?;
    }
    let mut config = context.dir.load_config()?;
    let profile = config.profiles.entry(context.profile_name.clone()).or_default();
    profile.merge(Profile {
        endpoint: context.endpoint_override.clone(),
        cognito_endpoint,
        region,
        client_id,
        local_operator_secret_file,
    });
    if aws_cognito {
        profile.cognito_endpoint = None;
    }
    context.dir.save_config(&config)?;
    eprintln!("profile {} written to {}", context.profile_name, context.dir.config_path().display());
    Ok(())
}

/// Registers a tenant. The request's idempotency key is kept on disk until
/// the registration finishes or is refused for good, so running the same
/// command again after an outage resumes it (and only this machine can).
async fn register(context: &Context, args: RegisterArgs) -> Result<String, CliError> {
    let slug = Slug::parse(&args.slug).map_err(|e| CliError::Usage(e.to_string()))?;
    let admin_email = normalize_email(&args.admin_email).map_err(|e| CliError::Usage(e.to_string()))?;
    let mut secrets = Secrets::new(args.password_stdin);
    let password = secrets.password(PASSWORD_ENV, "Password for the tenant's admin: ", true)?;
    let tenants = TenantsClient::new(ApiClient::anonymous(&context.endpoint()?)?);
    let key = context.dir.registration_key(&context.profile_name, &slug)?;
    let registration = RegisterTenant {
        name: args.name,
        slug: slug.to_string(),
        tier: args.tier.into(),
        admin_email: admin_email.clone(),
        admin_password: password.into(),
    };
    let registered = match tenants.register_with_key(&registration, &key).await {
        Ok(registered) => registered,
        Err(error) if error.is_transient() => {
            eprintln!(
                "the registration did not finish; run the same command again to resume it \
                 (its idempotency key is kept in {})",
                context.dir.registration_key_path(&context.profile_name, &slug).display()
            );
            return Err(error.into());
        }
        Err(error) => {
            context.dir.forget_registration_key(&context.profile_name, &slug)?;
            return Err(error.into());
        }
    };
    context.dir.forget_registration_key(&context.profile_name, &slug)?;
    eprintln!(
        "registered tenant {} ({}); sign in with `saas --profile {} login --email {}`",
        registered.tenant.slug, registered.tenant.tenant_id, context.profile_name, admin_email
    );
    output::one(context.format, &registered)
}

async fn login(context: &Context, args: LoginArgs) -> Result<(), CliError> {
    let cognito = Cognito::new(&context.profile.cognito(&context.profile_name)?);
    let mut secrets = Secrets::new(args.password_stdin);
    let email = normalize_email(&args.email).map_err(|e| CliError::Usage(e.to_string()))?;
    let password = secrets.password(PASSWORD_ENV, "Password: ", false)?;
    let tokens = match cognito.sign_in(&email, &password).await? {
        SignIn::Tokens(tokens) => tokens,
        SignIn::NewPasswordRequired(challenge) => {
            eprintln!("this is your first sign-in: choose a new password");
            let new_password = secrets.password(NEW_PASSWORD_ENV, "New password: ", true)?;
            cognito.set_new_password(challenge, &new_password).await?
        }
    };
    context.dir.save_session(&context.profile_name, &StoredSession { username: email.clone(), tokens })?;
    eprintln!(
        "signed in as {} (profile {}; session stored in {})",
        email,
        context.profile_name,
        context.dir.session_path(&context.profile_name).display()
    );
    Ok(())
}

/// Forgot-password (a code by email) and its confirmation (a new password
/// with the code): public Cognito calls, no session needed.
async fn password(context: &Context, command: PasswordCommand) -> Result<(), CliError> {
    let cognito = Cognito::new(&context.profile.cognito(&context.profile_name)?);
    let profile = &context.profile_name;
    match command {
        PasswordCommand::Forgot { email } => {
            let email = normalize_email(&email).map_err(|e| CliError::Usage(e.to_string()))?;
            cognito.forgot_password(&email).await?;
            eprintln!(
                "if {email} has an account, a code is on its way by email; choose a new password with \
                 `saas --profile {profile} password reset --email {email} --code <code>`"
            );
        }
        PasswordCommand::Reset { email, code, password_stdin } => {
            let email = normalize_email(&email).map_err(|e| CliError::Usage(e.to_string()))?;
            let new_password = Secrets::new(password_stdin).password(NEW_PASSWORD_ENV, "New password: ", true)?;
            cognito.confirm_forgot_password(&email, &code, &new_password).await?;
            eprintln!("password changed; sign in with `saas --profile {profile} login --email {email}`");
        }
    }
    Ok(())
}

/// The local stack's mailbox, read with the gateway's operator secret.
async fn mailbox(context: &Context, args: MailboxArgs) -> Result<String, CliError> {
    let path = context.profile.local_operator_secret_file.as_ref().ok_or_else(|| {
        CliError::Usage(format!(
            "profile {} has no local mailbox: it exists on the local stack only (`make cli-config` \
             configures it); on AWS, Cognito sends real email",
            context.profile_name
        ))
    })?;
    let secret = std::fs::read_to_string(path).map_err(|e| {
        CliError::Io(format!(
            "the local gateway's operator secret {}: {e} (is the local stack running?)",
            path.display()
        ))
    })?;
    let to = match args.to {
        Some(to) => Some(normalize_email(&to).map_err(|e| CliError::Usage(e.to_string()))?),
        None => None,
    };
    let messages: Vec<MailMessage> =
        LocalMailbox::new(&context.endpoint()?, secret.trim())?.messages(to.as_deref()).await?;
    eprintln!("{} message(s)", messages.len());
    output::list(context.format, &messages)
}

/// Revokes the session's refresh token with Cognito, then removes the
/// session file. The file goes even when the revocation fails (the error is
/// reported and the exit code says so): the machine is signed out either way.
async fn logout(context: &Context) -> Result<(), CliError> {
    // A session file that cannot be read has no token to revoke; it is removed.
    let stored = context.dir.load_session(&context.profile_name).ok().flatten();
    let refresh_token = stored.and_then(|session| session.tokens.refresh_token);
    let revoked = match &refresh_token {
        Some(token) => {
            let cognito = Cognito::new(&context.profile.cognito(&context.profile_name)?);
            Some(cognito.revoke(token).await)
        }
        None => None,
    };
    if !context.dir.remove_session(&context.profile_name)? {
        eprintln!("not signed in (profile {})", context.profile_name);
        return Ok(());
    }
    match revoked {
        Some(Err(error)) => {
            eprintln!(
                "signed out on this machine (profile {}), but the refresh token could not be revoked; \
                 it stays valid until it expires",
                context.profile_name
            );
            Err(CliError::Api(error))
        }
        Some(Ok(())) => {
            eprintln!("signed out (profile {}); the session was revoked", context.profile_name);
            Ok(())
        }
        None => {
            eprintln!("signed out (profile {})", context.profile_name);
            Ok(())
        }
    }
}

/// A stored session, refreshed as needed while the command runs.
struct SignedIn {
    stored: StoredSession,
    session: Arc<CognitoSession>,
    api: ApiClient,
}

impl SignedIn {
    fn load(context: &Context) -> Result<Self, CliError> {
        let stored = context
            .dir
            .load_session(&context.profile_name)?
            .ok_or_else(|| CliError::NotSignedIn { profile: context.profile_name.clone() })?;
        let cognito = Cognito::new(&context.profile.cognito(&context.profile_name)?);
        let session = Arc::new(CognitoSession::new(cognito, stored.tokens.clone()));
        let tokens: Arc<dyn TokenSource> = session.clone();
        let api = ApiClient::new(&context.endpoint()?, tokens)?;
        Ok(Self { stored, session, api })
    }

    /// Stores the tokens again if the session refreshed them.
    async fn persist(&self, context: &Context) {
        let tokens = self.session.tokens().await;
        if tokens == self.stored.tokens {
            return;
        }
        let session = StoredSession { username: self.stored.username.clone(), tokens };
        if let Err(error) = context.dir.save_session(&context.profile_name, &session) {
            eprintln!("warning: the refreshed session could not be stored: {error}");
        }
    }
}

async fn signed_in(context: &Context, api: &ApiClient, command: SignedInCommand) -> Result<String, CliError> {
    let format = context.format;
    let api = api.clone();
    match command {
        SignedInCommand::Whoami => output::one(format, &UsersClient::new(api).me().await?),
        SignedInCommand::Notes(command) => notes(format, NotesClient::new(api), command).await,
        SignedInCommand::Users(command) => users(format, UsersClient::new(api), command).await,
        SignedInCommand::Tenant(command) => tenant(format, TenantsClient::new(api), command).await,
        SignedInCommand::Audit(args) => {
            let tenants = TenantsClient::new(api);
            let filter = AuditFilter { actor: args.actor, action: args.action, from: args.from, to: args.to };
            let entries: Vec<AuditEntry> =
                collect(tenants.audit(&filter, page_size(&args.list)), args.list.limit).await?;
            eprintln!("{} entr{}", entries.len(), if entries.len() == 1 { "y" } else { "ies" });
            output::list(format, &entries)
        }
        SignedInCommand::Admin(AdminCommand::Tenants(command)) => {
            admin_tenants(format, TenantsClient::new(api), command).await
        }
        SignedInCommand::Admin(AdminCommand::Registrations(AdminRegistrationsCommand::Remove { slug })) => {
            let slug = Slug::parse(&slug).map_err(|e| CliError::Usage(e.to_string()))?;
            let removal = TenantsClient::new(api).remove_registration(&slug).await?;
            if removal.removed {
                eprintln!("the unfinished registration of {slug} was removed: slug and email are free");
            } else {
                eprintln!("no unfinished registration holds {slug}: nothing to remove");
            }
            output::one(format, &removal)
        }
    }
}

/// Every item of a list, or the first `limit`.
async fn collect<T, S>(items: S, limit: Option<u64>) -> Result<Vec<T>, CliError>
where
    S: futures_util::Stream<Item = Result<T, saas_client::Error>>,
{
    let items = match limit {
        Some(limit) => items.take(usize::try_from(limit).unwrap_or(usize::MAX)).try_collect().await?,
        None => items.try_collect().await?,
    };
    Ok(items)
}

fn page_size(args: &ListArgs) -> Option<usize> {
    let size = args.limit.map_or(MAX_PAGE_SIZE, |limit| usize::try_from(limit).unwrap_or(MAX_PAGE_SIZE));
    Some(size.clamp(1, MAX_PAGE_SIZE))
}

async fn notes(format: Format, notes: NotesClient, command: NotesCommand) -> Result<String, CliError> {
    match command {
        NotesCommand::List(args) => {
            let items: Vec<Note> = collect(notes.list(page_size(&args)), args.limit).await?;
            eprintln!("{} note(s)", items.len());
            output::list(format, &items)
        }
        NotesCommand::Add { title, body } => {
            let body = read_body(body)?.unwrap_or_default();
            let note = notes.create(&CreateNote { title, body }).await?;
            eprintln!("note {} added (version {})", note.id, note.version);
            output::one(format, &note)
        }
        NotesCommand::Show { id } => output::one(format, &notes.get(id).await?),
        NotesCommand::Edit { id, title, body, version } => {
            let body = read_body(body)?;
            if title.is_none() && body.is_none() {
                return Err(CliError::Usage(
                    "nothing to change: give --title and/or --body (or --body-file)".to_owned(),
                ));
            }
            let note = match version {
                Some(version) => {
                    let (title, body) = match (title, body) {
                        (Some(title), Some(body)) => (title, body),
                        (title, body) => {
                            let current = notes.get(id).await?;
                            (title.unwrap_or(current.title), body.unwrap_or(current.body))
                        }
                    };
                    notes.update(id, &UpdateNote { title, body, version }).await?
                }
                None => {
                    notes
                        .modify(id, |current| {
                            (
                                title.clone().unwrap_or_else(|| current.title.clone()),
                                body.clone().unwrap_or_else(|| current.body.clone()),
                            )
                        })
                        .await?
                }
            };
            eprintln!("note {} updated (version {})", note.id, note.version);
            output::one(format, &note)
        }
        NotesCommand::Delete { id } => {
            notes.delete(id).await?;
            eprintln!("note {id} deleted");
            Ok(String::new())
        }
    }
}

async fn users(format: Format, users: UsersClient, command: UsersCommand) -> Result<String, CliError> {
    let user = match command {
        UsersCommand::List(args) => {
            let items: Vec<User> = collect(users.list(page_size(&args)), args.limit).await?;
            eprintln!("{} member(s)", items.len());
            return output::list(format, &items);
        }
        UsersCommand::Invite { email, role, password_stdin } => {
            let temporary_password =
                if password_stdin { Some(Secrets::new(true).password(PASSWORD_ENV, "", false)?) } else { None };
            let handed_over = temporary_password.is_some();
            let user = users
                .invite(&InviteUser {
                    email,
                    role: role.into(),
                    temporary_password: temporary_password.map(Into::into),
                })
                .await?;
            if handed_over {
                eprintln!(
                    "invited {} ({}): they sign in with `saas login --email {}` and the temporary password, \
                     then choose a new one",
                    user.email, user.user_id, user.email
                );
            } else {
                eprintln!("invited {} ({}): Cognito emails the invitation", user.email, user.user_id);
            }
            user
        }
        UsersCommand::Show { id } => users.get(id).await?,
        UsersCommand::Role { id, role } => {
            let user = users.change_role(id, role.into()).await?;
            eprintln!("{} is now {}", user.email, user.role);
            user
        }
        UsersCommand::Disable { id } => {
            let user = users.disable(id).await?;
            eprintln!("{} disabled", user.email);
            user
        }
        UsersCommand::Enable { id } => {
            let user = users.enable(id).await?;
            eprintln!("{} enabled", user.email);
            user
        }
        UsersCommand::ResendInvitation { id } => {
            let user = users.resend_invitation(id).await?;
            eprintln!("invitation to {} sent again, with a new temporary password", user.email);
            user
        }
        UsersCommand::ResetPassword { id } => {
            let user = users.reset_password(id).await?;
            eprintln!(
                "{}'s password was reset and their sessions ended; they choose a new one with the emailed code \
                 (`saas password reset`)",
                user.email
            );
            user
        }
        UsersCommand::Remove { id } => {
            users.remove(id).await?;
            eprintln!("user {id} removed");
            return Ok(String::new());
        }
    };
    output::one(format, &user)
}

async fn tenant(format: Format, tenants: TenantsClient, command: TenantCommand) -> Result<String, CliError> {
    let tenant = match command {
        TenantCommand::Close { yes } => {
            confirm(yes, "closing the tenant erases all of its data")?;
            let tenant = tenants.close().await?;
            let erase_after = tenant.offboarding.and_then(|o| o.erase_after.format(&Rfc3339).ok()).unwrap_or_default();
            eprintln!("tenant {} is closing: nobody can sign in; its data is erased after {erase_after}", tenant.slug);
            tenant
        }
        TenantCommand::Show => tenants.current().await?,
        TenantCommand::Update { name, version } => {
            let tenant = match version {
                Some(version) => tenants.update(&UpdateTenant { name, version }).await?,
                None => {
                    let read = tenants.current().await?;
                    tenants.rename(&read, name).await?
                }
            };
            eprintln!("tenant renamed to {} (version {})", tenant.name, tenant.version);
            tenant
        }
    };
    output::one(format, &tenant)
}

async fn admin_tenants(
    format: Format,
    tenants: TenantsClient,
    command: AdminTenantsCommand,
) -> Result<String, CliError> {
    let tenant = match command {
        AdminTenantsCommand::List(args) => {
            let items: Vec<Tenant> = collect(tenants.list(page_size(&args)), args.limit).await?;
            eprintln!("{} tenant(s)", items.len());
            return output::list(format, &items);
        }
        AdminTenantsCommand::Suspend { id } => tenants.suspend(id).await?,
        AdminTenantsCommand::Reactivate { id } => tenants.reactivate(id).await?,
        AdminTenantsCommand::Offboard { id, yes } => {
            confirm(yes, "offboarding erases all of the tenant's data")?;
            let receipt = offboard(&tenants, id).await?;
            eprintln!("tenant {id} is offboarded: its data is erased");
            return output::one(format, &receipt);
        }
        AdminTenantsCommand::Tier { id, tier } => tenants.change_tier(id, tier.into()).await?,
    };
    eprintln!("tenant {} is {} on the {} tier", tenant.slug, tenant.status, tenant.tier);
    output::one(format, &tenant)
}

/// Offboards `id`, request after request until nothing of it is left (the
/// erasure settles first, then each request erases for as long as it may).
async fn offboard(tenants: &TenantsClient, id: TenantId) -> Result<ErasureReceipt, CliError> {
    const MAX_REQUESTS: usize = 120;
    for _ in 0..MAX_REQUESTS {
        let receipt = tenants.offboard(id).await?;
        if receipt.status == TenantStatus::Offboarded {
            return Ok(receipt);
        }
        match receipt.started_at {
            None => eprintln!("tenant {id} is offboarding; its erasure begins once its last requests have ended..."),
            Some(_) => eprintln!("erasing tenant {id}..."),
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    Err(CliError::Io(format!("tenant {id} is still being erased; run the command again to go on")))
}

/// Refuses a destructive command the user did not confirm with `--yes`.
fn confirm(yes: bool, what: &str) -> Result<(), CliError> {
    if yes { Ok(()) } else { Err(CliError::Usage(format!("{what}; add --yes to confirm"))) }
}

fn read_body(args: BodyArgs) -> Result<Option<String>, CliError> {
    match (args.body, args.body_file) {
        (Some(body), _) => Ok(Some(body)),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut body = String::new();
            io::stdin()
                .read_to_string(&mut body)
                .map_err(|e| CliError::Io(format!("reading the body from stdin: {e}")))?;
            Ok(Some(body))
        }
        (None, Some(path)) => {
            std::fs::read_to_string(&path).map(Some).map_err(|e| CliError::Io(format!("{}: {e}", path.display())))
        }
        (None, None) => Ok(None),
    }
}

/// Where passwords come from: lines of stdin (`--password-stdin`), an
/// environment variable, or a prompt on the terminal. Never a flag value.
struct Secrets {
    stdin: Option<io::Lines<io::StdinLock<'static>>>,
}

impl Secrets {
    fn new(from_stdin: bool) -> Self {
        Self { stdin: from_stdin.then(|| io::stdin().lock().lines()) }
    }

    /// The next password. A prompted new password is asked for twice.
    fn password(&mut self, env: &str, prompt: &str, confirm: bool) -> Result<String, CliError> {
        let password = match &mut self.stdin {
            Some(lines) => match lines.next() {
                Some(Ok(line)) => line.trim_end_matches(['\r', '\n']).to_owned(),
                Some(Err(e)) => return Err(CliError::Io(format!("reading a password from stdin: {e}"))),
                None => {
                    return Err(CliError::Usage(
                        "--password-stdin: stdin ended before the password was read (one password per line)".to_owned(),
                    ));
                }
            },
            None => match std::env::var(env).ok().filter(|v| !v.is_empty()) {
                Some(password) => password,
                None => prompt_password(env, prompt, confirm)?,
            },
        };
        if password.is_empty() {
            return Err(CliError::Usage("the password is empty".to_owned()));
        }
        Ok(password)
    }
}

fn prompt_password(env: &str, prompt: &str, confirm: bool) -> Result<String, CliError> {
    let no_terminal = |e: io::Error| {
        CliError::Usage(format!(
            "no password given and none can be prompted for ({e}): use --password-stdin or set {env}"
        ))
    };
    let password = rpassword::prompt_password(prompt).map_err(no_terminal)?;
    if confirm {
        let again = rpassword::prompt_password("Repeat it: ").map_err(no_terminal)?;
        if again != password {
            return Err(CliError::Usage("the passwords do not match".to_owned()));
        }
    }
    Ok(password)
}
