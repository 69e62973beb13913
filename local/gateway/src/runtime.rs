//! Lambda execution with the real function binaries: per function a pool of
//! instances, each an unmodified `bootstrap` process with its own Lambda
//! Runtime API listener (`AWS_LAMBDA_RUNTIME_API`).
//!
//! - An instance starts on first use and stays warm; concurrent invocations
//!   get further instances up to a cap, then queue.
//! - A process exit mid-invocation is a crash, no answer within the
//!   function's timeout is a timeout: either way the instance is killed and a
//!   replacement started.
//! - Every instance runs in its own process group; the group is killed when
//!   the instance is dropped, and [`ProcessRegistry::kill_all`] kills every
//!   group still alive (shutdown).

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

/// Time an instance may take from start to its first `next` call (Lambda's
/// init phase limit).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response payload a runtime may post (Lambda's synchronous limit).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// Extra environment for a new instance (the execution role's credentials).
pub type EnvHook =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Vec<(String, String)>, String>> + Send>> + Send + Sync>;

/// What is needed to run a function.
#[derive(Clone)]
pub struct FunctionSpec {
    pub name: String,
    pub arn: String,
    /// The extracted `bootstrap`.
    pub executable: PathBuf,
    /// Working directory and `LAMBDA_TASK_ROOT`.
    pub task_root: PathBuf,
    /// The complete environment except `AWS_LAMBDA_RUNTIME_API` and what
    /// `env_hook` adds.
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    pub memory_mb: i64,
    /// Most instances running at once; further invocations queue.
    pub max_instances: usize,
    pub env_hook: Option<EnvHook>,
    /// Every line the function's instances write also goes here, as Lambda
    /// gives each function its own log group.
    pub log_file: Option<PathBuf>,
}

impl std::fmt::Debug for FunctionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionSpec")
            .field("name", &self.name)
            .field("arn", &self.arn)
            .field("executable", &self.executable)
            .field("timeout", &self.timeout)
            .field("memory_mb", &self.memory_mb)
            .field("max_instances", &self.max_instances)
            .finish_non_exhaustive()
    }
}

/// The function answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `.../response`: the result payload.
    Success(Bytes),
    /// `.../error`: the error document and its type.
    FunctionError { payload: Bytes, error_type: String },
}

/// The function did not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("runtime exited with {0}")]
    Crashed(String),
    #[error("task timed out after {:.2} seconds", .0.as_secs_f64())]
    TimedOut(Duration),
    #[error("runtime init error")]
    InitFailed { payload: Bytes, error_type: String },
    #[error("cannot start the function: {0}")]
    StartFailed(String),
}

/// One invocation's result.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub result: Result<Outcome, Failure>,
}

/// Process groups of running instances, for a last-resort kill at shutdown.
#[derive(Debug, Clone, Default)]
pub struct ProcessRegistry {
    groups: Arc<Mutex<HashSet<i32>>>,
}

impl ProcessRegistry {
    fn add(&self, pgid: i32) {
        lock(&self.groups).insert(pgid);
    }

    fn remove(&self, pgid: i32) {
        lock(&self.groups).remove(&pgid);
    }

    /// Process groups alive.
    pub fn len(&self) -> usize {
        lock(&self.groups).len()
    }

    /// Whether no instance is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// SIGKILL every registered process group.
    pub fn kill_all(&self) {
        let groups: Vec<i32> = lock(&self.groups).drain().collect();
        for pgid in groups {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kills its process group when dropped.
struct GroupGuard {
    pgid: i32,
    registry: ProcessRegistry,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let _ = killpg(Pid::from_raw(self.pgid), Signal::SIGKILL);
        self.registry.remove(self.pgid);
    }
}

/// Aborts a task when dropped.
#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

// --- Runtime API (one server per instance) ------------------------------------

enum Reply {
    Response(Bytes),
    Error { payload: Bytes, error_type: String },
}

struct Pending {
    request_id: String,
    payload: Bytes,
    trace_id: String,
    taken: oneshot::Sender<Instant>,
    done: oneshot::Sender<Reply>,
}

#[derive(Clone, Debug)]
enum InstanceState {
    Running,
    InitError { payload: Bytes, error_type: String },
    Exited(String),
}

struct Shared {
    function_arn: String,
    timeout: Duration,
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    current: Mutex<Option<(String, oneshot::Sender<Reply>)>>,
    state: watch::Sender<InstanceState>,
    ready_at: OnceLock<Instant>,
    /// The first `.../response` or `.../error` post.
    first_answer_at: OnceLock<Instant>,
}

fn runtime_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(DefaultBodyLimit::max(MAX_RESPONSE_BYTES))
        .with_state(shared)
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.ready_at.get_or_init(Instant::now);
    let pending = shared.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        // The instance is being shut down.
        return (StatusCode::GONE, "instance stopped").into_response();
    };
    let deadline = SystemTime::now()
        .checked_add(shared.timeout)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    let _ = pending.taken.send(Instant::now());
    *lock(&shared.current) = Some((pending.request_id.clone(), pending.done));
    let mut headers = HeaderMap::new();
    let pairs = [
        ("lambda-runtime-aws-request-id", pending.request_id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        ("lambda-runtime-invoked-function-arn", shared.function_arn.clone()),
        ("lambda-runtime-trace-id", pending.trace_id),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    (StatusCode::OK, headers, pending.payload).into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

fn take_current(shared: &Shared, id: &str) -> Option<oneshot::Sender<Reply>> {
    let mut current = lock(&shared.current);
    match current.as_ref() {
        Some((current_id, _)) if current_id == id => current.take().map(|(_, done)| done),
        _ => None,
    }
}

fn invalid_request_id() -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})),
    )
        .into_response()
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    match take_current(&shared, &id) {
        Some(done) => {
            shared.first_answer_at.get_or_init(Instant::now);
            let _ = done.send(Reply::Response(body));
            accepted()
        }
        None => invalid_request_id(),
    }
}

/// The error document and type of an `.../error` or `init/error` post.
fn error_document(headers: &HeaderMap, body: Bytes) -> (Bytes, String) {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let error_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parsed.as_ref().and_then(|v| v.get("errorType")).and_then(|v| v.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "Unhandled".to_owned());
    let payload = match parsed {
        Some(value) if value.is_object() => body,
        _ => Bytes::from(json!({"errorMessage": String::from_utf8_lossy(&body), "errorType": error_type}).to_string()),
    };
    (payload, error_type)
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    match take_current(&shared, &id) {
        Some(done) => {
            shared.first_answer_at.get_or_init(Instant::now);
            let (payload, error_type) = error_document(&headers, body);
            let _ = done.send(Reply::Error { payload, error_type });
            accepted()
        }
        None => invalid_request_id(),
    }
}

async fn init_error(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let (payload, error_type) = error_document(&headers, body);
    shared.state.send_replace(InstanceState::InitError { payload, error_type });
    accepted()
}

// --- Instances ---------------------------------------------------------------

struct Instance {
    metrics: Arc<InstanceMetrics>,
    shared: Arc<Shared>,
    queue: mpsc::Sender<Pending>,
    state: watch::Receiver<InstanceState>,
    spawned_at: Instant,
    invocations: u64,
    /// Whether the runtime fetched the last invocation (ran any code for it).
    took_last: bool,
    // Dropping these stops the Runtime API server and kills the process group.
    _kill: oneshot::Sender<()>,
    _server: AbortOnDrop,
}

impl Instance {
    async fn spawn(spec: &FunctionSpec, registry: &ProcessRegistry) -> Result<Self, Failure> {
        let start_failed = |e: &dyn std::fmt::Display| Failure::StartFailed(e.to_string());
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| start_failed(&e))?;
        let runtime_api = listener.local_addr().map_err(|e| start_failed(&e))?;
        let (queue, queue_rx) = mpsc::channel(1);
        let (state_tx, state) = watch::channel(InstanceState::Running);
        let shared = Arc::new(Shared {
            function_arn: spec.arn.clone(),
            timeout: spec.timeout,
            queue: tokio::sync::Mutex::new(queue_rx),
            current: Mutex::new(None),
            state: state_tx,
            ready_at: OnceLock::new(),
            first_answer_at: OnceLock::new(),
        });
        let app = runtime_router(Arc::clone(&shared));
        let server = AbortOnDrop(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));

        let mut env = spec.env.clone();
        if let Some(hook) = &spec.env_hook {
            env.extend(hook().await.map_err(Failure::StartFailed)?);
        }
        env.push(("AWS_LAMBDA_RUNTIME_API".to_owned(), runtime_api.to_string()));
        let spawned_at = Instant::now();
        let mut child = Command::new(&spec.executable)
            .current_dir(&spec.task_root)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .map_err(|e| Failure::StartFailed(format!("{}: {e}", spec.executable.display())))?;
        let pid = child.id().ok_or_else(|| Failure::StartFailed("no pid".to_owned()))?;
        let pgid = i32::try_from(pid).map_err(|e| start_failed(&e))?;
        registry.add(pgid);
        let guard = GroupGuard { pgid, registry: registry.clone() };
        if let Some(stdout) = child.stdout.take() {
            forward_output(spec.name.clone(), spec.log_file.clone(), stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            forward_output(spec.name.clone(), spec.log_file.clone(), stderr);
        }
        let (kill, kill_rx) = oneshot::channel::<()>();
        let state_tx = shared.state.clone();
        tokio::spawn(async move {
            let _guard = guard;
            tokio::select! {
                status = child.wait() => {
                    let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                    state_tx.send_replace(InstanceState::Exited(status));
                }
                _ = kill_rx => {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                }
            }
            // `_guard` kills what is left of the group (children of the runtime).
        });
        tracing::debug!(function = %spec.name, pid, %runtime_api, "instance started");
        Ok(Self {
            metrics: Arc::new(InstanceMetrics::new(pid)),
            shared,
            queue,
            state,
            spawned_at,
            invocations: 0,
            took_last: false,
            _kill: kill,
            _server: server,
        })
    }

    fn is_alive(&self) -> bool {
        matches!(*self.state.borrow(), InstanceState::Running)
    }

    /// Records the init phase (spawn to first `next`) and spawn to first
    /// answer once known, and the process's CPU time and peak memory now.
    fn record(&self) {
        let metrics = &self.metrics;
        metrics.invocations.store(self.invocations, Ordering::Relaxed);
        if let Some(ready) = self.shared.ready_at.get() {
            metrics.init.get_or_init(|| ready.duration_since(self.spawned_at));
        }
        if let Some(answered) = self.shared.first_answer_at.get() {
            metrics.first_answer.get_or_init(|| answered.duration_since(self.spawned_at));
        }
        metrics.sample();
    }

    /// Resolves when the instance can no longer answer.
    async fn failed(state: &mut watch::Receiver<InstanceState>) -> Failure {
        loop {
            match &*state.borrow_and_update() {
                InstanceState::Running => {}
                InstanceState::InitError { payload, error_type } => {
                    return Failure::InitFailed { payload: payload.clone(), error_type: error_type.clone() };
                }
                InstanceState::Exited(status) => return Failure::Crashed(status.clone()),
            }
            if state.changed().await.is_err() {
                return Failure::Crashed("instance monitor stopped".to_owned());
            }
        }
    }

    /// Hands one invocation to the runtime and waits for its answer. Returns
    /// the result and the time the runtime took for it.
    async fn invoke(
        &mut self,
        request_id: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> (Result<Outcome, Failure>, Duration) {
        self.invocations += 1;
        self.took_last = false;
        let (taken_tx, taken_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let pending = Pending {
            request_id: request_id.to_owned(),
            payload,
            trace_id: trace_id(),
            taken: taken_tx,
            done: done_tx,
        };
        let mut state = self.state.clone();
        if self.queue.send(pending).await.is_err() {
            return (Err(Failure::Crashed("runtime API stopped".to_owned())), Duration::ZERO);
        }
        let taken_at = tokio::select! {
            biased;
            taken = taken_rx => match taken {
                Ok(at) => at,
                Err(_) => return (Err(Failure::Crashed("invocation dropped".to_owned())), Duration::ZERO),
            },
            failure = Self::failed(&mut state) => return (Err(failure), Duration::ZERO),
            () = tokio::time::sleep(INIT_TIMEOUT + timeout) => return (Err(Failure::TimedOut(timeout)), Duration::ZERO),
        };
        self.took_last = true;
        let result = tokio::select! {
            biased;
            reply = done_rx => match reply {
                Ok(Reply::Response(body)) => Ok(Outcome::Success(body)),
                Ok(Reply::Error { payload, error_type }) => Ok(Outcome::FunctionError { payload, error_type }),
                Err(_) => Err(Failure::Crashed("runtime asked for the next invocation without answering".to_owned())),
            },
            failure = Self::failed(&mut state) => Err(failure),
            () = tokio::time::sleep(timeout) => Err(Failure::TimedOut(timeout)),
        };
        (result, taken_at.elapsed())
    }
}

/// Each line of an instance's output to the gateway's stderr, prefixed with
/// the function, and to the function's log file (appended whole, so lines of
/// concurrent instances never interleave).
fn forward_output(function: String, log_file: Option<PathBuf>, stream: impl AsyncRead + Unpin + Send + 'static) {
    tokio::spawn(async move {
        if let Some(folder) = log_file.as_deref().and_then(std::path::Path::parent) {
            let _ = tokio::fs::create_dir_all(folder).await;
        }
        let mut file = match &log_file {
            Some(path) => match tokio::fs::OpenOptions::new().create(true).append(true).open(path).await {
                Ok(file) => Some(file),
                Err(error) => {
                    tracing::warn!(%function, path = %path.display(), %error, "cannot open the function's log file");
                    None
                }
            },
            None => None,
        };
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("[{function}] {line}");
            if let Some(out) = file.as_mut()
                && out.write_all(format!("{line}\n").as_bytes()).await.is_err()
            {
                file = None;
            }
        }
    });
}

/// `Root=1-<8 hex time>-<24 hex>`, X-Ray's trace id format.
fn trace_id() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{secs:08x}-{};Sampled=0", &random[..24])
}

/// Peak resident set size of `pid` in kB (VmHWM), if readable.
fn max_memory_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()
}

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on Linux).
pub const CLOCK_TICKS_PER_SECOND: u64 = 100;

/// CPU time `pid` has used, user + system, in clock ticks, if readable.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&stat)
}

/// `utime + stime` of a `/proc/<pid>/stat` line (fields 14 and 15; the
/// command name before them is parenthesised and may hold spaces).
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    // `rest` starts with field 3 (state).
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

// --- Metrics -----------------------------------------------------------------

/// What the gateway knows about one instance; kept after it stopped.
#[derive(Debug)]
struct InstanceMetrics {
    pid: u32,
    /// Spawn to the first `GET .../invocation/next` (Lambda's init duration).
    init: OnceLock<Duration>,
    /// Spawn to the first response (or error) posted.
    first_answer: OnceLock<Duration>,
    invocations: AtomicU64,
    /// Last sampled `utime + stime`, in clock ticks (`u64::MAX`: never read).
    cpu_ticks: AtomicU64,
    /// Last sampled VmHWM in kB (`u64::MAX`: never read).
    max_rss_kb: AtomicU64,
    stopped: AtomicBool,
}

impl InstanceMetrics {
    fn new(pid: u32) -> Self {
        Self {
            pid,
            init: OnceLock::new(),
            first_answer: OnceLock::new(),
            invocations: AtomicU64::new(0),
            cpu_ticks: AtomicU64::new(u64::MAX),
            max_rss_kb: AtomicU64::new(u64::MAX),
            stopped: AtomicBool::new(false),
        }
    }

    /// Reads CPU time and peak memory from `/proc` while the process runs.
    fn sample(&self) {
        if self.stopped.load(Ordering::Relaxed) {
            return;
        }
        if let Some(ticks) = cpu_ticks(self.pid) {
            self.cpu_ticks.store(ticks, Ordering::Relaxed);
        }
        if let Some(kb) = max_memory_kb(self.pid) {
            self.max_rss_kb.store(kb, Ordering::Relaxed);
        }
    }

    fn snapshot(&self) -> InstanceSnapshot {
        self.sample();
        let known = |value: u64| (value != u64::MAX).then_some(value);
        let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
        InstanceSnapshot {
            pid: self.pid,
            running: !self.stopped.load(Ordering::Relaxed),
            invocations: self.invocations.load(Ordering::Relaxed),
            init_ms: self.init.get().map(ms),
            first_response_ms: self.first_answer.get().map(ms),
            cpu_ticks: known(self.cpu_ticks.load(Ordering::Relaxed)),
            max_rss_kb: known(self.max_rss_kb.load(Ordering::Relaxed)),
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.metrics.sample();
        self.metrics.stopped.store(true, Ordering::Relaxed);
    }
}

/// One instance as the metrics endpoint reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceSnapshot {
    pub pid: u32,
    /// Still alive (warm or busy).
    pub running: bool,
    /// Invocations finished by this instance.
    pub invocations: u64,
    /// Spawn to the first `GET /runtime/invocation/next`: Lambda's init duration.
    pub init_ms: Option<f64>,
    /// Spawn to the first response (or error) posted for an invocation.
    pub first_response_ms: Option<f64>,
    /// `utime + stime` of the process (last sample), in clock ticks of
    /// [`CLOCK_TICKS_PER_SECOND`].
    pub cpu_ticks: Option<u64>,
    /// Peak resident set size (VmHWM, last sample), in kB.
    pub max_rss_kb: Option<u64>,
}

/// One function as the metrics endpoint reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolSnapshot {
    pub function: String,
    pub instances_started: u64,
    pub invocations: u64,
    pub clock_ticks_per_second: u64,
    /// Instances in start order, the most recent [`METRICS_HISTORY`] ones.
    pub instances: Vec<InstanceSnapshot>,
}

/// Instances remembered per function for the metrics endpoint.
pub const METRICS_HISTORY: usize = 1024;

// --- Pool --------------------------------------------------------------------

/// The instances of one function.
pub struct FunctionPool {
    spec: FunctionSpec,
    idle: Mutex<Vec<Instance>>,
    permits: Semaphore,
    registry: ProcessRegistry,
    started: AtomicU64,
    invocations: AtomicU64,
    history: Mutex<VecDeque<Arc<InstanceMetrics>>>,
}

impl std::fmt::Debug for FunctionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionPool")
            .field("spec", &self.spec)
            .field("idle", &lock(&self.idle).len())
            .finish_non_exhaustive()
    }
}

impl FunctionPool {
    pub fn new(spec: FunctionSpec, registry: ProcessRegistry) -> Arc<Self> {
        let permits = Semaphore::new(spec.max_instances.max(1));
        Arc::new(Self {
            spec,
            idle: Mutex::new(Vec::new()),
            permits,
            registry,
            started: AtomicU64::new(0),
            invocations: AtomicU64::new(0),
            history: Mutex::new(VecDeque::new()),
        })
    }

    /// Every remembered instance of this function, with its init duration,
    /// CPU time and peak memory.
    pub fn snapshot(&self) -> PoolSnapshot {
        let history: Vec<Arc<InstanceMetrics>> = lock(&self.history).iter().cloned().collect();
        PoolSnapshot {
            function: self.spec.name.clone(),
            instances_started: self.instances_started(),
            invocations: self.invocations(),
            clock_ticks_per_second: CLOCK_TICKS_PER_SECOND,
            instances: history.iter().map(|m| m.snapshot()).collect(),
        }
    }

    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    /// Instances started so far (replacements included).
    pub fn instances_started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Invocations handed to an instance so far.
    pub fn invocations(&self) -> u64 {
        self.invocations.load(Ordering::Relaxed)
    }

    /// Warm instances waiting for work.
    pub fn idle_instances(&self) -> usize {
        lock(&self.idle).len()
    }

    async fn start_instance(&self) -> Result<Instance, Failure> {
        self.started.fetch_add(1, Ordering::Relaxed);
        let instance = Instance::spawn(&self.spec, &self.registry).await?;
        let mut history = lock(&self.history);
        if history.len() == METRICS_HISTORY {
            history.pop_front();
        }
        history.push_back(Arc::clone(&instance.metrics));
        Ok(instance)
    }

    /// Runs one invocation synchronously (RequestResponse).
    pub async fn invoke(self: &Arc<Self>, payload: Bytes) -> Invocation {
        let request_id = uuid::Uuid::new_v4().to_string();
        let result = self.invoke_with_id(&request_id, payload).await;
        Invocation { request_id, result }
    }

    async fn invoke_with_id(self: &Arc<Self>, request_id: &str, payload: Bytes) -> Result<Outcome, Failure> {
        let Ok(_permit) = self.permits.acquire().await else {
            return Err(Failure::StartFailed("pool closed".to_owned()));
        };
        let mut retried = false;
        let (instance, result, duration) = loop {
            let warm = {
                let mut idle = lock(&self.idle);
                idle.retain(Instance::is_alive);
                idle.pop()
            };
            let mut instance = match warm {
                Some(instance) => instance,
                None => self.start_instance().await?,
            };
            let (result, duration) = instance.invoke(request_id, payload.clone(), self.spec.timeout).await;
            // An idle instance that died before the gateway noticed never took
            // the request: no code ran for it, so a fresh instance may serve it
            // (Lambda never routes to a dead environment). Once, and not after
            // a timeout.
            let died_before_taking = !instance.took_last && matches!(result, Err(Failure::Crashed(_)));
            if died_before_taking && !retried && instance.invocations > 1 {
                retried = true;
                tracing::debug!(function = %self.spec.name, %request_id, "idle instance had died: retrying on a fresh one");
                continue;
            }
            break (instance, result, duration);
        };
        let name = &self.spec.name;
        eprintln!("[{name}] START RequestId: {request_id} Version: $LATEST");
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let cold = instance.invocations == 1;
        instance.record();
        let memory = match instance.metrics.max_rss_kb.load(Ordering::Relaxed) {
            u64::MAX => "-".to_owned(),
            kb => kb.div_ceil(1024).to_string(),
        };
        let init = match (cold, instance.shared.ready_at.get()) {
            (true, Some(ready)) => {
                format!("\tInit Duration: {:.2} ms", ready.duration_since(instance.spawned_at).as_secs_f64() * 1000.0)
            }
            _ => String::new(),
        };
        let ms = duration.as_secs_f64() * 1000.0;
        if let Err(failure) = &result {
            eprintln!("[{name}] {request_id} Error: {failure}");
        }
        eprintln!("[{name}] END RequestId: {request_id}");
        eprintln!(
            "[{name}] REPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {memory} MB{init}",
            ms.ceil() as u64,
            self.spec.memory_mb,
        );
        match &result {
            Ok(_) => lock(&self.idle).push(instance),
            Err(_) => {
                // Kill it (drop) and keep a warm replacement.
                drop(instance);
                let pool = Arc::clone(self);
                tokio::spawn(async move { pool.replenish().await });
            }
        }
        result
    }

    /// Starts a warm instance if none is idle.
    async fn replenish(self: Arc<Self>) {
        if self.idle_instances() > 0 {
            return;
        }
        let Ok(_permit) = self.permits.try_acquire() else {
            return; // busy: the next invocation starts one if needed
        };
        match self.start_instance().await {
            Ok(instance) => lock(&self.idle).push(instance),
            Err(error) => tracing::warn!(function = %self.spec.name, %error, "replacement instance did not start"),
        }
    }

    /// Kills every idle instance (busy ones are killed when their invocation ends
    /// or by [`ProcessRegistry::kill_all`]).
    pub fn stop(&self) {
        lock(&self.idle).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_utime_plus_stime_even_with_spaces_in_the_command() {
        let stat = "4242 (boot strap) S 1 4242 4242 0 -1 4194304 1068 0 0 0 37 5 0 0 20 0 2 0 1234 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(42));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }
}
