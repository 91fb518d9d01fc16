//! Pure parsing of OAuth 2 token-endpoint responses (RFC 6749 §5).

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::redact::redacted_excerpt as excerpt;
use crate::{
    AccessToken, IdToken, Lifetime, ProtocolError, RefreshToken, Scope, Scopes, Timestamp,
    TokenSet, TokenType,
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
///
/// Only `access_token` must have its type: every other field is read leniently, so that one
/// odd optional field cannot throw away a response whose refresh token the server has already
/// rotated (the old one is then dead).
#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: Option<AccessToken>,
    token_type: Option<Value>,
    expires_in: Option<Value>,
    refresh_token: Option<Lenient<RefreshToken>>,
    refresh_token_expires_in: Option<Value>,
    id_token: Option<Lenient<IdToken>>,
    scope: Option<Value>,
    sub: Option<Value>,
    error: Option<Value>,
}

/// A secret field read straight into its secret type when it is a string (no unwiped copy),
/// or [`Lenient::WrongType`] for any other JSON value.
enum Lenient<T> {
    Text(T),
    WrongType,
}

impl<'de, T: From<String>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: From<String>> serde::de::Visitor<'de> for Visit<T> {
            type Value = Lenient<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Lenient::Text(T::from(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Lenient::Text(T::from(v)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Lenient::WrongType)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Lenient::WrongType)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Lenient::WrongType)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Lenient::WrongType)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Lenient::WrongType)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Lenient::WrongType)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Lenient::WrongType)
            }
        }
        deserializer.deserialize_any(Visit(std::marker::PhantomData))
    }
}

/// A field of a token response that was out of range or of the wrong type, and what was used
/// instead. It names the field and never quotes its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseWarning {
    /// The field, as named on the wire (`expires_in`, `scope`, ...).
    pub field: &'static str,
    /// What was wrong and the fallback used.
    pub fallback: &'static str,
}

impl fmt::Display for ResponseWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.fallback)
    }
}

/// A parsed token response and the fallbacks its odd optional fields needed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ParsedTokenResponse {
    /// The tokens.
    pub tokens: TokenSet,
    /// One entry per optional field that was out of range or of the wrong type. A client
    /// should log them (this crate does no I/O).
    pub warnings: Vec<ResponseWarning>,
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

/// Why an `expires_in`-style value cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BadSeconds {
    /// Zero, negative, or a fraction below one.
    BelowOne,
    /// Not a finite number of seconds (text, boolean, array, object, NaN, infinity).
    NotSeconds,
}

impl BadSeconds {
    /// The fallback of a bad `expires_in`.
    fn expired_now(self) -> &'static str {
        match self {
            Self::BelowOne => "below 1 second: the access token is treated as already expired",
            Self::NotSeconds => {
                "not a number of seconds: the access token is treated as already expired"
            }
        }
    }

    /// The fallback of a bad `refresh_token_expires_in`.
    fn unknown_expiry(self) -> &'static str {
        match self {
            Self::BelowOne => "below 1 second: the refresh token's expiry is unknown",
            Self::NotSeconds => "not a number of seconds: the refresh token's expiry is unknown",
        }
    }
}

/// The valid scopes of a `scope` list (separated by spaces, commas or both), and whether any
/// invalid one was dropped.
fn valid_scopes(list: &str) -> (Scopes, bool) {
    let mut scopes = Scopes::new();
    let mut dropped = false;
    for item in list
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|item| !item.is_empty())
    {
        match Scope::new(item) {
            Ok(valid) => {
                scopes.insert(valid);
            }
            Err(_) => dropped = true,
        }
    }
    (scopes, dropped)
}

/// Interprets an `expires_in`-style value: seconds as a number or a numeric string.
///
/// Absent or `null` gives `Ok(None)`. Fractions are truncated. Values above
/// [`MAX_EXPIRES_IN`] are clamped to it. Values below 1 second and non-numbers are errors,
/// which the caller turns into a fallback.
fn interpret_seconds(value: Option<&Value>) -> Result<Option<Duration>, BadSeconds> {
    let seconds: f64 = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64().ok_or(BadSeconds::NotSeconds)?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| BadSeconds::NotSeconds)?,
        Some(_) => return Err(BadSeconds::NotSeconds),
    };
    if !seconds.is_finite() {
        return Err(BadSeconds::NotSeconds);
    }
    if seconds < 1.0 {
        return Err(BadSeconds::BelowOne);
    }
    let max = MAX_EXPIRES_IN.as_secs_f64();
    Ok(Some(Duration::from_secs_f64(seconds.min(max).trunc())))
}

/// Parses a successful token response into a [`TokenSet`] received at `received_at`.
///
/// The same as [`parse_token_response_with_warnings`], without the warnings.
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
    parse_token_response_with_warnings(body, received_at).map(|parsed| parsed.tokens)
}

/// Parses a successful token response into a [`TokenSet`] received at `received_at`, with a
/// [`ResponseWarning`] for each optional field that needed a fallback.
///
/// - `access_token` is required and must be a non-blank string. Only its absence, a wrong
///   body, or a body over [`MAX_RESPONSE_BYTES`] is an error: a response with a usable access
///   token is never thrown away for an optional field, so a rotated refresh token is never
///   lost.
/// - `token_type` defaults to `bearer` when absent; an empty or non-string one is `bearer`
///   too, with a warning.
/// - `expires_in` may be a number or a numeric string; see [`DEFAULT_EXPIRES_IN`] and
///   [`MAX_EXPIRES_IN`] for absent and absurd values. Below 1 second, or not a number, the
///   access token is expired on arrival (`expires_at == issued_at`, with a warning): it is
///   never served, and the refresh token that came with it is used at once.
/// - `refresh_token_expires_in` that is below 1 second or not a number means "unknown",
///   with a warning.
/// - `scope` keeps every valid scope; invalid ones are dropped, with a warning.
/// - `refresh_token`, `id_token` and `sub` that are not strings are dropped, with a warning;
///   unknown fields are ignored.
///
/// Never panics, and never yields `expires_at < issued_at`. Errors and warnings never quote
/// field values.
///
/// ```
/// use frameio_auth_core::{Timestamp, parse_token_response_with_warnings};
/// let now = Timestamp::from_unix_secs(1_700_000_000);
/// let body = br#"{"access_token":"a","refresh_token":"r","token_type":"","expires_in":0}"#;
/// let parsed = parse_token_response_with_warnings(body, now)?;
/// assert_eq!(parsed.tokens.refresh_token().unwrap().expose_secret(), "r");
/// assert!(parsed.tokens.is_expired(now));
/// let fields: Vec<_> = parsed.warnings.iter().map(|w| w.field).collect();
/// assert_eq!(fields, ["expires_in", "token_type"]);
/// # Ok::<(), frameio_auth_core::ProtocolError>(())
/// ```
pub fn parse_token_response_with_warnings(
    body: &[u8],
    received_at: Timestamp,
) -> Result<ParsedTokenResponse, ProtocolError> {
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

    let mut warnings = Vec::new();
    let mut warn = |field: &'static str, fallback: &'static str| {
        warnings.push(ResponseWarning { field, fallback });
    };

    let lifetime = match interpret_seconds(raw.expires_in.as_ref()) {
        Ok(lifetime) => lifetime.unwrap_or(DEFAULT_EXPIRES_IN),
        Err(bad) => {
            warn("expires_in", bad.expired_now());
            Duration::ZERO
        }
    };
    let mut tokens = TokenSet::new(access_token, received_at, Lifetime::ExpiresIn(lifetime));

    match raw.token_type {
        None | Some(Value::Null) => {}
        Some(Value::String(token_type)) if !token_type.trim().is_empty() => {
            tokens = tokens.with_token_type(TokenType::parse(token_type.trim()));
        }
        Some(Value::String(_)) => warn("token_type", "empty: bearer is assumed"),
        Some(_) => warn("token_type", "not a string: bearer is assumed"),
    }
    match raw.refresh_token {
        Some(Lenient::Text(refresh_token)) if !refresh_token.is_blank() => {
            let expires_at = match interpret_seconds(raw.refresh_token_expires_in.as_ref()) {
                Ok(lifetime) => lifetime.map(|d| received_at.saturating_add(d)),
                Err(bad) => {
                    warn("refresh_token_expires_in", bad.unknown_expiry());
                    None
                }
            };
            tokens = tokens.with_refresh_token(refresh_token, expires_at);
        }
        Some(Lenient::WrongType) => warn("refresh_token", "not a string: ignored"),
        None | Some(Lenient::Text(_)) => {}
    }
    match raw.id_token {
        Some(Lenient::Text(id_token)) if !id_token.is_blank() => {
            tokens = tokens.with_id_token(id_token);
        }
        Some(Lenient::WrongType) => warn("id_token", "not a string: ignored"),
        None | Some(Lenient::Text(_)) => {}
    }
    match raw.scope {
        None | Some(Value::Null) => {}
        Some(Value::String(scope)) => {
            let (scopes, dropped) = valid_scopes(&scope);
            if dropped {
                warn(
                    "scope",
                    "holds scopes with characters outside the allowed set: those were dropped",
                );
            }
            tokens = tokens.with_scopes(scopes);
        }
        Some(_) => warn("scope", "not a string: ignored"),
    }
    match raw.sub {
        Some(Value::String(subject)) if !subject.trim().is_empty() => {
            tokens = tokens.with_subject(subject);
        }
        None | Some(Value::Null | Value::String(_)) => {}
        Some(_) => warn("sub", "not a string: ignored"),
    }
    Ok(ParsedTokenResponse { tokens, warnings })
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
        // Below 1 second or not a number: expired on arrival, never an error (issue 14).
        for bad in [
            "0", "-5", "\"\"", "\"soon\"", "true", "[1]", "0.5", "\"NaN\"", "\"inf\"",
        ] {
            let body = format!(r#"{{"access_token":"a","refresh_token":"r","expires_in":{bad}}}"#);
            let parsed = parse_token_response_with_warnings(body.as_bytes(), NOW).unwrap();
            assert_eq!(parsed.tokens.lifetime(), Some(Duration::ZERO), "{bad}");
            assert!(parsed.tokens.is_expired(NOW), "{bad}");
            assert_eq!(parsed.tokens.refresh_token().unwrap().expose_secret(), "r");
            assert_eq!(
                parsed.warnings.iter().map(|w| w.field).collect::<Vec<_>>(),
                ["expires_in"],
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_and_warnings_do_not_quote_secret_values() {
        for body in [
            r#"{"access_token":"SECRET-VALUE-123","access_token":"SECRET-VALUE-123"}"#,
            r#"{"access_token":"SECRET-VALUE-123""#,
            r#"{"access_token":"  ","refresh_token":"SECRET-VALUE-123"}"#,
        ] {
            let err = parse(body).unwrap_err();
            assert!(!err.to_string().contains("SECRET"), "{err}");
            assert!(!format!("{err:?}").contains("SECRET"), "{err:?}");
        }
        let parsed = parse_token_response_with_warnings(
            br#"{"access_token":"SECRET-VALUE-123","expires_in":"SECRET-VALUE-123",
                "scope":["SECRET-VALUE-123"],"token_type":{"x":"SECRET-VALUE-123"},
                "refresh_token_expires_in":"SECRET-VALUE-123","refresh_token":"SECRET-VALUE-123",
                "id_token":["SECRET-VALUE-123"],"sub":7}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(parsed.warnings.len(), 6, "{:?}", parsed.warnings);
        for warning in &parsed.warnings {
            assert!(!warning.to_string().contains("SECRET"), "{warning}");
            assert!(!format!("{warning:?}").contains("SECRET"), "{warning:?}");
        }
    }

    /// Issue 14, case 4: each odd optional field falls back, with a warning naming it, and
    /// the rotated refresh token is kept.
    #[test]
    fn odd_optional_fields_fall_back_and_keep_the_refresh_token() {
        let cases: [(&str, &str); 6] = [
            (r#""token_type":"""#, "token_type"),
            (r#""token_type":"  ""#, "token_type"),
            (
                r#""refresh_token_expires_in":"soon""#,
                "refresh_token_expires_in",
            ),
            (
                r#""refresh_token_expires_in":0"#,
                "refresh_token_expires_in",
            ),
            (r#""scope":"openid a\"b offline_access""#, "scope"),
            (r#""id_token":5"#, "id_token"),
        ];
        for (field, named) in cases {
            let body =
                format!(r#"{{"access_token":"at","refresh_token":"rt","expires_in":60,{field}}}"#);
            let parsed = parse_token_response_with_warnings(body.as_bytes(), NOW)
                .unwrap_or_else(|e| panic!("{field}: {e}"));
            let tokens = &parsed.tokens;
            assert_eq!(tokens.refresh_token().unwrap().expose_secret(), "rt");
            assert_eq!(tokens.lifetime(), Some(Duration::from_secs(60)));
            assert_eq!(
                parsed.warnings.iter().map(|w| w.field).collect::<Vec<_>>(),
                [named],
                "{field}"
            );
            assert_eq!(tokens.token_type(), &TokenType::Bearer, "{field}");
            assert_eq!(tokens.refresh_token_expires_at(), None, "{field}");
        }
        let parsed = parse_token_response_with_warnings(
            br#"{"access_token":"at","refresh_token":"rt","scope":"openid a\"b,offline_access"}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(
            parsed.tokens.scopes().to_space_separated(),
            "offline_access openid",
            "the valid scopes are kept as received"
        );
        // A clean response has no warnings.
        let parsed = parse_token_response_with_warnings(
            br#"{"access_token":"at","refresh_token":"rt","token_type":"bearer","expires_in":60,
                "refresh_token_expires_in":120,"scope":"openid","id_token":"it","sub":"u"}"#,
            NOW,
        )
        .unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
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
