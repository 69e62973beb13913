//! `make demo`: the two-tenant story against a running stack and gateway
//! (LOCAL_GATEWAY_URL, AWS_ENDPOINT_URL). Exits 1 if any step fails.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let stack = match e2e::Stack::from_env().await {
        Ok(stack) => stack,
        Err(error) => {
            eprintln!("demo: {error}");
            return ExitCode::from(2);
        }
    };
    if e2e::demo::run(&stack, std::io::stdout().lock()).await { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
