//! The refresh lock: a per-key in-process mutex, then an OS file lock on the key's lock file.

use std::collections::HashMap;
use std::fs::{File, TryLockError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use frameio_auth_core::{Deadline, Sleeper, StoreError, StoreLock, TokenKey};
use tokio::sync::OwnedMutexGuard;

/// The first pause between two attempts at a contended file lock.
const FIRST_BACKOFF: Duration = Duration::from_millis(1);
/// The longest pause between two attempts: short next to a refresh, long enough not to spin.
const MAX_BACKOFF: Duration = Duration::from_millis(16);

type KeyMutex = Arc<tokio::sync::Mutex<()>>;

/// Per-key async mutexes for the callers of one store (and its clones).
#[derive(Default)]
pub(crate) struct KeyMutexes {
    map: Mutex<HashMap<TokenKey, KeyMutex>>,
}

fn acquire<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each section is one map operation, consistent even if interrupted by a panic.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl KeyMutexes {
    /// The mutex for `key`; mutexes nobody holds or waits for are pruned on the way.
    fn get(&self, key: &TokenKey) -> KeyMutex {
        let mut map = acquire(&self.map);
        map.retain(|_, mutex| Arc::strong_count(mutex) > 1);
        Arc::clone(map.entry(key.clone()).or_default())
    }
}

/// A held lock: the OS lock on the lock file, then the in-process mutex. Dropping it
/// releases both (the file lock first).
#[derive(Debug)]
pub(crate) struct FileLock {
    key: TokenKey,
    file: File,
    _guard: OwnedMutexGuard<()>,
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the file releases the lock anyway; unlocking first makes it immediate
        // even if the descriptor was inherited by a child process.
        let _ = self.file.unlock();
    }
}

impl StoreLock for FileLock {
    fn key(&self) -> &TokenKey {
        &self.key
    }
}

/// Takes `key`'s lock: first the in-process mutex, then the OS lock on `path`, both before
/// `timeout` (if any) runs out on `sleeper`. `open` opens (creating if needed) the lock file;
/// `location` names it in errors.
pub(crate) async fn lock<F>(
    mutexes: &KeyMutexes,
    key: &TokenKey,
    location: String,
    timeout: Option<Duration>,
    sleeper: &dyn Sleeper,
    open: F,
) -> Result<FileLock, StoreError>
where
    F: FnOnce() -> Result<File, StoreError> + Send + 'static,
{
    let timed_out = || StoreError::LockTimeout {
        key: key.clone(),
        waited: timeout.unwrap_or_default(),
    };
    // One limit for both waits; its timer starts with the first one that blocks, so an
    // uncontended lock needs no timer.
    let mut deadline = Deadline::new(sleeper, timeout);
    let mutex = mutexes.get(key);
    let guard = match Arc::clone(&mutex).try_lock_owned() {
        Ok(guard) => guard,
        Err(_) => deadline
            .run(mutex.lock_owned())
            .await
            .ok_or_else(timed_out)?,
    };
    let file = crate::blocking(open).await?;
    let mut backoff = FIRST_BACKOFF;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if !deadline.pause(backoff).await {
                    return Err(timed_out());
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(TryLockError::Error(source)) => {
                return Err(StoreError::Io { location, source });
            }
        }
    }
    Ok(FileLock {
        key: key.clone(),
        file,
        _guard: guard,
    })
}
