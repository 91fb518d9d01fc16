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
    /// A directory or the lock file is not safe to use (another owner, a mode others can
    /// write, a symbolic link): the path and what is wrong, with the fix.
    Unsafe(PathBuf, String),
}

/// Where the lock files go, and which directory of ours must be private.
#[derive(Clone, Debug)]
pub(crate) struct Place {
    /// The directory of the lock files.
    pub(crate) dir: PathBuf,
    /// Set when `dir` is in a shared temporary directory: the first directory of ours under
    /// it (`frameio-auth-<user>`), which must belong to the effective user with mode 0700.
    pub(crate) private_root: Option<PathBuf>,
    /// The owner `private_root` must have; `None` means the effective user. (Tests inject
    /// another uid to simulate a directory planted by someone else.)
    pub(crate) owner: Option<u32>,
}

/// The effective user id.
#[cfg(unix)]
fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Creates `root` with mode 0700 unless it exists, then refuses it unless it is a real
/// directory (not a link) owned by `owner` with no group or other permission bit.
#[cfg(unix)]
fn ensure_private(root: &Path, owner: Option<u32>) -> Result<(), LockFailure> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match std::fs::DirBuilder::new().mode(0o700).create(root) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(LockFailure::Io(root.to_path_buf(), e)),
    }
    let metadata =
        std::fs::symlink_metadata(root).map_err(|e| LockFailure::Io(root.to_path_buf(), e))?;
    let owner = owner.unwrap_or_else(effective_uid);
    let mode = metadata.mode() & 0o777;
    let problem = if !metadata.file_type().is_dir() {
        "is not a directory (a symbolic link or a file)".to_owned()
    } else if metadata.uid() != owner {
        format!(
            "belongs to uid {}, not to this user (uid {owner})",
            metadata.uid()
        )
    } else if mode & 0o077 != 0 {
        format!("has mode {mode:03o}, not 0700")
    } else {
        return Ok(());
    };
    Err(LockFailure::Unsafe(
        root.to_path_buf(),
        format!(
            "the keyring lock directory in the shared temporary directory {problem}; another              user may have planted it. Remove it (or, if it is yours, `chmod 700` it), or set              XDG_RUNTIME_DIR or HOME so the locks live in a private directory, or give the              store a private `lock_dir`"
        ),
    ))
}

#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)]
fn ensure_private(_root: &Path, _owner: Option<u32>) -> Result<(), LockFailure> {
    // Windows: the temporary directory is per user.
    Ok(())
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

fn open(place: &Place, path: &Path) -> Result<File, LockFailure> {
    let dir = &place.dir;
    if let Some(root) = &place.private_root {
        ensure_private(root, place.owner)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        builder.mode(0o700);
        // Never through a symbolic link: a planted link would make us create its target.
        options
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits().cast_signed());
    }
    builder
        .create(dir)
        .map_err(|e| LockFailure::Io(dir.clone(), e))?;
    options.open(path).map_err(|e| {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            LockFailure::Unsafe(
                path.to_path_buf(),
                "the lock file is a symbolic link, which is never followed; another user may \
                 have planted it: remove it, or give the store a private `lock_dir`"
                    .to_owned(),
            )
        } else {
            LockFailure::Io(path.to_path_buf(), e)
        }
    })
}

/// Takes the in-process mutex for `name`, then the OS lock on `path`, before `timeout` runs
/// out on `sleeper`.
pub(crate) async fn acquire(
    mutexes: &Mutexes,
    name: &str,
    place: Place,
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
    let file = match crate::blocking(move || Ok(open(&place, &path))).await {
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
