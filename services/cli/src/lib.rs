//! `saas`, the command-line tool of the platform, built only on the service
//! clients (`notes-client`, `users-client`, `tenants-client` and
//! `saas-client`). The binary (`src/main.rs`) only calls [`main`].
//!
//! - [`cli`]: the command line;
//! - [`config`]: profiles and stored sessions (mode 0600) in the config dir;
//! - [`output`]: `--output table|json`;
//! - [`error`]: exit codes per error class, messages and hints.

pub mod cli;
pub mod config;
pub mod error;
pub mod output;
mod run;

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

pub use error::{CliError, Exit};
pub use run::{NEW_PASSWORD_ENV, PASSWORD_ENV};

/// Parses the command line, runs the command, prints its result on stdout
/// and any error with a hint on stderr; the exit code tells the error class.
pub fn main() -> ExitCode {
    let command = cli::Cli::command().after_help(error::exit_codes_help());
    let cli = match command.try_get_matches().and_then(|matches| cli::Cli::from_arg_matches(&matches)) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // 0 for --help and --version, 2 for usage errors.
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(Exit::Usage.code()));
        }
    };
    let profile = cli.profile.clone();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(Exit::Other.code());
        }
    };
    match runtime.block_on(run::run(cli)) {
        Ok(output) => {
            if let Some(text) = output {
                let mut stdout = io::stdout().lock();
                if let Err(error) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush())
                    && error.kind() != io::ErrorKind::BrokenPipe
                {
                    eprintln!("error: writing the output: {error}");
                    return ExitCode::from(Exit::Other.code());
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprint!("{}", error.report(&profile));
            ExitCode::from(error.exit().code())
        }
    }
}
