//! A crash-safe, cross-process file [`TokenStore`] for frameio-auth.
//!
//! [`FileStore`] keeps one file per [`TokenKey`] in one directory, in the versioned format of
//! `frameio-auth-core` (see `docs/token-format.md`, and `docs/storage.md` for this store).
//!
//! - **Location**: [`FileStore::builder`]`.dir(..)`, else `$FRAMEIO_AUTH_HOME/tokens`, else
//!   `tokens` in the platform's local data directory for `frameio-auth` (on Linux
//!   `~/.local/share/frameio-auth/tokens`); see [`FileStore::default_dir`].
//! - **Writes are atomic and durable**: a temporary file in the same directory is written and
//!   fsynced, renamed over the entry, and the directory is fsynced. A reader, or the next run
//!   after a crash, `kill -9` or power cut, sees the old set or the new one, never a mixture.
//! - **Permissions**: the directory is created 0700 and files 0600 (never loosened and fixed
//!   afterwards). A file or directory other users can access, or that another user owns, is
//!   refused with [`StoreError::Permission`], naming the path and the fix, as OpenSSH
//!   does; [`FileStoreBuilder::check_permissions`]`(false)` turns the check off. Entries and
//!   lock files are never opened through symbolic links, and only regular files are read
//!   (a FIFO never blocks `load`).
//! - **Locking**: [`lock`](TokenStore::lock) takes a per-key in-process mutex, then an OS
//!   file lock (`File::try_lock`) on the key's lock file, held until the guard drops, with a
//!   deadline ([`FileStore::DEFAULT_LOCK_TIMEOUT`]) timed by an injectable
//!   [`Sleeper`] ([`FileStoreBuilder::sleeper`]).
//! - **Bad files** (corrupt, truncated, foreign, unknown version) give
//!   [`StoreError::Corrupt`] naming the file, and are never deleted or overwritten: `save`
//!   refuses to replace them too. [`FileStore::quarantine`] moves one aside.
//!
//! File operations run on Tokio's blocking pool when a Tokio runtime is present (inline
//! otherwise); waiting for a contended lock needs Tokio's timer, unless the store was given
//! another [`Sleeper`].
//!
//! ```
//! use std::time::Duration;
//! use frameio_auth_core::{AccessToken, Lifetime, Timestamp, TokenKey, TokenSet, TokenStore};
//! use frameio_auth_store_file::FileStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let temp = tempfile::tempdir()?;
//! # let my_dir = temp.path().join("tokens");
//! let store = FileStore::builder().dir(&my_dir).build()?;
//! let key = TokenKey::builder("ims", "prod", "0123abcd").build()?;
//! let tokens = TokenSet::new(
//!     AccessToken::new("eyJhbGciOi..."),
//!     Timestamp::from_unix_secs(1_700_000_000),
//!     Lifetime::ExpiresIn(Duration::from_secs(86_399)),
//! );
//!
//! // The refresh section: lock, re-load, save, release.
//! let guard = store.lock(&key).await?;
//! assert_eq!(store.load(&key).await?, None);
//! store.save(&key, &tokens).await?;
//! drop(guard);
//!
//! assert_eq!(store.load(&key).await?, Some(tokens));
//! assert_eq!(store.keys().await?, vec![key.clone()]);
//! store.delete(&key).await?;
//! assert!(store.keys().await?.is_empty());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod fsio;
mod lock;
mod naming;

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use frameio_auth_core::{
    FormatError, Sleeper, StoreError, StoreLock, TokenKey, TokenSet, TokenStore,
};

use crate::naming::{ENTRY_SUFFIX, LOCK_SUFFIX, NameKind};

/// Runs blocking file work on Tokio's blocking pool when inside a Tokio runtime, else inline.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|e| StoreError::Backend {
                message: "a file store task failed".to_owned(),
                source: Some(Box::new(e)),
            })?,
        Err(_) => work(),
    }
}

/// Tokio's timer: the default [`Sleeper`] of the lock timeout.
#[derive(Debug)]
struct TokioTimer;

impl Sleeper for TokioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A [`TokenStore`] that keeps each token set in its own file in one directory.
///
/// Cheap to clone: clones share the directory and the in-process lock table. Separate stores
/// on the same directory (in this process or others) still exclude each other through the
/// OS file locks. `Debug` shows the configuration, never a token.
///
/// # Layout
///
/// For a key, the entry is `<name>.token` and its lock file `<name>.lock`. `<name>` is the
/// key's string form with every upper-case letter `X` written `^x` (so two keys never share
/// a name on a case-insensitive file system, and the name decodes back to the key), or,
/// when that would exceed 200 bytes, `sha256-` and the SHA-256 of the key string in hex.
/// Every entry also records its key in a `"key"` field, which `keys()` reads for hashed
/// names and `load` checks. Other files in the directory are ignored: temporary files
/// (`.<name>.<pid>-<n>.tmp`), lock files, quarantined files, anything else.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_store_file::FileStore;
///
/// let store = FileStore::builder()
///     .dir("/var/lib/my-service/tokens")
///     .lock_timeout(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(store.dir(), std::path::Path::new("/var/lib/my-service/tokens"));
/// assert_eq!(store.lock_timeout(), Some(Duration::from_secs(5)));
/// # Ok::<(), frameio_auth_core::StoreError>(())
/// ```
#[derive(Clone)]
pub struct FileStore {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    lock_timeout: Option<Duration>,
    sleeper: Arc<dyn Sleeper>,
    check_permissions: bool,
    /// The owner files and the directory must have; `None`: the effective user.
    owner: Option<u32>,
    mutexes: lock::KeyMutexes,
}

impl Shared {
    /// The owner to check files and the directory against, `None` when checks are off.
    fn check(&self) -> Option<u32> {
        self.check_permissions
            .then(|| self.owner.unwrap_or_else(fsio::effective_uid))
    }
}

impl FileStore {
    /// How long [`lock`](TokenStore::lock) waits by default before giving up with
    /// [`StoreError::LockTimeout`]: 30 seconds, as every store of frameio-auth.
    pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

    /// The environment variable that moves the default location: the store then uses
    /// `$FRAMEIO_AUTH_HOME/tokens`.
    pub const HOME_ENV: &'static str = "FRAMEIO_AUTH_HOME";

    /// A store in `dir`, with the default settings. Nothing is created until the first
    /// `save` or `lock`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::builder().build_in(dir.into())
    }

    /// A store in the [default directory](Self::default_dir), with the default settings.
    pub fn open_default() -> Result<Self, StoreError> {
        Self::builder().build()
    }

    /// Starts configuring a store.
    pub fn builder() -> FileStoreBuilder {
        FileStoreBuilder {
            dir: None,
            lock_timeout: Some(Self::DEFAULT_LOCK_TIMEOUT),
            sleeper: Arc::new(TokioTimer),
            check_permissions: true,
            owner: None,
        }
    }

    /// Where a store built without `.dir(..)` keeps its files: `$FRAMEIO_AUTH_HOME/tokens`
    /// when that variable is set and not empty, else `tokens` in the platform's local data
    /// directory for `frameio-auth` (the `directories` crate: `~/.local/share/frameio-auth`
    /// on Linux, `~/Library/Application Support/frameio-auth` on macOS,
    /// `%LOCALAPPDATA%\frameio-auth\data` on Windows, where roaming profiles should not
    /// copy single-use refresh tokens between machines).
    pub fn default_dir() -> Result<PathBuf, StoreError> {
        Self::default_dir_from(std::env::var_os(Self::HOME_ENV))
    }

    fn default_dir_from(home: Option<std::ffi::OsString>) -> Result<PathBuf, StoreError> {
        if let Some(home) = home.filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(home).join("tokens"));
        }
        directories::ProjectDirs::from("", "", "frameio-auth")
            .map(|dirs| dirs.data_local_dir().join("tokens"))
            .ok_or_else(|| StoreError::Unavailable {
                backend: "file",
                message: format!(
                    "no home directory was found to keep tokens in; set {} to a private \
                     directory, or configure the store's directory explicitly",
                    Self::HOME_ENV
                ),
            })
    }

    /// The directory holding the entries.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// How long `lock` waits before giving up; `None` waits indefinitely.
    pub fn lock_timeout(&self) -> Option<Duration> {
        self.shared.lock_timeout
    }

    /// Whether files and the directory that other users can access are refused.
    pub fn checks_permissions(&self) -> bool {
        self.shared.check_permissions
    }

    /// The file that holds (or would hold) `key`'s entry.
    pub fn entry_path(&self, key: &TokenKey) -> PathBuf {
        self.shared
            .dir
            .join(format!("{}{ENTRY_SUFFIX}", naming::stem(key)))
    }

    fn lock_path(&self, key: &TokenKey) -> PathBuf {
        self.shared
            .dir
            .join(format!("{}{LOCK_SUFFIX}", naming::stem(key)))
    }

    /// Moves `key`'s entry file aside, whatever its content, so that a new login can be
    /// saved: it is renamed to `<name>.corrupt-<unix milliseconds>` in the same directory,
    /// where it stays for inspection (no store ever reads or deletes it). Returns the new
    /// path, or `None` when there was no entry.
    ///
    /// Use it after [`StoreError::Corrupt`]: a store never deletes or overwrites an
    /// unreadable entry by itself (it may be a newer release's format, or a user's file).
    ///
    /// ```
    /// # use frameio_auth_core::{AccessToken, Lifetime, StoreError, Timestamp, TokenKey, TokenSet, TokenStore};
    /// # use frameio_auth_store_file::FileStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let temp = tempfile::tempdir()?;
    /// let store = FileStore::new(temp.path().join("tokens"));
    /// let key = TokenKey::builder("ims", "prod", "client").build()?;
    /// # let tokens = TokenSet::new(AccessToken::new("a"), Timestamp::from_unix_secs(1), Lifetime::Never);
    /// # store.save(&key, &tokens).await?;
    /// # std::fs::write(store.entry_path(&key), "{\"format\":")?; // truncated
    /// match store.load(&key).await {
    ///     Err(StoreError::Corrupt { .. }) => {
    ///         let moved = store.quarantine(&key).await?;
    ///         assert!(moved.is_some());
    ///         assert_eq!(store.load(&key).await?, None); // a new login can be saved
    ///     }
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn quarantine(&self, key: &TokenKey) -> Result<Option<PathBuf>, StoreError> {
        let dir = self.shared.dir.clone();
        let path = self.entry_path(key);
        let stem = naming::stem(key);
        blocking(move || fsio::quarantine(&dir, &path, &stem)).await
    }
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.shared.dir)
            .field("lock_timeout", &self.shared.lock_timeout)
            .field("sleeper", &self.shared.sleeper)
            .field("check_permissions", &self.shared.check_permissions)
            .finish_non_exhaustive()
    }
}

/// Configures a [`FileStore`]; see [`FileStore::builder`].
#[derive(Clone, Debug)]
pub struct FileStoreBuilder {
    dir: Option<PathBuf>,
    lock_timeout: Option<Duration>,
    sleeper: Arc<dyn Sleeper>,
    check_permissions: bool,
    owner: Option<u32>,
}

impl FileStoreBuilder {
    /// Keeps the entries in `dir` (created 0700 on first use) instead of the
    /// [default directory](FileStore::default_dir).
    #[must_use]
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Gives up waiting for a lock after `timeout`, with [`StoreError::LockTimeout`].
    /// Default: [`FileStore::DEFAULT_LOCK_TIMEOUT`].
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// Waits for a lock as long as it takes (a stuck holder then blocks its waiters).
    #[must_use]
    pub fn wait_indefinitely(mut self) -> Self {
        self.lock_timeout = None;
        self
    }

    /// What the lock timeout, and the pauses between attempts at a file lock another process
    /// holds, sleep on. Default: Tokio's timer.
    ///
    /// Give tests a `ManualClock`'s `paused_sleeper()`: a contended lock then gives up
    /// exactly when the test moves the clock past the timeout, with no wall time spent.
    ///
    /// ```
    /// use frameio_auth_core::ManualClock;
    /// use frameio_auth_store_file::FileStore;
    ///
    /// let clock = ManualClock::default();
    /// let store = FileStore::builder()
    ///     .dir("/var/lib/my-service/tokens")
    ///     .sleeper(clock.paused_sleeper())
    ///     .build()?;
    /// # let _ = store;
    /// # Ok::<(), frameio_auth_core::StoreError>(())
    /// ```
    #[must_use]
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// Whether to refuse (with [`StoreError::Permission`]) entry files and a directory that
    /// other users can access, i.e. with any group or other permission bit, or that another
    /// user owns (Unix; the owner must be the effective user).
    /// Default: `true`. Turn it off only where the directory is protected otherwise (for
    /// example a container volume whose mode a platform forces to 0770).
    #[must_use]
    pub fn check_permissions(mut self, check: bool) -> Self {
        self.check_permissions = check;
        self
    }

    /// Checks that files and the directory belong to `uid` instead of the effective user.
    /// For tests that simulate a file planted by another user.
    #[doc(hidden)]
    #[must_use]
    pub fn expected_owner_uid(mut self, uid: u32) -> Self {
        self.owner = Some(uid);
        self
    }

    /// Builds the store. Fails only when no directory was given and no default can be
    /// found (no home directory). Touches nothing on disk.
    pub fn build(self) -> Result<FileStore, StoreError> {
        let dir = match self.dir.clone() {
            Some(dir) => dir,
            None => FileStore::default_dir()?,
        };
        Ok(self.build_in(dir))
    }

    fn build_in(self, dir: PathBuf) -> FileStore {
        FileStore {
            shared: Arc::new(Shared {
                dir,
                lock_timeout: self.lock_timeout,
                sleeper: self.sleeper,
                check_permissions: self.check_permissions,
                owner: self.owner,
                mutexes: lock::KeyMutexes::default(),
            }),
        }
    }
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
        let dir = self.shared.dir.clone();
        let check = self.shared.check();
        let path = self.entry_path(key);
        let key = key.clone();
        blocking(move || {
            if !fsio::check_dir(&dir, check)? {
                return Ok(None);
            }
            match fsio::read_entry(&path, check)? {
                None => Ok(None),
                Some(bytes) => fsio::parse_entry(&path, &bytes, &key).map(Some),
            }
        })
        .await
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
        let json = tokens
            .to_stored_json()
            .map_err(StoreError::cannot_serialize)?;
        let bytes = fsio::entry_bytes(&json, key);
        drop(json);
        let dir = self.shared.dir.clone();
        let check = self.shared.check();
        let path = self.entry_path(key);
        let stem = naming::stem(key);
        let key = key.clone();
        blocking(move || {
            fsio::ensure_dir(&dir, check)?;
            // Never replace an entry we cannot read: it may be a newer release's format or
            // someone's file. The error says to quarantine it first.
            if let Some(existing) = fsio::read_entry(&path, check)? {
                fsio::parse_entry(&path, &existing, &key)?;
            }
            fsio::write_atomic(&dir, &path, &stem, &bytes)
        })
        .await
    }

    async fn delete(&self, key: &TokenKey) -> Result<(), StoreError> {
        let dir = self.shared.dir.clone();
        let check = self.shared.check();
        let path = self.entry_path(key);
        blocking(move || {
            if !fsio::check_dir(&dir, check)? {
                return Ok(());
            }
            fsio::remove(&dir, &path)
        })
        .await
    }

    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        let dir = self.shared.dir.clone();
        let check = self.shared.check();
        blocking(move || list_keys(&dir, check)).await
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
        let dir = self.shared.dir.clone();
        let check = self.shared.check();
        let path = self.lock_path(key);
        let location = fsio::location(&path);
        let guard = lock::lock(
            &self.shared.mutexes,
            key,
            location,
            self.shared.lock_timeout,
            &*self.shared.sleeper,
            move || {
                fsio::ensure_dir(&dir, check)?;
                fsio::open_lock_file(&path)
            },
        )
        .await?;
        Ok(Box::new(guard))
    }
}

fn list_keys(dir: &Path, check: Option<u32>) -> Result<Vec<TokenKey>, StoreError> {
    if !fsio::check_dir(dir, check)? {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| fsio::io_error(dir, e))?;
    let mut keys = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| fsio::io_error(dir, e))?;
        let name = entry.file_name();
        let Some(kind) = name.to_str().and_then(naming::parse_entry_name) else {
            continue;
        };
        match kind {
            NameKind::Readable(key) => keys.push(key),
            NameKind::Hashed => {
                let path = entry.path();
                // Removed since it was listed: not an entry any more.
                let Some(bytes) = fsio::read_entry(&path, check)? else {
                    continue;
                };
                let key = fsio::recorded_key(&path, &bytes)?
                    .filter(|key| path.file_name() == Some(entry_name(key).as_ref()))
                    .ok_or_else(|| StoreError::Corrupt {
                        location: fsio::location(&path),
                        reason: FormatError::Invalid {
                            reason: "a hashed entry file must record the key its name was \
                                     made from in its `key` field"
                                .to_owned(),
                        },
                    })?;
                keys.push(key);
            }
        }
    }
    keys.sort_unstable();
    Ok(keys)
}

fn entry_name(key: &TokenKey) -> String {
    format!("{}{ENTRY_SUFFIX}", naming::stem(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_configuration_only() {
        let store = FileStore::new("/tmp/x");
        let shown = format!("{store:?}");
        assert!(
            shown.contains("/tmp/x") && shown.contains("lock_timeout"),
            "{shown}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_entry_file_of_another_owner_is_refused_in_a_directory_of_ours() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("entry.json");
        std::fs::write(&path, b"{}").unwrap();
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
        std::fs::set_permissions(&path, permissions).unwrap();
        let me = fsio::effective_uid();
        assert!(fsio::read_entry(&path, Some(me)).unwrap().is_some());
        let err = fsio::read_entry(&path, Some(me.wrapping_add(1))).unwrap_err();
        assert!(
            matches!(&err, StoreError::Permission { message, .. } if message.contains("belongs to uid")),
            "{err:?}"
        );
        // Checks off: read.
        assert!(fsio::read_entry(&path, None).unwrap().is_some());
    }

    #[test]
    fn home_env_moves_the_default_dir() {
        let dir = FileStore::default_dir_from(Some("/srv/fa".into())).unwrap();
        assert_eq!(dir, PathBuf::from("/srv/fa/tokens"));
        // Empty counts as unset.
        let default = FileStore::default_dir_from(Some("".into())).unwrap();
        assert!(
            default.ends_with("frameio-auth/tokens"),
            "{}",
            default.display()
        );
        assert_eq!(default, FileStore::default_dir_from(None).unwrap());
    }
}
