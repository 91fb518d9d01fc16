//! Typed errors of the Frame.io API (`/v2/me`, `/v4/me`), with rate limits and error bodies.

use std::fmt;
use std::time::Duration;

use frameio_auth_core::{AuthError, Timestamp, redact_tokens, redacted_excerpt};
use frameio_auth_oauth::{EndpointResponse, parse_retry_after};
use serde::Deserialize;

/// The longest server text kept in an error, in characters.
const MAX_TEXT_CHARS: usize = 300;
/// The most error items kept from one body.
const MAX_ITEMS: usize = 10;

/// The rate-limit headers Frame.io sends on every response (a leaky bucket).
///
/// Each value is `None` when its header was absent or not a number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// `x-ratelimit-limit`: requests allowed per window.
    pub limit: Option<u64>,
    /// `x-ratelimit-remaining`: requests left in the current window.
    pub remaining: Option<u64>,
    /// `x-ratelimit-window`: the window, sent in **milliseconds**.
    pub window: Option<Duration>,
}

impl RateLimit {
    /// Reads the three headers through `header` (a case-insensitive header lookup).
    ///
    /// ```
    /// use std::time::Duration;
    /// use frameio_auth_v2::RateLimit;
    ///
    /// let headers = [("x-ratelimit-limit", "10"), ("x-ratelimit-remaining", "0"),
    ///                ("x-ratelimit-window", "60000")];
    /// let limit = RateLimit::from_headers(|name| {
    ///     headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    /// });
    /// assert_eq!(limit.limit, Some(10));
    /// assert_eq!(limit.remaining, Some(0));
    /// assert_eq!(limit.window, Some(Duration::from_secs(60)));
    /// ```
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Self {
        let number = |name: &str| header(name).and_then(|v| v.trim().parse::<u64>().ok());
        Self {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            window: number("x-ratelimit-window").map(Duration::from_millis),
        }
    }

    /// Whether no header was present.
    pub fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.window.is_none()
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
        write!(
            f,
            "limit {}, remaining {}, window {}",
            show(self.limit),
            show(self.remaining),
            self.window
                .map_or_else(|| "?".to_owned(), |w| format!("{} ms", w.as_millis()))
        )
    }
}

/// One entry of an error body's `errors` list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorItem {
    /// `code` (V2), if any.
    pub code: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `detail`.
    pub detail: Option<String>,
    /// `status` (V2), if any.
    pub status: Option<String>,
}

/// What an error body said, in either format, with anything token-like redacted.
///
/// - V2: `{"code": 401, "message": "...", "errors": [{"code", "detail", "status", "title"}]}`
/// - V4: `{"errors": [{"detail", "source", "title"}]}`
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorDetails {
    /// `code` (V2): usually the HTTP status again.
    pub code: Option<i64>,
    /// `message` (V2).
    pub message: Option<String>,
    /// `errors`.
    pub errors: Vec<ErrorItem>,
    /// When the body was not a recognisable error body: a short redacted excerpt of it.
    pub excerpt: Option<String>,
}

#[derive(Deserialize)]
struct WireBody {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Option<Vec<WireItem>>,
}

#[derive(Deserialize)]
struct WireItem {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    status: Option<serde_json::Value>,
}

fn clean(text: &str) -> String {
    redacted_excerpt(redact_tokens(text.trim()).as_ref(), MAX_TEXT_CHARS)
}

fn scalar(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(text) => Some(clean(&text)),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ErrorDetails {
    /// Parses a V2 or V4 error body; anything else is kept as an excerpt.
    ///
    /// ```
    /// use frameio_auth_v2::ErrorDetails;
    ///
    /// let v2 = ErrorDetails::parse(br#"{"code":403,"message":"Forbidden",
    ///     "errors":[{"code":403,"detail":"missing scope asset.read","status":403,"title":"Forbidden"}]}"#);
    /// assert_eq!(v2.code, Some(403));
    /// assert_eq!(v2.errors[0].detail.as_deref(), Some("missing scope asset.read"));
    ///
    /// let v4 = ErrorDetails::parse(br#"{"errors":[{"detail":"Invalid token","title":"Unauthorized"}]}"#);
    /// assert_eq!(v4.errors[0].title.as_deref(), Some("Unauthorized"));
    /// ```
    pub fn parse(body: &[u8]) -> Self {
        let excerpt_of = |body: &[u8]| {
            let text = String::from_utf8_lossy(body);
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            (!flat.is_empty()).then(|| clean(&flat))
        };
        let Ok(wire) = serde_json::from_slice::<WireBody>(body) else {
            return Self {
                excerpt: excerpt_of(body),
                ..Self::default()
            };
        };
        let code = match wire.code {
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let errors: Vec<ErrorItem> = wire
            .errors
            .unwrap_or_default()
            .into_iter()
            .take(MAX_ITEMS)
            .map(|item| ErrorItem {
                code: scalar(item.code),
                title: item.title.as_deref().map(clean),
                detail: item.detail.as_deref().map(clean),
                status: scalar(item.status),
            })
            .collect();
        let message = wire.message.as_deref().map(clean);
        let recognised = code.is_some() || message.is_some() || !errors.is_empty();
        Self {
            code,
            message,
            errors,
            excerpt: if recognised { None } else { excerpt_of(body) },
        }
    }

    /// A one-line summary: the message, then each item's title and detail.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(message) = &self.message {
            parts.push(message.clone());
        }
        for item in &self.errors {
            match (&item.title, &item.detail) {
                (Some(t), Some(d)) => parts.push(format!("{t}: {d}")),
                (Some(t), None) => parts.push(t.clone()),
                (None, Some(d)) => parts.push(d.clone()),
                (None, None) => {}
            }
        }
        if parts.is_empty()
            && let Some(excerpt) = &self.excerpt
        {
            parts.push(excerpt.clone());
        }
        if parts.is_empty() {
            "(no details)".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

/// An error from a Frame.io API call such as [`whoami`](crate::FrameioApi::whoami).
///
/// Messages never contain the token; server text is redacted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// HTTP 401: the token is invalid, expired or revoked (or a V2 token was sent to V4, or the
    /// reverse). Get a new token: refresh, or sign in again.
    #[error("HTTP 401: the token is invalid, expired or revoked: {}", .details.summary())]
    InvalidToken {
        /// The error body.
        details: ErrorDetails,
    },
    /// HTTP 402: the account's plan does not allow this (a plan limit).
    #[error("HTTP 402: the account's plan limit was reached: {}", .details.summary())]
    PlanLimit {
        /// The error body.
        details: ErrorDetails,
    },
    /// HTTP 403: the token lacks a scope, or the user lacks access to the resource.
    #[error("HTTP 403: missing scope or access: {}", .details.summary())]
    Forbidden {
        /// The error body.
        details: ErrorDetails,
    },
    /// HTTP 429: rate limited. Wait ([`retry_after`](Self::retry_after), else about a second),
    /// then back off exponentially.
    #[error("HTTP 429: rate limited ({rate_limit}{}): {}", retry_suffix(*.retry_after), .details.summary())]
    RateLimited {
        /// The rate-limit headers of the 429 response.
        rate_limit: RateLimit,
        /// `Retry-After`, if sent (seconds or an HTTP date).
        retry_after: Option<Duration>,
        /// The error body.
        details: ErrorDetails,
    },
    /// Any other non-success status (404, 409, 422, 5xx, ...).
    #[error("HTTP {status}: {}", .details.summary())]
    Status {
        /// The HTTP status.
        status: u16,
        /// The error body.
        details: ErrorDetails,
    },
    /// A success status with a body that is not the expected JSON.
    #[error("unexpected HTTP {status} response body: {reason}")]
    UnexpectedBody {
        /// The HTTP status.
        status: u16,
        /// What was wrong (position and category; never field values).
        reason: String,
    },
    /// No complete response: network failure, timeout, body over the cap, bad configuration.
    #[error(transparent)]
    Transport(#[from] AuthError),
}

fn retry_suffix(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |d| {
        format!(", retry after {} ms", d.as_millis())
    })
}

impl ApiError {
    /// Maps a non-success response to its typed error.
    pub(crate) fn from_response(response: &EndpointResponse, now: Timestamp) -> Self {
        let details = ErrorDetails::parse(response.body());
        match response.status() {
            401 => Self::InvalidToken { details },
            402 => Self::PlanLimit { details },
            403 => Self::Forbidden { details },
            429 => Self::RateLimited {
                rate_limit: RateLimit::from_headers(|name| response.header(name)),
                retry_after: response
                    .header("retry-after")
                    .and_then(|v| parse_retry_after(v, now)),
                details,
            },
            status => Self::Status { status, details },
        }
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::InvalidToken { .. } => Some(401),
            Self::PlanLimit { .. } => Some(402),
            Self::Forbidden { .. } => Some(403),
            Self::RateLimited { .. } => Some(429),
            Self::Status { status, .. } | Self::UnexpectedBody { status, .. } => Some(*status),
            Self::Transport(_) => None,
        }
    }

    /// The error body, when there was one.
    pub fn details(&self) -> Option<&ErrorDetails> {
        match self {
            Self::InvalidToken { details }
            | Self::PlanLimit { details }
            | Self::Forbidden { details }
            | Self::RateLimited { details, .. }
            | Self::Status { details, .. } => Some(details),
            Self::UnexpectedBody { .. } | Self::Transport(_) => None,
        }
    }

    /// The rate-limit values of a 429.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        match self {
            Self::RateLimited { rate_limit, .. } => Some(rate_limit),
            _ => None,
        }
    }

    /// How long the server asked to wait (429's `Retry-After`, or a transient failure's).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            Self::Transport(error) => error.retry_after(),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: 429, 5xx, network failures.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. } => true,
            Self::Status { status, .. } => *status >= 500,
            Self::Transport(error) => error.is_retryable(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_headers() {
        let limit = RateLimit::from_headers(|name| match name {
            "x-ratelimit-limit" => Some(" 5 "),
            "x-ratelimit-remaining" => Some("many"),
            "x-ratelimit-window" => Some("1500"),
            _ => None,
        });
        assert_eq!(limit.limit, Some(5));
        assert_eq!(limit.remaining, None);
        assert_eq!(limit.window, Some(Duration::from_millis(1500)));
        assert_eq!(limit.to_string(), "limit 5, remaining ?, window 1500 ms");
        assert!(RateLimit::from_headers(|_| None).is_empty());
    }

    #[test]
    fn bodies_are_parsed_and_redacted() {
        let v2 = ErrorDetails::parse(
            br#"{"code":"401","message":"bad token fio-u-abcdefghijklmnop","errors":[{"code":"x","status":401}],"extra":1}"#,
        );
        assert_eq!(v2.code, Some(401));
        assert_eq!(v2.message.as_deref(), Some("bad token [redacted]"));
        assert_eq!(v2.errors[0].status.as_deref(), Some("401"));
        assert!(v2.excerpt.is_none());

        let html = ErrorDetails::parse(b"<html>\n<h1>502 Bad Gateway</h1></html>");
        assert_eq!(html.summary(), "<html> <h1>502 Bad Gateway</h1></html>");
        let other_json = ErrorDetails::parse(br#"{"unexpected":true}"#);
        assert!(other_json.excerpt.is_some());
        assert_eq!(ErrorDetails::parse(b"").summary(), "(no details)");

        let many = format!(
            r#"{{"errors":[{}]}}"#,
            vec![r#"{"title":"t"}"#; 50].join(",")
        );
        assert_eq!(ErrorDetails::parse(many.as_bytes()).errors.len(), MAX_ITEMS);
    }
}
