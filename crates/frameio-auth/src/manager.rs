//! `TokenManager`: the one token cache. The hot path lives here; refreshes in `refresh.rs`.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use frameio_auth_core::{
    AuthError, Clock, ConfigError, RefreshDecision, RefreshPolicy, Sleeper, TokenKey, TokenSet,
    TokenSource, TokenStore,
};
use frameio_auth_oauth::user_login::{ShowUrl, UserLogin};
use frameio_auth_oauth::{LoginError, LoopbackReceiver, PendingAuthorization};
use tokio::sync::broadcast;

use crate::backoff::{Backoff, Jitter};
use crate::cached::{Cached, CachedToken};
use crate::events::{EVENT_CAPACITY, TokenEvent, TokenEvents};
use crate::metrics::Metrics;
use crate::refresh::{Control, FlightKind};
use crate::time::HotClock;
use crate::{LogoutReport, TokenError, TokenManagerBuilder};

/// Gets, keeps and refreshes the tokens of one credential: the one token cache.
///
/// Call [`access_token`](Self::access_token) (or [`with_token`](Self::with_token)) before
/// every API request. It answers from memory while the token is fresh (no lock, no
/// allocation, no system call), refreshes ahead of expiry in the background while callers
/// keep the current token, makes every caller of an expired token wait for one shared
/// refresh, and across processes takes the store's lock, adopts what another process already
/// refreshed and saves a rotated refresh token before letting go. `docs/refresh.md` has the
/// whole algorithm.
///
/// Cloning is cheap: clones share one cache. Dropping the last clone stops the manager's
/// background work (a refresh already on the wire still finishes and saves its result).
///
/// ```
/// use std::time::Duration;
/// use async_trait::async_trait;
/// use frameio_auth::TokenManager;
/// use frameio_auth_core::{AccessToken, AuthError, Lifetime, SystemClock, Clock, TokenKey, TokenSet, TokenSource};
///
/// /// A source that mints a token locally (a real one calls IMS).
/// struct Minter;
///
/// #[async_trait]
/// impl TokenSource for Minter {
///     async fn fetch<'a>(&self, _current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
///         Ok(TokenSet::new(AccessToken::new("minted"), SystemClock.now(), Lifetime::ExpiresIn(Duration::from_secs(3600))))
///     }
///     fn key(&self) -> TokenKey {
///         TokenKey::builder("example", "local", "minter").build().expect("a valid key")
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), frameio_auth::TokenError> {
/// let manager = TokenManager::builder(Minter).build();
/// let token = manager.access_token().await?;
/// assert_eq!(token.expose_secret(), "minted");
/// // In a hot loop, borrow instead of taking a handle:
/// let length = manager.with_token(|bearer| bearer.len()).await?;
/// assert_eq!(length, 6);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenManager {
    pub(crate) inner: Arc<Inner>,
}

/// Everything a manager and its background tasks share.
pub(crate) struct Inner {
    pub(crate) source: Arc<dyn TokenSource>,
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) key: TokenKey,
    pub(crate) policy: RefreshPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    hot_clock: HotClock,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) backoff: Backoff,
    pub(crate) needs_login_reload: Duration,
    pub(crate) jitter: Jitter,
    pub(crate) metrics: Metrics,
    /// The set in use; `None` before the first load and after a logout.
    pub(crate) cache: ArcSwapOption<Cached>,
    /// Refresh bookkeeping. A std mutex, never held across an `.await`.
    control: Mutex<Control>,
    /// Created on the first `subscribe`, so a manager nobody listens to costs no buffer.
    events: OnceLock<broadcast::Sender<TokenEvent>>,
}

impl Inner {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        source: Arc<dyn TokenSource>,
        store: Arc<dyn TokenStore>,
        key: TokenKey,
        policy: RefreshPolicy,
        clock: Arc<dyn Clock>,
        hot_clock: HotClock,
        sleeper: Arc<dyn Sleeper>,
        backoff: Backoff,
        needs_login_reload: Duration,
        seed: u64,
        metrics: Metrics,
    ) -> Self {
        Self {
            source,
            store,
            key,
            policy,
            clock,
            hot_clock,
            sleeper,
            backoff,
            needs_login_reload,
            jitter: Jitter::new(seed),
            metrics,
            cache: ArcSwapOption::empty(),
            control: Mutex::new(Control::default()),
            events: OnceLock::new(),
        }
    }

    pub(crate) fn control(&self) -> MutexGuard<'_, Control> {
        // Nothing panics while holding it; should something, the bookkeeping is still sound.
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn emit(&self, event: TokenEvent) {
        if let Some(sender) = self.events.get() {
            // No subscriber left is not an error.
            let _ = sender.send(event);
        }
    }

    /// The cached set if it may be handed out now, starting a background refresh the first
    /// time it is seen inside its refresh-ahead window.
    #[inline]
    pub(crate) fn usable_now<'a>(
        self: &Arc<Self>,
        cached: &'a Arc<Cached>,
    ) -> Option<&'a Arc<Cached>> {
        match cached.decide(self.hot_clock.now()) {
            RefreshDecision::Fresh => Some(cached),
            RefreshDecision::RefreshAhead => {
                if cached.claim_refresh_ahead() {
                    self.start_background(FlightKind::Ahead);
                }
                Some(cached)
            }
            RefreshDecision::Expired => None,
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let mut control = self.control.lock().unwrap_or_else(PoisonError::into_inner);
        control.stop_background();
        control.save_on_drop(self);
    }
}

impl TokenManager {
    /// Starts building a manager over `source`.
    pub fn builder(source: impl TokenSource + 'static) -> TokenManagerBuilder {
        TokenManagerBuilder::shared(Arc::new(source))
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The stored entry this manager owns.
    pub fn key(&self) -> &TokenKey {
        &self.inner.key
    }

    /// A valid access token: from memory when fresh, otherwise after one shared refresh.
    ///
    /// The handle costs one reference-count increment. Many threads taking handles at once
    /// contend on that count (40–60 ns a call with two threads); in hot loops across threads
    /// use [`with_token`](Self::with_token), which borrows instead.
    ///
    /// Errors: [`ErrorKind::NeedsLogin`](frameio_auth_core::ErrorKind::NeedsLogin) when the
    /// login is dead or absent (no request is sent again until a new login or import),
    /// [`ErrorKind::Transient`](frameio_auth_core::ErrorKind::Transient) when the token
    /// endpoint fails and the current token has really expired (until then it is served),
    /// and the other kinds as the source reports them. Every caller of one refresh gets the
    /// same error.
    pub async fn access_token(&self) -> Result<CachedToken, TokenError> {
        {
            let guard = self.inner.cache.load();
            if let Some(cached) = guard.as_ref().and_then(|c| self.inner.usable_now(c)) {
                return Ok(CachedToken(Arc::clone(cached)));
            }
        }
        self.inner.acquire().await.map(CachedToken)
    }

    /// Runs `use_token` on a valid access token's text, borrowed rather than handed out.
    ///
    /// The fastest way to read the token when many tasks do so at once (it touches no shared
    /// reference count). Keep `use_token` short (build a header, not a request): the set it
    /// borrows stays pinned while it runs.
    ///
    /// # Security
    ///
    /// The text is a live credential: never log it.
    pub async fn with_token<R>(&self, use_token: impl FnOnce(&str) -> R) -> Result<R, TokenError> {
        {
            let guard = self.inner.cache.load();
            if let Some(cached) = guard.as_ref().and_then(|c| self.inner.usable_now(c)) {
                return Ok(use_token(cached.tokens.access_token().expose_secret()));
            }
        }
        let cached = self.inner.acquire().await?;
        Ok(use_token(cached.tokens.access_token().expose_secret()))
    }

    /// The set in memory as it is, without loading, refreshing or checking expiry (for a
    /// status display).
    pub fn peek(&self) -> Option<CachedToken> {
        self.inner.cache.load_full().map(CachedToken)
    }

    /// Fetches a new set under the store's lock, even when the stored one is fresh.
    /// Concurrent calls share one fetch.
    pub async fn force_refresh(&self) -> Result<CachedToken, TokenError> {
        self.inner.flight(FlightKind::Forced).await.map(CachedToken)
    }

    /// For a `401` on `rejected`: returns a newer set when this process or another already has
    /// one, and fetches only when `rejected` is still the current token. So N concurrent
    /// 401s on one token cause one refresh.
    pub async fn refresh_if_current(
        &self,
        rejected: &frameio_auth_core::AccessToken,
    ) -> Result<CachedToken, TokenError> {
        if let Some(cached) = self.inner.cache.load_full()
            && cached.tokens.access_token() != rejected
            && cached.usable_at(self.inner.clock.now())
        {
            return Ok(CachedToken(cached));
        }
        self.inner
            .flight(FlightKind::Rejected(rejected.clone()))
            .await
            .map(CachedToken)
    }

    /// Runs a user login through a loopback receiver (see [`UserLogin::login_with_loopback`])
    /// and saves the result as this manager's login.
    ///
    /// `login` must be the credential this manager's source renews (the same key); a login
    /// for another credential is refused before anything is shown. Build the manager over a
    /// shared credential (`TokenManager::builder(Arc::clone(&credential))`) to keep a handle
    /// for this call.
    pub async fn login(
        &self,
        login: &dyn UserLogin,
        receiver: LoopbackReceiver,
        show_url: ShowUrl,
    ) -> Result<CachedToken, LoginError> {
        self.check_login_is_ours(login)?;
        let tokens = login.login_with_loopback(receiver, show_url).await?;
        self.inner
            .import(tokens)
            .await
            .map(CachedToken)
            .map_err(LoginError::Auth)
    }

    /// Finishes a login whose redirect the app received itself (a pasted URL, a custom
    /// scheme, a web server's callback): checks that `pending` belongs to `login` and the
    /// `state`, exchanges the code, and saves the result as this manager's login.
    ///
    /// `login` must be the credential this manager's source renews, as for
    /// [`login`](Self::login); `pending` comes from [`UserLogin::begin`].
    pub async fn complete_login(
        &self,
        login: &dyn UserLogin,
        pending: &PendingAuthorization,
        callback_url: &frameio_auth_oauth::url::Url,
    ) -> Result<CachedToken, LoginError> {
        self.check_login_is_ours(login)?;
        let tokens = login
            .complete(pending, callback_url)
            .await
            .map_err(LoginError::Auth)?;
        self.inner
            .import(tokens)
            .await
            .map(CachedToken)
            .map_err(LoginError::Auth)
    }

    fn check_login_is_ours(&self, login: &dyn UserLogin) -> Result<(), LoginError> {
        if login.key() == self.inner.source.key() {
            return Ok(());
        }
        Err(LoginError::Auth(AuthError::Config(ConfigError::new(
            format!(
                "this login is for `{}`, but the manager renews `{}`; log in with the manager's own credential",
                login.key(),
                self.inner.source.key()
            ),
        ))))
    }

    /// Makes `tokens` this manager's login and saves it, for apps that run the code exchange
    /// themselves (a web server's callback handler). A dead login is revived by it.
    ///
    /// If the save fails, the set is still used by this manager and saved at its next
    /// refresh, and the store's error is returned.
    pub async fn import(&self, tokens: TokenSet) -> Result<CachedToken, TokenError> {
        self.inner
            .import(tokens)
            .await
            .map(CachedToken)
            .map_err(TokenError::from)
    }

    /// The current login: the set in memory, else the stored one. `None` when there is none.
    ///
    /// # Security
    ///
    /// The set holds live credentials (the refresh token among them): keep it as carefully
    /// as the store does.
    pub async fn export(&self) -> Result<Option<TokenSet>, TokenError> {
        if let Some(cached) = self.inner.cache.load_full() {
            return Ok(Some(cached.tokens.clone()));
        }
        Ok(self.inner.store.load(&self.inner.key).await?)
    }

    /// Ends the login: revokes or invalidates it at the provider where the provider supports
    /// that, then deletes the stored entry and forgets the set in memory. The local delete
    /// happens even when the provider cannot be reached; the report says how each went.
    pub async fn logout(&self) -> LogoutReport {
        self.inner.logout().await
    }

    /// Events of this manager's login: refreshed, logged in, logged out, needs login,
    /// refresh failing, save failed. They carry no secret.
    ///
    /// A refresh sends its events before its waiting callers get its result, so a caller that
    /// subscribed first finds them with [`TokenEvents::try_recv`] as soon as its call returns.
    pub fn subscribe(&self) -> TokenEvents {
        TokenEvents(
            self.inner
                .events
                .get_or_init(|| broadcast::channel(EVENT_CAPACITY).0)
                .subscribe(),
        )
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("key", &self.inner.key)
            .field(
                "cached",
                &self.inner.cache.load().as_ref().map(|c| &c.tokens),
            )
            .finish_non_exhaustive()
    }
}
