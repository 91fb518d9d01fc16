//! Absolute points in time, in milliseconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A point in wall-clock time: milliseconds since the Unix epoch.
///
/// Token expiry is absolute (it survives a restart and is shared between processes), so it is
/// kept as wall-clock time rather than as [`std::time::Instant`]. All arithmetic saturates:
/// an absurd lifetime gives the far future, never an overflow or a panic.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_core::Timestamp;
///
/// let t = Timestamp::from_unix_secs(1_700_000_000);
/// assert_eq!(t.saturating_add(Duration::from_secs(60)).as_unix_secs(), 1_700_000_060);
/// assert_eq!(Timestamp::MAX.saturating_add(Duration::MAX), Timestamp::MAX);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(u64);

fn duration_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Timestamp {
    /// 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Self = Self(0);
    /// The latest representable time; saturating arithmetic ends here.
    pub const MAX: Self = Self(u64::MAX);

    /// A time given in milliseconds since the Unix epoch.
    pub const fn from_unix_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// A time given in seconds since the Unix epoch (saturating).
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Converts a [`SystemTime`]; times before the epoch become the epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        time.duration_since(UNIX_EPOCH)
            .map_or(Self::UNIX_EPOCH, |since| Self(duration_millis(since)))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_unix_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the Unix epoch.
    pub const fn as_unix_secs(self) -> u64 {
        self.0 / 1000
    }

    /// This time plus `duration`, or [`Timestamp::MAX`] if that is not representable.
    #[must_use]
    pub fn saturating_add(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration_millis(duration)))
    }

    /// This time minus `duration`, or the epoch if that would be earlier.
    #[must_use]
    pub fn saturating_sub(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration_millis(duration)))
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        Self::from_system_time(time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(
            Timestamp::MAX.saturating_add(Duration::from_secs(1)),
            Timestamp::MAX
        );
        assert_eq!(
            Timestamp::UNIX_EPOCH.saturating_sub(Duration::from_secs(1)),
            Timestamp::UNIX_EPOCH
        );
        assert_eq!(Timestamp::from_unix_secs(u64::MAX), Timestamp::MAX);
        let t = Timestamp::from_unix_millis(5_000);
        assert_eq!(
            t.saturating_duration_since(Timestamp::from_unix_millis(7_000)),
            Duration::ZERO
        );
        assert_eq!(
            t.saturating_duration_since(Timestamp::from_unix_millis(1_500)),
            Duration::from_millis(3_500)
        );
    }

    #[test]
    fn system_time_before_epoch_is_epoch() {
        let before = UNIX_EPOCH.checked_sub(Duration::from_secs(10));
        if let Some(before) = before {
            assert_eq!(Timestamp::from_system_time(before), Timestamp::UNIX_EPOCH);
        }
    }
}
