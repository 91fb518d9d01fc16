//! Where "now" comes from: the system clock in production, a hand-driven clock in tests.

use std::collections::HashMap;
use std::fmt::{self, Debug};
use std::future::{Future, ready};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
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
/// `Retry-After` takes no wall time, or its [`PausedSleeper`], whose sleeps end only when the
/// test moves the clock. Core stays free of any async runtime.
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
/// As a [`Sleeper`] it never waits: `sleep(d)` moves the clock forward by `d` and returns at
/// once, so a test of a 2-second `Retry-After` takes no wall time. When a test must control
/// *when* a wait ends (a background retry loop, a lock timeout), give the code under test a
/// [`paused_sleeper`](Self::paused_sleeper) instead: its sleeps end only when the test moves
/// this clock.
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
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<Inner>,
}

/// What clones of a [`ManualClock`] share.
struct Inner {
    /// The time, read without a lock: `now()` sits on hot paths of the code under test.
    millis: AtomicU64,
    /// Pending paused sleeps and the futures waiting for them to appear.
    timers: Mutex<Timers>,
}

/// The paused sleeps of a clock. Ids are never reused, so a stale id finds nothing.
#[derive(Default)]
struct Timers {
    next_id: u64,
    /// Sleeps whose deadline has not been reached yet. A sleep leaves this map when the
    /// clock reaches its deadline (it is then complete) or when its future is dropped.
    sleeps: HashMap<u64, PendingSleep>,
    /// Wakers of [`ManualClock::wait_for_sleepers`] futures, woken when a sleep registers.
    watchers: HashMap<u64, Waker>,
}

struct PendingSleep {
    deadline: Timestamp,
    waker: Option<Waker>,
}

impl Timers {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

impl Inner {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.millis.load(Ordering::SeqCst))
    }

    /// The timers, recovering from poisoning: every section below leaves the maps
    /// consistent, and no waker runs while the lock is held.
    fn timers(&self) -> MutexGuard<'_, Timers> {
        self.timers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Completes every sleep whose deadline the clock has reached, earliest first.
    ///
    /// The wakers run after the lock is released: a waker may poll a future of this clock
    /// synchronously, which would otherwise deadlock.
    fn wake_due(&self) {
        let mut due = Vec::new();
        {
            let mut timers = self.timers();
            // Read under the lock, as `PausedSleep::poll` does: a sleep registering
            // concurrently either sees the new time or is seen here.
            let now = self.now();
            timers.sleeps.retain(|id, sleep| {
                if sleep.deadline > now {
                    return true;
                }
                due.push((sleep.deadline, *id, sleep.waker.take()));
                false
            });
        }
        due.sort_unstable_by_key(|(deadline, id, _)| (*deadline, *id));
        for waker in due.into_iter().filter_map(|(_, _, waker)| waker) {
            waker.wake();
        }
    }
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            inner: Arc::new(Inner {
                millis: AtomicU64::new(start.as_unix_millis()),
                timers: Mutex::new(Timers::default()),
            }),
        }
    }

    /// Moves the clock forward by `duration` (saturating), and completes every
    /// [paused sleep](Self::paused_sleeper) that is then due.
    pub fn advance(&self, duration: Duration) {
        let step = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        let mut current = self.inner.millis.load(Ordering::SeqCst);
        loop {
            let next = current.saturating_add(step);
            match self.inner.millis.compare_exchange_weak(
                current,
                next,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        self.inner.wake_due();
    }

    /// Sets the clock to `time`, forwards or backwards, and completes every
    /// [paused sleep](Self::paused_sleeper) that is then due. Moving backwards never
    /// un-completes a sleep.
    pub fn set(&self, time: Timestamp) {
        self.inner
            .millis
            .store(time.as_unix_millis(), Ordering::SeqCst);
        self.inner.wake_due();
    }

    /// A [`Sleeper`] on this clock that waits for the test: `sleep(d)` completes only once
    /// the clock has been moved (by [`advance`](Self::advance), [`set`](Self::set) or
    /// [`advance_to_next_wake`](Self::advance_to_next_wake)) to `now + d` or past it. It
    /// never moves the clock itself.
    ///
    /// Give it to code that waits in the background (a retry loop, a lock timeout), then
    /// wait until that code is parked on its timer with
    /// [`wait_for_sleepers`](Self::wait_for_sleepers) and move the clock: the test decides
    /// exactly when each wait ends, and no wall time passes.
    ///
    /// ```
    /// use std::time::Duration;
    /// use frameio_auth_core::{ManualClock, Sleeper, Timestamp};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let clock = ManualClock::new(Timestamp::from_unix_secs(0));
    /// let sleeper = clock.paused_sleeper();
    /// let task = tokio::spawn(async move {
    ///     sleeper.sleep(Duration::from_secs(30)).await;
    ///     "woke up"
    /// });
    ///
    /// clock.wait_for_sleepers(1).await; // the task is parked on its timer
    /// assert_eq!(clock.next_wake(), Some(Timestamp::from_unix_secs(30)));
    /// clock.advance(Duration::from_secs(29));
    /// assert_eq!(clock.sleepers(), 1); // not yet due
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(task.await.unwrap(), "woke up");
    /// assert_eq!(clock.sleepers(), 0);
    /// # }
    /// ```
    pub fn paused_sleeper(&self) -> PausedSleeper {
        PausedSleeper {
            clock: self.clone(),
        }
    }

    /// How many paused sleeps are pending now: started, not yet due, not dropped.
    pub fn sleepers(&self) -> usize {
        self.inner.timers().sleeps.len()
    }

    /// The earliest deadline of the pending paused sleeps, if there is one.
    pub fn next_wake(&self) -> Option<Timestamp> {
        self.inner
            .timers()
            .sleeps
            .values()
            .map(|sleep| sleep.deadline)
            .min()
    }

    /// Moves the clock to the [earliest pending deadline](Self::next_wake), completing
    /// that sleep (and any other due at the same time), and returns that time; `None`, and
    /// the clock unchanged, when no paused sleep is pending. Never moves the clock backwards.
    pub fn advance_to_next_wake(&self) -> Option<Timestamp> {
        let next = self.next_wake()?;
        // `fetch_max`, not `store`: a concurrent `advance` past `next` must not be undone.
        self.inner
            .millis
            .fetch_max(next.as_unix_millis(), Ordering::SeqCst);
        self.inner.wake_due();
        Some(next)
    }

    /// Completes once at least `n` paused sleeps are pending, so that a test can wait,
    /// deterministically and without wall time, until background code is parked on its
    /// timer before moving the clock. Completes at once when `n` are already pending.
    ///
    /// The future does not borrow the clock; it can be raced with the task under test
    /// (`tokio::select!`) so that a task that ends instead of sleeping fails the test
    /// rather than hanging it.
    pub fn wait_for_sleepers(&self, n: usize) -> impl Future<Output = ()> + Send + use<> {
        WaitForSleepers {
            inner: Arc::clone(&self.inner),
            n,
            id: None,
        }
    }

    /// Starts a paused sleep of `duration` from now.
    fn start_sleep(&self, duration: Duration) -> PausedSleep {
        let mut sleep = PausedSleep {
            inner: Arc::clone(&self.inner),
            id: None,
        };
        if duration.is_zero() {
            return sleep;
        }
        let watchers: Vec<Waker> = {
            let mut timers = self.inner.timers();
            let now = self.inner.now();
            let deadline = now.saturating_add(round_up_to_millis(duration));
            if deadline <= now {
                // Only at `Timestamp::MAX`: nothing can be later, so the sleep is due.
                return sleep;
            }
            let id = timers.next_id();
            timers.sleeps.insert(
                id,
                PendingSleep {
                    deadline,
                    waker: None,
                },
            );
            sleep.id = Some(id);
            timers.watchers.drain().map(|(_, waker)| waker).collect()
        };
        for waker in watchers {
            waker.wake();
        }
        sleep
    }
}

/// `duration` rounded up to whole milliseconds (the clock's resolution), so a non-zero sleep
/// never completes before any time has passed.
fn round_up_to_millis(duration: Duration) -> Duration {
    let whole = Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX));
    if whole < duration {
        whole.saturating_add(Duration::from_millis(1))
    } else {
        whole
    }
}

impl Default for ManualClock {
    /// A clock stopped at 2023-11-14T22:13:20Z (Unix time 1 700 000 000), an arbitrary but
    /// realistic moment.
    fn default() -> Self {
        Self::new(Timestamp::from_unix_secs(1_700_000_000))
    }
}

impl Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .field("sleepers", &self.sleepers())
            .finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.inner.now()
    }
}

impl Sleeper for ManualClock {
    /// Advances the clock by `duration` and completes immediately.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.advance(duration);
        Box::pin(ready(()))
    }
}

/// A [`Sleeper`] whose sleeps end only when a test moves its [`ManualClock`]; see
/// [`ManualClock::paused_sleeper`]. Clones share the clock.
///
/// `sleep(d)` takes its deadline, `now + d` (rounded up to a whole millisecond), when it is
/// called; a zero duration completes at once. Dropping the future before it completes
/// withdraws the sleep ([`ManualClock::sleepers`] counts it no more).
#[derive(Clone, Debug)]
pub struct PausedSleeper {
    clock: ManualClock,
}

impl PausedSleeper {
    /// The clock whose moves end the sleeps.
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }
}

impl Sleeper for PausedSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.clock.start_sleep(duration))
    }
}

/// The future of one paused sleep. `id` is `None` once complete.
struct PausedSleep {
    inner: Arc<Inner>,
    id: Option<u64>,
}

impl Future for PausedSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(id) = this.id else {
            return Poll::Ready(());
        };
        let mut timers = this.inner.timers();
        let now = this.inner.now();
        let pending = match timers.sleeps.get_mut(&id) {
            // Gone from the map: the clock reached the deadline (see `wake_due`).
            None => false,
            Some(sleep) if sleep.deadline <= now => {
                timers.sleeps.remove(&id);
                false
            }
            Some(sleep) => {
                match &mut sleep.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                true
            }
        };
        drop(timers);
        if pending {
            Poll::Pending
        } else {
            this.id = None;
            Poll::Ready(())
        }
    }
}

impl Drop for PausedSleep {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.inner.timers().sleeps.remove(&id);
        }
    }
}

/// The future of [`ManualClock::wait_for_sleepers`].
struct WaitForSleepers {
    inner: Arc<Inner>,
    n: usize,
    /// The key of this future's waker in `Timers::watchers`, once it waited.
    id: Option<u64>,
}

impl Future for WaitForSleepers {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut timers = this.inner.timers();
        if timers.sleeps.len() >= this.n {
            if let Some(id) = this.id.take() {
                timers.watchers.remove(&id);
            }
            return Poll::Ready(());
        }
        let id = *this.id.get_or_insert_with(|| timers.next_id());
        // A registering sleep drains the watchers, so re-insert on every poll.
        timers.watchers.insert(id, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for WaitForSleepers {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.inner.timers().watchers.remove(&id);
        }
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

    /// A waker that records its name in `log` each time it is woken.
    struct Recorder {
        name: &'static str,
        log: Arc<Mutex<Vec<&'static str>>>,
    }

    impl std::task::Wake for Recorder {
        fn wake(self: Arc<Self>) {
            self.log.lock().unwrap().push(self.name);
        }
    }

    fn poll_once(future: &mut Pin<Box<dyn Future<Output = ()> + Send + '_>>) -> Poll<()> {
        future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn paused_sleep_completes_only_when_the_clock_reaches_its_deadline() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let sleeper = clock.paused_sleeper();
        let mut sleep = sleeper.sleep(Duration::from_secs(30));
        assert_eq!(clock.sleepers(), 1);
        assert_eq!(clock.next_wake(), Some(Timestamp::from_unix_secs(30)));
        for _ in 0..3 {
            assert_eq!(poll_once(&mut sleep), Poll::Pending);
        }
        assert_eq!(
            clock.now(),
            Timestamp::from_unix_secs(0),
            "never moves the clock"
        );
        clock.advance(Duration::from_millis(29_999));
        assert_eq!(poll_once(&mut sleep), Poll::Pending);
        clock.advance(Duration::from_millis(1));
        assert_eq!(clock.sleepers(), 0, "a due sleep is no longer pending");
        assert_eq!(clock.next_wake(), None);
        assert_eq!(poll_once(&mut sleep), Poll::Ready(()));
        // Moving the clock back does not undo a completed sleep.
        clock.set(Timestamp::from_unix_secs(0));
        assert_eq!(poll_once(&mut sleep), Poll::Ready(()));
    }

    #[test]
    fn zero_and_sub_millisecond_sleeps() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let sleeper = clock.paused_sleeper();
        let mut zero = sleeper.sleep(Duration::ZERO);
        assert_eq!(clock.sleepers(), 0);
        assert_eq!(poll_once(&mut zero), Poll::Ready(()));
        // Rounded up to the clock's resolution: it never completes with no time passed.
        let mut short = sleeper.sleep(Duration::from_micros(1));
        assert_eq!(clock.next_wake(), Some(Timestamp::from_unix_millis(1)));
        assert_eq!(poll_once(&mut short), Poll::Pending);
        clock.advance(Duration::from_millis(1));
        assert_eq!(poll_once(&mut short), Poll::Ready(()));
        // At the end of time nothing is later: due at once rather than never.
        clock.set(Timestamp::MAX);
        let mut last = sleeper.sleep(Duration::from_secs(1));
        assert_eq!(poll_once(&mut last), Poll::Ready(()));
    }

    #[test]
    fn set_forwards_wakes_due_sleepers_in_deadline_order() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let sleeper = clock.paused_sleeper();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut sleeps: Vec<_> = [("three", 3), ("one", 1), ("four", 4), ("two", 2)]
            .into_iter()
            .map(|(name, secs)| {
                let waker = Waker::from(Arc::new(Recorder {
                    name,
                    log: Arc::clone(&log),
                }));
                let mut sleep = sleeper.sleep(Duration::from_secs(secs));
                let polled = sleep.as_mut().poll(&mut Context::from_waker(&waker));
                assert_eq!(polled, Poll::Pending);
                (name, sleep)
            })
            .collect();
        assert_eq!(clock.sleepers(), 4);
        clock.set(Timestamp::from_unix_secs(3));
        assert_eq!(*log.lock().unwrap(), ["one", "two", "three"]);
        assert_eq!(clock.next_wake(), Some(Timestamp::from_unix_secs(4)));
        for (name, sleep) in sleeps.iter_mut().filter(|(name, _)| *name != "four") {
            assert_eq!(poll_once(sleep), Poll::Ready(()), "{name}");
        }
        assert_eq!(
            clock.advance_to_next_wake(),
            Some(Timestamp::from_unix_secs(4))
        );
        assert_eq!(*log.lock().unwrap(), ["one", "two", "three", "four"]);
        assert_eq!(clock.advance_to_next_wake(), None);
        assert_eq!(clock.now(), Timestamp::from_unix_secs(4));
    }

    #[test]
    fn dropping_a_sleep_withdraws_it() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let sleeper = clock.paused_sleeper();
        let mut kept = sleeper.sleep(Duration::from_secs(10));
        let mut dropped = sleeper.sleep(Duration::from_secs(5));
        assert_eq!(poll_once(&mut dropped), Poll::Pending);
        assert_eq!(clock.sleepers(), 2);
        drop(dropped);
        assert_eq!(clock.sleepers(), 1);
        assert_eq!(clock.next_wake(), Some(Timestamp::from_unix_secs(10)));
        // The withdrawn deadline is skipped: the next wake is the kept sleep's.
        assert_eq!(
            clock.advance_to_next_wake(),
            Some(Timestamp::from_unix_secs(10))
        );
        assert_eq!(poll_once(&mut kept), Poll::Ready(()));
    }

    #[test]
    fn immediate_sleeper_also_wakes_paused_sleeps() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let sleeper = clock.paused_sleeper();
        let mut paused = sleeper.sleep(Duration::from_secs(2));
        // The clock's own sleep moves time, which is a move like any other.
        let mut immediate = clock.sleep(Duration::from_secs(2));
        assert_eq!(poll_once(&mut immediate), Poll::Ready(()));
        assert_eq!(poll_once(&mut paused), Poll::Ready(()));
    }

    #[tokio::test]
    async fn background_task_waits_for_the_test() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        let sleeper = clock.paused_sleeper();
        let task_clock = clock.clone();
        // A retry loop with a 10-minute backoff: with the immediate sleeper it would run
        // through its six attempts by itself.
        let task = tokio::spawn(async move {
            let mut woke_at = Vec::new();
            for _ in 0..6 {
                sleeper.sleep(Duration::from_secs(600)).await;
                woke_at.push(task_clock.now().as_unix_secs());
            }
            woke_at
        });
        for round in 1..=6 {
            clock.wait_for_sleepers(1).await;
            assert!(!task.is_finished());
            assert_eq!(clock.sleepers(), 1);
            assert_eq!(
                clock.advance_to_next_wake(),
                Some(Timestamp::from_unix_secs(600 * round))
            );
        }
        assert_eq!(task.await.unwrap(), [600, 1200, 1800, 2400, 3000, 3600]);
        assert_eq!(clock.sleepers(), 0);
    }

    #[tokio::test]
    async fn wait_for_sleepers_counts_pending_sleeps() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(0));
        clock.wait_for_sleepers(0).await;
        let mut waiting = Box::pin(clock.wait_for_sleepers(2));
        let noop = &mut Context::from_waker(Waker::noop());
        assert_eq!(waiting.as_mut().poll(noop), Poll::Pending);
        let sleeper = clock.paused_sleeper();
        let first = sleeper.sleep(Duration::from_secs(1));
        assert_eq!(waiting.as_mut().poll(noop), Poll::Pending);
        let second = sleeper.sleep(Duration::from_secs(2));
        assert_eq!(waiting.as_mut().poll(noop), Poll::Ready(()));
        drop(waiting);
        assert!(clock.inner.timers().watchers.is_empty());
        // A waiter dropped while waiting leaves nothing behind either.
        let mut abandoned = Box::pin(clock.wait_for_sleepers(3));
        assert_eq!(abandoned.as_mut().poll(noop), Poll::Pending);
        assert_eq!(clock.inner.timers().watchers.len(), 1);
        drop(abandoned);
        assert!(clock.inner.timers().watchers.is_empty());
        // Spawned sleepers are counted once they started sleeping.
        let tasks: Vec<_> = (1..=3)
            .map(|secs| {
                let sleeper = clock.paused_sleeper();
                tokio::spawn(async move { sleeper.sleep(Duration::from_secs(secs)).await })
            })
            .collect();
        clock.wait_for_sleepers(5).await;
        assert_eq!(clock.sleepers(), 5);
        drop((first, second));
        clock.advance(Duration::from_secs(3));
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(clock.sleepers(), 0);
        assert!(format!("{clock:?}").contains("sleepers: 0"));
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > Timestamp::from_unix_secs(1_577_836_800));
    }
}
