//! Pure parsing of OAuth 2 token-endpoint responses (RFC 6749 §5).

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::redact::redacted_excerpt as excerpt;
use crate::{
    AccessToken, IdToken, Lifetime, ProtocolError, RefreshToken, Scopes, Timestamp, TokenSet,
    TokenType,
};

/// Bodies larger than this are refused before parsing: 1 MiB. Real token responses are a few
/// kilobytes.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The lifetime assumed when a response has no `expires_in`: 1 hour.
///
/// RFC 6749 makes `expires_in` optional. One hour is the shortest lifetime either provider
/// issues (Frame.io V2), so a token without one is refreshed early rather than used after it died.
pub const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(3600);

/// The longest lifetime believed: 365 days. Larger values are clamped to it, so an absurd
/// `expires_in` can neither overflow nor make a token look valid forever.
pub const MAX_EXPIRES_IN: Duration = Duration::from_secs(365 * 24 * 3600);

/// The most characters of server text kept in an error.
const MAX_DESCRIPTION_CHARS: usize = 300;

/// An OAuth 2 error code (RFC 6749 §4.1.2.1, §5.2, OpenID Connect, and IMS).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `unsupported_response_type`
    UnsupportedResponseType,
    /// `invalid_scope`
    InvalidScope,
    /// `invalid_token`
    InvalidToken,
    /// `access_denied`
    AccessDenied,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// `login_required`
    LoginRequired,
    /// `consent_required`
    ConsentRequired,
    /// `interaction_required`
    InteractionRequired,
    /// Any other code, as received.
    Other(String),
}

impl OAuthErrorCode {
    /// Parses an `error` value.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "unsupported_response_type" => Self::UnsupportedResponseType,
            "invalid_scope" => Self::InvalidScope,
            "invalid_token" => Self::InvalidToken,
            "access_denied" => Self::AccessDenied,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            "login_required" => Self::LoginRequired,
            "consent_required" => Self::ConsentRequired,
            "interaction_required" => Self::InteractionRequired,
            other => Self::Other(excerpt(other, 64)),
        }
    }

    /// The wire form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidToken => "invalid_token",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::Other(other) => other,
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth 2 error: from a token endpoint's JSON body or from a redirect's query.
///
/// The description is redacted of anything token-like and shortened when parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthErrorResponse {
    /// `error`
    pub error: OAuthErrorCode,
    /// `error_description`, redacted.
    pub description: Option<String>,
    /// `error_uri`
    pub uri: Option<String>,
}

impl OAuthErrorResponse {
    /// Builds an error from its raw parts (for example a redirect's query parameters),
    /// redacting and shortening the free text.
    pub fn from_parts(error: &str, description: Option<&str>, uri: Option<&str>) -> Self {
        Self {
            error: OAuthErrorCode::parse(error),
            description: description.map(|d| excerpt(d, MAX_DESCRIPTION_CHARS)),
            uri: uri.map(|u| excerpt(u, MAX_DESCRIPTION_CHARS)),
        }
    }
}

impl fmt::Display for OAuthErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.error.as_str())?;
        if let Some(description) = &self.description {
            write!(f, ": {description}")?;
        }
        if let Some(uri) = &self.uri {
            write!(f, " (see {uri})")?;
        }
        Ok(())
    }
}

/// Parses an OAuth error body (`{"error": ..., "error_description": ..., "error_uri": ...}`).
///
/// Returns `None` when `body` is not such an object, so callers can fall back to reporting
/// the status and an excerpt.
///
/// ```
/// use frameio_auth_core::{OAuthErrorCode, parse_error_response};
/// let err = parse_error_response(br#"{"error":"invalid_grant","error_description":"expired"}"#)
///     .unwrap();
/// assert_eq!(err.error, OAuthErrorCode::InvalidGrant);
/// assert!(parse_error_response(b"<html>502</html>").is_none());
/// ```
pub fn parse_error_response(body: &[u8]) -> Option<OAuthErrorResponse> {
    #[derive(Deserialize)]
    struct Raw {
        error: String,
        error_description: Option<String>,
        error_uri: Option<String>,
    }
    if body.len() > MAX_RESPONSE_BYTES {
        return None;
    }
    let raw: Raw = serde_json::from_slice(body).ok()?;
    if raw.error.trim().is_empty() {
        return None;
    }
    Some(OAuthErrorResponse::from_parts(
        raw.error.trim(),
        raw.error_description.as_deref(),
        raw.error_uri.as_deref(),
    ))
}

/// The fields of a token response we use; unknown fields are ignored.
#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: Option<AccessToken>,
    token_type: Option<String>,
    expires_in: Option<Value>,
    refresh_token: Option<RefreshToken>,
    refresh_token_expires_in: Option<Value>,
    id_token: Option<IdToken>,
    scope: Option<String>,
    sub: Option<String>,
    error: Option<Value>,
}

/// Describes a `serde_json` failure by position and category only: its own message can quote
/// values, and values here are secrets.
pub(crate) fn json_error_detail(error: &serde_json::Error) -> String {
    let category = match error.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "a field has the wrong type or a duplicate",
        serde_json::error::Category::Eof => "unexpected end of input",
    };
    format!(
        "{category} at line {}, column {}",
        error.line(),
        error.column()
    )
}

/// Interprets an `expires_in`-style value: seconds as a number or a numeric string.
///
/// Absent or `null` gives `default`. Fractions are truncated. Zero, negative, non-numeric or
/// non-finite values are errors (a token dead on arrival cannot be used, and retrying would
/// loop). Values above [`MAX_EXPIRES_IN`] are clamped to it.
fn interpret_seconds(
    value: Option<&Value>,
    field: &'static str,
    default: Option<Duration>,
) -> Result<Option<Duration>, ProtocolError> {
    let invalid = |reason: &str| ProtocolError::InvalidField {
        field,
        reason: reason.to_owned(),
    };
    let seconds: f64 = match value {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| invalid("not a representable number"))?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| invalid("expected a number of seconds, found non-numeric text"))?,
        Some(_) => return Err(invalid("expected a number of seconds")),
    };
    if !seconds.is_finite() {
        return Err(invalid("must be a finite number of seconds"));
    }
    if seconds < 1.0 {
        return Err(invalid(
            "must be at least 1 second; a token that is already expired cannot be used",
        ));
    }
    let max = MAX_EXPIRES_IN.as_secs_f64();
    Ok(Some(Duration::from_secs_f64(seconds.min(max).trunc())))
}

/// Parses a successful token response into a [`TokenSet`] received at `received_at`.
///
/// - `access_token` is required and must not be blank.
/// - `token_type` defaults to `bearer` when absent (IMS always sends it; some proxies drop it).
/// - `expires_in` may be a number or a numeric string; see [`DEFAULT_EXPIRES_IN`] and
///   [`MAX_EXPIRES_IN`] for absent and absurd values; zero or negative values are errors.
/// - `refresh_token`, `refresh_token_expires_in`, `id_token`, `scope` and `sub` are optional;
///   unknown fields are ignored.
///
/// Never panics, and never yields `expires_at < issued_at`. Errors never quote field values.
///
/// ```
/// use frameio_auth_core::{Timestamp, parse_token_response};
/// let now = Timestamp::from_unix_secs(1_700_000_000);
/// let body = br#"{"access_token":"eyJ...","token_type":"bearer","expires_in":"86399"}"#;
/// let tokens = parse_token_response(body, now)?;
/// assert_eq!(tokens.expires_at(), Some(Timestamp::from_unix_secs(1_700_086_399)));
/// # Ok::<(), frameio_auth_core::ProtocolError>(())
/// ```
pub fn parse_token_response(
    body: &[u8],
    received_at: Timestamp,
) -> Result<TokenSet, ProtocolError> {
    if body.len() > MAX_RESPONSE_BYTES {
        return Err(ProtocolError::BodyTooLarge {
            limit: MAX_RESPONSE_BYTES,
        });
    }
    let raw: RawTokenResponse =
        serde_json::from_slice(body).map_err(|e| ProtocolError::MalformedJson {
            detail: json_error_detail(&e),
        })?;

    let Some(access_token) = raw.access_token else {
        return Err(match raw.error {
            Some(_) => ProtocolError::InvalidField {
                field: "access_token",
                reason: "absent: the body is an OAuth error, not tokens".to_owned(),
            },
            None => ProtocolError::MissingField {
                field: "access_token",
            },
        });
    };
    if access_token.is_blank() {
        return Err(ProtocolError::InvalidField {
            field: "access_token",
            reason: "is empty".to_owned(),
        });
    }

    let lifetime = interpret_seconds(
        raw.expires_in.as_ref(),
        "expires_in",
        Some(DEFAULT_EXPIRES_IN),
    )?
    .unwrap_or(DEFAULT_EXPIRES_IN);
    let mut tokens = TokenSet::new(access_token, received_at, Lifetime::ExpiresIn(lifetime));

    if let Some(token_type) = raw.token_type.as_deref().map(str::trim) {
        if token_type.is_empty() {
            return Err(ProtocolError::InvalidField {
                field: "token_type",
                reason: "is empty".to_owned(),
            });
        }
        tokens = tokens.with_token_type(TokenType::parse(token_type));
    }

    if let Some(refresh_token) = raw.refresh_token.filter(|t| !t.is_blank()) {
        let refresh_lifetime = interpret_seconds(
            raw.refresh_token_expires_in.as_ref(),
            "refresh_token_expires_in",
            None,
        )?;
        let refresh_expires_at = refresh_lifetime.map(|d| received_at.saturating_add(d));
        tokens = tokens.with_refresh_token(refresh_token, refresh_expires_at);
    }
    if let Some(id_token) = raw.id_token.filter(|t| !t.is_blank()) {
        tokens = tokens.with_id_token(id_token);
    }
    if let Some(scope) = raw.scope {
        let scopes = Scopes::parse(&scope).map_err(|e| ProtocolError::InvalidField {
            field: "scope",
            reason: e.to_string(),
        })?;
        tokens = tokens.with_scopes(scopes);
    }
    if let Some(subject) = raw.sub.filter(|s| !s.trim().is_empty()) {
        tokens = tokens.with_subject(subject);
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_unix_secs(1_000_000);

    fn parse(body: &str) -> Result<TokenSet, ProtocolError> {
        parse_token_response(body.as_bytes(), NOW)
    }

    fn lifetime(body: &str) -> Result<Option<Duration>, ProtocolError> {
        parse(body).map(|t| t.lifetime())
    }

    #[test]
    fn full_ims_response() {
        let tokens = parse(
            r#"{"access_token":"at","refresh_token":"rt","id_token":"it","sub":"u@AdobeID",
                "token_type":"bearer","expires_in":86399,"unknown":{"x":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(tokens.access_token().expose_secret(), "at");
        assert_eq!(tokens.refresh_token().unwrap().expose_secret(), "rt");
        assert_eq!(tokens.id_token().unwrap().expose_secret(), "it");
        assert_eq!(tokens.subject(), Some("u@AdobeID"));
        assert_eq!(tokens.lifetime(), Some(Duration::from_secs(86_399)));
        assert_eq!(tokens.token_type(), &TokenType::Bearer);
    }

    #[test]
    fn v2_response_with_scope_and_refresh_expiry() {
        let tokens = parse(
            r#"{"access_token":"at","expires_in":3600,"refresh_token":"rt",
                "refresh_token_expires_in":"2592000","scope":"offline asset.read","token_type":"Bearer"}"#,
        )
        .unwrap();
        assert_eq!(tokens.scopes().to_space_separated(), "asset.read offline");
        assert_eq!(
            tokens.refresh_token_expires_at(),
            Some(NOW.saturating_add(Duration::from_secs(2_592_000)))
        );
    }

    #[test]
    fn expires_in_forms() {
        assert_eq!(
            lifetime(r#"{"access_token":"a","expires_in":"3600"}"#).unwrap(),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            lifetime(r#"{"access_token":"a","expires_in":" 60 "}"#).unwrap(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            lifetime(r#"{"access_token":"a","expires_in":59.9}"#).unwrap(),
            Some(Duration::from_secs(59))
        );
        assert_eq!(
            lifetime(r#"{"access_token":"a"}"#).unwrap(),
            Some(DEFAULT_EXPIRES_IN)
        );
        assert_eq!(
            lifetime(r#"{"access_token":"a","expires_in":null}"#).unwrap(),
            Some(DEFAULT_EXPIRES_IN)
        );
        assert_eq!(
            lifetime(r#"{"access_token":"a","expires_in":1e300}"#).unwrap(),
            Some(MAX_EXPIRES_IN)
        );
        assert_eq!(
            lifetime(r#"{"access_token":"a","expires_in":18446744073709551615}"#).unwrap(),
            Some(MAX_EXPIRES_IN)
        );
        for bad in [
            "0", "-5", "\"\"", "\"soon\"", "true", "[1]", "0.5", "\"NaN\"", "\"inf\"",
        ] {
            let body = format!(r#"{{"access_token":"a","expires_in":{bad}}}"#);
            assert!(
                matches!(
                    parse(&body),
                    Err(ProtocolError::InvalidField {
                        field: "expires_in",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_do_not_quote_secret_values() {
        for body in [
            r#"{"access_token":"SECRET-VALUE-123","expires_in":"SECRET-VALUE-123"}"#,
            r#"{"access_token":"SECRET-VALUE-123","scope":["SECRET-VALUE-123"]}"#,
            r#"{"access_token":"SECRET-VALUE-123","access_token":"SECRET-VALUE-123"}"#,
            r#"{"access_token":"SECRET-VALUE-123""#,
        ] {
            let err = parse(body).unwrap_err();
            assert!(!err.to_string().contains("SECRET"), "{err}");
            assert!(!format!("{err:?}").contains("SECRET"), "{err:?}");
        }
    }

    #[test]
    fn rejects_unusable_bodies() {
        assert!(matches!(
            parse(""),
            Err(ProtocolError::MalformedJson { .. })
        ));
        assert!(matches!(
            parse("[]"),
            Err(ProtocolError::MalformedJson { .. })
        ));
        assert!(matches!(
            parse("<html>"),
            Err(ProtocolError::MalformedJson { .. })
        ));
        assert!(matches!(
            parse("{}"),
            Err(ProtocolError::MissingField {
                field: "access_token"
            })
        ));
        assert!(matches!(
            parse(r#"{"access_token":"  "}"#),
            Err(ProtocolError::InvalidField { .. })
        ));
        assert!(matches!(
            parse(r#"{"error":"invalid_grant"}"#),
            Err(ProtocolError::InvalidField { .. })
        ));
        assert!(matches!(
            parse(r#"{"access_token":"a","token_type":""}"#),
            Err(ProtocolError::InvalidField { .. })
        ));
        assert!(matches!(
            parse(r#"{"access_token":"a","scope":"a\"b"}"#),
            Err(ProtocolError::InvalidField { field: "scope", .. })
        ));
        let huge = vec![b' '; MAX_RESPONSE_BYTES + 1];
        assert!(matches!(
            parse_token_response(&huge, NOW),
            Err(ProtocolError::BodyTooLarge { .. })
        ));
    }

    #[test]
    fn error_bodies() {
        let err = parse_error_response(
            br#"{"error":"invalid_scope","error_description":"bad eyJhbGciOiJIUzI1NiJ9.e30.abc scope","error_uri":"https://x"}"#,
        )
        .unwrap();
        assert_eq!(err.error, OAuthErrorCode::InvalidScope);
        assert_eq!(err.description.as_deref(), Some("bad [redacted] scope"));
        assert_eq!(
            err.to_string(),
            "invalid_scope: bad [redacted] scope (see https://x)"
        );
        assert!(parse_error_response(br#"{"error":""}"#).is_none());
        assert!(parse_error_response(br#"{"error":5}"#).is_none());
        assert_eq!(
            parse_error_response(br#"{"error":"weird_new_code"}"#)
                .unwrap()
                .error,
            OAuthErrorCode::Other("weird_new_code".into())
        );
    }
}
