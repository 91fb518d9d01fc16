//! When to refresh: a pure decision over a token set and the current time.

use std::time::Duration;

use crate::{Timestamp, TokenSet};

/// What to do with a cached token set at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefreshDecision {
    /// Use it; nothing to do.
    Fresh,
    /// Still usable, but inside the refresh-ahead window: keep using it and start one
    /// background refresh.
    RefreshAhead,
    /// Do not send it: it has expired or is about to (within the expiry margin). Callers wait
    /// for one shared refresh.
    Expired,
}

/// The refresh decision for one token set, worked out in advance by
/// [`RefreshPolicy::schedule`].
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_core::{AccessToken, Lifetime, RefreshDecision, RefreshPolicy, Timestamp, TokenSet};
///
/// let issued = Timestamp::from_unix_secs(1_700_000_000);
/// let tokens = TokenSet::new(AccessToken::new("a"), issued, Lifetime::ExpiresIn(Duration::from_secs(3600)));
/// let schedule = RefreshPolicy::default().without_jitter().schedule(&tokens);
/// assert_eq!(schedule.decide(issued), RefreshDecision::Fresh);
/// assert_eq!(schedule.refresh_from(), Some(issued.saturating_add(Duration::from_secs(3600 - 330))));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefreshSchedule {
    /// `(refresh_from, expired_from)`; `None` for tokens that never expire.
    thresholds: Option<(Timestamp, Timestamp)>,
}

impl RefreshSchedule {
    /// What to do at `now`: two comparisons.
    #[inline]
    pub fn decide(&self, now: Timestamp) -> RefreshDecision {
        match self.thresholds {
            Some((_, expired_from)) if now >= expired_from => RefreshDecision::Expired,
            Some((refresh_from, _)) if now >= refresh_from => RefreshDecision::RefreshAhead,
            _ => RefreshDecision::Fresh,
        }
    }

    /// When the refresh-ahead window starts; `None` for tokens that never expire.
    pub fn refresh_from(&self) -> Option<Timestamp> {
        self.thresholds.map(|(refresh_from, _)| refresh_from)
    }

    /// When the token stops being handed out; `None` for tokens that never expire.
    pub fn expired_from(&self) -> Option<Timestamp> {
        self.thresholds.map(|(_, expired_from)| expired_from)
    }
}

/// Decides when a token set should be refreshed. Pure: no clock, no I/O, no randomness.
///
/// With `L` the token's lifetime and `r` the time it has left:
///
/// - **Expired** when `r <= margin`, where `margin` is the expiry margin (default
///   [`DEFAULT_EXPIRY_MARGIN`](Self::DEFAULT_EXPIRY_MARGIN), 30 s, capped at half of `L`).
///   The margin covers clock skew and requests in flight: a token that dies on the way is of
///   no use.
/// - **`RefreshAhead`** when `r <= margin + window`, where `window` is the smaller of
///   [`DEFAULT_MAX_WINDOW`](Self::DEFAULT_MAX_WINDOW) (5 minutes) and
///   [`DEFAULT_LIFETIME_PERCENT`](Self::DEFAULT_LIFETIME_PERCENT) (10 %) of `L`, shortened by
///   a jitter of up to [`DEFAULT_JITTER_PERCENT`](Self::DEFAULT_JITTER_PERCENT) (20 %).
/// - **Fresh** otherwise, and always for tokens that never expire.
///
/// The jitter is derived from the token's own times and a seed, so it is stable for one token
/// (the decision never flickers between calls) yet differs between tokens, which spreads the
/// refreshes of many clients. Give each process its own seed with
/// [`with_jitter_seed`](Self::with_jitter_seed) to spread processes that share one token.
///
/// For a 24-hour IMS token: refresh-ahead starts between 5 min 30 s and 4 min 30 s before
/// expiry, and callers stop using it 30 s before expiry.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_core::RefreshPolicy;
///
/// let policy = RefreshPolicy::default()
///     .with_max_window(Duration::from_secs(600))
///     .with_expiry_margin(Duration::from_secs(60));
/// assert_eq!(policy.max_window(), Duration::from_secs(600));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshPolicy {
    max_window: Duration,
    lifetime_percent: u8,
    jitter_percent: u8,
    jitter_seed: u64,
    expiry_margin: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            max_window: Self::DEFAULT_MAX_WINDOW,
            lifetime_percent: Self::DEFAULT_LIFETIME_PERCENT,
            jitter_percent: Self::DEFAULT_JITTER_PERCENT,
            jitter_seed: 0,
            expiry_margin: Self::DEFAULT_EXPIRY_MARGIN,
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `value * numerator / denominator` without overflow; the result never exceeds `value`
/// when `numerator <= denominator`.
fn scale(value: u64, numerator: u64, denominator: u64) -> u64 {
    let denominator = denominator.max(1);
    // 64-bit division is several times faster than 128-bit; use it whenever nothing overflows.
    if let Some(product) = value.checked_mul(numerator) {
        return product / denominator;
    }
    let scaled = u128::from(value) * u128::from(numerator) / u128::from(denominator);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// SplitMix64 finalizer: a cheap, well-distributed hash of one word.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl RefreshPolicy {
    /// The largest refresh-ahead window: 5 minutes.
    pub const DEFAULT_MAX_WINDOW: Duration = Duration::from_secs(5 * 60);
    /// The window as a share of the token's lifetime, when that is smaller: 10 %.
    pub const DEFAULT_LIFETIME_PERCENT: u8 = 10;
    /// The most the window is shortened by jitter: 20 % of it.
    pub const DEFAULT_JITTER_PERCENT: u8 = 20;
    /// How long before expiry a token is no longer handed out: 30 s.
    pub const DEFAULT_EXPIRY_MARGIN: Duration = Duration::from_secs(30);

    /// Sets the largest refresh-ahead window.
    #[must_use]
    pub fn with_max_window(mut self, window: Duration) -> Self {
        self.max_window = window;
        self
    }

    /// Sets the window as a percentage of the lifetime (capped at 100).
    #[must_use]
    pub fn with_lifetime_percent(mut self, percent: u8) -> Self {
        self.lifetime_percent = percent.min(100);
        self
    }

    /// Sets the largest jitter as a percentage of the window (capped at 100).
    #[must_use]
    pub fn with_jitter_percent(mut self, percent: u8) -> Self {
        self.jitter_percent = percent.min(100);
        self
    }

    /// Turns jitter off: the window is exactly the configured one.
    #[must_use]
    pub fn without_jitter(self) -> Self {
        self.with_jitter_percent(0)
    }

    /// Sets the seed mixed into the jitter (for example a random number per process).
    #[must_use]
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = seed;
        self
    }

    /// Sets how long before expiry a token counts as expired.
    #[must_use]
    pub fn with_expiry_margin(mut self, margin: Duration) -> Self {
        self.expiry_margin = margin;
        self
    }

    /// The largest refresh-ahead window.
    pub fn max_window(&self) -> Duration {
        self.max_window
    }

    /// The window as a percentage of the lifetime.
    pub fn lifetime_percent(&self) -> u8 {
        self.lifetime_percent
    }

    /// The largest jitter, as a percentage of the window.
    pub fn jitter_percent(&self) -> u8 {
        self.jitter_percent
    }

    /// The expiry margin.
    pub fn expiry_margin(&self) -> Duration {
        self.expiry_margin
    }

    /// Decides what to do with `tokens` at `now`.
    ///
    /// Equivalent to `self.schedule(tokens).decide(now)`. A caller that asks about the same
    /// token set many times (a token cache on every API request) should keep the
    /// [`RefreshSchedule`] instead: it answers with two comparisons.
    pub fn decide(&self, tokens: &TokenSet, now: Timestamp) -> RefreshDecision {
        self.schedule(tokens).decide(now)
    }

    /// Works out once when `tokens` enters the refresh-ahead window and when it expires.
    pub fn schedule(&self, tokens: &TokenSet) -> RefreshSchedule {
        RefreshSchedule {
            thresholds: self
                .thresholds(tokens)
                .map(|(expired_from, refresh_from)| (refresh_from, expired_from)),
        }
    }

    /// When `tokens` enters the refresh-ahead window; `None` if it never expires.
    ///
    /// Useful to schedule a background refresh instead of polling.
    pub fn refresh_at(&self, tokens: &TokenSet) -> Option<Timestamp> {
        self.thresholds(tokens)
            .map(|(_, refresh_from)| refresh_from)
    }

    /// When `tokens` stops being handed out; `None` if it never expires.
    pub fn expired_at(&self, tokens: &TokenSet) -> Option<Timestamp> {
        self.thresholds(tokens)
            .map(|(expired_from, _)| expired_from)
    }

    /// `(expired_from, refresh_from)` for a token that expires.
    fn thresholds(&self, tokens: &TokenSet) -> Option<(Timestamp, Timestamp)> {
        let expires_at = tokens.expires_at()?;
        let issued_at = tokens.issued_at();
        let lifetime = expires_at
            .as_unix_millis()
            .saturating_sub(issued_at.as_unix_millis());

        let margin = millis(self.expiry_margin).min(lifetime / 2);
        let window =
            millis(self.max_window).min(scale(lifetime, self.lifetime_percent.into(), 100));
        let draw =
            mix(self.jitter_seed
                ^ mix(issued_at.as_unix_millis() ^ mix(expires_at.as_unix_millis())))
                % 1000;
        let jitter = scale(window, u64::from(self.jitter_percent) * draw, 100 * 1000);

        let expired_from = expires_at.as_unix_millis().saturating_sub(margin);
        let refresh_from = expired_from.saturating_sub(window - jitter);
        Some((
            Timestamp::from_unix_millis(expired_from),
            Timestamp::from_unix_millis(refresh_from),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccessToken, Lifetime};

    const ISSUED: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

    fn tokens(lifetime_secs: u64) -> TokenSet {
        TokenSet::new(
            AccessToken::new("a"),
            ISSUED,
            Lifetime::ExpiresIn(Duration::from_secs(lifetime_secs)),
        )
    }

    fn at(secs_after_issue: u64) -> Timestamp {
        ISSUED.saturating_add(Duration::from_secs(secs_after_issue))
    }

    #[test]
    fn long_lived_token_uses_five_minute_window() {
        let policy = RefreshPolicy::default().without_jitter();
        let t = tokens(86_400);
        assert_eq!(policy.decide(&t, at(0)), RefreshDecision::Fresh);
        assert_eq!(
            policy.decide(&t, at(86_400 - 330 - 1)),
            RefreshDecision::Fresh
        );
        assert_eq!(
            policy.decide(&t, at(86_400 - 330)),
            RefreshDecision::RefreshAhead
        );
        assert_eq!(
            policy.decide(&t, at(86_400 - 31)),
            RefreshDecision::RefreshAhead
        );
        assert_eq!(policy.decide(&t, at(86_400 - 30)), RefreshDecision::Expired);
        assert_eq!(policy.decide(&t, at(200_000)), RefreshDecision::Expired);
    }

    #[test]
    fn short_lived_token_uses_ten_percent_window() {
        let policy = RefreshPolicy::default().without_jitter();
        let t = tokens(1000);
        // Window 100 s, margin 30 s.
        assert_eq!(policy.refresh_at(&t), Some(at(870)));
        assert_eq!(policy.expired_at(&t), Some(at(970)));
    }

    #[test]
    fn margin_never_exceeds_half_the_lifetime() {
        let policy = RefreshPolicy::default().without_jitter();
        let t = tokens(10);
        assert_eq!(policy.decide(&t, at(4)), RefreshDecision::RefreshAhead);
        assert_eq!(policy.decide(&t, at(5)), RefreshDecision::Expired);
        assert_eq!(policy.decide(&t, at(3)), RefreshDecision::Fresh);
    }

    #[test]
    fn jitter_only_shortens_the_window_and_is_stable() {
        let policy = RefreshPolicy::default();
        let t = tokens(86_400);
        let refresh_at = policy.refresh_at(&t).unwrap();
        assert!(
            refresh_at >= at(86_400 - 330) && refresh_at <= at(86_400 - 270),
            "{refresh_at:?}"
        );
        assert_eq!(policy.refresh_at(&t), Some(refresh_at));
        let spread: std::collections::BTreeSet<_> = (0..32)
            .map(|seed| policy.with_jitter_seed(seed).refresh_at(&t))
            .collect();
        assert!(spread.len() > 16, "jitter should spread seeds: {spread:?}");
    }

    #[test]
    fn never_expiring_tokens_are_always_fresh() {
        let t = TokenSet::new(AccessToken::new("a"), ISSUED, Lifetime::Never);
        assert_eq!(
            RefreshPolicy::default().decide(&t, Timestamp::MAX),
            RefreshDecision::Fresh
        );
        assert_eq!(RefreshPolicy::default().refresh_at(&t), None);
    }

    #[test]
    fn schedule_agrees_with_decide() {
        let policy = RefreshPolicy::default().with_jitter_seed(99);
        let t = tokens(3600);
        let schedule = policy.schedule(&t);
        for secs in (0..4000).step_by(7) {
            assert_eq!(
                schedule.decide(at(secs)),
                policy.decide(&t, at(secs)),
                "at {secs}"
            );
        }
    }

    #[test]
    fn percentages_are_capped() {
        let policy = RefreshPolicy::default()
            .with_lifetime_percent(250)
            .with_jitter_percent(101);
        assert_eq!(policy.lifetime_percent(), 100);
        assert_eq!(policy.jitter_percent(), 100);
    }
}
