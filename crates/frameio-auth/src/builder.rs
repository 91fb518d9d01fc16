//! Building a [`TokenManager`]: a source, and optionally a store, key, policy, clock and sleeper.

use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{
    Clock, RefreshPolicy, Sleeper, SystemClock, TokenKey, TokenSource, TokenStore,
};
use frameio_auth_oauth::TokioSleeper;
use frameio_auth_store_memory::MemoryStore;

use crate::backoff::{Backoff, DEFAULT_NEEDS_LOGIN_RELOAD, os_seed};
use crate::manager::{Inner, TokenManager};
use crate::metrics::Metrics;

/// The `profile` label of a manager's metrics unless set: `default`.
pub const DEFAULT_METRICS_PROFILE: &str = "default";
use crate::time::HotClock;

/// Builds a [`TokenManager`]. Every setting has a documented default:
///
/// | setting | default |
/// |---|---|
/// | store | a new [`MemoryStore`] (nothing survives the process) |
/// | key | the source's [`TokenSource::key`] |
/// | refresh policy | [`RefreshPolicy::default`], with a jitter seed drawn from the OS per manager |
/// | clock | the system clock (a coarse, 5 ms clock on the hot path: [`COARSE_CLOCK_TICK`](crate::COARSE_CLOCK_TICK)) |
/// | sleeper | the tokio timer |
/// | refresh backoff | [`DEFAULT_REFRESH_BACKOFF_BASE`](crate::DEFAULT_REFRESH_BACKOFF_BASE) doubling up to [`DEFAULT_REFRESH_BACKOFF_MAX`](crate::DEFAULT_REFRESH_BACKOFF_MAX), `Retry-After` honoured up to [`DEFAULT_MAX_RETRY_AFTER`](crate::DEFAULT_MAX_RETRY_AFTER) |
/// | dead-login reload | every [`DEFAULT_NEEDS_LOGIN_RELOAD`] at most |
#[must_use = "a builder does nothing until .build()"]
pub struct TokenManagerBuilder {
    source: Arc<dyn TokenSource>,
    store: Option<Arc<dyn TokenStore>>,
    key: Option<TokenKey>,
    policy: RefreshPolicy,
    jitter_seed: Option<u64>,
    clock: Option<Arc<dyn Clock>>,
    sleeper: Option<Arc<dyn Sleeper>>,
    backoff: Backoff,
    needs_login_reload: Duration,
    metrics_profile: String,
}

impl std::fmt::Debug for TokenManagerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("key", &self.key)
            .field("policy", &self.policy)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl TokenManagerBuilder {
    /// A builder over a source shared with other managers (for example one Web App
    /// credential serving many users, each with their own [`key`](Self::key)).
    pub fn shared(source: Arc<dyn TokenSource>) -> Self {
        Self {
            source,
            store: None,
            key: None,
            policy: RefreshPolicy::default(),
            jitter_seed: None,
            clock: None,
            sleeper: None,
            backoff: Backoff::default(),
            needs_login_reload: DEFAULT_NEEDS_LOGIN_RELOAD,
            metrics_profile: DEFAULT_METRICS_PROFILE.to_owned(),
        }
    }

    /// Where token sets are kept (default: a new [`MemoryStore`]).
    pub fn store(self, store: impl TokenStore + 'static) -> Self {
        self.shared_store(Arc::new(store))
    }

    /// A store shared with other managers (one store for a server's many users).
    pub fn shared_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The stored entry this manager owns (default: the source's key). Give each user of a
    /// shared source their own, for example the source's key with a per-user profile.
    pub fn key(mut self, key: TokenKey) -> Self {
        self.key = Some(key);
        self
    }

    /// When to refresh (default: [`RefreshPolicy::default`]).
    ///
    /// The policy's jitter seed is replaced by one drawn from the OS for this manager (so a
    /// fleet does not refresh in lockstep); set [`jitter_seed`](Self::jitter_seed) to fix it.
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A fixed jitter seed instead of one from the OS (tests that need exact timings).
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Where "now" comes from (default: the system clock).
    ///
    /// With a `ManualClock`, also set [`sleeper`](Self::sleeper) (its `paused_sleeper()`):
    /// otherwise backoff waits run on the tokio timer while "now" stands still.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// How the manager waits between refresh attempts (default: the tokio timer). Tests pass
    /// a `ManualClock`'s paused sleeper, whose sleeps end when the test moves the clock.
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Some(Arc::new(sleeper));
        self
    }

    /// The backoff after failed refreshes: `base` doubling up to `max`, with jitter. `base`
    /// is at least [`MIN_REFRESH_BACKOFF`](crate::MIN_REFRESH_BACKOFF) (1 ms), so a retry chain
    /// can never spin.
    pub fn refresh_backoff(mut self, base: Duration, max: Duration) -> Self {
        let base = base.max(crate::MIN_REFRESH_BACKOFF);
        self.backoff.base = base;
        self.backoff.max = max.max(base);
        self
    }

    /// The longest `Retry-After` the token endpoint can impose.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.backoff.max_retry_after = max;
        self
    }

    /// How often a dead login looks in the store for a new one.
    pub fn needs_login_reload(mut self, interval: Duration) -> Self {
        self.needs_login_reload = interval;
        self
    }

    /// The `profile` label of this manager's metrics (feature `metrics`; default
    /// [`DEFAULT_METRICS_PROFILE`]). Use the profile name from the config file: a bounded set,
    /// never a per-user value.
    pub fn metrics_profile(mut self, profile: impl Into<String>) -> Self {
        self.metrics_profile = profile.into();
        self
    }

    /// Builds the manager. Nothing is loaded or requested until the first token is asked for.
    pub fn build(self) -> TokenManager {
        let seed = self.jitter_seed.unwrap_or_else(os_seed);
        let (clock, hot_clock): (Arc<dyn Clock>, HotClock) = match self.clock {
            Some(clock) => (Arc::clone(&clock), HotClock::Injected(clock)),
            None => (Arc::new(SystemClock), HotClock::system()),
        };
        let key = self.key.unwrap_or_else(|| self.source.key());
        let metrics = Metrics::new(key.provider(), &self.metrics_profile);
        TokenManager::from_inner(Inner::new(
            self.source,
            self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
            key,
            self.policy.with_jitter_seed(seed),
            clock,
            hot_clock,
            self.sleeper.unwrap_or_else(|| Arc::new(TokioSleeper)),
            self.backoff,
            self.needs_login_reload,
            seed,
            metrics,
        ))
    }
}
