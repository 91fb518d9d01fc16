//! The token endpoint client: one form POST per attempt, retried while failures are transient.

use std::error::Error as _;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use frameio_auth_core::{
    AuthError, Clock, ConfigError, MAX_RESPONSE_BYTES, ProtocolError, Sleeper, SystemClock,
    Timestamp, TokenSet, parse_error_response, parse_token_response,
};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use tracing::Instrument as _;
use tracing::field::Empty;
use url::Url;

use crate::body::{BodyError, excerpt, is_json, read_capped};
use crate::form::Form;
use crate::retry::{
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_OVERALL_DEADLINE, RetryContext,
    RetryPolicy, parse_retry_after, run_with_retries,
};
use crate::transport_security::{HttpSettings, http_client};
use crate::{ClientAuth, Grant, SecureUrl, TokioSleeper};

/// Default cap on a response body: 1 MiB (the same as core's parser limit).
pub const DEFAULT_MAX_BODY_BYTES: usize = MAX_RESPONSE_BYTES;

/// The response header in which Adobe IMS returns a request id for support.
pub(crate) const DEBUG_ID_HEADER: &str = "x-debug-id";
/// The longest `x-debug-id` kept.
const MAX_DEBUG_ID_CHARS: usize = 128;

/// A client for one OAuth 2 token endpoint.
///
/// It sends a [`Grant`] as a form POST with the configured [`ClientAuth`] and returns a core
/// [`TokenSet`], or an [`AuthError`] whose [`kind`](AuthError::kind) says what to do.
///
/// - Transient failures (connection errors, timeouts, a connection dropped mid-response, HTTP
///   429, 500, 502, 503 and 504) are retried following the [`RetryPolicy`]; `Retry-After` is
///   honoured. Permanent failures (`invalid_grant`, `invalid_client`, `invalid_scope`, other
///   4xx) are returned at once.
/// - Every error carries the IMS `x-debug-id` header when the server sent one.
/// - Bodies are capped ([`DEFAULT_MAX_BODY_BYTES`]); a body that is not JSON yields an error
///   with the status and a short, redacted excerpt.
/// - Each attempt runs in a tracing span `oauth.token_request` with the fields `grant_type`,
///   `host`, `attempt`, `status`, `latency_ms` and `debug_id`. No secret, code, verifier,
///   token, request body or query string is ever recorded.
///
/// Cloning is cheap (the client is shared behind an `Arc`).
///
/// ```no_run
/// use frameio_auth_core::{ClientSecret, Scopes};
/// use frameio_auth_oauth::{ClientAuth, Grant, ScopeFormat, SecureUrl, TokenClient};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = TokenClient::builder(
///     SecureUrl::parse("https://ims-na1.adobelogin.com/ims/token/v3")?,
///     ClientAuth::request_body("my-client-id", ClientSecret::new("my-secret")),
/// )
/// .build()?;
/// let scopes = Scopes::parse("openid AdobeID frame.s2s.all")?;
/// let tokens = client
///     .request_token(&Grant::client_credentials(&scopes, ScopeFormat::CommaSeparated))
///     .await?;
/// println!("expires at {:?}", tokens.expires_at());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    token_url: SecureUrl,
    /// The token URL plus `?client_id=` for public clients that send it in the query.
    request_url: Url,
    host: String,
    auth: ClientAuth,
    authorization: Option<HeaderValue>,
    retry: RetryPolicy,
    attempt_timeout: Duration,
    overall_deadline: Duration,
    max_body_bytes: usize,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
}

impl TokenClient {
    /// Starts building a client for the token endpoint at `token_url`.
    pub fn builder(token_url: SecureUrl, auth: ClientAuth) -> TokenClientBuilder {
        TokenClientBuilder {
            token_url,
            auth,
            retry: RetryPolicy::default(),
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            overall_deadline: DEFAULT_OVERALL_DEADLINE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
            extra_roots: Vec::new(),
        }
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &SecureUrl {
        &self.inner.token_url
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        self.inner.auth.client_id()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// Sends `grant` to the token endpoint, retrying transient failures, and returns the
    /// tokens. Their `issued_at` is the client clock's time when the successful attempt was
    /// sent, so expiry is never computed later than the server meant.
    ///
    /// The response is returned as the server sent it: when a refresh response carries no new
    /// refresh token, keeping the old one is the caller's decision
    /// ([`TokenSet::inherit_refresh_token`]).
    pub async fn request_token(&self, grant: &Grant) -> Result<TokenSet, AuthError> {
        let inner = &*self.inner;
        let grant_type = grant.grant_type();
        let mut form = Form::new();
        grant.write_form(&mut form);
        inner.auth.write_form(&mut form);
        let body = form.encode();
        drop(form);

        run_with_retries(
            &RetryContext {
                policy: inner.retry,
                attempt_timeout: inner.attempt_timeout,
                overall_deadline: inner.overall_deadline,
                clock: &*inner.clock,
                sleeper: &*inner.sleeper,
                request: grant_type,
            },
            |attempt, timeout| self.attempt(grant_type, &body, attempt, timeout),
        )
        .await
    }

    /// One attempt, in its own span.
    async fn attempt(
        &self,
        grant_type: &'static str,
        body: &str,
        attempt: u32,
        timeout: Duration,
    ) -> Result<TokenSet, AuthError> {
        let span = tracing::info_span!(
            "oauth.token_request",
            grant_type,
            host = %self.inner.host,
            attempt,
            status = Empty,
            latency_ms = Empty,
            debug_id = Empty,
        );
        let started = Instant::now();
        let result = self
            .send(body, timeout, &span)
            .instrument(span.clone())
            .await;
        span.record("latency_ms", millis(started.elapsed()));
        let _entered = span.enter();
        match &result {
            Ok(_) => tracing::debug!("token request succeeded"),
            Err(error) => tracing::debug!(
                kind = ?error.kind(),
                retryable = error.is_retryable(),
                "token request failed"
            ),
        }
        result
    }

    async fn send(
        &self,
        body: &str,
        timeout: Duration,
        span: &tracing::Span,
    ) -> Result<TokenSet, AuthError> {
        let inner = &*self.inner;
        let mut request = inner
            .http
            .post(inner.request_url.clone())
            .timeout(timeout)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body.to_owned());
        if let Some(authorization) = &inner.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        let sent_at = inner.clock.now();
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_error(&e, None, None, "token"))?;

        let status = response.status();
        span.record("status", status.as_u16());
        let debug_id = debug_id(response.headers());
        if let Some(id) = &debug_id {
            span.record("debug_id", id.as_str());
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, inner.clock.now()));

        match read_capped(&mut response, inner.max_body_bytes).await {
            Ok(body) => classify(status, &body, debug_id, retry_after, sent_at),
            Err(BodyError::Transport(e)) => {
                Err(transport_error(&e, Some(status), debug_id, "token"))
            }
            Err(BodyError::TooLarge) if is_transient_status(status) => Err(AuthError::Transient {
                message: format!(
                    "the token endpoint answered HTTP {} with a body over the {}-byte limit",
                    status.as_u16(),
                    inner.max_body_bytes
                ),
                retry_after,
                debug_id,
            }),
            Err(BodyError::TooLarge) => Err(AuthError::Protocol {
                source: ProtocolError::BodyTooLarge {
                    limit: inner.max_body_bytes,
                },
                debug_id,
            }),
        }
    }
}

impl fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("TokenClient")
            .field("token_url", &inner.token_url)
            .field("auth", &inner.auth)
            .field("retry", &inner.retry)
            .field("attempt_timeout", &inner.attempt_timeout)
            .field("overall_deadline", &inner.overall_deadline)
            .field("max_body_bytes", &inner.max_body_bytes)
            .field("clock", &inner.clock)
            .field("sleeper", &inner.sleeper)
            .finish_non_exhaustive()
    }
}

/// Builds a [`TokenClient`]. Every setting has a documented default.
#[derive(Debug)]
pub struct TokenClientBuilder {
    token_url: SecureUrl,
    auth: ClientAuth,
    retry: RetryPolicy,
    attempt_timeout: Duration,
    overall_deadline: Duration,
    connect_timeout: Duration,
    max_body_bytes: usize,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    extra_roots: Vec<reqwest::Certificate>,
}

impl TokenClientBuilder {
    /// How transient failures are retried. Default: [`RetryPolicy::default`].
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The time limit of one attempt. Default: [`DEFAULT_ATTEMPT_TIMEOUT`].
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The time limit of a whole request, retries included, measured on the clock. Default:
    /// [`DEFAULT_OVERALL_DEADLINE`].
    #[must_use]
    pub fn overall_deadline(mut self, deadline: Duration) -> Self {
        self.overall_deadline = deadline;
        self
    }

    /// The time limit for opening a connection. Default: [`DEFAULT_CONNECT_TIMEOUT`].
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest response body read, in bytes (1 to 1 MiB). Default:
    /// [`DEFAULT_MAX_BODY_BYTES`].
    #[must_use]
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Where "now" comes from (token `issued_at`, HTTP-date `Retry-After`, the overall
    /// deadline). Default: [`SystemClock`].
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How the client waits between attempts. Default: [`TokioSleeper`]. Give tests a
    /// [`ManualClock`](frameio_auth_core::ManualClock) as both clock and sleeper.
    #[must_use]
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// Trusts an extra root certificate (besides the system's), for example a corporate
    /// TLS-inspecting proxy or a test server.
    #[must_use]
    pub fn add_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.extra_roots.push(certificate);
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<TokenClient, ConfigError> {
        self.auth.validate()?;
        if self.attempt_timeout.is_zero() || self.overall_deadline.is_zero() {
            return Err(ConfigError::new(
                "the attempt timeout and the overall deadline must be longer than zero",
            ));
        }
        if !(1..=MAX_RESPONSE_BYTES).contains(&self.max_body_bytes) {
            return Err(ConfigError::new(format!(
                "the response body limit must be between 1 and {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        let authorization = self.auth.authorization_header()?;
        let mut request_url = self.token_url.as_url().clone();
        if let Some(client_id) = self.auth.query_client_id() {
            request_url
                .query_pairs_mut()
                .append_pair("client_id", client_id);
        }
        let http = http_client(HttpSettings {
            connect_timeout: self.connect_timeout,
            extra_roots: self.extra_roots,
        })?;
        Ok(TokenClient {
            inner: Arc::new(Inner {
                http,
                host: self.token_url.host_for_logs(),
                token_url: self.token_url,
                request_url,
                auth: self.auth,
                authorization,
                retry: self.retry,
                attempt_timeout: self.attempt_timeout,
                overall_deadline: self.overall_deadline,
                max_body_bytes: self.max_body_bytes,
                clock: self.clock,
                sleeper: self.sleeper,
            }),
        })
    }
}

/// 429, 500, 502, 503 and 504: worth another try.
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// Turns a complete response into tokens or a typed error.
fn classify(
    status: StatusCode,
    body: &[u8],
    debug_id: Option<String>,
    retry_after: Option<Duration>,
    sent_at: Timestamp,
) -> Result<TokenSet, AuthError> {
    let code = status.as_u16();
    if status.is_success() {
        // Some servers answer 200 with an OAuth error body.
        if let Some(error) = parse_error_response(body) {
            return Err(AuthError::from_oauth(
                error,
                Some(code),
                debug_id,
                retry_after,
            ));
        }
        return parse_token_response(body, sent_at).map_err(|source| {
            let source = match source {
                ProtocolError::MalformedJson { .. } if !is_json(body) => {
                    ProtocolError::UnexpectedResponse {
                        status: code,
                        excerpt: excerpt(body),
                    }
                }
                other => other,
            };
            AuthError::Protocol { source, debug_id }
        });
    }
    if is_transient_status(status) {
        let detail = parse_error_response(body).map_or_else(|| excerpt(body), |e| e.to_string());
        let what = if code == 429 {
            "throttled the request"
        } else {
            "is failing"
        };
        return Err(AuthError::Transient {
            message: format!("the token endpoint {what} (HTTP {code}): {detail}"),
            retry_after,
            debug_id,
        });
    }
    if status.is_redirection() {
        return Err(AuthError::Protocol {
            source: ProtocolError::UnexpectedResponse {
                status: code,
                excerpt: "a redirect; token requests are never redirected, check the token URL"
                    .to_owned(),
            },
            debug_id,
        });
    }
    if status.is_client_error()
        && let Some(error) = parse_error_response(body)
    {
        return Err(AuthError::from_oauth(
            error,
            Some(code),
            debug_id,
            retry_after,
        ));
    }
    Err(AuthError::Protocol {
        source: ProtocolError::UnexpectedResponse {
            status: code,
            excerpt: excerpt(body),
        },
        debug_id,
    })
}

/// A transient error for a failed connection, send or body read. The URL is left out of the
/// message (it may carry a client id in its query).
pub(crate) fn transport_error(
    error: &reqwest::Error,
    status: Option<StatusCode>,
    debug_id: Option<String>,
    endpoint: &str,
) -> AuthError {
    let what = if error.is_timeout() {
        format!("the {endpoint} request timed out")
    } else if error.is_connect() {
        format!("cannot connect to the {endpoint} endpoint")
    } else if status.is_some() {
        "the connection broke before the whole response arrived (truncated body)".to_owned()
    } else {
        "the connection failed before a response arrived".to_owned()
    };
    let mut message = match status {
        Some(status) => format!("{what} (HTTP {})", status.as_u16()),
        None => what,
    };
    let mut source: Option<&dyn std::error::Error> = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    AuthError::Transient {
        message,
        retry_after: None,
        debug_id,
    }
}

/// The `x-debug-id` header, trimmed to printable ASCII and a sane length.
pub(crate) fn debug_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(DEBUG_ID_HEADER)?.to_str().ok()?.trim();
    let id: String = value
        .chars()
        .filter(char::is_ascii_graphic)
        .take(MAX_DEBUG_ID_CHARS)
        .collect();
    (!id.is_empty()).then_some(id)
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use frameio_auth_core::ErrorKind;

    const NOW: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

    fn run(status: u16, body: &str) -> Result<TokenSet, AuthError> {
        classify(
            StatusCode::from_u16(status).unwrap(),
            body.as_bytes(),
            Some("dbg-1".to_owned()),
            None,
            NOW,
        )
    }

    #[test]
    fn classification() {
        let tokens = run(200, r#"{"access_token":"at","expires_in":60}"#).unwrap();
        assert_eq!(tokens.issued_at(), NOW);
        let cases = [
            (400, r#"{"error":"invalid_grant"}"#, ErrorKind::NeedsLogin),
            (
                401,
                r#"{"error":"invalid_client"}"#,
                ErrorKind::InvalidClient,
            ),
            (400, r#"{"error":"invalid_scope"}"#, ErrorKind::Rejected),
            (
                400,
                r#"{"error":"unauthorized_client"}"#,
                ErrorKind::Rejected,
            ),
            (403, "<html>forbidden</html>", ErrorKind::Protocol),
            (429, "", ErrorKind::Transient),
            (500, "oops", ErrorKind::Transient),
            (502, "<html>bad gateway</html>", ErrorKind::Transient),
            (
                503,
                r#"{"error":"temporarily_unavailable"}"#,
                ErrorKind::Transient,
            ),
            (504, "", ErrorKind::Transient),
            (501, "", ErrorKind::Protocol),
            (302, "", ErrorKind::Protocol),
            (200, "<html>proxy login</html>", ErrorKind::Protocol),
            (200, r#"{"error":"invalid_grant"}"#, ErrorKind::NeedsLogin),
            (200, r#"{"token_type":"bearer"}"#, ErrorKind::Protocol),
        ];
        for (status, body, kind) in cases {
            let err = run(status, body).unwrap_err();
            assert_eq!(err.kind(), kind, "{status} {body}");
            assert_eq!(err.debug_id(), Some("dbg-1"));
        }
    }

    #[test]
    fn html_gives_status_and_excerpt() {
        let err = run(200, "<html><h1>Proxy error</h1></html>").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("HTTP 200") && text.contains("Proxy error"),
            "{text}"
        );
        let err = run(502, "<html>Bad Gateway</html>").unwrap_err();
        assert!(err.to_string().contains("HTTP 502") && err.to_string().contains("Bad Gateway"));
    }

    #[test]
    fn debug_id_is_sanitised() {
        let mut headers = HeaderMap::new();
        assert_eq!(debug_id(&headers), None);
        headers.insert(DEBUG_ID_HEADER, HeaderValue::from_static(" abc 123 "));
        assert_eq!(debug_id(&headers).as_deref(), Some("abc123"));
        headers.insert(
            DEBUG_ID_HEADER,
            HeaderValue::from_str(&"x".repeat(500)).unwrap(),
        );
        assert_eq!(debug_id(&headers).unwrap().len(), MAX_DEBUG_ID_CHARS);
    }
}
