//! Shared helpers of the integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use local_gateway::gateway::{Gateway, router};
use local_gateway::runtime::FunctionSpec;

/// The fake function (see fake_runtime.sh), written to a fresh folder.
pub fn fake_bootstrap() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-gateway-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bootstrap");
    std::fs::write(&path, include_str!("fake_runtime.sh")).expect("write bootstrap");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// A spec running the fake function.
pub fn fake_spec(name: &str, timeout: Duration, max_instances: usize) -> FunctionSpec {
    let executable = fake_bootstrap();
    let task_root = executable.parent().expect("parent").to_path_buf();
    FunctionSpec {
        name: name.to_owned(),
        arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
        executable,
        task_root,
        env: vec![
            ("PATH".to_owned(), std::env::var("PATH").unwrap_or_default()),
            ("AWS_LAMBDA_FUNCTION_NAME".to_owned(), name.to_owned()),
        ],
        timeout,
        memory_mb: 128,
        max_instances,
        env_hook: None,
        log_file: None,
    }
}

/// Serves `gateway` on 127.0.0.1 (any port); returns the base URL.
pub async fn serve(gateway: impl FnOnce(u16) -> Gateway) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(Arc::new(gateway(addr.port()))).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// Whether a process is gone (or a zombie about to be reaped).
pub fn process_gone(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Waits up to `limit` for `check`.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

/// A reqwest client that ignores proxy settings.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("client")
}
