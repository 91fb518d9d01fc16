//! The set in memory and the handle callers get on it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use frameio_auth_core::{
    AccessToken, RefreshDecision, RefreshPolicy, RefreshSchedule, Scopes, Timestamp, TokenSet,
};

/// A token set with its refresh decision worked out once.
pub(crate) struct Cached {
    pub(crate) tokens: TokenSet,
    pub(crate) schedule: RefreshSchedule,
    /// False when the source handed this set back unchanged: nothing can renew it before it
    /// expires, so the refresh-ahead window must not start a refresh on every call.
    pub(crate) renewable: bool,
    /// Set by the first caller that sees this set inside its refresh-ahead window, so only
    /// one background refresh is started for it.
    ahead_claimed: AtomicBool,
}

impl Cached {
    pub(crate) fn new(tokens: TokenSet, policy: &RefreshPolicy, renewable: bool) -> Arc<Self> {
        Arc::new(Self {
            schedule: policy.schedule(&tokens),
            tokens,
            renewable,
            ahead_claimed: AtomicBool::new(false),
        })
    }

    /// Whether the access token can still be sent at `now`: before its real expiry, not the
    /// policy's margin. A set that serves stale (a refresh failing) stops here.
    pub(crate) fn usable_at(&self, now: Timestamp) -> bool {
        !self.tokens.is_expired(now)
    }

    /// The decision at `now`, with the no-op guard applied: a set nothing can renew is used
    /// until it really expires (no refresh ahead, no expiry margin), since asking the source
    /// again would only hand it back once more (rule 8).
    #[inline]
    pub(crate) fn decide(&self, now: Timestamp) -> RefreshDecision {
        match self.schedule.decide(now) {
            RefreshDecision::Fresh => RefreshDecision::Fresh,
            _ if !self.renewable && self.usable_at(now) => RefreshDecision::Fresh,
            decision => decision,
        }
    }

    /// True for exactly one caller per set: the one that starts its background refresh.
    #[inline]
    pub(crate) fn claim_refresh_ahead(&self) -> bool {
        !self.ahead_claimed.load(Ordering::Relaxed)
            && !self.ahead_claimed.swap(true, Ordering::AcqRel)
    }
}

/// A cheap handle on the current access token and the set it came with.
///
/// Returned by [`TokenManager::access_token`](crate::TokenManager::access_token). Cloning
/// or obtaining it costs one reference-count increment and never allocates. It keeps the set
/// it was taken from even after the manager moves on to a newer one, so read the token when
/// you send the request rather than keeping the handle for long.
///
/// `Debug` shows fingerprints, never the token.
#[derive(Clone)]
pub struct CachedToken(pub(crate) Arc<Cached>);

impl CachedToken {
    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        self.0.tokens.access_token()
    }

    /// The access token's text, for an `Authorization: Bearer` header.
    ///
    /// # Security
    ///
    /// The value is a live credential: send it only to the API it is meant for, never log it.
    pub fn expose_secret(&self) -> &str {
        self.0.tokens.access_token().expose_secret()
    }

    /// When the access token expires; `None` if it never does.
    pub fn expires_at(&self) -> Option<Timestamp> {
        self.0.tokens.expires_at()
    }

    /// The scopes granted.
    pub fn scopes(&self) -> &Scopes {
        self.0.tokens.scopes()
    }

    /// When the access token was issued.
    pub fn issued_at(&self) -> Timestamp {
        self.0.tokens.issued_at()
    }

    /// The subject (user or technical account) the token acts for, when known.
    pub fn subject(&self) -> Option<&str> {
        self.0.tokens.subject()
    }

    /// Whether the login holds a refresh token (so it can be renewed without the user).
    ///
    /// The refresh token itself is not handed out here: a per-request handle should not
    /// carry the login's longest-lived secret. [`TokenManager::export`](crate::TokenManager::export)
    /// returns the whole set.
    pub fn has_refresh_token(&self) -> bool {
        self.0.tokens.refresh_token().is_some()
    }
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CachedToken").field(&self.0.tokens).finish()
    }
}
