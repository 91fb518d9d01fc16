//! The refresh algorithm's promises, on a `ManualClock` (no wall-clock sleeps): single flight,
//! refresh ahead without waiting, backoff while serving the current token, dead logins, saves
//! that fail, callers that give up, the no-op guard, logout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{FlakyStore, HOUR, Script, ScriptedSource, expired_login, key, set, spawn_callers};
use frameio_auth::{ProviderLogout, TokenEvent, TokenManager};
use frameio_auth_core::mock::MockTokenSource;
use frameio_auth_core::{Clock, ErrorKind, ManualClock, RefreshPolicy, Revocation, TokenStore};
use frameio_auth_store_memory::MemoryStore;

const CALLERS: usize = 1_000;

fn clock() -> ManualClock {
    ManualClock::default()
}

/// A manager on `clock` whose waits end only when the test moves the clock.
fn manager(
    source: impl frameio_auth_core::TokenSource + 'static,
    store: Arc<dyn TokenStore>,
    clock: &ManualClock,
) -> TokenManager {
    TokenManager::builder(source)
        .shared_store(store)
        .clock(clock.clone())
        .sleeper(clock.paused_sleeper())
        .jitter_seed(7)
        .build()
}

/// An hour-long set with `left` seconds to live.
fn expiring_in(
    clock: &ManualClock,
    access: &str,
    refresh: Option<&str>,
    left: u64,
) -> frameio_auth_core::TokenSet {
    let lived = HOUR.checked_sub(Duration::from_secs(left)).unwrap();
    set(access, refresh, clock.now().saturating_sub(lived), HOUR)
}

/// A mock source that hands back the set it is given, counting its fetches.
fn hands_back_its_input() -> (MockTokenSource, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let mut source = MockTokenSource::new();
    source.expect_key().returning(key);
    let counter = Arc::clone(&fetches);
    source.expect_fetch().returning(move |current| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(current.cloned().expect("the stored set"))
    });
    (source, fetches)
}

async fn stored(store: &dyn TokenStore) -> frameio_auth_core::TokenSet {
    store.load(&key()).await.unwrap().expect("a stored set")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_callers_on_an_expired_token_cause_one_fetch_and_share_its_token() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate).gate();
    let manager = manager(Arc::clone(&source), store, &clock);

    let callers = spawn_callers(&manager, CALLERS);
    source.wait_started(1).await;
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    source.open();
    for caller in callers {
        let token = caller.await.unwrap().unwrap();
        assert_eq!(token.expose_secret(), "access-1");
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_callers_share_one_failure_from_one_fetch() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Transient).gate();
    let manager = manager(Arc::clone(&source), store, &clock);

    let callers = spawn_callers(&manager, CALLERS);
    source.wait_started(1).await;
    source.open();
    let mut errors = Vec::new();
    for caller in callers {
        let error = caller.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Transient);
        assert_eq!(error.debug_id(), Some("debug-503"));
        errors.push(error);
    }
    assert_eq!(source.fetches(), 1);
    // Callers that came after the failure got it at once, from the backoff gate: still the
    // one failure, not a new attempt.
    assert!(errors.iter().all(|e| e.same_failure(&errors[0])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_the_refresh_ahead_window_nobody_waits_for_the_refresh() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    // One hour of life, 2 minutes left: inside the window (5 min at most, 10 % = 6 min).
    let current = expiring_in(&clock, "current", Some("refresh-0"), 120);
    store.save(&key(), &current).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Hang);
    let manager = manager(Arc::clone(&source), store, &clock);

    let callers = spawn_callers(&manager, CALLERS);
    for caller in callers {
        assert_eq!(caller.await.unwrap().unwrap().expose_secret(), "current");
    }
    for _ in 0..CALLERS {
        assert_eq!(manager.with_token(str::to_owned).await.unwrap(), "current");
    }
    source.wait_started(1).await;
    assert_eq!(
        source.started.load(Ordering::SeqCst),
        1,
        "one background refresh, never finishing"
    );
}

/// Issue 14, case 4: a server that always answers `expires_in: 0` rotates the refresh token
/// each time. Every new set is saved and the next refresh uses its refresh token, the dead
/// access token is never served, and the requests follow the failure backoff instead of a
/// tight loop, however often callers ask.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_answering_expires_in_zero_is_asked_on_the_backoff_not_in_a_loop() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::ExpiredOnArrival);
    let manager = TokenManager::builder(Arc::clone(&source))
        .shared_store(Arc::clone(&store) as Arc<dyn TokenStore>)
        .clock(clock.clone())
        .sleeper(clock.paused_sleeper())
        .jitter_seed(7)
        .build();

    // Callers ask every 100 ms for ten simulated minutes.
    let start = clock.now();
    let period = Duration::from_secs(600);
    let step = Duration::from_millis(100);
    let mut asked = 0_usize;
    while clock.now().saturating_duration_since(start) < period {
        match manager.access_token().await {
            Ok(token) => panic!(
                "served a token expired on arrival: {:?}",
                token.expires_at()
            ),
            Err(error) => assert_eq!(error.kind(), ErrorKind::Transient, "{error}"),
        }
        asked += 1;
        clock.advance(step);
    }
    assert_eq!(asked, 6000);

    let times = source.times.lock().unwrap().clone();
    // Every gap follows the backoff: at least half of min(60 s, 1 s * 2^(n-1)), and at most
    // all of it plus one caller's step.
    for (n, pair) in times.windows(2).enumerate() {
        let gap = pair[1].saturating_duration_since(pair[0]);
        let nominal = (Duration::from_secs(1) * 2u32.pow(u32::try_from(n).unwrap().min(10)))
            .min(Duration::from_secs(60));
        assert!(
            gap >= nominal / 2 && gap <= nominal + step,
            "fetch {n}: {gap:?} after the previous for nominal {nominal:?}"
        );
    }
    // 6 doublings (at most 63 s) then one request every 30 to 60 s: not 6000.
    assert!(
        (10..=28).contains(&times.len()),
        "{} requests in ten minutes",
        times.len()
    );
    // Each request carried the refresh token the previous one saved: none was lost or reused.
    let seen = source.seen.lock().unwrap().clone();
    for (n, given) in seen.iter().enumerate() {
        assert_eq!(given.as_deref(), Some(format!("refresh-{n}").as_str()));
    }
    assert_eq!(source.spent_reused.load(Ordering::SeqCst), 0);
    let stored = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(
        stored.refresh_token().unwrap().expose_secret(),
        format!("refresh-{}", times.len())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_serves_the_token_until_it_expires_and_retries_on_the_backoff() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    // A token valid for two more hours, already inside a (deliberately wide) refresh window.
    let policy = RefreshPolicy::default()
        .with_max_window(3 * HOUR)
        .with_lifetime_percent(100)
        .without_jitter();
    let current = set(
        "current",
        Some("refresh-0"),
        clock.now().saturating_sub(HOUR),
        3 * HOUR,
    );
    let expires_at = current.expires_at().unwrap();
    store.save(&key(), &current).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Transient);
    let manager = TokenManager::builder(Arc::clone(&source))
        .shared_store(store)
        .refresh_policy(policy)
        .clock(clock.clone())
        .sleeper(clock.paused_sleeper())
        .jitter_seed(7)
        .build();
    let mut events = manager.subscribe();

    let start = clock.now();
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "current"
    );
    // Simulate one hour: each retry waits for its backoff slot, then makes one attempt.
    loop {
        clock.wait_for_sleepers(1).await;
        let wake = clock.next_wake().unwrap();
        if wake.saturating_duration_since(start) > HOUR {
            break;
        }
        let before = source.fetches();
        clock.advance_to_next_wake();
        source.wait_fetches(before + 1).await;
        assert_eq!(
            manager.access_token().await.unwrap().expose_secret(),
            "current"
        );
    }
    let times = source.times.lock().unwrap().clone();
    // Every gap follows the backoff: half to all of min(60 s, 1 s * 2^(n-1)).
    for (n, pair) in times.windows(2).enumerate() {
        let gap = pair[1].saturating_duration_since(pair[0]);
        let nominal = (Duration::from_secs(1) * 2u32.pow(u32::try_from(n).unwrap().min(10)))
            .min(Duration::from_secs(60));
        assert!(
            gap >= nominal / 2 && gap <= nominal,
            "retry {n}: {gap:?} for nominal {nominal:?}"
        );
    }
    // 6 doublings (at most 63 s) then one attempt every 30 to 60 s.
    assert!(
        (64..=126).contains(&times.len()),
        "{} attempts in an hour",
        times.len()
    );
    assert!(matches!(
        events.try_recv(),
        Some(TokenEvent::RefreshFailing {
            kind: ErrorKind::Transient,
            serving_current: true,
            ..
        })
    ));

    // Moving to the real expiry opens the pending retry's slot: that one attempt runs, and
    // with the token dead no further background retry is parked.
    let before = source.fetches();
    clock.set(expires_at);
    source.wait_fetches(before + 1).await;
    // After the real expiry, callers get the typed transient error at once, with no attempt
    // of their own (a caller racing the retry above joins it).
    let attempts = source.fetches();
    for _ in 0..100 {
        let error = manager.access_token().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Transient);
    }
    assert_eq!(source.fetches(), attempts);
    assert_eq!(clock.sleepers(), 0);
}

#[tokio::test]
async fn needs_login_is_its_kind_and_the_dead_refresh_token_is_never_sent_again() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let login = expired_login(&clock);
    store.save(&key(), &login).await.unwrap();
    let mut source = MockTokenSource::new();
    source.expect_key().returning(key);
    source
        .expect_fetch()
        .times(1)
        .returning(|_| Err(common::invalid_grant()));
    let manager = manager(source, Arc::clone(&store) as Arc<dyn TokenStore>, &clock);

    let first = manager.access_token().await.unwrap_err();
    assert_eq!(first.kind(), ErrorKind::NeedsLogin);
    assert_eq!(first.debug_id(), Some("debug-grant"));
    let second = manager.access_token().await.unwrap_err();
    assert_eq!(second.kind(), ErrorKind::NeedsLogin);
    // Past the reload interval the store is read again; it still holds the dead login, so
    // still no request (the mock allows one fetch only).
    clock.advance(frameio_auth::DEFAULT_NEEDS_LOGIN_RELOAD * 2);
    assert_eq!(
        manager.access_token().await.unwrap_err().kind(),
        ErrorKind::NeedsLogin
    );
    assert_eq!(
        manager
            .refresh_if_current(stored(&*store).await.access_token())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NeedsLogin
    );
    // Nothing the user stored was deleted.
    assert_eq!(stored(&*store).await, login);
}

#[tokio::test]
async fn a_login_saved_by_another_process_revives_a_dead_manager() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::InvalidGrant);
    let manager = manager(
        Arc::clone(&source),
        Arc::clone(&store) as Arc<dyn TokenStore>,
        &clock,
    );
    assert_eq!(
        manager.access_token().await.unwrap_err().kind(),
        ErrorKind::NeedsLogin
    );

    // `frameio-auth login` in another process.
    let fresh = set("logged-in", Some("refresh-new"), clock.now(), HOUR);
    store.save(&key(), &fresh).await.unwrap();
    // Within the reload interval nothing is read or sent.
    assert_eq!(
        manager.access_token().await.unwrap_err().kind(),
        ErrorKind::NeedsLogin
    );
    clock.advance(frameio_auth::DEFAULT_NEEDS_LOGIN_RELOAD);
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "logged-in"
    );
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn a_failed_save_keeps_the_rotated_set_saves_it_later_and_never_resends_the_old_token() {
    let clock = clock();
    let store = Arc::new(FlakyStore::default());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(Arc::clone(&source), Arc::new(Arc::clone(&store)), &clock);
    let mut events = manager.subscribe();

    store.failing.store(true, Ordering::SeqCst);
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
    assert_eq!(events.try_recv(), Some(TokenEvent::SaveFailed));
    // Still served from memory; the store still has the spent login.
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
    assert_eq!(
        stored(&*store)
            .await
            .refresh_token()
            .unwrap()
            .expose_secret(),
        "refresh-0"
    );

    // The store recovers; the next refresh saves the live set first and refreshes from it.
    store.failing.store(false, Ordering::SeqCst);
    let renewed = manager.force_refresh().await.unwrap();
    assert_eq!(renewed.expose_secret(), "access-2");
    assert_eq!(
        stored(&*store)
            .await
            .refresh_token()
            .unwrap()
            .expose_secret(),
        "refresh-2"
    );
    let seen = source.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![Some("refresh-0".to_owned()), Some("refresh-1".to_owned())]
    );
    assert_eq!(source.spent_reused.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_dropped_mid_refresh_does_not_stop_the_rotation_from_being_saved() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate).gate();
    let manager = manager(
        Arc::clone(&source),
        Arc::clone(&store) as Arc<dyn TokenStore>,
        &clock,
    );

    let caller = {
        let manager = manager.clone();
        tokio::spawn(async move { manager.access_token().await })
    };
    source.wait_started(1).await;
    caller.abort();
    assert!(caller.await.unwrap_err().is_cancelled());
    source.open();
    source.wait_fetches(1).await;
    // The refresh finishes on its own task and saves the rotated set.
    loop {
        if stored(&*store)
            .await
            .refresh_token()
            .unwrap()
            .expose_secret()
            == "refresh-1"
        {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn a_source_that_hands_back_its_input_is_asked_once_per_window() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    // No refresh token, 2 minutes left: inside the window, and nothing can renew it.
    let current = expiring_in(&clock, "only", None, 120);
    store.save(&key(), &current).await.unwrap();
    let (source, fetches) = hands_back_its_input();
    let manager = manager(source, store, &clock);

    for _ in 0..200 {
        assert_eq!(
            manager.access_token().await.unwrap().expose_secret(),
            "only"
        );
        clock.advance(Duration::from_millis(200));
        tokio::task::yield_now().await;
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn force_refresh_fetches_even_when_the_stored_set_is_fresh() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    store
        .save(&key(), &set("fresh", Some("refresh-0"), clock.now(), HOUR))
        .await
        .unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(
        Arc::clone(&source),
        Arc::clone(&store) as Arc<dyn TokenStore>,
        &clock,
    );
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "fresh"
    );
    assert_eq!(source.fetches(), 0);
    assert_eq!(
        manager.force_refresh().await.unwrap().expose_secret(),
        "access-1"
    );
    assert_eq!(
        manager.force_refresh().await.unwrap().expose_secret(),
        "access-2"
    );
    assert_eq!(
        stored(&*store).await.access_token().expose_secret(),
        "access-2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_401s_on_one_token_cause_one_refresh() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    store
        .save(
            &key(),
            &set("rejected", Some("refresh-0"), clock.now(), HOUR),
        )
        .await
        .unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate).gate();
    let manager = manager(Arc::clone(&source), store, &clock);
    let rejected = manager.access_token().await.unwrap().access_token().clone();

    let callers: Vec<_> = (0..100)
        .map(|_| {
            let manager = manager.clone();
            let rejected = rejected.clone();
            tokio::spawn(async move { manager.refresh_if_current(&rejected).await })
        })
        .collect();
    source.wait_started(1).await;
    source.open();
    for caller in callers {
        assert_eq!(caller.await.unwrap().unwrap().expose_secret(), "access-1");
    }
    assert_eq!(source.fetches(), 1);
    // A late 401 on the old token gets the new one without a request.
    assert_eq!(
        manager
            .refresh_if_current(&rejected)
            .await
            .unwrap()
            .expose_secret(),
        "access-1"
    );
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn another_process_refresh_is_adopted_without_a_request() {
    let clock = clock();
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let first_source = ScriptedSource::new(&clock, Script::Rotate);
    let second_source = ScriptedSource::named(&clock, Script::Rotate, "second-");
    let first = manager(Arc::clone(&first_source), Arc::clone(&store), &clock);
    let second = manager(Arc::clone(&second_source), Arc::clone(&store), &clock);
    assert_eq!(
        first.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
    assert_eq!(
        second.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
    assert_eq!(second_source.fetches(), 0);
    // A 401 on the adopted token in the second "process" rotates from the stored set.
    let renewed = second
        .refresh_if_current(&second.access_token().await.unwrap().access_token().clone())
        .await
        .unwrap();
    assert_eq!(renewed.expose_secret(), "second-access-1");
    let seen = second_source.seen.lock().unwrap().clone();
    assert_eq!(seen, vec![Some("refresh-1".to_owned())]);
}

#[tokio::test]
async fn logout_with_the_provider_unreachable_still_deletes_locally_and_says_so() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    store
        .save(&key(), &set("fresh", Some("refresh-0"), clock.now(), HOUR))
        .await
        .unwrap();
    let mut source = MockTokenSource::new();
    source.expect_key().returning(key);
    source
        .expect_revoke()
        .times(1)
        .returning(|_| Err(common::transient()));
    let manager = manager(source, Arc::clone(&store) as Arc<dyn TokenStore>, &clock);
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "fresh"
    );
    let mut events = manager.subscribe();

    let report = manager.logout().await;
    match &report.provider {
        ProviderLogout::Failed(error) => assert_eq!(error.kind(), ErrorKind::Transient),
        other => panic!("{other:?}"),
    }
    assert!(report.local.is_ok());
    assert!(!report.is_complete());
    assert!(store.load(&key()).await.unwrap().is_none());
    assert!(manager.peek().is_none());
    assert_eq!(events.try_recv(), Some(TokenEvent::LoggedOut));
}

#[tokio::test]
async fn logout_reports_a_revocation_and_an_unsupported_provider() {
    let clock = clock();
    for (answer, expected) in [
        (Revocation::Revoked, Revocation::Revoked),
        (Revocation::Unsupported, Revocation::Unsupported),
    ] {
        let store = Arc::new(MemoryStore::new());
        store
            .save(&key(), &set("fresh", None, clock.now(), HOUR))
            .await
            .unwrap();
        let mut source = MockTokenSource::new();
        source.expect_key().returning(key);
        source
            .expect_revoke()
            .times(1)
            .returning(move |_| Ok(answer));
        let manager = manager(source, Arc::clone(&store) as Arc<dyn TokenStore>, &clock);
        let report = manager.logout().await;
        assert!(matches!(report.provider, ProviderLogout::Done(r) if r == expected));
        assert!(report.is_complete());
        assert!(store.load(&key()).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn import_revives_a_dead_login_and_export_returns_it() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let source = ScriptedSource::new(&clock, Script::InvalidGrant);
    let manager = manager(
        Arc::clone(&source),
        Arc::clone(&store) as Arc<dyn TokenStore>,
        &clock,
    );
    assert_eq!(
        manager.access_token().await.unwrap_err().kind(),
        ErrorKind::NeedsLogin
    );
    assert!(manager.export().await.unwrap().is_none());
    let mut events = manager.subscribe();

    let login = set("imported", Some("refresh-i"), clock.now(), HOUR);
    manager.import(login.clone()).await.unwrap();
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "imported"
    );
    assert_eq!(manager.export().await.unwrap(), Some(login.clone()));
    assert_eq!(stored(&*store).await, login);
    assert!(matches!(
        events.try_recv(),
        Some(TokenEvent::LoggedIn { .. })
    ));
}

#[tokio::test]
async fn events_and_debug_output_carry_no_secret() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(Arc::clone(&source), store, &clock);
    let mut events = manager.subscribe();
    let token = manager.access_token().await.unwrap();
    let mut seen = format!("{manager:?} {token:?}");
    while let Some(event) = events.try_recv() {
        write!(seen, "{event:?}").unwrap();
    }
    assert!(seen.contains("Refreshed"), "{seen}");
    for secret in ["access-1", "refresh-1", "access-0", "refresh-0"] {
        assert!(!seen.contains(secret), "{secret} leaked: {seen}");
    }
}

/// A source that panics: a bug in a fork's source must not wedge the manager.
struct Panicking(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl frameio_auth_core::TokenSource for Panicking {
    async fn fetch<'a>(
        &self,
        _current: Option<&'a frameio_auth_core::TokenSet>,
    ) -> Result<frameio_auth_core::TokenSet, frameio_auth_core::AuthError> {
        assert!(self.0.fetch_add(1, Ordering::SeqCst) > 0, "a buggy source");
        Ok(set("after-panic", None, ManualClock::default().now(), HOUR))
    }

    fn key(&self) -> frameio_auth_core::TokenKey {
        key()
    }
}

#[tokio::test]
async fn a_source_that_panics_fails_its_callers_and_the_next_call_tries_again() {
    let clock = clock();
    let calls = Arc::new(AtomicUsize::new(0));
    let manager = manager(
        Panicking(Arc::clone(&calls)),
        Arc::new(MemoryStore::new()),
        &clock,
    );
    let error = manager.access_token().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "after-panic"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unsaved_set_never_overwrites_a_login_another_process_saved_meanwhile() {
    let clock = clock();
    let store = Arc::new(FlakyStore::default());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(Arc::clone(&source), Arc::new(Arc::clone(&store)), &clock);
    store.failing.store(true, Ordering::SeqCst);
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
    // Another process logs in (through its own, working, store handle).
    let other = set("other-access", Some("other-refresh"), clock.now(), HOUR);
    store.inner.save(&key(), &other).await.unwrap();
    store.failing.store(false, Ordering::SeqCst);
    // The background save retry finds a newer login in the store: it adopts it and leaves
    // it in place.
    clock.wait_for_sleepers(1).await;
    clock.advance_to_next_wake();
    loop {
        if manager.access_token().await.unwrap().expose_secret() == "other-access" {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(stored(&*store).await, other);
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn a_save_that_failed_is_retried_in_the_background_without_a_new_fetch() {
    let clock = clock();
    let store = Arc::new(FlakyStore::default());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(Arc::clone(&source), Arc::new(Arc::clone(&store)), &clock);
    store.failing.store(true, Ordering::SeqCst);
    manager.access_token().await.unwrap();
    store.failing.store(false, Ordering::SeqCst);
    clock.wait_for_sleepers(1).await;
    clock.advance_to_next_wake();
    while stored(&*store).await.access_token().expose_secret() != "access-1" {
        tokio::task::yield_now().await;
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn inside_the_expiry_margin_a_failing_refresh_never_makes_callers_wait() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    // 2 minutes left: inside the window; the margin (30 s) comes later.
    let current = expiring_in(&clock, "current", Some("refresh-0"), 120);
    store.save(&key(), &current).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Transient);
    let manager = manager(Arc::clone(&source), store, &clock);
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "current"
    );
    // The refresh ahead fails; a retry is parked.
    clock.wait_for_sleepers(1).await;
    assert_eq!(source.fetches(), 1);
    // From now on the endpoint hangs. Into the margin, and past the retry's slot: the retry
    // goes on the wire and never returns, yet callers get the valid token at once.
    source.set_script(Script::Hang);
    clock.advance(Duration::from_secs(100));
    source.wait_started(2).await;
    for _ in 0..100 {
        assert_eq!(
            manager.access_token().await.unwrap().expose_secret(),
            "current"
        );
    }
    assert_eq!(source.started.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_forced_refresh_keeps_the_background_retries_going() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let current = expiring_in(&clock, "current", Some("refresh-0"), 120);
    store.save(&key(), &current).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Transient);
    let manager = manager(Arc::clone(&source), store, &clock);
    manager.access_token().await.unwrap();
    clock.wait_for_sleepers(1).await;
    assert_eq!(
        manager.force_refresh().await.unwrap_err().kind(),
        ErrorKind::Transient
    );
    // The forced attempt replaced the parked retry; its failure parks a new one.
    clock.wait_for_sleepers(1).await;
    let fetches = source.fetches();
    clock.advance_to_next_wake();
    source.wait_fetches(fetches + 1).await;
}

#[tokio::test]
async fn a_set_nothing_can_renew_is_served_through_the_margin_without_asking_again() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let current = expiring_in(&clock, "only", None, 40);
    store.save(&key(), &current).await.unwrap();
    let (source, fetches) = hands_back_its_input();
    let manager = manager(source, store, &clock);
    // 40 s left, then 20 s, 10 s, 1 s: the margin is 30 s.
    for step in [0, 20, 10, 9] {
        clock.advance(Duration::from_secs(step));
        for _ in 0..50 {
            assert_eq!(
                manager.access_token().await.unwrap().expose_secret(),
                "only"
            );
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    // Once it really expired, the source is asked once, and its answer is a dead login.
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        manager.access_token().await.unwrap_err().kind(),
        ErrorKind::NeedsLogin
    );
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    // A dead login: not asked again.
    for _ in 0..10 {
        assert_eq!(
            manager.access_token().await.unwrap_err().kind(),
            ErrorKind::NeedsLogin
        );
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_import_the_store_refused_is_saved_later_over_the_old_login() {
    let clock = clock();
    let store = Arc::new(FlakyStore::default());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::InvalidGrant);
    let manager = manager(Arc::clone(&source), Arc::new(Arc::clone(&store)), &clock);
    assert_eq!(
        manager.access_token().await.unwrap_err().kind(),
        ErrorKind::NeedsLogin
    );
    store.failing.store(true, Ordering::SeqCst);
    let login = set("new-access", Some("new-refresh"), clock.now(), HOUR);
    assert_eq!(
        manager.import(login.clone()).await.unwrap_err().kind(),
        ErrorKind::Store
    );
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "new-access"
    );
    store.failing.store(false, Ordering::SeqCst);
    clock.wait_for_sleepers(1).await;
    clock.advance_to_next_wake();
    while stored(&*store).await != login {
        tokio::task::yield_now().await;
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_dropped_with_an_unsaved_set_saves_it_one_last_time() {
    let clock = clock();
    let store = Arc::new(FlakyStore::default());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(Arc::clone(&source), Arc::new(Arc::clone(&store)), &clock);
    store.failing.store(true, Ordering::SeqCst);
    manager.access_token().await.unwrap();
    store.failing.store(false, Ordering::SeqCst);
    drop(manager);
    while stored(&*store)
        .await
        .refresh_token()
        .unwrap()
        .expose_secret()
        != "refresh-1"
    {
        tokio::task::yield_now().await;
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn a_refresh_queued_behind_a_logout_does_not_bring_the_login_back() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager(
        Arc::clone(&source),
        Arc::clone(&store) as Arc<dyn TokenStore>,
        &clock,
    );
    // Another process holds the lock; the logout queues first, then a refresh.
    let held = store.lock(&key()).await.unwrap();
    let logout = tokio::spawn({
        let manager = manager.clone();
        async move { manager.logout().await }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let caller = tokio::spawn({
        let manager = manager.clone();
        async move { manager.access_token().await }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    drop(held);
    assert!(logout.await.unwrap().local.is_ok());
    assert_eq!(
        caller.await.unwrap().unwrap_err().kind(),
        ErrorKind::NeedsLogin
    );
    assert_eq!(source.fetches(), 0);
    assert!(store.load(&key()).await.unwrap().is_none());
}
