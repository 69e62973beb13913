//! BENCHMARKS.md from what `make bench` measured: the stack results
//! (`stack-bench load`), criterion's estimates, the percentile sampler, the
//! zips, the machine. A recorded earlier result (`--baseline`) is shown next
//! to the current one as "before".

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::load::{FUNCTIONS, Scenario, StackResults};
use crate::stats::median;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// `stack-bench load` output.
    #[arg(long)]
    stack: PathBuf,
    /// Output files of the percentile sampler (benches/overhead_p99.rs), one per run.
    #[arg(long = "p99", num_args = 1..)]
    p99: Vec<PathBuf>,
    /// criterion's output folder (`<target>/criterion`).
    #[arg(long)]
    criterion: PathBuf,
    /// `make build`'s output folder (`target/lambda`: `<arch>/<fn>/bootstrap.zip`).
    #[arg(long)]
    zips: PathBuf,
    /// Cargo.lock, for the versions of the main crates.
    #[arg(long, default_value = "Cargo.lock")]
    lockfile: PathBuf,
    /// An earlier `--results` file, shown as "before".
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Hand-written analysis (Markdown) appended to the report.
    #[arg(long)]
    analysis: Option<PathBuf>,
    /// Where the combined results JSON goes.
    #[arg(long)]
    results: PathBuf,
    /// Where the Markdown goes.
    #[arg(long)]
    out: PathBuf,
    /// Facts about the machine and tools, `name=value` (e.g. the moto version).
    #[arg(long = "fact")]
    facts: Vec<String>,
}

/// Every figure of one `make bench`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Results {
    pub machine: BTreeMap<String, String>,
    pub stack: StackResults,
    /// criterion: benchmark -> mean and median, ns.
    pub criterion: BTreeMap<String, Estimate>,
    /// The percentile sampler: figure -> percentile -> ns (median over its runs).
    pub percentiles: BTreeMap<String, BTreeMap<String, f64>>,
    /// `<arch>/<fn>` -> bytes.
    pub zip_bytes: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Estimate {
    pub mean_ns: f64,
    pub mean_low_ns: f64,
    pub mean_high_ns: f64,
    pub median_ns: f64,
}

/// Targets of the issue.
const COLD_START_MS: f64 = 20.0;
const OVERHEAD_P99_NS: f64 = 20_000.0;
const CPU_PER_LIST_MS: f64 = 0.5;
const ZIP_BYTES: f64 = 4_000_000.0;
const RSS_BYTES: f64 = 32_000_000.0;

/// criterion benchmark ids (`group/name`) in report order, with labels.
const CRITERION: [(&str, &str); 5] = [
    ("tenancy/claims_to_context", "claims → `TenantContext`, authority from cached records"),
    ("gateway/jwt_verify_cached_jwks", "JWT verification (RS256), JWKS cached (local gateway only)"),
    ("tenancy/credential_cache_hit", "credential-cache hit (`TenantCache::get`)"),
    ("tenancy/put_request_build", "tenant-scoped put built, not sent (`TenantTable::put_write`)"),
    (
        "tenancy/warm_request_overhead",
        "all tenancy work of a warm create-note (context + authority + cache hit + put + counter built)",
    ),
];

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn criterion_estimates(dir: &Path) -> BTreeMap<String, Estimate> {
    let mut found = BTreeMap::new();
    for (id, _) in CRITERION {
        let path = dir.join(id).join("new").join("estimates.json");
        let Ok(value) = read_json::<Value>(&path) else { continue };
        let figure = |path: &[&str]| {
            path.iter().try_fold(&value, |v, key| v.get(*key)).and_then(Value::as_f64).unwrap_or(f64::NAN)
        };
        found.insert(
            id.to_owned(),
            Estimate {
                mean_ns: figure(&["mean", "point_estimate"]),
                mean_low_ns: figure(&["mean", "confidence_interval", "lower_bound"]),
                mean_high_ns: figure(&["mean", "confidence_interval", "upper_bound"]),
                median_ns: figure(&["median", "point_estimate"]),
            },
        );
    }
    found
}

fn percentiles(files: &[PathBuf]) -> Result<BTreeMap<String, BTreeMap<String, f64>>, String> {
    let mut all: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for file in files {
        let value: Value = read_json(file)?;
        for (figure, stats) in value.as_object().into_iter().flatten() {
            for (name, number) in stats.as_object().into_iter().flatten() {
                if let (Some(name), Some(number)) = (name.strip_suffix("_ns"), number.as_f64()) {
                    all.entry(figure.clone()).or_default().entry(name.to_owned()).or_default().push(number);
                }
            }
        }
    }
    Ok(all
        .into_iter()
        .map(|(figure, stats)| {
            let medians = stats.into_iter().filter_map(|(name, values)| median(&values).map(|m| (name, m))).collect();
            (figure, medians)
        })
        .collect())
}

fn zip_sizes(dir: &Path) -> BTreeMap<String, u64> {
    let mut sizes = BTreeMap::new();
    for arch in ["arm64", "x86_64"] {
        for function in FUNCTIONS {
            let path = dir.join(arch).join(function).join("bootstrap.zip");
            if let Ok(meta) = std::fs::metadata(&path) {
                sizes.insert(format!("{arch}/{function}"), meta.len());
            }
        }
    }
    sizes
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program).args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn machine(lockfile: &Path, facts: &[String]) -> BTreeMap<String, String> {
    let mut machine = BTreeMap::new();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    if let Some(model) = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim()))
    {
        machine.insert("cpu".to_owned(), model.to_owned());
    }
    if let Ok(cores) = std::thread::available_parallelism() {
        machine.insert("cores".to_owned(), cores.to_string());
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    if let Some(kb) = meminfo.lines().find_map(|l| {
        l.strip_prefix("MemTotal:").and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    }) {
        machine.insert("memory".to_owned(), format!("{:.1} GB", kb as f64 * 1024.0 / 1e9));
    }
    if let Some(uname) = command_output("uname", &["-srm"]) {
        machine.insert("os".to_owned(), uname);
    }
    if let Some(rustc) = command_output("rustc", &["-V"]) {
        machine.insert("rustc".to_owned(), rustc);
    }
    if let Some(commit) = command_output("git", &["describe", "--always", "--dirty"]) {
        machine.insert("commit".to_owned(), commit);
    }
    if let Some(date) = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]) {
        machine.insert("date".to_owned(), date);
    }
    let lock = std::fs::read_to_string(lockfile).unwrap_or_default();
    let mut versions = Vec::new();
    for name in [
        "lambda_runtime",
        "aws-config",
        "aws-sdk-dynamodb",
        "aws-sdk-sts",
        "tokio",
        "jsonwebtoken",
        "moka",
        "criterion",
    ] {
        let needle = format!("name = \"{name}\"\nversion = \"");
        if let Some(at) = lock.find(&needle) {
            let rest = &lock[at + needle.len()..];
            if let Some(end) = rest.find('"') {
                versions.push(format!("{name} {}", &rest[..end]));
            }
        }
    }
    machine.insert("crates".to_owned(), versions.join(", "));
    for fact in facts {
        if let Some((name, value)) = fact.split_once('=') {
            machine.insert(name.to_owned(), value.to_owned());
        }
    }
    machine
}

pub fn run(args: &ReportArgs) -> Result<(), String> {
    let results = Results {
        machine: machine(&args.lockfile, &args.facts),
        stack: read_json(&args.stack)?,
        criterion: criterion_estimates(&args.criterion),
        percentiles: percentiles(&args.p99)?,
        zip_bytes: zip_sizes(&args.zips),
    };
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    std::fs::write(&args.results, json + "\n").map_err(|e| format!("{}: {e}", args.results.display()))?;
    let baseline: Option<Results> = match &args.baseline {
        Some(path) if path.exists() => Some(read_json(path)?),
        _ => None,
    };
    let analysis = match &args.analysis {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
        None => String::new(),
    };
    let markdown = render(&results, baseline.as_ref(), &analysis);
    std::fs::write(&args.out, markdown).map_err(|e| format!("{}: {e}", args.out.display()))
}

// --- Markdown ------------------------------------------------------------------

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.2} ms"))
}

fn micros(ns: Option<f64>) -> String {
    ns.map_or_else(|| "–".to_owned(), |v| format!("{:.2} µs", v / 1000.0))
}

fn megabytes(bytes: Option<f64>) -> String {
    bytes.map_or_else(|| "–".to_owned(), |b| format!("{:.2} MB", b / 1e6))
}

/// "met" or "missed by X (Y %)" for a figure that must stay at or under `target`.
fn verdict(value: Option<f64>, target: f64, unit: impl Fn(f64) -> String) -> String {
    match value {
        None => "not measured".to_owned(),
        Some(v) if v <= target => "✅ met".to_owned(),
        Some(v) => format!("❌ missed by {} ({:.0} % over)", unit(v - target), (v - target) / target * 100.0),
    }
}

fn cold(results: &Results, function: &str) -> (Option<f64>, Option<f64>) {
    results.stack.cold_start.get(function).map_or((None, None), |c| (median(&c.init_ms), median(&c.first_response_ms)))
}

fn scenario<'a>(results: &'a Results, name: &str, tenants_one: bool) -> Option<&'a Scenario> {
    results.stack.scenarios.iter().find(|s| s.name == name && (s.tenants == 1) == tenants_one)
}

fn before_after(before: Option<String>, now: String) -> String {
    match before {
        Some(before) => format!("{before} | {now}"),
        None => format!("– | {now}"),
    }
}

fn render(now: &Results, before: Option<&Results>, analysis: &str) -> String {
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "# Benchmarks\n");
    let _ = writeln!(
        w,
        "Generated by `make bench` (tests/bench/README.md explains the method in full). \
         Every figure is a median of several runs; \"before\" is the recorded run of \
         commit 0811c80 (tests/bench/baseline.json), before the optimizations listed at the end.\n"
    );
    let _ = writeln!(w, "## Machine and versions\n");
    for (name, value) in &now.machine {
        let _ = writeln!(w, "- **{name}**: {value}");
    }
    let options = &now.stack.options;
    let _ = writeln!(
        w,
        "- **load settings**: {}\n",
        options.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    );

    // Targets at a glance.
    let _ = writeln!(w, "## Targets\n");
    let _ = writeln!(w, "| target | measured | verdict |\n|---|---|---|");
    for function in FUNCTIONS {
        let (init, _) = cold(now, function);
        let _ = writeln!(
            w,
            "| cold start (init) ≤ {COLD_START_MS} ms: {function} | {} | {} |",
            ms(init),
            verdict(init, COLD_START_MS, |v| format!("{v:.2} ms"))
        );
    }
    let p99 = now.percentiles.get("warm_request_overhead").and_then(|p| p.get("p99")).copied();
    let _ = writeln!(
        w,
        "| tenancy overhead, warm, cached credentials: p99 ≤ 20 µs | {} | {} |",
        micros(p99),
        verdict(p99, OVERHEAD_P99_NS, |v| micros(Some(v)))
    );
    for one in [true, false] {
        let list = scenario(now, "list-notes", one);
        let cpu = list.and_then(|s| s.median_of(|r| r.cpu_ms_per_request));
        let tenants = list.map_or(if one { 1 } else { 100 }, |s| s.tenants);
        let _ = writeln!(
            w,
            "| function CPU per warm list-notes (20 items) ≤ {CPU_PER_LIST_MS} ms, {} | {} | {} |",
            if tenants == 1 { "1 tenant".to_owned() } else { format!("{tenants} tenants") },
            cpu.map_or_else(|| "–".to_owned(), |v| format!("{v:.3} ms")),
            verdict(cpu, CPU_PER_LIST_MS, |v| format!("{v:.3} ms"))
        );
    }
    if let Some(sts) = &now.stack.sts {
        let bound = (sts.tenants as u64) * sts.instances;
        let _ = writeln!(
            w,
            "| STS ≤ 1 AssumeRole per tenant per credential lifetime per instance | {} calls / {} requests ({} tenants, {} instances: bound {bound}) | {} |",
            sts.assume_role_calls,
            sts.requests,
            sts.tenants,
            sts.instances,
            if sts.assume_role_calls <= bound { "✅ met" } else { "❌ missed" }
        );
        let bound = sts.authority_read_bound();
        let _ = writeln!(
            w,
            "| Authority: ≤ 1 read per tenant and per user per window per instance | {} reads / {} requests ({:.1} per 1,000; {} tenants, {} instances, window {} s, run {:.1} s: bound {bound}) | {} |",
            sts.authority_reads,
            sts.requests,
            sts.authority_reads as f64 * 1_000.0 / sts.requests.max(1) as f64,
            sts.tenants,
            sts.instances,
            sts.freshness_seconds,
            sts.wall_seconds,
            if sts.authority_reads <= bound { "✅ met" } else { "❌ missed" }
        );
    }
    for (key, bytes) in &now.zip_bytes {
        let bytes = *bytes as f64;
        let _ = writeln!(
            w,
            "| zip ≤ 4 MB: {key} | {} | {} |",
            megabytes(Some(bytes)),
            verdict(Some(bytes), ZIP_BYTES, |v| megabytes(Some(v)))
        );
    }
    for function in FUNCTIONS {
        let rss = now.stack.peak_rss_kb.get(function).map(|kb| *kb as f64 * 1024.0);
        let _ = writeln!(
            w,
            "| peak RSS ≤ 32 MB: {function} | {} | {} |",
            megabytes(rss),
            verdict(rss, RSS_BYTES, |v| megabytes(Some(v)))
        );
    }
    let _ = writeln!(w, "\nMB = 10⁶ bytes throughout.\n");

    // Cold start.
    let _ = writeln!(w, "## Cold start\n");
    let _ = writeln!(
        w,
        "Release build (the `make build` zip for this machine's architecture), started by the local \
         gateway behind its Lambda Runtime API. **init** = process spawn → first `GET \
         /runtime/invocation/next` (Lambda's *Init Duration*); **first response** = spawn → the first \
         invocation's response posted, for an invocation that makes no downstream call (an HTTP request \
         without verified claims, answered 401; for token-claims a platform admin's sign-in). Median of \
         {} cold starts per function (`/_local/functions/<name>/recycle` between them).\n",
        options.get("cold_runs").map_or_else(|| "several".to_owned(), Value::to_string)
    );
    let _ = writeln!(
        w,
        "| function | init before | init now | first response before | first response now | downstream calls |\n|---|---|---|---|---|---|"
    );
    for function in FUNCTIONS {
        let (init, first) = cold(now, function);
        let (init_before, first_before) = before.map_or((None, None), |b| cold(b, function));
        let _ = writeln!(
            w,
            "| {function} | {} | {} | {} |",
            before_after(init_before.map(|v| ms(Some(v))), ms(init)),
            before_after(first_before.map(|v| ms(Some(v))), ms(first)),
            now.stack.cold_start.get(function).map_or(0, |c| c.downstream_calls)
        );
    }

    // Hot path.
    let _ = writeln!(w, "\n## Hot path (criterion)\n");
    let _ = writeln!(
        w,
        "`cargo bench -p tenancy --bench hot_path` and `-p local-gateway --bench jwt_verify`: criterion's mean (95 % confidence interval) and \
         median per iteration. In memory: no network, the JWKS and the tenant's credentials cached.\n"
    );
    let _ = writeln!(w, "| benchmark | mean before | mean now (95 % CI) | median now |\n|---|---|---|---|");
    for (id, label) in CRITERION {
        let Some(estimate) = now.criterion.get(id) else {
            continue;
        };
        let mean_before = before
            // Results written before the ids had a group carry the bare name.
            .and_then(|b| b.criterion.get(id).or_else(|| b.criterion.get(id.rsplit('/').next()?)))
            .map(|e| micros(Some(e.mean_ns)));
        let _ = writeln!(
            w,
            "| {label} | {} ({}–{}) | {} |",
            before_after(mean_before, micros(Some(estimate.mean_ns))),
            micros(Some(estimate.mean_low_ns)),
            micros(Some(estimate.mean_high_ns)),
            micros(Some(estimate.median_ns))
        );
    }
    let _ = writeln!(
        w,
        "\nTails: criterion reports means, so `benches/overhead_p99.rs` times every iteration on its own \
         (200 000 samples after a warm-up, exact nearest-rank percentiles; median of its runs). Each \
         sample includes the cost of reading the clock twice (`timer_only`).\n"
    );
    let _ = writeln!(w, "| figure | p50 | p90 | p99 before | p99 now | p99.9 | max |\n|---|---|---|---|---|---|---|");
    for (figure, stats) in &now.percentiles {
        let p99_before =
            before.and_then(|b| b.percentiles.get(figure)).and_then(|p| p.get("p99")).map(|v| micros(Some(*v)));
        let _ = writeln!(
            w,
            "| {figure} | {} | {} | {} | {} | {} |",
            micros(stats.get("p50").copied()),
            micros(stats.get("p90").copied()),
            before_after(p99_before, micros(stats.get("p99").copied())),
            micros(stats.get("p999").copied()),
            micros(stats.get("max").copied()),
        );
    }

    // Through the stack.
    let _ = writeln!(w, "\n## Through the local stack\n");
    let _ = writeln!(
        w,
        "`stack-bench load` (tests/bench) with tokio + reqwest against the local gateway, warm \
         functions (a warm-up first), `concurrency` requests in flight, tokens of tenant admins \
         signed in through the gateway's Cognito. Latency is client-side, full answer read. \
         **CPU/request** = utime + stime of the notes function's processes (`/proc/<pid>/stat`, \
         sampled by the gateway, 10 ms ticks) over the run, divided by its requests. Wall time is \
         dominated by the emulator (moto, Python, one request at a time) and the debug-built gateway: \
         the CPU column is the function's own cost.\n"
    );
    let _ = writeln!(
        w,
        "| scenario | tenants | p50 before | p50 now | p99 before | p99 now | req/s before | req/s now | CPU/request before | CPU/request now |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for scenario_now in &now.stack.scenarios {
        let one = scenario_now.tenants == 1;
        let old = before.and_then(|b| scenario(b, &scenario_now.name, one));
        let figure = |s: Option<&Scenario>, f: fn(&crate::load::LoadRun) -> f64, unit: &str, digits: usize| {
            s.and_then(|s| s.median_of(f)).map(|v| format!("{v:.digits$}{unit}"))
        };
        let row = |f: fn(&crate::load::LoadRun) -> f64, unit: &str, digits: usize| {
            before_after(figure(old, f, unit, digits), figure(Some(scenario_now), f, unit, digits).unwrap_or_default())
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            scenario_now.name,
            scenario_now.tenants,
            row(|r| r.p50_ms, " ms", 2),
            row(|r| r.p99_ms, " ms", 2),
            row(|r| r.requests_per_second, "", 0),
            row(|r| r.cpu_ms_per_request, " ms", 3),
        );
    }
    if let Some(sts) = &now.stack.sts {
        let before_sts = before.and_then(|b| b.stack.sts.as_ref());
        let _ = writeln!(
            w,
            "\n**STS traffic**: {} requests (`GET /notes/<random id>`, 404 after a GetItem with the tenant's \
             credentials: the emulator's cheapest call) spread round-robin over {} tenants, starting from \
             fresh notes instances (empty credential caches): **{} AssumeRole calls** on the tenant role \
             ({:.1} per 10 000 requests), served by {} instances{}. Counted by the emulator \
             (`local/moto_serialized.py`, `GET /_serialized/counters`).\n",
            sts.requests,
            sts.tenants,
            sts.assume_role_calls,
            sts.assume_role_calls as f64 * 10_000.0 / sts.requests.max(1) as f64,
            sts.instances,
            before_sts.map_or_else(String::new, |b| format!(
                " (before: {} calls, {} instances)",
                b.assume_role_calls, b.instances
            )),
        );
    }

    // Artifacts and memory.
    let _ = writeln!(w, "## Artifacts\n");
    let _ = writeln!(
        w,
        "`make build`: cargo-lambda, release profile (LTO, one codegen unit, stripped), \
         provided.al2023.\n"
    );
    let _ = writeln!(w, "| zip | before | now |\n|---|---|---|");
    for (key, bytes) in &now.zip_bytes {
        let old = before.and_then(|b| b.zip_bytes.get(key)).map(|b| megabytes(Some(*b as f64)));
        let _ = writeln!(w, "| {key} | {} |", before_after(old, megabytes(Some(*bytes as f64))));
    }
    let _ = writeln!(w, "\n## Memory\n");
    let _ = writeln!(
        w,
        "Peak RSS (VmHWM of `/proc/<pid>/status`) of the largest instance of each function over the \
         whole run (cold starts, seeding, load, STS run).\n"
    );
    let _ = writeln!(w, "| function | before | now | instances started |\n|---|---|---|---|");
    for function in FUNCTIONS {
        let rss = |r: &Results| r.stack.peak_rss_kb.get(function).map(|kb| *kb as f64 * 1024.0);
        let _ = writeln!(
            w,
            "| {function} | {} | {} |",
            before_after(before.and_then(rss).map(|b| megabytes(Some(b))), megabytes(rss(now))),
            now.stack.instances_started.get(function).map_or_else(|| "–".to_owned(), u64::to_string)
        );
    }
    if !analysis.trim().is_empty() {
        let _ = writeln!(w, "\n{}", analysis.trim_end());
    }
    md
}
