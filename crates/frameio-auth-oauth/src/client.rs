//! The token endpoint client: one form POST per attempt, retried while failures are transient.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{
    AuthError, Clock, ConfigError, ProtocolError, Timestamp, TokenSet,
    parse_token_response_with_warnings,
};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode};
use tracing::field::Empty;
use url::Url;

use crate::body::{excerpt, is_json};
use crate::form::Form;
use crate::retry::{RetryPolicy, run_with_retries};
use crate::transport::{Transport, check_status, traced, with_form_body};
use crate::{ClientAuth, Grant, SecureUrl, TransportSettings};

#[cfg(doc)]
use crate::DEFAULT_MAX_BODY_BYTES;

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
    token_url: SecureUrl,
    /// The token URL plus `?client_id=` for public clients that send it in the query.
    request_url: Url,
    host: String,
    auth: ClientAuth,
    authorization: Option<HeaderValue>,
    transport: Transport,
}

impl TokenClient {
    /// Starts building a client for the token endpoint at `token_url`.
    pub fn builder(token_url: SecureUrl, auth: ClientAuth) -> TokenClientBuilder {
        TokenClientBuilder {
            token_url,
            auth,
            transport: TransportSettings::default(),
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
        self.inner.transport.retry
    }

    /// The clock of the [`TransportSettings`]: where token times come from.
    pub fn clock(&self) -> &dyn Clock {
        &*self.inner.transport.clock
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
            &inner.transport.retry_context(grant_type),
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
        let send = self.send(body, timeout, &span);
        traced(
            &span,
            send,
            "token request succeeded",
            "token request failed",
        )
        .await
    }

    async fn send(
        &self,
        body: &str,
        timeout: Duration,
        span: &tracing::Span,
    ) -> Result<TokenSet, AuthError> {
        let inner = &*self.inner;
        let transport = &inner.transport;
        let mut request = with_form_body(
            transport.request(Method::POST, inner.request_url.clone(), timeout)?,
            body,
        );
        if let Some(authorization) = &inner.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        let sent_at = transport.clock.now();
        let received = transport.receive(request, "token", true, span).await?;
        classify(
            received.status,
            &received.body,
            received.debug_id,
            received.retry_after,
            sent_at,
        )
    }
}

impl fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let mut f = f.debug_struct("TokenClient");
        f.field("token_url", &inner.token_url)
            .field("auth", &inner.auth);
        inner.transport.debug_fields(&mut f);
        f.finish_non_exhaustive()
    }
}

/// Builds a [`TokenClient`]. Every setting has a documented default.
#[derive(Debug)]
pub struct TokenClientBuilder {
    token_url: SecureUrl,
    auth: ClientAuth,
    transport: TransportSettings,
}

impl TokenClientBuilder {
    /// How the client talks HTTP (timeouts, retries, roots, proxy, user agent, clock and
    /// sleeper). Default: [`TransportSettings::default`].
    #[must_use]
    pub fn transport(mut self, settings: TransportSettings) -> Self {
        self.transport = settings;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<TokenClient, ConfigError> {
        self.auth.validate()?;
        let transport = Transport::build(self.transport)?;
        let authorization = self.auth.authorization_header()?;
        let mut request_url = self.token_url.as_url().clone();
        if let Some(client_id) = self.auth.query_client_id() {
            request_url
                .query_pairs_mut()
                .append_pair("client_id", client_id);
        }
        Ok(TokenClient {
            inner: Arc::new(Inner {
                host: self.token_url.host_for_logs(),
                token_url: self.token_url,
                request_url,
                auth: self.auth,
                authorization,
                transport,
            }),
        })
    }
}

/// Turns a complete response into tokens or a typed error.
fn classify(
    status: StatusCode,
    body: &[u8],
    debug_id: Option<String>,
    retry_after: Option<Duration>,
    sent_at: Timestamp,
) -> Result<TokenSet, AuthError> {
    check_status("token", status, body, debug_id.as_deref(), retry_after)?;
    let parsed = match parse_token_response_with_warnings(body, sent_at) {
        Ok(parsed) => parsed,
        Err(source) => {
            let source = match source {
                ProtocolError::MalformedJson { .. } if !is_json(body) => {
                    ProtocolError::UnexpectedResponse {
                        status: status.as_u16(),
                        excerpt: excerpt(body),
                    }
                }
                other => other,
            };
            return Err(AuthError::Protocol { source, debug_id });
        }
    };
    // An odd optional field falls back rather than losing the response (and with it a
    // rotated refresh token): say which one, never its value.
    for warning in &parsed.warnings {
        tracing::warn!(
            field = warning.field,
            fallback = warning.fallback,
            debug_id = debug_id.as_deref(),
            "the token response has an unusable optional field; using a fallback"
        );
    }
    Ok(parsed.tokens)
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
}
