//! An OS keyring [`TokenStore`] for frameio-auth: the Secret Service on Linux and the BSDs
//! (GNOME Keyring, `KWallet`, `KeePassXC`), the macOS Keychain, the Windows Credential Manager.
//!
//! Built on `keyring-core` 1.x (the API of keyring 4.x) and one store crate per platform:
//! `zbus-secret-service-keyring-store` (pure Rust D-Bus, no system library),
//! `apple-native-keyring-store` and `windows-native-keyring-store`. See `docs/storage.md`
//! for why keyring 4.x and not 3.6 (whose default on Linux silently keeps nothing).
//!
//! - **Items**: service [`KeyringStore::DEFAULT_SERVICE`] (`frameio-auth`, configurable),
//!   account = the [`TokenKey`] string, secret = the versioned JSON of `frameio-auth-core`,
//!   stored with the binary-secret API.
//! - **Chunking**: a value above the [chunk size](KeyringStoreBuilder::chunk_size) (default
//!   2048 bytes; the Windows Credential Manager caps a secret at 2560) is split into chunk
//!   items under a small header item that carries the length and SHA-256 of the whole. A
//!   missing or mismatched chunk is a [`StoreError::Corrupt`] naming the item, never half a
//!   token. Deleting an entry deletes all its chunks.
//! - **Listing**: OS keychains cannot list by prefix, so [`keys`](TokenStore::keys) reads
//!   an index item (account `#index`) that `save` and `delete` keep up to date (`save`
//!   lists the key before writing it, so a crash never loses a saved key).
//! - **Unreadable entries**: `save` never overwrites an entry it cannot read (damaged,
//!   missing chunk, unknown version, not ours), nor deletes its chunks: it returns
//!   [`StoreError::Corrupt`]; [`delete`](TokenStore::delete) removes it.
//! - **Locking**: [`lock`](TokenStore::lock) takes a per-key in-process mutex, then an OS
//!   file lock on a lock file in the user's runtime directory (`$XDG_RUNTIME_DIR` on
//!   Linux) or local data directory, so other processes are excluded too (see
//!   [`KeyringStore::default_lock_dir`]; lock files are never opened through links). The
//!   wait gives up after [`KeyringStore::DEFAULT_LOCK_TIMEOUT`], timed by an injectable
//!   [`Sleeper`] ([`KeyringStoreBuilder::sleeper`]; Tokio's timer by default).
//! - **No keyring**: [`KeyringStore::new`] fails with [`StoreError::Unavailable`] whose
//!   message says how to start a Secret Service or switch to the file store.
//!
//! Every keyring call runs on Tokio's blocking pool (inline outside a Tokio runtime).
//!
//! ```no_run
//! use frameio_auth_core::{AccessToken, Lifetime, StoreError, Timestamp, TokenKey, TokenSet, TokenStore};
//! use frameio_auth_store_keyring::KeyringStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = match KeyringStore::new() {
//!     Ok(store) => store,
//!     Err(StoreError::Unavailable { message, .. }) => {
//!         eprintln!("{message}"); // says how to start a keyring, or use the file store
//!         return Ok(());
//!     }
//!     Err(other) => return Err(other.into()),
//! };
//! let key = TokenKey::builder("ims", "prod", "0123abcd").build()?;
//! let tokens = TokenSet::new(AccessToken::new("eyJ..."), Timestamp::from_unix_secs(1), Lifetime::Never);
//! let guard = store.lock(&key).await?;
//! store.save(&key, &tokens).await?;
//! drop(guard);
//! assert_eq!(store.load(&key).await?, Some(tokens));
//! store.delete(&key).await?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod chunk;
mod lock;

use std::fmt;
use std::fmt::Write as _;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use frameio_auth_core::{
    ClientSecret, FormatError, Sleeper, StoreError, StoreLock, TokenKey, TokenSet, TokenStore,
};
pub use keyring_core;
use keyring_core::CredentialStore;
use zeroize::Zeroizing;

use crate::chunk::{Header, Stored};

/// The `backend` name in this crate's errors.
const BACKEND: &str = "keyring";
/// The account of the index item. `#` never occurs in a key's string form.
const INDEX_ACCOUNT: &str = "#index";
/// The index's format marker.
const INDEX_FORMAT: &str = "frameio-auth.keyring-index";
/// How often a read starts over when a writer replaces the value under it.
const READ_ATTEMPTS: usize = 5;
/// How often one keyring call is tried when the platform fails.
const PLATFORM_ATTEMPTS: usize = 3;
/// The pause before the first retry (then 4 times longer).
const PLATFORM_RETRY_PAUSE: Duration = Duration::from_millis(10);

/// Runs blocking keyring work on Tokio's blocking pool when inside a Tokio runtime.
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
                message: "a keyring task failed".to_owned(),
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

/// What to do when no keyring is reachable; appended to every `Unavailable` message.
const HOW_TO_FIX: &str = "start a Secret Service: log in to a desktop session (GNOME Keyring \
     or KWallet unlock with it), or on a headless machine run your program inside a D-Bus \
     session with an unlocked keyring, e.g. `dbus-run-session -- sh -c 'printf %s \"$PASSWORD\" \
     | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec YOUR_COMMAND'` \
     (Debian/Ubuntu packages `dbus` and `gnome-keyring`); or keep tokens in files instead with \
     the file store (crate frameio-auth-store-file)";

fn unavailable(what: &str, error: &keyring_core::Error) -> StoreError {
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .map_or_else(|_| "not set".to_owned(), |v| format!("{v:?}"));
    StoreError::Unavailable {
        backend: BACKEND,
        message: format!(
            "no OS keyring is available ({what}: {}; DBUS_SESSION_BUS_ADDRESS {bus}); {HOW_TO_FIX}",
            describe(error)
        ),
    }
}

/// Describes a keyring error without the secret bytes some variants carry.
fn describe(error: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match error {
        E::PlatformFailure(e) => format!("platform failure: {e}"),
        E::NoStorageAccess(e) => format!("no access to the keyring (locked?): {e}"),
        E::NoEntry => "no such item".to_owned(),
        E::BadEncoding(_) | E::BadDataFormat(..) => "the item's data is malformed".to_owned(),
        E::BadStoreFormat(m) => format!("the keyring is malformed: {m}"),
        E::TooLong(attr, limit) => format!("{attr} is longer than the platform limit {limit}"),
        E::Invalid(attr, why) => format!("invalid {attr}: {why}"),
        E::Ambiguous(entries) => format!("{} items match where one was expected", entries.len()),
        E::NoDefaultStore => "no default credential store".to_owned(),
        E::NotSupportedByStore(m) => format!("not supported by this keyring: {m}"),
        _ => "unknown keyring error".to_owned(),
    }
}

/// The platform's keyring, connected.
fn platform_store() -> Result<Arc<CredentialStore>, StoreError> {
    #[cfg(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    ))]
    {
        match zbus_secret_service_keyring_store::Store::new() {
            Ok(store) => Ok(store),
            Err(e) => Err(unavailable("cannot reach a Secret Service over D-Bus", &e)),
        }
    }
    #[cfg(target_os = "macos")]
    {
        match apple_native_keyring_store::keychain::Store::new() {
            Ok(store) => Ok(store),
            Err(e) => Err(unavailable("cannot open the macOS Keychain", &e)),
        }
    }
    #[cfg(target_os = "windows")]
    {
        match windows_native_keyring_store::Store::new() {
            Ok(store) => Ok(store),
            Err(e) => Err(unavailable(
                "cannot open the Windows Credential Manager",
                &e,
            )),
        }
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly",
        target_os = "macos",
        target_os = "windows"
    )))]
    {
        Err(StoreError::Unavailable {
            backend: BACKEND,
            message: "frameio-auth knows no OS keyring on this platform; use the file store \
                      (crate frameio-auth-store-file)"
                .to_owned(),
        })
    }
}

/// One keyring service: get, set and delete items by account.
struct Items {
    store: Arc<CredentialStore>,
    service: String,
}

impl Items {
    fn location(&self, account: &str) -> String {
        format!(
            "keyring item (service {:?}, account {account:?})",
            self.service
        )
    }

    fn error(&self, account: &str, error: keyring_core::Error) -> StoreError {
        use keyring_core::Error as E;
        let location = self.location(account);
        match error {
            E::NoStorageAccess(_) => unavailable(&format!("cannot access {location}"), &error),
            E::BadEncoding(_) | E::BadDataFormat(..) => StoreError::Corrupt {
                location,
                reason: FormatError::Invalid {
                    reason: describe(&error),
                },
            },
            E::PlatformFailure(source) => StoreError::Backend {
                message: format!("the keyring failed on {location}: {source}"),
                source: Some(source),
            },
            other => StoreError::Backend {
                message: format!("the keyring failed on {location}: {}", describe(&other)),
                source: None,
            },
        }
    }

    /// Runs one item operation, again after a short pause when the platform fails: under
    /// concurrent creates and deletes GNOME Keyring sometimes answers with an object that
    /// vanished meanwhile. Every operation here is idempotent.
    fn retry<T>(
        &self,
        account: &str,
        operation: impl Fn(&keyring_core::Entry) -> keyring_core::Result<T>,
    ) -> keyring_core::Result<T> {
        let entry = self.store.build(&self.service, account, None)?;
        let mut pause = PLATFORM_RETRY_PAUSE;
        for _ in 1..PLATFORM_ATTEMPTS {
            match operation(&entry) {
                Err(keyring_core::Error::PlatformFailure(_)) => {
                    std::thread::sleep(pause);
                    pause *= 4;
                }
                other => return other,
            }
        }
        operation(&entry)
    }

    fn get(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        match self.retry(account, keyring_core::Entry::get_secret) {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.error(account, e)),
        }
    }

    fn set(&self, account: &str, value: &[u8]) -> Result<(), StoreError> {
        self.retry(account, |entry| entry.set_secret(value))
            .map_err(|e| self.error(account, e))
    }

    fn delete(&self, account: &str) -> Result<(), StoreError> {
        match self.retry(account, keyring_core::Entry::delete_credential) {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(self.error(account, e)),
        }
    }

    /// Reads a whole value, assembling chunks; `None` when there is no main item.
    fn read_value(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        let mut problem = None;
        for _ in 0..READ_ATTEMPTS {
            let Some(main) = self.get(account)? else {
                return Ok(None);
            };
            let header_bytes = Zeroizing::new(main.to_vec());
            let header = match chunk::classify(main) {
                Ok(Stored::Inline(value)) => return Ok(Some(value)),
                Ok(Stored::Chunked(header)) => header,
                Err(reason) => {
                    return Err(StoreError::Corrupt {
                        location: self.location(account),
                        reason,
                    });
                }
            };
            match self.read_chunks(account, &header)? {
                Ok(value) => return Ok(Some(value)),
                Err(reason) => {
                    // A writer may have replaced the value meanwhile: start over if the
                    // header changed, else the entry is damaged.
                    let now = self.get(account)?;
                    if now.as_deref().map(Vec::as_slice) == Some(header_bytes.as_slice()) {
                        return Err(StoreError::Corrupt {
                            location: self.location(account),
                            reason,
                        });
                    }
                    problem = Some(reason);
                }
            }
        }
        Err(StoreError::Corrupt {
            location: self.location(account),
            reason: problem.unwrap_or(FormatError::Invalid {
                reason: "the entry kept changing while it was read".to_owned(),
            }),
        })
    }

    fn read_chunks(
        &self,
        account: &str,
        header: &Header,
    ) -> Result<Result<Zeroizing<Vec<u8>>, FormatError>, StoreError> {
        let mut value = Zeroizing::new(Vec::with_capacity(header.total_len));
        for index in 0..header.count {
            let name = chunk::chunk_account(account, &header.generation, index);
            let Some(part) = self.get(&name)? else {
                return Ok(Err(FormatError::Invalid {
                    reason: format!(
                        "chunk {} of {} ({name}) is missing",
                        index + 1,
                        header.count
                    ),
                }));
            };
            if value.len() + part.len() > header.total_len {
                return Ok(Err(FormatError::Invalid {
                    reason: "the chunks are longer than the header says".to_owned(),
                }));
            }
            value.extend_from_slice(&part);
        }
        Ok(header.verify(&value).map(|()| value))
    }

    /// Replaces a value: new chunks (new generation), then the main item, then the old
    /// generation's chunks are deleted.
    fn write_value(
        &self,
        account: &str,
        value: &[u8],
        chunk_size: usize,
    ) -> Result<(), StoreError> {
        let old = match self.get(account)? {
            Some(bytes) => chunk::classify(bytes).ok(),
            None => None,
        };
        if value.len() > chunk::MAX_VALUE_LEN {
            return Err(StoreError::Backend {
                message: format!(
                    "cannot store {} bytes in {}: the limit is {} bytes",
                    value.len(),
                    self.location(account),
                    chunk::MAX_VALUE_LEN
                ),
                source: None,
            });
        }
        if value.len() <= chunk_size {
            self.set(account, value)?;
        } else {
            let header = Header::new(value, chunk_size, generation());
            let mut written = 0;
            let result = value
                .chunks(chunk_size)
                .enumerate()
                .try_for_each(|(index, part)| {
                    self.set(
                        &chunk::chunk_account(account, &header.generation, index),
                        part,
                    )?;
                    written += 1;
                    Ok(())
                })
                .and_then(|()| self.set(account, &header.render()));
            if let Err(e) = result {
                for index in 0..written {
                    let _ = self.delete(&chunk::chunk_account(account, &header.generation, index));
                }
                return Err(e);
            }
        }
        if let Some(Stored::Chunked(old)) = old {
            self.delete_chunks(account, &old);
        }
        Ok(())
    }

    /// Fails with `Corrupt` when `account` holds an entry this release cannot read (a
    /// damaged or missing chunk, a bad header, an unknown version, not ours): such an entry
    /// is never overwritten, nor are its chunks deleted; the error says to delete it first.
    fn check_replaceable(&self, account: &str) -> Result<(), StoreError> {
        let Some(old) = self.read_value(account)? else {
            return Ok(());
        };
        match TokenSet::from_stored_json(&old) {
            Ok(_) => Ok(()),
            Err(reason) => Err(StoreError::Corrupt {
                location: self.location(account),
                reason,
            }),
        }
    }

    /// Best effort: a chunk left behind is invisible and harmless.
    fn delete_chunks(&self, account: &str, header: &Header) {
        for index in 0..header.count {
            let _ = self.delete(&chunk::chunk_account(account, &header.generation, index));
        }
    }

    /// Deletes the main item first (readers see "absent" at once), then every chunk.
    fn delete_value(&self, account: &str) -> Result<(), StoreError> {
        let old = self.get(account)?.and_then(|b| chunk::classify(b).ok());
        self.delete(account)?;
        if let Some(Stored::Chunked(old)) = old {
            for index in 0..old.count {
                self.delete(&chunk::chunk_account(account, &old.generation, index))?;
            }
        }
        Ok(())
    }

    fn exists(&self, account: &str) -> Result<bool, StoreError> {
        self.get(account).map(|v| v.is_some())
    }

    fn read_index(&self) -> Result<Vec<String>, StoreError> {
        let Some(bytes) = self.read_value(INDEX_ACCOUNT)? else {
            return Ok(Vec::new());
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            location: self.location(INDEX_ACCOUNT),
            reason: FormatError::Invalid { reason },
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("not JSON ({e})")))?;
        if value.get("format").and_then(serde_json::Value::as_str) != Some(INDEX_FORMAT) {
            return Err(StoreError::Corrupt {
                location: self.location(INDEX_ACCOUNT),
                reason: FormatError::Foreign,
            });
        }
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(1) => {}
            Some(found) => {
                return Err(StoreError::Corrupt {
                    location: self.location(INDEX_ACCOUNT),
                    reason: FormatError::UnsupportedVersion { found },
                });
            }
            None => return Err(corrupt("no version".to_owned())),
        }
        let keys = value
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| corrupt("no `keys` list".to_owned()))?;
        keys.iter()
            .map(|k| {
                k.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| corrupt("a key is not a string".to_owned()))
            })
            .collect()
    }

    fn write_index(&self, keys: &[String], chunk_size: usize) -> Result<(), StoreError> {
        let value = serde_json::json!({ "format": INDEX_FORMAT, "version": 1, "keys": keys });
        self.write_value(INDEX_ACCOUNT, value.to_string().as_bytes(), chunk_size)
    }
}

/// A random generation id for a chunked write (hex).
fn generation() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // Unique enough without the OS generator: the id only has to differ from the
        // previous generation of the same entry.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let low = u64::try_from(nanos & u128::from(u64::MAX)).unwrap_or_default();
        bytes = (low ^ u64::from(std::process::id()).rotate_left(40)).to_le_bytes();
    }
    let mut out = String::with_capacity(16);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A [`TokenStore`] in the OS keyring.
///
/// Cheap to clone: clones share the connection and the in-process locks. `Debug` shows the
/// configuration, never a token.
#[derive(Clone)]
pub struct KeyringStore {
    shared: Arc<Shared>,
}

struct Shared {
    items: Items,
    chunk_size: usize,
    lock_place: lock::Place,
    lock_timeout: Option<Duration>,
    sleeper: Arc<dyn Sleeper>,
    mutexes: lock::Mutexes,
}

impl KeyringStore {
    /// The keyring service name used unless configured otherwise.
    pub const DEFAULT_SERVICE: &'static str = "frameio-auth";
    /// The largest value kept in one item by default: under the Windows Credential
    /// Manager's 2560-byte cap, and a typical IMS token set (3–5 KB) takes 2–3 chunks.
    pub const DEFAULT_CHUNK_SIZE: usize = 2048;
    /// The smallest chunk size accepted; smaller values are raised to it.
    pub const MIN_CHUNK_SIZE: usize = 128;
    /// How long [`lock`](TokenStore::lock) waits by default: 30 seconds, as every store of
    /// frameio-auth.
    pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

    /// Connects to the platform's keyring with the default settings.
    ///
    /// Fails with [`StoreError::Unavailable`] when there is none (on Linux: no D-Bus
    /// session, or no Secret Service on it); the message says how to start one or to use
    /// the file store instead.
    pub fn new() -> Result<Self, StoreError> {
        Self::builder().build()
    }

    /// Starts configuring a store.
    pub fn builder() -> KeyringStoreBuilder {
        KeyringStoreBuilder {
            service: Self::DEFAULT_SERVICE.to_owned(),
            chunk_size: Self::DEFAULT_CHUNK_SIZE,
            lock_dir: None,
            shared_temp: None,
            lock_timeout: Some(Self::DEFAULT_LOCK_TIMEOUT),
            sleeper: Arc::new(TokioTimer),
            credential_store: None,
        }
    }

    /// Reads a secret that a person or a tool keeps in this store's service under `account`
    /// (a profile's `secret_keyring`, for example): the item's value as text, `None` when
    /// there is no such item. A blocking keyring call.
    ///
    /// ```
    /// use frameio_auth_core::ClientSecret;
    /// use frameio_auth_store_keyring::KeyringStore;
    ///
    /// let store = KeyringStore::builder()
    ///     .credential_store(keyring_core::mock::Store::new().unwrap())
    ///     .lock_dir(std::env::temp_dir())
    ///     .build()?;
    /// assert!(store.read_secret("work-secret")?.is_none());
    /// store.write_secret("work-secret", &ClientSecret::new("s3cr3t"))?;
    /// let secret = store.read_secret("work-secret")?.unwrap();
    /// assert_eq!(secret.expose_secret(), "s3cr3t");
    /// # Ok::<(), frameio_auth_core::StoreError>(())
    /// ```
    pub fn read_secret(&self, account: &str) -> Result<Option<ClientSecret>, StoreError> {
        let items = &self.shared.items;
        let Some(bytes) = items.get(account)? else {
            return Ok(None);
        };
        match std::str::from_utf8(&bytes) {
            Ok(text) => Ok(Some(ClientSecret::new(text))),
            Err(_) => Err(StoreError::Corrupt {
                location: items.location(account),
                reason: FormatError::Invalid {
                    reason: "the secret is not UTF-8 text".to_owned(),
                },
            }),
        }
    }

    /// Keeps `secret` in this store's service under `account`, for
    /// [`read_secret`](Self::read_secret). A blocking keyring call.
    pub fn write_secret(&self, account: &str, secret: &ClientSecret) -> Result<(), StoreError> {
        self.shared
            .items
            .set(account, secret.expose_secret().as_bytes())
    }

    /// The keyring service name of every item.
    pub fn service(&self) -> &str {
        &self.shared.items.service
    }

    /// Values longer than this are split into chunks.
    pub fn chunk_size(&self) -> usize {
        self.shared.chunk_size
    }

    /// Where the cross-process lock files are.
    pub fn lock_dir(&self) -> &Path {
        &self.shared.lock_place.dir
    }

    /// How long `lock` waits before giving up; `None` waits indefinitely.
    pub fn lock_timeout(&self) -> Option<Duration> {
        self.shared.lock_timeout
    }

    /// The default lock directory: `frameio-auth/keyring-locks` in the user's runtime
    /// directory (`$XDG_RUNTIME_DIR`: per user, private, emptied at logout) where the platform
    /// has one, else in the user's local data directory. Only when neither is known (no
    /// home directory) is it `frameio-auth-<user>/frameio-auth/keyring-locks` in the shared
    /// temporary directory; `frameio-auth-<user>` is then created with mode 0700, and `lock`
    /// refuses it with [`StoreError::Permission`] unless it belongs to the effective user
    /// with mode 0700.
    pub fn default_lock_dir() -> PathBuf {
        Self::default_lock_place().dir
    }

    fn default_lock_place() -> lock::Place {
        let dirs = directories::BaseDirs::new();
        let private = dirs.as_ref().map(|dirs| {
            dirs.runtime_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .to_path_buf()
        });
        match private {
            Some(base) => lock::Place {
                dir: base.join("frameio-auth").join("keyring-locks"),
                private_root: None,
                owner: None,
            },
            None => Self::shared_temp_place(&std::env::temp_dir(), None),
        }
    }

    /// The lock place in the shared temporary directory `temp`.
    fn shared_temp_place(temp: &Path, owner: Option<u32>) -> lock::Place {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "user".to_owned());
        let user: String = user
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .collect();
        let root = temp.join(format!("frameio-auth-{user}"));
        lock::Place {
            dir: root.join("frameio-auth").join("keyring-locks"),
            private_root: Some(root),
            owner,
        }
    }

    async fn take(&self, name: &str) -> Result<lock::Held, lock::LockFailure> {
        let place = self.shared.lock_place.clone();
        let path = lock::lock_path(&place.dir, &self.shared.items.service, name);
        lock::acquire(
            &self.shared.mutexes,
            name,
            place,
            path,
            self.shared.lock_timeout,
            &*self.shared.sleeper,
        )
        .await
    }

    fn lock_io_error(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            location: if path.as_os_str().is_empty() {
                "keyring lock file".to_owned()
            } else {
                path.display().to_string()
            },
            source,
        }
    }

    /// The steps of `save` up to the value write: refuses to replace an entry it cannot
    /// read, lists the key in the index, then writes the value. Listing the key first means
    /// a crash after the write never loses the key from `keys()`; a crash before it leaves
    /// a listed key without an entry, which `keys()` hides.
    async fn save_unsynced(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
        let json = tokens
            .to_stored_json()
            .map_err(StoreError::cannot_serialize)?;
        {
            let shared = Arc::clone(&self.shared);
            let account = key.as_str().to_owned();
            blocking(move || shared.items.check_replaceable(&account)).await?;
        }
        self.list_in_index(key).await?;
        let shared = Arc::clone(&self.shared);
        let account = key.as_str().to_owned();
        blocking(move || shared.items.write_value(&account, &json, shared.chunk_size)).await
    }

    /// Takes the index lock (in-process mutex plus lock file).
    async fn index_lock(&self) -> Result<lock::Held, StoreError> {
        self.take(INDEX_ACCOUNT).await.map_err(|e| match e {
            lock::LockFailure::Timeout => StoreError::Backend {
                message: format!(
                    "timed out after {:?} waiting for the keyring index lock; another process \
                     may be stuck",
                    self.shared.lock_timeout.unwrap_or_default()
                ),
                source: None,
            },
            lock::LockFailure::Io(path, source) => Self::lock_io_error(&path, source),
            lock::LockFailure::Unsafe(path, message) => StoreError::Permission {
                location: path.display().to_string(),
                message,
            },
        })
    }

    /// Adds `key` to the index unless it is there, under the index lock.
    async fn list_in_index(&self, key: &TokenKey) -> Result<(), StoreError> {
        let listed = {
            let shared = Arc::clone(&self.shared);
            let account = key.as_str().to_owned();
            blocking(move || Ok(shared.items.read_index()?.contains(&account))).await?
        };
        if listed {
            return Ok(());
        }
        let held = self.index_lock().await?;
        let shared = Arc::clone(&self.shared);
        let account = key.as_str().to_owned();
        let chunk_size = self.shared.chunk_size;
        let result = blocking(move || {
            let mut keys = shared.items.read_index()?;
            if keys.contains(&account) {
                return Ok(());
            }
            keys.push(account);
            keys.sort_unstable();
            shared.items.write_index(&keys, chunk_size)
        })
        .await;
        drop(held);
        result
    }

    /// Makes the index agree with whether `key`'s entry exists, under the index lock. The
    /// check runs after the entry was written or deleted, so concurrent saves and deletes
    /// leave the index matching the final state.
    async fn sync_index(&self, key: &TokenKey) -> Result<(), StoreError> {
        let chunk_size = self.shared.chunk_size;
        let fast = {
            let shared = Arc::clone(&self.shared);
            let account = key.as_str().to_owned();
            blocking(move || {
                let exists = shared.items.exists(&account)?;
                let listed = shared.items.read_index()?.contains(&account);
                Ok(exists == listed)
            })
            .await?
        };
        if fast {
            return Ok(());
        }
        let held = self.index_lock().await?;
        let shared = Arc::clone(&self.shared);
        let account = key.as_str().to_owned();
        let result = blocking(move || {
            let exists = shared.items.exists(&account)?;
            let mut keys = shared.items.read_index()?;
            let listed = keys.contains(&account);
            if exists && !listed {
                keys.push(account);
                keys.sort_unstable();
            } else if !exists && listed {
                keys.retain(|k| k != &account);
            } else {
                return Ok(());
            }
            shared.items.write_index(&keys, chunk_size)
        })
        .await;
        drop(held);
        result
    }
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringStore")
            .field("service", &self.shared.items.service)
            .field("chunk_size", &self.shared.chunk_size)
            .field("lock_dir", &self.shared.lock_place.dir)
            .field("lock_timeout", &self.shared.lock_timeout)
            .field("sleeper", &self.shared.sleeper)
            .field("backend", &self.shared.items.store.vendor())
            .finish_non_exhaustive()
    }
}

/// Configures a [`KeyringStore`]; see [`KeyringStore::builder`].
pub struct KeyringStoreBuilder {
    service: String,
    chunk_size: usize,
    lock_dir: Option<PathBuf>,
    shared_temp: Option<(PathBuf, Option<u32>)>,
    lock_timeout: Option<Duration>,
    sleeper: Arc<dyn Sleeper>,
    credential_store: Option<Arc<CredentialStore>>,
}

impl fmt::Debug for KeyringStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringStoreBuilder")
            .field("service", &self.service)
            .field("chunk_size", &self.chunk_size)
            .field("lock_dir", &self.lock_dir)
            .field("shared_temp", &self.shared_temp)
            .field("lock_timeout", &self.lock_timeout)
            .field("sleeper", &self.sleeper)
            .field("credential_store", &self.credential_store.is_some())
            .finish()
    }
}

impl KeyringStoreBuilder {
    /// The keyring service name of every item. Default: [`KeyringStore::DEFAULT_SERVICE`].
    /// Two stores with different services never see each other's entries.
    #[must_use]
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Values longer than `bytes` are split into chunks of at most `bytes`. Default:
    /// [`KeyringStore::DEFAULT_CHUNK_SIZE`]; at least [`KeyringStore::MIN_CHUNK_SIZE`]. On
    /// Windows keep it at most 2560.
    #[must_use]
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(KeyringStore::MIN_CHUNK_SIZE);
        self
    }

    /// Where the cross-process lock files go. Default: [`KeyringStore::default_lock_dir`].
    /// Every process sharing the keyring must use the same directory.
    #[must_use]
    pub fn lock_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.lock_dir = Some(dir.into());
        self
    }

    /// Gives up waiting for a lock after `timeout`. Default:
    /// [`KeyringStore::DEFAULT_LOCK_TIMEOUT`].
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// Puts the lock files where the default does when there is no home directory:
    /// `frameio-auth-<user>/frameio-auth/keyring-locks` in the shared temporary directory
    /// `temp`, with `frameio-auth-<user>` checked to belong to `owner` (default: the
    /// effective user) with mode 0700. For tests of that check.
    #[doc(hidden)]
    #[must_use]
    pub fn lock_dir_in_shared_temp(mut self, temp: impl Into<PathBuf>, owner: Option<u32>) -> Self {
        self.shared_temp = Some((temp.into(), owner));
        self
    }

    /// Waits for a lock as long as it takes.
    #[must_use]
    pub fn wait_indefinitely(mut self) -> Self {
        self.lock_timeout = None;
        self
    }

    /// What the lock timeout, and the pauses between attempts at a lock file another
    /// process holds, sleep on. Default: Tokio's timer.
    ///
    /// Give tests a `ManualClock`'s `paused_sleeper()`: a contended lock then gives up
    /// exactly when the test moves the clock past the timeout, with no wall time spent.
    ///
    /// ```
    /// use frameio_auth_core::ManualClock;
    /// use frameio_auth_store_keyring::KeyringStore;
    ///
    /// let clock = ManualClock::default();
    /// let builder = KeyringStore::builder().sleeper(clock.paused_sleeper());
    /// # let _ = builder;
    /// ```
    #[must_use]
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// Uses this `keyring-core` credential store instead of the platform's (for example
    /// `keyring_core::mock::Store` in unit tests, or another keyring-core store crate).
    #[must_use]
    pub fn credential_store(mut self, store: Arc<CredentialStore>) -> Self {
        self.credential_store = Some(store);
        self
    }

    /// Connects to the keyring (unless a credential store was given) and builds the store.
    pub fn build(self) -> Result<KeyringStore, StoreError> {
        if self.service.is_empty() {
            return Err(StoreError::Backend {
                message: "the keyring service name must not be empty".to_owned(),
                source: None,
            });
        }
        let store = match self.credential_store {
            Some(store) => store,
            None => platform_store()?,
        };
        Ok(KeyringStore {
            shared: Arc::new(Shared {
                items: Items {
                    store,
                    service: self.service,
                },
                chunk_size: self.chunk_size,
                lock_place: match (self.lock_dir, self.shared_temp) {
                    (Some(dir), _) => lock::Place {
                        dir,
                        private_root: None,
                        owner: None,
                    },
                    (None, Some((temp, owner))) => KeyringStore::shared_temp_place(&temp, owner),
                    (None, None) => KeyringStore::default_lock_place(),
                },
                lock_timeout: self.lock_timeout,
                sleeper: self.sleeper,
                mutexes: lock::Mutexes::default(),
            }),
        })
    }
}

/// The guard returned by [`KeyringStore`]'s `lock`.
#[derive(Debug)]
struct KeyringLock {
    key: TokenKey,
    _held: lock::Held,
}

impl StoreLock for KeyringLock {
    fn key(&self) -> &TokenKey {
        &self.key
    }
}

#[async_trait]
impl TokenStore for KeyringStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
        let shared = Arc::clone(&self.shared);
        let account = key.as_str().to_owned();
        blocking(move || {
            let Some(bytes) = shared.items.read_value(&account)? else {
                return Ok(None);
            };
            TokenSet::from_stored_json(&bytes)
                .map(Some)
                .map_err(|reason| StoreError::Corrupt {
                    location: shared.items.location(&account),
                    reason,
                })
        })
        .await
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
        self.save_unsynced(key, tokens).await?;
        // A delete racing with this save may have taken the key out of the index between
        // the two steps: make the index agree with the final state.
        self.sync_index(key).await
    }

    async fn delete(&self, key: &TokenKey) -> Result<(), StoreError> {
        let shared = Arc::clone(&self.shared);
        let account = key.as_str().to_owned();
        blocking(move || shared.items.delete_value(&account)).await?;
        self.sync_index(key).await
    }

    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        let shared = Arc::clone(&self.shared);
        blocking(move || {
            let mut keys = Vec::new();
            for account in shared.items.read_index()? {
                // A crash between deleting an entry and updating the index leaves a name
                // behind: list only entries that exist.
                if let Ok(key) = TokenKey::parse(&account)
                    && shared.items.exists(&account)?
                {
                    keys.push(key);
                }
            }
            keys.sort_unstable();
            keys.dedup();
            Ok(keys)
        })
        .await
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
        let held = self.take(key.as_str()).await.map_err(|e| match e {
            lock::LockFailure::Timeout => StoreError::LockTimeout {
                key: key.clone(),
                waited: self.shared.lock_timeout.unwrap_or_default(),
            },
            lock::LockFailure::Io(path, source) => Self::lock_io_error(&path, source),
            lock::LockFailure::Unsafe(path, message) => StoreError::Permission {
                location: path.display().to_string(),
                message,
            },
        })?;
        Ok(Box::new(KeyringLock {
            key: key.clone(),
            _held: held,
        }))
    }
}

#[cfg(test)]
mod tests;
