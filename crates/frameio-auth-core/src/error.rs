//! Error types. Each says what went wrong and what to do; none ever holds a secret.

use std::fmt;
use std::time::Duration;

use crate::{FormatError, OAuthErrorCode, OAuthErrorResponse, TokenKey};

/// Formats the IMS `x-debug-id` (which Adobe support asks for) as a message suffix.
struct DebugIdSuffix<'a>(&'a Option<String>);

impl fmt::Display for DebugIdSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, " (x-debug-id: {id})"),
            None => Ok(()),
        }
    }
}

/// What a caller can do about an [`AuthError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The user must sign in again (interactive login).
    NeedsLogin,
    /// The client id or secret is wrong, revoked or rotated away: fix the configuration.
    InvalidClient,
    /// A temporary failure: retry later (see [`AuthError::retry_after`]).
    Transient,
    /// The server refused the request for a reason other than the above (bad scope, denied
    /// consent, unsupported grant...): the request must change.
    Rejected,
    /// The server answered something that is not valid protocol: report it.
    Protocol,
    /// The token store failed.
    Store,
    /// The local configuration is invalid.
    Configuration,
}

/// Why the user must sign in again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NeedsLoginReason {
    /// The server rejected the grant (`invalid_grant`): the refresh token or code is expired,
    /// revoked or already used.
    #[error("the authorization server rejected the grant (invalid_grant){}", describe(.description.as_deref()))]
    InvalidGrant {
        /// The server's `error_description`, redacted.
        description: Option<String>,
    },
    /// The access token expired and there is no refresh token (for Frame.io V2, `offline` was
    /// not requested; for IMS, `offline_access`).
    #[error("the access token expired and no refresh token was issued")]
    NoRefreshToken,
    /// The refresh token itself has expired.
    #[error("the refresh token has expired")]
    RefreshTokenExpired,
    /// No tokens are stored under this key yet.
    #[error("no stored login for {key}")]
    NoStoredLogin {
        /// The key that had no entry.
        key: TokenKey,
    },
}

fn describe(description: Option<&str>) -> String {
    description.map(|d| format!(": {d}")).unwrap_or_default()
}

/// An error from getting, refreshing or keeping tokens.
///
/// Match on [`kind`](Self::kind) to decide what to do. Messages never contain tokens,
/// secrets, codes or verifiers; they carry the IMS `x-debug-id` when the server sent one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The user must sign in again.
    #[error("sign-in required: {reason}; start a new login{}", DebugIdSuffix(.debug_id))]
    NeedsLogin {
        /// Why.
        reason: NeedsLoginReason,
        /// The IMS `x-debug-id`, if any.
        debug_id: Option<String>,
    },
    /// The client credentials were rejected.
    #[error("the client credentials were rejected ({error}); check the client id and secret{}", DebugIdSuffix(.debug_id))]
    InvalidClient {
        /// The server's error.
        error: OAuthErrorResponse,
        /// The IMS `x-debug-id`, if any.
        debug_id: Option<String>,
    },
    /// A temporary failure (network, timeout, 5xx, throttling).
    #[error("temporary failure: {message}; try again later{}", DebugIdSuffix(.debug_id))]
    Transient {
        /// What failed.
        message: String,
        /// How long the server asked us to wait, if it did.
        retry_after: Option<Duration>,
        /// The IMS `x-debug-id`, if any.
        debug_id: Option<String>,
    },
    /// The server refused the request.
    #[error("the authorization server refused the request: {error}{}", DebugIdSuffix(.debug_id))]
    Rejected {
        /// The server's error.
        error: OAuthErrorResponse,
        /// The HTTP status, when there was one (errors on a redirect have none).
        status: Option<u16>,
        /// The IMS `x-debug-id`, if any.
        debug_id: Option<String>,
    },
    /// The server's answer broke the protocol.
    #[error("unexpected answer from the server: {source}{}", DebugIdSuffix(.debug_id))]
    Protocol {
        /// What was wrong with it.
        source: ProtocolError,
        /// The IMS `x-debug-id`, if any.
        debug_id: Option<String>,
    },
    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl AuthError {
    /// Turns an OAuth error response into the error kind a caller can act on.
    ///
    /// `invalid_grant` means a new login; `invalid_client` bad client credentials;
    /// `server_error` and `temporarily_unavailable` are transient; the rest are rejections.
    pub fn from_oauth(
        error: OAuthErrorResponse,
        status: Option<u16>,
        debug_id: Option<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        match error.error {
            OAuthErrorCode::InvalidGrant => Self::NeedsLogin {
                reason: NeedsLoginReason::InvalidGrant {
                    description: error.description,
                },
                debug_id,
            },
            OAuthErrorCode::InvalidClient => Self::InvalidClient { error, debug_id },
            OAuthErrorCode::ServerError | OAuthErrorCode::TemporarilyUnavailable => {
                Self::Transient {
                    message: error.to_string(),
                    retry_after,
                    debug_id,
                }
            }
            _ => Self::Rejected {
                error,
                status,
                debug_id,
            },
        }
    }

    /// What a caller can do about this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NeedsLogin { .. } => ErrorKind::NeedsLogin,
            Self::InvalidClient { .. } => ErrorKind::InvalidClient,
            Self::Transient { .. } => ErrorKind::Transient,
            Self::Rejected { .. } => ErrorKind::Rejected,
            Self::Protocol { .. } => ErrorKind::Protocol,
            Self::Store(_) => ErrorKind::Store,
            Self::Config(_) => ErrorKind::Configuration,
        }
    }

    /// Whether retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind() == ErrorKind::Transient
    }

    /// How long the server asked to wait before retrying, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The IMS `x-debug-id` of the failed response, for Adobe support.
    pub fn debug_id(&self) -> Option<&str> {
        match self {
            Self::NeedsLogin { debug_id, .. }
            | Self::InvalidClient { debug_id, .. }
            | Self::Transient { debug_id, .. }
            | Self::Rejected { debug_id, .. }
            | Self::Protocol { debug_id, .. } => debug_id.as_deref(),
            Self::Store(_) | Self::Config(_) => None,
        }
    }
}

impl From<ProtocolError> for AuthError {
    fn from(source: ProtocolError) -> Self {
        Self::Protocol {
            source,
            debug_id: None,
        }
    }
}

/// A response or redirect that does not follow the protocol.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The body was larger than allowed.
    #[error("the response body exceeds the {limit}-byte limit")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body was not JSON of the expected shape.
    #[error("the response is not valid JSON of the expected shape ({detail})")]
    MalformedJson {
        /// Where and how parsing failed (position and category; never field values).
        detail: String,
    },
    /// A required field was absent.
    #[error("the response lacks the required field `{field}`")]
    MissingField {
        /// The field.
        field: &'static str,
    },
    /// A field had an unusable value.
    #[error("the field `{field}` is invalid: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// Why (never the value itself when the field is secret).
        reason: String,
    },
    /// The `state` returned on a redirect was not the one sent.
    #[error(
        "the `state` on the redirect does not match the request (possible CSRF, or a stale browser tab); start the login again"
    )]
    StateMismatch,
    /// A response that was neither the expected success nor an OAuth error.
    #[error("unexpected HTTP {status} response: {excerpt}")]
    UnexpectedResponse {
        /// The HTTP status.
        status: u16,
        /// The start of the body, with anything token-like redacted.
        excerpt: String,
    },
}

/// A token store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage backend is not available (for example no Secret Service on headless Linux).
    #[error("the {backend} token store is unavailable: {message}")]
    Unavailable {
        /// Which backend.
        backend: &'static str,
        /// What is missing and how to fix it.
        message: String,
    },
    /// A stored entry could not be read. It is left in place, never deleted.
    #[error(
        "the stored tokens at {location} cannot be read: {reason}; move the entry aside (quarantine) or delete it and sign in again"
    )]
    Corrupt {
        /// Where the entry is (a path or an entry name).
        location: String,
        /// What is wrong with it.
        reason: FormatError,
    },
    /// Waiting for the refresh lock took too long.
    #[error(
        "timed out after {waited:?} waiting for the lock on {key}; another process may be stuck refreshing"
    )]
    LockTimeout {
        /// The key being locked.
        key: TokenKey,
        /// How long we waited.
        waited: Duration,
    },
    /// A save under the lock was refused by fencing: another holder saved after this holder
    /// re-loaded (its lease on the lock had lapsed and the lock was taken over). Nothing was
    /// written; the stored set is the newer one.
    #[error(
        "the save of {key} under its lock was refused: another holder saved a newer set after this one loaded it (this holder's lease on the lock had lapsed); load the stored set and use it"
    )]
    Fenced {
        /// The key that was saved.
        key: TokenKey,
    },
    /// A stored entry is encrypted and cannot be opened with the configured keys (a wrong or
    /// missing key, or a value altered or copied from another key). It is left in place.
    #[error("the stored tokens at {location} cannot be decrypted: {message}")]
    Decryption {
        /// Where the entry is.
        location: String,
        /// What is wrong and how to fix it (key ids, never key material).
        message: String,
    },
    /// Permissions are unsafe or insufficient.
    #[error("unsafe or insufficient permissions on {location}: {message}")]
    Permission {
        /// The path or entry.
        location: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An I/O operation failed.
    #[error("I/O error at {location}: {source}")]
    Io {
        /// The path or entry.
        location: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Any other backend failure.
    #[error("token store failure: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// The underlying error, if any.
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl StoreError {
    /// A token set that could not be put in its storage form: every store's `save` reports
    /// [`TokenSet::to_stored_json`](crate::TokenSet::to_stored_json)'s error this way.
    pub fn cannot_serialize(reason: FormatError) -> Self {
        Self::Backend {
            message: format!("cannot serialize the token set: {reason}"),
            // It names positions and categories, never values.
            source: Some(Box::new(reason)),
        }
    }
}

/// The configuration is invalid; the message says which setting and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {message}")]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    /// An error with the given explanation.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth(code: &str) -> OAuthErrorResponse {
        OAuthErrorResponse {
            error: OAuthErrorCode::parse(code),
            description: Some("because".to_owned()),
            uri: None,
        }
    }

    #[test]
    fn oauth_errors_map_to_actionable_kinds() {
        let id = Some("abc-123".to_owned());
        let cases = [
            ("invalid_grant", ErrorKind::NeedsLogin),
            ("invalid_client", ErrorKind::InvalidClient),
            ("server_error", ErrorKind::Transient),
            ("temporarily_unavailable", ErrorKind::Transient),
            ("invalid_scope", ErrorKind::Rejected),
            ("unauthorized_client", ErrorKind::Rejected),
            ("made_up", ErrorKind::Rejected),
        ];
        for (code, kind) in cases {
            let err = AuthError::from_oauth(oauth(code), Some(400), id.clone(), None);
            assert_eq!(err.kind(), kind, "{code}");
            assert_eq!(err.debug_id(), Some("abc-123"));
            assert!(err.to_string().contains("x-debug-id: abc-123"), "{err}");
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let err = AuthError::from_oauth(oauth("invalid_grant"), Some(400), None, None);
        assert!(err.to_string().contains("start a new login"), "{err}");
        let err = AuthError::Transient {
            message: "HTTP 503".into(),
            retry_after: Some(Duration::from_secs(2)),
            debug_id: None,
        };
        assert!(err.is_retryable());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
        assert!(!err.to_string().contains("x-debug-id"));
    }
}
