//! Locks: a per-name in-process mutex, then an OS file lock on a lock file in the runtime
//! directory. (The file store has the same few lines; a shared crate would be a sideways
//! dependency between stores, see docs/storage.md.)

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use frameio_auth_core::{Deadline, Sleeper};
use sha2::{Digest, Sha256};
use tokio::sync::OwnedMutexGuard;

const FIRST_BACKOFF: Duration = Duration::from_millis(1);
const MAX_BACKOFF: Duration = Duration::from_millis(16);

type NamedMutex = Arc<tokio::sync::Mutex<()>>;

/// Per-name async mutexes, shared by a store's clones.
#[derive(Default)]
pub(crate) struct Mutexes {
    map: Mutex<HashMap<String, NamedMutex>>,
}

impl Mutexes {
    fn get(&self, name: &str) -> NamedMutex {
        // Each section is one map operation, consistent even if a panic interrupts it.
        let mut map: MutexGuard<'_, _> = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, mutex| Arc::strong_count(mutex) > 1);
        Arc::clone(map.entry(name.to_owned()).or_default())
    }
}

/// A held lock; dropping it releases the file lock, then the mutex.
#[derive(Debug)]
pub(crate) struct Held {
    file: File,
    _guard: OwnedMutexGuard<()>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Why a lock was not taken.
#[derive(Debug)]
pub(crate) enum LockFailure {
    /// The deadline passed.
    Timeout,
    /// The lock file could not be opened or locked.
    Io(PathBuf, io::Error),
}

/// The lock file for `name` in `dir`: a hash, so any name fits a file name.
pub(crate) fn lock_path(dir: &Path, service: &str, name: &str) -> PathBuf {
    let digest = Sha256::digest(format!("{service}\n{name}").as_bytes());
    let mut file = String::with_capacity(40);
    for b in &digest[..16] {
        file.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        file.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    file.push_str(".lock");
    dir.join(file)
}

fn open(dir: &Path, path: &Path) -> Result<File, LockFailure> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        builder.mode(0o700);
        options.mode(0o600);
    }
    builder
        .create(dir)
        .map_err(|e| LockFailure::Io(dir.to_path_buf(), e))?;
    options
        .open(path)
        .map_err(|e| LockFailure::Io(path.to_path_buf(), e))
}

/// Takes the in-process mutex for `name`, then the OS lock on `path`, before `timeout` runs
/// out on `sleeper`.
pub(crate) async fn acquire(
    mutexes: &Mutexes,
    name: &str,
    dir: PathBuf,
    path: PathBuf,
    timeout: Option<Duration>,
    sleeper: &dyn Sleeper,
) -> Result<Held, LockFailure> {
    // One limit for both waits, started by the first one that blocks.
    let mut deadline = Deadline::new(sleeper, timeout);
    let mutex = mutexes.get(name);
    let guard = match Arc::clone(&mutex).try_lock_owned() {
        Ok(guard) => guard,
        Err(_) => deadline
            .run(mutex.lock_owned())
            .await
            .ok_or(LockFailure::Timeout)?,
    };
    let file = match crate::blocking(move || Ok(open(&dir, &path))).await {
        Ok(opened) => opened?,
        Err(e) => {
            return Err(LockFailure::Io(
                PathBuf::new(),
                io::Error::other(e.to_string()),
            ));
        }
    };
    let mut backoff = FIRST_BACKOFF;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if !deadline.pause(backoff).await {
                    return Err(LockFailure::Timeout);
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(TryLockError::Error(e)) => return Err(LockFailure::Io(PathBuf::new(), e)),
        }
    }
    Ok(Held {
        file,
        _guard: guard,
    })
}
