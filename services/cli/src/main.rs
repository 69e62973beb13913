//! `saas`: see the crate's README.

fn main() -> std::process::ExitCode {
    saas_cli::main()
}
