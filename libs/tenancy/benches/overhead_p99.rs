//! Percentiles of the tenancy overhead of a warm request with cached
//! credentials and records (criterion reports means with confidence intervals, not
//! tails): every one of `BENCH_P99_SAMPLES` (default 200000) iterations timed
//! on its own, after a warm-up, exact nearest-rank percentiles over all of
//! them. Also the cost of the timer itself, which every sample includes.
//! Prints a table; writes JSON to `BENCH_P99_OUT` when set.

// A report tool: its table goes to stdout.
#![allow(clippy::print_stdout)]

mod common;

use std::hint::black_box;
use std::time::Instant;

use common::Fixture;
use serde_json::json;

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(mut nanos: Vec<u64>) -> serde_json::Value {
    nanos.sort_unstable();
    json!({
        "samples": nanos.len(),
        "p50_ns": percentile(&nanos, 50.0),
        "p90_ns": percentile(&nanos, 90.0),
        "p99_ns": percentile(&nanos, 99.0),
        "p999_ns": percentile(&nanos, 99.9),
        "max_ns": nanos.last().copied().unwrap_or(0),
    })
}

fn main() {
    // `cargo bench` passes --bench (and maybe a filter); a plain `cargo test
    // --benches` run passes nothing: then only check that it works.
    let benching = std::env::args().any(|a| a == "--bench");
    let samples: usize = if benching {
        std::env::var("BENCH_P99_SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000)
    } else {
        1_000
    };
    let fixture = Fixture::new();
    let (overhead, context, timer) = fixture.runtime.block_on(async {
        for _ in 0..samples / 10 {
            black_box(fixture.overhead().await);
        }
        let mut overhead = Vec::with_capacity(samples);
        let mut context = Vec::with_capacity(samples);
        let mut timer = Vec::with_capacity(samples);
        for _ in 0..samples {
            let start = Instant::now();
            black_box(fixture.overhead().await);
            overhead.push(start.elapsed().as_nanos() as u64);

            let start = Instant::now();
            black_box(fixture.context().await);
            context.push(start.elapsed().as_nanos() as u64);

            let start = Instant::now();
            timer.push(black_box(start).elapsed().as_nanos() as u64);
        }
        (overhead, context, timer)
    });
    let report = json!({
        "warm_request_overhead": summary(overhead),
        "claims_to_context": summary(context),
        "timer_only": summary(timer),
    });
    for (name, figures) in report.as_object().into_iter().flatten() {
        println!(
            "{name:<24} p50 {:>7} ns  p99 {:>7} ns  p99.9 {:>7} ns  ({} samples)",
            figures["p50_ns"], figures["p99_ns"], figures["p999_ns"], figures["samples"]
        );
    }
    if let Ok(path) = std::env::var("BENCH_P99_OUT") {
        std::fs::write(&path, format!("{report:#}\n")).expect("write BENCH_P99_OUT");
    }
}
