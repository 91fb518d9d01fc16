//! Frame.io V2 Developer Tokens: static bearer tokens from the developer portal.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use frameio_auth_core::{
    AccessToken, AuthError, Clock, ConfigError, DeveloperToken, Lifetime, SystemClock, Timestamp,
    TokenKey, TokenSet,
};

use crate::PROVIDER;

/// The environment variable a Developer Token is read from by
/// [`DeveloperTokenSource::from_env`].
pub const FRAMEIO_TOKEN_ENV: &str = "FRAMEIO_TOKEN";

/// Where a Developer Token came from (named in errors, never the value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenOrigin {
    /// Given in code.
    Value,
    /// Read from this environment variable.
    Environment(String),
}

impl fmt::Display for TokenOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value => f.write_str("the value given"),
            Self::Environment(name) => write!(f, "the environment variable {name}"),
        }
    }
}

/// A [`TokenSource`](frameio_auth_core::TokenSource) for a Frame.io V2 Developer Token.
///
/// The token never expires and has no refresh: [`fetch`](frameio_auth_core::TokenSource::fetch)
/// always returns a [`TokenSet`] holding it, with [`Lifetime::Never`]. Tokens usually start with
/// `fio-u-`, but a token is never rejected for its shape (JWT bearer tokens work too); only an
/// empty or white-space token is refused, with an error that names where it came from.
///
/// Its [`TokenKey`] has the provider `frameio-v2` (never mixed up with IMS credentials), the
/// environment `prod`, and as client id `developer-token-` plus a short fingerprint of the
/// token, so a different token never reuses the stored entry of an old one.
///
/// A new set is stamped `issued_at` with the source's [`Clock`] ([`SystemClock`] unless
/// [`with_clock`](Self::with_clock) gives another).
///
/// Frame.io V2 documents no way to revoke a Developer Token (the developer portal deletes
/// it), so [`revoke`](frameio_auth_core::TokenSource::revoke) keeps the default
/// [`Revocation::Unsupported`](frameio_auth_core::Revocation::Unsupported): a logout only
/// deletes the local copy.
///
/// `Debug` shows a fingerprint only.
///
/// ```
/// use frameio_auth_core::{DeveloperToken, TokenSource};
/// use frameio_auth_v2::DeveloperTokenSource;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let source = DeveloperTokenSource::new(DeveloperToken::new("fio-u-example"))?;
/// let tokens = source.fetch(None).await?;
/// assert_eq!(tokens.expires_at(), None);
/// assert_eq!(source.key().provider(), "frameio-v2");
///
/// let err = DeveloperTokenSource::from_lookup(|_| Some("  ".to_owned())).unwrap_err();
/// assert!(err.to_string().contains("FRAMEIO_TOKEN"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DeveloperTokenSource {
    token: DeveloperToken,
    origin: TokenOrigin,
    key: TokenKey,
    clock: Arc<dyn Clock>,
}

impl DeveloperTokenSource {
    /// A source for `token`. Fails if it is empty or white space.
    pub fn new(token: DeveloperToken) -> Result<Self, ConfigError> {
        Self::checked(token, TokenOrigin::Value)
    }

    /// Reads the token from the `FRAMEIO_TOKEN` environment variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the token from `FRAMEIO_TOKEN` through `lookup` (an environment, a config map, a
    /// test's table).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let origin = TokenOrigin::Environment(FRAMEIO_TOKEN_ENV.to_owned());
        match lookup(FRAMEIO_TOKEN_ENV) {
            Some(value) => Self::checked(DeveloperToken::new(value), origin),
            None => Err(ConfigError::new(format!(
                "no Frame.io Developer Token: {origin} is not set"
            ))),
        }
    }

    fn checked(token: DeveloperToken, origin: TokenOrigin) -> Result<Self, ConfigError> {
        if token.is_blank() {
            return Err(ConfigError::new(format!(
                "the Frame.io Developer Token from {origin} is empty"
            )));
        }
        // Surrounding white space (a pasted newline) is never part of a token.
        let trimmed = token.expose_secret().trim();
        let token = if trimmed.len() == token.expose_secret().len() {
            token
        } else {
            DeveloperToken::new(trimmed)
        };
        let key = key_for(&token, "default")?;
        Ok(Self {
            token,
            origin,
            key,
            clock: Arc::new(SystemClock),
        })
    }

    /// Sets the profile of the [`TokenKey`]. Default: `default`. Fails on an empty profile.
    pub fn with_profile(mut self, profile: impl Into<String>) -> Result<Self, ConfigError> {
        self.key = key_for(&self.token, profile)?;
        Ok(self)
    }

    /// Where "now" comes from: the `issued_at` of a new set. Default: [`SystemClock`]; tests
    /// give a [`ManualClock`](frameio_auth_core::ManualClock).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Where the token came from.
    pub fn origin(&self) -> &TokenOrigin {
        &self.origin
    }

    /// The token.
    pub fn token(&self) -> &DeveloperToken {
        &self.token
    }

    /// The token as an [`AccessToken`], for [`FrameioApi`](crate::FrameioApi) calls.
    pub fn access_token(&self) -> AccessToken {
        AccessToken::new(self.token.expose_secret())
    }

    /// The token set: the token, bearer, issued at `now`, never expiring, no refresh token.
    pub fn token_set(&self, now: Timestamp) -> TokenSet {
        TokenSet::new(self.access_token(), now, Lifetime::Never)
    }
}

impl fmt::Debug for DeveloperTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeveloperTokenSource")
            .field("token", &self.token)
            .field("origin", &self.origin)
            .field("key", &self.key)
            .field("clock", &self.clock)
            .finish()
    }
}

#[async_trait]
impl frameio_auth_core::TokenSource for DeveloperTokenSource {
    /// Returns the Developer Token, issued at the clock's now. When `current` already holds
    /// it, that set is returned as is (keeping its `issued_at`).
    async fn fetch<'a>(&self, current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
        if let Some(current) = current
            && current.access_token().expose_secret() == self.token.expose_secret()
        {
            return Ok(current.clone());
        }
        Ok(self.token_set(self.clock.now()))
    }

    fn key(&self) -> TokenKey {
        self.key.clone()
    }
}

/// `frameio-v2~prod~developer-token-<fingerprint>~<profile>~`.
fn key_for(token: &DeveloperToken, profile: impl Into<String>) -> Result<TokenKey, ConfigError> {
    let fingerprint = token.fingerprint().to_string();
    let short = fingerprint.trim_start_matches("sha256:");
    TokenKey::builder(PROVIDER, "prod", format!("developer-token-{short}"))
        .profile(profile)
        .build()
        .map_err(|e| ConfigError::new(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use frameio_auth_core::TokenSource as _;

    #[tokio::test]
    async fn never_expires_and_is_not_judged_by_shape() {
        for value in ["fio-u-abc", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "x"] {
            let source = DeveloperTokenSource::new(DeveloperToken::new(value)).unwrap();
            let tokens = source.fetch(None).await.unwrap();
            assert_eq!(tokens.access_token().expose_secret(), value);
            assert_eq!(tokens.expires_at(), None);
            assert!(tokens.refresh_token().is_none());
            let again = source.fetch(Some(&tokens)).await.unwrap();
            assert_eq!(again.issued_at(), tokens.issued_at());
        }
    }

    #[tokio::test]
    async fn a_new_set_is_stamped_with_the_injected_clock() {
        let clock = frameio_auth_core::ManualClock::new(Timestamp::from_unix_secs(1_234_567));
        let source = DeveloperTokenSource::new(DeveloperToken::new("fio-u-clock"))
            .unwrap()
            .with_clock(clock.clone());
        let tokens = source.fetch(None).await.unwrap();
        assert_eq!(tokens.issued_at(), Timestamp::from_unix_secs(1_234_567));
        clock.advance(std::time::Duration::from_secs(60));
        let other = DeveloperTokenSource::new(DeveloperToken::new("fio-u-other"))
            .unwrap()
            .with_clock(clock.clone());
        // A set of another token is replaced, stamped with the clock's time now.
        let replaced = other.fetch(Some(&tokens)).await.unwrap();
        assert_eq!(replaced.issued_at(), clock.now());
        assert_eq!(
            other.revoke(&replaced).await.unwrap(),
            frameio_auth_core::Revocation::Unsupported
        );
    }

    #[test]
    fn blank_tokens_name_their_source() {
        let err = DeveloperTokenSource::new(DeveloperToken::new(" \n")).unwrap_err();
        assert!(err.message().contains("the value given"), "{err}");
        let err = DeveloperTokenSource::from_lookup(|_| Some(String::new())).unwrap_err();
        assert!(err.message().contains("FRAMEIO_TOKEN"), "{err}");
        let err = DeveloperTokenSource::from_lookup(|_| None).unwrap_err();
        assert!(err.message().contains("FRAMEIO_TOKEN is not set"), "{err}");
        let ok = DeveloperTokenSource::from_lookup(|_| Some("fio-u-x\n".into())).unwrap();
        assert_eq!(ok.token().expose_secret(), "fio-u-x");
    }

    #[test]
    fn keys_are_v2_and_per_token() {
        let a = DeveloperTokenSource::new(DeveloperToken::new("fio-u-a")).unwrap();
        let b = DeveloperTokenSource::new(DeveloperToken::new("fio-u-b")).unwrap();
        assert_eq!(a.key().provider(), "frameio-v2");
        assert_ne!(a.key(), b.key());
        assert!(!a.key().as_str().contains("fio-u-a"));
        assert_eq!(
            a.clone().with_profile("work").unwrap().key().profile(),
            "work"
        );
        assert!(a.clone().with_profile("").is_err());
        assert!(!format!("{a:?}").contains("fio-u-a"));
    }
}
