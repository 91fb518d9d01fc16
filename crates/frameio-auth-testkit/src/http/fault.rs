//! Fault injection: what goes wrong, and when.

use std::time::Duration;

/// A failure the fake produces instead of (or before) its normal answer.
///
/// Every fault response except [`DropConnection`](Fault::DropConnection) and
/// [`ResetConnection`](Fault::ResetConnection) carries the headers
/// a normal response of that fake carries (`x-debug-id` from `FakeIms`, the rate-limit
/// headers from the Frame.io fakes), and error bodies in that fake's format (OAuth
/// `{"error","error_description"}` from `FakeIms`; Frame.io's own from the Frame.io fakes).
/// A faulted request is still counted and recorded (see `requests_to` on the fakes), but it
/// changes no state: no code is consumed and no token is issued, except with
/// [`Slow`](Fault::Slow), which serves the request normally after the delay.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `429 Too Many Requests` with `Retry-After: <secs>` (delta seconds) and a JSON body
    /// `{"error":"too_many_requests","error_description":...}`.
    RetryAfter {
        /// The `Retry-After` value in seconds.
        secs: u64,
    },
    /// `429 Too Many Requests` with `Retry-After` as an HTTP date (IMF-fixdate): the fake's
    /// clock now plus `secs`, rounded up to a whole second (HTTP dates have no fractions), so a
    /// client that shares the fake's `ManualClock` computes a wait of `secs` (or up to one
    /// second more if the clock is not on a whole second).
    RetryAfterDate {
        /// Seconds from the fake's clock's now.
        secs: u64,
    },
    /// `500 Internal Server Error` with `{"error":"server_error",...}`.
    Status500,
    /// `503 Service Unavailable` with `{"error":"temporarily_unavailable",...}`.
    Status503,
    /// Any status, with an OAuth-style JSON error body (`json_body: true`; the `error` code
    /// follows the status: 400 `invalid_request`, 401 `invalid_client`, 429
    /// `too_many_requests`, 503 `temporarily_unavailable`, else `server_error`) or an empty
    /// body. A status outside 100..=999 is sent as 500.
    Status {
        /// The HTTP status code.
        status: u16,
        /// Whether to send the JSON error body.
        json_body: bool,
    },
    /// Waits `delay` (real time, `tokio::time::sleep`), then serves the request normally
    /// (state changes happen after the delay; a client that timed out may miss the answer of a
    /// request that did succeed, as in real life).
    Slow {
        /// The delay before the normal answer.
        delay: Duration,
    },
    /// `200 OK`, `Content-Type: application/json`, a complete body that is not valid JSON
    /// (an unquoted value and a trailing comma).
    MalformedJson,
    /// `200 OK`, `Content-Type: application/json`, a correct `Content-Length`, and a body that
    /// is only the first half of a JSON token response.
    HalfJson,
    /// `200 OK`, `Content-Type: application/json` and a `Content-Length` for a whole token
    /// response, but only the first half of the bytes is sent; then the connection is closed.
    TruncatedBody,
    /// A proxy's HTML error page (`Content-Type: text/html`) with the given status: 502 for a
    /// gateway error (transient for most clients), 200 for a captive portal.
    HtmlBody {
        /// The HTTP status code.
        status: u16,
    },
    /// `200 OK`, `Content-Type: application/json`, a valid JSON object of exactly `bytes`
    /// bytes (at least the size of the smallest such object) with a huge `padding` field.
    Oversized {
        /// Total body size in bytes; [`Fault::DEFAULT_OVERSIZED_BYTES`] is 2 MiB.
        bytes: usize,
    },
    /// The connection is closed without any response bytes (the request was read). The
    /// client may see an orderly close or a reset, depending on timing.
    DropConnection,
    /// The connection is reset (a TCP `RST`, never a `FIN`) without any response bytes, after
    /// the request was read: the client sees "connection reset by peer".
    ResetConnection,
    /// Each time the rule fires, the next fault of the list, in turn (the first on the first
    /// firing, and so on, starting over after the last): one rule that produces a mix, such
    /// as `Cycle(vec![Status500, RetryAfter { secs: 1 }, ResetConnection])` with
    /// [`Schedule::Random`]. An empty list never fires.
    Cycle(Vec<Fault>),
}

impl Fault {
    /// 2 MiB: twice the default response cap of the OAuth client.
    pub const DEFAULT_OVERSIZED_BYTES: usize = 2 * 1024 * 1024;

    /// [`Fault::Oversized`] of [`DEFAULT_OVERSIZED_BYTES`](Self::DEFAULT_OVERSIZED_BYTES).
    pub const fn oversized() -> Self {
        Self::Oversized {
            bytes: Self::DEFAULT_OVERSIZED_BYTES,
        }
    }

    /// [`Fault::HtmlBody`] with `502 Bad Gateway`.
    pub const fn proxy_error_page() -> Self {
        Self::HtmlBody { status: 502 }
    }

    /// [`Fault::Slow`] of `millis` milliseconds.
    pub const fn slow_millis(millis: u64) -> Self {
        Self::Slow {
            delay: Duration::from_millis(millis),
        }
    }

    /// The fault to produce on the `n`-th firing (0-based) of a rule holding this one: itself,
    /// or for a [`Cycle`](Self::Cycle) its entry `n` modulo the length (a cycle inside a
    /// cycle takes its own entries in turn). `None` for an empty cycle.
    fn pick(&self, n: u64) -> Option<Self> {
        match self {
            Self::Cycle(faults) => {
                let len = u64::try_from(faults.len()).ok().filter(|&len| len > 0)?;
                let index = usize::try_from(n % len).ok()?;
                faults[index].pick(n / len)
            }
            fault => Some(fault.clone()),
        }
    }
}

/// When an injected fault fires. Counts only requests that match the fault's path filter.
///
/// `u32` converts to [`Schedule::Next`] and [`Times`] too, so `ims.inject(fault, 2)` and
/// `ims.inject(fault, Times(2))` mean the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// The next `n` matching requests, then the fault is gone.
    Next(u32),
    /// Skip `skip` matching requests (served normally), then fire on the next `times`.
    After {
        /// Matching requests served normally first.
        skip: u32,
        /// Then this many faulted requests.
        times: u32,
    },
    /// Every `k`-th matching request (the k-th, 2k-th, ...), until cleared. `0` never fires.
    EveryNth(u32),
    /// Every matching request, until cleared.
    Always,
    /// Each matching request with a probability of `percent` % (100 and above: every one),
    /// until cleared. The draws are pseudo-random but reproducible: the same `seed` fires on
    /// the same request numbers (the 1st, 4th, ... matching request), so a run that failed can
    /// be replayed as far as the order of requests allows.
    Random {
        /// The share of matching requests that get the fault, in percent.
        percent: u8,
        /// The seed of the sequence of draws.
        seed: u64,
    },
}

/// Whether the `n`-th draw (1-based) of a [`Schedule::Random`] fires: SplitMix64 output `n`
/// of `seed`, reduced to a percentage. Stateless, so a rule needs only its request count.
fn random_fires(percent: u8, seed: u64, n: u64) -> bool {
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut z = seed.wrapping_add(n.wrapping_mul(GAMMA));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z % 100 < u64::from(percent)
}

/// "For the next N requests": `ims.inject(Fault::Status503, Times(2))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times(pub u32);

impl From<Times> for Schedule {
    fn from(times: Times) -> Self {
        Self::Next(times.0)
    }
}

impl From<u32> for Schedule {
    fn from(n: u32) -> Self {
        Self::Next(n)
    }
}

#[derive(Debug)]
struct Rule {
    fault: Fault,
    path: Option<String>,
    schedule: Schedule,
    /// Matching requests seen by this rule.
    seen: u64,
    /// Times this rule fired.
    fired: u64,
}

impl Rule {
    /// Whether this rule is done for good (it can be dropped).
    fn exhausted(&self) -> bool {
        match self.schedule {
            Schedule::Next(n) => self.fired >= u64::from(n),
            Schedule::After { skip, times } => self.seen >= u64::from(skip) + u64::from(times),
            Schedule::EveryNth(_) | Schedule::Always | Schedule::Random { .. } => false,
        }
    }

    /// Records a matching request; returns the fault if the rule fires on it.
    fn observe(&mut self) -> Option<Fault> {
        self.seen += 1;
        let due = match self.schedule {
            Schedule::Next(n) => self.fired < u64::from(n),
            Schedule::After { skip, times } => {
                self.seen > u64::from(skip) && self.seen <= u64::from(skip) + u64::from(times)
            }
            Schedule::EveryNth(0) => false,
            Schedule::EveryNth(k) => self.seen.is_multiple_of(u64::from(k)),
            Schedule::Always => true,
            Schedule::Random { percent, seed } => random_fires(percent, seed, self.seen),
        };
        let fault = if due {
            self.fault.pick(self.fired)
        } else {
            None
        };
        if fault.is_some() {
            self.fired += 1;
        }
        fault
    }
}

/// The injected faults, in injection order.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    rules: Vec<Rule>,
    fired: u64,
}

impl FaultPlan {
    pub(crate) fn add(&mut self, path: Option<String>, fault: Fault, schedule: Schedule) {
        self.rules.push(Rule {
            fault,
            path,
            schedule,
            seen: 0,
            fired: 0,
        });
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn fired(&self) -> u64 {
        self.fired
    }

    pub(crate) fn pending(&self) -> usize {
        self.rules.iter().filter(|r| !r.exhausted()).count()
    }

    /// The fault for a request to `path`, if any. Rules are tried in injection order and the
    /// first that fires wins; a `Next` rule is consumed only when it fires, while counting
    /// rules (`After`, `EveryNth`, `Random`) see every matching request.
    pub(crate) fn next_fault(&mut self, path: &str) -> Option<Fault> {
        let mut chosen = None;
        for rule in &mut self.rules {
            if rule.path.as_deref().is_some_and(|p| p != path) {
                continue;
            }
            match rule.schedule {
                Schedule::Next(_) | Schedule::Always if chosen.is_some() => {}
                _ => {
                    if let Some(fault) = rule.observe()
                        && chosen.is_none()
                    {
                        chosen = Some(fault);
                    }
                }
            }
        }
        self.rules.retain(|r| !r.exhausted());
        if chosen.is_some() {
            self.fired += 1;
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_n_then_gone() {
        let mut plan = FaultPlan::default();
        plan.add(None, Fault::Status503, Times(2).into());
        assert_eq!(plan.next_fault("/a"), Some(Fault::Status503));
        assert_eq!(plan.next_fault("/b"), Some(Fault::Status503));
        assert_eq!(plan.next_fault("/a"), None);
        assert_eq!(plan.pending(), 0);
        assert_eq!(plan.fired(), 2);
    }

    #[test]
    fn path_filter_and_order() {
        let mut plan = FaultPlan::default();
        plan.add(Some("/t".into()), Fault::Status500, 1.into());
        plan.add(None, Fault::Status503, 1.into());
        assert_eq!(plan.next_fault("/x"), Some(Fault::Status503));
        assert_eq!(plan.next_fault("/x"), None);
        assert_eq!(plan.next_fault("/t"), Some(Fault::Status500));
    }

    #[test]
    fn every_nth_and_after() {
        let mut plan = FaultPlan::default();
        plan.add(None, Fault::Status500, Schedule::EveryNth(3));
        let fired: Vec<bool> = (0..7).map(|_| plan.next_fault("/").is_some()).collect();
        assert_eq!(fired, [false, false, true, false, false, true, false]);
        let mut plan = FaultPlan::default();
        plan.add(
            None,
            Fault::Status500,
            Schedule::After { skip: 1, times: 2 },
        );
        let fired: Vec<bool> = (0..5).map(|_| plan.next_fault("/").is_some()).collect();
        assert_eq!(fired, [false, true, true, false, false]);
        assert_eq!(plan.pending(), 0);
        let mut plan = FaultPlan::default();
        plan.add(None, Fault::Status500, Schedule::EveryNth(0));
        assert_eq!(plan.next_fault("/"), None);
    }

    #[test]
    fn random_fires_on_about_its_share_reproducibly() {
        let draws = |percent, seed| {
            let mut plan = FaultPlan::default();
            plan.add(None, Fault::Status500, Schedule::Random { percent, seed });
            (0..10_000)
                .map(|_| plan.next_fault("/").is_some())
                .collect::<Vec<bool>>()
        };
        let thirty = draws(30, 7);
        let fired = thirty.iter().filter(|&&f| f).count();
        assert!((2_700..=3_300).contains(&fired), "{fired} of 10000");
        assert_eq!(thirty, draws(30, 7), "the same seed, the same draws");
        assert_ne!(thirty, draws(30, 8), "another seed, other draws");
        assert!(draws(0, 7).iter().all(|&f| !f));
        assert!(draws(100, 7).iter().all(|&f| f));
        assert!(draws(u8::MAX, 7).iter().all(|&f| f));
    }

    #[test]
    fn cycle_takes_its_faults_in_turn_and_an_empty_one_never_fires() {
        let mut plan = FaultPlan::default();
        let mix = Fault::Cycle(vec![
            Fault::Status500,
            Fault::RetryAfter { secs: 1 },
            Fault::ResetConnection,
        ]);
        plan.add(None, mix, Schedule::EveryNth(2));
        let faults: Vec<Option<Fault>> = (0..8).map(|_| plan.next_fault("/")).collect();
        assert_eq!(
            faults,
            [
                None,
                Some(Fault::Status500),
                None,
                Some(Fault::RetryAfter { secs: 1 }),
                None,
                Some(Fault::ResetConnection),
                None,
                Some(Fault::Status500),
            ]
        );
        assert_eq!(plan.fired(), 4);

        let mut plan = FaultPlan::default();
        plan.add(None, Fault::Cycle(Vec::new()), Schedule::Always);
        plan.add(None, Fault::Status503, 1.into());
        assert_eq!(plan.next_fault("/"), Some(Fault::Status503));
        assert_eq!(plan.next_fault("/"), None);
        assert_eq!(plan.fired(), 1);

        let nested = Fault::Cycle(vec![
            Fault::Status500,
            Fault::Cycle(vec![Fault::Status503, Fault::DropConnection]),
        ]);
        let mut plan = FaultPlan::default();
        plan.add(None, nested, Schedule::Always);
        let faults: Vec<Option<Fault>> = (0..4).map(|_| plan.next_fault("/")).collect();
        assert_eq!(
            faults,
            [
                Some(Fault::Status500),
                Some(Fault::Status503),
                Some(Fault::Status500),
                Some(Fault::DropConnection),
            ]
        );
    }
}
