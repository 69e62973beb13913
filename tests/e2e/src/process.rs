//! The function instances a local gateway runs: each is the deployed
//! `bootstrap`, extracted to `<work-dir>/functions/<function>/bootstrap`,
//! started with `AWS_LAMBDA_FUNCTION_NAME` and `AWS_ENDPOINT_URL_LAMBDA` = the
//! gateway. Both are read from `/proc`, so instances of another gateway on
//! the same machine (another stack, another port) are never touched.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{Error, Result};

/// One running instance of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub pid: i32,
    pub function: String,
    pub executable: String,
}

/// Every process under `/proc` with its command line. Processes come and go
/// while we look: those that vanish meanwhile are skipped.
fn processes() -> Result<Vec<(i32, Vec<String>)>> {
    let entries = std::fs::read_dir("/proc").map_err(|e| Error(format!("/proc: {e}")))?;
    Ok(entries
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let args = cmdline.split(|b| *b == 0).map(|arg| String::from_utf8_lossy(arg).into_owned()).collect();
            Some((pid, args))
        })
        .collect())
}

fn environ(pid: i32) -> Option<Vec<(String, String)>> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter_map(|entry| {
                let entry = String::from_utf8_lossy(entry);
                entry.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect(),
    )
}

/// The running instances of the function whose name ends with `-<service>`
/// (e.g. `saas-local-notes` for `notes`), started by the gateway at `gateway_url`.
pub fn function_instances(gateway_url: &str, service: &str) -> Result<Vec<Instance>> {
    let gateway_url = gateway_url.trim_end_matches('/');
    let suffix = format!("-{service}");
    let mut found = Vec::new();
    for (pid, args) in processes()? {
        let executable = args.into_iter().next().unwrap_or_default();
        if !(executable.ends_with("/bootstrap") && executable.contains("/functions/")) {
            continue;
        }
        let Some(env) = environ(pid) else { continue };
        let var = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let Some(function) = var("AWS_LAMBDA_FUNCTION_NAME") else {
            continue;
        };
        let ours = var("AWS_ENDPOINT_URL_LAMBDA").map(|v| v.trim_end_matches('/')) == Some(gateway_url);
        if ours && (function == service || function.ends_with(&suffix)) {
            found.push(Instance { pid, function: function.to_owned(), executable });
        }
    }
    found.sort_by_key(|i| i.pid);
    Ok(found)
}

/// Sends `signal` to the process `pid`.
pub fn signal(pid: i32, signal: Signal) -> Result<()> {
    kill(Pid::from_raw(pid), signal).map_err(|e| Error(format!("kill -{signal} {pid}: {e}")))
}

/// Whether `pid` still exists (a zombie counts as gone).
pub fn is_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the parenthesised command name.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

/// Whether `pid` still has a `/proc` entry: a zombie the gateway has not
/// reaped yet counts. Once it is gone, the gateway has seen the exit.
pub fn exists(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The emulator process serving `emulator_url` (`local/moto_serialized.py
/// ... -p <port>`, started by `local/stack.sh`), found through `/proc`.
pub fn emulator_pid(emulator_url: &str) -> Result<i32> {
    let port = emulator_url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .ok_or_else(|| Error(format!("no port in the emulator URL {emulator_url}")))?
        .to_string();
    let found: Vec<i32> = processes()?
        .into_iter()
        .filter(|(_, args)| {
            let is_emulator = args.iter().any(|a| a.ends_with("moto_serialized.py"));
            let on_port = args.windows(2).any(|w| (w[0] == "-p" || w[0] == "--port") && w[1] == port);
            is_emulator && on_port
        })
        .map(|(pid, _)| pid)
        .collect();
    match found.as_slice() {
        [pid] => Ok(*pid),
        [] => Err(Error(format!(
            "no moto_serialized.py process serving port {port} under /proc (is the stack up with local/stack.sh?)"
        ))),
        many => Err(Error(format!("several emulator processes on port {port}: {many:?}"))),
    }
}

/// A process stopped with `SIGSTOP` until this guard is dropped, which
/// always sends `SIGCONT` (on success, failure or panic alike).
#[derive(Debug)]
pub struct Stopped {
    pid: i32,
}

impl Stopped {
    /// Stops `pid`; it runs again when the guard is dropped (or [`Stopped::resume`]d).
    pub fn stop(pid: i32) -> Result<Self> {
        signal(pid, Signal::SIGSTOP)?;
        Ok(Self { pid })
    }

    /// Resumes the process now.
    pub fn resume(self) -> Result<()> {
        let pid = self.pid;
        std::mem::forget(self);
        signal(pid, Signal::SIGCONT)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        // Best effort: a panic here would abort a test already unwinding.
        if let Err(error) = signal(self.pid, Signal::SIGCONT) {
            eprintln!("could not resume process {}: {error}", self.pid);
        }
    }
}
