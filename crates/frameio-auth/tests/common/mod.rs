//! Sources and stores for the manager's tests: counted, gated, failing on demand.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc
)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use frameio_auth_core::{
    AccessToken, AuthError, Clock, Lifetime, ManualClock, NeedsLoginReason, RefreshToken,
    StoreError, StoreLock, Timestamp, TokenKey, TokenSet, TokenSource, TokenStore,
};
use frameio_auth_store_memory::MemoryStore;
use tokio::sync::Semaphore;

pub(crate) const HOUR: Duration = Duration::from_secs(3600);

pub(crate) fn key() -> TokenKey {
    TokenKey::builder("test", "local", "client")
        .build()
        .unwrap()
}

/// A set issued at `issued` that lives `lifetime`, with refresh token `refresh`.
pub(crate) fn set(
    access: &str,
    refresh: Option<&str>,
    issued: Timestamp,
    lifetime: Duration,
) -> TokenSet {
    let tokens = TokenSet::new(
        AccessToken::new(access),
        issued,
        Lifetime::ExpiresIn(lifetime),
    );
    match refresh {
        Some(refresh) => tokens.with_refresh_token(RefreshToken::new(refresh), None),
        None => tokens,
    }
}

/// An expired set with a refresh token, as a store holds it after a night off.
pub(crate) fn expired_login(clock: &ManualClock) -> TokenSet {
    set(
        "access-0",
        Some("refresh-0"),
        clock.now().saturating_sub(2 * HOUR),
        HOUR,
    )
}

pub(crate) fn transient() -> AuthError {
    AuthError::Transient {
        message: "token endpoint answered 503".to_owned(),
        retry_after: None,
        debug_id: Some("debug-503".to_owned()),
    }
}

pub(crate) fn invalid_grant() -> AuthError {
    AuthError::NeedsLogin {
        reason: NeedsLoginReason::InvalidGrant { description: None },
        debug_id: Some("debug-grant".to_owned()),
    }
}

/// What a [`ScriptedSource`] does on a fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Script {
    /// Rotate: a new access token and a new refresh token, living one hour.
    Rotate,
    /// Rotate, but with an access token expired on arrival (`expires_in` 0): a new refresh
    /// token that must be kept, and an access token that must never be served.
    ExpiredOnArrival,
    /// Fail with a transient error.
    Transient,
    /// Fail with `invalid_grant`.
    InvalidGrant,
    /// Never answer.
    Hang,
}

/// A source that counts fetches, records what it was given, can hold every fetch until the
/// test opens its gate, and refuses a spent refresh token as a strict server does.
pub(crate) struct ScriptedSource {
    pub(crate) clock: ManualClock,
    pub(crate) script: Mutex<Script>,
    pub(crate) fetches: AtomicUsize,
    pub(crate) started: AtomicUsize,
    gate: Semaphore,
    gated: AtomicBool,
    /// Refresh tokens seen, in order.
    pub(crate) seen: Mutex<Vec<Option<String>>>,
    /// When each fetch started.
    pub(crate) times: Mutex<Vec<Timestamp>>,
    pub(crate) spent_reused: AtomicUsize,
    /// Put before every token it issues, to tell two sources apart.
    pub(crate) prefix: String,
}

impl ScriptedSource {
    pub(crate) fn new(clock: &ManualClock, script: Script) -> Arc<Self> {
        Self::named(clock, script, "")
    }

    pub(crate) fn named(clock: &ManualClock, script: Script, prefix: &str) -> Arc<Self> {
        Arc::new(Self {
            prefix: prefix.to_owned(),
            clock: clock.clone(),
            script: Mutex::new(script),
            fetches: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
            gate: Semaphore::new(0),
            gated: AtomicBool::new(false),
            seen: Mutex::new(Vec::new()),
            times: Mutex::new(Vec::new()),
            spent_reused: AtomicUsize::new(0),
        })
    }

    /// Holds every fetch until [`open`](Self::open).
    pub(crate) fn gate(self: &Arc<Self>) -> Arc<Self> {
        self.gated.store(true, Ordering::SeqCst);
        Arc::clone(self)
    }

    pub(crate) fn open(&self) {
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    pub(crate) fn set_script(&self, script: Script) {
        *self.script.lock().unwrap() = script;
    }

    pub(crate) fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    pub(crate) async fn wait_started(&self, n: usize) {
        while self.started.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
    }

    pub(crate) async fn wait_fetches(&self, n: usize) {
        while self.fetches() < n {
            tokio::task::yield_now().await;
        }
    }
}

#[async_trait]
impl TokenSource for ScriptedSource {
    async fn fetch<'a>(&self, current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.times.lock().unwrap().push(self.clock.now());
        let given = current
            .and_then(TokenSet::refresh_token)
            .map(|r| r.expose_secret().to_owned());
        {
            let mut seen = self.seen.lock().unwrap();
            if given.is_some() && seen.iter().any(|s| s == &given) {
                self.spent_reused.fetch_add(1, Ordering::SeqCst);
            }
            seen.push(given);
        }
        if self.gated.load(Ordering::SeqCst) {
            let _permit = self.gate.acquire().await.unwrap();
        }
        let script = *self.script.lock().unwrap();
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        match script {
            Script::Rotate => Ok(set(
                &format!("{}access-{n}", self.prefix),
                Some(&format!("{}refresh-{n}", self.prefix)),
                self.clock.now(),
                HOUR,
            )),
            Script::ExpiredOnArrival => Ok(set(
                &format!("{}access-{n}", self.prefix),
                Some(&format!("{}refresh-{n}", self.prefix)),
                self.clock.now(),
                Duration::ZERO,
            )),
            Script::Transient => Err(transient()),
            Script::InvalidGrant => Err(invalid_grant()),
            Script::Hang => std::future::pending().await,
        }
    }

    fn key(&self) -> TokenKey {
        key()
    }
}

/// A memory store whose `save` fails while `failing` is set.
#[derive(Default)]
pub(crate) struct FlakyStore {
    pub(crate) inner: MemoryStore,
    pub(crate) failing: AtomicBool,
    pub(crate) saves: AtomicUsize,
}

#[async_trait]
impl TokenStore for FlakyStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable {
                backend: "flaky",
                message: "disk full".to_owned(),
            });
        }
        self.saves.fetch_add(1, Ordering::SeqCst);
        self.inner.save(key, tokens).await
    }

    async fn delete(&self, key: &TokenKey) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }

    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        self.inner.keys().await
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
        self.inner.lock(key).await
    }
}

/// `n` tasks that each ask `manager` for a token at once.
pub(crate) fn spawn_callers(
    manager: &frameio_auth::TokenManager,
    n: usize,
) -> Vec<tokio::task::JoinHandle<Result<frameio_auth::CachedToken, frameio_auth::TokenError>>> {
    (0..n)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect()
}
