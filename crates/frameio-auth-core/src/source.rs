//! Where token sets come from: a login, a refresh, a client-credentials grant.

// mockall expands `Option<&TokenSet>` into `&Option<&TokenSet>` in its generated code.
#![cfg_attr(any(test, feature = "mock"), allow(clippy::ref_option_ref))]

use async_trait::async_trait;

use crate::{AuthError, TokenKey, TokenSet};

/// Obtains fresh token sets for one credential.
///
/// Provider crates implement it: IMS Server-to-Server fetches with `client_credentials`, user
/// logins refresh with their refresh token, a Frame.io V2 Developer Token returns itself.
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
}
