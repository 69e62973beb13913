//! Against moto (started by the test on its own port, from the repo's .venv):
//! Cognito sign-in through the gateway with the pre-token trigger, and the
//! gateway binary serving a deployment it reads from the emulator.

mod support;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_cognitoidentityprovider::error::SdkError;
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::{InitiateAuthError, InitiateAuthOutput};
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ExplicitAuthFlowsType, LambdaConfigType, PreTokenGenerationLambdaVersionType,
    PreTokenGenerationVersionConfigType,
};
use aws_sdk_lambda::primitives::Blob;
use local_gateway::authorizer::{JwtAuthorizer, KeySource};
use local_gateway::cognito::Cognito;
use local_gateway::emulator::Emulator;
use local_gateway::functions::Functions;
use local_gateway::gateway::{Gateway, HttpApi, RouteTarget};
use local_gateway::iam::{IamGuard, IssuedCredentials, Policies};
use local_gateway::jwt::{JwtVerifier, JwtVerifierConfig, TokenUseRule};
use local_gateway::keys::SigningKey;
use local_gateway::routes::Route;
use local_gateway::runtime::ProcessRegistry;
use local_gateway::throttle::Throttle;
use serde_json::{Value, json};
use support::{eventually, fake_spec, http, process_gone, serve};
use tokio::process::{Child, Command};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// moto_serialized.py on `port`, killed when dropped.
async fn moto(port: u16) -> (String, Child) {
    let root = repo_root();
    let python = root.join(".venv/bin/python");
    assert!(python.exists(), "{} missing: run `make tools`", python.display());
    let child = Command::new(python)
        .arg(root.join("local/moto_serialized.py"))
        .args(["-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("moto starts");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if http().get(format!("{url}/moto-api/")).send().await.is_ok() {
            return (url, child);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto did not answer on {url} (is the port taken?)");
}

fn credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "test")
}

fn cognito_client(endpoint: &str) -> aws_sdk_cognitoidentityprovider::Client {
    let config = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(aws_sdk_cognitoidentityprovider::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_cognitoidentityprovider::config::Region::new("us-east-1"))
        .credentials_provider(credentials())
        .build();
    aws_sdk_cognitoidentityprovider::Client::from_conf(config)
}

const TRIGGER: &str = "fake-trigger";
const ADMIN_ROLE: &str = "arn:aws:iam::123456789012:role/users-exec";
const PASSWORD: &str = "Passw0rd!long";

/// A pool whose pre-token trigger is TRIGGER, a client, and users alice
/// (group admins) and blocked-user. Returns (pool id, client id).
async fn cognito_setup(idp: &aws_sdk_cognitoidentityprovider::Client) -> (String, String) {
    let trigger = PreTokenGenerationVersionConfigType::builder()
        .lambda_arn(format!("arn:aws:lambda:us-east-1:123456789012:function:{TRIGGER}"))
        .lambda_version(PreTokenGenerationLambdaVersionType::V20)
        .build()
        .expect("trigger config");
    let pool = idp
        .create_user_pool()
        .pool_name("gateway-test")
        .lambda_config(LambdaConfigType::builder().pre_token_generation_config(trigger).build())
        .send()
        .await
        .expect("pool");
    let pool_id = pool.user_pool().and_then(|p| p.id()).expect("pool id").to_owned();
    let client = idp
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("client");
    let client_id = client.user_pool_client().and_then(|c| c.client_id()).expect("client id").to_owned();
    idp.create_group().user_pool_id(&pool_id).group_name("admins").send().await.expect("group");
    for user in ["alice", "blocked-user"] {
        idp.admin_create_user().user_pool_id(&pool_id).username(user).send().await.expect("user");
        idp.admin_set_user_password()
            .user_pool_id(&pool_id)
            .username(user)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("password");
    }
    idp.admin_add_user_to_group()
        .user_pool_id(&pool_id)
        .username("alice")
        .group_name("admins")
        .send()
        .await
        .expect("membership");
    (pool_id, client_id)
}

#[tokio::test]
#[ignore = "needs moto from .venv (make tools); starts it on port 5068"]
async fn sign_in_runs_the_trigger_and_tokens_verify_against_the_gateway_jwks() {
    let (moto_url, _moto) = moto(5068).await;
    let (pool_id, client_id) = cognito_setup(&cognito_client(&moto_url)).await;
    // Credentials the gateway "issued" to a function whose role may read users.
    let issued = IssuedCredentials::default();
    issued.record("ASIAUSERSFN", "users-secret", Some("users-token"), ADMIN_ROLE, "users");
    let read_users = serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "cognito-idp:AdminGetUser",
        "Resource": format!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool_id}")}]});
    let policies = Policies::Fixed(HashMap::from([(ADMIN_ROLE.to_owned(), vec![read_users])]));

    let emulator = Arc::new(Emulator::new(&moto_url, "us-east-1").await);
    let keys = Arc::new(SigningKey::generate().expect("key"));
    let functions = Arc::new(Functions::new(None, ProcessRegistry::default()));
    let trigger = functions.insert(fake_spec(TRIGGER, Duration::from_secs(5), 2)).await;
    // A separate function behind the API (the fake answers events naming a
    // trigger source as a trigger would, and the claims do name one).
    functions.insert(fake_spec("whoami", Duration::from_secs(5), 2)).await;
    let issuer_slot = Arc::new(std::sync::OnceLock::new());
    let slot = Arc::clone(&issuer_slot);
    let aud = client_id.clone();
    let url = serve(move |port| {
        let issuer = format!("http://127.0.0.1:{port}/cognito");
        slot.set(issuer.clone()).expect("once");
        let authorizer = Arc::new(
            JwtAuthorizer::new(
                "a1",
                "jwt",
                issuer.clone(),
                vec![aud],
                &[],
                KeySource::Static(Arc::new(keys.jwks().clone())),
            )
            .expect("authorizer"),
        );
        let routes = vec![Route {
            route_key: "GET /whoami".to_owned(),
            target: RouteTarget {
                function: Some("whoami".to_owned()),
                authorizer: Some(authorizer),
                throttle: Arc::new(Throttle::unlimited()),
            },
        }];
        Gateway {
            api: Some(HttpApi::new("api".to_owned(), "123456789012".to_owned(), routes)),
            functions: Arc::clone(&functions),
            cognito: Some(Arc::new(Cognito::new(emulator, Arc::clone(&functions), keys, issuer))),
            port,
            operator_secret: "not used here".to_owned(),
            iam_guard: IamGuard {
                issued,
                policies,
                account_id: "123456789012".to_owned(),
                region: "us-east-1".to_owned(),
            },
        }
    })
    .await;
    let issuer = issuer_slot.get().expect("issuer").clone();

    // Admin operations through /cognito: only what the caller's role allows.
    let as_users_function = aws_sdk_cognitoidentityprovider::Client::from_conf(
        aws_sdk_cognitoidentityprovider::Config::builder()
            .behavior_version(aws_sdk_cognitoidentityprovider::config::BehaviorVersion::latest())
            .endpoint_url(format!("{url}/cognito"))
            .region(aws_sdk_cognitoidentityprovider::config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "ASIAUSERSFN",
                "users-secret",
                Some("users-token".to_owned()),
                None,
                "test",
            ))
            .build(),
    );
    let user = as_users_function
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username("alice")
        .send()
        .await
        .expect("allowed by the role's policy");
    assert_eq!(user.username(), "alice");
    let denied = as_users_function
        .admin_set_user_password()
        .user_pool_id(&pool_id)
        .username("alice")
        .password("Other-passw0rd!")
        .permanent(true)
        .send()
        .await
        .expect_err("not in the role's policy");
    assert_eq!(
        aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata::code(&denied),
        Some("AccessDeniedException")
    );
    let stranger = cognito_client(&format!("{url}/cognito"))
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username("alice")
        .send()
        .await
        .expect_err("credentials the gateway never issued");
    assert_eq!(
        aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata::code(&stranger),
        Some("UnrecognizedClientException")
    );

    // The SDK, pointed at the gateway, unchanged.
    let idp = cognito_client(&format!("{url}/cognito"));
    let out = password_sign_in(&idp, &client_id, "alice").await.expect("sign-in");
    let result = out.authentication_result().expect("tokens");
    let id_token = result.id_token().expect("id token").to_owned();
    let access_token = result.access_token().expect("access token").to_owned();
    let refresh_token = result.refresh_token().expect("refresh token").to_owned();

    let jwks_url = format!("{issuer}/.well-known/jwks.json");
    let verifier = |rule| {
        JwtVerifier::new(JwtVerifierConfig::new(issuer.clone(), jwks_url.clone(), client_id.clone(), rule))
            .expect("verifier")
    };
    let id = verifier(TokenUseRule::Id).verify(&id_token).await.expect("ID token verifies");
    assert_eq!(id.claim_str("tenant_id"), Some("tenant-alice"));
    assert_eq!(id.claim_str("seen_source"), Some("TokenGeneration_Authentication"));
    assert_eq!(id.claim_str("cognito:username"), Some("alice"));
    assert_eq!(id.claim("cognito:groups"), Some(&serde_json::json!(["admins"])));
    let access = verifier(TokenUseRule::Access).verify(&access_token).await.expect("access token verifies");
    assert_eq!(access.claim_str("tenant_id"), Some("tenant-alice"));
    assert_eq!(trigger.invocations(), 1);

    // The HTTP API accepts the token and hands the trigger's claims on.
    let response = http().get(format!("{url}/whoami")).bearer_auth(&id_token).send().await.expect("whoami");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["event"]["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"], "tenant-alice");

    // A token straight from moto (no trigger, moto's issuer) is refused.
    let raw = password_sign_in(&cognito_client(&moto_url), &client_id, "alice").await.expect("moto sign-in");
    let raw_id = raw.authentication_result().and_then(|r| r.id_token()).expect("id").to_owned();
    let response = http().get(format!("{url}/whoami")).bearer_auth(&raw_id).send().await.expect("whoami");
    assert_eq!(response.status(), 401);

    // Refresh: moto's refresh token works, the trigger runs again.
    let out = idp
        .initiate_auth()
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .client_id(&client_id)
        .auth_parameters("REFRESH_TOKEN", &refresh_token)
        .send()
        .await
        .expect("refresh");
    let refreshed = out.authentication_result().and_then(|r| r.id_token()).expect("id token");
    let refreshed = verifier(TokenUseRule::Id).verify(refreshed).await.expect("verifies");
    assert_eq!(refreshed.claim_str("seen_source"), Some("TokenGeneration_RefreshTokens"));

    // Other operations are forwarded; our access token works with them.
    let user = idp.get_user().access_token(&access_token).send().await.expect("GetUser");
    assert_eq!(user.username(), "alice");

    // A trigger error fails the sign-in the way Cognito does.
    let error = password_sign_in(&idp, &client_id, "blocked-user").await.expect_err("trigger refuses");
    let error = error.into_service_error();
    assert!(error.is_user_lambda_validation_exception(), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("PreTokenGeneration failed with error membership disabled"), "{message}");
}

async fn password_sign_in(
    idp: &aws_sdk_cognitoidentityprovider::Client,
    client_id: &str,
    username: &str,
) -> Result<InitiateAuthOutput, SdkError<InitiateAuthError>> {
    idp.initiate_auth()
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .client_id(client_id)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
}

fn zip_of(script: &str) -> Vec<u8> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buffer);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options).expect("zip entry");
    zip.write_all(script.as_bytes()).expect("zip write");
    zip.finish().expect("zip");
    buffer.into_inner()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

#[tokio::test]
#[ignore = "needs moto from .venv (make tools); starts it on port 5069"]
async fn the_binary_serves_the_deployment_and_leaves_no_process_behind() {
    let (moto_url, _moto) = moto(5069).await;
    let sdk = Emulator::new(&moto_url, "us-east-1").await.sdk;
    let port = free_port();
    let gateway_url = format!("http://127.0.0.1:{port}");
    let issuer = format!("{gateway_url}/cognito");

    // The deployment, as Terraform would make it.
    let iam = aws_sdk_iam_free_role(&moto_url).await;
    let code = zip_of(include_str!("support/fake_runtime.sh"));
    let work = std::env::temp_dir().join(format!("local-gateway-bin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(work.join("pkgs/gw-fake")).expect("dirs");
    std::fs::write(work.join("pkgs/gw-fake/bootstrap.zip"), &code).expect("zip");
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let function = lambda
        .create_function()
        .function_name("gw-fake")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(iam)
        .timeout(5)
        .memory_size(256)
        .environment(aws_sdk_lambda::types::Environment::builder().variables("GREETING", "hello").build())
        .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(Blob::new(code)).build())
        .send()
        .await
        .expect("function");
    let function_arn = function.function_arn().expect("arn").to_owned();
    let api = aws_sdk_apigatewayv2::Client::new(&sdk);
    let created = api
        .create_api()
        .name("gw-test-api")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .send()
        .await
        .expect("api");
    let api_id = created.api_id().expect("api id").to_owned();
    let integration = api
        .create_integration()
        .api_id(&api_id)
        .integration_type(aws_sdk_apigatewayv2::types::IntegrationType::AwsProxy)
        .integration_uri(format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"
        ))
        .payload_format_version("2.0")
        .send()
        .await
        .expect("integration");
    let target = format!("integrations/{}", integration.integration_id().expect("id"));
    let authorizer = api
        .create_authorizer()
        .api_id(&api_id)
        .name("jwt")
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Jwt)
        .identity_source("$request.header.Authorization")
        .jwt_configuration(
            aws_sdk_apigatewayv2::types::JwtConfiguration::builder().issuer(&issuer).audience("client-x").build(),
        )
        .send()
        .await
        .expect("authorizer");
    api.create_route().api_id(&api_id).route_key("GET /hello").target(&target).send().await.expect("route");
    api.create_route()
        .api_id(&api_id)
        .route_key("GET /secure")
        .target(&target)
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Jwt)
        .authorizer_id(authorizer.authorizer_id().expect("id"))
        .send()
        .await
        .expect("route");
    // The stage: a generous default, and a one-request bucket for /secure
    // that does not refill during the test.
    let limits = |burst: i32, rate: f64| {
        aws_sdk_apigatewayv2::types::RouteSettings::builder()
            .throttling_burst_limit(burst)
            .throttling_rate_limit(rate)
            .build()
    };
    api.create_stage()
        .api_id(&api_id)
        .stage_name("$default")
        .auto_deploy(true)
        .default_route_settings(limits(1000, 500.0))
        .route_settings("GET /secure", limits(1, 0.001))
        .send()
        .await
        .expect("stage");

    let log = std::fs::File::create(work.join("gateway.log")).expect("log");
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_local-gateway"))
        .args(["--emulator", &moto_url, "--listen", &format!("127.0.0.1:{port}"), "--api-name", "gw-test-api"])
        .arg("--work-dir")
        .arg(&work)
        .arg("--packages")
        .arg(work.join("pkgs"))
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("gateway starts");
    let show_log = || std::fs::read_to_string(work.join("gateway.log")).unwrap_or_default();

    let mut answered = None;
    for _ in 0..100 {
        if let Ok(response) = http().get(format!("{gateway_url}/hello?mode=ENV-ME")).send().await {
            answered = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let response = answered.unwrap_or_else(|| panic!("gateway did not answer:\n{}", show_log()));
    assert_eq!(response.status(), 200, "{}", show_log());
    let env: Value = response.json().await.expect("json");
    assert_eq!(env["name"], "gw-fake");
    assert_eq!(env["version"], "$LATEST");
    assert_eq!(env["memory"], "256");
    assert_eq!(env["greeting"], "hello", "deployed variables");
    assert_eq!(env["handler"], "bootstrap");
    assert_eq!(env["endpoint"], moto_url.as_str());
    assert_eq!(env["lambda_endpoint"], gateway_url.as_str());
    assert_eq!(env["has_session_token"], "yes", "execution role credentials");
    assert_ne!(env["key"], "test");
    assert!(env["task_root"].as_str().is_some_and(|t| t.ends_with("functions/gw-fake")));
    let pid = env["pid"].as_u64().expect("pid");

    let response = http().get(format!("{gateway_url}/secure")).send().await.expect("secure");
    assert_eq!(response.status(), 401);
    // The stage's route setting for /secure: its one token is spent, and the
    // throttle answers before the authorizer.
    let response = http().get(format!("{gateway_url}/secure")).send().await.expect("secure");
    assert_eq!(response.status(), 429);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, json!({"message": "Too Many Requests"}));
    let response = http().get(format!("{gateway_url}/nowhere")).send().await.expect("404");
    assert_eq!(response.status(), 404);

    let lambda_via_gateway = aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(&sdk).endpoint_url(&gateway_url).build(),
    );
    // Credentials the gateway did not issue (the test's own): refused as AWS
    // refuses an unknown key.
    let error = lambda_via_gateway
        .invoke()
        .function_name("gw-fake")
        .payload(Blob::new(r#"{"via":"invoke"}"#))
        .send()
        .await
        .expect_err("not the gateway's credentials");
    assert_eq!(aws_sdk_lambda::error::ProvideErrorMetadata::code(&error), Some("UnrecognizedClientException"));

    // The operator endpoints: only with the secret the gateway wrote at start.
    let metrics = format!("{gateway_url}/_local/functions");
    let response = http().get(&metrics).send().await.expect("metrics");
    assert_eq!(response.status(), 403, "no secret");
    let mailbox = format!("{gateway_url}/_local/mailbox");
    for secret in [None, Some("guessed")] {
        let mut request = http().get(&mailbox);
        if let Some(secret) = secret {
            request = request.header("x-local-operator-secret", secret);
        }
        assert_eq!(request.send().await.expect("mailbox").status(), 403, "{secret:?}");
    }
    let response = http().get(&metrics).header("x-local-operator-secret", "guessed").send().await.expect("metrics");
    assert_eq!(response.status(), 403, "a wrong secret");
    let secret_file = work.join("operator-secret");
    let secret = std::fs::read_to_string(&secret_file).expect("the gateway wrote its operator secret");
    assert_eq!(secret.len(), 64, "256 bits, hex");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&secret_file).expect("metadata").permissions().mode();
    assert_eq!(mode & 0o077, 0, "readable by its owner only");
    let response = http().get(&metrics).header("x-local-operator-secret", &secret).send().await.expect("metrics");
    assert_eq!(response.status(), 200);
    let response = http().get(&mailbox).header("x-local-operator-secret", &secret).send().await.expect("mailbox");
    assert_eq!(response.status(), 200);
    let listing: serde_json::Value = response.json().await.expect("json");
    assert!(listing["messages"].is_array(), "{listing}");

    // SIGTERM: the gateway stops and takes every function process with it.
    let gateway_pid = gateway.id().expect("pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(gateway_pid).expect("pid")),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal");
    let status = tokio::time::timeout(Duration::from_secs(10), gateway.wait())
        .await
        .expect("gateway exits on SIGTERM")
        .expect("status");
    assert!(status.success(), "{status:?}\n{}", show_log());
    assert!(
        eventually(Duration::from_secs(5), || process_gone(pid)).await,
        "function instance {pid} outlived the gateway"
    );
    let log = show_log();
    assert!(log.contains("REPORT RequestId:"), "{log}");
    assert!(log.contains("Init Duration:"), "{log}");
    let _ = std::fs::remove_dir_all(&work);
}

/// An execution role in moto (IAM over its query API; the project has no IAM SDK crate).
async fn aws_sdk_iam_free_role(moto_url: &str) -> String {
    let form = [
        ("Action", "CreateRole"),
        ("Version", "2010-05-08"),
        ("RoleName", "gw-fake-role"),
        (
            "AssumeRolePolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        ),
    ];
    let body: String = form.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&");
    let response = http()
        .post(format!("{moto_url}/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x",
        )
        .body(body)
        .send()
        .await
        .expect("CreateRole");
    assert!(response.status().is_success(), "CreateRole: {}", response.text().await.unwrap_or_default());
    "arn:aws:iam::123456789012:role/gw-fake-role".to_owned()
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
