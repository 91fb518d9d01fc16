//! A time limit on a wait made of several steps, timed by an injected [`Sleeper`].

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use crate::Sleeper;

/// One time limit shared by the steps of a wait, such as a store's lock: first an in-process
/// mutex, then a cross-process lock polled with backoff, both within the same 30 seconds.
///
/// The limit is one sleep on the given [`Sleeper`], so it runs on whatever timer the caller
/// injected: a runtime's in production, a [`ManualClock`](crate::ManualClock)'s
/// [`PausedSleeper`](crate::PausedSleeper) in tests, where it ends exactly when the test
/// moves the clock past it. The sleep starts with the first step that has to wait: a wait
/// that never blocks needs no timer (and so no runtime). No wall clock is read: a system
/// clock jumping back or forth cannot stretch or cut the limit when the sleeper's timer is
/// monotonic.
///
/// ```
/// use std::future::pending;
/// use std::time::Duration;
/// use frameio_auth_core::{Deadline, ManualClock, Sleeper, Timestamp};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let clock = ManualClock::new(Timestamp::from_unix_secs(0));
/// let sleeper = clock.paused_sleeper();
/// let task = tokio::spawn(async move {
///     let mut deadline = Deadline::new(&sleeper, Some(Duration::from_secs(30)));
///     // A step that completes: its output.
///     assert_eq!(deadline.run(async { 7 }).await, Some(7));
///     // Pauses within the limit complete...
///     assert!(deadline.pause(Duration::from_secs(20)).await);
///     // ...a step still waiting when the limit passes gives `None`.
///     deadline.run(pending::<()>()).await
/// });
/// clock.wait_for_sleepers(2).await; // the limit and the 20-second pause
/// clock.advance_to_next_wake();
/// clock.wait_for_sleepers(1).await; // the limit alone, under the pending step
/// assert!(!task.is_finished());
/// assert_eq!(clock.advance_to_next_wake(), Some(Timestamp::from_unix_secs(30)));
/// assert_eq!(task.await.unwrap(), None);
/// # }
/// ```
pub struct Deadline<'a> {
    sleeper: &'a dyn Sleeper,
    limit: Option<Duration>,
    timer: Timer<'a>,
}

/// The state of the limit's sleep.
enum Timer<'a> {
    /// No step has waited yet (or there is no limit).
    NotStarted,
    Running(Pin<Box<dyn Future<Output = ()> + Send + 'a>>),
    /// The limit passed. The sleep is dropped: some sleepers' futures must not be polled
    /// again once complete.
    Passed,
}

impl<'a> Deadline<'a> {
    /// A deadline `limit` after the first step that waits; `None` never passes.
    pub fn new(sleeper: &'a dyn Sleeper, limit: Option<Duration>) -> Self {
        Self {
            sleeper,
            limit,
            timer: Timer::NotStarted,
        }
    }

    /// The limit this deadline was made with.
    pub fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// Whether the limit has passed (as seen by the last step).
    pub fn has_passed(&self) -> bool {
        matches!(self.timer, Timer::Passed)
    }

    /// Runs `step` until it completes, giving `Some` of its output, or until the limit
    /// passes, giving `None` (and dropping `step`). A step that is ready when the limit
    /// passes still counts. Once the limit has passed, every later step gives `None` without
    /// being polled.
    pub async fn run<F: Future>(&mut self, step: F) -> Option<F::Output> {
        let Some(limit) = self.limit else {
            return Some(step.await);
        };
        if let Timer::NotStarted = self.timer {
            self.timer = Timer::Running(self.sleeper.sleep(limit));
        }
        let Timer::Running(timer) = &mut self.timer else {
            return None;
        };
        let mut step = pin!(step);
        let outcome = poll_fn(|cx| {
            if let Poll::Ready(output) = step.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            timer.as_mut().poll(cx).map(|()| None)
        })
        .await;
        if outcome.is_none() {
            self.timer = Timer::Passed;
        }
        outcome
    }

    /// Sleeps for `duration` on the same sleeper, within the limit: `true` when the pause
    /// ran to its end, `false` when the limit passed first. The pause of a poll loop.
    pub async fn pause(&mut self, duration: Duration) -> bool {
        if self.has_passed() {
            // Not even started: a sleeper may act when a sleep starts (`ManualClock` moves).
            return false;
        }
        let sleeper = self.sleeper;
        self.run(sleeper.sleep(duration)).await.is_some()
    }
}

impl fmt::Debug for Deadline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let timer = match self.timer {
            Timer::NotStarted => "not started",
            Timer::Running(_) => "running",
            Timer::Passed => "passed",
        };
        f.debug_struct("Deadline")
            .field("limit", &self.limit)
            .field("timer", &timer)
            .field("sleeper", &self.sleeper)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::future::pending;
    use std::task::{Context, Waker};

    use super::*;
    use crate::{Clock, ManualClock, Timestamp};

    fn noop() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn no_timer_until_a_step_waits_and_none_without_a_limit() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let sleeper = clock.paused_sleeper();
        let mut deadline = Deadline::new(&sleeper, None);
        let mut forever = Box::pin(deadline.run(pending::<()>()));
        assert!(forever.as_mut().poll(&mut noop()).is_pending());
        assert_eq!(clock.sleepers(), 0, "no limit, no timer");
        drop(forever);

        let mut deadline = Deadline::new(&sleeper, Some(Duration::from_secs(5)));
        assert_eq!(clock.sleepers(), 0, "not started before a step");
        let mut waiting = Box::pin(deadline.run(pending::<()>()));
        assert!(waiting.as_mut().poll(&mut noop()).is_pending());
        assert_eq!(clock.next_wake(), Some(Timestamp::from_unix_secs(5)));
        clock.advance(Duration::from_millis(4_999));
        assert!(waiting.as_mut().poll(&mut noop()).is_pending());
        clock.advance(Duration::from_millis(1));
        assert_eq!(waiting.as_mut().poll(&mut noop()), Poll::Ready(None));
        drop(waiting);
        assert!(deadline.has_passed());
        // Later steps are not even polled, though they would complete.
        let mut late = Box::pin(deadline.run(async { unreachable!() }));
        assert_eq!(late.as_mut().poll(&mut noop()), Poll::Ready(None::<()>));
    }

    #[test]
    fn a_ready_step_wins_over_a_passed_limit() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let sleeper = clock.paused_sleeper();
        let mut deadline = Deadline::new(&sleeper, Some(Duration::from_secs(1)));
        let mut first = Box::pin(deadline.run(pending::<()>()));
        assert!(first.as_mut().poll(&mut noop()).is_pending());
        drop(first);
        clock.advance(Duration::from_secs(1));
        let mut ready = Box::pin(deadline.run(async { 1 }));
        assert_eq!(ready.as_mut().poll(&mut noop()), Poll::Ready(Some(1)));
    }

    #[tokio::test]
    async fn the_immediate_manual_sleeper_passes_at_once_and_is_not_polled_again() {
        // `ManualClock` as a sleeper completes with `std::future::Ready`, which panics if
        // polled twice: the deadline must not poll its timer after it passed.
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let mut deadline = Deadline::new(&clock, Some(Duration::from_secs(30)));
        assert_eq!(deadline.run(pending::<()>()).await, None);
        assert!(!deadline.pause(Duration::from_secs(1)).await);
        assert_eq!(clock.now(), Timestamp::from_unix_secs(30));
        assert!(format!("{deadline:?}").contains("passed"));
    }

    #[tokio::test]
    async fn pauses_share_one_limit() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let sleeper = clock.paused_sleeper();
        let task_clock = clock.clone();
        let task = tokio::spawn(async move {
            let mut deadline = Deadline::new(&sleeper, Some(Duration::from_secs(10)));
            let mut pauses = 0;
            while deadline.pause(Duration::from_secs(4)).await {
                pauses += 1;
            }
            (pauses, task_clock.now())
        });
        for _ in 0..2 {
            clock.wait_for_sleepers(2).await;
            clock.advance_to_next_wake();
        }
        clock.wait_for_sleepers(2).await;
        // The third pause would end at 12 s; the limit at 10 s comes first.
        assert_eq!(
            clock.advance_to_next_wake(),
            Some(Timestamp::from_unix_secs(10))
        );
        assert_eq!(task.await.unwrap(), (2, Timestamp::from_unix_secs(10)));
        assert_eq!(clock.sleepers(), 0, "the dropped pause is withdrawn");
    }
}
