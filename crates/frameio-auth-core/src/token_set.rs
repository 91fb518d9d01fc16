//! The token set: what a token endpoint returned, with absolute times.

use std::fmt;
use std::time::Duration;

use crate::{AccessToken, IdToken, RefreshToken, Scopes, Timestamp};

/// The kind of access token, from the response's `token_type`.
///
/// Adobe IMS and Frame.io issue `bearer` tokens; other values are kept, not rejected, so a
/// caller can decide what to do with them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TokenType {
    /// `bearer` (RFC 6750), matched case-insensitively.
    #[default]
    Bearer,
    /// Any other type, as received.
    Other(String),
}

impl TokenType {
    /// Parses a `token_type` value.
    pub fn parse(value: &str) -> Self {
        if value.eq_ignore_ascii_case("bearer") {
            Self::Bearer
        } else {
            Self::Other(value.to_owned())
        }
    }

    /// The canonical text (`bearer` for [`TokenType::Bearer`]).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Bearer => "bearer",
            Self::Other(other) => other,
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a new access token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// It expires this long after it was issued.
    ExpiresIn(Duration),
    /// It never expires (a Frame.io V2 Developer Token).
    Never,
}

/// An access token with everything that came with it, and absolute times.
///
/// Times are absolute ([`Timestamp`]s) rather than relative (`expires_in`), so a stored set
/// stays meaningful after a restart. `expires_at` is never earlier than `issued_at`.
///
/// `Debug` shows fingerprints of the tokens, never the tokens themselves.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_core::{AccessToken, Lifetime, RefreshToken, Scopes, Timestamp, TokenSet};
///
/// let issued = Timestamp::from_unix_secs(1_700_000_000);
/// let tokens = TokenSet::new(
///     AccessToken::new("secret-access-value"),
///     issued,
///     Lifetime::ExpiresIn(Duration::from_secs(3600)),
/// )
/// .with_refresh_token(RefreshToken::new("secret-refresh-value"), None)
/// .with_scopes(Scopes::parse("openid offline_access")?);
///
/// assert_eq!(tokens.remaining(issued), Some(Duration::from_secs(3600)));
/// assert!(tokens.is_expired(issued.saturating_add(Duration::from_secs(3600))));
/// assert!(!format!("{tokens:?}").contains("secret-"));
/// # Ok::<(), frameio_auth_core::ScopeError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    access_token: AccessToken,
    token_type: TokenType,
    issued_at: Timestamp,
    expires_at: Option<Timestamp>,
    refresh_token: Option<RefreshToken>,
    refresh_token_expires_at: Option<Timestamp>,
    id_token: Option<IdToken>,
    scopes: Scopes,
    subject: Option<String>,
}

impl TokenSet {
    /// A bearer token set with no refresh token, id token, scopes or subject.
    pub fn new(access_token: AccessToken, issued_at: Timestamp, lifetime: Lifetime) -> Self {
        let expires_at = match lifetime {
            Lifetime::ExpiresIn(duration) => Some(issued_at.saturating_add(duration)),
            Lifetime::Never => None,
        };
        Self {
            access_token,
            token_type: TokenType::Bearer,
            issued_at,
            expires_at,
            refresh_token: None,
            refresh_token_expires_at: None,
            id_token: None,
            scopes: Scopes::new(),
            subject: None,
        }
    }

    /// Rebuilds a set from absolute times; `None` when `expires_at < issued_at`.
    pub(crate) fn from_parts(
        access_token: AccessToken,
        issued_at: Timestamp,
        expires_at: Option<Timestamp>,
    ) -> Option<Self> {
        let lifetime = match expires_at {
            Some(at) if at < issued_at => return None,
            Some(at) => Lifetime::ExpiresIn(at.saturating_duration_since(issued_at)),
            None => Lifetime::Never,
        };
        let mut set = Self::new(access_token, issued_at, lifetime);
        // Rebuilding from the duration may round; keep the stored instant exactly.
        set.expires_at = expires_at;
        Some(set)
    }

    /// Sets the token type.
    #[must_use]
    pub fn with_token_type(mut self, token_type: TokenType) -> Self {
        self.token_type = token_type;
        self
    }

    /// Adds a refresh token and, when known, when it expires.
    #[must_use]
    pub fn with_refresh_token(
        mut self,
        refresh_token: RefreshToken,
        expires_at: Option<Timestamp>,
    ) -> Self {
        self.refresh_token = Some(refresh_token);
        self.refresh_token_expires_at = expires_at;
        self
    }

    /// Adds an OpenID Connect id token.
    #[must_use]
    pub fn with_id_token(mut self, id_token: IdToken) -> Self {
        self.id_token = Some(id_token);
        self
    }

    /// Sets the granted scopes.
    #[must_use]
    pub fn with_scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// Sets the subject (the user or technical account the token acts for).
    #[must_use]
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Uses `requested` as the granted scopes when the response named none.
    ///
    /// RFC 6749 §5.1: an omitted `scope` means the scopes granted are the ones requested.
    #[must_use]
    pub fn with_requested_scopes_if_absent(mut self, requested: &Scopes) -> Self {
        if self.scopes.is_empty() {
            self.scopes = requested.clone();
        }
        self
    }

    /// Keeps the refresh token of `previous` when this set has none.
    ///
    /// A refresh response may omit the refresh token (Frame.io V2 sometimes does); the old one
    /// then stays valid and must not be lost. When this set has its own, the old one is dead
    /// (IMS rotates refresh tokens) and is dropped.
    #[must_use]
    pub fn inherit_refresh_token(mut self, previous: &Self) -> Self {
        if self.refresh_token.is_none() {
            self.refresh_token.clone_from(&previous.refresh_token);
            self.refresh_token_expires_at = previous.refresh_token_expires_at;
        }
        self
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// The token type.
    pub fn token_type(&self) -> &TokenType {
        &self.token_type
    }

    /// When the set was received.
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// When the access token expires; `None` if it never does.
    pub fn expires_at(&self) -> Option<Timestamp> {
        self.expires_at
    }

    /// The full lifetime of the access token; `None` if it never expires.
    pub fn lifetime(&self) -> Option<Duration> {
        self.expires_at
            .map(|at| at.saturating_duration_since(self.issued_at))
    }

    /// Time left at `now`: zero once expired, `None` if it never expires.
    pub fn remaining(&self, now: Timestamp) -> Option<Duration> {
        self.expires_at.map(|at| at.saturating_duration_since(now))
    }

    /// Whether the access token has expired at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// The refresh token, if any.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// When the refresh token expires, if known.
    pub fn refresh_token_expires_at(&self) -> Option<Timestamp> {
        self.refresh_token_expires_at
    }

    /// Whether a refresh token is present and not known to have expired at `now`.
    pub fn can_refresh(&self, now: Timestamp) -> bool {
        self.refresh_token.is_some() && self.refresh_token_expires_at.is_none_or(|at| now < at)
    }

    /// The OpenID Connect id token, if any.
    pub fn id_token(&self) -> Option<&IdToken> {
        self.id_token.as_ref()
    }

    /// The granted scopes (empty when unknown).
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// The subject, if the server named one.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .field("refresh_token_expires_at", &self.refresh_token_expires_at)
            .field("id_token", &self.id_token)
            .field("scopes", &self.scopes)
            .field("subject", &self.subject)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(lifetime: Lifetime) -> TokenSet {
        TokenSet::new(
            AccessToken::new("a"),
            Timestamp::from_unix_secs(1000),
            lifetime,
        )
    }

    #[test]
    fn expiry_is_absolute_and_saturating() {
        let tokens = set(Lifetime::ExpiresIn(Duration::MAX));
        assert_eq!(tokens.expires_at(), Some(Timestamp::MAX));
        assert!(tokens.expires_at() >= Some(tokens.issued_at()));
        let never = set(Lifetime::Never);
        assert_eq!(never.remaining(Timestamp::MAX), None);
        assert!(!never.is_expired(Timestamp::MAX));
    }

    #[test]
    fn remaining_and_expired() {
        let tokens = set(Lifetime::ExpiresIn(Duration::from_secs(10)));
        let t = Timestamp::from_unix_secs(1005);
        assert_eq!(tokens.remaining(t), Some(Duration::from_secs(5)));
        assert!(!tokens.is_expired(t));
        assert!(tokens.is_expired(Timestamp::from_unix_secs(1010)));
        assert_eq!(
            tokens.remaining(Timestamp::from_unix_secs(2000)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn inherits_refresh_token_only_when_missing() {
        let old = set(Lifetime::Never).with_refresh_token(RefreshToken::new("old"), None);
        let without = set(Lifetime::Never).inherit_refresh_token(&old);
        assert_eq!(
            without.refresh_token().map(RefreshToken::expose_secret),
            Some("old")
        );
        let with = set(Lifetime::Never)
            .with_refresh_token(RefreshToken::new("new"), None)
            .inherit_refresh_token(&old);
        assert_eq!(
            with.refresh_token().map(RefreshToken::expose_secret),
            Some("new")
        );
    }

    #[test]
    fn can_refresh_respects_refresh_expiry() {
        let tokens = set(Lifetime::Never).with_refresh_token(
            RefreshToken::new("r"),
            Some(Timestamp::from_unix_secs(2000)),
        );
        assert!(tokens.can_refresh(Timestamp::from_unix_secs(1999)));
        assert!(!tokens.can_refresh(Timestamp::from_unix_secs(2000)));
        assert!(!set(Lifetime::Never).can_refresh(Timestamp::UNIX_EPOCH));
    }

    #[test]
    fn from_parts_rejects_inverted_times() {
        let access = AccessToken::new("a");
        assert!(
            TokenSet::from_parts(
                access.clone(),
                Timestamp::from_unix_secs(5),
                Some(Timestamp::from_unix_secs(4))
            )
            .is_none()
        );
        let ok = TokenSet::from_parts(access, Timestamp::from_unix_millis(5), Some(Timestamp::MAX))
            .unwrap();
        assert_eq!(ok.expires_at(), Some(Timestamp::MAX));
    }
}
