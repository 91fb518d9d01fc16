//! Where the hot path reads "now": a coarse clock that costs one atomic load.
//!
//! Reading the system clock costs about as much as the rest of a cached `access_token()`
//! together, and the refresh decision tolerates milliseconds of staleness (its windows are
//! minutes and its expiry margin 30 s). So with the system clock, the hot path reads a
//! process-wide timestamp that one thread keeps current. An injected clock (a `ManualClock`
//! in tests) is read directly, so tests stay exact.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use frameio_auth_core::{Clock, SystemClock, Timestamp};

/// How often the process-wide coarse clock is brought up to date: 5 ms. The hot path may see
/// a time up to this much behind, which the 30 s expiry margin absorbs many times over.
pub const COARSE_CLOCK_TICK: Duration = Duration::from_millis(5);

/// Milliseconds since the epoch, as last written by the ticker thread.
static COARSE_MILLIS: AtomicU64 = AtomicU64::new(0);
static TICKER: OnceLock<()> = OnceLock::new();

/// Starts the ticker thread once per process and returns the timestamp it keeps.
fn coarse_millis() -> &'static AtomicU64 {
    TICKER.get_or_init(|| {
        COARSE_MILLIS.store(SystemClock.now().as_unix_millis(), Ordering::Relaxed);
        let spawned = std::thread::Builder::new()
            .name("frameio-auth-clock".to_owned())
            .spawn(|| {
                loop {
                    std::thread::sleep(COARSE_CLOCK_TICK);
                    COARSE_MILLIS.store(SystemClock.now().as_unix_millis(), Ordering::Relaxed);
                }
            });
        if let Err(error) = spawned {
            // Without the thread the timestamp would freeze; `HotClock::read` notices a
            // zero-tick source only through staleness, so say so loudly instead.
            tracing::error!(%error, "cannot start the coarse clock thread; reading the system clock on every call");
            COARSE_MILLIS.store(0, Ordering::Relaxed);
        }
    });
    &COARSE_MILLIS
}

/// The hot path's clock: the coarse system time, or an injected clock read exactly.
#[derive(Clone, Debug)]
pub(crate) enum HotClock {
    /// The process-wide coarse system time.
    Coarse(&'static AtomicU64),
    /// A clock the user injected.
    Injected(Arc<dyn Clock>),
}

impl HotClock {
    pub(crate) fn system() -> Self {
        Self::Coarse(coarse_millis())
    }

    #[inline]
    pub(crate) fn now(&self) -> Timestamp {
        match self {
            Self::Coarse(millis) => match millis.load(Ordering::Relaxed) {
                // The ticker could not start: fall back to the exact time.
                0 => SystemClock.now(),
                millis => Timestamp::from_unix_millis(millis),
            },
            Self::Injected(clock) => clock.now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coarse_clock_follows_the_system_clock() {
        let clock = HotClock::system();
        let before = SystemClock.now();
        let coarse = clock.now();
        let tolerance = Duration::from_secs(1);
        assert!(coarse >= before.saturating_sub(tolerance));
        assert!(coarse <= SystemClock.now().saturating_add(tolerance));
    }
}
