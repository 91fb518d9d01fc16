//! `store::assert_lock_times_out` passes a store whose lock times out when it says, and fails
//! stores that give up early, late, or not on the clock at all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use frameio_auth_core::{
    Clock, Deadline, ManualClock, PausedSleeper, StoreError, StoreLock, Timestamp, TokenKey,
    TokenSet, TokenStore,
};
use frameio_auth_testkit::store::assert_lock_times_out;
use tokio::sync::OwnedMutexGuard;

/// The timeout every store here reports.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A store with one lock and no entries, whose lock gives up after `waits` (on `sleeper`)
/// while reporting [`TIMEOUT`]; `None` waits without a timer.
#[derive(Debug)]
struct LockOnly {
    mutex: Arc<tokio::sync::Mutex<()>>,
    sleeper: PausedSleeper,
    waits: Option<Duration>,
}

#[derive(Debug)]
struct Guard(TokenKey, #[allow(dead_code)] OwnedMutexGuard<()>);

impl StoreLock for Guard {
    fn key(&self) -> &TokenKey {
        &self.0
    }
}

#[async_trait]
impl TokenStore for LockOnly {
    async fn load(&self, _: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
        Ok(None)
    }
    async fn save(&self, _: &TokenKey, _: &TokenSet) -> Result<(), StoreError> {
        Ok(())
    }
    async fn delete(&self, _: &TokenKey) -> Result<(), StoreError> {
        Ok(())
    }
    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        Ok(Vec::new())
    }
    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
        let guard = Deadline::new(&self.sleeper, self.waits)
            .run(Arc::clone(&self.mutex).lock_owned())
            .await
            .ok_or_else(|| StoreError::LockTimeout {
                key: key.clone(),
                waited: TIMEOUT,
            })?;
        Ok(Box::new(Guard(key.clone(), guard)))
    }
}

/// Runs the helper against a store that waits `waits`, with its lock held.
async fn check(waits: Option<Duration>) -> u32 {
    let clock = ManualClock::new(Timestamp::from_unix_secs(0));
    let store = LockOnly {
        mutex: Arc::default(),
        sleeper: clock.paused_sleeper(),
        waits,
    };
    let key = TokenKey::builder("ims", "prod", "client").build().unwrap();
    let _held = store.lock(&key).await.unwrap();
    let pauses = assert_lock_times_out(&clock, &store, &key, TIMEOUT).await;
    assert_eq!(clock.now(), Timestamp::from_unix_secs(30));
    pauses
}

#[tokio::test]
async fn a_store_that_times_out_on_time_passes() {
    assert_eq!(check(Some(TIMEOUT)).await, 0);
}

#[tokio::test]
#[should_panic(expected = "before its timeout")]
async fn a_store_that_gives_up_early_fails() {
    check(Some(Duration::from_secs(15))).await;
}

#[tokio::test]
#[should_panic(expected = "waits on no paused sleep ending at its timeout")]
async fn a_store_that_gives_up_late_fails() {
    check(Some(Duration::from_secs(31))).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "started no paused sleep")]
async fn a_store_that_does_not_sleep_on_the_clock_fails_instead_of_hanging() {
    // Tokio's paused time lets the helper's 10-second patience pass at once.
    check(None).await;
}
