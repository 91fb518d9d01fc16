//! The distributed lock: a random token under the lock key with a lease, renewed by the
//! guard while it lives, released by a script that deletes only its own token; and the
//! version fence of the holder's saves.

use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use frameio_auth_core::{Deadline, StoreError, StoreLock, TokenKey, TokenSet, TokenStore};
use tokio::task::AbortHandle;

use crate::{Raw, Shared, scripts};

/// The first pause between two attempts at a held lock.
const FIRST_BACKOFF: Duration = Duration::from_millis(2);
/// The longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// What the guard and its renewal task share.
#[derive(Debug, Default)]
struct State {
    /// The entry's version the holder's next fenced save must find (0: no entry).
    fence: AtomicU64,
    lost: AtomicBool,
    vanished: AtomicBool,
    /// The test hook: renewals are skipped while set.
    paused: AtomicBool,
    renewals: AtomicU64,
}

/// A held lock of a [`RedisStore`](crate::RedisStore): what
/// [`TokenStore::lock`](frameio_auth_core::TokenStore::lock) returns (boxed), and what
/// [`RedisStore::lock_key_guard`](crate::RedisStore::lock_key_guard) returns as it is.
///
/// While it lives, a task renews its lease every third of the lease. When a renewal finds
/// the lock gone or taken by another holder (or none succeeded for a whole lease), the
/// guard logs a warning and [`is_lost`](StoreLock::is_lost) turns `true`. Its saves are
/// fenced by version (see [`StoreLock::save_fenced`]). Dropping it releases the lock (in the
/// background; the lease ends it anyway). `Debug` shows the key and state, never the token.
pub struct RedisLock {
    key: TokenKey,
    shared: Arc<Shared>,
    token: String,
    state: Arc<State>,
    renewal: Option<AbortHandle>,
}

impl fmt::Debug for RedisLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLock")
            .field("key", &self.key)
            .field("lease", &self.shared.lease)
            .field("fence", &self.state.fence.load(Ordering::SeqCst))
            .field("lost", &self.state.lost.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

fn random_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Backend {
        message: format!("the OS random generator failed, so no lock token could be made: {e}"),
        source: None,
    })?;
    Ok(bytes
        .iter()
        .fold(String::with_capacity(32), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        }))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A random fraction of `pause`, between half and all of it: waiters spread out.
pub(crate) fn jittered(pause: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let fraction = match getrandom::fill(&mut byte) {
        Ok(()) => 0.5 + f64::from(byte[0]) / 510.0,
        Err(_) => 1.0,
    };
    pause.mul_f64(fraction)
}

/// One attempt at `key`'s lock.
pub(crate) async fn try_acquire(
    shared: &Arc<Shared>,
    key: &TokenKey,
) -> Result<Option<RedisLock>, StoreError> {
    let token = random_token()?;
    let lock_key = shared.lock_key(key);
    let mut invocation = scripts::ACQUIRE.prepare_invoke();
    invocation
        .key(&lock_key)
        .key(shared.entry_key(key))
        .key(shared.gone_key(key))
        .arg(&token)
        .arg(millis(shared.lease));
    let answer: Vec<u64> = shared.run("lock", &invocation, &lock_key).await?;
    let (Some(1), Some(version)) = (answer.first().copied(), answer.get(1).copied()) else {
        return Ok(None);
    };
    let state = Arc::new(State::default());
    state.fence.store(version, Ordering::SeqCst);
    let renewal = tokio::runtime::Handle::try_current().ok().map(|runtime| {
        runtime
            .spawn(renew(
                Arc::clone(shared),
                key.clone(),
                token.clone(),
                Arc::clone(&state),
            ))
            .abort_handle()
    });
    if renewal.is_none() {
        tracing::warn!(%key, "the Redis lock was taken outside a Tokio runtime: its lease is not renewed");
    }
    Ok(Some(RedisLock {
        key: key.clone(),
        shared: Arc::clone(shared),
        token,
        state,
        renewal,
    }))
}

/// Takes `key`'s lock, waiting with jittered backoff up to the store's lock timeout.
pub(crate) async fn acquire(shared: &Arc<Shared>, key: &TokenKey) -> Result<RedisLock, StoreError> {
    let mut deadline = Deadline::new(&*shared.sleeper, shared.lock_timeout);
    let mut backoff = FIRST_BACKOFF;
    loop {
        if let Some(lock) = try_acquire(shared, key).await? {
            return Ok(lock);
        }
        if !deadline.pause(jittered(backoff)).await {
            return Err(StoreError::LockTimeout {
                key: key.clone(),
                waited: shared.lock_timeout.unwrap_or_default(),
            });
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Renews the lease every third of it until the guard is dropped, or the lock is lost.
async fn renew(shared: Arc<Shared>, key: TokenKey, token: String, state: Arc<State>) {
    let every = shared.lease / 3;
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(every).await;
        if state.paused.load(Ordering::SeqCst) {
            continue;
        }
        match renew_once(&shared, &key, &token).await {
            Ok(true) => {
                renewed = Instant::now();
                state.renewals.fetch_add(1, Ordering::SeqCst);
            }
            Ok(false) => {
                lose(&state, &key, "another holder has it, or its lease ran out");
                return;
            }
            Err(error) => {
                if renewed.elapsed() >= shared.lease {
                    lose(&state, &key, "no renewal reached Redis for a whole lease");
                    return;
                }
                tracing::debug!(%key, %error, "renewing the Redis lock's lease failed; trying again");
            }
        }
    }
}

fn lose(state: &State, key: &TokenKey, why: &str) {
    state.lost.store(true, Ordering::SeqCst);
    tracing::warn!(%key, "the Redis lock was lost ({why}): another holder may refresh now; this holder's saves are fenced");
}

async fn renew_once(shared: &Shared, key: &TokenKey, token: &str) -> Result<bool, StoreError> {
    let lock_key = shared.lock_key(key);
    let mut invocation = scripts::RENEW.prepare_invoke();
    invocation
        .key(&lock_key)
        .arg(token)
        .arg(millis(shared.lease));
    let renewed: i64 = shared.run("renew", &invocation, &lock_key).await?;
    Ok(renewed == 1)
}

impl RedisLock {
    /// The lease (renewed while this guard lives).
    pub fn lease(&self) -> Duration {
        self.shared.lease
    }

    /// The entry version the next fenced save must find: the one the last reload (or save)
    /// saw, or the one when the lock was taken; 0 for no entry.
    pub fn fence(&self) -> u64 {
        self.state.fence.load(Ordering::SeqCst)
    }

    /// How many renewals succeeded.
    pub fn renewals(&self) -> u64 {
        self.state.renewals.load(Ordering::SeqCst)
    }

    /// Renews the lease now: `true` while the lock is still this guard's, `false` (and the
    /// guard marked lost) when it is not.
    pub async fn renew_now(&self) -> Result<bool, StoreError> {
        let renewed = renew_once(&self.shared, &self.key, &self.token).await?;
        if !renewed {
            lose(
                &self.state,
                &self.key,
                "another holder has it, or its lease ran out",
            );
        }
        Ok(renewed)
    }

    /// Test hook: stop renewing the lease (as a process that stalls would), so that it runs
    /// out. The guard itself still works: its saves stay fenced.
    // Hidden: not part of the supported API (no semver promise); public only because the
    // integration tests of this crate and of frameio-auth-tests are other crates.
    #[doc(hidden)]
    pub fn pause_renewal(&self) {
        self.state.paused.store(true, Ordering::SeqCst);
    }

    /// Test hook: renew again after [`pause_renewal`](Self::pause_renewal).
    // Hidden, as `pause_renewal` is.
    #[doc(hidden)]
    pub fn resume_renewal(&self) {
        self.state.paused.store(false, Ordering::SeqCst);
    }
}

#[async_trait]
impl StoreLock for RedisLock {
    fn key(&self) -> &TokenKey {
        &self.key
    }

    /// Loads the entry, remembering its version for the next fenced save. `store` is not
    /// used: the guard reads through its own store's connection.
    async fn reload(&self, _store: &dyn TokenStore) -> Result<Option<TokenSet>, StoreError> {
        let raw = self.shared.load_raw(&self.key).await?;
        self.state.fence.store(raw.version(), Ordering::SeqCst);
        self.state
            .vanished
            .store(matches!(raw, Raw::Missing), Ordering::SeqCst);
        match raw {
            Raw::Found { data, .. } => self.shared.open(&self.key, &data).map(Some),
            Raw::Deleted { .. } | Raw::Missing => Ok(None),
        }
    }

    /// Saves only if the entry is still at the version this holder last saw
    /// ([`StoreError::Fenced`] otherwise), even when the lease lapsed meanwhile.
    async fn save_fenced(
        &self,
        _store: &dyn TokenStore,
        tokens: &TokenSet,
    ) -> Result<(), StoreError> {
        let fence = self.state.fence.load(Ordering::SeqCst);
        let version = self.shared.write(&self.key, tokens, Some(fence)).await?;
        self.state.fence.store(version, Ordering::SeqCst);
        Ok(())
    }

    /// Three quarters of the lease.
    fn work_budget(&self) -> Option<Duration> {
        Some(self.shared.lease.mul_f64(0.75))
    }

    fn is_lost(&self) -> bool {
        self.state.lost.load(Ordering::SeqCst)
    }

    fn entry_vanished(&self) -> bool {
        self.state.vanished.load(Ordering::SeqCst)
    }
}

impl Drop for RedisLock {
    fn drop(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // the lease ends it
        };
        let shared = Arc::clone(&self.shared);
        let lock_key = shared.lock_key(&self.key);
        let token = std::mem::take(&mut self.token);
        runtime.spawn(async move {
            let mut invocation = scripts::RELEASE.prepare_invoke();
            invocation.key(&lock_key).arg(&token);
            if let Err(error) = shared.run::<i64>("unlock", &invocation, &lock_key).await {
                tracing::debug!(%error, "releasing the Redis lock failed; its lease ends it");
            }
        });
    }
}
