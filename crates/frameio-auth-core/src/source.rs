//! Where token sets come from: a login, a refresh, a client-credentials grant.

// mockall expands `Option<&TokenSet>` into `&Option<&TokenSet>` in its generated code.
#![cfg_attr(any(test, feature = "mock"), allow(clippy::ref_option_ref))]

use async_trait::async_trait;

use crate::{AuthError, TokenKey, TokenSet};

/// What [`TokenSource::revoke`] did at the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Revocation {
    /// The provider revoked or invalidated the login.
    Revoked,
    /// The provider has no way to end this login (a Frame.io V2 Developer Token, a provider
    /// without a revocation endpoint): only the local copy can be deleted.
    Unsupported,
}

/// Obtains fresh token sets for one credential.
///
/// Provider crates implement it: IMS Server-to-Server fetches with `client_credentials`, user
/// logins refresh with their refresh token, a Frame.io V2 Developer Token returns itself.
///
/// A source fetches; it never caches. The token cache is the facade's `TokenManager`.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// Obtains a fresh token set.
    ///
    /// `current` is the set in hand, if any, so a source can refresh instead of starting
    /// over. A source whose login cannot be renewed returns
    /// [`AuthError::NeedsLogin`](crate::AuthError::NeedsLogin).
    async fn fetch<'a>(&self, current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError>;

    /// The key under which this source's tokens are stored.
    fn key(&self) -> TokenKey;

    /// Ends `tokens` at the provider (revocation or invalidation), where the provider
    /// supports it. The default says [`Revocation::Unsupported`] and sends nothing.
    ///
    /// A logout calls this, then deletes the stored entry whatever it returned.
    async fn revoke<'a>(&self, tokens: &'a TokenSet) -> Result<Revocation, AuthError> {
        let _ = tokens;
        Ok(Revocation::Unsupported)
    }
}

/// A shared source is a source: `TokenManager::builder(Arc::clone(&credential))` keeps a
/// handle on the credential (for a login, a revoke) while the manager renews with it.
#[async_trait]
impl<T: TokenSource + ?Sized> TokenSource for std::sync::Arc<T> {
    async fn fetch<'a>(&self, current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
        (**self).fetch(current).await
    }

    fn key(&self) -> TokenKey {
        (**self).key()
    }

    async fn revoke<'a>(&self, tokens: &'a TokenSet) -> Result<Revocation, AuthError> {
        (**self).revoke(tokens).await
    }
}
