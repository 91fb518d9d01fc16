//! The storage contract: where token sets are kept between uses and between processes.

use async_trait::async_trait;

use crate::{StoreError, TokenKey, TokenSet};

/// An exclusive section held on one key, released when dropped.
///
/// Returned by [`TokenStore::lock`]. While it is held, no other task or process that goes
/// through the same store can take the lock on the same key.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait StoreLock: Send + Sync {
    /// The key this lock covers.
    fn key(&self) -> &TokenKey;
}

/// Keeps token sets by [`TokenKey`]: in memory, in files, in the OS keyring, or wherever a
/// fork needs.
///
/// Implementations must pass the conformance suite in `frameio-auth-testkit`. The contract:
///
/// - `save` then `load` returns an equal set, secrets byte for byte; `save` replaces
///   atomically (a reader sees the old set or the new one, never a mixture).
/// - `load` of a missing key is `Ok(None)`; an unreadable entry is an error, never `None`,
///   and is never deleted by the store.
/// - `delete` of a missing key succeeds.
/// - `keys` lists every key that has an entry, each once, in no particular order.
/// - `lock` excludes every other holder of the same key, in this process and (for durable
///   stores) in other processes, until the returned guard is dropped. It is not reentrant.
///   Locks on different keys never block each other, and the holder can still `load`,
///   `save` and `delete` its key.
///
/// The refresh algorithm relies on `lock`: it locks, re-loads (another process may have
/// refreshed and rotated the refresh token already), refreshes only if still needed, saves,
/// then releases.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Loads the set stored under `key`.
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError>;
    /// Stores `tokens` under `key`, replacing any previous set.
    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError>;
    /// Removes the set stored under `key`, if any.
    async fn delete(&self, key: &TokenKey) -> Result<(), StoreError>;
    /// Lists the keys that have a stored set.
    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError>;
    /// Takes the exclusive refresh section for `key`, waiting for it if needed.
    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError>;
}

/// A shared store is a store: one store behind many managers, or kept by the caller too.
#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for std::sync::Arc<T> {
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
        (**self).load(key).await
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
        (**self).save(key, tokens).await
    }

    async fn delete(&self, key: &TokenKey) -> Result<(), StoreError> {
        (**self).delete(key).await
    }

    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        (**self).keys().await
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
        (**self).lock(key).await
    }
}
