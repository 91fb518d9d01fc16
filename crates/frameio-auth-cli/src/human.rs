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

/// A duration in its two largest units: `13d 23h`, `23h 59m`, `4m 10s`, `42s`.
pub(crate) fn rounded(duration: Duration) -> String {
    let parts = units(duration.as_secs());
    let shown: Vec<String> = parts
        .iter()
        .take(2)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if shown.is_empty() {
        "0s".to_owned()
    } else {
        shown.join(" ")
    }
}

/// A duration to the second: `23h 59m 59s`.
pub(crate) fn millis(duration: Duration) -> String {
    let parts = units(duration.as_secs());
    let shown: Vec<String> = parts.iter().map(|(n, unit)| format!("{n}{unit}")).collect();
    if shown.is_empty() {
        "0s".to_owned()
    } else {
        shown.join(" ")
    }
}

/// Days, hours, minutes and seconds, from the first that is not zero, zeros inside kept.
fn units(secs: u64) -> Vec<(u64, &'static str)> {
    let all = [
        (secs / 86_400, "d"),
        (secs / 3_600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
    ];
    all.into_iter().skip_while(|(n, _)| *n == 0).collect()
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
        assert_eq!(rounded(Duration::from_secs(14 * 86_400 - 60)), "13d 23h");
        assert_eq!(rounded(Duration::from_secs(119)), "1m 59s");
        assert_eq!(rounded(Duration::from_secs(3_600)), "1h 0m");
        assert_eq!(rounded(Duration::ZERO), "0s");
    }
}
