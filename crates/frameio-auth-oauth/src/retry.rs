//! When and how long to wait before trying a token request again.

use std::future::Future;
use std::time::{Duration, SystemTime};

use frameio_auth_core::{AuthError, Clock, Sleeper, Timestamp};

/// Default number of attempts per token request, the first included: 4.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// Default time limit of one attempt (connect, send, read the whole response): 30 s, the
/// timeout Frame.io's own SDK uses.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit for a whole token request, retries and waits included: 60 s, measured on the
/// client's [`Clock`](frameio_auth_core::Clock).
pub const DEFAULT_OVERALL_DEADLINE: Duration = Duration::from_secs(60);
/// Default time limit for opening a connection (TCP and TLS): 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default base of the exponential backoff: 500 ms (Adobe's aio-lib-ims starts there too).
pub const DEFAULT_BASE_BACKOFF: Duration = Duration::from_millis(500);
/// Default ceiling of one backoff step: 10 s.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Default ceiling of a server's `Retry-After`: 60 s. Longer requests are shortened to this.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How transient failures (connection errors, timeouts, 429, 500, 502, 503, 504) are retried.
///
/// Waits grow exponentially with *full jitter*: before retry `n` (0-based) the client sleeps a
/// random time in `[0, min(max_backoff, base_backoff * 2^n)]`, which spreads out many clients
/// that failed together. A server's `Retry-After` replaces the backoff, capped at
/// [`max_retry_after`](Self::max_retry_after). Permanent errors are never retried.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_oauth::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(3)
///     .with_backoff(Duration::from_millis(100), Duration::from_secs(1));
/// assert_eq!(policy.backoff_ceiling(0), Duration::from_millis(100));
/// assert_eq!(policy.backoff_ceiling(2), Duration::from_millis(400));
/// assert_eq!(policy.backoff_ceiling(10), Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            base_backoff: DEFAULT_BASE_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that makes one attempt and never retries.
    pub fn no_retries() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Sets the number of attempts, the first included (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff base and ceiling (the ceiling is raised to the base if lower).
    #[must_use]
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_backoff = base;
        self.max_backoff = max.max(base);
        self
    }

    /// Sets the longest `Retry-After` honoured; longer ones are shortened to it.
    #[must_use]
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Waits exactly the backoff ceiling instead of a random part of it (for tests).
    #[must_use]
    pub fn without_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// The number of attempts, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff base.
    pub fn base_backoff(&self) -> Duration {
        self.base_backoff
    }

    /// The backoff ceiling.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The longest `Retry-After` honoured.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// `min(max_backoff, base_backoff * 2^retry)`: the longest wait before retry `retry`
    /// (0-based).
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 1_u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base_backoff
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_backoff)
    }

    /// How long to wait before retry `retry` (0-based), given the server's `Retry-After`.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_retry_after);
        }
        let ceiling = self.backoff_ceiling(retry);
        if self.jitter {
            full_jitter(ceiling)
        } else {
            ceiling
        }
    }
}

/// What [`run_with_retries`] needs: the policy, the time limits, the injected time, and a
/// label for logs (a grant type or an endpoint name; never a URL or a value).
pub(crate) struct RetryContext<'a> {
    pub(crate) policy: RetryPolicy,
    pub(crate) attempt_timeout: Duration,
    pub(crate) overall_deadline: Duration,
    pub(crate) clock: &'a dyn Clock,
    pub(crate) sleeper: &'a dyn Sleeper,
    pub(crate) request: &'static str,
}

/// Runs `attempt(n, timeout)` (1-based) until it succeeds, fails permanently, runs out of
/// attempts, or the next wait would end after the overall deadline. Shared by every request
/// this crate sends, so token and non-token endpoints retry the same way.
pub(crate) async fn run_with_retries<T, F, Fut>(
    context: &RetryContext<'_>,
    mut attempt: F,
) -> Result<T, AuthError>
where
    F: FnMut(u32, Duration) -> Fut,
    Fut: Future<Output = Result<T, AuthError>>,
{
    let RetryContext {
        policy,
        attempt_timeout,
        overall_deadline,
        clock,
        sleeper,
        request,
    } = *context;
    let deadline = clock.now().saturating_add(overall_deadline);
    let mut number: u32 = 0;
    loop {
        number += 1;
        let remaining = deadline.saturating_duration_since(clock.now());
        let timeout = attempt_timeout.min(remaining).max(Duration::from_millis(1));
        let error = match attempt(number, timeout).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        if !error.is_retryable() {
            return Err(error);
        }
        if number >= policy.max_attempts() {
            tracing::warn!(
                request,
                attempt = number,
                "request failed; no attempts left"
            );
            return Err(error);
        }
        let delay = policy.delay(number - 1, error.retry_after());
        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        if clock.now().saturating_add(delay) >= deadline {
            tracing::warn!(
                request,
                attempt = number,
                delay_ms,
                "request failed; the next attempt would start after the overall deadline"
            );
            return Err(error);
        }
        tracing::info!(
            request,
            attempt = number,
            delay_ms,
            server_asked = error.retry_after().is_some(),
            "transient failure; retrying the request after a delay"
        );
        sleeper.sleep(delay).await;
    }
}

/// A uniformly random duration in `[0, ceiling]`, at millisecond resolution.
fn full_jitter(ceiling: Duration) -> Duration {
    let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    // If the OS cannot give randomness, waiting half the ceiling is still a sane backoff.
    let random = getrandom::u64().unwrap_or(u64::MAX / 2);
    let ms = if ceiling_ms == u64::MAX {
        random
    } else {
        random % (ceiling_ms + 1)
    };
    Duration::from_millis(ms)
}

/// Parses a `Retry-After` header value (RFC 9110 §10.2.3): delay-seconds (`120`) or an
/// HTTP-date (`Fri, 31 Dec 1999 23:59:59 GMT`), relative to `now`. A date in the past means
/// "retry now" (zero); anything unparsable is ignored (`None`).
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_core::Timestamp;
/// use frameio_auth_oauth::parse_retry_after;
///
/// let now = Timestamp::from_unix_secs(1_700_000_000); // Tue, 14 Nov 2023 22:13:20 GMT
/// assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
/// assert_eq!(
///     parse_retry_after("Tue, 14 Nov 2023 22:13:25 GMT", now),
///     Some(Duration::from_secs(5))
/// );
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long numbers saturate; the policy's cap shortens them anyway.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let now = SystemTime::UNIX_EPOCH + Duration::from_millis(now.as_unix_millis());
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented_values() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts(), 4);
        assert_eq!(policy.max_retry_after(), Duration::from_secs(60));
        assert_eq!(RetryPolicy::no_retries().max_attempts(), 1);
        assert_eq!(
            RetryPolicy::default().with_max_attempts(0).max_attempts(),
            1
        );
    }

    #[test]
    fn full_jitter_stays_within_the_ceiling() {
        let policy = RetryPolicy::default();
        for retry in 0..40 {
            let ceiling = policy.backoff_ceiling(retry);
            for _ in 0..20 {
                assert!(policy.delay(retry, None) <= ceiling);
            }
        }
        assert_eq!(policy.backoff_ceiling(u32::MAX), DEFAULT_MAX_BACKOFF);
        let spread: std::collections::HashSet<_> = (0..50).map(|_| policy.delay(5, None)).collect();
        assert!(spread.len() > 1, "jitter should vary");
        assert_eq!(
            policy.without_jitter().delay(1, None),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn retry_after_replaces_backoff_and_is_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(3600))),
            DEFAULT_MAX_RETRY_AFTER
        );
    }

    #[test]
    fn retry_after_forms() {
        let now = Timestamp::from_unix_secs(1_700_000_000);
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Tuesday, 14-Nov-23 22:14:20 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
    }
}
