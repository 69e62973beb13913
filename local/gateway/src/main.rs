//! `local-gateway`: serves the HTTP API, Lambda and Cognito sign-in that
//! Terraform deployed to the emulator. See README.md.

// The SDK futures nest deeply; computing their layout needs more than the default 128.
#![recursion_limit = "256"]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use local_gateway::authorizer::{JwtAuthorizer, KeySource};
use local_gateway::cognito::Cognito;
use local_gateway::emulator::{ApiSelector, Emulator};
use local_gateway::functions::{FunctionSource, Functions};
use local_gateway::gateway::{Gateway, HttpApi, OPERATOR_SECRET_HEADER, RouteTarget, router};
use local_gateway::iam::{IamGuard, IssuedCredentials, Policies};
use local_gateway::jwt::HttpJwksSource;
use local_gateway::keys::SigningKey;
use local_gateway::routes::Route;
use local_gateway::runtime::ProcessRegistry;

/// Serves what Terraform deployed to the emulator: the HTTP API with its JWT
/// authorizer, the Lambda functions (real binaries, Runtime API) and Cognito
/// sign-in with the pre-token-generation trigger.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The emulator (moto) URL.
    #[arg(long, env = "LOCAL_GATEWAY_EMULATOR", default_value = "http://127.0.0.1:5055")]
    emulator: String,
    /// Address to listen on.
    #[arg(long, env = "LOCAL_GATEWAY_LISTEN", default_value = "127.0.0.1:4000")]
    listen: SocketAddr,
    /// Name of the HTTP API to serve.
    #[arg(long, env = "LOCAL_GATEWAY_API_NAME", default_value = "saas-local-http-api")]
    api_name: String,
    /// Id of the HTTP API to serve (instead of --api-name).
    #[arg(long, env = "LOCAL_GATEWAY_API_ID")]
    api_id: Option<String>,
    /// URL clients reach the gateway at (default http://<listen>).
    #[arg(long, env = "LOCAL_GATEWAY_PUBLIC_URL")]
    public_url: Option<String>,
    /// `iss` of the tokens the gateway issues (default <public-url>/cognito).
    /// The JWT authorizer must be deployed with this issuer.
    #[arg(long, env = "LOCAL_GATEWAY_ISSUER")]
    issuer: Option<String>,
    /// AWS region of the emulated deployment.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Working folder: function code is extracted under <work-dir>/functions/<name>/.
    #[arg(long, env = "LOCAL_GATEWAY_WORK_DIR", default_value = ".local")]
    work_dir: PathBuf,
    /// Folders holding the deployed zips (<dir>/<fn>/bootstrap.zip), matched by
    /// CodeSha256 when the emulator cannot hand out the code.
    #[arg(long, env = "LOCAL_GATEWAY_PACKAGES", value_delimiter = ',', default_value = "target/lambda-local")]
    packages: Vec<PathBuf>,
    /// Most instances per function; further concurrent invocations queue.
    #[arg(long, env = "LOCAL_GATEWAY_MAX_INSTANCES", default_value_t = 4)]
    max_instances: usize,
    /// Where to write the operator secret, new at every start, that the
    /// `/_local/...` endpoints require (default <work-dir>/operator-secret).
    #[arg(long, env = "LOCAL_GATEWAY_OPERATOR_SECRET_FILE")]
    operator_secret_file: Option<PathBuf>,
}

/// A new operator secret (256 random bits, hex), written to `path` readable
/// by its owner only.
fn write_operator_secret(path: &std::path::Path) -> Result<String, String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| "no randomness for the operator secret".to_owned())?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    // Replaced, not rewritten: a file left by another user keeps no say.
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(secret.as_bytes()))
        .map_err(|e| format!("cannot write the operator secret to {}: {e}", path.display()))?;
    Ok(secret)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let processes = ProcessRegistry::default();
    let result = run(Args::parse(), processes.clone()).await;
    // Whatever happened: no function process outlives the gateway.
    processes.kill_all();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The authorizer that protects a deployed route. Fails closed: a route whose
/// protection the gateway does not emulate is never served unprotected.
fn route_authorizer<A: Clone>(
    route_key: &str,
    authorization_type: &str,
    authorizer_id: Option<&str>,
    authorizers: &std::collections::HashMap<String, A>,
) -> Result<Option<A>, String> {
    match (authorization_type, authorizer_id) {
        ("JWT", Some(id)) => authorizers
            .get(id)
            .cloned()
            .map(Some)
            .ok_or_else(|| format!("route {route_key} uses unknown authorizer {id}")),
        ("NONE", _) => Ok(None),
        (other, id) => Err(format!(
            "route {route_key} uses authorization {other:?}{}, which the local gateway does not emulate; \
             refusing to serve it unprotected",
            if id.is_none() { " without an authorizer" } else { "" }
        )),
    }
}

async fn run(args: Args, processes: ProcessRegistry) -> Result<(), String> {
    let public_url =
        args.public_url.clone().unwrap_or_else(|| format!("http://{}", args.listen)).trim_end_matches('/').to_owned();
    let issuer = args.issuer.clone().unwrap_or_else(|| format!("{public_url}/cognito"));
    let emulator = Arc::new(Emulator::new(&args.emulator, &args.region).await);
    let account_id = emulator.account_id().await.map_err(|e| e.to_string())?;
    let keys = Arc::new(SigningKey::generate().map_err(|e| e.to_string())?);
    let work_dir = std::path::absolute(&args.work_dir).map_err(|e| e.to_string())?;
    let packages =
        args.packages.iter().map(std::path::absolute).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;

    let selector = match &args.api_id {
        Some(id) => ApiSelector::Id(id.clone()),
        None => ApiSelector::Name(args.api_name.clone()),
    };
    let api = emulator.load_api(&selector).await.map_err(|e| e.to_string())?;

    let mut authorizers = std::collections::HashMap::new();
    for def in api.authorizers.values() {
        let keys_source = if def.issuer == issuer {
            KeySource::Static(Arc::new(keys.jwks().clone()))
        } else {
            tracing::warn!(
                authorizer = %def.name,
                trusts = %def.issuer,
                gateway_issuer = %issuer,
                "the JWT authorizer does not trust the gateway's issuer: tokens from {public_url}/cognito will be rejected. Deploy the platform with jwt_issuer = \"{issuer}\"."
            );
            let jwks_url = match def.issuer.strip_prefix("https://cognito-idp.") {
                // moto serves a pool's JWKS at <emulator>/<pool id>/.well-known/jwks.json.
                Some(rest) => format!(
                    "{}/{}/.well-known/jwks.json",
                    emulator.endpoint,
                    rest.rsplit('/').next().unwrap_or_default()
                ),
                None => format!("{}/.well-known/jwks.json", def.issuer.trim_end_matches('/')),
            };
            KeySource::Http(HttpJwksSource::new(jwks_url).map_err(|e| e.to_string())?)
        };
        let authorizer = JwtAuthorizer::new(
            def.id.clone(),
            def.name.clone(),
            def.issuer.clone(),
            def.audience.clone(),
            &def.identity_sources,
            keys_source,
        )
        .map_err(|e| format!("authorizer {}: {e}", def.name))?;
        authorizers.insert(def.id.clone(), Arc::new(authorizer));
    }

    let issued = IssuedCredentials::default();
    let source = FunctionSource {
        emulator: Arc::clone(&emulator),
        work_dir: work_dir.clone(),
        packages,
        gateway_url: public_url.clone(),
        issued: issued.clone(),
        max_instances: args.max_instances,
    };
    let functions = Arc::new(Functions::new(Some(source), processes.clone()));
    let mut routes = Vec::new();
    for route in &api.routes {
        if let Some(function) = &route.function {
            // Fail fast on code that cannot be found; extraction happens here.
            functions.get(function).await.map_err(|e| e.to_string())?;
        }
        let authorizer = route_authorizer(
            &route.route_key,
            &route.authorization_type,
            route.authorizer_id.as_deref(),
            &authorizers,
        )?;
        routes.push(Route {
            route_key: route.route_key.clone(),
            target: RouteTarget {
                function: route.function.clone(),
                authorizer,
                throttle: Arc::new(api.throttling.throttle_for(&route.route_key)),
            },
        });
    }
    let cognito =
        Arc::new(Cognito::new(Arc::clone(&emulator), Arc::clone(&functions), Arc::clone(&keys), issuer.clone()));

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let secret_file = args.operator_secret_file.clone().unwrap_or_else(|| work_dir.join("operator-secret"));
    let operator_secret = write_operator_secret(&secret_file)?;
    let gateway = Arc::new(Gateway {
        api: Some(HttpApi::new(api.api_id.clone(), account_id.clone(), routes)),
        functions: Arc::clone(&functions),
        cognito: Some(cognito),
        port,
        operator_secret,
        iam_guard: IamGuard {
            issued,
            policies: Policies::Emulator(aws_sdk_iam::Client::new(&emulator.sdk)),
            account_id: account_id.clone(),
            region: args.region.clone(),
        },
    });

    let mut banner = format!("local-gateway: HTTP API {} ({}) from {}\n", api.name, api.api_id, emulator.endpoint);
    banner.push_str(&format!("  API:          {public_url}/  (routes: {})\n", api.routes.len()));
    for route in &api.routes {
        banner.push_str(&format!(
            "    {:<32} -> {} [{}]\n",
            route.route_key,
            route.function.as_deref().unwrap_or("-"),
            route.authorization_type
        ));
    }
    banner.push_str(&format!(
        "  Cognito:      {public_url}/cognito  (AWS SDK endpoint_url; InitiateAuth USER_PASSWORD_AUTH)\n"
    ));
    let client_ids: Vec<&str> = api.authorizers.values().flat_map(|a| a.audience.iter().map(String::as_str)).collect();
    banner.push_str(&format!(
        "  Sign in:      aws cognito-idp initiate-auth --endpoint-url {public_url}/cognito --auth-flow USER_PASSWORD_AUTH \\\n                  --client-id {} --auth-parameters USERNAME=<user>,PASSWORD=<password>\n                then: curl -H \"Authorization: Bearer <IdToken>\" {public_url}/notes\n",
        client_ids.first().copied().unwrap_or("<app client id>")
    ));
    banner.push_str(&format!("  Issuer:       {issuer}  (JWKS {issuer}/.well-known/jwks.json)\n"));
    banner.push_str(&format!(
        "  Lambda:       {public_url}  (Invoke API, AWS_ENDPOINT_URL_LAMBDA; SigV4 with the functions' credentials)\n"
    ));
    banner.push_str(&format!(
        "  Operator:     {public_url}/_local/...  (header {OPERATOR_SECRET_HEADER}: the contents of {})\n",
        secret_file.display()
    ));
    eprint!("{banner}");

    let app = router(gateway).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal(processes.clone()))
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("stopping: killing function instances");
    functions.stop_all().await;
    processes.kill_all();
    Ok(())
}

/// Resolves on SIGINT or SIGTERM, after killing every function instance (so
/// requests waiting on one end at once and the listener can drain).
async fn shutdown_signal(processes: ProcessRegistry) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    tracing::info!("stopping: killing function instances");
    processes.kill_all();
}

#[cfg(test)]
mod tests {
    use super::route_authorizer;
    use std::collections::HashMap;

    #[test]
    fn routes_keep_their_protection_or_the_gateway_refuses_them() {
        let authorizers = HashMap::from([("jwt1".to_owned(), "the jwt authorizer")]);
        assert_eq!(route_authorizer("GET /notes", "JWT", Some("jwt1"), &authorizers), Ok(Some("the jwt authorizer")));
        assert_eq!(route_authorizer("POST /tenants", "NONE", None, &authorizers), Ok(None));
        for (kind, id) in [("JWT", Some("other")), ("JWT", None), ("AWS_IAM", None), ("CUSTOM", Some("jwt1"))] {
            assert!(route_authorizer("GET /notes", kind, id, &authorizers).is_err(), "{kind} {id:?} must be refused");
        }
    }
}
