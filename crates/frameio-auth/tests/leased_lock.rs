//! The refresher over a store whose lock lives on a lease (as the Redis store's does): it
//! saves through the guard's fenced save and adopts the stored set when fencing refuses, cuts
//! its token request off at the lock's work budget, and writes a live set back when the store
//! lost its entry. On a `ManualClock`; the lease itself is simulated by the guard.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::{HOUR, Script, ScriptedSource, expired_login, key, set};
use frameio_auth::{TokenEvent, TokenManager};
use frameio_auth_core::{
    Clock, ErrorKind, ManualClock, StoreError, StoreLock, TokenKey, TokenSet, TokenStore,
};
use frameio_auth_store_memory::MemoryStore;

/// How the next fenced save behaves, and what the guards report.
#[derive(Default)]
struct Behaviour {
    /// The next fenced save finds that another holder saved `overtaker()` meanwhile.
    overtake: AtomicBool,
    /// Reloads that find nothing report the entry as vanished (a Redis restarted empty).
    vanishes: AtomicBool,
    /// The guards report their lock as lost (a lease that lapsed).
    lost: AtomicBool,
    fenced_saves: AtomicUsize,
    plain_saves: AtomicUsize,
}

/// A memory store whose lock acts as a leased one.
#[derive(Clone, Default)]
struct LeasedStore {
    inner: MemoryStore,
    behaviour: Arc<Behaviour>,
    budget: Option<Duration>,
}

struct LeasedGuard {
    inner: Box<dyn StoreLock>,
    behaviour: Arc<Behaviour>,
    budget: Option<Duration>,
    store: MemoryStore,
    found_nothing: AtomicBool,
}

fn overtaker(clock: &ManualClock) -> TokenSet {
    set(
        "overtaker-access",
        Some("overtaker-refresh"),
        clock.now(),
        HOUR,
    )
}

#[async_trait]
impl StoreLock for LeasedGuard {
    fn key(&self) -> &TokenKey {
        self.inner.key()
    }

    async fn reload(&self, _store: &dyn TokenStore) -> Result<Option<TokenSet>, StoreError> {
        let found = self.store.load(self.key()).await?;
        self.found_nothing.store(found.is_none(), Ordering::SeqCst);
        Ok(found)
    }

    async fn save_fenced(
        &self,
        _store: &dyn TokenStore,
        tokens: &TokenSet,
    ) -> Result<(), StoreError> {
        self.behaviour.fenced_saves.fetch_add(1, Ordering::SeqCst);
        if self.behaviour.overtake.swap(false, Ordering::SeqCst) {
            let clock = ManualClock::default();
            self.store.save(self.key(), &overtaker(&clock)).await?;
            return Err(StoreError::Fenced {
                key: self.key().clone(),
            });
        }
        self.store.save(self.key(), tokens).await
    }

    fn work_budget(&self) -> Option<Duration> {
        self.budget
    }

    fn is_lost(&self) -> bool {
        self.behaviour.lost.load(Ordering::SeqCst)
    }

    fn entry_vanished(&self) -> bool {
        self.behaviour.vanishes.load(Ordering::SeqCst) && self.found_nothing.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenStore for LeasedStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
        self.behaviour.plain_saves.fetch_add(1, Ordering::SeqCst);
        self.inner.save(key, tokens).await
    }

    async fn delete(&self, key: &TokenKey) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }

    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        self.inner.keys().await
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
        Ok(Box::new(LeasedGuard {
            inner: self.inner.lock(key).await?,
            behaviour: Arc::clone(&self.behaviour),
            budget: self.budget,
            store: self.inner.clone(),
            found_nothing: AtomicBool::new(false),
        }))
    }
}

fn manager(source: Arc<ScriptedSource>, store: &LeasedStore, clock: &ManualClock) -> TokenManager {
    frameio_auth::TokenManagerBuilder::shared(source)
        .store(store.clone())
        .clock(clock.clone())
        .sleeper(clock.paused_sleeper())
        .jitter_seed(7)
        .build()
}

#[tokio::test]
async fn a_refresh_saves_through_the_fenced_save_and_a_login_does_not() {
    let clock = ManualClock::default();
    let store = LeasedStore::default();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(Arc::clone(&source), &store, &clock);
    manager.import(expired_login(&clock)).await.unwrap();
    assert_eq!(store.behaviour.plain_saves.load(Ordering::SeqCst), 1);

    let token = manager.access_token().await.unwrap();
    assert_eq!(token.expose_secret(), "access-1");
    assert_eq!(store.behaviour.fenced_saves.load(Ordering::SeqCst), 1);
    assert_eq!(store.behaviour.plain_saves.load(Ordering::SeqCst), 1);
    let stored = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(stored.access_token().expose_secret(), "access-1");
}

#[tokio::test]
async fn a_save_refused_by_fencing_adopts_the_set_the_overtaking_holder_saved() {
    let clock = ManualClock::default();
    let store = LeasedStore::default();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(Arc::clone(&source), &store, &clock);
    manager.import(expired_login(&clock)).await.unwrap();
    let mut events = manager.subscribe();

    store.behaviour.overtake.store(true, Ordering::SeqCst);
    let token = manager.force_refresh().await.unwrap();
    // Our rotated set lost the race: the overtaker's is the live one, in the store and in use.
    assert_eq!(token.expose_secret(), "overtaker-access");
    assert_eq!(source.fetches(), 1);
    let stored = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(stored, overtaker(&clock));
    assert_eq!(
        manager
            .export()
            .await
            .unwrap()
            .unwrap()
            .access_token()
            .expose_secret(),
        "overtaker-access"
    );
    let mut adopted = false;
    while let Some(event) = events.try_recv() {
        if let TokenEvent::Refreshed { adopted: true, .. } = event {
            adopted = true;
        }
    }
    assert!(adopted, "the adoption is reported as such");

    // The next refresh starts from the adopted set: its refresh token is the one sent.
    manager.force_refresh().await.unwrap();
    let seen = source.seen.lock().unwrap().clone();
    assert_eq!(seen.last().unwrap().as_deref(), Some("overtaker-refresh"));
}

#[tokio::test]
async fn the_token_request_is_cut_off_at_the_lock_work_budget() {
    let clock = ManualClock::default();
    let store = LeasedStore {
        budget: Some(Duration::from_secs(20)),
        ..LeasedStore::default()
    };
    let source = ScriptedSource::new(&clock, Script::Hang);
    let manager = manager(Arc::clone(&source), &store, &clock);
    let login = expired_login(&clock);
    store.save(&key(), &login).await.unwrap();

    let waiting = tokio::spawn({
        let manager = manager.clone();
        async move { manager.access_token().await }
    });
    source.wait_started(1).await;
    clock.wait_for_sleepers(1).await;
    assert_eq!(
        clock.next_wake(),
        Some(clock.now().saturating_add(Duration::from_secs(20)))
    );
    clock.advance(Duration::from_millis(19_999));
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished(), "still within the budget");
    clock.advance(Duration::from_millis(1));
    let error = waiting.await.unwrap().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert!(error.to_string().contains("work budget"), "{error}");
    // The stored login is untouched: no half-finished rotation was saved.
    assert_eq!(store.load(&key()).await.unwrap(), Some(login));
}

#[tokio::test]
async fn a_holder_that_lost_its_lock_sends_no_token_request() {
    let clock = ManualClock::default();
    let store = LeasedStore::default();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(Arc::clone(&source), &store, &clock);
    let login = expired_login(&clock);
    manager.import(login.clone()).await.unwrap();

    store.behaviour.lost.store(true, Ordering::SeqCst);
    let error = manager.force_refresh().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert!(error.to_string().contains("lock was lost"), "{error}");
    assert_eq!(source.fetches(), 0, "the refresh token was not sent");
    assert_eq!(store.behaviour.fenced_saves.load(Ordering::SeqCst), 0);
    assert_eq!(store.load(&key()).await.unwrap(), Some(login));

    // Once the lock is held again, the refresh goes through.
    store.behaviour.lost.store(false, Ordering::SeqCst);
    assert_eq!(
        manager.force_refresh().await.unwrap().expose_secret(),
        "access-1"
    );
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn a_live_set_is_written_back_when_the_store_lost_its_entry() {
    let clock = ManualClock::default();
    let store = LeasedStore::default();
    store.behaviour.vanishes.store(true, Ordering::SeqCst);
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(Arc::clone(&source), &store, &clock);
    manager.import(expired_login(&clock)).await.unwrap();
    manager.access_token().await.unwrap(); // access-1, refresh-1, saved

    // The store restarts empty.
    store.inner.delete(&key()).await.unwrap();
    let token = manager.force_refresh().await.unwrap();
    assert_eq!(token.expose_secret(), "access-2");
    let seen = source.seen.lock().unwrap().clone();
    assert_eq!(
        seen.last().unwrap().as_deref(),
        Some("refresh-1"),
        "refreshed from the set in memory, not from nothing"
    );
    let stored = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(stored.access_token().expose_secret(), "access-2");
}

#[tokio::test]
async fn an_entry_deleted_on_purpose_is_not_written_back() {
    let clock = ManualClock::default();
    let store = LeasedStore::default();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(Arc::clone(&source), &store, &clock);
    manager.import(expired_login(&clock)).await.unwrap();
    manager.access_token().await.unwrap();

    // Another process logged out: the refresh starts from nothing, as before leases existed.
    store.inner.delete(&key()).await.unwrap();
    manager.force_refresh().await.unwrap();
    let seen = source.seen.lock().unwrap().clone();
    assert_eq!(seen.last().unwrap(), &None);
}
