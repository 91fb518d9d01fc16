//! What a manager tells its subscribers: refreshes, logins, logouts, failures. No secrets.

use std::time::Duration;

use frameio_auth_core::{ErrorKind, Timestamp};
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it misses some: 64.
pub const EVENT_CAPACITY: usize = 64;

/// Something that happened to a manager's login. Carries no token, secret or code.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenEvent {
    /// A new token set is in use.
    Refreshed {
        /// When the new access token expires; `None` if it never does.
        expires_at: Option<Timestamp>,
        /// True when another process (or an earlier save) had refreshed already and the set
        /// was taken from the store without a request.
        adopted: bool,
    },
    /// A login was completed or imported.
    LoggedIn {
        /// When the access token expires; `None` if it never does.
        expires_at: Option<Timestamp>,
    },
    /// The login was ended and its stored entry deleted.
    LoggedOut,
    /// The login cannot be renewed: a new login (or an import) is needed.
    NeedsLogin,
    /// A refresh failed; the manager will try again.
    RefreshFailing {
        /// What kind of failure.
        kind: ErrorKind,
        /// Failures in a row so far.
        failures: u32,
        /// How long until the next attempt.
        retry_in: Duration,
        /// Whether the current access token is still being served.
        serving_current: bool,
    },
    /// A refreshed set could not be saved; it is kept in memory and saved at the next chance.
    SaveFailed,
}

/// A subscription to a manager's [`TokenEvent`]s, from
/// [`TokenManager::subscribe`](crate::TokenManager::subscribe).
#[derive(Debug)]
pub struct TokenEvents(pub(crate) broadcast::Receiver<TokenEvent>);

impl TokenEvents {
    /// The next event; `None` once the manager is gone. A subscriber that fell more than
    /// [`EVENT_CAPACITY`] events behind skips the oldest ones.
    pub async fn recv(&mut self) -> Option<TokenEvent> {
        loop {
            match self.0.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Option<TokenEvent> {
        loop {
            match self.0.try_recv() {
                Ok(event) => return Some(event),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => return None,
            }
        }
    }
}
