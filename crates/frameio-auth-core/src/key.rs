//! Names for stored credentials.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Scopes;

/// Separates the parts of a key's string form. Never appears inside an encoded part.
const SEPARATOR: char = '~';
/// Everything but `A-Z a-z 0-9 - _ .` is percent-encoded: the result is a valid file name on
/// every common file system and needs no quoting in a shell.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
/// The profile used when none is named.
const DEFAULT_PROFILE: &str = "default";

/// A [`TokenKey`] could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A part that must not be empty was empty.
    #[error("the {part} of a token key must not be empty")]
    Empty {
        /// Which part.
        part: &'static str,
    },
    /// The provider name had characters outside `a-z 0-9 -`.
    #[error("provider {provider:?} must be lowercase ASCII letters, digits and '-'")]
    InvalidProvider {
        /// The rejected name.
        provider: String,
    },
    /// A string was not the canonical form of a key.
    #[error("{input:?} is not a token key: {reason}")]
    Malformed {
        /// The text that failed to parse.
        input: String,
        /// Why.
        reason: String,
    },
}

/// Names one stored credential: provider, environment, client id, profile and scopes.
///
/// Two sources that differ in any of these get different keys, so a stage token is never
/// used against production and a token for fewer scopes is never mistaken for one with more.
///
/// The string form (`Display`, [`TokenKey::as_str`]) is stable across releases, safe as a file
/// name on every common file system, and parses back to an equal key:
///
/// ```
/// use frameio_auth_core::{Scopes, TokenKey};
///
/// let key = TokenKey::builder("ims", "prod", "0123abcd")
///     .profile("alice@example.com")
///     .scopes(Scopes::parse("openid,AdobeID")?)
///     .build()?;
/// assert_eq!(key.as_str(), "ims~prod~0123abcd~alice%40example.com~AdobeID,openid");
/// assert_eq!(key.as_str().parse::<TokenKey>()?, key);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Caveat: parts are case-sensitive. On case-insensitive file systems a file store must not
/// rely on the name alone to keep keys that differ only in case apart.
#[derive(Clone)]
pub struct TokenKey {
    provider: Box<str>,
    environment: Box<str>,
    client_id: Box<str>,
    profile: Box<str>,
    scopes: Scopes,
    canonical: Box<str>,
}

/// Builds a [`TokenKey`]; see [`TokenKey::builder`].
#[derive(Debug, Clone)]
pub struct TokenKeyBuilder {
    provider: String,
    environment: String,
    client_id: String,
    profile: String,
    scopes: Scopes,
}

impl TokenKeyBuilder {
    /// Sets the profile (a named login, or the subject of the token). Default: `default`.
    #[must_use]
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = profile.into();
        self
    }

    /// Sets the scopes the credential was requested with. Default: none.
    #[must_use]
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// Validates the parts and builds the key.
    pub fn build(self) -> Result<TokenKey, KeyError> {
        if self.provider.is_empty() {
            return Err(KeyError::Empty { part: "provider" });
        }
        if !self
            .provider
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(KeyError::InvalidProvider {
                provider: self.provider,
            });
        }
        for (part, value) in [
            ("environment", &self.environment),
            ("client id", &self.client_id),
            ("profile", &self.profile),
        ] {
            if value.is_empty() {
                return Err(KeyError::Empty { part });
            }
        }
        let canonical = canonical_form(
            &self.provider,
            &self.environment,
            &self.client_id,
            &self.profile,
            &self.scopes,
        );
        Ok(TokenKey {
            provider: self.provider.into(),
            environment: self.environment.into(),
            client_id: self.client_id.into(),
            profile: self.profile.into(),
            scopes: self.scopes,
            canonical: canonical.into(),
        })
    }
}

fn canonical_form(
    provider: &str,
    environment: &str,
    client_id: &str,
    profile: &str,
    scopes: &Scopes,
) -> String {
    let mut out = String::with_capacity(
        provider.len() + environment.len() + client_id.len() + profile.len() + 8 * scopes.len() + 8,
    );
    for (i, part) in [provider, environment, client_id, profile]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push(SEPARATOR);
        }
        out.extend(utf8_percent_encode(part, ENCODED));
    }
    out.push(SEPARATOR);
    for (i, scope) in scopes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.extend(utf8_percent_encode(scope.as_str(), ENCODED));
    }
    out
}

impl TokenKey {
    /// Starts a key for `provider` (such as `ims` or `frameio-v2`), `environment` (such as
    /// `prod`, `stage` or a base URL) and `client_id`.
    pub fn builder(
        provider: impl Into<String>,
        environment: impl Into<String>,
        client_id: impl Into<String>,
    ) -> TokenKeyBuilder {
        TokenKeyBuilder {
            provider: provider.into(),
            environment: environment.into(),
            client_id: client_id.into(),
            profile: DEFAULT_PROFILE.to_owned(),
            scopes: Scopes::new(),
        }
    }

    /// The stable string form, precomputed: calling this costs nothing.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The provider.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The environment.
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The profile.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// Parses the string form produced by [`TokenKey::as_str`].
    ///
    /// Only the canonical form is accepted, so every key has exactly one spelling.
    pub fn parse(input: &str) -> Result<Self, KeyError> {
        let malformed = |reason: &str| KeyError::Malformed {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let parts: Vec<&str> = input.split(SEPARATOR).collect();
        let [provider, environment, client_id, profile, scopes] = parts[..] else {
            return Err(malformed("expected 5 parts separated by '~'"));
        };
        let decode = |part: &str| {
            percent_decode_str(part)
                .decode_utf8()
                .map(std::borrow::Cow::into_owned)
                .map_err(|_| malformed("a part is not valid percent-encoded UTF-8"))
        };
        let scopes = if scopes.is_empty() {
            Scopes::new()
        } else {
            let decoded: Result<Vec<String>, KeyError> = scopes.split(',').map(decode).collect();
            Scopes::try_from_iter(decoded?).map_err(|e| malformed(&e.to_string()))?
        };
        let key = Self::builder(decode(provider)?, decode(environment)?, decode(client_id)?)
            .profile(decode(profile)?)
            .scopes(scopes)
            .build()?;
        if key.as_str() != input {
            return Err(malformed(
                "not in canonical form (encoding or scope order differs)",
            ));
        }
        Ok(key)
    }
}

impl fmt::Display for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TokenKey").field(&self.canonical).finish()
    }
}

impl PartialEq for TokenKey {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for TokenKey {}

impl Hash for TokenKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
    }
}

impl PartialOrd for TokenKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TokenKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.canonical.cmp(&other.canonical)
    }
}

impl FromStr for TokenKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for TokenKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.canonical)
    }
}

impl<'de> Deserialize<'de> for TokenKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(environment: &str, client: &str, profile: &str, scopes: &str) -> TokenKey {
        TokenKey::builder("ims", environment, client)
            .profile(profile)
            .scopes(Scopes::parse(scopes).unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn encodes_unsafe_characters() {
        let k = key(
            "https://ims.example:8443/x",
            "id/../../etc",
            "über ~",
            "a b",
        );
        assert_eq!(
            k.as_str(),
            "ims~https%3A%2F%2Fims.example%3A8443%2Fx~id%2F..%2F..%2Fetc~%C3%BCber%20%7E~a,b"
        );
        assert!(!k.as_str().contains('/'));
        assert_eq!(TokenKey::parse(k.as_str()).unwrap(), k);
    }

    #[test]
    fn default_profile_and_empty_scopes() {
        let k = TokenKey::builder("frameio-v2", "prod", "c")
            .build()
            .unwrap();
        assert_eq!(k.as_str(), "frameio-v2~prod~c~default~");
        assert_eq!(TokenKey::parse(k.as_str()).unwrap(), k);
    }

    #[test]
    fn rejects_bad_parts() {
        assert_eq!(
            TokenKey::builder("", "p", "c").build().unwrap_err(),
            KeyError::Empty { part: "provider" }
        );
        assert!(TokenKey::builder("IMS", "p", "c").build().is_err());
        assert!(TokenKey::builder("ims", "", "c").build().is_err());
        assert!(
            TokenKey::builder("ims", "p", "c")
                .profile("")
                .build()
                .is_err()
        );
    }

    #[test]
    fn rejects_non_canonical_strings() {
        for bad in [
            "ims~prod~c~default",
            "ims~prod~c~default~b,a",
            "ims~prod~%63~default~",
            "ims~prod~c~default~~",
            "ims~prod~%ff~default~",
            "ims~prod~c~d%2fx~",
        ] {
            assert!(TokenKey::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn distinct_parts_give_distinct_keys() {
        assert_ne!(key("prod", "c", "p", "a"), key("stage", "c", "p", "a"));
        assert_ne!(key("prod", "c", "p", "a"), key("prod", "c", "p", "a b"));
        assert_ne!(key("prod", "c~d", "p", ""), key("prod", "c", "d~p", ""));
    }
}
