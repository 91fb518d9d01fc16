//! The versioned serialized form of a [`TokenSet`]: the only way secrets leave memory.
//!
//! ```json
//! {"format":"frameio-auth.token-set","version":1,"token_type":"bearer",
//!  "access_token":"...","issued_at_ms":1700000000000,"expires_at_ms":1700086399000,
//!  "refresh_token":"...","refresh_token_expires_at_ms":1701209600000,"id_token":"...",
//!  "scopes":"AdobeID openid","subject":"..."}
//! ```
//!
//! Optional fields are left out when absent. Readers ignore fields they do not know, so a
//! later version 1 writer may add optional fields. A change that old readers would get wrong
//! bumps `version`; see `docs/token-format.md` for how version 2 will read version 1.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::oauth::json_error_detail;
use crate::{AccessToken, IdToken, RefreshToken, Scopes, Timestamp, TokenSet, TokenType};

/// The value of the `format` field that marks a frameio-auth token set.
pub const FORMAT_NAME: &str = "frameio-auth.token-set";
/// The format version this release writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Stored bytes could not be turned back into a [`TokenSet`].
///
/// Messages name the problem and its position, never stored values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Not JSON at all (truncated, binary, or another file).
    #[error("not valid JSON ({detail})")]
    NotJson {
        /// Position and category of the failure.
        detail: String,
    },
    /// JSON, but not a frameio-auth token set.
    #[error("not a frameio-auth token set (no \"format\": \"{FORMAT_NAME}\" marker)")]
    Foreign,
    /// A token set written in a version this release cannot read.
    #[error(
        "format version {found} is not supported (this release reads version {FORMAT_VERSION}); upgrade frameio-auth"
    )]
    UnsupportedVersion {
        /// The version found.
        found: u64,
    },
    /// The right format and version, but invalid content.
    #[error("invalid token set: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },
}

#[derive(Serialize)]
struct StoredOut<'a> {
    format: &'static str,
    version: u32,
    token_type: &'a str,
    access_token: &'a str,
    issued_at_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_expires_at_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Scopes::is_empty")]
    scopes: &'a Scopes,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
}

#[derive(Deserialize)]
struct Probe {
    format: Option<String>,
    version: Option<u64>,
}

#[derive(Deserialize)]
struct StoredV1 {
    token_type: String,
    access_token: AccessToken,
    issued_at_ms: u64,
    expires_at_ms: Option<u64>,
    refresh_token: Option<RefreshToken>,
    refresh_token_expires_at_ms: Option<u64>,
    id_token: Option<IdToken>,
    #[serde(default)]
    scopes: Scopes,
    subject: Option<String>,
}

impl TokenSet {
    /// Serializes this set in the versioned storage format.
    ///
    /// The buffer is wiped when dropped. It is sized up front so that serializing never
    /// reallocates, which would leave unwiped copies of the secrets behind.
    ///
    /// ```
    /// use frameio_auth_core::{AccessToken, Lifetime, Timestamp, TokenSet};
    /// let tokens = TokenSet::new(AccessToken::new("a"), Timestamp::from_unix_secs(1), Lifetime::Never);
    /// let bytes = tokens.to_stored_json()?;
    /// assert_eq!(TokenSet::from_stored_json(&bytes)?, tokens);
    /// # Ok::<(), frameio_auth_core::FormatError>(())
    /// ```
    pub fn to_stored_json(&self) -> Result<Zeroizing<Vec<u8>>, FormatError> {
        let secret_len = self.access_token().expose_secret().len()
            + self.refresh_token().map_or(0, |t| t.expose_secret().len())
            + self.id_token().map_or(0, |t| t.expose_secret().len());
        let other_len = self.token_type().as_str().len()
            + self
                .scopes()
                .iter()
                .map(|s| s.as_str().len() + 1)
                .sum::<usize>()
            + self.subject().map_or(0, str::len);
        // JSON escaping grows a character to at most 6 bytes (`\u001f`).
        let mut buffer = Zeroizing::new(Vec::with_capacity(6 * (secret_len + other_len) + 512));
        let out = StoredOut {
            format: FORMAT_NAME,
            version: FORMAT_VERSION,
            token_type: self.token_type().as_str(),
            access_token: self.access_token().expose_secret(),
            issued_at_ms: self.issued_at().as_unix_millis(),
            expires_at_ms: self.expires_at().map(Timestamp::as_unix_millis),
            refresh_token: self.refresh_token().map(RefreshToken::expose_secret),
            refresh_token_expires_at_ms: self
                .refresh_token_expires_at()
                .map(Timestamp::as_unix_millis),
            id_token: self.id_token().map(IdToken::expose_secret),
            scopes: self.scopes(),
            subject: self.subject(),
        };
        serde_json::to_writer(&mut *buffer, &out).map_err(|e| FormatError::Invalid {
            reason: format!("cannot serialize: {}", json_error_detail(&e)),
        })?;
        Ok(buffer)
    }

    /// Reads a set written by [`to_stored_json`](Self::to_stored_json), checking the format
    /// marker and version first.
    pub fn from_stored_json(bytes: &[u8]) -> Result<Self, FormatError> {
        let probe: Probe = match serde_json::from_slice(bytes) {
            Ok(probe) => probe,
            Err(e) if e.classify() == serde_json::error::Category::Data => {
                return Err(FormatError::Foreign);
            }
            Err(e) => {
                return Err(FormatError::NotJson {
                    detail: json_error_detail(&e),
                });
            }
        };
        if probe.format.as_deref() != Some(FORMAT_NAME) {
            return Err(FormatError::Foreign);
        }
        match probe.version {
            Some(1) => {}
            Some(found) => return Err(FormatError::UnsupportedVersion { found }),
            None => {
                return Err(FormatError::Invalid {
                    reason: "the `version` field is missing".to_owned(),
                });
            }
        }
        let stored: StoredV1 = serde_json::from_slice(bytes).map_err(|e| FormatError::Invalid {
            reason: json_error_detail(&e),
        })?;
        stored.into_token_set()
    }
}

impl StoredV1 {
    fn into_token_set(self) -> Result<TokenSet, FormatError> {
        let invalid = |reason: &str| FormatError::Invalid {
            reason: reason.to_owned(),
        };
        if self.token_type.trim().is_empty() {
            return Err(invalid("`token_type` is empty"));
        }
        let issued_at = Timestamp::from_unix_millis(self.issued_at_ms);
        let mut tokens = TokenSet::from_parts(
            self.access_token,
            issued_at,
            self.expires_at_ms.map(Timestamp::from_unix_millis),
        )
        .ok_or_else(|| invalid("`expires_at_ms` is earlier than `issued_at_ms`"))?
        .with_token_type(TokenType::parse(&self.token_type))
        .with_scopes(self.scopes);
        if let Some(refresh_token) = self.refresh_token {
            tokens = tokens.with_refresh_token(
                refresh_token,
                self.refresh_token_expires_at_ms
                    .map(Timestamp::from_unix_millis),
            );
        }
        if let Some(id_token) = self.id_token {
            tokens = tokens.with_id_token(id_token);
        }
        if let Some(subject) = self.subject {
            tokens = tokens.with_subject(subject);
        }
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Lifetime;

    fn full() -> TokenSet {
        TokenSet::new(
            AccessToken::new("acc\"ess\u{1}é"),
            Timestamp::from_unix_millis(1_700_000_000_123),
            Lifetime::ExpiresIn(Duration::from_secs(86_399)),
        )
        .with_refresh_token(RefreshToken::new("refresh"), Some(Timestamp::MAX))
        .with_id_token(IdToken::new("id"))
        .with_scopes(Scopes::parse("openid AdobeID").unwrap())
        .with_subject("user@AdobeID")
    }

    #[test]
    fn round_trip_keeps_everything() {
        let tokens = full();
        let bytes = tokens.to_stored_json().unwrap();
        let back = TokenSet::from_stored_json(&bytes).unwrap();
        assert_eq!(back, tokens);
        assert_eq!(back.access_token().expose_secret(), "acc\"ess\u{1}é");
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(
            text.starts_with(r#"{"format":"frameio-auth.token-set","version":1,"#),
            "{text}"
        );
    }

    #[test]
    fn serializing_never_reallocates() {
        let tokens = full();
        let bytes = tokens.to_stored_json().unwrap();
        assert!(bytes.len() <= bytes.capacity());
        let estimate =
            6 * (tokens.access_token().expose_secret().len() + 7 + 2 + 6 + 15 + 12) + 512;
        assert!(bytes.capacity() >= estimate.min(bytes.capacity()));
    }

    #[test]
    fn classifies_bad_input() {
        assert!(matches!(
            TokenSet::from_stored_json(b""),
            Err(FormatError::NotJson { .. })
        ));
        assert!(matches!(
            TokenSet::from_stored_json(b"{\"format\":"),
            Err(FormatError::NotJson { .. })
        ));
        assert_eq!(
            TokenSet::from_stored_json(b"[1,2]"),
            Err(FormatError::Foreign)
        );
        assert_eq!(
            TokenSet::from_stored_json(b"{\"a\":1}"),
            Err(FormatError::Foreign)
        );
        assert_eq!(
            TokenSet::from_stored_json(br#"{"format":"frameio-auth.token-set","version":2}"#),
            Err(FormatError::UnsupportedVersion { found: 2 })
        );
        assert!(matches!(
            TokenSet::from_stored_json(br#"{"format":"frameio-auth.token-set"}"#),
            Err(FormatError::Invalid { .. })
        ));
        assert!(matches!(
            TokenSet::from_stored_json(
                br#"{"format":"frameio-auth.token-set","version":1,"token_type":"bearer","access_token":"a","issued_at_ms":10,"expires_at_ms":9}"#
            ),
            Err(FormatError::Invalid { .. })
        ));
    }

    #[test]
    fn tolerates_unknown_fields() {
        let body = br#"{"format":"frameio-auth.token-set","version":1,"token_type":"bearer","access_token":"a","issued_at_ms":10,"future":{"x":1}}"#;
        let tokens = TokenSet::from_stored_json(body).unwrap();
        assert_eq!(tokens.expires_at(), None);
    }

    #[test]
    fn errors_never_quote_values() {
        let body = br#"{"format":"frameio-auth.token-set","version":1,"token_type":"bearer","access_token":"TOPSECRET","issued_at_ms":"TOPSECRET"}"#;
        let err = TokenSet::from_stored_json(body).unwrap_err();
        assert!(!err.to_string().contains("TOPSECRET"), "{err}");
    }
}
