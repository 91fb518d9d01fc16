//! `ApiAuthError`: a Frame.io V2 or V4 `401`/`403` as a typed error.

use frameio_auth_core::AccessToken;
use frameio_auth_v2::ErrorDetails;
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};

use super::{RefreshDidNotHelp, SentToken};

/// The most body bytes read for an error (the rest is not needed for a summary).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest request id kept.
const MAX_REQUEST_ID_CHARS: usize = 128;
/// Headers that carry a request id Frame.io or Adobe support can look up, in order.
const REQUEST_ID_HEADERS: [&str; 2] = ["x-request-id", "x-debug-id"];

/// A `401` or `403` from the Frame.io API (V2 or V4 error body), saying whether the user must
/// sign in again.
///
/// The body is parsed by [`frameio_auth_v2::ErrorDetails`] (V2:
/// `{"code","message","errors":[...]}`, V4: `{"errors":[{"detail","source","title"}]}`,
/// anything else kept as a short excerpt), with token-like text redacted and, for a response
/// that went through [`BearerAuth`](crate::http::BearerAuth), the very token it sent scrubbed.
/// `Debug` and `Display` never contain a token.
///
/// [`needs_login`](Self::needs_login) is `true` for a `401` that a refresh did not cure:
/// [`BearerAuth`](crate::http::BearerAuth) refreshed and the newer token was rejected too, or
/// the source had no newer token (a Developer Token). A `401` it could not retry (a streaming
/// body) or one from a request sent without it is `false`: refresh
/// ([`refresh_if_current`](crate::TokenManager::refresh_if_current)) and try again. A `403`
/// is `false`: the token is valid but lacks a scope or access to the resource.
///
/// ```
/// use frameio_auth::http::ApiAuthError;
/// use reqwest::StatusCode;
/// use reqwest::header::HeaderMap;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("x-request-id", "req-42".parse().unwrap());
/// let body = br#"{"errors":[{"detail":"invalid token","source":{"pointer":""},"title":"Unauthorized"}]}"#;
/// let error = ApiAuthError::from_parts(StatusCode::UNAUTHORIZED, &headers, body, true);
/// assert!(error.needs_login());
/// assert_eq!(error.status(), 401);
/// assert_eq!(error.message(), "Unauthorized: invalid token");
/// assert_eq!(error.request_id(), Some("req-42"));
/// assert_eq!(
///     error.to_string(),
///     "HTTP 401: the token was rejected after a refresh; sign in again: Unauthorized: invalid token (request id req-42)"
/// );
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[error("HTTP {status}: {}: {message}{}", self.meaning(), self.request_id_suffix())]
pub struct ApiAuthError {
    status: u16,
    needs_login: bool,
    message: String,
    request_id: Option<String>,
    details: ErrorDetails,
}

impl ApiAuthError {
    /// Passes `response` through unless it is a `401` or `403`, which becomes the error (its
    /// body read, at most 64 KiB of it).
    ///
    /// ```no_run
    /// use frameio_auth::http::ApiAuthError;
    ///
    /// # async fn run(client: reqwest_middleware::ClientWithMiddleware) -> Result<(), Box<dyn std::error::Error>> {
    /// let response = client.get("https://api.frame.io/v4/me").send().await?;
    /// let response = ApiAuthError::check(response).await?;
    /// println!("{}", response.text().await?);
    /// # Ok(()) }
    /// ```
    pub async fn check(response: Response) -> Result<Response, Self> {
        match response.status() {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(Self::from_response(response).await)
            }
            _ => Ok(response),
        }
    }

    /// The error of `response`, whatever its status, reading its body (at most 64 KiB; a body
    /// that fails to arrive counts as what arrived of it).
    ///
    /// ```no_run
    /// use frameio_auth::http::ApiAuthError;
    ///
    /// # async fn run(response: reqwest::Response) {
    /// if response.status() == reqwest::StatusCode::UNAUTHORIZED {
    ///     let error = ApiAuthError::from_response(response).await;
    ///     eprintln!("{error} (sign in again: {})", error.needs_login());
    /// }
    /// # }
    /// ```
    pub async fn from_response(mut response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let uncured = response.extensions().get::<RefreshDidNotHelp>().is_some();
        let sent = response
            .extensions()
            .get::<SentToken>()
            .map(|sent| sent.0.clone());
        let sent = sent.as_ref().map(crate::CachedToken::access_token);
        let mut body = Vec::new();
        while body.len() < MAX_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        body.truncate(MAX_BODY_BYTES);
        Self::build(status, &headers, &body, uncured, sent)
    }

    /// The error of a response already read: its status, headers and body, and whether a
    /// refresh already failed to cure it (`true` when a newer token was rejected too).
    ///
    /// ```
    /// use frameio_auth::http::ApiAuthError;
    /// use reqwest::StatusCode;
    /// use reqwest::header::HeaderMap;
    ///
    /// let body = br#"{"code":403,"message":"Forbidden","errors":[{"code":"forbidden","detail":"missing scope asset.read","status":403,"title":"Forbidden"}]}"#;
    /// let error = ApiAuthError::from_parts(StatusCode::FORBIDDEN, &HeaderMap::new(), body, false);
    /// assert!(!error.needs_login());
    /// assert_eq!(error.message(), "Forbidden; Forbidden: missing scope asset.read");
    /// assert_eq!(error.details().code, Some(403));
    /// ```
    pub fn from_parts(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        refresh_did_not_help: bool,
    ) -> Self {
        Self::build(status, headers, body, refresh_did_not_help, None)
    }

    fn build(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        uncured: bool,
        sent: Option<&AccessToken>,
    ) -> Self {
        let details = match sent.map(AccessToken::expose_secret) {
            Some(token) if !token.is_empty() => {
                let text = String::from_utf8_lossy(body).replace(token, "[redacted]");
                ErrorDetails::parse(text.as_bytes())
            }
            _ => ErrorDetails::parse(body),
        };
        let request_id = REQUEST_ID_HEADERS.iter().find_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?.trim();
            let printable = !value.is_empty()
                && value.len() <= MAX_REQUEST_ID_CHARS
                && value.chars().all(|c| c.is_ascii_graphic());
            printable.then(|| value.to_owned())
        });
        Self {
            status: status.as_u16(),
            needs_login: status == StatusCode::UNAUTHORIZED && uncured,
            message: details.summary(),
            request_id,
            details,
        }
    }

    /// Whether only a new login can help: a `401` that a refresh did not cure.
    ///
    /// ```
    /// # use frameio_auth::http::ApiAuthError;
    /// # use reqwest::{StatusCode, header::HeaderMap};
    /// let body = br#"{"errors":[{"detail":"invalid token","title":"Unauthorized"}]}"#;
    /// let first = ApiAuthError::from_parts(StatusCode::UNAUTHORIZED, &HeaderMap::new(), body, false);
    /// assert!(!first.needs_login()); // refresh and retry
    /// ```
    pub fn needs_login(&self) -> bool {
        self.needs_login
    }

    /// The HTTP status (`401` or `403` from [`check`](Self::check)).
    ///
    /// ```
    /// # use frameio_auth::http::ApiAuthError;
    /// # use reqwest::{StatusCode, header::HeaderMap};
    /// let error = ApiAuthError::from_parts(StatusCode::FORBIDDEN, &HeaderMap::new(), b"", false);
    /// assert_eq!(error.status(), 403);
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// What the body said, in one line (redacted; `(no details)` for an empty body).
    ///
    /// ```
    /// # use frameio_auth::http::ApiAuthError;
    /// # use reqwest::{StatusCode, header::HeaderMap};
    /// let error = ApiAuthError::from_parts(StatusCode::UNAUTHORIZED, &HeaderMap::new(), b"", false);
    /// assert_eq!(error.message(), "(no details)");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The response's `x-request-id` (else IMS's `x-debug-id`), for support.
    ///
    /// ```
    /// # use frameio_auth::http::ApiAuthError;
    /// # use reqwest::{StatusCode, header::HeaderMap};
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-debug-id", "dbg-1".parse().unwrap());
    /// let error = ApiAuthError::from_parts(StatusCode::UNAUTHORIZED, &headers, b"", false);
    /// assert_eq!(error.request_id(), Some("dbg-1"));
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The parsed body (redacted).
    ///
    /// ```
    /// # use frameio_auth::http::ApiAuthError;
    /// # use reqwest::{StatusCode, header::HeaderMap};
    /// let body = br#"{"errors":[{"detail":"invalid token","title":"Unauthorized"}]}"#;
    /// let error = ApiAuthError::from_parts(StatusCode::UNAUTHORIZED, &HeaderMap::new(), body, false);
    /// assert_eq!(error.details().errors[0].detail.as_deref(), Some("invalid token"));
    /// ```
    pub fn details(&self) -> &ErrorDetails {
        &self.details
    }

    fn meaning(&self) -> &'static str {
        match (self.status, self.needs_login) {
            (401, true) => "the token was rejected after a refresh; sign in again",
            (401, false) => "the token was rejected; refresh it and try again",
            (403, _) => "the token lacks a scope or access to the resource",
            _ => "the request failed",
        }
    }

    fn request_id_suffix(&self) -> String {
        self.request_id
            .as_deref()
            .map_or_else(String::new, |id| format!(" (request id {id})"))
    }
}
