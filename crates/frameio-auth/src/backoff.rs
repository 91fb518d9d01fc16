//! How long to wait after a failed refresh: jittered exponential backoff.

use std::time::Duration;

/// The first wait after a failed refresh: 1 s (before jitter).
pub const DEFAULT_REFRESH_BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The shortest first wait a manager accepts: 1 ms (a zero backoff would spin).
pub const MIN_REFRESH_BACKOFF: Duration = Duration::from_millis(1);
/// The longest wait between two refresh attempts: 60 s (before jitter). With many processes
/// behind one failing token endpoint, each sends at most about one request a minute.
pub const DEFAULT_REFRESH_BACKOFF_MAX: Duration = Duration::from_secs(60);
/// The longest `Retry-After` a token endpoint can impose on the manager: 5 minutes.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);
/// How often a manager whose login is dead looks in the store for a new one (written by a
/// `login` in another process): at most every 10 s. No request is sent meanwhile.
pub const DEFAULT_NEEDS_LOGIN_RELOAD: Duration = Duration::from_secs(10);

/// The backoff settings of a manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub(crate) base: Duration,
    pub(crate) max: Duration,
    pub(crate) max_retry_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: DEFAULT_REFRESH_BACKOFF_BASE,
            max: DEFAULT_REFRESH_BACKOFF_MAX,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }
}

impl Backoff {
    /// The wait after `failures` failures in a row (1 for the first): "equal jitter", half
    /// of `min(max, base * 2^(failures-1))` plus a random share of the other half, so
    /// processes spread out yet never retry sooner than half the nominal delay. A
    /// `Retry-After` from the server is honoured up to `max_retry_after`.
    pub(crate) fn delay(
        &self,
        failures: u32,
        retry_after: Option<Duration>,
        random: u64,
    ) -> Duration {
        let exponent = failures.saturating_sub(1).min(30);
        let nominal = self.base.saturating_mul(1u32 << exponent).min(self.max);
        let half = nominal / 2;
        let half_millis = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let jitter = if half_millis == 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(random % (half_millis + 1))
        };
        let delay = half + jitter;
        match retry_after {
            Some(asked) => delay.max(asked.min(self.max_retry_after)),
            None => delay,
        }
    }
}

/// A small, fast generator for jitter (SplitMix64), seeded per manager from the OS.
#[derive(Debug)]
pub(crate) struct Jitter(std::sync::atomic::AtomicU64);

impl Jitter {
    pub(crate) fn new(seed: u64) -> Self {
        Self(std::sync::atomic::AtomicU64::new(seed))
    }

    pub(crate) fn next(&self) -> u64 {
        let z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A random seed from the operating system, so processes do not jitter in lockstep; a fixed
/// fallback if the OS has no randomness to give (jitter then still spreads by token).
pub(crate) fn os_seed() -> u64 {
    let mut bytes = [0u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => 0x5DEE_CE66_D1CE_5EED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_and_never_fall_below_half() {
        let backoff = Backoff::default();
        for failures in 1..40 {
            for random in [0, 1, 7_777, u64::MAX] {
                let delay = backoff.delay(failures, None, random);
                let nominal = (DEFAULT_REFRESH_BACKOFF_BASE * 2u32.pow((failures - 1).min(10)))
                    .min(DEFAULT_REFRESH_BACKOFF_MAX);
                assert!(delay >= nominal / 2, "{failures}: {delay:?}");
                assert!(delay <= nominal, "{failures}: {delay:?}");
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_its_cap() {
        let backoff = Backoff::default();
        assert_eq!(
            backoff.delay(1, Some(Duration::from_secs(30)), 0),
            Duration::from_secs(30)
        );
        assert_eq!(
            backoff.delay(1, Some(Duration::from_secs(3600)), 0),
            DEFAULT_MAX_RETRY_AFTER
        );
    }

    #[test]
    fn jitter_differs_between_seeds() {
        let a = Jitter::new(1);
        let b = Jitter::new(2);
        assert_ne!(a.next(), b.next());
    }
}
