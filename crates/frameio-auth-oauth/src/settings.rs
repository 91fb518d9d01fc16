//! [`TransportSettings`]: how every client of frameio-auth talks HTTP.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{Clock, ConfigError, MAX_RESPONSE_BYTES, Sleeper, SystemClock};
use reqwest::header::HeaderValue;

use crate::TokioSleeper;
use crate::retry::{
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_OVERALL_DEADLINE, RetryPolicy,
};
use crate::transport::DEFAULT_MAX_BODY_BYTES;
use crate::transport_security::USER_AGENT;

/// How a client talks HTTP: time limits, retries, TLS roots, proxy, user agent, and where
/// time comes from.
///
/// One value configures every client of frameio-auth: the oauth crate's
/// [`TokenClient`](crate::TokenClient) and [`EndpointClient`](crate::EndpointClient), and every
/// IMS and Frame.io V2 credential builder (`.transport(settings)`). Every setting has a
/// documented default; `TransportSettings::default()` is what a builder uses unless given
/// another value. Cloning is cheap.
///
/// | setting | default |
/// |---|---|
/// | [`retry_policy`](Self::retry_policy) | [`RetryPolicy::default`]: 4 attempts, full-jitter backoff from 500 ms |
/// | [`connect_timeout`](Self::connect_timeout) | [`DEFAULT_CONNECT_TIMEOUT`] (10 s) |
/// | [`attempt_timeout`](Self::attempt_timeout) | [`DEFAULT_ATTEMPT_TIMEOUT`] (30 s) |
/// | [`overall_deadline`](Self::overall_deadline) | [`DEFAULT_OVERALL_DEADLINE`] (60 s) |
/// | [`max_body_bytes`](Self::max_body_bytes) | [`DEFAULT_MAX_BODY_BYTES`] (1 MiB) |
/// | [`add_root_certificate`](Self::add_root_certificate) | none: the system's roots only |
/// | [`proxy`](Self::proxy), [`no_proxy`](Self::no_proxy) | the environment's proxy (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`) |
/// | [`user_agent`](Self::user_agent) | [`USER_AGENT`] (`frameio-auth/<version>`) |
/// | [`clock`](Self::clock) | [`SystemClock`] |
/// | [`sleeper`](Self::sleeper) | [`TokioSleeper`] |
///
/// Tests give a [`ManualClock`](frameio_auth_core::ManualClock) as both clock and sleeper:
/// token times, expiry checks, `Retry-After` waits and the overall deadline then follow it,
/// and no test waits for real.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_core::ManualClock;
/// use frameio_auth_oauth::{RetryPolicy, TransportSettings};
///
/// let clock = ManualClock::default();
/// let settings = TransportSettings::new()
///     .clock(clock.clone())
///     .sleeper(clock)
///     .retry_policy(RetryPolicy::default().without_jitter())
///     .attempt_timeout(Duration::from_secs(10))
///     .user_agent("my-tool/1.2 frameio-auth")
///     .no_proxy();
/// # let _ = settings;
/// ```
#[derive(Clone)]
pub struct TransportSettings {
    pub(crate) retry: RetryPolicy,
    pub(crate) connect_timeout: Duration,
    pub(crate) attempt_timeout: Duration,
    pub(crate) overall_deadline: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) root_certificates: Vec<reqwest::Certificate>,
    pub(crate) proxy: Proxies,
    pub(crate) user_agent: String,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sleeper: Arc<dyn Sleeper>,
}

/// Which proxies the HTTP client uses.
#[derive(Clone)]
pub(crate) enum Proxies {
    /// reqwest's default: the proxy variables of the environment.
    Environment,
    /// None at all.
    Disabled,
    /// These, in order (the first that matches a URL is used); the environment is ignored.
    Explicit(Vec<reqwest::Proxy>),
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            overall_deadline: DEFAULT_OVERALL_DEADLINE,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            root_certificates: Vec::new(),
            proxy: Proxies::Environment,
            user_agent: USER_AGENT.to_owned(),
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
        }
    }
}

impl TransportSettings {
    /// The defaults (see the table above).
    pub fn new() -> Self {
        Self::default()
    }

    /// How transient failures are retried. Default: [`RetryPolicy::default`].
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The time limit for opening a connection (TCP and TLS). Default:
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The time limit of one attempt (connect, send, read the whole response). Must be longer
    /// than zero. Default: [`DEFAULT_ATTEMPT_TIMEOUT`].
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The time limit of a whole request, retries and waits included, measured on the
    /// [`clock`](Self::clock). Must be longer than zero. Default:
    /// [`DEFAULT_OVERALL_DEADLINE`].
    #[must_use]
    pub fn overall_deadline(mut self, deadline: Duration) -> Self {
        self.overall_deadline = deadline;
        self
    }

    /// The largest response body read, in bytes (1 to 1 MiB). Default:
    /// [`DEFAULT_MAX_BODY_BYTES`].
    #[must_use]
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Trusts an extra root certificate besides the system's: a corporate TLS-inspecting
    /// proxy, a private IMS mirror, a test server. May be called several times.
    ///
    /// ```
    /// use frameio_auth_oauth::{TransportSettings, reqwest};
    ///
    /// # fn run(pem: &[u8]) -> Result<(), reqwest::Error> {
    /// let settings = TransportSettings::new()
    ///     .add_root_certificate(reqwest::Certificate::from_pem(pem)?);
    /// # let _ = settings;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn add_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// Sends requests through `proxy` (which may carry its own exclusion list, see
    /// [`reqwest::Proxy::no_proxy`]). May be called several times: the first proxy that
    /// matches a URL is used. The environment's proxy variables are then ignored. Default:
    /// the environment's proxy.
    ///
    /// ```
    /// use frameio_auth_oauth::{TransportSettings, reqwest};
    ///
    /// # fn run() -> Result<(), reqwest::Error> {
    /// let settings = TransportSettings::new()
    ///     .proxy(reqwest::Proxy::https("http://proxy.internal:3128")?);
    /// # let _ = settings;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn proxy(mut self, proxy: reqwest::Proxy) -> Self {
        match &mut self.proxy {
            Proxies::Explicit(proxies) => proxies.push(proxy),
            other => *other = Proxies::Explicit(vec![proxy]),
        }
        self
    }

    /// Uses no proxy at all: neither one given with [`proxy`](Self::proxy) before, nor the
    /// environment's.
    #[must_use]
    pub fn no_proxy(mut self) -> Self {
        self.proxy = Proxies::Disabled;
        self
    }

    /// The `User-Agent` header of every request, for example your application's name before
    /// this library's. Default: [`USER_AGENT`].
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Where "now" comes from: token `issued_at`, expiry checks before a refresh, HTTP-date
    /// `Retry-After` values, the overall deadline. Default: [`SystemClock`].
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How a client waits between attempts. Default: [`TokioSleeper`]. Give tests a
    /// [`ManualClock`](frameio_auth_core::ManualClock) as both clock and sleeper.
    #[must_use]
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// Checks what the setters cannot.
    pub(crate) fn validate(&self) -> Result<HeaderValue, ConfigError> {
        if self.attempt_timeout.is_zero() || self.overall_deadline.is_zero() {
            return Err(ConfigError::new(
                "the attempt timeout and the overall deadline must be longer than zero",
            ));
        }
        if !(1..=MAX_RESPONSE_BYTES).contains(&self.max_body_bytes) {
            return Err(ConfigError::new(format!(
                "the response body limit must be between 1 and {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        HeaderValue::from_str(&self.user_agent).map_err(|_| {
            ConfigError::new("the user agent must be visible ASCII text (an HTTP header value)")
        })
    }
}

impl fmt::Debug for TransportSettings {
    /// The settings, with the number of extra roots and the proxy mode (a proxy URL may carry
    /// credentials, so it is never shown).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match &self.proxy {
            Proxies::Environment => "environment".to_owned(),
            Proxies::Disabled => "none".to_owned(),
            Proxies::Explicit(list) => format!("{} configured", list.len()),
        };
        f.debug_struct("TransportSettings")
            .field("retry", &self.retry)
            .field("connect_timeout", &self.connect_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("overall_deadline", &self.overall_deadline)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("root_certificates", &self.root_certificates.len())
            .field("proxy", &proxy)
            .field("user_agent", &self.user_agent)
            .field("clock", &self.clock)
            .field("sleeper", &self.sleeper)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frameio_auth_core::{ManualClock, Timestamp};

    #[test]
    fn defaults_are_the_named_constants() {
        let settings = TransportSettings::new();
        assert_eq!(settings.retry, RetryPolicy::default());
        assert_eq!(settings.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(settings.attempt_timeout, DEFAULT_ATTEMPT_TIMEOUT);
        assert_eq!(settings.overall_deadline, DEFAULT_OVERALL_DEADLINE);
        assert_eq!(settings.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(settings.user_agent, USER_AGENT);
        assert!(matches!(settings.proxy, Proxies::Environment));
        assert!(settings.root_certificates.is_empty());
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn proxies_accumulate_until_disabled() {
        let proxy = || reqwest::Proxy::all("http://user:pw@127.0.0.1:3128").unwrap();
        let settings = TransportSettings::new().proxy(proxy()).proxy(proxy());
        assert!(matches!(&settings.proxy, Proxies::Explicit(list) if list.len() == 2));
        let shown = format!("{settings:?}");
        assert!(
            shown.contains("2 configured") && !shown.contains("pw"),
            "{shown}"
        );
        assert!(matches!(settings.no_proxy().proxy, Proxies::Disabled));
    }

    #[test]
    fn unusable_values_are_refused() {
        let settings = TransportSettings::new;
        assert!(
            settings()
                .attempt_timeout(Duration::ZERO)
                .validate()
                .is_err()
        );
        assert!(
            settings()
                .overall_deadline(Duration::ZERO)
                .validate()
                .is_err()
        );
        assert!(settings().max_body_bytes(0).validate().is_err());
        assert!(settings().max_body_bytes(2 << 20).validate().is_err());
        assert!(settings().user_agent("bad\nagent").validate().is_err());
    }

    #[test]
    fn the_clock_is_shared_not_copied() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(10));
        let settings = TransportSettings::new().clock(clock.clone());
        let copy = settings.clone();
        clock.advance(Duration::from_secs(5));
        assert_eq!(copy.clock.now(), Timestamp::from_unix_secs(15));
    }
}
