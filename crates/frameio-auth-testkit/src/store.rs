//! The [`TokenStore`] conformance suite: one set of checks that every store must pass, ours or
//! a fork's.
//!
//! ```
//! use std::sync::Arc;
//! use frameio_auth_testkit::store::{Check, conformance};
//! # use std::collections::HashMap;
//! # use std::sync::Mutex;
//! # use frameio_auth_core::{StoreError, StoreLock, TokenKey, TokenSet, TokenStore};
//! # /// A minimal correct store (a real test would use its own store here).
//! # #[derive(Default)]
//! # struct MyStore {
//! #     entries: Mutex<HashMap<TokenKey, TokenSet>>,
//! #     locks: Mutex<HashMap<TokenKey, Arc<tokio::sync::Mutex<()>>>>,
//! # }
//! # struct Guard(TokenKey, #[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>);
//! # impl StoreLock for Guard {
//! #     fn key(&self) -> &TokenKey { &self.0 }
//! # }
//! # #[async_trait::async_trait]
//! # impl TokenStore for MyStore {
//! #     async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
//! #         Ok(self.entries.lock().unwrap().get(key).cloned())
//! #     }
//! #     async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
//! #         self.entries.lock().unwrap().insert(key.clone(), tokens.clone());
//! #         Ok(())
//! #     }
//! #     async fn delete(&self, key: &TokenKey) -> Result<(), StoreError> {
//! #         self.entries.lock().unwrap().remove(key);
//! #         Ok(())
//! #     }
//! #     async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
//! #         Ok(self.entries.lock().unwrap().keys().cloned().collect())
//! #     }
//! #     async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
//! #         let mutex = Arc::clone(self.locks.lock().unwrap().entry(key.clone()).or_default());
//! #         Ok(Box::new(Guard(key.clone(), mutex.lock_owned().await)))
//! #     }
//! # }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let report = conformance(Arc::new(MyStore::default())).await?;
//! assert_eq!(report.passed(), Check::ALL);
//! # Ok(())
//! # }
//! ```
//!
//! # What it checks
//!
//! The contract documented on [`TokenStore`], one [`Check`] at a time: a round trip that keeps
//! every field and every secret byte for byte; that a missing key loads `None`; that a second
//! save replaces the first one entirely; `delete`; `keys`; unicode, control characters and
//! long values; many concurrent saves, with concurrent readers that must only ever see whole
//! sets; and that [`lock`](TokenStore::lock) excludes a second holder of the same key without
//! blocking other keys.
//!
//! # Safe on a shared, persistent backend
//!
//! Every key the suite uses is new: its profile holds the check's name and a random run id
//! (96 bits from the OS generator), so the suite can run against a real OS keyring or a home directory
//! that already holds credentials. It never reads, changes or deletes an entry it did not
//! create, checks `keys()` only as "contains what was created, lacks what was deleted", and
//! deletes every key it created when a check ends, whether the check passed or failed. (A
//! store that panics, or a run that is killed, can leave entries behind; they are all under
//! the provider [`KEY_PROVIDER`].)
//!
//! # Lock timeouts on a paused clock
//!
//! [`assert_lock_times_out`] checks a store's lock timeout with no wall time: the store
//! sleeps on a `ManualClock`'s `paused_sleeper()`, and the helper moves the clock to one
//! millisecond before the timeout (the lock must still wait), then to the timeout (it must
//! give up with `StoreError::LockTimeout`).
//!
//! # Runtime and timeouts
//!
//! The suite needs a Tokio runtime with the time driver (`#[tokio::test]` has one; the
//! multi-threaded flavor adds real parallelism to the concurrency checks). Every call into the
//! store runs under a deadline ([`Conformance::DEFAULT_OP_TIMEOUT`]), so a deadlocked store
//! fails with a message instead of hanging the test run. Messages never contain token values:
//! sets are compared with `==`, and differences are reported as field names, lengths and
//! [`Fingerprint`](frameio_auth_core::Fingerprint)s.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{
    CsrfState, StoreError, StoreLock, TokenKey, TokenKeyBuilder, TokenSet, TokenStore,
};

mod checks;
mod fixtures;
mod paused_lock;

pub use paused_lock::assert_lock_times_out;

/// A token set about the size of an Adobe IMS user login: a 1.3 KB access token, a 1 KB
/// refresh token (expiring in 14 days) and a 1 KB ID token, four scopes. What the store
/// benchmarks save and load.
pub fn ims_sized_tokens() -> TokenSet {
    use frameio_auth_core::{AccessToken, IdToken, Lifetime, RefreshToken, Scopes, Timestamp};
    let issued = Timestamp::from_unix_secs(1_700_000_000);
    TokenSet::new(
        AccessToken::new("a".repeat(1300)),
        issued,
        Lifetime::ExpiresIn(Duration::from_secs(86_399)),
    )
    .with_refresh_token(
        RefreshToken::new("r".repeat(1000)),
        Some(issued.saturating_add(Duration::from_secs(14 * 86_400))),
    )
    .with_id_token(IdToken::new("i".repeat(1000)))
    .with_scopes(
        Scopes::parse("openid,AdobeID,offline_access,additional_info.roles").unwrap_or_default(),
    )
}

/// The provider part of every [`TokenKey`] the suite creates (one check also uses this name
/// followed by `-other`).
pub const KEY_PROVIDER: &str = "frameio-auth-conformance";
/// The environment part of every [`TokenKey`] the suite creates (unless a check varies it).
pub const KEY_ENVIRONMENT: &str = "test";
/// The client id part of every [`TokenKey`] the suite creates (unless a check varies it).
pub const KEY_CLIENT_ID: &str = "frameio-auth-testkit";

/// One check of the suite.
///
/// Run all of them with [`conformance`], or one at a time with [`run_check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// `save` then `load` returns an equal set, every field and secret byte for byte: a full
    /// bearer set, a full set of another token type, and a minimal set.
    RoundTrip,
    /// `load` of a key that was never saved is `Ok(None)`, including keys that differ from a
    /// saved one in a single part (scopes, environment, client id, provider).
    MissingKey,
    /// A second `save` wins entirely: no field of the first set survives (an old refresh
    /// token must not leak into a new set that has none), and other keys are untouched.
    Overwrite,
    /// `delete` removes only its key, deleting a missing key succeeds, and a deleted key can
    /// be saved again.
    Delete,
    /// `keys` lists every key that was saved, exactly once, and no key that was deleted.
    Keys,
    /// Emoji, CJK, combining and control characters (NUL included) in tokens and subject, a
    /// 64 KiB access token, hundreds of scopes and a unicode profile survive unchanged.
    UnicodeAndLongValues,
    /// 32 tasks save to 32 keys while 16 tasks race (4 saves each) on one more key and 8
    /// tasks read it:
    /// every key ends with its own set, the raced key with exactly one of the sets written,
    /// whole, and readers only ever see whole sets.
    ConcurrentSaves,
    /// While one task holds `lock(k)`, a second `lock(k)` waits, and gets the lock once the
    /// first is released; among 8 contending tasks at most one is ever inside; the holder can
    /// still load, save and delete `k`.
    LockExclusion,
    /// Holding `lock(k1)` does not block `lock(k2)` for a different key, even one that
    /// differs only in its scopes.
    LockIndependence,
}

impl Check {
    /// Every check, in the order [`conformance`] runs them (cheap and basic first).
    pub const ALL: &'static [Self] = &[
        Self::RoundTrip,
        Self::MissingKey,
        Self::Overwrite,
        Self::Delete,
        Self::Keys,
        Self::UnicodeAndLongValues,
        Self::ConcurrentSaves,
        Self::LockExclusion,
        Self::LockIndependence,
    ];

    /// A short, stable, `snake_case` name, such as `lock_exclusion`.
    pub fn name(self) -> &'static str {
        match self {
            Self::RoundTrip => "round_trip",
            Self::MissingKey => "missing_key",
            Self::Overwrite => "overwrite",
            Self::Delete => "delete",
            Self::Keys => "keys",
            Self::UnicodeAndLongValues => "unicode_and_long_values",
            Self::ConcurrentSaves => "concurrent_saves",
            Self::LockExclusion => "lock_exclusion",
            Self::LockIndependence => "lock_independence",
        }
    }

    /// A one-line description of what the check proves.
    pub fn description(self) -> &'static str {
        match self {
            Self::RoundTrip => "save then load returns an equal set, secrets byte for byte",
            Self::MissingKey => "a key that was never saved loads as None",
            Self::Overwrite => "a second save replaces the first one entirely",
            Self::Delete => "delete removes only its key; deleting a missing key succeeds",
            Self::Keys => "keys lists saved keys exactly once and no deleted key",
            Self::UnicodeAndLongValues => {
                "unicode, control characters and long values survive unchanged"
            }
            Self::ConcurrentSaves => "concurrent saves and loads only ever see whole sets",
            Self::LockExclusion => "a held lock excludes every other holder of the same key",
            Self::LockIndependence => "locks on different keys do not block each other",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The checks a store passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConformanceReport {
    passed: Vec<Check>,
}

impl ConformanceReport {
    /// The checks that passed, in the order they ran.
    pub fn passed(&self) -> &[Check] {
        &self.passed
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} store conformance checks passed:", self.passed.len())?;
        for check in &self.passed {
            write!(f, " {check}")?;
        }
        Ok(())
    }
}

/// A store failed a check: which one, and what was expected and found.
///
/// The message never contains a token value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConformanceFailure {
    check: Check,
    message: String,
}

impl ConformanceFailure {
    /// The check that failed.
    pub fn check(&self) -> Check {
        self.check
    }

    /// What went wrong: the step, what was expected and what was found.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConformanceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "store conformance check `{}` ({}) failed: {}",
            self.check,
            self.check.description(),
            self.message
        )
    }
}

impl Error for ConformanceFailure {}

/// Runs every check against `store`, stopping at the first failure, with default settings.
///
/// See [`Conformance`] to change the timeouts.
pub async fn conformance(
    store: Arc<dyn TokenStore>,
) -> Result<ConformanceReport, ConformanceFailure> {
    Conformance::new().run(store).await
}

/// Runs one check against `store`, with default settings.
pub async fn run_check(check: Check, store: Arc<dyn TokenStore>) -> Result<(), ConformanceFailure> {
    Conformance::new().run_check(check, store).await
}

/// The conformance suite with its settings.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_testkit::store::Conformance;
///
/// // A slow backend (a keyring over D-Bus on a loaded CI machine) may need more time.
/// let suite = Conformance::new().with_op_timeout(Duration::from_secs(30));
/// assert_eq!(suite.op_timeout(), Duration::from_secs(30));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conformance {
    op_timeout: Duration,
    lock_probe: Duration,
}

impl Default for Conformance {
    fn default() -> Self {
        Self::new()
    }
}

impl Conformance {
    /// How long one call into the store may take before the check fails: 10 seconds.
    ///
    /// Far above what any working store needs (a keyring over D-Bus answers in milliseconds),
    /// yet short enough that a deadlock fails the test run quickly.
    pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(10);
    /// How long a second `lock` on a held key must keep waiting to count as excluded: 250 ms.
    pub const DEFAULT_LOCK_PROBE: Duration = Duration::from_millis(250);

    /// The suite with default settings.
    pub fn new() -> Self {
        Self {
            op_timeout: Self::DEFAULT_OP_TIMEOUT,
            lock_probe: Self::DEFAULT_LOCK_PROBE,
        }
    }

    /// Sets how long one call into the store may take.
    #[must_use]
    pub fn with_op_timeout(mut self, timeout: Duration) -> Self {
        self.op_timeout = timeout;
        self
    }

    /// Sets how long a second `lock` on a held key must keep waiting. It should stay well
    /// below the store's own lock timeout and the operation timeout.
    #[must_use]
    pub fn with_lock_probe(mut self, probe: Duration) -> Self {
        self.lock_probe = probe;
        self
    }

    /// How long one call into the store may take.
    pub fn op_timeout(&self) -> Duration {
        self.op_timeout
    }

    /// How long a second `lock` on a held key must keep waiting.
    pub fn lock_probe(&self) -> Duration {
        self.lock_probe
    }

    /// Runs every check in [`Check::ALL`], stopping at the first failure.
    pub async fn run(
        &self,
        store: Arc<dyn TokenStore>,
    ) -> Result<ConformanceReport, ConformanceFailure> {
        let mut passed = Vec::with_capacity(Check::ALL.len());
        for &check in Check::ALL {
            self.run_check(check, Arc::clone(&store)).await?;
            passed.push(check);
        }
        Ok(ConformanceReport { passed })
    }

    /// Runs one check, then deletes every key it created (also when it failed).
    pub async fn run_check(
        &self,
        check: Check,
        store: Arc<dyn TokenStore>,
    ) -> Result<(), ConformanceFailure> {
        let fail = |message: String| ConformanceFailure { check, message };
        let mut run = Run::new(store, *self, check).map_err(fail)?;
        let outcome = match check {
            Check::RoundTrip => checks::round_trip(&mut run).await,
            Check::MissingKey => checks::missing_key(&mut run).await,
            Check::Overwrite => checks::overwrite(&mut run).await,
            Check::Delete => checks::delete(&mut run).await,
            Check::Keys => checks::keys(&mut run).await,
            Check::UnicodeAndLongValues => checks::unicode_and_long_values(&mut run).await,
            Check::ConcurrentSaves => checks::concurrent_saves(&mut run).await,
            Check::LockExclusion => checks::lock_exclusion(&mut run).await,
            Check::LockIndependence => checks::lock_independence(&mut run).await,
        };
        let cleanup = run.cleanup().await;
        match (outcome, cleanup) {
            (Err(message), _) => Err(fail(message)),
            (Ok(()), Err(message)) => Err(fail(format!("cleaning up after the check: {message}"))),
            (Ok(()), Ok(())) => Ok(()),
        }
    }
}

/// Calls into the store, each under the operation deadline. Cheap to clone into tasks.
#[derive(Clone)]
struct Ops {
    store: Arc<dyn TokenStore>,
    limit: Duration,
}

impl Ops {
    async fn timed<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.limit, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(format!("{what} failed: {error}")),
            Err(_) => Err(format!(
                "{what} did not complete within {:?} (deadlocked, or waiting for a lock that is never released?)",
                self.limit
            )),
        }
    }

    async fn load(&self, key: &TokenKey, label: &str) -> Result<Option<TokenSet>, String> {
        self.timed(&format!("load({label})"), self.store.load(key))
            .await
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet, label: &str) -> Result<(), String> {
        self.timed(&format!("save({label})"), self.store.save(key, tokens))
            .await
    }

    async fn delete(&self, key: &TokenKey, label: &str) -> Result<(), String> {
        self.timed(&format!("delete({label})"), self.store.delete(key))
            .await
    }

    async fn keys(&self) -> Result<Vec<TokenKey>, String> {
        self.timed("keys()", self.store.keys()).await
    }

    async fn lock(&self, key: &TokenKey, label: &str) -> Result<Box<dyn StoreLock>, String> {
        let guard = self
            .timed(&format!("lock({label})"), self.store.lock(key))
            .await?;
        if guard.key() != key {
            return Err(format!(
                "lock({label}) returned a guard for another key: expected {key}, found {}",
                guard.key()
            ));
        }
        Ok(guard)
    }
}

/// The state of one check: store access, settings, and the keys to clean up.
struct Run {
    ops: Ops,
    lock_probe: Duration,
    prefix: String,
    created: Vec<TokenKey>,
}

impl Run {
    fn new(
        store: Arc<dyn TokenStore>,
        settings: Conformance,
        check: Check,
    ) -> Result<Self, String> {
        let random =
            CsrfState::generate().map_err(|e| format!("cannot make a random run id: {e}"))?;
        // 16 base64url characters: 96 bits, plenty to never collide with another run.
        let prefix: String = random.expose_secret().chars().take(16).collect();
        Ok(Self {
            ops: Ops {
                store,
                limit: settings.op_timeout,
            },
            lock_probe: settings.lock_probe,
            prefix: format!("{}-{prefix}", check.name()),
            created: Vec::new(),
        })
    }

    /// A key builder whose profile is unique to this run: `<check>-<random>-<label>`.
    fn builder(&self, label: &str) -> TokenKeyBuilder {
        TokenKey::builder(KEY_PROVIDER, KEY_ENVIRONMENT, KEY_CLIENT_ID)
            .profile(format!("{}-{label}", self.prefix))
    }

    /// Builds a key and remembers it for cleanup.
    fn register(&mut self, builder: TokenKeyBuilder) -> Result<TokenKey, String> {
        let key = builder
            .build()
            .map_err(|e| format!("cannot build a test key: {e}"))?;
        if !self.created.contains(&key) {
            self.created.push(key.clone());
        }
        Ok(key)
    }

    /// A fresh key, unique to this run, remembered for cleanup.
    fn key(&mut self, label: &str) -> Result<TokenKey, String> {
        self.register(self.builder(label))
    }

    /// Deletes every key this run created; reports the first failure after trying them all.
    async fn cleanup(&mut self) -> Result<(), String> {
        let mut first_error = None;
        for key in std::mem::take(&mut self.created) {
            if let Err(error) = self.ops.delete(&key, key.profile()).await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
