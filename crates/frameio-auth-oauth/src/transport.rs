//! What [`TokenClient`](crate::TokenClient) and [`EndpointClient`](crate::EndpointClient)
//! share: the reqwest client built from their [`TransportSettings`], and the handling of one attempt (send, status, `x-debug-id`, `Retry-After`, the
//! body cap, the tracing span, and the OAuth reading of an error answer).

use std::error::Error as _;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use frameio_auth_core::{
    AuthError, Clock, ConfigError, MAX_RESPONSE_BYTES, ProtocolError, Sleeper,
    parse_error_response, redact_known,
};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use tracing::Instrument as _;
use url::Url;

use crate::TransportSettings;
use crate::body::{BodyError, excerpt_known, read_capped};
use crate::retry::{RetryContext, RetryPolicy, parse_retry_after};
use crate::settings::Proxies;

/// Default cap on a response body: 1 MiB (the same as core's parser limit).
pub const DEFAULT_MAX_BODY_BYTES: usize = MAX_RESPONSE_BYTES;

/// The response header in which Adobe IMS returns a request id for support.
pub(crate) const DEBUG_ID_HEADER: &str = "x-debug-id";
/// The longest `x-debug-id` kept.
const MAX_DEBUG_ID_CHARS: usize = 128;

impl Transport {
    /// Checks `settings`; the HTTP client itself is built at the first request.
    pub(crate) fn build(settings: TransportSettings) -> Result<Self, ConfigError> {
        let user_agent = settings.validate()?;
        Ok(Self {
            http: OnceLock::new(),
            client_settings: ClientSettings {
                root_certificates: settings.root_certificates,
                proxy: settings.proxy,
                user_agent,
                connect_timeout: settings.connect_timeout,
            },
            retry: settings.retry,
            attempt_timeout: settings.attempt_timeout,
            overall_deadline: settings.overall_deadline,
            max_body_bytes: settings.max_body_bytes,
            clock: settings.clock,
            sleeper: settings.sleeper,
        })
    }
}

/// The built settings: the HTTP client and what every attempt needs.
pub(crate) struct Transport {
    /// Built on first use: building it loads the system's root certificates (about 5 ms, and
    /// hundreds of file reads), which a program that answers from a stored token never needs.
    http: OnceLock<reqwest::Client>,
    client_settings: ClientSettings,
    pub(crate) retry: RetryPolicy,
    attempt_timeout: Duration,
    overall_deadline: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
}

/// What the HTTP client is built from.
struct ClientSettings {
    root_certificates: Vec<reqwest::Certificate>,
    proxy: Proxies,
    user_agent: HeaderValue,
    connect_timeout: Duration,
}

/// A complete answer: status, headers and body (at most the cap).
pub(crate) struct Received {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) debug_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: zeroize::Zeroizing<Vec<u8>>,
}

impl Transport {
    /// The retry loop's settings for one request; `request` labels it in logs.
    pub(crate) fn retry_context(&self, request: &'static str) -> RetryContext<'_> {
        RetryContext {
            policy: self.retry,
            attempt_timeout: self.attempt_timeout,
            overall_deadline: self.overall_deadline,
            clock: &*self.clock,
            sleeper: &*self.sleeper,
            request,
        }
    }

    /// A request with the attempt's timeout, asking for JSON. Fails only when the HTTP
    /// client cannot be built (a configuration error, the same every time).
    pub(crate) fn request(
        &self,
        method: Method,
        url: Url,
        timeout: Duration,
    ) -> Result<RequestBuilder, AuthError> {
        Ok(self
            .http()?
            .request(method, url)
            .timeout(timeout)
            .header(ACCEPT, "application/json"))
    }

    fn http(&self) -> Result<&reqwest::Client, AuthError> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        // Two first requests at once may both build one; the first stored is kept.
        let client = http_client(&self.client_settings)?;
        Ok(self.http.get_or_init(|| client))
    }

    /// Sends `request` and reads the whole answer, recording `status` and `debug_id` on
    /// `span`. Transport failures are transient errors. A body over the cap is a protocol
    /// error, or a transient one when `oversized_may_retry` and the status is transient.
    pub(crate) async fn receive(
        &self,
        request: RequestBuilder,
        endpoint: &str,
        oversized_may_retry: bool,
        span: &tracing::Span,
    ) -> Result<Received, AuthError> {
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_error(&e, None, None, endpoint))?;
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
            .and_then(|value| parse_retry_after(value, self.clock.now()));
        let headers = response.headers().clone();
        match read_capped(&mut response, self.max_body_bytes).await {
            Ok(body) => Ok(Received {
                status,
                headers,
                debug_id,
                retry_after,
                body,
            }),
            Err(BodyError::Transport(e)) => {
                Err(transport_error(&e, Some(status), debug_id, endpoint))
            }
            Err(BodyError::TooLarge) if oversized_may_retry && is_transient_status(status) => {
                Err(AuthError::Transient {
                    message: format!(
                        "the {endpoint} endpoint answered HTTP {} with a body over the {}-byte limit",
                        status.as_u16(),
                        self.max_body_bytes
                    ),
                    retry_after,
                    debug_id,
                })
            }
            Err(BodyError::TooLarge) => Err(AuthError::Protocol {
                source: ProtocolError::BodyTooLarge {
                    limit: self.max_body_bytes,
                },
                debug_id,
            }),
        }
    }

    /// The settings, as fields of a client's `Debug`.
    pub(crate) fn debug_fields(&self, f: &mut fmt::DebugStruct<'_, '_>) {
        f.field("retry", &self.retry)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("overall_deadline", &self.overall_deadline)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("clock", &self.clock)
            .field("sleeper", &self.sleeper);
    }
}

/// Adds a form body.
pub(crate) fn with_form_body(request: RequestBuilder, body: &str) -> RequestBuilder {
    // The body carries secrets (a client secret, a refresh token, a code and its verifier):
    // the copy handed to reqwest is wiped when reqwest drops it.
    let owned = zeroize::Zeroizing::new(body.as_bytes().to_vec());
    request
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(bytes::Bytes::from_owner(owned))
}

/// Runs one attempt in `span`: records its latency and logs its outcome (`done` on success,
/// `failed` with the error's kind otherwise), inside the span.
pub(crate) async fn traced<T>(
    span: &tracing::Span,
    attempt: impl Future<Output = Result<T, AuthError>>,
    done: &'static str,
    failed: &'static str,
) -> Result<T, AuthError> {
    let started = Instant::now();
    let result = attempt.instrument(span.clone()).await;
    span.record("latency_ms", millis(started.elapsed()));
    let _entered = span.enter();
    match &result {
        Ok(_) => tracing::debug!("{done}"),
        Err(error) => tracing::debug!(
            kind = ?error.kind(),
            retryable = error.is_retryable(),
            "{failed}"
        ),
    }
    result
}

/// The OAuth reading of a complete answer: `Ok` for a 2xx without an OAuth error body;
/// otherwise the typed error (an OAuth error body, a transient status, a redirect, or an
/// unexpected answer with a redacted excerpt). `endpoint` names it in messages (`token`).
/// `known` are the secrets the request sent: an echo of them is redacted from any text quoted.
pub(crate) fn check_status(
    endpoint: &str,
    status: StatusCode,
    body: &[u8],
    id: Option<&str>,
    retry_after: Option<Duration>,
    known: &[&str],
) -> Result<(), AuthError> {
    let code = status.as_u16();
    let debug_id = || id.map(str::to_owned);
    let excerpt = |body: &[u8]| excerpt_known(body, known);
    let parsed = || {
        parse_error_response(body).map(|mut error| {
            error.description = error
                .description
                .map(|text| redact_known(&text, known).into_owned());
            error
        })
    };
    let oauth_error =
        || parsed().map(|error| AuthError::from_oauth(error, Some(code), debug_id(), retry_after));
    if status.is_success() {
        // Some servers answer 200 with an OAuth error body.
        return oauth_error().map_or(Ok(()), Err);
    }
    if is_transient_status(status) {
        let detail = parsed().map_or_else(|| excerpt(body), |e| e.to_string());
        let what = if code == 429 {
            "throttled the request"
        } else {
            "is failing"
        };
        return Err(AuthError::Transient {
            message: format!("the {endpoint} endpoint {what} (HTTP {code}): {detail}"),
            retry_after,
            debug_id: debug_id(),
        });
    }
    if status.is_client_error()
        && let Some(error) = oauth_error()
    {
        return Err(error);
    }
    let excerpt = if status.is_redirection() {
        format!("a redirect; {endpoint} requests are never redirected, check the {endpoint} URL")
    } else {
        excerpt(body)
    };
    Err(AuthError::Protocol {
        source: ProtocolError::UnexpectedResponse {
            status: code,
            excerpt,
        },
        debug_id: debug_id(),
    })
}

/// Builds the reqwest client: rustls, no redirects (a token POST that is redirected is an
/// error, never followed: following it could send the client secret or code elsewhere), the
/// connect timeout, extra roots, proxies and user agent. Per-request timeouts are set per
/// attempt.
fn http_client(settings: &ClientSettings) -> Result<reqwest::Client, ConfigError> {
    let mut builder = reqwest::Client::builder()
        .tls_backend_rustls()
        .tls_certs_merge(settings.root_certificates.iter().cloned())
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(settings.user_agent.clone())
        .connect_timeout(settings.connect_timeout);
    // reqwest's own reading of the environment would proxy loopback too: ours exempts it.
    builder = builder.no_proxy();
    for proxy in crate::proxy::proxies(&settings.proxy, &|name| std::env::var(name).ok())? {
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|e| ConfigError::new(format!("cannot build the HTTP client: {}", e.without_url())))
}

/// 429, 500, 502, 503 and 504: worth another try.
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// A transient error for a failed connection, send or body read. The URL is left out of the
/// message (it may carry a client id in its query).
fn transport_error(
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
fn debug_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(DEBUG_ID_HEADER)?.to_str().ok()?.trim();
    let id: String = value
        .chars()
        .filter(char::is_ascii_graphic)
        .take(MAX_DEBUG_ID_CHARS)
        .collect();
    (!id.is_empty()).then_some(id)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

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
