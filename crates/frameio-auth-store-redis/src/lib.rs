//! A fleet-wide [`TokenStore`] on Redis (or Valkey) for frameio-auth: token sets and their
//! refresh lock shared by every process on every machine, a fenced distributed lock, and
//! values encrypted at rest.
//!
//! - **Layout.** Every key is under a namespace (default [`DEFAULT_NAMESPACE`]), so one Redis
//!   serves several apps and environments: the entry `<ns>:token:{<key>}`, its lock
//!   `<ns>:lock:{<key>}`, and after a delete a tombstone `<ns>:gone:{<key>}`. The `{…}` hash
//!   tag puts the three in one slot, so the layout works on Redis Cluster. `keys()` uses
//!   `SCAN` with a pattern, never `KEYS`.
//! - **Values.** A Redis hash: `v`, a version that every write increments, and `d`, the
//!   [sealed](EncryptionKey) versioned JSON of `frameio-auth-core`. An entry expires
//!   (`PEXPIREAT`, on the server's clock) at `max(last usable moment, now) + grace`
//!   ([`DEFAULT_GRACE`], 30 days), where the last usable moment is the refresh token's expiry,
//!   else the access token's; unknown, or beyond what Redis can hold: no expiry.
//! - **Encryption at rest.** XChaCha20-Poly1305 under a 32-byte [`EncryptionKey`] you supply
//!   (bytes, base64, an environment variable); the [`TokenKey`] is the associated data, so a
//!   value copied under another key fails to open; the key id in each value allows rotation
//!   (new writes use the current key, reads accept the old ones). A wrong or missing key is
//!   [`StoreError::Decryption`] and the entry is never deleted or overwritten. Plaintext is an
//!   explicit, logged opt-out ([`RedisStoreBuilder::plaintext`]).
//! - **The lock.** `SET <lock> <random token> NX PX <lease>`, waited for with jittered backoff
//!   up to the lock timeout ([`StoreError::LockTimeout`]), released by a script that deletes
//!   only its own token. The guard ([`RedisLock`]) renews the lease while it is held and says
//!   when it lost it. A save through the guard
//!   ([`save_fenced`](frameio_auth_core::StoreLock::save_fenced)) is a compare-and-set against
//!   the version the holder loaded: it lands when nobody wrote since, even after the lease
//!   lapsed, and fails with [`StoreError::Fenced`] when another holder did.
//! - **Redis down**: [`StoreError::Unavailable`] naming the address, never the password;
//!   reconnection is automatic. At connect, a `maxmemory-policy` of `allkeys-*` (Redis may
//!   evict logins) is warned about once.
//!
//! `docs/storage.md` ("Redis store") explains the fencing, with the stalled-holder sequence.
//!
//! ```
//! use std::time::Duration;
//! use frameio_auth_store_redis::{EncryptionKey, RedisStore};
//!
//! let key = EncryptionKey::from_bytes("2026-12", [7; 32])?;
//! let store = RedisStore::builder()
//!     .url("redis://tokens:hunter2@127.0.0.1:6379/0")
//!     .namespace("my-service-prod")
//!     .key(key)
//!     .lease(Duration::from_secs(20))
//!     .build()?; // connects on first use
//! assert_eq!(store.namespace(), "my-service-prod");
//! assert_eq!(store.address(), "redis://tokens@127.0.0.1:6379/0");
//! assert!(!format!("{store:?}").contains("hunter2"));
//! # Ok::<(), frameio_auth_store_redis::ConfigError>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod lock;
mod scripts;
mod seal;

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use frameio_auth_core::{
    Sleeper, StoreError, StoreLock, Timestamp, TokenKey, TokenSet, TokenStore,
};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use zeroize::Zeroizing;

pub use lock::RedisLock;
pub use seal::{EncryptionKey, MAX_KEY_ID_LEN};

use crate::seal::Sealing;

/// The namespace unless one is set: `frameio-auth`.
pub const DEFAULT_NAMESPACE: &str = "frameio-auth";
/// How long an entry outlives its last usable moment: 30 days, so that a login whose refresh
/// token expired still shows as such for a while (and then goes away by itself).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30 * 24 * 3600);
/// The shortest grace: one minute, so that a save is always followed by a load that finds it.
pub const MIN_GRACE: Duration = Duration::from_secs(60);

/// The longest grace [`RedisStoreBuilder::build`] accepts: 100 years (of 365.25 days). Redis
/// takes expiries in milliseconds as a signed 64-bit integer; far below that, this bound keeps
/// `last usable moment + grace` a valid expiry.
pub const MAX_GRACE: Duration = Duration::from_secs(100 * 36_525 * 24 * 3600 / 100);
/// The lock's lease: 30 seconds, renewed every third of it while the guard lives.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// The shortest lease: 100 ms (tests of lease expiry use short ones).
pub const MIN_LEASE: Duration = Duration::from_millis(100);
/// How long `lock` waits by default: 60 seconds, two leases, so that the lease of a holder
/// that crashed runs out while a waiter still waits.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting may take: 5 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one command may wait for its answer: 5 seconds.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How often an unfenced save re-checks and retries when other writers keep coming between
/// its check of the current entry and its write.
const WRITE_ATTEMPTS: usize = 50;

/// The largest expiry time Lua scripts compute exactly (2^53 ms, in the year 287 396).
const MAX_EXPIRY_MS: u64 = 1 << 53;

/// A store that cannot be built: what is wrong and how to fix it. Never holds a password or
/// key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither a URL nor a connection manager was given.
    #[error(
        "no Redis to connect to: give the store a URL (`redis://` or `rediss://`) or a connection manager"
    )]
    NoTarget,
    /// The URL is not a Redis URL.
    #[error(
        "invalid Redis URL {url}: {reason}; expected redis://[user:password@]host[:port][/db] or rediss://…"
    )]
    InvalidUrl {
        /// The URL with its password removed.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The namespace has characters that would break the layout.
    #[error(
        "invalid namespace `{namespace}`: expected 1 to 128 ASCII letters, digits, `-`, `_`, `.` or `:`"
    )]
    InvalidNamespace {
        /// The namespace given.
        namespace: String,
    },
    /// No key and no explicit plaintext opt-out.
    #[error(
        "no encryption key: give the store a key (`EncryptionKey::from_env(\"id\", \"VAR\")` with 32 random bytes in base64), or opt out explicitly with `plaintext()`"
    )]
    NoEncryptionKey,
    /// A key id that cannot be stored.
    #[error("invalid key id `{id}`: expected 1 to 32 ASCII letters, digits, `-`, `_` or `.`")]
    InvalidKeyId {
        /// The id given.
        id: String,
    },
    /// Two keys with one id: a value names its key by id.
    #[error("two encryption keys have the id `{id}`: give each key its own id")]
    DuplicateKeyId {
        /// The id.
        id: String,
    },
    /// Key material that is not 32 bytes of base64.
    #[error("invalid encryption key `{id}`: {reason}")]
    InvalidKey {
        /// The key's id.
        id: String,
        /// What is wrong (never the material).
        reason: String,
    },
    /// The environment variable that should hold a key is not set.
    #[error(
        "the environment variable {variable} that should hold the encryption key is not set (or empty): export 32 random bytes in base64 there"
    )]
    MissingKeyVariable {
        /// The variable's name.
        variable: String,
    },
    /// A setting out of range.
    #[error("invalid setting `{setting}`: {reason}")]
    InvalidSetting {
        /// The setting.
        setting: &'static str,
        /// What is allowed.
        reason: String,
    },
}

impl From<ConfigError> for StoreError {
    fn from(error: ConfigError) -> Self {
        StoreError::Unavailable {
            backend: "redis",
            message: error.to_string(),
        }
    }
}

/// Tokio's timer: the default [`Sleeper`] of the lock wait.
#[derive(Debug)]
struct TokioTimer;

impl Sleeper for TokioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Where the store connects.
enum Target {
    Client(Box<redis::Client>),
    Manager(ConnectionManager),
}

/// A [`TokenStore`] on Redis; see the [crate documentation](crate).
///
/// Cheap to clone: clones share the connection. Connects on first use (building needs no
/// runtime and no network). `Debug` shows the address without its password, the namespace and
/// the key ids, never a token or key material.
#[derive(Clone)]
pub struct RedisStore {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    namespace: String,
    address: String,
    /// The password, to scrub it from any error text (Redis's own messages never echo it,
    /// but a message from a proxy or a future client version might).
    password: Option<Zeroizing<String>>,
    target: Target,
    config: ConnectionManagerConfig,
    connection: tokio::sync::OnceCell<ConnectionManager>,
    sealing: Sealing,
    grace: Duration,
    pub(crate) lease: Duration,
    pub(crate) lock_timeout: Option<Duration>,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    eviction_policy: Mutex<Option<String>>,
}

/// Whether no store of this process warned about `address`'s eviction policy yet: the
/// warning comes once per Redis, however many stores (namespaces) use it.
fn first_warning_for(address: &str) -> bool {
    static WARNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    WARNED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(address.to_owned())
}

/// An entry as Redis holds it, before opening.
pub(crate) enum Raw {
    /// A value and its version.
    Found { version: u64, data: Vec<u8> },
    /// No entry, and a tombstone: deleted on purpose, at `version` (the fence of a save
    /// that means to write over the deletion).
    Deleted { version: u64 },
    /// No entry and no tombstone: never written, or lost (restart, eviction).
    Missing,
}

impl Raw {
    pub(crate) fn version(&self) -> u64 {
        match self {
            Raw::Found { version, .. } | Raw::Deleted { version } => *version,
            Raw::Missing => 0,
        }
    }
}

impl RedisStore {
    /// Starts configuring a store.
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: None,
            manager: None,
            root_certificates: None,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            current: None,
            old: Vec::new(),
            plaintext: false,
            grace: DEFAULT_GRACE,
            lease: DEFAULT_LEASE,
            lock_timeout: Some(DEFAULT_LOCK_TIMEOUT),
            sleeper: Arc::new(TokioTimer),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
        }
    }

    /// The namespace every key is under.
    pub fn namespace(&self) -> &str {
        &self.shared.namespace
    }

    /// Where the store connects, without the password (`redis://user@host:6379/0`), or
    /// `a given connection manager`.
    pub fn address(&self) -> &str {
        &self.shared.address
    }

    /// The lock's lease.
    pub fn lease(&self) -> Duration {
        self.shared.lease
    }

    /// How long `lock` waits; `None` waits indefinitely.
    pub fn lock_timeout(&self) -> Option<Duration> {
        self.shared.lock_timeout
    }

    /// How long an entry outlives its last usable moment.
    pub fn grace(&self) -> Duration {
        self.shared.grace
    }

    /// The id of the key new values are sealed with; `None` for a plaintext store.
    pub fn current_key_id(&self) -> Option<&str> {
        match &self.shared.sealing {
            Sealing::Encrypted { current, .. } => Some(current.id()),
            Sealing::Plaintext => None,
        }
    }

    /// The server's `maxmemory-policy`, as read when the store connected (`None` before, or
    /// when the server does not allow `CONFIG GET`).
    pub fn maxmemory_policy(&self) -> Option<String> {
        self.shared
            .eviction_policy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The Redis key of `key`'s entry.
    pub fn entry_key(&self, key: &TokenKey) -> String {
        self.shared.entry_key(key)
    }

    /// The Redis key of `key`'s lock.
    pub fn lock_key(&self, key: &TokenKey) -> String {
        self.shared.lock_key(key)
    }

    /// Connects now (the store otherwise connects on first use), and checks the eviction
    /// policy. Fails with [`StoreError::Unavailable`] when Redis cannot be reached.
    pub async fn connect(&self) -> Result<(), StoreError> {
        self.shared.connection().await.map(drop)
    }

    /// Takes `key`'s lock, as [`TokenStore::lock`] does, and returns the concrete guard (its
    /// lease, renewal and version are visible there).
    pub async fn lock_key_guard(&self, key: &TokenKey) -> Result<RedisLock, StoreError> {
        lock::acquire(&self.shared, key).await
    }

    /// One attempt at `key`'s lock, without waiting: `None` when another holder has it.
    pub async fn try_lock(&self, key: &TokenKey) -> Result<Option<RedisLock>, StoreError> {
        lock::try_acquire(&self.shared, key).await
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("address", &self.shared.address)
            .field("namespace", &self.shared.namespace)
            .field("sealing", &self.shared.sealing)
            .field("grace", &self.shared.grace)
            .field("lease", &self.shared.lease)
            .field("lock_timeout", &self.shared.lock_timeout)
            .finish_non_exhaustive()
    }
}

/// Configures a [`RedisStore`]; see [`RedisStore::builder`].
#[must_use]
pub struct RedisStoreBuilder {
    url: Option<Zeroizing<String>>,
    manager: Option<ConnectionManager>,
    root_certificates: Option<Vec<u8>>,
    namespace: String,
    current: Option<EncryptionKey>,
    old: Vec<EncryptionKey>,
    plaintext: bool,
    grace: Duration,
    lease: Duration,
    lock_timeout: Option<Duration>,
    sleeper: Arc<dyn Sleeper>,
    connect_timeout: Duration,
    response_timeout: Duration,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("url", &self.url.as_deref().map(|u| redact_url(u)))
            .field("namespace", &self.namespace)
            .field("current", &self.current)
            .field("old", &self.old)
            .field("plaintext", &self.plaintext)
            .finish_non_exhaustive()
    }
}

impl RedisStoreBuilder {
    /// Connects to `url`: `redis://[user:password@]host[:port][/db]`, or `rediss://` for
    /// TLS (rustls, with the platform's root certificates). The password is never shown.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(Zeroizing::new(url.into()));
        self.manager = None;
        self
    }

    /// For `rediss://`: trusts the root certificates in `pem` (a private CA) instead of the
    /// platform's. Ignored for `redis://` and for a given connection manager.
    pub fn tls_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates = Some(pem.into());
        self
    }

    /// Uses an existing connection manager (its reconnection settings included).
    pub fn connection_manager(mut self, manager: ConnectionManager) -> Self {
        self.manager = Some(manager);
        self.url = None;
        self
    }

    /// The namespace of every key (default [`DEFAULT_NAMESPACE`]): 1 to 128 ASCII letters,
    /// digits, `-`, `_`, `.` or `:`. One per app and environment sharing a Redis.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The key new values are sealed with (and that opens them).
    pub fn key(mut self, key: EncryptionKey) -> Self {
        self.current = Some(key);
        self
    }

    /// A key that still opens values it sealed, while they are rewritten under the current
    /// key (each save rewrites its entry). Add as many as a rotation needs.
    pub fn old_key(mut self, key: EncryptionKey) -> Self {
        self.old.push(key);
        self
    }

    /// Stores tokens unencrypted: an explicit opt-out, logged as a warning when the store is
    /// built. Anyone who can read the Redis (its backups, replicas, `MONITOR`) can then use
    /// the tokens, and the Redis client's command buffers hold them without being wiped.
    /// Ignored when a key is given.
    pub fn plaintext(mut self) -> Self {
        self.plaintext = true;
        self
    }

    /// How long an entry outlives its last usable moment (default [`DEFAULT_GRACE`]; at
    /// least [`MIN_GRACE`], at most [`MAX_GRACE`]).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The lock's lease (default [`DEFAULT_LEASE`]; at least [`MIN_LEASE`]). The guard renews
    /// it every third of the lease, and a holder's token request is cut off after three
    /// quarters of it.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Gives up waiting for a lock after `timeout` (default [`DEFAULT_LOCK_TIMEOUT`]).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// Waits for a lock as long as it takes.
    pub fn wait_indefinitely(mut self) -> Self {
        self.lock_timeout = None;
        self
    }

    /// What the lock wait (its backoff pauses and its timeout) sleeps on. Default: Tokio's
    /// timer. Tests give a `ManualClock`'s `paused_sleeper()`. The lease renewal always runs
    /// on Tokio's timer: the lease runs on Redis's clock.
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// How long connecting may take (default [`DEFAULT_CONNECT_TIMEOUT`]); URL only.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one command may wait for its answer (default [`DEFAULT_RESPONSE_TIMEOUT`]);
    /// URL only.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Builds the store. Touches no network: it connects on first use.
    pub fn build(self) -> Result<RedisStore, ConfigError> {
        check_namespace(&self.namespace)?;
        if self.grace < MIN_GRACE {
            return Err(ConfigError::InvalidSetting {
                setting: "grace",
                reason: format!(
                    "at least {MIN_GRACE:?}, so that a save is always found by the next load"
                ),
            });
        }
        if self.grace > MAX_GRACE {
            return Err(ConfigError::InvalidSetting {
                setting: "grace",
                reason: format!(
                    "at most {} days (100 years): Redis could not set the expiry",
                    MAX_GRACE.as_secs() / 86_400
                ),
            });
        }
        if self.lease < MIN_LEASE {
            return Err(ConfigError::InvalidSetting {
                setting: "lease",
                reason: format!("at least {MIN_LEASE:?}"),
            });
        }
        let sealing = sealing(self.current, self.old, self.plaintext)?;
        let (target, address, password) = match (self.url, self.manager) {
            (Some(url), _) => {
                let redacted = redact_url(&url);
                let parsed = url::Url::parse(&url).map_err(|e| ConfigError::InvalidUrl {
                    url: redacted.clone(),
                    reason: e.to_string(),
                })?;
                if !matches!(parsed.scheme(), "redis" | "rediss" | "valkey" | "valkeys") {
                    return Err(ConfigError::InvalidUrl {
                        url: redacted,
                        reason: format!("the scheme `{}` is not redis or rediss", parsed.scheme()),
                    });
                }
                let password = parsed.password().map(|p| Zeroizing::new(percent_decode(p)));
                drop(parsed);
                let client = match self.root_certificates {
                    Some(root_cert) => redis::Client::build_with_tls(
                        url.as_str(),
                        redis::TlsCertificates {
                            client_tls: None,
                            root_cert: Some(root_cert),
                        },
                    ),
                    None => redis::Client::open(url.as_str()),
                }
                .map_err(|e| ConfigError::InvalidUrl {
                    url: redacted.clone(),
                    reason: scrub(&e.to_string(), password.as_deref().map(String::as_str)),
                })?;
                (Target::Client(Box::new(client)), redacted, password)
            }
            (None, Some(manager)) => (
                Target::Manager(manager),
                "a given connection manager".to_owned(),
                None,
            ),
            (None, None) => return Err(ConfigError::NoTarget),
        };
        if matches!(sealing, Sealing::Plaintext) {
            tracing::warn!(
                address = %address,
                namespace = %self.namespace,
                "the Redis token store keeps tokens in plaintext (explicit opt-out): anyone who can read this Redis can use them; give the store an encryption key"
            );
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.response_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(200));
        Ok(RedisStore {
            shared: Arc::new(Shared {
                namespace: self.namespace,
                address,
                password,
                target,
                config,
                connection: tokio::sync::OnceCell::new(),
                sealing,
                grace: self.grace,
                lease: self.lease,
                lock_timeout: self.lock_timeout,
                sleeper: self.sleeper,
                eviction_policy: Mutex::new(None),
            }),
        })
    }
}

/// How values are sealed: with `current` (and `old` for reading), or, only when asked,
/// not at all.
fn sealing(
    current: Option<EncryptionKey>,
    old: Vec<EncryptionKey>,
    plaintext: bool,
) -> Result<Sealing, ConfigError> {
    let Some(current) = current else {
        return if plaintext {
            Ok(Sealing::Plaintext)
        } else {
            Err(ConfigError::NoEncryptionKey)
        };
    };
    let mut ids = vec![current.id().to_owned()];
    for key in &old {
        if ids.iter().any(|id| id == key.id()) {
            return Err(ConfigError::DuplicateKeyId {
                id: key.id().to_owned(),
            });
        }
        ids.push(key.id().to_owned());
    }
    Ok(Sealing::Encrypted { current, old })
}

fn check_namespace(namespace: &str) -> Result<(), ConfigError> {
    let valid = !namespace.is_empty()
        && namespace.len() <= 128
        && namespace
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if valid {
        Ok(())
    } else {
        Err(ConfigError::InvalidNamespace {
            namespace: namespace.to_owned(),
        })
    }
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// `url` without its password (and without anything after the path), for messages.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(None);
            }
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => "(an unparsable URL)".to_owned(),
    }
}

/// `text` with every occurrence of `secret` (and its percent-encoded form) replaced.
pub(crate) fn scrub(text: &str, secret: Option<&str>) -> String {
    match secret.filter(|s| !s.is_empty()) {
        Some(secret) => {
            let encoded: String =
                percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
                    .collect();
            text.replace(secret, "***").replace(&encoded, "***")
        }
        None => text.to_owned(),
    }
}

impl Shared {
    pub(crate) fn entry_key(&self, key: &TokenKey) -> String {
        format!("{}:token:{{{}}}", self.namespace, key.as_str())
    }

    pub(crate) fn lock_key(&self, key: &TokenKey) -> String {
        format!("{}:lock:{{{}}}", self.namespace, key.as_str())
    }

    pub(crate) fn gone_key(&self, key: &TokenKey) -> String {
        format!("{}:gone:{{{}}}", self.namespace, key.as_str())
    }

    pub(crate) fn location(&self, key: &TokenKey) -> String {
        format!("{} key {}", self.address, self.entry_key(key))
    }

    /// The connection, made on first use (then the eviction policy is checked).
    pub(crate) async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let manager = self
            .connection
            .get_or_try_init(|| async {
                let mut manager = match &self.target {
                    Target::Client(client) => {
                        ConnectionManager::new_with_config((**client).clone(), self.config.clone())
                            .await
                            .map_err(|e| self.error("connecting", &e))?
                    }
                    Target::Manager(manager) => manager.clone(),
                };
                self.check_eviction(&mut manager).await;
                Ok::<_, StoreError>(manager)
            })
            .await?;
        Ok(manager.clone())
    }

    /// Warns once when Redis may evict any key under memory pressure.
    async fn check_eviction(&self, manager: &mut ConnectionManager) {
        let answer: Result<Vec<String>, _> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("maxmemory-policy")
            .query_async(manager)
            .await;
        let policy = match answer {
            Ok(pair) => pair.into_iter().nth(1),
            Err(error) => {
                tracing::debug!(address = %self.address, error = %self.scrubbed(&error), "cannot read maxmemory-policy (CONFIG may be disabled); not checked");
                None
            }
        };
        if let Some(policy) = &policy
            && policy.starts_with("allkeys-")
            && first_warning_for(&self.address)
        {
            tracing::warn!(
                address = %self.address,
                maxmemory_policy = %policy,
                "Redis may evict any key under memory pressure, logins included, and a lost login needs a new sign-in: set `maxmemory-policy noeviction` (or a volatile-* policy, and enough memory), or keep the tokens in a Redis of their own"
            );
        }
        *self
            .eviction_policy
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = policy;
    }

    fn scrubbed(&self, error: &redis::RedisError) -> String {
        scrub(
            &error.to_string(),
            self.password.as_deref().map(String::as_str),
        )
    }

    /// A Redis failure as a store error: `Unavailable` (naming the address, never the
    /// password) when Redis cannot be reached, else `Backend`.
    pub(crate) fn error(&self, what: &str, error: &redis::RedisError) -> StoreError {
        let detail = self.scrubbed(error);
        if error.kind() == redis::ErrorKind::AuthenticationFailed {
            return StoreError::Unavailable {
                backend: "redis",
                message: format!(
                    "{what} at {}: authentication failed ({detail}); check the user and password of the URL",
                    self.address
                ),
            };
        }
        if error.is_io_error()
            || error.is_connection_refusal()
            || error.is_timeout()
            || error.is_connection_dropped()
            || error.is_unrecoverable_error()
        {
            return StoreError::Unavailable {
                backend: "redis",
                message: format!(
                    "{what} at {} failed ({detail}); check that Redis runs and is reachable from here (the store reconnects by itself)",
                    self.address
                ),
            };
        }
        StoreError::Backend {
            message: format!("Redis at {}: {what} failed: {detail}", self.address),
            source: None,
        }
    }

    /// Runs a script, traced by name and Redis key (never its arguments: a value is one).
    pub(crate) async fn run<T: redis::FromRedisValue>(
        &self,
        what: &'static str,
        invocation: &redis::ScriptInvocation<'_>,
        redis_key: &str,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection().await?;
        tracing::trace!(command = what, key = redis_key, "redis");
        match invocation.invoke_async(&mut connection).await {
            // The connection broke (Redis restarted, a proxy dropped it): the manager
            // reconnects, and one more try goes over the new connection. Every script is
            // safe to repeat, even when the first try ran and only its answer was lost: a
            // save that finds its own (unique, sealed) value succeeds again, an acquire that
            // finds its own token holds the lock, the rest are idempotent.
            Err(error) if is_broken_connection(&error) => {
                tracing::debug!(command = what, key = redis_key, error = %self.scrubbed(&error), "the Redis connection broke; trying once more");
                invocation
                    .invoke_async(&mut connection)
                    .await
                    .map_err(|e| self.error(what, &e))
            }
            outcome => outcome.map_err(|e| self.error(what, &e)),
        }
    }

    /// The entry of `key` as Redis holds it.
    pub(crate) async fn load_raw(&self, key: &TokenKey) -> Result<Raw, StoreError> {
        let entry = self.entry_key(key);
        let mut invocation = scripts::LOAD.prepare_invoke();
        invocation.key(&entry).key(self.gone_key(key));
        let answer: redis::Value = self.run("load", &invocation, &entry).await?;
        scripts::parse_load(answer).map_err(|reason| StoreError::Corrupt {
            location: self.location(key),
            reason: frameio_auth_core::FormatError::Invalid { reason },
        })
    }

    /// Opens a found value.
    pub(crate) fn open(&self, key: &TokenKey, data: &[u8]) -> Result<TokenSet, StoreError> {
        self.sealing.open(key, &self.location(key), data)
    }

    /// Writes `tokens` as the next version of `key`'s entry. With `fence`, only if the
    /// entry is still at that version ([`StoreError::Fenced`] otherwise); without, over
    /// whatever is there (retrying when another writer comes between). Never over an entry
    /// that cannot be read. Returns the new version.
    pub(crate) async fn write(
        &self,
        key: &TokenKey,
        tokens: &TokenSet,
        fence: Option<u64>,
    ) -> Result<u64, StoreError> {
        let value = Zeroizing::new(self.sealing.seal(key, tokens)?);
        let expiry = expiry_of(tokens, self.grace);
        let entry = self.entry_key(key);
        let mut backoff = Duration::from_millis(1);
        for _ in 0..WRITE_ATTEMPTS {
            let current = self.load_raw(key).await?;
            let version = current.version();
            if fence.is_some_and(|fence| fence != version) {
                return Err(StoreError::Fenced { key: key.clone() });
            }
            if let Raw::Found { data, .. } = &current {
                // Never replace an entry we cannot read: it may be a newer release's, or
                // sealed with a key this store lacks. The error says what to do.
                self.open(key, data)?;
            }
            let mut invocation = scripts::SAVE.prepare_invoke();
            invocation
                .key(&entry)
                .key(self.gone_key(key))
                .arg(value.as_slice())
                .arg(version)
                .arg(expiry.last_usable_ms)
                .arg(expiry.grace_ms);
            let (landed, now): (u8, u64) = self.run("save", &invocation, &entry).await?;
            if landed == 1 {
                return Ok(now);
            }
            if fence.is_some() {
                return Err(StoreError::Fenced { key: key.clone() });
            }
            // Another writer came between our check and our write: check its value, after a
            // jittered pause so that racing writers spread out.
            tokio::time::sleep(lock::jittered(backoff)).await;
            backoff = (backoff * 2).min(Duration::from_millis(20));
        }
        Err(StoreError::Backend {
            message: format!(
                "Redis at {}: other writers kept replacing {entry} while this save ran; try again",
                self.address
            ),
            source: None,
        })
    }
}

/// Whether `error` is a connection that broke under a command (which a reconnect cures),
/// rather than Redis refusing it.
fn is_broken_connection(error: &redis::RedisError) -> bool {
    error.is_io_error() || error.is_connection_dropped()
}

/// When an entry expires: `last_usable_ms` 0 means no expiry.
struct Expiry {
    last_usable_ms: u64,
    grace_ms: u64,
}

/// The last moment a set can be used: its refresh token's expiry when it has one (unknown
/// when that expiry is unknown), else its access token's.
fn expiry_of(tokens: &TokenSet, grace: Duration) -> Expiry {
    let last = match tokens.refresh_token() {
        Some(_) => tokens.refresh_token_expires_at(),
        None => tokens.expires_at(),
    };
    let grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
    let last_usable_ms = last
        .map(Timestamp::as_unix_millis)
        .filter(|ms| {
            ms.checked_add(grace_ms)
                .is_some_and(|end| end < MAX_EXPIRY_MS)
        })
        // 0 is "no expiry" to the script; a set that expired at the epoch expires now.
        .map_or(0, |ms| ms.max(1));
    Expiry {
        last_usable_ms,
        grace_ms,
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
        match self.shared.load_raw(key).await? {
            Raw::Found { data, .. } => self.shared.open(key, &data).map(Some),
            Raw::Deleted { .. } | Raw::Missing => Ok(None),
        }
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
        self.shared.write(key, tokens, None).await.map(drop)
    }

    async fn delete(&self, key: &TokenKey) -> Result<(), StoreError> {
        let entry = self.shared.entry_key(key);
        let mut invocation = scripts::DELETE.prepare_invoke();
        invocation
            .key(&entry)
            .key(self.shared.gone_key(key))
            .arg(u64::try_from(self.shared.grace.as_millis()).unwrap_or(u64::MAX));
        let _: i64 = self.shared.run("delete", &invocation, &entry).await?;
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        let mut connection = self.shared.connection().await?;
        let prefix = format!("{}:token:{{", self.shared.namespace);
        let pattern = format!("{prefix}*}}");
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            tracing::trace!(command = "SCAN", pattern = %pattern, "redis");
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500);
            let (next, batch): (u64, Vec<String>) = match scan.query_async(&mut connection).await {
                Err(error) if is_broken_connection(&error) => {
                    scan.query_async(&mut connection).await
                }
                outcome => outcome,
            }
            .map_err(|e| self.shared.error("SCAN", &e))?;
            for name in batch {
                let parsed = name
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix('}'))
                    .and_then(|text| TokenKey::parse(text).ok());
                if let Some(key) = parsed {
                    keys.push(key);
                } else {
                    tracing::debug!(key = %name, "ignoring a Redis key in the namespace that is not a token entry");
                }
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        // SCAN may return a key more than once.
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
        Ok(Box::new(lock::acquire(&self.shared, key).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redact_url("redis://user:p%40ss@example.com:6380/2"),
            "redis://user@example.com:6380/2"
        );
        assert_eq!(redact_url("not a url"), "(an unparsable URL)");
        assert_eq!(
            scrub("auth p@ss failed p%40ss", Some("p@ss")),
            "auth *** failed ***"
        );
    }

    #[test]
    fn build_checks_its_settings() {
        let base = || RedisStore::builder().url("redis://127.0.0.1:1").plaintext();
        assert!(matches!(
            RedisStore::builder().plaintext().build(),
            Err(ConfigError::NoTarget)
        ));
        assert!(matches!(
            RedisStore::builder().url("redis://127.0.0.1").build(),
            Err(ConfigError::NoEncryptionKey)
        ));
        assert!(matches!(
            base().namespace("a{b}").build(),
            Err(ConfigError::InvalidNamespace { .. })
        ));
        assert!(matches!(
            base().namespace("a*").build(),
            Err(ConfigError::InvalidNamespace { .. })
        ));
        assert!(matches!(
            base().grace(Duration::from_secs(1)).build(),
            Err(ConfigError::InvalidSetting {
                setting: "grace",
                ..
            })
        ));
        for too_long in [
            Duration::MAX,
            Duration::from_millis(u64::try_from(i64::MAX).unwrap()),
            MAX_GRACE + Duration::from_secs(1),
        ] {
            let error = base().grace(too_long).build().unwrap_err();
            assert!(
                matches!(
                    error,
                    ConfigError::InvalidSetting {
                        setting: "grace",
                        ..
                    }
                ),
                "{error:?}"
            );
            assert!(error.to_string().contains("100 years"), "{error}");
        }
        base().grace(MAX_GRACE).build().unwrap();
        assert!(matches!(
            base().lease(Duration::from_millis(1)).build(),
            Err(ConfigError::InvalidSetting {
                setting: "lease",
                ..
            })
        ));
        let error = RedisStore::builder()
            .url("http://user:hunter2-secret@host/")
            .plaintext()
            .build()
            .unwrap_err();
        assert!(matches!(error, ConfigError::InvalidUrl { .. }));
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let key = |id: &str| EncryptionKey::from_bytes(id, [1; 32]).unwrap();
        assert!(matches!(
            RedisStore::builder()
                .url("redis://h")
                .key(key("a"))
                .old_key(key("a"))
                .build(),
            Err(ConfigError::DuplicateKeyId { .. })
        ));
    }

    #[test]
    fn entries_expire_after_their_last_usable_moment_plus_grace() {
        use frameio_auth_core::{AccessToken, Lifetime, RefreshToken};
        let grace = Duration::from_secs(60);
        let access = TokenSet::new(
            AccessToken::new("a"),
            Timestamp::from_unix_secs(1_000),
            Lifetime::ExpiresIn(Duration::from_secs(100)),
        );
        let e = expiry_of(&access, grace);
        assert_eq!((e.last_usable_ms, e.grace_ms), (1_100_000, 60_000));
        // A refresh token's expiry wins; an unknown one means no expiry.
        let with_refresh = access.clone().with_refresh_token(
            RefreshToken::new("r"),
            Some(Timestamp::from_unix_secs(5_000)),
        );
        assert_eq!(expiry_of(&with_refresh, grace).last_usable_ms, 5_000_000);
        let unknown = access
            .clone()
            .with_refresh_token(RefreshToken::new("r"), None);
        assert_eq!(expiry_of(&unknown, grace).last_usable_ms, 0);
        let never = TokenSet::new(
            AccessToken::new("a"),
            Timestamp::from_unix_secs(1),
            Lifetime::Never,
        );
        assert_eq!(expiry_of(&never, grace).last_usable_ms, 0);
        // Beyond what a script computes exactly: no expiry.
        let far = access.with_refresh_token(RefreshToken::new("r"), Some(Timestamp::MAX));
        assert_eq!(expiry_of(&far, grace).last_usable_ms, 0);
    }
}
