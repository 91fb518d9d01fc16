//! The storage contract: where token sets are kept between uses and between processes.

use std::time::Duration;

use async_trait::async_trait;

use crate::{StoreError, TokenKey, TokenSet};

/// An exclusive section held on one key, released when dropped.
///
/// Returned by [`TokenStore::lock`]. While it is held, no other task or process that goes
/// through the same store can take the lock on the same key.
///
/// # Saving under the lock: fencing
///
/// A holder re-loads its key with [`reload`](Self::reload) and saves with
/// [`save_fenced`](Self::save_fenced), both given the store that issued the lock. For a lock
/// that is held until dropped (files, the OS keyring, memory) they are `load` and `save`:
/// that is what the default implementations do, so a store written before these methods
/// existed keeps working unchanged.
///
/// A lock that lives on a *lease* (a distributed lock such as the Redis store's) can be lost
/// by a holder that stalls longer than the lease, and taken by another holder meanwhile. Such
/// a store fences: `save_fenced` is a compare-and-set against the version the holder
/// re-loaded, and fails with [`StoreError::Fenced`] when another holder saved since (the
/// stored set is then the newer one: use it). It still lands when nobody wrote since, even
/// after the lease lapsed. Plain [`TokenStore::save`] stays last-writer-wins (a login, an
/// import).
///
/// # Leases
///
/// [`work_budget`](Self::work_budget) tells the holder how long one piece of work under the
/// lock (one token request, its retries and `Retry-After` waits included) may take: the
/// refresher of the facade cuts its request off after it. A leased lock renews its lease
/// while it is held (the guard owns the renewal); [`is_lost`](Self::is_lost) says when it
/// learnt that the lease was lost anyway.
#[async_trait]
pub trait StoreLock: Send + Sync {
    /// The key this lock covers.
    fn key(&self) -> &TokenKey;

    /// Loads this lock's key as its holder, from `store` (the store that issued the lock). A
    /// fencing store remembers the version it read, for [`save_fenced`](Self::save_fenced).
    ///
    /// Default: `store.load(self.key())`.
    async fn reload(&self, store: &dyn TokenStore) -> Result<Option<TokenSet>, StoreError> {
        store.load(self.key()).await
    }

    /// Saves `tokens` under this lock's key as its holder, into `store` (the store that
    /// issued the lock). A fencing store saves only if nobody saved since this holder's last
    /// [`reload`](Self::reload) (or, before any, since the lock was taken), else fails with
    /// [`StoreError::Fenced`] and changes nothing.
    ///
    /// Default: `store.save(self.key(), tokens)`.
    async fn save_fenced(
        &self,
        store: &dyn TokenStore,
        tokens: &TokenSet,
    ) -> Result<(), StoreError> {
        store.save(self.key(), tokens).await
    }

    /// How long one piece of work under this lock may take before the holder risks losing
    /// the lock: below the lease of a leased lock. `None` (the default): the lock is held
    /// until dropped, work may take as long as it takes.
    fn work_budget(&self) -> Option<Duration> {
        None
    }

    /// Whether the holder learnt that it lost the lock (a lease that lapsed and could not be
    /// renewed). Default: `false`, a lock held until dropped is never lost.
    fn is_lost(&self) -> bool {
        false
    }

    /// Whether the last [`reload`](Self::reload) found no entry where the store cannot tell
    /// that the entry was deleted on purpose: a Redis restarted without persistence, or a
    /// key evicted under memory pressure. A holder that still has a live set in memory then
    /// writes it back instead of treating the login as gone. Default: `false` (an absent
    /// entry was deleted, as a file or keyring entry always is).
    fn entry_vanished(&self) -> bool {
        false
    }
}

#[cfg(any(test, feature = "mock"))]
mockall::mock! {
    /// A mock of [`StoreLock`]. Only [`key`](StoreLock::key) is mocked: the other methods
    /// keep their defaults (a lock held until dropped, saving through the store), so a
    /// mocked store's `load` and `save` see the holder's reloads and fenced saves.
    pub StoreLock {}

    impl StoreLock for StoreLock {
        fn key(&self) -> &TokenKey;
    }
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
