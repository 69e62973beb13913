//! `stack-bench`: the load driver of `make bench` and the writer of
//! BENCHMARKS.md. See tests/bench/README.md.
//!
//! - `stack-bench load --out stack.json`: against a running stack and gateway
//!   (`LOCAL_GATEWAY_URL`, `AWS_ENDPOINT_URL`): cold starts, warm list-notes and
//!   create-note for 1 and N tenants, STS traffic, CPU and peak memory.
//! - `stack-bench report ...`: everything measured (stack, criterion, the
//!   percentile sampler, zip sizes, the machine) into one JSON and BENCHMARKS.md.

mod load;
mod report;
mod stats;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "make bench: load through the local stack, and the BENCHMARKS.md report")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure through the running local stack; write the results as JSON.
    Load {
        #[arg(long)]
        out: PathBuf,
        /// Deployed function names are `<prefix>-<function>`.
        #[arg(long, default_value = "saas-local")]
        prefix: String,
        /// Measured runs per load scenario (the report shows medians).
        #[arg(long, env = "BENCH_RUNS", default_value_t = 3)]
        runs: usize,
        /// Cold starts per function.
        #[arg(long, env = "BENCH_COLD_RUNS", default_value_t = 7)]
        cold_runs: usize,
        #[arg(long, env = "BENCH_TENANTS", default_value_t = 100)]
        tenants: usize,
        #[arg(long, default_value_t = 20)]
        notes_per_tenant: usize,
        /// list-notes requests per measured run.
        #[arg(long, env = "BENCH_LIST_REQUESTS", default_value_t = 400)]
        list_requests: usize,
        /// create-note requests per measured run.
        #[arg(long, env = "BENCH_CREATE_REQUESTS", default_value_t = 200)]
        create_requests: usize,
        /// Requests of the STS run (reads of a missing note), spread over every tenant.
        #[arg(long, env = "BENCH_STS_REQUESTS", default_value_t = 10_000)]
        sts_requests: usize,
        /// Requests in flight (the gateway runs up to 4 instances per function).
        #[arg(long, env = "BENCH_CONCURRENCY", default_value_t = 4)]
        concurrency: usize,
    },
    /// Combine every measurement into results JSON and BENCHMARKS.md.
    Report(report::ReportArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Load {
            out,
            prefix,
            runs,
            cold_runs,
            tenants,
            notes_per_tenant,
            list_requests,
            create_requests,
            sts_requests,
            concurrency,
        } => {
            let options = load::LoadOptions {
                prefix,
                runs,
                cold_runs,
                tenants: tenants.max(1),
                notes_per_tenant,
                list_requests,
                create_requests,
                sts_requests,
                concurrency,
            };
            match load::run(&options).await {
                Ok(results) => serde_json::to_string_pretty(&results)
                    .map_err(|e| e.to_string())
                    .and_then(|json| std::fs::write(&out, json + "\n").map_err(|e| format!("{}: {e}", out.display()))),
                Err(error) => Err(error.to_string()),
            }
        }
        Command::Report(args) => report::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("stack-bench: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
