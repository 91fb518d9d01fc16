//! An in-memory [`TokenStore`] for frameio-auth.
//!
//! [`MemoryStore`] keeps token sets in this process's memory. Nothing is written anywhere: the
//! sets are gone when the process exits, and other processes cannot see them. Use it
//!
//! - in tests, where a throw-away store is exactly what is wanted;
//! - in short-lived tools that sign in with client credentials on every run anyway;
//! - as a cache in front of a slower store, or where tokens must never touch the disk.
//!
//! For tokens that should survive a restart, use a durable store (file or OS keyring).
//!
//! [`TokenStore::lock`] is a real per-key exclusive lock across the tasks of this process, so
//! the refresh algorithm (lock, re-load, refresh if still needed, save, release) works with a
//! `MemoryStore` exactly as it does with a durable store. The store passes the conformance
//! suite of `frameio-auth-testkit`.
//!
//! ```
//! use std::time::Duration;
//! use frameio_auth_core::{
//!     AccessToken, Lifetime, RefreshToken, Scopes, Timestamp, TokenKey, TokenSet, TokenStore,
//! };
//! use frameio_auth_store_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = TokenKey::builder("ims", "prod", "0123abcd")
//!     .scopes(Scopes::parse("openid,AdobeID,offline_access")?)
//!     .build()?;
//! let tokens = TokenSet::new(
//!     AccessToken::new("eyJhbGciOi..."),
//!     Timestamp::from_unix_secs(1_700_000_000),
//!     Lifetime::ExpiresIn(Duration::from_secs(86_399)),
//! )
//! .with_refresh_token(RefreshToken::new("eyJyZWZyZXNo..."), None);
//!
//! let store = MemoryStore::new();
//! store.save(&key, &tokens).await?;
//! assert_eq!(store.load(&key).await?, Some(tokens));
//! assert_eq!(store.keys().await?, vec![key.clone()]);
//!
//! // The refresh section: exclusive per key until the guard is dropped.
//! let guard = store.lock(&key).await?;
//! assert_eq!(guard.key(), &key);
//! drop(guard);
//!
//! store.delete(&key).await?;
//! assert_eq!(store.load(&key).await?, None);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use frameio_auth_core::{Deadline, Sleeper, StoreError, StoreLock, TokenKey, TokenSet, TokenStore};
use tokio::sync::OwnedMutexGuard;

/// A per-key async mutex. Held by the map while anyone may want it, and by every holder and
/// waiter.
type KeyMutex = Arc<tokio::sync::Mutex<()>>;

/// A [`TokenStore`] that keeps token sets in memory, for this process only.
///
/// - Cheap to clone: clones share the same entries and locks. Two stores made separately
///   share nothing, not even locks: give every task the same store (or a clone of it).
/// - `save` stores a copy of the set; `load` returns a copy. Replacing is atomic: a reader
///   sees the old set or the new one, never a mixture.
/// - [`lock`](TokenStore::lock) is a fair (first come, first served), per-key, non-reentrant
///   async lock. Waiting gives up after the [lock timeout](Self::lock_timeout) with
///   [`StoreError::LockTimeout`]; see [`DEFAULT_LOCK_TIMEOUT`](Self::DEFAULT_LOCK_TIMEOUT).
/// - `Debug` shows the number of entries and their keys, never a token.
///
/// An uncontended `lock` needs no runtime. The lock timeout runs on a [`Sleeper`], by default
/// Tokio's timer, so waiting for a contended lock must then happen inside a Tokio runtime with
/// the time driver enabled (`#[tokio::main]` and `#[tokio::test]` enable it). Under another
/// runtime, give the store that runtime's timer with [`MemoryStoreBuilder::sleeper`], or build
/// it with [`MemoryStoreBuilder::wait_indefinitely`]. Tests give it a `ManualClock`'s
/// `paused_sleeper()`, so a lock times out exactly when the test moves the clock past the
/// timeout.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_store_memory::MemoryStore;
///
/// let store = MemoryStore::builder().lock_timeout(Duration::from_secs(5)).build();
/// assert_eq!(store.lock_timeout(), Some(Duration::from_secs(5)));
/// assert_eq!(MemoryStore::new().lock_timeout(), Some(MemoryStore::DEFAULT_LOCK_TIMEOUT));
/// assert!(store.is_empty());
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    shared: Arc<Shared>,
}

struct Shared {
    entries: Mutex<HashMap<TokenKey, TokenSet>>,
    locks: Mutex<HashMap<TokenKey, KeyMutex>>,
    lock_timeout: Option<Duration>,
    sleeper: Arc<dyn Sleeper>,
}

/// Tokio's timer: the default [`Sleeper`] of the lock timeout.
#[derive(Debug)]
struct TokioTimer;

impl Sleeper for TokioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Takes a std mutex, recovering from poisoning.
///
/// The sections guarded here are single map operations that leave the map consistent even if
/// a panic interrupts them, so the data behind a poisoned mutex is still sound.
fn acquire<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryStore {
    /// How long [`lock`](TokenStore::lock) waits by default before giving up: 30 seconds.
    ///
    /// The lock is held for one refresh: a token request, bounded by the HTTP client's own
    /// timeouts. Waiting far longer than one refresh means the holder is stuck (or the same
    /// task asked twice: the lock is not reentrant), and a clear [`StoreError::LockTimeout`]
    /// is more useful than a hang. Durable stores use the same default.
    pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

    /// An empty store with the default lock timeout.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts configuring a store.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            lock_timeout: Some(Self::DEFAULT_LOCK_TIMEOUT),
            sleeper: Arc::new(TokioTimer),
        }
    }

    /// How long `lock` waits before giving up; `None` waits indefinitely.
    pub fn lock_timeout(&self) -> Option<Duration> {
        self.shared.lock_timeout
    }

    /// The number of stored token sets.
    pub fn len(&self) -> usize {
        acquire(&self.shared.entries).len()
    }

    /// Whether no token set is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The per-key mutex for `key`, created on first use.
    ///
    /// Mutexes nobody holds or waits for are dropped here, so the map never outgrows the keys
    /// in use. This is race-free: a mutex is only cloned out of the map under the map's lock,
    /// so one whose only reference is the map's cannot gain a holder while it is removed.
    fn key_mutex(&self, key: &TokenKey) -> KeyMutex {
        let mut locks = acquire(&self.shared.locks);
        locks.retain(|_, mutex| Arc::strong_count(mutex) > 1);
        Arc::clone(locks.entry(key.clone()).or_default())
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<TokenKey> = acquire(&self.shared.entries).keys().cloned().collect();
        keys.sort_unstable();
        f.debug_struct("MemoryStore")
            .field("entries", &keys.len())
            .field("keys", &keys)
            .field("lock_timeout", &self.shared.lock_timeout)
            .field("sleeper", &self.shared.sleeper)
            .finish()
    }
}

/// Configures a [`MemoryStore`]; see [`MemoryStore::builder`].
#[derive(Clone, Debug)]
pub struct MemoryStoreBuilder {
    lock_timeout: Option<Duration>,
    sleeper: Arc<dyn Sleeper>,
}

impl MemoryStoreBuilder {
    /// Gives up waiting for a lock after `timeout`, with [`StoreError::LockTimeout`].
    ///
    /// Default: [`MemoryStore::DEFAULT_LOCK_TIMEOUT`].
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// Waits for a lock as long as it takes: no timer is needed (nor a Tokio runtime), and
    /// a stuck holder blocks its waiters forever.
    #[must_use]
    pub fn wait_indefinitely(mut self) -> Self {
        self.lock_timeout = None;
        self
    }

    /// What the lock timeout sleeps on. Default: Tokio's timer.
    ///
    /// Give tests a `ManualClock`'s `paused_sleeper()`: a contended lock then gives up
    /// exactly when the test moves the clock past the timeout, with no wall time spent.
    ///
    /// ```
    /// use std::time::Duration;
    /// use frameio_auth_core::{ManualClock, StoreError, TokenKey, TokenStore};
    /// use frameio_auth_store_memory::MemoryStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = ManualClock::default();
    /// let store = MemoryStore::builder().sleeper(clock.paused_sleeper()).build();
    /// let key = TokenKey::builder("ims", "prod", "client").build()?;
    /// let held = store.lock(&key).await?;
    /// let waiter = tokio::spawn({
    ///     let (store, key) = (store.clone(), key.clone());
    ///     async move { store.lock(&key).await.map(drop) }
    /// });
    /// clock.wait_for_sleepers(1).await; // the waiter is parked on its timeout
    /// clock.advance(MemoryStore::DEFAULT_LOCK_TIMEOUT);
    /// assert!(matches!(waiter.await?, Err(StoreError::LockTimeout { .. })));
    /// # drop(held);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// Builds an empty store.
    pub fn build(self) -> MemoryStore {
        MemoryStore {
            shared: Arc::new(Shared {
                entries: Mutex::new(HashMap::new()),
                locks: Mutex::new(HashMap::new()),
                lock_timeout: self.lock_timeout,
                sleeper: self.sleeper,
            }),
        }
    }
}

/// The guard returned by [`MemoryStore`]'s `lock`.
#[derive(Debug)]
struct MemoryLock {
    key: TokenKey,
    _guard: OwnedMutexGuard<()>,
}

impl StoreLock for MemoryLock {
    fn key(&self) -> &TokenKey {
        &self.key
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
        Ok(acquire(&self.shared.entries).get(key).cloned())
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
        // Clone before taking the map's lock, and drop the replaced set after releasing it:
        // the lock is held only for the swap itself.
        let tokens = tokens.clone();
        let replaced = acquire(&self.shared.entries).insert(key.clone(), tokens);
        drop(replaced);
        Ok(())
    }

    async fn delete(&self, key: &TokenKey) -> Result<(), StoreError> {
        let removed = acquire(&self.shared.entries).remove(key);
        drop(removed);
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        let mut keys: Vec<TokenKey> = acquire(&self.shared.entries).keys().cloned().collect();
        keys.sort_unstable();
        Ok(keys)
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
        let mutex = self.key_mutex(key);
        // Uncontended: no timer, so this path works under any runtime.
        let guard = match Arc::clone(&mutex).try_lock_owned() {
            Ok(guard) => guard,
            Err(_) => Deadline::new(&*self.shared.sleeper, self.shared.lock_timeout)
                .run(mutex.lock_owned())
                .await
                .ok_or_else(|| StoreError::LockTimeout {
                    key: key.clone(),
                    waited: self.shared.lock_timeout.unwrap_or_default(),
                })?,
        };
        Ok(Box::new(MemoryLock {
            key: key.clone(),
            _guard: guard,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use frameio_auth_core::{AccessToken, Clock, Lifetime, ManualClock, RefreshToken, Timestamp};
    use frameio_auth_testkit::store::assert_lock_times_out;

    use super::*;

    fn key(profile: &str) -> TokenKey {
        TokenKey::builder("ims", "prod", "client")
            .profile(profile)
            .build()
            .unwrap()
    }

    fn tokens(access: &str) -> TokenSet {
        TokenSet::new(
            AccessToken::new(access),
            Timestamp::from_unix_secs(1_700_000_000),
            Lifetime::ExpiresIn(Duration::from_secs(3600)),
        )
        .with_refresh_token(RefreshToken::new(format!("{access}-refresh")), None)
    }

    #[tokio::test]
    async fn clones_share_entries() {
        let store = MemoryStore::new();
        let other = store.clone();
        store.save(&key("a"), &tokens("one")).await.unwrap();
        assert_eq!(other.load(&key("a")).await.unwrap(), Some(tokens("one")));
        assert_eq!(other.len(), 1);
        other.delete(&key("a")).await.unwrap();
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn debug_shows_keys_but_no_tokens() {
        let store = MemoryStore::new();
        store
            .save(&key("alice"), &tokens("very-secret-access"))
            .await
            .unwrap();
        let shown = format!("{store:?}");
        assert!(shown.contains("entries: 1"), "{shown}");
        assert!(shown.contains("alice"), "{shown}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains("sha256"), "{shown}");
    }

    #[tokio::test(start_paused = true)]
    async fn contended_lock_times_out() {
        let store = MemoryStore::builder()
            .lock_timeout(Duration::from_secs(2))
            .build();
        let held = store.lock(&key("a")).await.unwrap();
        let err = store.lock(&key("a")).await.err().unwrap();
        match err {
            StoreError::LockTimeout { key: k, waited } => {
                assert_eq!(k, key("a"));
                assert_eq!(waited, Duration::from_secs(2));
            }
            other => panic!("expected LockTimeout, found {other}"),
        }
        // Other keys are independent, and the lock is free again once dropped.
        drop(store.lock(&key("b")).await.unwrap());
        drop(held);
        drop(store.lock(&key("a")).await.unwrap());
    }

    /// A clock at 0, and a store whose lock timeout (the default) sleeps on it.
    fn paused_store() -> (ManualClock, MemoryStore) {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let store = MemoryStore::builder()
            .sleeper(clock.paused_sleeper())
            .build();
        (clock, store)
    }

    #[tokio::test]
    async fn paused_lock_timeout_ends_exactly_when_the_clock_passes_it() {
        let (clock, store) = paused_store();
        let held = store.lock(&key("a")).await.unwrap();
        let timeout = MemoryStore::DEFAULT_LOCK_TIMEOUT;
        let pauses = assert_lock_times_out(&clock, &store, &key("a"), timeout).await;
        assert_eq!(pauses, 0, "a mutex wait has no pauses");
        assert_eq!(clock.now(), Timestamp::from_unix_secs(30));
        drop(held);
    }

    #[tokio::test]
    async fn paused_lock_timeout_is_withdrawn_when_the_lock_comes_first() {
        let (clock, store) = paused_store();
        let held = store.lock(&key("a")).await.unwrap();
        let waiter =
            tokio::spawn(async move { store.lock(&key("a")).await.map(|g| g.key().clone()) });
        clock.wait_for_sleepers(1).await;
        clock.advance(Duration::from_secs(29));
        drop(held);
        assert_eq!(waiter.await.unwrap().unwrap(), key("a"));
        assert_eq!(clock.sleepers(), 0, "the timer went with the wait");
    }

    #[tokio::test]
    async fn waiter_gets_the_lock_when_released() {
        let store = MemoryStore::builder().wait_indefinitely().build();
        let held = store.lock(&key("a")).await.unwrap();
        let waiter = {
            let store = store.clone();
            tokio::spawn(async move { store.lock(&key("a")).await.map(|g| g.key().clone()) })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(held);
        assert_eq!(waiter.await.unwrap().unwrap(), key("a"));
    }

    #[tokio::test]
    async fn unused_key_mutexes_are_dropped() {
        let store = MemoryStore::new();
        for i in 0..100 {
            drop(store.lock(&key(&format!("p{i}"))).await.unwrap());
        }
        let held = store.lock(&key("held")).await.unwrap();
        // Only the mutex in use remains.
        assert_eq!(acquire(&store.shared.locks).len(), 1);
        drop(held);
    }

    #[tokio::test]
    async fn poisoned_map_is_recovered() {
        let store = MemoryStore::new();
        store.save(&key("a"), &tokens("one")).await.unwrap();
        let shared = Arc::clone(&store.shared);
        let _ = std::thread::spawn(move || {
            let _guard = shared.entries.lock().unwrap();
            panic!("poison the entries mutex");
        })
        .join();
        assert!(store.shared.entries.is_poisoned());
        assert_eq!(store.load(&key("a")).await.unwrap(), Some(tokens("one")));
        store.save(&key("b"), &tokens("two")).await.unwrap();
        assert_eq!(store.keys().await.unwrap(), vec![key("a"), key("b")]);
    }
}
