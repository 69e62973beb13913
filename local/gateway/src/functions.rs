//! The functions the gateway can run, by name: pools built from the
//! emulator's deployment on first use (or registered directly, in tests).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::emulator::{Emulator, FunctionDef, LoadError, function_name};
use crate::iam::IssuedCredentials;
use crate::runtime::{EnvHook, FunctionPool, FunctionSpec, PoolSnapshot, ProcessRegistry};

/// Where functions come from when they are not registered yet.
#[derive(Debug, Clone)]
pub struct FunctionSource {
    pub emulator: Arc<Emulator>,
    /// `.local`: functions are extracted under `<work_dir>/functions/<name>`.
    pub work_dir: PathBuf,
    /// Folders with the local zips (`target/lambda-local`).
    pub packages: Vec<PathBuf>,
    /// The gateway's own URL: `AWS_ENDPOINT_URL_LAMBDA` (and `<url>/cognito`,
    /// `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`) of every function.
    pub gateway_url: String,
    /// Where the execution-role credentials handed to instances are recorded.
    pub issued: IssuedCredentials,
    pub max_instances: usize,
}

/// The registry of function pools.
#[derive(Debug)]
pub struct Functions {
    pools: Mutex<HashMap<String, Arc<FunctionPool>>>,
    source: Option<FunctionSource>,
    processes: ProcessRegistry,
}

impl Functions {
    pub fn new(source: Option<FunctionSource>, processes: ProcessRegistry) -> Self {
        Self { pools: Mutex::new(HashMap::new()), source, processes }
    }

    pub fn processes(&self) -> &ProcessRegistry {
        &self.processes
    }

    /// Registers a pool under its function's name.
    pub async fn insert(&self, spec: FunctionSpec) -> Arc<FunctionPool> {
        let pool = FunctionPool::new(spec, self.processes.clone());
        self.pools.lock().await.insert(pool.spec().name.clone(), Arc::clone(&pool));
        pool
    }

    /// The pool of a function given by name or ARN, loading it from the
    /// emulator on first use.
    pub async fn get(&self, reference: &str) -> Result<Arc<FunctionPool>, LoadError> {
        let name = function_name(reference);
        let mut pools = self.pools.lock().await;
        if let Some(pool) = pools.get(&name) {
            return Ok(Arc::clone(pool));
        }
        let source =
            self.source.as_ref().ok_or_else(|| LoadError::NotFound(format!("function {name} is not known")))?;
        let def = source.emulator.load_function(&name, &source.work_dir, &source.packages).await?;
        tracing::info!(function = %def.name, timeout_s = def.timeout_s, memory_mb = def.memory_mb, "function loaded");
        let pool = FunctionPool::new(source.spec(def), self.processes.clone());
        pools.insert(name, Arc::clone(&pool));
        Ok(pool)
    }

    /// The metrics of every function loaded so far, by name.
    pub async fn snapshot(&self) -> Vec<PoolSnapshot> {
        let pools: Vec<Arc<FunctionPool>> = self.pools.lock().await.values().cloned().collect();
        let mut snapshots: Vec<PoolSnapshot> = pools.iter().map(|pool| pool.snapshot()).collect();
        snapshots.sort_by(|a, b| a.function.cmp(&b.function));
        snapshots
    }

    /// Kills every idle instance.
    pub async fn stop_all(&self) {
        for pool in self.pools.lock().await.values() {
            pool.stop();
        }
    }
}

impl FunctionSource {
    /// The environment Lambda gives the function: its variables as deployed,
    /// then the reserved ones, the endpoints and (per instance) the execution
    /// role's credentials.
    pub fn spec(&self, def: FunctionDef) -> FunctionSpec {
        let mut env: BTreeMap<String, String> = def.env.clone();
        let region = self.emulator.region.clone();
        let task_root = def.task_root.display().to_string();
        let reserved = [
            ("AWS_LAMBDA_FUNCTION_NAME", def.name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", def.memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", def.name)),
            ("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/[$LATEST]{}", uuid::Uuid::new_v4().simple())),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("AWS_REGION", region.clone()),
            ("AWS_DEFAULT_REGION", region),
            ("_HANDLER", def.handler.clone()),
            ("LAMBDA_TASK_ROOT", task_root.clone()),
            ("LAMBDA_RUNTIME_DIR", task_root),
            ("PATH", std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".to_owned())),
            ("LANG", "en_US.UTF-8".to_owned()),
            ("TZ", ":UTC".to_owned()),
            ("AWS_ENDPOINT_URL", self.emulator.endpoint.clone()),
            ("AWS_ENDPOINT_URL_LAMBDA", self.gateway_url.clone()),
            // Cognito through the gateway, as on AWS: admin calls are checked
            // against the deployed policies, and the emails Cognito would send
            // reach the gateway's mailbox.
            ("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", format!("{}/cognito", self.gateway_url)),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ];
        for (name, value) in reserved {
            env.insert(name.to_owned(), value);
        }
        let hook: Option<EnvHook> = def.role.clone().map(|role| {
            let emulator = Arc::clone(&self.emulator);
            let issued = self.issued.clone();
            let session = def.name.clone();
            let hook: EnvHook = Arc::new(move || {
                let emulator = Arc::clone(&emulator);
                let issued = issued.clone();
                let role = role.clone();
                let session = session.clone();
                Box::pin(async move {
                    let env = emulator.assume_role(&role, &session).await.map_err(|e| e.to_string())?;
                    // Known to the Invoke API: a request signed with these is this role's.
                    let var = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
                    if let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
                        issued.record(key, secret, var("AWS_SESSION_TOKEN"), &role, &session);
                    }
                    Ok(env)
                })
            });
            hook
        });
        FunctionSpec {
            log_file: Some(self.work_dir.join("logs").join(format!("{}.log", def.name))),
            name: def.name,
            arn: def.arn,
            executable: def.bootstrap,
            task_root: def.task_root,
            env: env.into_iter().collect(),
            timeout: Duration::from_secs(u64::try_from(def.timeout_s).unwrap_or(3)),
            memory_mb: i64::from(def.memory_mb),
            max_instances: self.max_instances,
            env_hook: hook,
        }
    }
}
