//! The refresh algorithm (DESIGN.md, "Refresh: the heart of the product"; docs/refresh.md).
//!
//! At most one refresh ("flight") runs per manager, in a task of its own so a caller that
//! gives up never aborts it. It takes the store's lock, re-loads, adopts a fresh set another
//! process saved, otherwise fetches with the stored set (the live refresh token) and saves
//! before the lock is released. Every caller waiting for it gets its outcome.

use std::sync::Arc;
use std::time::{Duration, Instant};

use frameio_auth_core::{
    AccessToken, AuthError, Deadline, ErrorKind, RefreshDecision, StoreError, StoreLock, Timestamp,
    TokenSet,
};
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tracing::Instrument as _;

use crate::TokenError;
use crate::cached::Cached;
use crate::events::TokenEvent;
use crate::manager::Inner;

/// What a flight ends with, handed to every waiter.
pub(crate) type Outcome = Result<Arc<Cached>, TokenError>;

/// Why a refresh runs.
#[derive(Clone, Debug)]
pub(crate) enum FlightKind {
    /// The set entered its refresh-ahead window; callers keep using it meanwhile.
    Ahead,
    /// A background retry after a failure, while the current token is still valid.
    Retry,
    /// No usable set: callers wait.
    Expired,
    /// `force_refresh`: fetch even if the stored set is fresh.
    Forced,
    /// `refresh_if_current`: this token was rejected by an API.
    Rejected(AccessToken),
}

impl FlightKind {
    fn name(&self) -> &'static str {
        match self {
            Self::Ahead => "ahead",
            Self::Retry => "retry",
            Self::Expired => "expired",
            Self::Forced => "forced",
            Self::Rejected(_) => "rejected",
        }
    }
}

/// A refresh in progress.
struct Flight {
    forced: bool,
    outcome: watch::Receiver<Option<Outcome>>,
}

/// A login the source declared dead: never sent again until the store holds another.
struct DeadLogin {
    /// The set the failed fetch was given.
    basis: Option<TokenSet>,
    error: TokenError,
    /// The store is looked at again from then on.
    reload_after: Timestamp,
}

/// A failure that gates the next attempt.
struct Failing {
    error: TokenError,
    failures: u32,
    next_attempt: Timestamp,
}

/// What `Inner::flight` does next, decided under the control lock and done outside it.
enum Step {
    /// Wait for a running flight that cannot serve us, then decide again.
    AwaitOther(watch::Receiver<Option<Outcome>>),
    /// Share a running flight's outcome.
    Join(watch::Receiver<Option<Outcome>>),
    /// Our own flight, just started.
    Own(watch::Receiver<Option<Outcome>>),
}

/// What an unsaved set may overwrite when its save is retried.
#[derive(Clone)]
pub(crate) enum Over {
    /// The set the store held when the refresh started (its refresh token is now spent).
    /// While the store still holds it, ours is the only live set; once it holds anything
    /// else, another process wrote since, and its set wins.
    Spent(Option<TokenSet>),
    /// Whatever the store holds: ours is an explicit login or import.
    Anything,
}

impl Over {
    /// Whether an unsaved set may replace `stored`.
    fn allows(&self, stored: Option<&TokenSet>) -> bool {
        match self {
            Self::Anything => true,
            Self::Spent(spent) => spent.as_ref() == stored,
        }
    }
}

/// The set in memory is newer than the stored one: a save failed after a rotation.
pub(crate) struct Unsaved {
    over: Over,
    /// Failed saves in a row, for the backoff of the background save.
    failures: u32,
}

/// Refresh bookkeeping, under `Inner::control`.
#[derive(Default)]
pub(crate) struct Control {
    flight: Option<Flight>,
    failing: Option<Failing>,
    dead: Option<DeadLogin>,
    pub(crate) unsaved: Option<Unsaved>,
    /// A background retry waiting for its slot, with its number (so a retry that wakes
    /// clears only its own registration).
    retry: Option<(u64, AbortHandle)>,
    retries_started: u64,
    /// Bumped by `logout`: a flight that started before it must not bring the login back.
    generation: u64,
    /// The hot path asked for a refresh ahead while a flight ran: start it when that ends.
    ahead_after_flight: bool,
}

impl Control {
    /// When the manager goes away with an unsaved set, one last save in the background, so
    /// the only live refresh token is not lost with the process's memory.
    pub(crate) fn save_on_drop(&mut self, inner: &Inner) {
        let (Some(unsaved), Some(cached)) = (self.unsaved.take(), inner.cache.load_full()) else {
            return;
        };
        let (store, key) = (Arc::clone(&inner.store), inner.key.clone());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(%key, "a manager with an unsaved token set was dropped outside a runtime; the set is lost");
            return;
        };
        runtime.spawn(async move {
            let saved = match store.lock(&key).await {
                Ok(lock) => match lock.reload(&*store).await {
                    Ok(stored) if unsaved.over.allows(stored.as_ref()) => {
                        lock.save_fenced(&*store, &cached.tokens).await
                    }
                    Ok(_) => Ok(()),
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            };
            if let Err(error) = saved {
                tracing::error!(%key, %error, "the last save of a dropped manager's token set failed; the set is lost");
            }
        });
    }

    /// Stops the waiting background retry, if any.
    pub(crate) fn stop_background(&mut self) {
        if let Some((_, retry)) = self.retry.take() {
            retry.abort();
        }
    }

    /// Whether a retry is parked and alive (a runtime may drop a task it never ran).
    fn retry_pending(&self) -> bool {
        self.retry
            .as_ref()
            .is_some_and(|(_, task)| !task.is_finished())
    }

    /// Forgets failures, dead logins and unsaved sets: a new login replaced them.
    fn reset(&mut self) {
        self.failing = None;
        self.dead = None;
        self.unsaved = None;
        self.ahead_after_flight = false;
        self.stop_background();
    }
}

fn runtime() -> Result<tokio::runtime::Handle, TokenError> {
    tokio::runtime::Handle::try_current().map_err(|_| {
        TokenError::from(frameio_auth_core::ConfigError::new(
            "TokenManager refreshes in tokio tasks: call it from inside a tokio runtime",
        ))
    })
}

async fn wait(mut outcome: watch::Receiver<Option<Outcome>>) -> Outcome {
    match outcome.wait_for(Option::is_some).await {
        Ok(done) => match &*done {
            Some(result) => result.clone(),
            None => Err(lost_flight()),
        },
        Err(_) => Err(lost_flight()),
    }
}

/// A flight whose task ended without an outcome: only when the runtime shuts down.
fn lost_flight() -> TokenError {
    TokenError::from(AuthError::Transient {
        message: "the refresh task ended before it finished (is the runtime shutting down?)"
            .to_owned(),
        retry_after: None,
        debug_id: None,
    })
}

impl Inner {
    /// The slow path of `access_token`: no usable set in memory. A set it ends with that is
    /// already inside its refresh-ahead window (adopted from the store) starts the
    /// background refresh at once.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Outcome {
        let outcome = self.wait_for_usable().await;
        if let Ok(cached) = &outcome {
            let _ = self.usable_now(cached);
        }
        outcome
    }

    async fn wait_for_usable(self: &Arc<Self>) -> Outcome {
        let outcome = {
            let mut control = self.control();
            // Read under the lock: a flight publishes its set before it unregisters, so a
            // caller never sees "no flight" together with a stale set.
            let now = self.clock.now();
            let held = self.cache.load_full();
            if let Some(cached) = &held {
                if cached.decide(now) != RefreshDecision::Expired {
                    return Ok(Arc::clone(cached));
                }
                // Refreshes are failing, or the login is dead, but the token in hand is still
                // valid (inside the expiry margin): serve it to its real expiry, and let the
                // next attempt run in the background when its slot opens (rule 5).
                if cached.usable_at(now) && control.dead.is_some() {
                    self.metrics.served_stale();
                    return Ok(Arc::clone(cached));
                }
                if cached.usable_at(now)
                    && let Some(failing) = &control.failing
                {
                    if now >= failing.next_attempt
                        && control.flight.is_none()
                        && !control.retry_pending()
                    {
                        let _ = self.start_flight(&mut control, FlightKind::Retry);
                    }
                    self.metrics.served_stale();
                    return Ok(Arc::clone(cached));
                }
            }
            if let Some(flight) = &control.flight {
                self.metrics.waiter();
                flight.outcome.clone()
            } else {
                if let Some(dead) = control.dead.as_ref().filter(|d| now < d.reload_after) {
                    return Err(dead.error.clone());
                }
                if let Some(failing) = control.failing.as_ref().filter(|f| now < f.next_attempt) {
                    return Err(failing.error.clone());
                }
                self.start_flight(&mut control, FlightKind::Expired)?
            }
        };
        match wait(outcome).await {
            Ok(cached) => Ok(cached),
            // The refresh failed, but the token in hand is still valid: use it (rule 5).
            Err(error) => match self.cache.load_full() {
                Some(cached) if cached.usable_at(self.clock.now()) => {
                    self.metrics.served_stale();
                    Ok(cached)
                }
                _ => Err(error),
            },
        }
    }

    /// `force_refresh` and `refresh_if_current`: join or start a flight of this kind.
    pub(crate) async fn flight(self: &Arc<Self>, kind: FlightKind) -> Outcome {
        loop {
            let step = {
                let mut control = self.control();
                let now = self.clock.now();
                if let FlightKind::Rejected(rejected) = &kind
                    && let Some(cached) = self.cache.load_full()
                    && cached.tokens.access_token() != rejected
                    && cached.usable_at(now)
                {
                    // Another caller's refresh (or another process's) replaced it already.
                    return Ok(cached);
                }
                match &control.flight {
                    // A forced refresh needs a fetch that a running non-forced flight may not
                    // make: let that one finish, then start our own.
                    Some(flight) if matches!(kind, FlightKind::Forced) && !flight.forced => {
                        Step::AwaitOther(flight.outcome.clone())
                    }
                    Some(flight) => Step::Join(flight.outcome.clone()),
                    None => {
                        if matches!(kind, FlightKind::Rejected(_)) {
                            if let Some(dead) =
                                control.dead.as_ref().filter(|d| now < d.reload_after)
                            {
                                return Err(dead.error.clone());
                            }
                            if let Some(failing) =
                                control.failing.as_ref().filter(|f| now < f.next_attempt)
                            {
                                return Err(failing.error.clone());
                            }
                        }
                        Step::Own(self.start_flight(&mut control, kind.clone())?)
                    }
                }
            };
            let (outcome, own) = match step {
                Step::AwaitOther(running) => {
                    let _ = wait(running).await;
                    continue;
                }
                Step::Join(outcome) => {
                    self.metrics.waiter();
                    (outcome, false)
                }
                Step::Own(outcome) => (outcome, true),
            };
            let result = wait(outcome).await;
            if own || matches!(kind, FlightKind::Forced) {
                return result;
            }
            // We joined someone else's refresh: check again whether it replaced our token.
        }
    }

    /// The hot path saw its set enter the refresh-ahead window: one background refresh,
    /// now, after the running flight, or when the failure backoff allows.
    pub(crate) fn start_background(self: &Arc<Self>, kind: FlightKind) {
        let mut control = self.control();
        let now = self.clock.now();
        if control.flight.is_some() {
            control.ahead_after_flight = true;
            return;
        }
        if control.retry_pending() {
            return;
        }
        let opens = [
            control.failing.as_ref().map(|f| f.next_attempt),
            control.dead.as_ref().map(|d| d.reload_after),
        ]
        .into_iter()
        .flatten()
        .max()
        .filter(|opens| now < *opens);
        match opens {
            Some(opens) => self.schedule_retry(&mut control, opens.saturating_duration_since(now)),
            // Outside a tokio runtime there is no background: the refresh then happens on
            // the slow path, which says that it needs a runtime.
            None => {
                let _ = self.start_flight(&mut control, kind);
            }
        }
    }

    fn start_flight(
        self: &Arc<Self>,
        control: &mut Control,
        kind: FlightKind,
    ) -> Result<watch::Receiver<Option<Outcome>>, TokenError> {
        let runtime = runtime()?;
        let (done, outcome) = watch::channel(None);
        control.stop_background();
        control.flight = Some(Flight {
            forced: matches!(kind, FlightKind::Forced),
            outcome: outcome.clone(),
        });
        // Created before the task, so it unregisters even a flight the runtime drops unpolled.
        let unregister = UnregisterFlight(Arc::downgrade(self), done.subscribe());
        let generation = control.generation;
        let inner = Arc::clone(self);
        runtime.spawn(async move {
            inner.run_flight(kind, generation, done).await;
            drop(unregister);
        });
        Ok(outcome)
    }

    async fn run_flight(
        self: Arc<Self>,
        kind: FlightKind,
        generation: u64,
        done: watch::Sender<Option<Outcome>>,
    ) {
        let attempt = self
            .control()
            .failing
            .as_ref()
            .map_or(1, |f| f.failures + 1);
        let span = tracing::info_span!(
            "frameio_auth.refresh",
            key = %self.key,
            reason = kind.name(),
            attempt,
            outcome = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = self
            .refresh_once(&kind, generation)
            .instrument(span.clone())
            .await;
        let outcome_name = match &result {
            Ok(_) => "ok",
            Err(error) => kind_name(error.kind()),
        };
        span.record("outcome", outcome_name);
        self.metrics.refresh(outcome_name, started.elapsed());
        span.record(
            "duration_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        span.in_scope(|| tracing::debug!("refresh finished"));
        let mut control = self.control();
        control.flight = None;
        // Only for someone: the flight's own reference does not count.
        if std::mem::take(&mut control.ahead_after_flight)
            && Arc::strong_count(&self) > 1
            && let Some(cached) = self.cache.load_full()
            && cached.decide(self.clock.now()) == RefreshDecision::RefreshAhead
            && control.failing.is_none()
            && control.dead.is_none()
        {
            let _ = self.start_flight(&mut control, FlightKind::Ahead);
        }
        // Receivers may all be gone (callers gave up): the outcome is in the cache anyway.
        let _ = done.send(Some(result));
    }

    /// One refresh under the store's lock, booked (`settle`) before the lock is released, so
    /// an `import` or `logout` waiting for the lock never sees a stale failure.
    async fn refresh_once(self: &Arc<Self>, kind: &FlightKind, generation: u64) -> Outcome {
        let asked = Instant::now();
        let lock = self.store.lock(&self.key).await.map_err(TokenError::from);
        self.metrics.lock_wait(asked.elapsed());
        let result = match &lock {
            Ok(_) if self.control().generation != generation => {
                // A logout ran while this flight waited for the lock: do not bring the login
                // back (nor mint a new token) behind its back.
                Err(TokenError::from(AuthError::NeedsLogin {
                    reason: frameio_auth_core::NeedsLoginReason::NoStoredLogin {
                        key: self.key.clone(),
                    },
                    debug_id: None,
                }))
            }
            Ok(lock) => self.refresh_locked(kind, lock.as_ref()).await,
            Err(error) => Err(error.clone()),
        };
        self.settle(kind, &result);
        result
    }

    async fn refresh_locked(self: &Arc<Self>, kind: &FlightKind, lock: &dyn StoreLock) -> Outcome {
        let held = self.cache.load_full();
        let stored = lock.reload(&*self.store).await.map_err(TokenError::from)?;
        let basis = self.choose_basis(held.as_deref(), stored, lock).await;

        if let Some(usable) = self.usable_without_fetch(kind, basis.as_ref(), held.as_ref()) {
            return Ok(usable);
        }
        if let Some(dead) = &self.control().dead
            && dead.basis == basis
        {
            // The source already said this login is dead: never send it again.
            return Err(dead.error.clone());
        }
        if lock.is_lost() {
            // The lease lapsed: another holder may be refreshing with the same refresh token.
            // Sending it too could spend it twice; the retry takes the lock again.
            return Err(TokenError::from(AuthError::Transient {
                message: "the store's lock was lost before the token request (its lease \
                          lapsed); the request was not sent, so that no other holder's \
                          refresh is undone"
                    .to_owned(),
                retry_after: None,
                debug_id: None,
            }));
        }

        let tokens = match self.fetch_within(lock, basis.as_ref()).await {
            Ok(tokens) => tokens,
            Err(error) => {
                let error = TokenError::from(error);
                if error.kind() == ErrorKind::NeedsLogin {
                    self.declare_dead(basis, &error);
                }
                return Err(error);
            }
        };

        if basis.as_ref() == Some(&tokens) {
            if tokens.is_expired(self.clock.now()) {
                // A source should say so itself; an expired set handed back is a dead login.
                let error = TokenError::from(AuthError::NeedsLogin {
                    reason: frameio_auth_core::NeedsLoginReason::NoRefreshToken,
                    debug_id: None,
                });
                self.declare_dead(basis, &error);
                return Err(error);
            }
            // Nothing could renew it (no refresh token): keep it until it really expires,
            // and do not ask again before (rule 8).
            let cached = Cached::new(tokens, &self.policy, false);
            self.cache.store(Some(Arc::clone(&cached)));
            return Ok(cached);
        }

        if let Some(adopted) = self.save_new(&tokens, basis, lock).await {
            return Ok(adopted);
        }
        let expired_on_arrival = tokens.is_expired(self.clock.now());
        let cached = Cached::new(tokens, &self.policy, true);
        self.cache.store(Some(Arc::clone(&cached)));
        if expired_on_arrival {
            // The set is saved (its refresh token is the live one now, and the next refresh
            // sends it), but its access token is dead: never serve it. A failure, so the next
            // attempt waits for the backoff and a server that always answers `expires_in: 0`
            // cannot drive a refresh loop.
            return Err(TokenError::from(AuthError::Transient {
                message: "the token endpoint issued an access token that was already expired \
                          (expires_in below 1 second); the new set was saved and the next \
                          refresh uses its refresh token"
                    .to_owned(),
                retry_after: None,
                debug_id: None,
            }));
        }
        self.emit(TokenEvent::Refreshed {
            expires_at: cached.tokens.expires_at(),
            adopted: false,
        });
        Ok(cached)
    }

    /// Remembers that `basis` cannot be renewed: it is never sent again (rule 5).
    fn declare_dead(&self, basis: Option<TokenSet>, error: &TokenError) {
        self.control().dead = Some(DeadLogin {
            basis,
            error: error.clone(),
            reload_after: self.clock.now().saturating_add(self.needs_login_reload),
        });
    }

    /// The one token request of a flight, cut off after the lock's work budget when the lock
    /// lives on a lease (the request's own retries and `Retry-After` waits included), so that
    /// only a stall longer than the lease can outlive it. The lock renews its lease meanwhile.
    async fn fetch_within(
        &self,
        lock: &dyn StoreLock,
        basis: Option<&TokenSet>,
    ) -> Result<TokenSet, AuthError> {
        let fetch = self.source.fetch(basis);
        let Some(budget) = lock.work_budget() else {
            return fetch.await;
        };
        let mut deadline = Deadline::new(&*self.sleeper, Some(budget));
        deadline.run(fetch).await.unwrap_or_else(|| {
            Err(AuthError::Transient {
                message: format!(
                    "the token request did not finish within {budget:?}, the work budget of the \
                     store's lock lease; it was abandoned so that no other holder refreshes \
                     meanwhile"
                ),
                retry_after: None,
                debug_id: None,
            })
        })
    }

    /// The set to refresh from: the stored one, except while ours is unsaved and the store
    /// still holds the spent set ours replaced (rule 7), or when the store lost its entry
    /// while ours is live (a Redis restarted empty). Then ours is saved first.
    async fn choose_basis(
        &self,
        held: Option<&Cached>,
        stored: Option<TokenSet>,
        lock: &dyn StoreLock,
    ) -> Option<TokenSet> {
        let now = self.clock.now();
        let over = self.control().unsaved.as_ref().map(|u| u.over.clone());
        let ours_is_live = over
            .as_ref()
            .is_some_and(|over| over.allows(stored.as_ref()));
        let vanished = stored.is_none()
            && lock.entry_vanished()
            && held
                .is_some_and(|held| held.tokens.can_refresh(now) || !held.tokens.is_expired(now));
        match (held, over) {
            (Some(held), _) if vanished => {
                tracing::warn!(key = %self.key, "the store lost its entry (restarted empty, or evicted); writing the live set in memory back");
                self.write_back(held, lock).await
            }
            (Some(held), Some(_)) if ours_is_live => self.write_back(held, lock).await,
            (_, over) => {
                if over.is_some() {
                    // Another process (a login, an import) wrote since our save failed.
                    tracing::warn!(key = %self.key, "the store holds a newer login than the unsaved set in memory; using the stored one");
                    self.control().unsaved = None;
                }
                stored
            }
        }
    }

    /// `basis` itself when it serves this flight without a request: published (adopted when
    /// it is not the set in memory), else `None` to fetch.
    fn usable_without_fetch(
        &self,
        kind: &FlightKind,
        basis: Option<&TokenSet>,
        held: Option<&Arc<Cached>>,
    ) -> Option<Arc<Cached>> {
        let basis = basis?;
        let now = self.clock.now();
        let is_held = held.is_some_and(|held| held.tokens == *basis);
        let serves = match kind {
            FlightKind::Forced => false,
            FlightKind::Rejected(rejected) => {
                basis.access_token() != rejected
                    && self.policy.decide(basis, now) != RefreshDecision::Expired
            }
            // Ours is inside its window: a refresh is what is wanted, unless the store has
            // a fresh set (rule 6) or ours became fresh (another flight of ours).
            FlightKind::Ahead | FlightKind::Retry => {
                self.policy.decide(basis, now) == RefreshDecision::Fresh
            }
            // Nothing usable in memory: any usable set is served at once; one inside its
            // window is then renewed in the background.
            FlightKind::Expired => match held.filter(|_| is_held) {
                Some(held) => held.decide(now) != RefreshDecision::Expired,
                None => self.policy.decide(basis, now) != RefreshDecision::Expired,
            },
        };
        if !serves {
            return None;
        }
        if let Some(held) = held.filter(|_| is_held) {
            return Some(Arc::clone(held));
        }
        let cached = Cached::new(basis.clone(), &self.policy, true);
        self.cache.store(Some(Arc::clone(&cached)));
        tracing::debug!("adopted the set another process saved");
        self.emit(TokenEvent::Refreshed {
            expires_at: basis.expires_at(),
            adopted: true,
        });
        Some(cached)
    }

    /// Saves the set in memory back under the lock, as the basis of this flight. A fenced
    /// save that loses means another holder saved meanwhile: its set is the basis then.
    async fn write_back(&self, held: &Cached, lock: &dyn StoreLock) -> Option<TokenSet> {
        match lock.save_fenced(&*self.store, &held.tokens).await {
            Ok(()) => self.control().unsaved = None,
            Err(StoreError::Fenced { .. }) => {
                if let Ok(stored) = lock.reload(&*self.store).await {
                    tracing::warn!(key = %self.key, "another holder saved while ours was written back; using the stored set");
                    self.control().unsaved = None;
                    return stored;
                }
            }
            Err(error) => self.save_failed(&error),
        }
        Some(held.tokens.clone())
    }

    /// Saves a freshly fetched set through the lock (a fenced save); on failure keeps it
    /// marked unsaved over `basis`, the stored set it replaced (rule 7).
    ///
    /// When fencing refuses the save, another holder took the lock over after ours lapsed
    /// and saved a newer set: that set is adopted and returned (ours is dropped), unless it
    /// cannot be read, and then ours stays in use, unsaved over `basis`, so that the next
    /// flight finds the newer stored set and takes it.
    async fn save_new(
        &self,
        tokens: &TokenSet,
        basis: Option<TokenSet>,
        lock: &dyn StoreLock,
    ) -> Option<Arc<Cached>> {
        match lock.save_fenced(&*self.store, tokens).await {
            Ok(()) => {
                self.control().unsaved = None;
                None
            }
            Err(StoreError::Fenced { .. }) => {
                tracing::warn!(key = %self.key, "another holder saved a newer set while this refresh ran (our lease on the store's lock lapsed); adopting the stored set");
                if let Ok(Some(stored)) = lock.reload(&*self.store).await {
                    self.control().unsaved = None;
                    let cached = Cached::new(stored, &self.policy, true);
                    self.cache.store(Some(Arc::clone(&cached)));
                    self.emit(TokenEvent::Refreshed {
                        expires_at: cached.tokens.expires_at(),
                        adopted: true,
                    });
                    return Some(cached);
                }
                self.mark_unsaved(basis);
                None
            }
            Err(error) => {
                self.mark_unsaved(basis);
                self.save_failed(&error);
                None
            }
        }
    }

    /// Marks the set in memory unsaved over `basis`, or over the basis of the first failed
    /// save when one is already pending (the store still holds that one).
    fn mark_unsaved(&self, basis: Option<TokenSet>) {
        let mut control = self.control();
        let over = control
            .unsaved
            .take()
            .map_or(Over::Spent(basis), |u| u.over);
        control.unsaved = Some(Unsaved { over, failures: 0 });
    }

    fn save_failed(&self, error: &frameio_auth_core::StoreError) {
        if let Some(unsaved) = &mut self.control().unsaved {
            unsaved.failures += 1;
        }
        tracing::error!(
            key = %self.key,
            %error,
            "cannot save the refreshed token set; it stays in use in memory and saving is retried in the background"
        );
        self.emit(TokenEvent::SaveFailed);
    }

    /// Books a flight's outcome: failures, backoff, the background retry, events.
    fn settle(self: &Arc<Self>, kind: &FlightKind, result: &Outcome) {
        let now = self.clock.now();
        let mut control = self.control();
        let Err(error) = result else {
            control.failing = None;
            control.dead = None;
            // Retry the save in the background rather than at the next refresh, which may be
            // a day away: a restart before then would lose the only live refresh token.
            if let Some(failures) = control.unsaved.as_ref().map(|u| u.failures) {
                let delay = self
                    .backoff
                    .delay(failures.max(1), None, self.jitter.next());
                self.schedule_retry(&mut control, delay);
            }
            return;
        };
        if error.kind() == ErrorKind::NeedsLogin {
            control.failing = None;
            if let Some(dead) = &mut control.dead {
                dead.reload_after = now.saturating_add(self.needs_login_reload);
            }
            drop(control);
            tracing::warn!(key = %self.key, "the login cannot be renewed; a new login is needed");
            self.emit(TokenEvent::NeedsLogin);
            return;
        }
        let failures = control.failing.as_ref().map_or(0, |f| f.failures) + 1;
        let delay = self
            .backoff
            .delay(failures, error.retry_after(), self.jitter.next());
        control.failing = Some(Failing {
            error: error.clone(),
            failures,
            next_attempt: now.saturating_add(delay),
        });
        let serving = self
            .cache
            .load()
            .as_ref()
            .is_some_and(|cached| cached.usable_at(now));
        // Only what a later attempt can cure is retried by itself: the network, the server,
        // the store. A rejected client or scope waits for a caller after the slot.
        let curable = matches!(error.kind(), ErrorKind::Transient | ErrorKind::Store);
        // An unsaved set is the only copy of a live refresh token: keep trying to save it.
        if (curable && serving) || control.unsaved.is_some() {
            self.schedule_retry(&mut control, delay);
        }
        drop(control);
        tracing::warn!(
            key = %self.key,
            reason = kind.name(),
            kind = kind_name(error.kind()),
            failures,
            retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            serving_current = serving,
            debug_id = error.debug_id(),
            "token refresh failed"
        );
        self.emit(TokenEvent::RefreshFailing {
            kind: error.kind(),
            failures,
            retry_in: delay,
            serving_current: serving,
        });
    }

    /// One retry after `delay`, holding only a weak reference while it waits, so dropping
    /// the manager ends it (and `Drop for Inner` aborts it at once).
    fn schedule_retry(self: &Arc<Self>, control: &mut Control, delay: Duration) {
        let Ok(runtime) = runtime() else { return };
        let weak = Arc::downgrade(self);
        let sleeper = Arc::clone(&self.sleeper);
        control.stop_background();
        control.retries_started += 1;
        let id = control.retries_started;
        let task = runtime.spawn(async move {
            sleeper.sleep(delay).await;
            let Some(inner) = weak.upgrade() else { return };
            let mut control = inner.control();
            if control
                .retry
                .as_ref()
                .is_none_or(|(registered, _)| *registered != id)
            {
                // Replaced while it slept (the abort raced its wake-up).
                return;
            }
            control.retry = None;
            if control.flight.is_none() {
                let _ = inner.start_flight(&mut control, FlightKind::Retry);
            }
        });
        control.retry = Some((id, task.abort_handle()));
    }

    /// `import` and `login`: the given set becomes the login, saved under the lock.
    pub(crate) async fn import(
        self: &Arc<Self>,
        tokens: TokenSet,
    ) -> Result<Arc<Cached>, AuthError> {
        let _lock = self.store.lock(&self.key).await?;
        let saved = self.store.save(&self.key, &tokens).await;
        let cached = Cached::new(tokens, &self.policy, true);
        {
            let mut control = self.control();
            control.reset();
            if saved.is_err() {
                control.unsaved = Some(Unsaved {
                    over: Over::Anything,
                    failures: 1,
                });
            }
            self.cache.store(Some(Arc::clone(&cached)));
        }
        self.emit(TokenEvent::LoggedIn {
            expires_at: cached.tokens.expires_at(),
        });
        match saved {
            Ok(()) => Ok(cached),
            Err(error) => {
                tracing::error!(key = %self.key, %error, "cannot save the new login; it is in use in memory and saving is retried in the background");
                self.emit(TokenEvent::SaveFailed);
                let mut control = self.control();
                let delay = self.backoff.delay(1, None, self.jitter.next());
                self.schedule_retry(&mut control, delay);
                Err(error.into())
            }
        }
    }

    /// Revoke at the provider, then delete locally, whatever the provider said.
    pub(crate) async fn logout(self: &Arc<Self>) -> crate::LogoutReport {
        // Best effort: a store whose lock is broken must still let the user log out.
        let lock = self.store.lock(&self.key).await;
        if let Err(error) = &lock {
            tracing::warn!(key = %self.key, %error, "logging out without the store's lock");
        }
        let tokens = match self.cache.load_full() {
            Some(cached) => Ok(Some(cached.tokens.clone())),
            None => self.store.load(&self.key).await,
        };
        let provider = match tokens {
            Ok(Some(tokens)) => match self.source.revoke(&tokens).await {
                Ok(revocation) => crate::ProviderLogout::Done(revocation),
                Err(error) => {
                    tracing::warn!(key = %self.key, %error, "the provider did not end the login; deleting it locally anyway");
                    crate::ProviderLogout::Failed(error.into())
                }
            },
            Ok(None) => crate::ProviderLogout::NothingStored,
            // The stored login cannot be read, so it cannot be revoked: say so.
            Err(error) => crate::ProviderLogout::Failed(error.into()),
        };
        let local = self.store.delete(&self.key).await.map_err(TokenError::from);
        {
            let mut control = self.control();
            control.reset();
            control.generation += 1;
            self.cache.store(None);
        }
        drop(lock);
        self.emit(TokenEvent::LoggedOut);
        crate::LogoutReport { provider, local }
    }
}

/// Clears its flight's registration when the flight's task ends, however it ends (a later
/// flight's registration is left alone).
struct UnregisterFlight(std::sync::Weak<Inner>, watch::Receiver<Option<Outcome>>);

impl Drop for UnregisterFlight {
    fn drop(&mut self) {
        let Some(inner) = self.0.upgrade() else {
            return;
        };
        let mut control = inner.control();
        if control
            .flight
            .as_ref()
            .is_some_and(|flight| flight.outcome.same_channel(&self.1))
        {
            control.flight = None;
        }
    }
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NeedsLogin => "needs_login",
        ErrorKind::InvalidClient => "invalid_client",
        ErrorKind::Transient => "transient",
        ErrorKind::Rejected => "rejected",
        ErrorKind::Protocol => "protocol",
        ErrorKind::Store => "store",
        ErrorKind::Configuration => "configuration",
        _ => "other",
    }
}
