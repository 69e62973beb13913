//! The stack part of `make bench`: cold starts, warm load through the gateway,
//! STS traffic, function CPU time and peak memory. The gateway's
//! `/_local/functions` metrics give each instance's init duration, CPU time
//! and VmHWM; the emulator's `/_serialized/counters` gives the API calls it
//! served (AssumeRole per role, DynamoDB operations).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::{Error, Result, Stack, TenantFixture};
use local_gateway::gateway::{FunctionMetrics, OPERATOR_SECRET_HEADER};
use local_gateway::runtime::PoolSnapshot;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tenancy::TenantTier;

use crate::stats::{median, percentile};

/// The functions measured, by their short name.
pub const FUNCTIONS: [&str; 4] = ["notes", "users", "tenants", "token-claims"];

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Deployed function names are `<prefix>-<function>`.
    pub prefix: String,
    pub runs: usize,
    pub cold_runs: usize,
    pub tenants: usize,
    pub notes_per_tenant: usize,
    pub list_requests: usize,
    pub create_requests: usize,
    pub sts_requests: usize,
    pub concurrency: usize,
}

/// Everything measured through the stack.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StackResults {
    pub options: BTreeMap<String, Value>,
    /// Per function: init duration and spawn-to-first-response, one value per run.
    pub cold_start: BTreeMap<String, ColdStart>,
    pub scenarios: Vec<Scenario>,
    pub sts: Option<StsTraffic>,
    /// Per function: the largest VmHWM of its instances, kB.
    pub peak_rss_kb: BTreeMap<String, u64>,
    /// Per function: instances started over the whole run.
    pub instances_started: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ColdStart {
    pub init_ms: Vec<f64>,
    pub first_response_ms: Vec<f64>,
    /// DynamoDB and STS calls the measured invocations made (0: no downstream calls).
    pub downstream_calls: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub tenants: usize,
    pub runs: Vec<LoadRun>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadRun {
    pub requests: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests_per_second: f64,
    /// utime + stime of the function's processes over the run, per request.
    pub cpu_ms_per_request: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StsTraffic {
    pub requests: usize,
    pub tenants: usize,
    /// AssumeRole calls on the tenant role during the requests.
    pub assume_role_calls: u64,
    /// notes instances that served them (each has its own credential cache).
    pub instances: u64,
    /// GetItem calls beyond each request's own: the callers' tenant records
    /// and memberships read for their authority (libs/tenancy/src/authority.rs).
    pub authority_reads: u64,
    /// The deployed freshness window of those records, seconds.
    pub freshness_seconds: f64,
    /// Wall time of the requests, seconds.
    pub wall_seconds: f64,
}

impl StsTraffic {
    /// The most authority reads the design allows: per instance, one tenant
    /// record and one membership (one user per tenant here) per tenant per
    /// freshness window begun during the run (a zero window: per request).
    pub fn authority_read_bound(&self) -> u64 {
        if self.freshness_seconds <= 0.0 {
            return 2 * self.requests as u64;
        }
        let windows = (self.wall_seconds / self.freshness_seconds).ceil() as u64 + 1;
        2 * self.tenants as u64 * self.instances * windows
    }
}

impl Scenario {
    /// Median over runs of one figure.
    pub fn median_of(&self, figure: impl Fn(&LoadRun) -> f64) -> Option<f64> {
        median(&self.runs.iter().map(figure).collect::<Vec<_>>())
    }
}

/// The gateway's and the emulator's bench endpoints.
struct Probe {
    http: reqwest::Client,
    gateway: String,
    emulator: String,
    /// The gateway's operator secret (`/_local/...`).
    operator_secret: String,
}

fn http_error(what: &str) -> impl FnOnce(reqwest::Error) -> Error + '_ {
    move |e| Error(format!("{what}: {e}"))
}

impl Probe {
    async fn functions(&self) -> Result<Vec<PoolSnapshot>> {
        let metrics: FunctionMetrics = self
            .http
            .get(format!("{}/_local/functions", self.gateway))
            .header(OPERATOR_SECRET_HEADER, &self.operator_secret)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(http_error("gateway metrics (is this gateway built with /_local/functions?)"))?
            .json()
            .await
            .map_err(http_error("gateway metrics"))?;
        Ok(metrics.functions)
    }

    async fn function(&self, name: &str) -> Result<PoolSnapshot> {
        self.functions()
            .await?
            .into_iter()
            .find(|pool| pool.function == name)
            .ok_or_else(|| Error(format!("the gateway has not loaded {name}")))
    }

    async fn recycle(&self, name: &str) -> Result<()> {
        self.http
            .post(format!("{}/_local/functions/{name}/recycle", self.gateway))
            .header(OPERATOR_SECRET_HEADER, &self.operator_secret)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(http_error("recycle"))?;
        Ok(())
    }

    async fn invoke(&self, name: &str, payload: &Value) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}/_local/functions/{name}/invoke", self.gateway))
            .header(OPERATOR_SECRET_HEADER, &self.operator_secret)
            .json(payload)
            .send()
            .await
            .map_err(http_error("invoke"))?;
        if response.headers().contains_key("x-amz-function-error") {
            return Err(Error(format!("{name} answered with a function error")));
        }
        response.json().await.map_err(http_error("invoke answer"))
    }

    /// The emulator's API call counters.
    async fn counters(&self) -> Result<HashMap<String, u64>> {
        self.http
            .get(format!("{}/_serialized/counters", self.emulator))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(http_error("emulator counters (local/moto_serialized.py)"))?
            .json()
            .await
            .map_err(http_error("emulator counters"))
    }
}

/// Calls that leave the function: DynamoDB operations and tenant-role AssumeRoles.
fn downstream(before: &HashMap<String, u64>, after: &HashMap<String, u64>, tenant_role: &str) -> u64 {
    after
        .iter()
        .filter(|(name, _)| name.starts_with("DynamoDB") || name.as_str() == format!("AssumeRole {tenant_role}"))
        .map(|(name, count)| count - before.get(name).copied().unwrap_or(0))
        .sum()
}

/// An event each function answers without any downstream call: an HTTP API
/// request with no verified identity (401 before any data access), or for
/// the pre-token trigger a platform admin's sign-in (no tenant claims to read).
fn no_downstream_event(function: &str) -> Value {
    if function == "token-claims" {
        return json!({
            "version": "2",
            "triggerSource": "TokenGeneration_Authentication",
            "region": "us-east-1",
            "userPoolId": "us-east-1_bench",
            "userName": "bench",
            "callerContext": {"awsSdkVersion": "bench", "clientId": "bench"},
            "request": {
                "userAttributes": {"sub": uuid::Uuid::new_v4().to_string()},
                "groupConfiguration": {"groupsToOverride": ["platform-admin"], "iamRolesToOverride": []},
                "scopes": []
            },
            "response": {}
        });
    }
    let (method, path) = match function {
        "users" => ("GET", "/users/me"),
        "tenants" => ("GET", "/tenant"),
        _ => ("GET", "/notes"),
    };
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "bench",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
            "requestId": "bench",
            "routeKey": format!("{method} {path}"),
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0
        },
        "isBase64Encoded": false
    })
}

async fn cold_starts(probe: &Probe, options: &LoadOptions, tenant_role: &str) -> Result<BTreeMap<String, ColdStart>> {
    let mut results = BTreeMap::new();
    for function in FUNCTIONS {
        let name = format!("{}-{function}", options.prefix);
        let mut cold = ColdStart::default();
        for run in 0..options.cold_runs {
            probe.recycle(&name).await?;
            let before = probe.counters().await?;
            let answer = probe.invoke(&name, &no_downstream_event(function)).await?;
            let after = probe.counters().await?;
            cold.downstream_calls += downstream(&before, &after, tenant_role);
            if function != "token-claims" && answer["statusCode"] != 401 {
                return Err(Error(format!("{name}: expected a 401 answer, got {answer}")));
            }
            let pool = probe.function(&name).await?;
            let instance = pool.instances.last().ok_or_else(|| Error(format!("{name}: no instance")))?;
            let (Some(init), Some(first)) = (instance.init_ms, instance.first_response_ms) else {
                return Err(Error(format!("{name}: no init figures for instance {}", instance.pid)));
            };
            eprintln!("[bench] cold start {function} #{}: init {init:.2} ms, first response {first:.2} ms", run + 1);
            cold.init_ms.push(init);
            cold.first_response_ms.push(first);
        }
        results.insert(function.to_owned(), cold);
    }
    Ok(results)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ListNotes,
    CreateNote,
    /// `GET /notes/<random id>`: 404 after a GetItem with the tenant's credentials.
    GetMissingNote,
}

impl Kind {
    fn expected_status(self) -> u16 {
        match self {
            Self::ListNotes => 200,
            Self::CreateNote => 201,
            Self::GetMissingNote => 404,
        }
    }
}

/// Sends `total` requests, `concurrency` at a time, round-robin over `tokens`.
/// How many times seeding makes the creates the emulator did not answer.
const SEED_ROUNDS: usize = 4;

async fn drive(
    http: &reqwest::Client,
    gateway: &str,
    tokens: &[String],
    kind: Kind,
    total: usize,
    concurrency: usize,
) -> Result<(Vec<f64>, usize, Duration)> {
    let next = Arc::new(AtomicUsize::new(0));
    let tokens: Arc<Vec<String>> = Arc::new(tokens.to_vec());
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (http, next, tokens) = (http.clone(), Arc::clone(&next), Arc::clone(&tokens));
            let list = format!("{gateway}/notes?limit=20");
            let create = format!("{gateway}/notes");
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let token = &tokens[i % tokens.len()];
                    let request = match kind {
                        Kind::ListNotes => http.get(&list),
                        Kind::CreateNote => http
                            .post(&create)
                            .json(&json!({"title": format!("bench note {i}"), "body": "written by make bench"})),
                        Kind::GetMissingNote => http.get(format!("{create}/{}", uuid::Uuid::new_v4())),
                    };
                    let sent = Instant::now();
                    let ok = match request.bearer_auth(token).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            // Read the whole body: the latency is the full answer.
                            response.bytes().await.is_ok() && status == kind.expected_status()
                        }
                        Err(_) => false,
                    };
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    if !ok {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await.map_err(|e| Error(format!("worker: {e}")))?;
        latencies.extend(l);
        errors += e;
    }
    Ok((latencies, errors, started.elapsed()))
}

/// CPU ticks per running instance of a function.
fn cpu_by_pid(pool: &PoolSnapshot) -> HashMap<u32, u64> {
    pool.instances.iter().filter_map(|i| i.cpu_ticks.map(|t| (i.pid, t))).collect()
}

async fn measured_run(
    probe: &Probe,
    notes: &str,
    tokens: &[String],
    kind: Kind,
    total: usize,
    concurrency: usize,
) -> Result<LoadRun> {
    let before = cpu_by_pid(&probe.function(notes).await?);
    let (mut latencies, errors, wall) = drive(&probe.http, &probe.gateway, tokens, kind, total, concurrency).await?;
    let pool = probe.function(notes).await?;
    let after = cpu_by_pid(&pool);
    let ticks: u64 = after.iter().map(|(pid, t)| t.saturating_sub(before.get(pid).copied().unwrap_or(0))).sum();
    let cpu_ms = ticks as f64 * 1000.0 / pool.clock_ticks_per_second as f64;
    latencies.sort_by(f64::total_cmp);
    Ok(LoadRun {
        requests: total,
        errors,
        p50_ms: percentile(&latencies, 50.0).unwrap_or(f64::NAN),
        p99_ms: percentile(&latencies, 99.0).unwrap_or(f64::NAN),
        requests_per_second: total as f64 / wall.as_secs_f64(),
        cpu_ms_per_request: cpu_ms / total as f64,
    })
}

async fn register_tenants(stack: &Stack, count: usize, concurrency: usize) -> Result<Vec<TenantFixture>> {
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (stack, next) = (stack.clone(), Arc::clone(&next));
            tokio::spawn(async move {
                let mut fixtures = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    fixtures.push(stack.register_tenant("Bench Co", TenantTier::Enterprise).await?);
                }
                Ok::<_, Error>(fixtures)
            })
        })
        .collect();
    let mut fixtures = Vec::with_capacity(count);
    for worker in workers {
        fixtures.extend(worker.await.map_err(|e| Error(format!("worker: {e}")))??);
    }
    Ok(fixtures)
}

/// The tenant role the services assume (read from the notes instance's
/// environment, as Terraform set it).
fn tenant_role_of(pid: u32) -> Result<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).map_err(|e| Error(format!("environ: {e}")))?;
    environ
        .split(|b| *b == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .find_map(|entry| entry.strip_prefix("TENANT_ROLE_ARN="))
        .map(str::to_owned)
        .ok_or_else(|| Error("the notes instance has no TENANT_ROLE_ARN".to_owned()))
}

pub async fn run(options: &LoadOptions) -> Result<StackResults> {
    let stack = Stack::from_env().await?;
    let probe = Probe {
        http: reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(64)
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(http_error("http client"))?,
        gateway: stack.settings.gateway.clone(),
        emulator: stack.settings.emulator.clone(),
        operator_secret: stack.operator_secret()?,
    };
    let notes = format!("{}-notes", options.prefix);
    let mut results = StackResults {
        options: [
            ("runs", json!(options.runs)),
            ("cold_runs", json!(options.cold_runs)),
            ("tenants", json!(options.tenants)),
            ("notes_per_tenant", json!(options.notes_per_tenant)),
            ("list_requests", json!(options.list_requests)),
            ("create_requests", json!(options.create_requests)),
            ("sts_requests", json!(options.sts_requests)),
            ("concurrency", json!(options.concurrency)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        ..StackResults::default()
    };

    // The tenant role, from a notes instance's environment.
    probe.invoke(&notes, &no_downstream_event("notes")).await?;
    let pid = probe
        .function(&notes)
        .await?
        .instances
        .last()
        .map(|i| i.pid)
        .ok_or_else(|| Error("no notes instance".to_owned()))?;
    let tenant_role = tenant_role_of(pid)?;

    eprintln!("[bench] cold starts ({} per function)", options.cold_runs);
    results.cold_start = cold_starts(&probe, options, &tenant_role).await?;

    eprintln!("[bench] registering {} tenants with {} notes each", options.tenants, options.notes_per_tenant);
    let fixtures = register_tenants(&stack, options.tenants, options.concurrency).await?;
    let tokens: Vec<String> = fixtures.iter().map(|f| f.admin.tokens.access_token.clone()).collect();
    // Seeding is a fixture, not a measurement: the creates the serialized
    // emulator did not answer in time (a 503; every write grows the table it
    // copies per transaction) are made again, a few rounds at most.
    let mut missing = options.tenants * options.notes_per_tenant;
    for round in 1..=SEED_ROUNDS {
        let (_, errors, _) =
            drive(&probe.http, &probe.gateway, &tokens, Kind::CreateNote, missing, options.concurrency).await?;
        missing = errors;
        if missing == 0 {
            break;
        }
        eprintln!("[bench] seeding round {round}: {missing} creates unanswered, made again");
    }
    if missing > 0 {
        return Err(Error(format!("{missing} notes could not be created while seeding, after {SEED_ROUNDS} rounds")));
    }

    let one = &tokens[..1];
    let scenarios = [
        ("list-notes", Kind::ListNotes, one, options.list_requests),
        ("list-notes", Kind::ListNotes, &tokens[..], options.list_requests),
        ("create-note", Kind::CreateNote, one, options.create_requests),
        ("create-note", Kind::CreateNote, &tokens[..], options.create_requests),
    ];
    for (name, kind, tokens, requests) in scenarios {
        // Warm every instance and every tenant's credentials in it first. The
        // list scenarios, run first, do that for the same instances; a write
        // warm-up only grows the table, and the emulator copies the whole
        // table on every transaction (local/moto_serialized.py).
        let warmup = match kind {
            Kind::CreateNote => 50,
            _ => (tokens.len() * options.concurrency * 2).max(50),
        };
        drive(&probe.http, &probe.gateway, tokens, kind, warmup, options.concurrency).await?;
        let mut scenario = Scenario { name: name.to_owned(), tenants: tokens.len(), runs: Vec::new() };
        for run in 0..options.runs {
            let measured = measured_run(&probe, &notes, tokens, kind, requests, options.concurrency).await?;
            eprintln!(
                "[bench] {name} x{} tenants #{}: p50 {:.2} ms, p99 {:.2} ms, {:.0} req/s, CPU {:.3} ms/request, {} errors",
                tokens.len(),
                run + 1,
                measured.p50_ms,
                measured.p99_ms,
                measured.requests_per_second,
                measured.cpu_ms_per_request,
                measured.errors
            );
            scenario.runs.push(measured);
        }
        results.scenarios.push(scenario);
    }

    // STS: fresh instances (empty credential caches), then the requests
    // spread over every tenant; count AssumeRole on the tenant role. Reads of
    // a missing note: the same credential path as any request, and the
    // cheapest one for the emulator (one GetItem).
    eprintln!(
        "[bench] STS traffic: {} get-note requests over {} tenants, from fresh instances",
        options.sts_requests,
        tokens.len()
    );
    probe.recycle(&notes).await?;
    let started_before = probe.function(&notes).await?.instances_started;
    let key = format!("AssumeRole {tenant_role}");
    const GET_ITEM: &str = "DynamoDB_20120810.GetItem";
    let counters = probe.counters().await?;
    let (before, gets_before) =
        (counters.get(&key).copied().unwrap_or(0), counters.get(GET_ITEM).copied().unwrap_or(0));
    let (_, errors, wall) =
        drive(&probe.http, &probe.gateway, &tokens, Kind::GetMissingNote, options.sts_requests, options.concurrency)
            .await?;
    let counters = probe.counters().await?;
    let (after, gets_after) = (counters.get(&key).copied().unwrap_or(0), counters.get(GET_ITEM).copied().unwrap_or(0));
    let instances = probe.function(&notes).await?.instances_started - started_before;
    if errors > 0 {
        eprintln!("[bench] warning: {errors} errors during the STS run");
    }
    let sts = StsTraffic {
        requests: options.sts_requests,
        tenants: tokens.len(),
        assume_role_calls: after - before,
        instances,
        // Each request's own GetItem is the note's; the rest are authority reads.
        authority_reads: (gets_after - gets_before).saturating_sub(options.sts_requests as u64),
        freshness_seconds: stack.authority_freshness().await?.as_secs_f64(),
        wall_seconds: wall.as_secs_f64(),
    };
    eprintln!(
        "[bench] STS: {} AssumeRole calls for {} requests, {} tenants, {} instances; {} authority reads (bound {})",
        sts.assume_role_calls,
        sts.requests,
        sts.tenants,
        sts.instances,
        sts.authority_reads,
        sts.authority_read_bound()
    );
    results.sts = Some(sts);

    for pool in probe.functions().await? {
        let Some(function) = FUNCTIONS.iter().find(|f| pool.function == format!("{}-{f}", options.prefix)) else {
            continue;
        };
        if let Some(peak) = pool.instances.iter().filter_map(|i| i.max_rss_kb).max() {
            results.peak_rss_kb.insert((*function).to_owned(), peak);
        }
        results.instances_started.insert((*function).to_owned(), pool.instances_started);
    }
    Ok(results)
}
