//! What Terraform deployed, read from the emulator with the AWS SDK: the HTTP
//! API (routes, integrations, JWT authorizers, stage throttling) and the
//! functions (settings and code).

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::path::{Path, PathBuf};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

use crate::throttle::{Limits, StageThrottling};

/// Reading the deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    NotFound(String),
    #[error("emulator call {call} failed: {message}")]
    Sdk { call: &'static str, message: String },
    #[error("function code: {0}")]
    Code(String),
}

fn sdk_error(call: &'static str) -> impl FnOnce(&dyn std::error::Error) -> LoadError {
    move |error| LoadError::Sdk { call, message: error_chain(error) }
}

/// An error and its causes on one line (`a: b: c`): SDK errors say little
/// without their sources.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The emulator's endpoint and SDK configuration.
#[derive(Debug, Clone)]
pub struct Emulator {
    pub endpoint: String,
    pub region: String,
    pub sdk: SdkConfig,
}

impl Emulator {
    /// SDK configuration for `endpoint`: credentials from the environment if
    /// set, else the emulator's dummy ones.
    pub async fn new(endpoint: &str, region: &str) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new(region.to_owned()));
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(Credentials::new("test", "test", None, None, "local-gateway"));
        }
        Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            sdk: loader.load().await,
        }
    }

    /// The account the emulator runs everything in.
    pub async fn account_id(&self) -> Result<String, LoadError> {
        let sts = aws_sdk_sts::Client::new(&self.sdk);
        let identity = sts.get_caller_identity().send().await.map_err(|e| sdk_error("sts:GetCallerIdentity")(&e))?;
        Ok(identity.account.unwrap_or_else(|| "123456789012".to_owned()))
    }

    /// Temporary credentials of `role_arn` as environment variables, as Lambda
    /// gives a function its execution role.
    pub async fn assume_role(&self, role_arn: &str, session: &str) -> Result<Vec<(String, String)>, LoadError> {
        let sts = aws_sdk_sts::Client::new(&self.sdk);
        let out = sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session)
            .send()
            .await
            .map_err(|e| sdk_error("sts:AssumeRole")(&e))?;
        let credentials =
            out.credentials.ok_or_else(|| LoadError::NotFound("AssumeRole returned no credentials".to_owned()))?;
        Ok(vec![
            ("AWS_ACCESS_KEY_ID".to_owned(), credentials.access_key_id),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), credentials.secret_access_key),
            ("AWS_SESSION_TOKEN".to_owned(), credentials.session_token),
        ])
    }
}

/// Which HTTP API to serve.
#[derive(Debug, Clone)]
pub enum ApiSelector {
    Id(String),
    Name(String),
}

/// A route as deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDef {
    pub route_key: String,
    /// `NONE`, `JWT`, `AWS_IAM`, `CUSTOM`.
    pub authorization_type: String,
    pub authorizer_id: Option<String>,
    pub integration_id: Option<String>,
    /// The Lambda function the integration invokes, by name.
    pub function: Option<String>,
}

/// A JWT authorizer as deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerDef {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub audience: Vec<String>,
    pub identity_sources: Vec<String>,
}

/// The HTTP API as deployed.
#[derive(Debug, Clone)]
pub struct ApiDef {
    pub api_id: String,
    pub name: String,
    pub routes: Vec<RouteDef>,
    pub authorizers: HashMap<String, AuthorizerDef>,
    /// The `$default` stage's throttling (none when there is no such stage).
    pub throttling: StageThrottling,
}

/// The function name in a function ARN, an API Gateway invoke ARN
/// (`arn:aws:apigateway:...:lambda:path/2015-03-31/functions/<function ARN>/invocations`),
/// a partial ARN or a plain name; a version or alias qualifier is dropped.
pub fn function_name(reference: &str) -> String {
    let reference =
        reference.split_once("/functions/").map_or(reference, |(_, rest)| rest.trim_end_matches("/invocations"));
    match reference.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest).to_owned(),
        None => {
            // `123456789012:function:name` is covered above; `name:qualifier`:
            reference.split(':').next().unwrap_or(reference).to_owned()
        }
    }
}

impl Emulator {
    /// Reads the HTTP API, its routes, integrations and the authorizers its
    /// routes use. moto has no GetAuthorizers: each is read by id.
    pub async fn load_api(&self, selector: &ApiSelector) -> Result<ApiDef, LoadError> {
        let client = aws_sdk_apigatewayv2::Client::new(&self.sdk);
        let apis = client.get_apis().send().await.map_err(|e| sdk_error("apigatewayv2:GetApis")(&e))?;
        let api = apis
            .items()
            .iter()
            .find(|api| match selector {
                ApiSelector::Id(id) => api.api_id() == Some(id.as_str()),
                ApiSelector::Name(name) => api.name() == Some(name.as_str()),
            })
            .ok_or_else(|| {
                let known: Vec<String> = apis
                    .items()
                    .iter()
                    .map(|a| format!("{} ({})", a.name().unwrap_or("-"), a.api_id().unwrap_or("-")))
                    .collect();
                LoadError::NotFound(format!("no HTTP API {selector:?} in the emulator (there: {known:?})"))
            })?;
        let api_id = api.api_id().unwrap_or_default().to_owned();
        let name = api.name().unwrap_or_default().to_owned();

        let integrations = client
            .get_integrations()
            .api_id(&api_id)
            .send()
            .await
            .map_err(|e| sdk_error("apigatewayv2:GetIntegrations")(&e))?;
        let functions: HashMap<String, String> = integrations
            .items()
            .iter()
            .filter_map(|i| Some((i.integration_id()?.to_owned(), function_name(i.integration_uri()?))))
            .collect();

        let routes_out =
            client.get_routes().api_id(&api_id).send().await.map_err(|e| sdk_error("apigatewayv2:GetRoutes")(&e))?;
        let mut routes = Vec::new();
        let mut authorizers = HashMap::new();
        for route in routes_out.items() {
            let integration_id = route.target().and_then(|t| t.strip_prefix("integrations/")).map(str::to_owned);
            let authorizer_id = route.authorizer_id().map(str::to_owned);
            if let Some(id) = &authorizer_id
                && !authorizers.contains_key(id)
            {
                let authorizer = client
                    .get_authorizer()
                    .api_id(&api_id)
                    .authorizer_id(id)
                    .send()
                    .await
                    .map_err(|e| sdk_error("apigatewayv2:GetAuthorizer")(&e))?;
                let jwt = authorizer.jwt_configuration();
                authorizers.insert(
                    id.clone(),
                    AuthorizerDef {
                        id: id.clone(),
                        name: authorizer.name().unwrap_or_default().to_owned(),
                        issuer: jwt.and_then(|j| j.issuer()).unwrap_or_default().to_owned(),
                        audience: jwt.map(|j| j.audience().to_vec()).unwrap_or_default(),
                        identity_sources: authorizer.identity_source().to_vec(),
                    },
                );
            }
            routes.push(RouteDef {
                route_key: route.route_key().unwrap_or_default().to_owned(),
                authorization_type: route
                    .authorization_type()
                    .map_or_else(|| "NONE".to_owned(), |t| t.as_str().to_owned()),
                authorizer_id,
                function: integration_id.as_ref().and_then(|id| functions.get(id).cloned()),
                integration_id,
            });
        }
        let throttling = self.load_throttling(&client, &api_id).await?;
        Ok(ApiDef { api_id, name, routes, authorizers, throttling })
    }

    /// The throttling settings of the `$default` stage, the one the gateway
    /// serves. An API without that stage is served unthrottled.
    async fn load_throttling(
        &self,
        client: &aws_sdk_apigatewayv2::Client,
        api_id: &str,
    ) -> Result<StageThrottling, LoadError> {
        let stage = match client.get_stage().api_id(api_id).stage_name("$default").send().await {
            Ok(stage) => stage,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found_exception()) => {
                tracing::warn!(api_id, "the HTTP API has no $default stage: served without throttling");
                return Ok(StageThrottling::default());
            }
            Err(error) => return Err(sdk_error("apigatewayv2:GetStage")(&error)),
        };
        let limits = |settings: &aws_sdk_apigatewayv2::types::RouteSettings| Limits {
            burst: settings.throttling_burst_limit(),
            rate: settings.throttling_rate_limit(),
        };
        Ok(StageThrottling {
            default_route: stage.default_route_settings().map(limits).unwrap_or_default(),
            routes: stage
                .route_settings()
                .into_iter()
                .flatten()
                .map(|(key, settings)| (key.clone(), limits(settings)))
                .collect(),
        })
    }

    /// Every function name deployed.
    pub async fn function_names(&self) -> Result<Vec<String>, LoadError> {
        let client = aws_sdk_lambda::Client::new(&self.sdk);
        let out = client.list_functions().send().await.map_err(|e| sdk_error("lambda:ListFunctions")(&e))?;
        Ok(out.functions().iter().filter_map(|f| f.function_name().map(str::to_owned)).collect())
    }

    /// A function's settings, with its code extracted under
    /// `<work_dir>/functions/<name>/`.
    pub async fn load_function(
        &self,
        name: &str,
        work_dir: &Path,
        packages: &[PathBuf],
    ) -> Result<FunctionDef, LoadError> {
        let client = aws_sdk_lambda::Client::new(&self.sdk);
        let out = client.get_function().function_name(name).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) {
                LoadError::NotFound(format!("function {name} is not deployed"))
            } else {
                sdk_error("lambda:GetFunction")(&e)
            }
        })?;
        let config =
            out.configuration().ok_or_else(|| LoadError::NotFound(format!("function {name} has no configuration")))?;
        let code_sha256 = config.code_sha256().unwrap_or_default().to_owned();
        let location = out.code().and_then(|c| c.location()).map(str::to_owned);
        let task_root = work_dir.join("functions").join(name);
        let stamp = task_root.join(".code-sha256");
        let up_to_date =
            std::fs::read_to_string(&stamp).is_ok_and(|s| s == code_sha256) && task_root.join("bootstrap").is_file();
        if !up_to_date {
            let zip = self.code_zip(name, &code_sha256, location.as_deref(), packages).await?;
            extract(&zip, &task_root)?;
            std::fs::write(&stamp, &code_sha256).map_err(|e| LoadError::Code(e.to_string()))?;
        }
        let env = config
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(FunctionDef {
            name: config.function_name().unwrap_or(name).to_owned(),
            arn: config.function_arn().unwrap_or_default().to_owned(),
            role: config.role().map(str::to_owned),
            handler: config.handler().unwrap_or("bootstrap").to_owned(),
            timeout_s: config.timeout().unwrap_or(3).max(1),
            memory_mb: config.memory_size().unwrap_or(128),
            env,
            bootstrap: task_root.join("bootstrap"),
            task_root,
        })
    }

    /// The deployed zip: downloaded from `Code.Location` when the emulator
    /// serves it, else found among the local packages by its SHA-256 (moto
    /// 5.2 keeps uploaded code in memory only; its `Code.Location` is a
    /// placeholder). Either way it must hash to the deployed `CodeSha256`.
    async fn code_zip(
        &self,
        name: &str,
        code_sha256: &str,
        location: Option<&str>,
        packages: &[PathBuf],
    ) -> Result<Vec<u8>, LoadError> {
        if let Some(url) = location.and_then(|l| self.path_style(l)) {
            let downloaded = async {
                let response = reqwest::get(&url).await.ok()?;
                if !response.status().is_success() {
                    return None;
                }
                response.bytes().await.ok()
            }
            .await;
            if let Some(bytes) = downloaded
                && sha256_b64(&bytes) == code_sha256
            {
                return Ok(bytes.to_vec());
            }
        }
        let mut candidates = Vec::new();
        for dir in packages {
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    candidates.push(path.join("bootstrap.zip"));
                } else if path.extension().is_some_and(|e| e == "zip") {
                    candidates.push(path);
                }
            }
        }
        // Most likely first: <dir>/<name>/bootstrap.zip.
        candidates.sort_by_key(|p| !p.to_string_lossy().contains(&format!("/{name}/")));
        for candidate in candidates {
            if let Ok(bytes) = std::fs::read(&candidate)
                && sha256_b64(&bytes) == code_sha256
            {
                tracing::debug!(function = name, zip = %candidate.display(), "code found by CodeSha256");
                return Ok(bytes);
            }
        }
        Err(LoadError::Code(format!(
            "the code of {name} (CodeSha256 {code_sha256}) cannot be downloaded from the emulator and matches no zip under {packages:?}: rebuild and redeploy (make up), or pass --packages"
        )))
    }

    /// `https://<bucket>.s3.<region>.amazonaws.com/<key>` → `<emulator>/<bucket>/<key>`.
    fn path_style(&self, location: &str) -> Option<String> {
        let rest = location.strip_prefix("https://")?;
        let (host, key) = rest.split_once('/')?;
        let bucket = host.split(".s3.").next()?;
        Some(format!("{}/{bucket}/{key}", self.endpoint))
    }
}

/// A deployed function.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    pub name: String,
    pub arn: String,
    pub role: Option<String>,
    pub handler: String,
    pub timeout_s: i32,
    pub memory_mb: i32,
    pub env: BTreeMap<String, String>,
    pub bootstrap: PathBuf,
    pub task_root: PathBuf,
}

/// Base64 SHA-256, Lambda's `CodeSha256`.
pub fn sha256_b64(bytes: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(bytes))
}

/// Extracts `zip` into `dir` (emptied first); `bootstrap` must be there.
pub fn extract(zip: &[u8], dir: &Path) -> Result<(), LoadError> {
    let err = |e: &dyn std::fmt::Display| LoadError::Code(format!("{}: {e}", dir.display()));
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| err(&e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|e| err(&e))?;
    archive.extract(dir).map_err(|e| err(&e))?;
    let bootstrap = dir.join("bootstrap");
    if !bootstrap.is_file() {
        return Err(LoadError::Code(format!("the zip has no `bootstrap` ({})", dir.display())));
    }
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_from_references() {
        assert_eq!(function_name("notes"), "notes");
        assert_eq!(function_name("notes:live"), "notes");
        assert_eq!(function_name("arn:aws:lambda:us-east-1:123456789012:function:notes"), "notes");
        assert_eq!(function_name("arn:aws:lambda:us-east-1:123456789012:function:notes:3"), "notes");
        assert_eq!(function_name("123456789012:function:notes"), "notes");
        assert_eq!(
            function_name(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:saas-local-notes/invocations"
            ),
            "saas-local-notes"
        );
    }
}
