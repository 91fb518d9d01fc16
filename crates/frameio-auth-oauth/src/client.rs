//! The token endpoint client: one form POST per attempt, retried while failures are transient.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;

use frameio_auth_core::{
    AuthError, Clock, ConfigError, ProtocolError, Timestamp, TokenSet,
    parse_token_response_with_warnings,
};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode};
use tracing::field::Empty;
use url::Url;
use zeroize::Zeroizing;

use crate::body::{excerpt_known, is_json};
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
        let known = known_secrets(&body, inner.authorization.as_ref());
        let known: Vec<&str> = known.iter().map(|secret| secret.as_str()).collect();

        run_with_retries(
            &inner.transport.retry_context(grant_type),
            |attempt, timeout| self.attempt(grant_type, &body, &known, attempt, timeout),
        )
        .await
    }

    /// One attempt, in its own span.
    async fn attempt(
        &self,
        grant_type: &'static str,
        body: &str,
        known: &[&str],
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
        let send = self.send(body, known, timeout, &span);
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
        known: &[&str],
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
            known,
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

/// The secrets a token request sends, for redacting an echo of them from error text: every
/// form value except the public ones, and the Basic credentials (base64, and decoded).
fn known_secrets(body: &str, authorization: Option<&HeaderValue>) -> Vec<Zeroizing<String>> {
    const PUBLIC: [&str; 5] = [
        "grant_type",
        "client_id",
        "scope",
        "redirect_uri",
        "resource",
    ];
    let mut known: Vec<Zeroizing<String>> = url::form_urlencoded::parse(body.as_bytes())
        .filter(|(name, _)| !PUBLIC.contains(&name.as_ref()))
        .map(|(_, value)| Zeroizing::new(value.into_owned()))
        .collect();
    let basic = authorization
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .get(..6)
                .filter(|s| s.eq_ignore_ascii_case("basic "))
                .map(|_| &value[6..])
        });
    if let Some(encoded) = basic {
        let encoded = encoded.trim();
        known.push(Zeroizing::new(encoded.to_owned()));
        let decoded = Zeroizing::new(BASE64_STANDARD.decode(encoded).unwrap_or_default());
        if let Some((_, secret)) = std::str::from_utf8(&decoded)
            .ok()
            .and_then(|pair| pair.split_once(':'))
        {
            known.push(Zeroizing::new(secret.to_owned()));
            // Sent form-urlencoded inside the base64: the plain value too.
            let plain = Zeroizing::new(percent_decode_form(secret));
            known.push(plain);
        }
    }
    known
}

/// Form-urlencoding undone (`+` as a space, then percent-decoding, lossy). The encoded text
/// holds no bare `=` or `&`, so it parses as one name.
fn percent_decode_form(text: &str) -> String {
    url::form_urlencoded::parse(text.as_bytes())
        .next()
        .map(|(name, _)| name.into_owned())
        .unwrap_or_default()
}

/// Turns a complete response into tokens or a typed error.
fn classify(
    status: StatusCode,
    body: &[u8],
    debug_id: Option<String>,
    retry_after: Option<Duration>,
    sent_at: Timestamp,
    known: &[&str],
) -> Result<TokenSet, AuthError> {
    check_status(
        "token",
        status,
        body,
        debug_id.as_deref(),
        retry_after,
        known,
    )?;
    let parsed = match parse_token_response_with_warnings(body, sent_at) {
        Ok(parsed) => parsed,
        Err(source) => {
            let source = match source {
                ProtocolError::MalformedJson { .. } if !is_json(body) => {
                    ProtocolError::UnexpectedResponse {
                        status: status.as_u16(),
                        excerpt: excerpt_known(body, known),
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
    use frameio_auth_core::{ClientSecret, ErrorKind};

    const NOW: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

    fn run(status: u16, body: &str) -> Result<TokenSet, AuthError> {
        classify(
            StatusCode::from_u16(status).unwrap(),
            body.as_bytes(),
            Some("dbg-1".to_owned()),
            None,
            NOW,
            &[],
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

    /// Issue 14, case 5: a 502 page echoing the request form, and the Basic credentials.
    #[test]
    fn echoed_request_secrets_are_redacted_from_errors() {
        let secret = ClientSecret::new("sh0rt s3cr3t!");
        let auth = crate::client_auth::basic_authorization("cid", &secret).unwrap();
        let body =
            "grant_type=refresh_token&refresh_token=9fQx7Yk2%2BLmN&client_secret=sh0rt+s3cr3t%21";
        let known = known_secrets(body, Some(&auth));
        let known: Vec<&str> = known.iter().map(|k| k.as_str()).collect();
        let encoded_basic = auth.to_str().unwrap()["Basic ".len()..].to_owned();
        let echoes = [
            "upstream said: 9fQx7Yk2+LmN".to_owned(),
            "upstream said: 9fQx7Yk2%2BLmN".to_owned(),
            "upstream said: sh0rt s3cr3t!".to_owned(),
            "upstream said: sh0rt+s3cr3t%21".to_owned(),
            r#"{"note":"sh0rt s3cr3t!"}"#.to_owned(),
            format!("upstream said: {encoded_basic}"),
        ];
        for echo in echoes {
            for status in [200, 403, 502] {
                let page = format!("<html>{echo}</html>");
                let err = classify(
                    StatusCode::from_u16(status).unwrap(),
                    page.as_bytes(),
                    None,
                    None,
                    NOW,
                    &known,
                )
                .unwrap_err();
                let text = err.to_string();
                for leak in ["9fQx7Yk2", "s3cr3t", encoded_basic.as_str()] {
                    assert!(!text.contains(leak), "{status}: {text}");
                }
                assert!(text.contains("[redacted]"), "{status}: {text}");
            }
        }
        let oauth = r#"{"error":"invalid_grant","error_description":"bad sh0rt s3cr3t!"}"#;
        let err = classify(
            StatusCode::BAD_REQUEST,
            oauth.as_bytes(),
            None,
            None,
            NOW,
            &known,
        )
        .unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert!(!known.contains(&"refresh_token") && !known.contains(&"cid"));
    }
}
