//! Who may call the gateway's Lambda Invoke API, as AWS decides it: the
//! request must be signed (SigV4) with credentials the gateway itself issued
//! to a function instance (its execution role's), and that role's deployed
//! identity policies must allow `lambda:InvokeFunction` on the target.
//!
//! The evaluator is deliberately small and fails closed: an `Allow` with a
//! `Condition`, `NotAction` or `NotResource` grants nothing here, a `Deny`
//! with one still denies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::HeaderMap;
use serde_json::Value;

/// How far a request's `X-Amz-Date` may be from now (AWS: 15 minutes).
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// Credentials the gateway handed to a function instance.
#[derive(Clone)]
struct Issued {
    secret_access_key: String,
    session_token: Option<String>,
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    principal: String,
    role_arn: String,
}

/// The credentials the gateway issued, by access key id.
#[derive(Clone, Default)]
pub struct IssuedCredentials(Arc<Mutex<HashMap<String, Issued>>>);

impl std::fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCredentials").field("count", &self.issued().len()).finish()
    }
}

impl IssuedCredentials {
    fn issued(&self) -> std::sync::MutexGuard<'_, HashMap<String, Issued>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Remembers credentials of `role_arn` handed to an instance.
    pub fn record(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
        role_arn: &str,
        session_name: &str,
    ) {
        let principal = assumed_role_principal(role_arn, session_name);
        self.issued().insert(
            access_key_id.to_owned(),
            Issued {
                secret_access_key: secret_access_key.to_owned(),
                session_token: session_token.map(str::to_owned),
                principal,
                role_arn: role_arn.to_owned(),
            },
        );
    }
}

/// `arn:aws:iam::<acct>:role/<name>` → `arn:aws:sts::<acct>:assumed-role/<name>/<session>`.
fn assumed_role_principal(role_arn: &str, session_name: &str) -> String {
    let account = role_arn.split(':').nth(4).unwrap_or_default();
    let name = role_arn.rsplit('/').next().unwrap_or_default();
    format!("arn:aws:sts::{account}:assumed-role/{name}/{session_name}")
}

/// A caller whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub principal: String,
    pub role_arn: String,
}

/// Why a request is refused, in Lambda's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, PartialEq, Eq)]
struct Authorization<'a> {
    access_key_id: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value.split(';').collect::<Vec<_>>()),
            "Signature" => signature = Some(value),
            _ => return None,
        }
    }
    let mut scope = credential?.split('/');
    let (access_key_id, _date, region, service, terminator) =
        (scope.next()?, scope.next()?, scope.next()?, scope.next()?, scope.next()?);
    (terminator == "aws4_request" && scope.next().is_none()).then_some(())?;
    Some(Authorization { access_key_id, region, service, signed_headers: signed_headers?, signature: signature? })
}

/// Checks the request's SigV4 signature against credentials the gateway
/// issued; `uri` is the full URI (`http://host/path?query`).
pub fn verify_signature(
    issued: &IssuedCredentials,
    service: &str,
    method: &str,
    uri: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<Caller, Refusal> {
    let missing = || {
        Refusal::new(
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token: the request is not signed",
        )
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = parse_authorization(header("authorization").ok_or_else(missing)?).ok_or_else(missing)?;
    let invalid_token =
        || Refusal::new(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    let credentials = issued.issued().get(authorization.access_key_id).cloned().ok_or_else(invalid_token)?;
    if header("x-amz-security-token") != credentials.session_token.as_deref() {
        return Err(invalid_token());
    }
    if authorization.service != service {
        return Err(Refusal::new(
            403,
            "InvalidSignatureException",
            format!("Credential should be scoped to correct service: '{service}'."),
        ));
    }
    let signed_at = header("x-amz-date")
        .and_then(parse_amz_date)
        .ok_or_else(|| Refusal::new(403, "InvalidSignatureException", "X-Amz-Date is missing or malformed"))?;
    let skew = now.duration_since(signed_at).unwrap_or_else(|e| e.duration());
    if skew > MAX_CLOCK_SKEW {
        return Err(Refusal::new(403, "InvalidSignatureException", "Signature expired"));
    }

    let signed: Vec<(&str, &str)> =
        authorization.signed_headers.iter().filter_map(|name| header(name).map(|value| (*name, value))).collect();
    let mismatch = || {
        Refusal::new(
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )
    };
    if signed.len() != authorization.signed_headers.len() {
        return Err(mismatch());
    }
    let identity: Identity = Credentials::new(
        authorization.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "local-gateway",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(authorization.region)
        .name(service)
        .time(signed_at)
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| mismatch())?
        .into();
    let request =
        SignableRequest::new(method, uri, signed.into_iter(), SignableBody::Bytes(body)).map_err(|_| mismatch())?;
    let expected = sign(request, &params).map_err(|_| mismatch())?.into_parts().1;
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), authorization.signature.as_bytes())
        .map_err(|_| mismatch())?;
    Ok(Caller { principal: credentials.principal, role_arn: credentials.role_arn })
}

/// `20261207T053000Z`.
fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let at = time::PrimitiveDateTime::parse(text, format).ok()?.assume_utc();
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(at.unix_timestamp()).ok()?))
}

/// Whether identity policies (`documents`) allow `action` on `resource`:
/// some statement allows it and none denies it.
pub fn allows(documents: &[Value], action: &str, resource: &str) -> bool {
    let statements = || {
        documents.iter().flat_map(|document| match document.get("Statement") {
            Some(Value::Array(statements)) => statements.clone(),
            Some(statement @ Value::Object(_)) => vec![statement.clone()],
            _ => Vec::new(),
        })
    };
    let names = |value: Option<&Value>| -> Vec<String> {
        match value {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        }
    };
    let covers = |statement: &Value| {
        names(statement.get("Action")).iter().any(|pattern| glob(pattern, action, true))
            && names(statement.get("Resource")).iter().any(|pattern| glob(pattern, resource, false))
    };
    let unevaluated = |statement: &Value| {
        ["Condition", "NotAction", "NotResource", "NotPrincipal"].iter().any(|key| statement.get(key).is_some())
    };
    let effect = |statement: &Value, wanted: &str| statement.get("Effect").and_then(Value::as_str) == Some(wanted);
    // A Deny we cannot evaluate still denies: fail closed.
    let denied = statements().any(|s| effect(&s, "Deny") && (covers(&s) || unevaluated(&s)));
    let allowed = statements().any(|s| effect(&s, "Allow") && !unevaluated(&s) && covers(&s));
    allowed && !denied
}

/// IAM wildcard matching: `*` any run, `?` one character; actions compare
/// without regard to case.
fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) = if ignore_case {
        (pattern.to_lowercase().chars().collect(), text.to_lowercase().chars().collect())
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut p, mut t, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Where a role's identity policies come from.
#[derive(Debug, Clone)]
pub enum Policies {
    /// As deployed to the emulator (IAM).
    Emulator(aws_sdk_iam::Client),
    /// Fixed documents by role ARN (tests).
    Fixed(HashMap<String, Vec<Value>>),
}

impl Policies {
    pub async fn of(&self, role_arn: &str) -> Result<Vec<Value>, String> {
        match self {
            Self::Emulator(iam) => role_policies(iam, role_arn).await,
            Self::Fixed(documents) => Ok(documents.get(role_arn).cloned().unwrap_or_default()),
        }
    }
}

/// Who may call the gateway's AWS APIs that need credentials: the Lambda
/// Invoke API and Cognito's admin operations.
#[derive(Debug, Clone)]
pub struct IamGuard {
    pub issued: IssuedCredentials,
    pub policies: Policies,
    pub account_id: String,
    pub region: String,
}

impl IamGuard {
    /// The caller, if the request is signed for `service` with credentials
    /// the gateway issued and the caller's role may do `action` on `resource`.
    #[allow(clippy::too_many_arguments)]
    pub async fn authorize(
        &self,
        service: &str,
        action: &str,
        resource: &str,
        method: &str,
        uri: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Caller, Refusal> {
        let caller = verify_signature(&self.issued, service, method, uri, headers, body, SystemTime::now())?;
        let documents = self.policies.of(&caller.role_arn).await.map_err(|error| {
            tracing::error!(%error, "cannot read the caller's policies");
            Refusal::new(500, "ServiceException", "the caller's policies could not be read")
        })?;
        if allows(&documents, action, resource) {
            Ok(caller)
        } else {
            Err(Refusal::new(
                403,
                "AccessDeniedException",
                format!(
                    "User: {} is not authorized to perform: {action} on resource: {resource} \
                     because no identity-based policy allows the {action} action",
                    caller.principal
                ),
            ))
        }
    }

    /// The ARN of a function given by name or ARN.
    pub fn function_arn(&self, function: &str) -> String {
        if function.starts_with("arn:") {
            function.to_owned()
        } else {
            format!("arn:aws:lambda:{}:{}:function:{function}", self.region, self.account_id)
        }
    }

    /// The ARN of a user pool.
    pub fn user_pool_arn(&self, pool_id: &str) -> String {
        format!("arn:aws:cognito-idp:{}:{}:userpool/{pool_id}", self.region, self.account_id)
    }
}

/// The identity policies of a role as deployed: its inline policies and the
/// default versions of its attached managed policies.
pub async fn role_policies(iam: &aws_sdk_iam::Client, role_arn: &str) -> Result<Vec<Value>, String> {
    let role = role_arn.rsplit('/').next().unwrap_or_default();
    let decode = |text: &str| -> Result<Value, String> {
        let json = url_decode(text);
        serde_json::from_str(&json).map_err(|e| format!("a policy of {role} is not JSON: {e}"))
    };
    let mut documents = Vec::new();
    let inline =
        iam.list_role_policies().role_name(role).send().await.map_err(|e| format!("ListRolePolicies {role}: {e}"))?;
    for name in inline.policy_names() {
        let policy = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| format!("GetRolePolicy {role}/{name}: {e}"))?;
        documents.push(decode(policy.policy_document())?);
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(|e| format!("ListAttachedRolePolicies {role}: {e}"))?;
    for policy in attached.attached_policies() {
        let Some(arn) = policy.policy_arn() else { continue };
        let described = iam.get_policy().policy_arn(arn).send().await.map_err(|e| format!("GetPolicy {arn}: {e}"))?;
        let Some(version) = described.policy().and_then(|p| p.default_version_id()) else {
            continue;
        };
        let version = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| format!("GetPolicyVersion {arn}: {e}"))?;
        if let Some(document) = version.policy_version().and_then(|v| v.document()) {
            documents.push(decode(document)?);
        }
    }
    Ok(documents)
}

/// IAM returns policy documents URL-encoded (RFC 3986); moto may return them plain.
fn url_decode(text: &str) -> String {
    let hex = |byte: u8| char::from(byte).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?))
            .flatten();
        match escaped.and_then(|value| u8::try_from(value).ok()) {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:saas-local-users";

    #[test]
    fn wildcards_match_as_iam_matches() {
        assert!(glob("lambda:InvokeFunction", "lambda:invokefunction", true));
        assert!(glob("lambda:Invoke*", "lambda:InvokeFunction", true));
        assert!(glob("*", "lambda:InvokeFunction", true));
        assert!(!glob("lambda:Get*", "lambda:InvokeFunction", true));
        assert!(glob("arn:aws:lambda:*:*:function:saas-local-*", FUNCTION, false));
        assert!(glob("arn:aws:lambda:us-east-1:123456789012:function:saas-local-user?", FUNCTION, false));
        assert!(!glob("arn:aws:lambda:us-east-1:123456789012:function:saas-local-notes", FUNCTION, false));
        assert!(!glob("arn:aws:lambda:us-east-1:123456789012:function:SAAS-local-users", FUNCTION, false));
    }

    #[test]
    fn identity_policies_allow_only_what_they_name_and_deny_wins() {
        let allow = |resource: &str| json!({"Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": resource}]});
        assert!(allows(&[allow(FUNCTION)], "lambda:InvokeFunction", FUNCTION));
        assert!(!allows(&[allow(FUNCTION)], "lambda:InvokeFunction", &FUNCTION.replace("users", "notes")));
        assert!(!allows(&[], "lambda:InvokeFunction", FUNCTION));
        let deny = json!({"Statement": {"Effect": "Deny", "Action": "lambda:*", "Resource": "*"}});
        assert!(!allows(&[allow(FUNCTION), deny], "lambda:InvokeFunction", FUNCTION));
        // Conditions are not evaluated here: an Allow with one grants nothing,
        // a Deny with one still denies.
        let conditional = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]});
        assert!(!allows(&[conditional], "lambda:InvokeFunction", FUNCTION));
        let conditional_deny = json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        assert!(!allows(&[allow(FUNCTION), conditional_deny], "lambda:InvokeFunction", FUNCTION));
        let not_action = json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]});
        assert!(!allows(&[not_action], "lambda:InvokeFunction", FUNCTION));
    }

    #[test]
    fn authorization_headers_are_parsed_strictly() {
        let header = "AWS4-HMAC-SHA256 Credential=ASIAKEY/20261207/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123";
        assert_eq!(
            parse_authorization(header),
            Some(Authorization {
                access_key_id: "ASIAKEY",
                region: "us-east-1",
                service: "lambda",
                signed_headers: vec!["host", "x-amz-date"],
                signature: "abc123",
            })
        );
        for bad in [
            "Bearer abc",
            "AWS4-HMAC-SHA256 Credential=ASIAKEY/20261207/us-east-1/lambda/aws4, SignedHeaders=host, Signature=a",
            "AWS4-HMAC-SHA256 Credential=ASIAKEY/20261207/us-east-1/lambda/aws4_request, Signature=a",
            "AWS4-HMAC-SHA256 Credential=ASIAKEY/20261207/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=a, Extra=1",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }

    #[test]
    fn assumed_role_principals_name_the_role_and_session() {
        assert_eq!(
            assumed_role_principal("arn:aws:iam::123456789012:role/saas-local-tenants-exec", "saas-local-tenants"),
            "arn:aws:sts::123456789012:assumed-role/saas-local-tenants-exec/saas-local-tenants"
        );
    }

    #[test]
    fn policy_documents_are_url_decoded() {
        assert_eq!(url_decode("%7B%22a%22%3A1%7D"), r#"{"a":1}"#);
        assert_eq!(url_decode(r#"{"a":1}"#), r#"{"a":1}"#);
        assert_eq!(url_decode("%zz%4"), "%zz%4", "malformed escapes are kept");
        assert_eq!(url_decode("é%41"), "éA");
    }

    /// A request signed by the SDK's own signer verifies; any change to it,
    /// another key, an old date or a missing token does not.
    #[test]
    fn signatures_are_checked_against_the_issued_secret() {
        let issued = IssuedCredentials::default();
        issued.record(
            "ASIAISSUED",
            "issued-secret",
            Some("issued-token"),
            "arn:aws:iam::123456789012:role/saas-local-tenants-exec",
            "saas-local-tenants",
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let uri = "http://127.0.0.1:4000/2015-03-31/functions/saas-local-users/invocations";
        let body = br#"{"internal":{}}"#;
        let signed = |secret: &str, token: Option<&str>, at: SystemTime| {
            let identity: Identity = Credentials::new("ASIAISSUED", secret, token.map(str::to_owned), None, "t").into();
            let params = v4::SigningParams::builder()
                .identity(&identity)
                .region("us-east-1")
                .name("lambda")
                .time(at)
                .settings(SigningSettings::default())
                .build()
                .expect("params")
                .into();
            let headers = [("host", "127.0.0.1:4000"), ("content-type", "application/json")];
            let request =
                SignableRequest::new("POST", uri, headers.into_iter(), SignableBody::Bytes(body)).expect("request");
            let (instructions, _) = sign(request, &params).expect("sign").into_parts();
            let mut map = HeaderMap::new();
            for (name, value) in headers {
                map.insert(http::HeaderName::from_static(name), http::HeaderValue::from_static(value));
            }
            for (name, value) in instructions.headers() {
                map.insert(
                    http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                    http::HeaderValue::from_str(value).expect("value"),
                );
            }
            map
        };
        let good = signed("issued-secret", Some("issued-token"), now);
        let caller = verify_signature(&issued, "lambda", "POST", uri, &good, body, now).expect("verifies");
        assert_eq!(caller.role_arn, "arn:aws:iam::123456789012:role/saas-local-tenants-exec");

        let refused = |headers: &HeaderMap, uri: &str, body: &[u8]| {
            verify_signature(&issued, "lambda", "POST", uri, headers, body, now).expect_err("refused")
        };
        assert_eq!(refused(&good, uri, b"{}").code, "InvalidSignatureException", "another body");
        assert_eq!(
            refused(&good, &uri.replace("users", "notes"), body).code,
            "InvalidSignatureException",
            "another function"
        );
        let wrong_secret = signed("guessed", Some("issued-token"), now);
        assert_eq!(refused(&wrong_secret, uri, body).code, "InvalidSignatureException");
        let no_token = signed("issued-secret", None, now);
        assert_eq!(refused(&no_token, uri, body).code, "UnrecognizedClientException");
        let old = signed("issued-secret", Some("issued-token"), now - Duration::from_secs(3600));
        assert_eq!(refused(&old, uri, body).message, "Signature expired");
        let mut unsigned = good.clone();
        unsigned.remove("authorization");
        assert_eq!(refused(&unsigned, uri, body).code, "MissingAuthenticationTokenException");
        let mut stranger = good.clone();
        let forged = good["authorization"].to_str().expect("ascii").replace("ASIAISSUED", "AKIASTRANGER");
        stranger.insert("authorization", http::HeaderValue::from_str(&forged).expect("value"));
        assert_eq!(refused(&stranger, uri, body).code, "UnrecognizedClientException");
    }
}
