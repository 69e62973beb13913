//! The HTTP API (routing, JWT authorizer, payload 2.0, errors) and the Lambda
//! Invoke API, served by the gateway with a scripted function.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sdk_lambda::config::{BehaviorVersion, Region};
use aws_sdk_lambda::primitives::Blob;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_gateway::authorizer::{JwtAuthorizer, KeySource};
use local_gateway::functions::Functions;
use local_gateway::gateway::{Gateway, HttpApi, RouteTarget};
use local_gateway::iam::{IamGuard, IssuedCredentials, Policies};
use local_gateway::keys::SigningKey;
use local_gateway::routes::Route;
use local_gateway::runtime::{FunctionPool, ProcessRegistry};
use local_gateway::throttle::{Limits, StageThrottling};
use serde_json::{Map, Value, json};
use support::{fake_spec, http, serve};

const ISSUER: &str = "http://127.0.0.1:4000/cognito";
const CLIENT: &str = "client-1";
const OPERATOR_SECRET: &str = "the-stack-secret";

struct Fixture {
    url: String,
    keys: Arc<SigningKey>,
    pool: Arc<FunctionPool>,
}

async fn fixture(timeout: Duration) -> Fixture {
    let keys = Arc::new(SigningKey::generate().expect("key"));
    let functions = Arc::new(Functions::new(None, ProcessRegistry::default()));
    let pool = functions.insert(fake_spec("fake", timeout, 4)).await;
    let authorizer = Arc::new(
        JwtAuthorizer::new(
            "auth1",
            "jwt",
            ISSUER,
            vec![CLIENT.to_owned()],
            &["$request.header.Authorization".to_owned()],
            KeySource::Static(Arc::new(keys.jwks().clone())),
        )
        .expect("authorizer"),
    );
    // The stage's throttling: unlimited but for GET /limited, a two-request
    // bucket that does not refill during a test.
    let throttling = StageThrottling {
        default_route: Limits::default(),
        routes: HashMap::from([("GET /limited".to_owned(), Limits { burst: Some(2), rate: Some(0.001) })]),
    };
    let route = |key: &str, jwt: bool| Route {
        route_key: key.to_owned(),
        target: RouteTarget {
            function: Some("fake".to_owned()),
            authorizer: jwt.then(|| Arc::clone(&authorizer)),
            throttle: Arc::new(throttling.throttle_for(key)),
        },
    };
    let routes = vec![
        route("GET /notes", true),
        route("POST /notes", true),
        route("GET /notes/{note_id}", true),
        route("ANY /open/{proxy+}", false),
        route("POST /open/upload", false),
        route("GET /limited", true),
    ];
    let url = serve(|port| Gateway {
        api: Some(HttpApi::new("api1".to_owned(), "123456789012".to_owned(), routes)),
        functions: Arc::clone(&functions),
        cognito: None,
        port,
        operator_secret: OPERATOR_SECRET.to_owned(),
        iam_guard: iam_guard(),
    })
    .await;
    Fixture { url, keys, pool }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

fn id_claims() -> Map<String, Value> {
    json!({
        "sub": "user-1",
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "exp": now() + 3600,
        "iat": now(),
        "tenant_id": "tenant-1",
        "cognito:groups": ["admins", "users"],
    })
    .as_object()
    .cloned()
    .expect("map")
}

async fn get(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = http().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

async fn assert_unauthorized(response: reqwest::Response) {
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, json!({"message": "Unauthorized"}));
}

#[tokio::test]
async fn valid_token_puts_claims_in_the_event() {
    let f = fixture(Duration::from_secs(5)).await;
    let token = f.keys.sign(&id_claims()).expect("token");
    let response = get(&format!("{}/notes/n%201?limit=5&tag=a&tag=b", f.url), Some(&token)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("apigw-requestid"));
    let body: Value = response.json().await.expect("json");
    let event = &body["event"];
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /notes/{note_id}");
    assert_eq!(event["rawPath"], "/notes/n%201");
    assert_eq!(event["pathParameters"]["note_id"], "n 1");
    assert_eq!(event["queryStringParameters"]["tag"], "a,b");
    assert_eq!(event["requestContext"]["http"]["method"], "GET");
    assert_eq!(event["requestContext"]["stage"], "$default");
    let claims = &event["requestContext"]["authorizer"]["jwt"]["claims"];
    assert_eq!(claims["tenant_id"], "tenant-1");
    assert_eq!(claims["cognito:groups"], "[admins users]");
    assert!(claims["exp"].is_string());
    // And the access token kind is accepted too, with its scopes.
    let mut access = id_claims();
    access.remove("aud");
    access.insert("token_use".to_owned(), json!("access"));
    access.insert("client_id".to_owned(), json!(CLIENT));
    access.insert("scope".to_owned(), json!("openid profile"));
    let token = f.keys.sign(&access).expect("token");
    let body: Value = get(&format!("{}/notes", f.url), Some(&token)).await.json().await.expect("json");
    assert_eq!(body["event"]["requestContext"]["authorizer"]["jwt"]["scopes"], json!(["openid", "profile"]));
}

#[tokio::test]
async fn bad_tokens_are_refused_without_invoking_the_function() {
    let f = fixture(Duration::from_secs(5)).await;
    let url = format!("{}/notes", f.url);
    assert_unauthorized(get(&url, None).await).await;

    let mut expired = id_claims();
    expired.insert("exp".to_owned(), json!(now() - 3600));
    assert_unauthorized(get(&url, Some(&f.keys.sign(&expired).expect("token"))).await).await;

    let mut wrong_issuer = id_claims();
    wrong_issuer.insert("iss".to_owned(), json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x"));
    assert_unauthorized(get(&url, Some(&f.keys.sign(&wrong_issuer).expect("token"))).await).await;

    let mut wrong_audience = id_claims();
    wrong_audience.insert("aud".to_owned(), json!("other-client"));
    assert_unauthorized(get(&url, Some(&f.keys.sign(&wrong_audience).expect("token"))).await).await;

    // Forged: a valid token whose payload was changed (tenant_id).
    let valid = f.keys.sign(&id_claims()).expect("token");
    let parts: Vec<&str> = valid.split('.').collect();
    let mut forged_claims = id_claims();
    forged_claims.insert("tenant_id".to_owned(), json!("someone-else"));
    let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).expect("json"));
    let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert_unauthorized(get(&url, Some(&forged)).await).await;

    // Signed by another key.
    let other = SigningKey::generate().expect("key");
    assert_unauthorized(get(&url, Some(&other.sign(&id_claims()).expect("token"))).await).await;

    // alg none.
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, f.keys.kid()));
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&id_claims()).expect("json"));
    assert_unauthorized(get(&url, Some(&format!("{header}.{payload}."))).await).await;

    assert_unauthorized(get(&url, Some("not-a-jwt")).await).await;
    assert_eq!(f.pool.invocations(), 0, "the function was never invoked");
}

#[tokio::test]
async fn a_throttled_route_answers_429_before_authorizing_and_leaves_other_routes_alone() {
    let f = fixture(Duration::from_secs(5)).await;
    let token = f.keys.sign(&id_claims()).expect("token");
    let url = format!("{}/limited", f.url);
    // The bucket holds two: an unauthenticated request spends one too.
    assert_unauthorized(get(&url, None).await).await;
    assert_eq!(get(&url, Some(&token)).await.status(), 200);
    for token in [Some(token.as_str()), None] {
        let response = get(&url, token).await;
        assert_eq!(response.status(), 429);
        assert!(response.headers().contains_key("apigw-requestid"));
        assert_eq!(response.json::<Value>().await.expect("json"), json!({"message": "Too Many Requests"}));
    }
    assert_eq!(f.pool.invocations(), 1, "throttled requests never reach the function");
    assert_eq!(get(&format!("{}/notes", f.url), Some(&token)).await.status(), 200);
}

#[tokio::test]
async fn routing_errors_and_limits() {
    let f = fixture(Duration::from_secs(1)).await;
    let response = get(&format!("{}/unknown", f.url), None).await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.json::<Value>().await.expect("json"), json!({"message": "Not Found"}));
    // DELETE /notes is not deployed: 404 even with no token.
    let response = http().delete(format!("{}/notes", f.url)).send().await.expect("request");
    assert_eq!(response.status(), 404);

    // Literal POST beats the greedy ANY route; ANY serves the other methods.
    let body: Value = http()
        .post(format!("{}/open/upload", f.url))
        .body(vec![0xff_u8, 0x00])
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(body["event"]["routeKey"], "POST /open/upload");
    assert_eq!(body["event"]["isBase64Encoded"], true);
    assert_eq!(body["event"]["body"], "/wA=");
    let response =
        http().put(format!("{}/open/a/b", f.url)).header("cookie", "a=1; b=2").send().await.expect("request");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["event"]["routeKey"], "ANY /open/{proxy+}");
    assert_eq!(body["event"]["pathParameters"]["proxy"], "a/b");
    assert_eq!(body["event"]["cookies"], json!(["a=1", "b=2"]));

    let response =
        http().post(format!("{}/open/x", f.url)).body(vec![b'a'; 10 * 1024 * 1024 + 1]).send().await.expect("request");
    assert_eq!(response.status(), 413);

    // A crash is a 502, and the next request is served by a new instance.
    let response = http().post(format!("{}/open/x", f.url)).body("CRASH-ME").send().await.expect("request");
    assert_eq!(response.status(), 502);
    assert_eq!(response.json::<Value>().await.expect("json"), json!({"message": "Internal Server Error"}));
    let response = http().post(format!("{}/open/x", f.url)).body("FAIL-ME").send().await.expect("request");
    assert_eq!(response.status(), 502);
    let response = http().post(format!("{}/open/x", f.url)).body("HANG-ME").send().await.expect("request");
    assert_eq!(response.status(), 504);
    let response = get(&format!("{}/open/x", f.url), None).await;
    assert_eq!(response.status(), 200);
}

/// Credentials the gateway "issued" to an instance of a function whose role
/// may invoke `fake`, and to one whose role may not.
const CALLER_ROLE: &str = "arn:aws:iam::123456789012:role/caller-exec";
const OTHER_ROLE: &str = "arn:aws:iam::123456789012:role/other-exec";

fn iam_guard() -> IamGuard {
    let issued = IssuedCredentials::default();
    issued.record("ASIACALLER", "caller-secret", Some("caller-token"), CALLER_ROLE, "caller");
    issued.record("ASIAOTHER", "other-secret", Some("other-token"), OTHER_ROLE, "other");
    let allow = |resource: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": resource}]});
    IamGuard {
        issued,
        policies: Policies::Fixed(HashMap::from([
            (
                CALLER_ROLE.to_owned(),
                vec![
                    allow("arn:aws:lambda:us-east-1:123456789012:function:fake"),
                    // Allowed, but not deployed: ResourceNotFoundException.
                    allow("arn:aws:lambda:us-east-1:123456789012:function:missing"),
                ],
            ),
            (OTHER_ROLE.to_owned(), vec![allow("arn:aws:lambda:us-east-1:123456789012:function:another")]),
        ])),
        account_id: "123456789012".to_owned(),
        region: "us-east-1".to_owned(),
    }
}

fn lambda_client_as(url: &str, credentials: Credentials) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

fn lambda_client(url: &str) -> aws_sdk_lambda::Client {
    let credentials = Credentials::new("ASIACALLER", "caller-secret", Some("caller-token".to_owned()), None, "test");
    lambda_client_as(url, credentials)
}

/// As AWS answers an Invoke: unsigned, signed with unknown or wrong
/// credentials, or by a role whose policies do not allow the target.
#[tokio::test]
async fn the_invoke_api_takes_only_signed_requests_of_allowed_roles() {
    let f = fixture(Duration::from_secs(5)).await;
    let refused_with = |error: aws_sdk_lambda::error::SdkError<_, _>| {
        let error: aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::invoke::InvokeError, _> = error;
        aws_sdk_lambda::error::ProvideErrorMetadata::code(&error).map(str::to_owned)
    };
    let cases = [
        ("ASIASTRANGER", "whatever", Some("token"), "UnrecognizedClientException"),
        ("ASIACALLER", "guessed-secret", Some("caller-token"), "InvalidSignatureException"),
        ("ASIACALLER", "caller-secret", Some("another-token"), "UnrecognizedClientException"),
        ("ASIAOTHER", "other-secret", Some("other-token"), "AccessDeniedException"),
    ];
    for (key, secret, token, code) in cases {
        let client = lambda_client_as(&f.url, Credentials::new(key, secret, token.map(str::to_owned), None, "test"));
        let error = client
            .invoke()
            .function_name("fake")
            .payload(Blob::new(r#"{"forged":"event"}"#))
            .send()
            .await
            .expect_err("refused");
        assert_eq!(refused_with(error).as_deref(), Some(code), "{key}");
    }
    // Unsigned, as curl would send it.
    let response = http()
        .post(format!("{}/2015-03-31/functions/fake/invocations", f.url))
        .body(r#"{"forged":"event"}"#)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["x-amzn-errortype"], "MissingAuthenticationTokenException");
    assert_eq!(f.pool.invocations(), 0, "no refused request reached the function");

    // The operator route: the stack secret instead of a signature.
    let response = http()
        .post(format!("{}/_local/functions/fake/invoke", f.url))
        .body(r#"{"from":"operator"}"#)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 403);
    let response = http()
        .post(format!("{}/_local/functions/fake/invoke", f.url))
        .header("x-local-operator-secret", OPERATOR_SECRET)
        .body(r#"{"from":"operator"}"#)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    let value: Value = response.json().await.expect("json");
    assert_eq!(value["event"]["from"], "operator");
}

#[tokio::test]
async fn lambda_invoke_api_works_with_the_sdk() {
    let f = fixture(Duration::from_secs(5)).await;
    let lambda = lambda_client(&f.url);
    let out =
        lambda.invoke().function_name("fake").payload(Blob::new(r#"{"from":"sdk"}"#)).send().await.expect("invoke");
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), None);
    let value: Value = serde_json::from_slice(out.payload().expect("payload").as_ref()).expect("json");
    assert_eq!(value["event"]["from"], "sdk");

    let out = lambda
        .invoke()
        .function_name("arn:aws:lambda:us-east-1:123456789012:function:fake")
        .payload(Blob::new(r#"{"x":"FAIL-ME"}"#))
        .send()
        .await
        .expect("invoke");
    assert_eq!(out.function_error(), Some("Unhandled"));
    let value: Value = serde_json::from_slice(out.payload().expect("payload").as_ref()).expect("json");
    assert_eq!(value["errorMessage"], "boom");

    let out =
        lambda.invoke().function_name("fake").payload(Blob::new(r#"{"x":"CRASH-ME"}"#)).send().await.expect("invoke");
    assert_eq!(out.function_error(), Some("Unhandled"));

    let error = lambda.invoke().function_name("missing").send().await.expect_err("unknown function");
    let service_error = error.into_service_error();
    assert!(service_error.is_resource_not_found_exception(), "{service_error:?}");
}

#[tokio::test]
async fn operator_endpoints_need_the_stack_secret() {
    let fixture = fixture(Duration::from_secs(5)).await;
    let metrics = format!("{}/_local/functions", fixture.url);
    let recycle = format!("{}/_local/functions/fake/recycle", fixture.url);
    for secret in [None, Some(""), Some("the-stack-secreT"), Some("the-stack-secret-and-more")] {
        let with = |request: reqwest::RequestBuilder| match secret {
            Some(value) => request.header("x-local-operator-secret", value),
            None => request,
        };
        for response in [
            with(http().get(&metrics)).send().await.expect("metrics"),
            with(http().post(&recycle)).send().await.expect("recycle"),
        ] {
            assert_eq!(response.status(), 403, "{secret:?}");
            let body: Value = response.json().await.expect("json");
            assert_eq!(body, json!({"message": "Forbidden"}));
        }
    }
    let response =
        http().get(&metrics).header("x-local-operator-secret", OPERATOR_SECRET).send().await.expect("metrics");
    assert_eq!(response.status(), 200);
    let response =
        http().post(&recycle).header("x-local-operator-secret", OPERATOR_SECRET).send().await.expect("recycle");
    assert_eq!(response.status(), 204);
}
