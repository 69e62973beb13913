//! The HTTP side every service client shares: one connection pool, a timeout
//! on every attempt, the bearer token from a [`TokenSource`], retries with
//! jittered exponential backoff for idempotent calls only, and error answers
//! turned into typed [`Error`]s.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use tenancy::idempotency::IdempotencyKey;

use crate::{Error, TokenSource};

/// How a client reaches the API and how patient it is.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The HTTP API's base URL: `https://<api-id>.execute-api.<region>.amazonaws.com`
    /// on AWS, `http://127.0.0.1:4000` on the local stack.
    pub endpoint: Url,
    /// Longest wait for one attempt, from sending to the end of the body.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
}

impl ClientConfig {
    /// Defaults: 15 s per attempt, 5 s to connect, [`RetryPolicy::default`].
    pub fn new(endpoint: &str) -> Result<Self, Error> {
        let endpoint = Url::parse(endpoint).map_err(|e| Error::Config(format!("endpoint {endpoint:?}: {e}")))?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.cannot_be_a_base() {
            return Err(Error::Config(format!("endpoint {endpoint} is not an http(s) base URL")));
        }
        Ok(Self {
            endpoint,
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
        })
    }
}

/// Retries of idempotent calls after 429, 5xx (but 501) or a failed
/// connection: up to `max_retries`, waiting a jittered, doubling delay
/// between `min_delay` and `max_delay` (or the server's `Retry-After`, when
/// longer, up to `max_delay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 3, min_delay: Duration::from_millis(100), max_delay: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self { max_retries: 0, ..Self::default() }
    }

    fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .build()
    }
}

/// Whether a call may be repeated without changing the outcome. By default
/// GET, PUT and DELETE are, POST is not; a POST sent with an idempotency key
/// ([`Call::idempotency_key`]) is, since every retry carries the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Idempotency {
    Idempotent,
    NotIdempotent,
}

/// The shared HTTP client of the service clients. Cheap to clone.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    endpoint: Url,
    tokens: Option<Arc<dyn TokenSource>>,
    retry: RetryPolicy,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("endpoint", &self.endpoint.as_str())
            .field("tokens", &self.tokens)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client that sends the tokens of `tokens`.
    pub fn new(config: &ClientConfig, tokens: Arc<dyn TokenSource>) -> Result<Self, Error> {
        Self::build(config, Some(tokens))
    }

    /// A client without a token, for the public routes (tenant registration).
    pub fn anonymous(config: &ClientConfig) -> Result<Self, Error> {
        Self::build(config, None)
    }

    fn build(config: &ClientConfig, tokens: Option<Arc<dyn TokenSource>>) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("saas-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Self { http, endpoint: config.endpoint.clone(), tokens, retry: config.retry })
    }

    /// A call to the route made of `segments` under the endpoint; each
    /// segment is percent-encoded, so an id can never change the route.
    pub fn call(&self, method: Method, segments: &[&str]) -> Call<'_> {
        let mut url = self.endpoint.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        let idempotency = if method == Method::POST { Idempotency::NotIdempotent } else { Idempotency::Idempotent };
        Call { client: self, method, url, body: None, idempotency, idempotency_key: None, secret_headers: Vec::new() }
    }

    async fn execute(&self, call: &Call<'_>) -> Result<Vec<u8>, Error> {
        let mut delays = self.retry.delays();
        let mut renewed = false;
        loop {
            let token = match &self.tokens {
                Some(tokens) => Some(tokens.access_token().await?),
                None => None,
            };
            let error = match self.attempt(call, token.as_deref()).await {
                Ok(body) => return Ok(body),
                Err(error) => error,
            };
            // A refused token: the request reached no handler, so any call
            // may be made once more with a renewed token.
            if let (Error::Unauthorized(_), Some(tokens), Some(token), false) = (&error, &self.tokens, &token, renewed)
            {
                renewed = true;
                if tokens.renew(token).await? {
                    continue;
                }
            }
            if call.idempotency == Idempotency::NotIdempotent || !error.is_transient() {
                return Err(error);
            }
            match delays.next() {
                Some(delay) => {
                    let asked = error.retry_after().unwrap_or_default().min(self.retry.max_delay);
                    tokio::time::sleep(delay.max(asked)).await;
                }
                None => return Err(error),
            }
        }
    }

    async fn attempt(&self, call: &Call<'_>, token: Option<&str>) -> Result<Vec<u8>, Error> {
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, "application/json, application/problem+json");
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(body) = &call.body {
            request = request.header(CONTENT_TYPE, "application/json").body(body.clone());
        }
        if let Some(key) = &call.idempotency_key {
            request = request.header("Idempotency-Key", key.as_str());
        }
        for (name, value) in &call.secret_headers {
            request = request.header(*name, value.clone());
        }
        let transport = |source| Error::Transport { url: call.url.to_string(), source };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let retry_after = retry_after(&response);
        let body = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            Ok(body.to_vec())
        } else {
            Err(Error::from_status(status.as_u16(), &body, retry_after))
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the API).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds = response.headers().get(RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds))
}

/// One API call being put together.
#[derive(Debug)]
pub struct Call<'a> {
    client: &'a ApiClient,
    method: Method,
    url: Url,
    body: Option<Vec<u8>>,
    idempotency: Idempotency,
    idempotency_key: Option<IdempotencyKey>,
    /// Secret headers (marked sensitive: never printed).
    secret_headers: Vec<(&'static str, reqwest::header::HeaderValue)>,
}

impl Call<'_> {
    /// Sends `name: value` with every attempt; the value is a secret (it is
    /// never printed, not even in `Debug`).
    pub fn secret_header(mut self, name: &'static str, value: &str) -> Result<Self, Error> {
        let mut value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| Error::Config(format!("the {name} header value is not valid")))?;
        value.set_sensitive(true);
        self.secret_headers.push((name, value));
        Ok(self)
    }

    /// Adds `name=value` to the query string.
    pub fn query(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.url.query_pairs_mut().append_pair(name, &value.to_string());
        self
    }

    /// Adds `name=value` when there is a value.
    pub fn query_opt(self, name: &str, value: Option<impl fmt::Display>) -> Self {
        match value {
            Some(value) => self.query(name, value),
            None => self,
        }
    }

    /// The JSON body.
    pub fn json(mut self, body: &impl Serialize) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::Config(format!("request body: {e}")))?;
        self.body = Some(bytes);
        Ok(self)
    }

    /// Sends `key` as the `Idempotency-Key` header with every attempt, which
    /// makes the call safe to retry (the API completes or repeats the one
    /// request the key names), so it is retried like a GET.
    pub fn idempotency_key(mut self, key: &IdempotencyKey) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self.idempotency_key = Some(key.clone());
        self
    }

    /// Sends the call and reads a JSON answer.
    pub async fn send<T: DeserializeOwned>(self) -> Result<T, Error> {
        let body = self.client.execute(&self).await?;
        serde_json::from_slice(&body).map_err(|e| Error::UnexpectedResponse {
            url: self.url.to_string(),
            status: StatusCode::OK.as_u16(),
            message: format!("the body is not the documented JSON: {e}"),
        })
    }

    /// Sends the call and expects no body (204).
    pub async fn send_empty(self) -> Result<(), Error> {
        self.client.execute(&self).await.map(drop)
    }
}
