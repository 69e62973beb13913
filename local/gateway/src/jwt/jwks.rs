//! Where the verifier gets its JSON Web Key Set from.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use reqwest::header::ACCEPT;

use super::JwtError;

/// Total time allowed for one JWKS request (connect, headers and body).
pub const DEFAULT_JWKS_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest JWKS document accepted. Cognito's holds two keys (about 1 KiB).
pub const DEFAULT_MAX_JWKS_BYTES: usize = 64 * 1024;

/// A source of the issuer's current key set.
///
/// Implementations report every failure as [`JwtError::JwksUnavailable`]; the
/// verifier treats any error from `fetch` as "keys unavailable" regardless.
pub trait JwksSource: Send + Sync {
    /// Fetch the complete, current key set.
    fn fetch(&self) -> impl Future<Output = Result<JwkSet, JwtError>> + Send;
}

impl<T: JwksSource> JwksSource for Arc<T> {
    fn fetch(&self) -> impl Future<Output = Result<JwkSet, JwtError>> + Send {
        T::fetch(self)
    }
}

/// Fetches the JWKS over HTTP(S) with a timeout, rejecting non-2xx answers and
/// bodies larger than a bound.
#[derive(Debug, Clone)]
pub struct HttpJwksSource {
    client: reqwest::Client,
    url: String,
    timeout: Duration,
    max_body_bytes: usize,
}

impl HttpJwksSource {
    /// A source with its own HTTP client, [`DEFAULT_JWKS_TIMEOUT`] and
    /// [`DEFAULT_MAX_JWKS_BYTES`].
    pub fn new(url: impl Into<String>) -> Result<Self, JwtError> {
        let url = url.into();
        if url.trim().is_empty() {
            return Err(JwtError::Config("JWKS URL is empty".to_owned()));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(DEFAULT_JWKS_TIMEOUT)
            .timeout(DEFAULT_JWKS_TIMEOUT)
            .build()
            .map_err(|e| JwtError::Config(format!("cannot build JWKS HTTP client: {e}")))?;
        Ok(Self::with_client(client, url))
    }

    /// A source that reuses an existing client. The per-request timeout and the
    /// body bound still apply.
    pub fn with_client(client: reqwest::Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into(), timeout: DEFAULT_JWKS_TIMEOUT, max_body_bytes: DEFAULT_MAX_JWKS_BYTES }
    }

    /// Replace the per-request timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replace the body size bound.
    #[must_use]
    pub fn with_max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// The URL the key set is fetched from.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl JwksSource for HttpJwksSource {
    async fn fetch(&self) -> Result<JwkSet, JwtError> {
        let mut response = self
            .client
            .get(&self.url)
            .header(ACCEPT, "application/json")
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| unavailable("JWKS request failed", &e))?;

        let status = response.status();
        if !status.is_success() {
            return Err(JwtError::JwksUnavailable(format!("JWKS endpoint answered HTTP {status}")));
        }
        let too_large = || JwtError::JwksUnavailable(format!("JWKS document exceeds {} bytes", self.max_body_bytes));
        if response.content_length().is_some_and(|len| len > self.max_body_bytes as u64) {
            return Err(too_large());
        }

        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| unavailable("reading the JWKS body failed", &e))? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }

        serde_json::from_slice(&body).map_err(|e| JwtError::JwksUnavailable(format!("JWKS document is invalid: {e}")))
    }
}

/// `JwksUnavailable` with the error and its causes (reqwest's own message
/// omits them, e.g. "connection refused").
fn unavailable(context: &str, error: &(dyn StdError + 'static)) -> JwtError {
    let mut message = format!("{context}: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    JwtError::JwksUnavailable(message)
}

#[cfg(test)]
pub(super) mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    pub(in crate::jwt) const JWK_1: &str = include_str!("testdata/public_jwk_1.json");

    pub(in crate::jwt) fn jwks_document() -> String {
        format!("{{\"keys\":[{JWK_1}]}}")
    }

    pub(in crate::jwt) fn http_response(status_line: &str, body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 {status_line}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    /// A one-file HTTP server on 127.0.0.1: every connection gets `response`
    /// (or, when `None`, is held open without an answer). Returns the base URL.
    pub(in crate::jwt) async fn serve(response: Option<Vec<u8>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            // Bounded: a test makes a handful of requests at most.
            for _ in 0..16 {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let response = response.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0_u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16384 {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    match response {
                        Some(bytes) => {
                            let _ = socket.write_all(&bytes).await;
                            let _ = socket.shutdown().await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(30)).await,
                    }
                });
            }
        });
        format!("http://{addr}")
    }

    /// Tests bypass any proxy configured in the environment.
    pub(in crate::jwt) fn source(url: String) -> HttpJwksSource {
        let client = reqwest::Client::builder().no_proxy().build().expect("client");
        HttpJwksSource::with_client(client, url)
    }

    #[tokio::test]
    async fn http_source_returns_the_key_set() {
        let base = serve(Some(http_response("200 OK", &jwks_document()))).await;
        let set = source(format!("{base}/.well-known/jwks.json")).fetch().await.expect("JWKS fetched");
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.keys[0].common.key_id.as_deref(), Some("test-key-1"));
    }

    #[tokio::test]
    async fn http_source_rejects_server_error() {
        let base = serve(Some(http_response("500 Internal Server Error", &jwks_document()))).await;
        let err = source(base).fetch().await.expect_err("500 must fail");
        assert!(err.is_unavailable(), "{err:?}");
        assert!(err.to_string().contains("500"), "{err}");
    }

    #[tokio::test]
    async fn http_source_rejects_not_found() {
        let base = serve(Some(http_response("404 Not Found", "{\"keys\":[]}"))).await;
        let err = source(base).fetch().await.expect_err("404 must fail");
        assert!(err.is_unavailable(), "{err:?}");
    }

    #[tokio::test]
    async fn http_source_rejects_oversized_body() {
        let body = jwks_document();
        let base = serve(Some(http_response("200 OK", &body))).await;
        let err = source(base).with_max_body_bytes(body.len() - 1).fetch().await.expect_err("oversized body must fail");
        assert!(err.is_unavailable(), "{err:?}");
        assert!(err.to_string().contains("exceeds"), "{err}");
    }

    #[tokio::test]
    async fn http_source_rejects_oversized_body_without_content_length() {
        let body = jwks_document();
        let response = format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{body}").into_bytes();
        let base = serve(Some(response)).await;
        let err = source(base).with_max_body_bytes(body.len() - 1).fetch().await.expect_err("oversized body must fail");
        assert!(err.to_string().contains("exceeds"), "{err}");
    }

    #[tokio::test]
    async fn http_source_rejects_invalid_json() {
        let base = serve(Some(http_response("200 OK", "<html>nope</html>"))).await;
        let err = source(base).fetch().await.expect_err("HTML must fail");
        assert!(err.is_unavailable(), "{err:?}");
    }

    #[tokio::test]
    async fn http_source_times_out() {
        let base = serve(None).await;
        let started = std::time::Instant::now();
        let err = source(base)
            .with_timeout(Duration::from_millis(200))
            .fetch()
            .await
            .expect_err("silent server must time out");
        assert!(err.is_unavailable(), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn http_source_reports_connection_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let err = source(format!("http://{addr}/jwks.json")).fetch().await.expect_err("closed port must fail");
        assert!(err.is_unavailable(), "{err:?}");
    }

    #[test]
    fn http_source_new_builds_a_client_and_rejects_empty_url() {
        let source = HttpJwksSource::new("https://example.invalid/jwks.json").expect("builds");
        assert_eq!(source.url(), "https://example.invalid/jwks.json");
        assert!(matches!(HttpJwksSource::new("  "), Err(JwtError::Config(_))));
    }
}
