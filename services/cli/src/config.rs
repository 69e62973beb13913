//! What `saas` keeps between runs, in its config dir (`$SAAS_CONFIG_DIR`, else
//! the platform's config dir, e.g. `~/.config/saas` on Linux):
//!
//! - `config.json`: the profiles (`{"profiles": {"<name>": {...}}}`), each an
//!   API endpoint, a Cognito endpoint (absent on AWS), a region and the app
//!   client id;
//! - `sessions/<profile>.json`: the tokens of the profile's signed-in user.
//!
//! Every file is written to a temporary file created with mode 0600 (never
//! readable by others, not even briefly) and renamed over the old one, in
//! directories of mode 0700.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use saas_client::{CognitoSettings, Tokens};
use serde::{Deserialize, Serialize};
use tenants_client::{IdempotencyKey, Slug};

use crate::CliError;

/// Overrides where the config dir is (tests, several identities side by side).
pub const CONFIG_DIR_ENV: &str = "SAAS_CONFIG_DIR";
/// The region when a profile names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// One place the CLI can talk to: an API and the user pool that signs its users in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The HTTP API's base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The Cognito endpoint; absent for Cognito on AWS, `<gateway>/cognito` locally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cognito_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The user pool's app client (public, `USER_PASSWORD_AUTH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Local stack only: the gateway's operator secret file, for `saas mailbox`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_operator_secret_file: Option<PathBuf>,
}

impl Profile {
    /// The API endpoint: `--endpoint` (or `SAAS_ENDPOINT`) over the profile's.
    pub fn endpoint(&self, name: &str, endpoint_override: Option<&str>) -> Result<String, CliError> {
        endpoint_override
            .map(str::to_owned)
            .or_else(|| self.endpoint.clone())
            .ok_or_else(|| CliError::NotConfigured { profile: name.to_owned(), missing: "endpoint" })
    }

    /// Where to sign in.
    pub fn cognito(&self, name: &str) -> Result<CognitoSettings, CliError> {
        let client_id = self
            .client_id
            .clone()
            .ok_or_else(|| CliError::NotConfigured { profile: name.to_owned(), missing: "client id" })?;
        Ok(CognitoSettings {
            region: self.region.clone().unwrap_or_else(|| DEFAULT_REGION.to_owned()),
            client_id,
            endpoint_url: self.cognito_endpoint.clone(),
        })
    }

    /// Sets the fields given, keeps the others.
    pub fn merge(&mut self, update: Profile) {
        let Profile { endpoint, cognito_endpoint, region, client_id, local_operator_secret_file } = update;
        self.endpoint = endpoint.or(self.endpoint.take());
        self.cognito_endpoint = cognito_endpoint.or(self.cognito_endpoint.take());
        self.region = region.or(self.region.take());
        self.client_id = client_id.or(self.client_id.take());
        self.local_operator_secret_file = local_operator_secret_file.or(self.local_operator_secret_file.take());
    }
}

/// `config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// The tokens of a profile's signed-in user (`sessions/<profile>.json`).
/// `Debug` never shows the tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredSession {
    /// Who signed in (the email address given to `saas login`).
    pub username: String,
    pub tokens: Tokens,
}

/// A profile name: 1–64 of `A-Z a-z 0-9 _ -` (it names a file).
pub fn check_profile_name(name: &str) -> Result<(), CliError> {
    let valid =
        (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(CliError::Usage(format!("profile name {name:?}: use 1 to 64 letters, digits, '_' or '-'")))
    }
}

/// The config dir and the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDir {
    path: PathBuf,
}

impl ConfigDir {
    /// `$SAAS_CONFIG_DIR`, else the platform's config dir for `saas`.
    pub fn locate() -> Result<Self, CliError> {
        if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
            return Ok(Self::at(dir));
        }
        directories::ProjectDirs::from("", "", "saas")
            .map(|dirs| Self::at(dirs.config_dir()))
            .ok_or_else(|| CliError::Io(format!("cannot find a config dir (no home directory?): set {CONFIG_DIR_ENV}")))
    }

    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn config_path(&self) -> PathBuf {
        self.path.join("config.json")
    }

    pub fn session_path(&self, profile: &str) -> PathBuf {
        self.path.join("sessions").join(format!("{profile}.json"))
    }

    /// Where the idempotency key of a registration of `slug` with `profile`
    /// waits for a retry.
    pub fn registration_key_path(&self, profile: &str, slug: &Slug) -> PathBuf {
        self.path.join("registrations").join(format!("{profile}.{slug}.key"))
    }

    /// The idempotency key of a registration of `slug` with `profile`: the
    /// one kept by an earlier run that did not finish, else a new one, kept
    /// (0600) before it is first sent, so a retry proves it is the same
    /// requester even after this process is gone.
    pub fn registration_key(&self, profile: &str, slug: &Slug) -> Result<IdempotencyKey, CliError> {
        check_profile_name(profile)?;
        let path = self.registration_key_path(profile, slug);
        if let Some(bytes) = read_private(&path)? {
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(key) = IdempotencyKey::parse(text.trim()) {
                return Ok(key);
            }
        }
        let key = IdempotencyKey::generate();
        write_private(&path, format!("{}\n", key.as_str()).as_bytes())?;
        Ok(key)
    }

    /// Forgets the key once the registration finished or was refused for good.
    pub fn forget_registration_key(&self, profile: &str, slug: &Slug) -> Result<(), CliError> {
        let path = self.registration_key_path(profile, slug);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(&path, &e)),
            _ => Ok(()),
        }
    }

    /// The profiles; none when the file does not exist yet.
    pub fn load_config(&self) -> Result<ConfigFile, CliError> {
        let path = self.config_path();
        match read_private(&path)? {
            None => Ok(ConfigFile::default()),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| CliError::Io(format!("{} is not a valid config file: {e}", path.display()))),
        }
    }

    pub fn save_config(&self, config: &ConfigFile) -> Result<(), CliError> {
        write_private(&self.config_path(), &to_json(config)?)
    }

    /// A profile by name (an empty one when it is not configured).
    pub fn profile(&self, name: &str) -> Result<Profile, CliError> {
        check_profile_name(name)?;
        Ok(self.load_config()?.profiles.remove(name).unwrap_or_default())
    }

    pub fn load_session(&self, profile: &str) -> Result<Option<StoredSession>, CliError> {
        check_profile_name(profile)?;
        let path = self.session_path(profile);
        match read_private(&path)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                CliError::Io(format!(
                    "{} is not a valid session file ({e}): run `saas logout` and `saas login` again",
                    path.display()
                ))
            }),
        }
    }

    pub fn save_session(&self, profile: &str, session: &StoredSession) -> Result<(), CliError> {
        check_profile_name(profile)?;
        write_private(&self.session_path(profile), &to_json(session)?)
    }

    /// Forgets the profile's session; `false` when there was none.
    pub fn remove_session(&self, profile: &str) -> Result<bool, CliError> {
        check_profile_name(profile)?;
        let path = self.session_path(profile);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error(&path, &e)),
        }
    }
}

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, CliError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| CliError::Io(format!("serializing: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn io_error(path: &Path, error: &io::Error) -> CliError {
    CliError::Io(format!("{}: {error}", path.display()))
}

/// The file's bytes, `None` if it does not exist. A file others can read
/// (written by hand, or by a careless copy) is narrowed to 0600 first.
fn read_private(path: &Path) -> Result<Option<Vec<u8>>, CliError> {
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, &e)),
        Ok(metadata) => narrow_permissions(path, &metadata)?,
    }
    fs::read(path).map(Some).map_err(|e| io_error(path, &e))
}

#[cfg(unix)]
fn narrow_permissions(path: &Path, metadata: &fs::Metadata) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt as _;
    if metadata.permissions().mode() & 0o077 != 0 {
        eprintln!("warning: {} was readable by others; its mode is now 0600", path.display());
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(|e| io_error(path, &e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn narrow_permissions(_path: &Path, _metadata: &fs::Metadata) -> Result<(), CliError> {
    Ok(())
}

/// Writes `bytes` to `path` atomically: a new temporary file beside it,
/// created with mode 0600, synced, then renamed over `path`. Parent
/// directories are created with mode 0700.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let dir = path.parent().ok_or_else(|| CliError::Io(format!("{} has no parent directory", path.display())))?;
    create_private_dir(dir)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temporary = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    // A leftover of a crashed run with the same pid: never reuse it.
    match fs::remove_file(&temporary) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_error(&temporary, &e)),
        _ => {}
    }
    let written = create_private_file(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| fs::rename(&temporary, path)) {
        let _ = fs::remove_file(&temporary);
        return Err(io_error(path, &e));
    }
    Ok(())
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| io_error(dir, &e))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use time::OffsetDateTime;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn session(access: &str) -> StoredSession {
        StoredSession {
            username: "ada@example.com".into(),
            tokens: Tokens {
                access_token: access.into(),
                id_token: "id".into(),
                refresh_token: Some("refresh".into()),
                expires_at: OffsetDateTime::from_unix_timestamp(2_000_000_000).expect("time"),
            },
        }
    }

    #[test]
    fn sessions_are_written_0600_in_a_0700_dir_and_read_back() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = ConfigDir::at(root.path().join("saas"));
        assert_eq!(dir.load_session("default").expect("load"), None);
        dir.save_session("default", &session("first")).expect("save");
        let path = dir.session_path("default");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(&dir.path().join("sessions")), 0o700);
        assert_eq!(dir.load_session("default").expect("load"), Some(session("first")));

        // Overwriting keeps the mode and leaves no temporary file behind.
        dir.save_session("default", &session("second")).expect("save again");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(dir.load_session("default").expect("load"), Some(session("second")));
        let names: Vec<_> = fs::read_dir(dir.path().join("sessions"))
            .expect("read dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("default.json")]);

        assert!(dir.remove_session("default").expect("remove"));
        assert!(!dir.remove_session("default").expect("remove again"));
        assert_eq!(dir.load_session("default").expect("load"), None);
    }

    #[test]
    fn a_file_readable_by_others_is_narrowed_on_read() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = ConfigDir::at(root.path());
        dir.save_session("default", &session("t")).expect("save");
        let path = dir.session_path("default");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(dir.load_session("default").expect("load"), Some(session("t")));
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn the_stored_session_never_shows_tokens_in_debug() {
        let printed = format!("{:?}", session("secret-access-token"));
        assert!(!printed.contains("secret-access-token"), "{printed}");
        assert!(!printed.contains("refresh\""), "{printed}");
    }

    #[test]
    fn profiles_merge_and_names_are_checked() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = ConfigDir::at(root.path());
        let mut config = dir.load_config().expect("empty config");
        assert!(config.profiles.is_empty());
        let mut profile =
            Profile { endpoint: Some("http://a".into()), client_id: Some("c1".into()), ..Profile::default() };
        profile.merge(Profile {
            region: Some("eu-west-1".into()),
            client_id: Some("c2".into()),
            local_operator_secret_file: Some("/stack/operator-secret".into()),
            ..Profile::default()
        });
        assert_eq!(
            profile,
            Profile {
                endpoint: Some("http://a".into()),
                cognito_endpoint: None,
                region: Some("eu-west-1".into()),
                client_id: Some("c2".into()),
                local_operator_secret_file: Some("/stack/operator-secret".into()),
            }
        );
        config.profiles.insert("local".into(), profile.clone());
        dir.save_config(&config).expect("save");
        assert_eq!(mode(&dir.config_path()), 0o600);
        assert_eq!(dir.profile("local").expect("profile"), profile);
        assert_eq!(dir.profile("other").expect("absent profile"), Profile::default());
        assert_eq!(profile.endpoint("local", Some("http://b")).expect("override"), "http://b");
        assert!(matches!(
            Profile::default().endpoint("x", None),
            Err(CliError::NotConfigured { missing: "endpoint", .. })
        ));
        assert_eq!(
            Profile::default().cognito("x").map(|_| ()).map_err(|e| e.to_string()),
            Err("profile x has no client id: run `saas --profile x configure`".to_owned())
        );
        for bad in ["", "../etc", "a/b", "a b", &"x".repeat(65)] {
            assert!(matches!(dir.profile(bad), Err(CliError::Usage(_))), "{bad:?}");
        }
    }
}
