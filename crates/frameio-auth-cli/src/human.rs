//! Times and durations as people read them.

use std::time::{Duration, SystemTime};

use frameio_auth::model::Timestamp;

/// An instant in RFC 3339, UTC, to the second (`2026-12-01T04:00:00Z`).
pub(crate) fn instant(at: Timestamp) -> String {
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(at.as_unix_secs());
    humantime::format_rfc3339_seconds(time).to_string()
}

/// `at` relative to `now`: `in 23h 59m` or `5m ago`, to the second below a minute.
pub(crate) fn relative(at: Timestamp, now: Timestamp) -> String {
    if at >= now {
        format!("in {}", rounded(at.saturating_duration_since(now)))
    } else {
        format!("{} ago", rounded(now.saturating_duration_since(at)))
    }
}

/// A duration to the minute (to the second below a minute): `23h 59m`, `42s`.
pub(crate) fn rounded(duration: Duration) -> String {
    let secs = duration.as_secs();
    let shown = if secs >= 60 { secs - secs % 60 } else { secs };
    humantime::format_duration(Duration::from_secs(shown)).to_string()
}

/// Milliseconds as a duration (`86399000` is `23h 59m 59s`).
pub(crate) fn millis(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
}

/// The current time.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_system_time(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_relative_times_read_well() {
        let at = Timestamp::from_unix_secs(1_700_000_000);
        assert_eq!(instant(at), "2023-11-14T22:13:20Z");
        let later = at.saturating_add(Duration::from_secs(86_399));
        assert_eq!(relative(later, at), "in 23h 59m");
        assert_eq!(relative(at, later), "23h 59m ago");
        assert_eq!(
            relative(at.saturating_add(Duration::from_secs(42)), at),
            "in 42s"
        );
        assert_eq!(millis(Duration::from_secs(86_399)), "23h 59m 59s");
    }
}
