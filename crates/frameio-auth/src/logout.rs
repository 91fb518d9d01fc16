//! What a logout did, at the provider and locally.

use frameio_auth_core::Revocation;

use crate::TokenError;

/// How ending the login at the provider went.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ProviderLogout {
    /// The provider was asked: it revoked the login, or has no way to (see [`Revocation`]).
    Done(Revocation),
    /// The provider could not be reached or refused; the login may still be valid there
    /// until it expires.
    Failed(TokenError),
    /// There was no login to end.
    NothingStored,
}

/// The outcome of [`TokenManager::logout`](crate::TokenManager::logout): both halves, since
/// the local delete happens whatever the provider said.
#[derive(Clone, Debug)]
#[must_use = "a logout can fail at the provider or locally; look at both"]
pub struct LogoutReport {
    /// What the provider did.
    pub provider: ProviderLogout,
    /// Whether the stored entry was deleted.
    pub local: Result<(), TokenError>,
}

impl LogoutReport {
    /// Whether the login is gone both at the provider (or the provider cannot end it) and
    /// locally.
    pub fn is_complete(&self) -> bool {
        self.local.is_ok() && !matches!(self.provider, ProviderLogout::Failed(_))
    }
}
