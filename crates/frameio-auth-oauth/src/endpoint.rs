//! Requests to an OAuth provider's other endpoints (revocation, introspection-style validation,
//! user info...) and to APIs (Frame.io's `/v2/me`), with the token client's retries, size cap,
//! `x-debug-id` and tracing.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use frameio_auth_core::{
    AccessToken, AuthError, Clock, ConfigError, MAX_RESPONSE_BYTES, ProtocolError, Sleeper,
    SystemClock, parse_error_response,
};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::Instrument as _;
use tracing::field::Empty;
use url::Url;
use zeroize::Zeroizing;

use crate::body::{BodyError, excerpt, read_capped};
use crate::client::{
    DEFAULT_MAX_BODY_BYTES, debug_id, is_transient_status, millis, transport_error,
};
use crate::form::Form;
use crate::retry::{
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_OVERALL_DEADLINE, RetryContext,
    RetryPolicy, parse_retry_after, run_with_retries,
};
use crate::transport_security::{HttpSettings, http_client};
use crate::{ClientAuth, SecureUrl, TokioSleeper};

/// A client for an OAuth provider's endpoints other than the token endpoint: a form `POST`
/// (RFC 7009 revocation, IMS `invalidate_token` and `validate_token`) or a bearer `GET` (OpenID
/// Connect user info, profile APIs).
///
/// It shares the [`TokenClient`](crate::TokenClient)'s mechanics: the same [`RetryPolicy`]
/// (transient failures, `Retry-After`), timeouts and overall deadline on the injected
/// [`Clock`], the response body cap, the `x-debug-id` in every error, OAuth error bodies turned
/// into typed [`AuthError`]s, redirects never followed, and one tracing span per attempt,
/// `oauth.endpoint_request` (`endpoint`, `method`, `host`, `attempt`, `status`, `latency_ms`,
/// `debug_id`), which never records a token, secret, form value or query string.
///
/// [`EndpointRequest::send`] maps every non-2xx answer to a typed [`AuthError`] (OAuth
/// semantics); [`EndpointRequest::send_raw`] returns the response whatever its status, for APIs
/// whose statuses, error bodies and headers (rate limits) the caller maps itself.
///
/// ```no_run
/// use frameio_auth_core::{AccessToken, ClientSecret};
/// use frameio_auth_oauth::{ClientAuth, EndpointClient, SecureUrl};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = EndpointClient::builder().build()?;
/// let auth = ClientAuth::basic("my-client-id", ClientSecret::new("my-secret"));
/// client
///     .post_form("revoke", &SecureUrl::parse("https://ims-na1.adobelogin.com/ims/revoke")?)
///     .client_auth(&auth)
///     .param("token", "the-refresh-token")
///     .send()
///     .await?;
///
/// let info: serde_json::Value = client
///     .get("userinfo", &SecureUrl::parse("https://ims-na1.adobelogin.com/ims/userinfo/v2")?)
///     .param("client_id", "my-client-id")
///     .bearer(&AccessToken::new("the-access-token"))
///     .send()
///     .await?
///     .json()?;
/// # let _ = info;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EndpointClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    retry: RetryPolicy,
    attempt_timeout: Duration,
    overall_deadline: Duration,
    max_body_bytes: usize,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
}

impl EndpointClient {
    /// Starts building a client; every setting has the [`TokenClient`](crate::TokenClient)'s
    /// default.
    pub fn builder() -> EndpointClientBuilder {
        EndpointClientBuilder {
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

    /// A form `POST` to `url`. `endpoint` is a short, constant name for logs (`"revoke"`).
    pub fn post_form<'a>(&'a self, endpoint: &'static str, url: &SecureUrl) -> EndpointRequest<'a> {
        EndpointRequest::new(self, Method::POST, endpoint, url)
    }

    /// A `GET` of `url`. `endpoint` is a short, constant name for logs (`"userinfo"`).
    pub fn get<'a>(&'a self, endpoint: &'static str, url: &SecureUrl) -> EndpointRequest<'a> {
        EndpointRequest::new(self, Method::GET, endpoint, url)
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }
}

impl fmt::Debug for EndpointClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("EndpointClient")
            .field("retry", &inner.retry)
            .field("attempt_timeout", &inner.attempt_timeout)
            .field("overall_deadline", &inner.overall_deadline)
            .field("max_body_bytes", &inner.max_body_bytes)
            .field("clock", &inner.clock)
            .field("sleeper", &inner.sleeper)
            .finish_non_exhaustive()
    }
}

/// Builds an [`EndpointClient`]. The settings mean what they mean on
/// [`TokenClientBuilder`](crate::TokenClientBuilder).
#[derive(Debug)]
pub struct EndpointClientBuilder {
    retry: RetryPolicy,
    attempt_timeout: Duration,
    overall_deadline: Duration,
    connect_timeout: Duration,
    max_body_bytes: usize,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    extra_roots: Vec<reqwest::Certificate>,
}

impl EndpointClientBuilder {
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

    /// The limit for a whole request, retries included. Default: [`DEFAULT_OVERALL_DEADLINE`].
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

    /// The largest response body read (1 byte to 1 MiB). Default: [`DEFAULT_MAX_BODY_BYTES`].
    #[must_use]
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Where "now" comes from. Default: [`SystemClock`].
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How the client waits between attempts. Default: [`TokioSleeper`].
    #[must_use]
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// Trusts an extra root certificate (besides the system's).
    #[must_use]
    pub fn add_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.extra_roots.push(certificate);
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<EndpointClient, ConfigError> {
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
        let http = http_client(HttpSettings {
            connect_timeout: self.connect_timeout,
            extra_roots: self.extra_roots,
        })?;
        Ok(EndpointClient {
            inner: Arc::new(Inner {
                http,
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

/// One request being prepared; finish it with [`send`](Self::send) (non-2xx statuses become
/// typed errors) or [`send_raw`](Self::send_raw) (every status comes back as a response).
///
/// Parameter and header values may be secrets (tokens, client secrets): they are wiped on drop
/// and never shown by `Debug` or traced.
pub struct EndpointRequest<'a> {
    client: &'a EndpointClient,
    method: Method,
    endpoint: &'static str,
    url: Url,
    host: String,
    auth: Option<&'a ClientAuth>,
    params: Form,
    headers: Vec<(&'static str, Zeroizing<String>)>,
    bearer: Option<&'a AccessToken>,
}

impl<'a> EndpointRequest<'a> {
    fn new(
        client: &'a EndpointClient,
        method: Method,
        endpoint: &'static str,
        url: &SecureUrl,
    ) -> Self {
        Self {
            client,
            method,
            endpoint,
            url: url.as_url().clone(),
            host: url.host_for_logs(),
            auth: None,
            params: Form::new(),
            headers: Vec::new(),
            bearer: None,
        }
    }

    /// Authenticates the client exactly as a token request would: HTTP Basic, `client_id` and
    /// `client_secret` in the body, or a public client's `client_id` in the body or the query.
    #[must_use]
    pub fn client_auth(mut self, auth: &'a ClientAuth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Adds a parameter: a form field for `POST`, a query parameter for `GET`.
    #[must_use]
    pub fn param(mut self, name: &'static str, value: &str) -> Self {
        self.params.push(name, value);
        self
    }

    /// Adds a request header (such as IMS's `X-IMS-ClientId`). Its value is marked sensitive.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, Zeroizing::new(value.to_owned())));
        self
    }

    /// Sends `Authorization: Bearer <token>`.
    #[must_use]
    pub fn bearer(mut self, token: &'a AccessToken) -> Self {
        self.bearer = Some(token);
        self
    }

    /// Sends the request, retrying transient failures, and returns the successful response.
    ///
    /// A non-2xx answer (or a 2xx carrying an OAuth error body) becomes an [`AuthError`]:
    /// `invalid_client` an [`InvalidClient`](AuthError::InvalidClient), `invalid_grant` a
    /// needs-login error, 429 and 5xx [`Transient`](AuthError::Transient) (after the retries),
    /// other OAuth errors (`invalid_token`, `invalid_request`...) a
    /// [`Rejected`](AuthError::Rejected), anything else a [`Protocol`](AuthError::Protocol)
    /// error with the status and a redacted excerpt.
    pub async fn send(self) -> Result<EndpointResponse, AuthError> {
        self.run(Mode::Typed).await
    }

    /// Sends the request and returns the complete response **whatever its status**, for a
    /// caller that maps statuses itself (Frame.io's `GET /v2/me`, whose 401, 402, 403 and 429
    /// carry its own error bodies and `x-ratelimit-*` headers).
    ///
    /// Nothing is read into the status: no OAuth error body is parsed, and no status is ever
    /// retried (a 429 or 503 comes back at once, with its `Retry-After` for the caller to read
    /// through [`EndpointResponse::header`]). A 3xx comes back too: redirects are never
    /// followed. Only a failure to get a complete response is an error:
    ///
    /// - transport failures (connection errors, timeouts, a connection dropped before the whole
    ///   body arrived) are [`Transient`](AuthError::Transient) and are retried exactly as by
    ///   [`send`](Self::send), per the client's [`RetryPolicy`] and overall deadline; build the
    ///   client with [`RetryPolicy::no_retries`] for a single attempt;
    /// - a body over the cap is a [`Protocol`](AuthError::Protocol) error
    ///   ([`ProtocolError::BodyTooLarge`]), never retried;
    /// - settings that cannot form a request (a token unfit for a header) are a
    ///   [`Config`](AuthError::Config) error.
    ///
    /// ```no_run
    /// use frameio_auth_core::AccessToken;
    /// use frameio_auth_oauth::{EndpointClient, RetryPolicy, SecureUrl};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = EndpointClient::builder()
    ///     .retry_policy(RetryPolicy::no_retries())
    ///     .build()?;
    /// let response = client
    ///     .get("/v2/me", &SecureUrl::parse("https://api.frame.io/v2/me")?)
    ///     .bearer(&AccessToken::new("fio-u-..."))
    ///     .send_raw()
    ///     .await?;
    /// if !response.is_success() {
    ///     println!(
    ///         "HTTP {} ({:?} requests left): {}",
    ///         response.status(),
    ///         response.header("x-ratelimit-remaining"),
    ///         response.body_excerpt()
    ///     );
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn send_raw(self) -> Result<EndpointResponse, AuthError> {
        self.run(Mode::Raw).await
    }

    async fn run(self, mode: Mode) -> Result<EndpointResponse, AuthError> {
        let prepared = self.prepare()?;
        let inner = &*self.client.inner;
        run_with_retries(
            &RetryContext {
                policy: inner.retry,
                attempt_timeout: inner.attempt_timeout,
                overall_deadline: inner.overall_deadline,
                clock: &*inner.clock,
                sleeper: &*inner.sleeper,
                request: self.endpoint,
            },
            |attempt, timeout| self.attempt(&prepared, mode, attempt, timeout),
        )
        .await
    }

    /// Works out the URL, headers and body once, before the first attempt.
    fn prepare(&self) -> Result<Prepared, AuthError> {
        let mut url = self.url.clone();
        let mut params = Form::new();
        let mut headers = Vec::new();
        if let Some(auth) = self.auth {
            auth.validate()?;
            if let Some(value) = auth.authorization_header()? {
                headers.push((AUTHORIZATION, value));
            }
            if let Some(client_id) = auth.query_client_id() {
                url.query_pairs_mut().append_pair("client_id", client_id);
            }
            auth.write_form(&mut params);
        }
        if let Some(token) = self.bearer {
            let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
                .map_err(|_| ConfigError::new("the access token cannot form a Bearer header"))?;
            value.set_sensitive(true);
            headers.push((AUTHORIZATION, value));
        }
        for (name, value) in &self.headers {
            let name = HeaderName::from_static_lowercase(name)?;
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                ConfigError::new(format!("the value of the header `{name}` is not valid"))
            })?;
            value.set_sensitive(true);
            headers.push((name, value));
        }
        let body = if self.method == Method::GET {
            let pairs = self.params.encode();
            if !pairs.is_empty() {
                let query = match url.query() {
                    Some(existing) if !existing.is_empty() => format!("{existing}&{}", *pairs),
                    _ => pairs.to_string(),
                };
                url.set_query(Some(&query));
            }
            None
        } else {
            let mut all = params;
            for (name, value) in self.params.fields() {
                all.push(name.to_owned(), value);
            }
            Some(all.encode())
        };
        Ok(Prepared { url, headers, body })
    }

    async fn attempt(
        &self,
        prepared: &Prepared,
        mode: Mode,
        attempt: u32,
        timeout: Duration,
    ) -> Result<EndpointResponse, AuthError> {
        let span = tracing::info_span!(
            "oauth.endpoint_request",
            endpoint = self.endpoint,
            method = %self.method,
            host = %self.host,
            attempt,
            status = Empty,
            latency_ms = Empty,
            debug_id = Empty,
        );
        let started = Instant::now();
        let result = self
            .send_once(prepared, mode, timeout, &span)
            .instrument(span.clone())
            .await;
        span.record("latency_ms", millis(started.elapsed()));
        let _entered = span.enter();
        match &result {
            Ok(_) if mode == Mode::Raw => tracing::debug!("endpoint request answered"),
            Ok(_) => tracing::debug!("endpoint request succeeded"),
            Err(error) => tracing::debug!(
                kind = ?error.kind(),
                retryable = error.is_retryable(),
                "endpoint request failed"
            ),
        }
        result
    }

    async fn send_once(
        &self,
        prepared: &Prepared,
        mode: Mode,
        timeout: Duration,
        span: &tracing::Span,
    ) -> Result<EndpointResponse, AuthError> {
        let inner = &*self.client.inner;
        let mut request = inner
            .http
            .request(self.method.clone(), prepared.url.clone())
            .timeout(timeout)
            .header(ACCEPT, "application/json");
        for (name, value) in &prepared.headers {
            request = request.header(name.clone(), value.clone());
        }
        if let Some(body) = &prepared.body {
            request = request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.as_str().to_owned());
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_error(&e, None, None, self.endpoint))?;
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
        let headers = response.headers().clone();
        match read_capped(&mut response, inner.max_body_bytes).await {
            Ok(body) if mode == Mode::Raw => Ok(EndpointResponse {
                status: status.as_u16(),
                debug_id,
                headers,
                body,
            }),
            Ok(body) => classify(self.endpoint, status, headers, body, debug_id, retry_after),
            Err(BodyError::Transport(e)) => {
                Err(transport_error(&e, Some(status), debug_id, self.endpoint))
            }
            Err(BodyError::TooLarge) if mode == Mode::Typed && is_transient_status(status) => {
                Err(AuthError::Transient {
                    message: format!(
                        "the {} endpoint answered HTTP {} with a body over the {}-byte limit",
                        self.endpoint,
                        status.as_u16(),
                        inner.max_body_bytes
                    ),
                    retry_after,
                    debug_id,
                })
            }
            Err(BodyError::TooLarge) => Err(AuthError::Protocol {
                source: ProtocolError::BodyTooLarge {
                    limit: inner.max_body_bytes,
                },
                debug_id,
            }),
        }
    }
}

impl fmt::Debug for EndpointRequest<'_> {
    /// The method, endpoint name, host and parameter names: never values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointRequest")
            .field("method", &self.method)
            .field("endpoint", &self.endpoint)
            .field("host", &self.host)
            .field("params", &self.params.names().collect::<Vec<_>>())
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>(),
            )
            .field("bearer", &self.bearer.is_some())
            .finish_non_exhaustive()
    }
}

/// How a complete response is turned into the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// [`EndpointRequest::send`]: non-2xx answers and OAuth error bodies become [`AuthError`]s.
    Typed,
    /// [`EndpointRequest::send_raw`]: every status comes back as a response.
    Raw,
}

/// What is sent on every attempt.
struct Prepared {
    url: Url,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Zeroizing<String>>,
}

/// `HeaderName::from_static` panics on upper case; this lowercases and reports bad names.
trait FromStaticLowercase: Sized {
    fn from_static_lowercase(name: &str) -> Result<Self, ConfigError>;
}

impl FromStaticLowercase for HeaderName {
    fn from_static_lowercase(name: &str) -> Result<Self, ConfigError> {
        HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map_err(|_| ConfigError::new(format!("`{name}` is not a valid header name")))
    }
}

/// A complete answer from an endpoint: always 2xx from [`EndpointRequest::send`], any status
/// from [`EndpointRequest::send_raw`].
#[derive(Clone)]
pub struct EndpointResponse {
    status: u16,
    debug_id: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl EndpointResponse {
    /// The HTTP status (2xx, unless the response came from
    /// [`send_raw`](EndpointRequest::send_raw)).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The IMS `x-debug-id` header, if the server sent one.
    pub fn debug_id(&self) -> Option<&str> {
        self.debug_id.as_deref()
    }

    /// The first value of the response header `name` (case-insensitive), if it is present and
    /// visible ASCII (such as `Retry-After` or `x-ratelimit-remaining`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body (at most the configured cap).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// A short, single-line excerpt of the body for an error message, with anything
    /// token-like replaced by `[redacted]`.
    pub fn body_excerpt(&self) -> String {
        excerpt(&self.body)
    }

    /// Parses the body as JSON into `T`. Unknown fields are ignored unless `T` says otherwise.
    /// A failure is a [`Protocol`](AuthError::Protocol) error that names the position and
    /// category of the problem, never a value.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, AuthError> {
        serde_json::from_slice(&self.body).map_err(|error| AuthError::Protocol {
            source: if serde_json::from_slice::<serde::de::IgnoredAny>(&self.body).is_ok() {
                ProtocolError::MalformedJson {
                    detail: json_error_detail(&error),
                }
            } else {
                ProtocolError::UnexpectedResponse {
                    status: self.status,
                    excerpt: excerpt(&self.body),
                }
            },
            debug_id: self.debug_id.clone(),
        })
    }
}

impl fmt::Debug for EndpointResponse {
    /// Status, debug id and body length: the body may hold personal data, and headers (which
    /// may set cookies) are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointResponse")
            .field("status", &self.status)
            .field("debug_id", &self.debug_id)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// Position and category of a JSON error (`serde_json`'s message can quote values).
fn json_error_detail(error: &serde_json::Error) -> String {
    let category = match error.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "a field is missing or has the wrong type",
        serde_json::error::Category::Eof => "unexpected end of input",
    };
    format!(
        "{category} at line {}, column {}",
        error.line(),
        error.column()
    )
}

/// Turns a complete response into a success or a typed error.
fn classify(
    endpoint: &str,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    debug_id: Option<String>,
    retry_after: Option<Duration>,
) -> Result<EndpointResponse, AuthError> {
    let code = status.as_u16();
    if status.is_success() {
        if let Some(error) = parse_error_response(&body) {
            return Err(AuthError::from_oauth(
                error,
                Some(code),
                debug_id,
                retry_after,
            ));
        }
        return Ok(EndpointResponse {
            status: code,
            debug_id,
            headers,
            body,
        });
    }
    if is_transient_status(status) {
        let detail = parse_error_response(&body).map_or_else(|| excerpt(&body), |e| e.to_string());
        return Err(AuthError::Transient {
            message: format!("the {endpoint} endpoint answered HTTP {code}: {detail}"),
            retry_after,
            debug_id,
        });
    }
    if status.is_client_error()
        && let Some(error) = parse_error_response(&body)
    {
        return Err(AuthError::from_oauth(
            error,
            Some(code),
            debug_id,
            retry_after,
        ));
    }
    let excerpt = if status.is_redirection() {
        format!("a redirect; {endpoint} requests are never redirected, check the URL")
    } else {
        excerpt(&body)
    };
    Err(AuthError::Protocol {
        source: ProtocolError::UnexpectedResponse {
            status: code,
            excerpt,
        },
        debug_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use frameio_auth_core::{ClientSecret, ErrorKind};

    fn run(status: u16, body: &str) -> Result<EndpointResponse, AuthError> {
        classify(
            "revoke",
            StatusCode::from_u16(status).unwrap(),
            HeaderMap::new(),
            body.as_bytes().to_vec(),
            Some("dbg".to_owned()),
            None,
        )
    }

    #[test]
    fn classification() {
        let ok = run(200, "").unwrap();
        assert_eq!(
            (ok.status(), ok.debug_id(), ok.body()),
            (200, Some("dbg"), &b""[..])
        );
        for (status, body, kind) in [
            (200, r#"{"error":"invalid_token"}"#, ErrorKind::Rejected),
            (
                401,
                r#"{"error":"invalid_client"}"#,
                ErrorKind::InvalidClient,
            ),
            (400, r#"{"error":"invalid_grant"}"#, ErrorKind::NeedsLogin),
            (401, r#"{"error":"invalid_token"}"#, ErrorKind::Rejected),
            (429, "", ErrorKind::Transient),
            (503, "<html>down</html>", ErrorKind::Transient),
            (404, "<html>no</html>", ErrorKind::Protocol),
            (302, "", ErrorKind::Protocol),
        ] {
            let err = run(status, body).unwrap_err();
            assert_eq!(err.kind(), kind, "{status} {body}");
            assert_eq!(err.debug_id(), Some("dbg"));
        }
    }

    #[test]
    fn builder_checks_settings() {
        assert!(EndpointClient::builder().build().is_ok());
        assert!(
            EndpointClient::builder()
                .attempt_timeout(Duration::ZERO)
                .build()
                .is_err()
        );
        assert!(
            EndpointClient::builder()
                .overall_deadline(Duration::ZERO)
                .build()
                .is_err()
        );
        assert!(EndpointClient::builder().max_body_bytes(0).build().is_err());
    }

    /// What `send_raw` returns for a non-2xx answer (formerly `ResourceResponse`'s test).
    #[test]
    fn raw_response_accessors_and_debug() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("100"));
        let response = EndpointResponse {
            status: 429,
            debug_id: None,
            headers,
            body: b"{\"message\":\"slow down eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln\"}".to_vec(),
        };
        assert_eq!(response.header("X-RateLimit-Limit"), Some("100"));
        assert_eq!(response.header("retry-after"), None);
        assert!(!response.is_success());
        assert!(response.body_excerpt().contains("[redacted]"));
        assert!(!format!("{response:?}").contains("slow down"));
        assert!(!format!("{response:?}").contains("ratelimit"));
        assert!(run(204, "").unwrap().is_success());
    }

    #[test]
    fn json_errors_never_quote_values() {
        #[derive(serde::Deserialize, Debug)]
        struct Valid {
            #[allow(dead_code)]
            valid: bool,
        }
        let response = run(200, r#"{"valid":"eyJsecret-looking-value"}"#).unwrap();
        let err = response.json::<Valid>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(!err.to_string().contains("eyJsecret"), "{err}");
        let html = run(200, "<html>proxy</html>").unwrap();
        assert!(
            html.json::<Valid>()
                .unwrap_err()
                .to_string()
                .contains("proxy")
        );
    }

    #[test]
    fn preparation_applies_auth_params_and_headers_without_showing_values() {
        let client = EndpointClient::builder().build().unwrap();
        let url = SecureUrl::parse("https://ims.example/ims/revoke?x=1").unwrap();
        let basic = ClientAuth::basic("id", ClientSecret::new("s3cret"));
        let request = client
            .post_form("revoke", &url)
            .client_auth(&basic)
            .param("token", "tok-value")
            .header("X-IMS-ClientId", "id");
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("tok-value") && shown.contains("token"),
            "{shown}"
        );
        let prepared = request.prepare().unwrap();
        assert_eq!(
            prepared.body.as_deref().map(String::as_str),
            Some("token=tok-value")
        );
        assert!(prepared.headers.iter().all(|(_, v)| v.is_sensitive()));
        assert_eq!(prepared.headers.len(), 2);

        let public = ClientAuth::public_in_query("spa");
        let prepared = client
            .post_form("revoke", &url)
            .client_auth(&public)
            .param("token", "t")
            .prepare()
            .unwrap();
        assert_eq!(prepared.url.query(), Some("x=1&client_id=spa"));

        let body = ClientAuth::request_body("id", ClientSecret::new("s"));
        let prepared = client
            .post_form("revoke", &url)
            .client_auth(&body)
            .param("token", "t")
            .prepare()
            .unwrap();
        assert_eq!(
            prepared.body.as_deref().map(String::as_str),
            Some("client_id=id&client_secret=s&token=t")
        );

        let token = AccessToken::new("at-value");
        let prepared = client
            .get("userinfo", &url)
            .param("client_id", "c d")
            .bearer(&token)
            .prepare()
            .unwrap();
        assert_eq!(prepared.url.query(), Some("x=1&client_id=c+d"));
        assert!(prepared.body.is_none());
        assert_eq!(prepared.headers[0].1.to_str().unwrap(), "Bearer at-value");
    }
}
