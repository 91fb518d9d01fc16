//! Where "now" comes from: the system clock in production, a hand-driven clock in tests.

use std::fmt::Debug;
use std::future::{Future, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::Timestamp;

/// A source of the current wall-clock time.
///
/// Everything that asks "is this token expired?" takes the time from a `Clock`, so tests can
/// move time forward by hand ([`ManualClock`]) instead of sleeping.
pub trait Clock: Send + Sync + Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// Waits for a while: the one way frameio-auth code pauses (retry backoff, `Retry-After`).
///
/// Production code uses a runtime timer (the transport crate provides a tokio one); tests use
/// [`ManualClock`], whose `sleep` moves the clock forward at once, so a test of a 2-second
/// `Retry-After` takes no wall time. Core stays free of any async runtime.
pub trait Sleeper: Send + Sync + Debug {
    /// Completes after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }
}

/// A clock that moves only when told to. Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_core::{Clock, ManualClock, Timestamp};
///
/// let clock = ManualClock::new(Timestamp::from_unix_secs(100));
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(shared.now(), Timestamp::from_unix_secs(105));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    millis: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            millis: Arc::new(AtomicU64::new(start.as_unix_millis())),
        }
    }

    /// Moves the clock forward by `duration` (saturating).
    pub fn advance(&self, duration: Duration) {
        let step = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        let mut current = self.millis.load(Ordering::SeqCst);
        loop {
            let next = current.saturating_add(step);
            match self.millis.compare_exchange_weak(
                current,
                next,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// Sets the clock to `time`, forwards or backwards.
    pub fn set(&self, time: Timestamp) {
        self.millis.store(time.as_unix_millis(), Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    /// A clock stopped at 2023-11-14T22:13:20Z (Unix time 1 700 000 000), an arbitrary but
    /// realistic moment.
    fn default() -> Self {
        Self::new(Timestamp::from_unix_secs(1_700_000_000))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.millis.load(Ordering::SeqCst))
    }
}

impl Sleeper for ManualClock {
    /// Advances the clock by `duration` and completes immediately.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.advance(duration);
        Box::pin(ready(()))
    }
}

impl<S: Sleeper + ?Sized> Sleeper for Arc<S> {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        (**self).sleep(duration)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(10));
        assert_eq!(clock.now(), Timestamp::from_unix_secs(10));
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now(), Timestamp::from_unix_millis(11_500));
        clock.set(Timestamp::from_unix_secs(3));
        assert_eq!(clock.now(), Timestamp::from_unix_secs(3));
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), Timestamp::MAX);
    }

    #[tokio::test]
    async fn manual_sleep_advances_without_waiting() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        clock.sleep(Duration::from_secs(2)).await;
        assert_eq!(clock.now(), Timestamp::from_unix_secs(2));
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > Timestamp::from_unix_secs(1_577_836_800));
    }
}
