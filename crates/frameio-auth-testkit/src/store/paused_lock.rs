//! A contended `lock` driven through its timeout on a paused clock.

use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

use frameio_auth_core::{Clock, ManualClock, StoreError, TokenKey, TokenStore};

/// Asserts that `store.lock(key)` gives up with [`StoreError::LockTimeout`] exactly when the
/// test moves `clock` to `timeout` after the wait began: still waiting a millisecond before,
/// timed out at that moment. No wall time passes.
///
/// Set up the store with lock timeout `timeout` and `clock.paused_sleeper()` as its sleeper,
/// and hold `key`'s lock (through this store, a clone, or another store that excludes this
/// one) for the whole call. Nothing else may sleep on `clock` meanwhile. A store that polls a
/// lock (a lock file another store holds) pauses between attempts on the same sleeper; every
/// pause that ends before the timeout is let run. Returns how many pauses ran (0 for a store
/// that waits without polling). The wait runs inside this future, so any Tokio runtime
/// flavour works (its time driver must be enabled), and the clock is left at the timeout.
///
/// (The example uses `frameio-auth-store-memory`, which this crate does not depend on.)
///
/// ```rust,ignore
/// use std::time::Duration;
/// use frameio_auth_core::{ManualClock, TokenKey, TokenStore};
/// use frameio_auth_store_memory::MemoryStore;
/// use frameio_auth_testkit::store::assert_lock_times_out;
///
/// let clock = ManualClock::default();
/// let timeout = Duration::from_secs(5);
/// let store = MemoryStore::builder()
///     .lock_timeout(timeout)
///     .sleeper(clock.paused_sleeper())
///     .build();
/// let key = TokenKey::builder("ims", "prod", "client").build()?;
/// let held = store.lock(&key).await?;
/// assert_eq!(assert_lock_times_out(&clock, &store, &key, timeout).await, 0);
/// drop(held);
/// ```
///
/// # Panics
///
/// When the lock is taken or fails otherwise, when it times out early or late, or when the
/// store does not wait on `clock` (no paused sleep appears within
/// [`Conformance::DEFAULT_OP_TIMEOUT`](super::Conformance::DEFAULT_OP_TIMEOUT) of wall time,
/// the one wall-clock bound, so that such a store fails instead of hanging). The message
/// names the key and the times, never a token.
#[allow(clippy::panic)] // a test helper fails the way `assert!` does
pub async fn assert_lock_times_out(
    clock: &ManualClock,
    store: &dyn TokenStore,
    key: &TokenKey,
    timeout: Duration,
) -> u32 {
    let mut waiting = store.lock(key);
    let deadline = clock.now().saturating_add(timeout);
    let ended_early = |outcome: Result<_, StoreError>| {
        format!(
            "lock({key}) ended at {:?}, before its timeout at {deadline:?}: {}",
            clock.now(),
            outcome.map_or_else(|e| e.to_string(), |_| "it was taken".to_owned())
        )
    };
    let mut parked = 1;
    let mut pauses = 0;
    loop {
        // Poll the lock first: a lock that is ready must not be mistaken for a parked one.
        let park = async {
            tokio::select! {
                biased;
                outcome = &mut waiting => panic!("{}", ended_early(outcome)),
                () = clock.wait_for_sleepers(parked) => {}
            }
        };
        let patience = super::Conformance::DEFAULT_OP_TIMEOUT;
        assert!(
            tokio::time::timeout(patience, park).await.is_ok(),
            "lock({key}) started no paused sleep within {patience:?}: does the store sleep on \
             this clock's paused_sleeper()?"
        );
        // The timeout's timer, plus the pause before the next attempt of a polling store.
        parked = clock.sleepers();
        match clock.next_wake() {
            Some(next) if next < deadline => {
                clock.advance_to_next_wake();
                pauses += 1;
            }
            next => {
                assert_eq!(
                    next,
                    Some(deadline),
                    "lock({key}) waits on no paused sleep ending at its timeout"
                );
                break;
            }
        }
    }
    clock.set(deadline.saturating_sub(Duration::from_millis(1)));
    let early = poll_fn(|cx| Poll::Ready(waiting.as_mut().poll(cx))).await;
    if let Poll::Ready(outcome) = early {
        panic!("{}", ended_early(outcome));
    }
    clock.set(deadline);
    match waiting.await {
        Err(StoreError::LockTimeout { key: k, waited }) => {
            assert_eq!(&k, key, "the timeout names another key");
            assert_eq!(waited, timeout, "lock({key}) reports another timeout");
        }
        other => panic!(
            "lock({key}) should have timed out at {deadline:?}: {}",
            other.map_or_else(|e| e.to_string(), |_| "it was taken".to_owned())
        ),
    }
    pauses
}
