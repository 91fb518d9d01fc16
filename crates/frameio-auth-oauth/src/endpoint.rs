//! Requests to an OAuth provider's other endpoints (revocation, introspection-style validation,
//! user info...) and to APIs (Frame.io's `/v2/me`), with the token client's retries, size cap,
//! `x-debug-id` and tracing.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{AccessToken, AuthError, Clock, ConfigError, ProtocolError};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use tracing::field::Empty;
use url::Url;
use zeroize::Zeroizing;

use crate::body::excerpt;
use crate::form::Form;
use crate::retry::{RetryPolicy, run_with_retries};
use crate::transport::{Received, Transport, check_status, traced, with_form_body};
use crate::{ClientAuth, SecureUrl, TransportSettings};

/// A client for an OAuth provider's endpoints other than the token endpoint: a form `POST`
/// (RFC 7009 revocation, IMS `invalidate_token` and `validate_token`) or a bearer `GET` (OpenID
/// Connect user info, profile APIs).
///
/// It shares the [`TokenClient`](crate::TokenClient)'s mechanics: the same [`RetryPolicy`]
/// (transient failures, `Retry-After`), timeouts and overall deadline on the injected
/// [`Clock`](frameio_auth_core::Clock), the response body cap, the `x-debug-id` in every
/// error, OAuth error bodies turned into typed [`AuthError`]s, redirects never followed, and
/// one tracing span per attempt, `oauth.endpoint_request` (`endpoint`, `method`, `host`,
/// `attempt`, `status`, `latency_ms`, `debug_id`), which never records a token, secret, form
/// value or query string.
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
    transport: Transport,
}

impl EndpointClient {
    /// Starts building a client; every setting has the [`TokenClient`](crate::TokenClient)'s
    /// default.
    pub fn builder() -> EndpointClientBuilder {
        EndpointClientBuilder {
            transport: TransportSettings::default(),
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
        self.inner.transport.retry
    }

    /// The clock of the [`TransportSettings`] (for HTTP-date `Retry-After` values).
    pub fn clock(&self) -> &dyn Clock {
        &*self.inner.transport.clock
    }
}

impl fmt::Debug for EndpointClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("EndpointClient");
        self.inner.transport.debug_fields(&mut f);
        f.finish_non_exhaustive()
    }
}

/// Builds an [`EndpointClient`].
#[derive(Debug)]
pub struct EndpointClientBuilder {
    transport: TransportSettings,
}

impl EndpointClientBuilder {
    /// How the client talks HTTP (timeouts, retries, roots, proxy, user agent, clock and
    /// sleeper). Default: [`TransportSettings::default`].
    #[must_use]
    pub fn transport(mut self, settings: TransportSettings) -> Self {
        self.transport = settings;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<EndpointClient, ConfigError> {
        Ok(EndpointClient {
            inner: Arc::new(Inner {
                transport: Transport::build(self.transport)?,
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
    /// use frameio_auth_oauth::{EndpointClient, RetryPolicy, SecureUrl, TransportSettings};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = EndpointClient::builder()
    ///     .transport(TransportSettings::new().retry_policy(RetryPolicy::no_retries()))
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
        run_with_retries(
            &self.client.inner.transport.retry_context(self.endpoint),
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
        let send = self.send_once(prepared, mode, timeout, &span);
        let done = match mode {
            Mode::Raw => "endpoint request answered",
            Mode::Typed => "endpoint request succeeded",
        };
        traced(&span, send, done, "endpoint request failed").await
    }

    async fn send_once(
        &self,
        prepared: &Prepared,
        mode: Mode,
        timeout: Duration,
        span: &tracing::Span,
    ) -> Result<EndpointResponse, AuthError> {
        let transport = &self.client.inner.transport;
        let mut request = transport.request(self.method.clone(), prepared.url.clone(), timeout)?;
        for (name, value) in &prepared.headers {
            request = request.header(name.clone(), value.clone());
        }
        if let Some(body) = &prepared.body {
            request = with_form_body(request, body);
        }
        let typed = mode == Mode::Typed;
        let received = transport
            .receive(request, self.endpoint, typed, span)
            .await?;
        if typed {
            classify(self.endpoint, received)
        } else {
            Ok(EndpointResponse::from(received))
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
    /// May hold tokens (user info, a validation answer): wiped when dropped.
    body: zeroize::Zeroizing<Vec<u8>>,
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

impl From<Received> for EndpointResponse {
    fn from(received: Received) -> Self {
        Self {
            status: received.status.as_u16(),
            debug_id: received.debug_id,
            headers: received.headers,
            body: received.body,
        }
    }
}

/// Turns a complete response into a success or a typed error.
fn classify(endpoint: &str, received: Received) -> Result<EndpointResponse, AuthError> {
    check_status(
        endpoint,
        received.status,
        &received.body,
        received.debug_id.as_deref(),
        received.retry_after,
        &[],
    )?;
    Ok(EndpointResponse::from(received))
}

#[cfg(test)]
mod tests {
    use super::*;
    use frameio_auth_core::{ClientSecret, ErrorKind};
    use reqwest::StatusCode;

    fn run(status: u16, body: &str) -> Result<EndpointResponse, AuthError> {
        classify(
            "revoke",
            Received {
                status: StatusCode::from_u16(status).unwrap(),
                headers: HeaderMap::new(),
                debug_id: Some("dbg".to_owned()),
                retry_after: None,
                body: body.as_bytes().to_vec().into(),
            },
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
        let with = |settings: TransportSettings| EndpointClient::builder().transport(settings);
        assert!(EndpointClient::builder().build().is_ok());
        assert!(
            with(TransportSettings::new().attempt_timeout(Duration::ZERO))
                .build()
                .is_err()
        );
        assert!(
            with(TransportSettings::new().overall_deadline(Duration::ZERO))
                .build()
                .is_err()
        );
        assert!(
            with(TransportSettings::new().max_body_bytes(0))
                .build()
                .is_err()
        );
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
            body: zeroize::Zeroizing::new(
                b"{\"message\":\"slow down eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln\"}".to_vec(),
            ),
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
