//! `TokenManager`s over the Redis store when Redis fails: killed mid-run and restarted with
//! its append-only file (callers keep their token, get typed store errors where they need
//! Redis, and recover), and restarted empty without persistence (the managers write their
//! live set back, and nobody needs a new login). Against a real redis-server on a free
//! loopback port and the fake IMS (rotation and reuse detection on).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use frameio_auth::TokenManager;
use frameio_auth_core::{ClientSecret, ErrorKind, Scopes, StoreError, TokenSource, TokenStore};
use frameio_auth_ims::{ImsEnvironment, WebApp};
use frameio_auth_oauth::{RetryPolicy, TransportSettings};
use frameio_auth_store_redis::{EncryptionKey, RedisStore};
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeImsConfig, demo};
use frameio_auth_testkit::redis_server::{RedisServer, RedisServerConfig};

/// A hang guard for the waits on the children and the server; never reached when healthy.
const PATIENCE: Duration = Duration::from_secs(60);

fn web_app(ims: &FakeIms) -> WebApp {
    WebApp::builder(
        ImsEnvironment::custom(ims.base_url()).unwrap(),
        demo::WEB_CLIENT_ID,
        ClientSecret::new(demo::WEB_SECRET),
        "https://localhost/callback",
    )
    .scopes(Scopes::parse(demo::USER_SCOPES).unwrap())
    .transport(
        TransportSettings::new()
            .retry_policy(
                RetryPolicy::default()
                    .with_max_attempts(2)
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(4)),
            )
            .no_proxy(),
    )
    .build()
    .unwrap()
}

fn store(server: &RedisServer) -> RedisStore {
    RedisStore::builder()
        .url(server.url())
        .namespace("faults")
        .key(EncryptionKey::from_bytes("faults", [0x17; 32]).unwrap())
        .connect_timeout(Duration::from_secs(1))
        .response_timeout(Duration::from_secs(2))
        .lock_timeout(Duration::from_secs(5))
        // A lock left behind by a holder whose release could not reach Redis (it was down)
        // is freed by its lease: a short one keeps the recovery short.
        .lease(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn manager(ims: &FakeIms, server: &RedisServer) -> TokenManager {
    TokenManager::builder(web_app(ims))
        .store(store(server))
        .refresh_backoff(Duration::from_millis(1), Duration::from_millis(20))
        .build()
}

/// The fake IMS (refresh tokens rotate; a spent one presented again revokes the grant) and a
/// login imported into the store.
async fn ims_with_login(server: &RedisServer) -> FakeIms {
    let ims = FakeIms::start(
        FakeImsConfig::with_demo_clients()
            .access_token_lifetime(Duration::from_secs(600))
            .refresh_token_lifetime(Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    assert!(ims.config().detects_refresh_token_reuse());
    let web = web_app(&ims);
    let (url, pending) = web.begin().unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let response = browser.get(url).send().await.unwrap();
    let back = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let login = web.complete(&pending, &back).await.unwrap();
    manager(&ims, server).import(login).await.unwrap();
    ims
}

/// The login in Redis is the live one: its refresh token is what the fake accepts next.
async fn assert_the_login_is_live(ims: &FakeIms, server: &RedisServer) {
    let stored = store(server)
        .load(&web_app(ims).key())
        .await
        .unwrap()
        .expect("a stored login");
    assert!(
        ims.is_refresh_token_active(stored.refresh_token().unwrap().expose_secret()),
        "the stored refresh token is spent or revoked: a rotation was lost"
    );
    assert_eq!(ims.refresh_token_reuses_detected(), 0);
    assert_eq!(
        ims.grant_count("refresh_token"),
        ims.refresh_grants_served(),
        "no refresh was refused (no invalid_grant)"
    );
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < PATIENCE, "hang guard: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_and_restarted_with_its_append_only_file() {
    let Some(mut server) = RedisServer::start_or_skip(RedisServerConfig::default().appendonly())
    else {
        return;
    };
    let ims = ims_with_login(&server).await;
    let rotator = manager(&ims, &server);
    let readers: Vec<TokenManager> = (0..2).map(|_| manager(&ims, &server)).collect();
    for reader in &readers {
        reader.access_token().await.unwrap();
    }

    // The run: one manager refreshes over and over, two serve tokens to callers.
    let refreshed = Arc::new(AtomicU32::new(0));
    let failed = Arc::new(AtomicU32::new(0));
    let refreshing = tokio::spawn({
        let (rotator, refreshed, failed) =
            (rotator.clone(), Arc::clone(&refreshed), Arc::clone(&failed));
        async move {
            let mut errors = Vec::new();
            while refreshed.load(Ordering::SeqCst) < 30 {
                match rotator.force_refresh().await {
                    Ok(_) => {
                        refreshed.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(error) => {
                        failed.fetch_add(1, Ordering::SeqCst);
                        errors.push(error);
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            errors
        }
    });
    let serving: Vec<_> = readers
        .iter()
        .map(|reader| {
            let reader = reader.clone();
            let failed = Arc::clone(&failed);
            tokio::spawn(async move {
                // Callers keep being answers from memory, before, during and after the outage.
                let mut answers = 0;
                while failed.load(Ordering::SeqCst) < 3 || answers < 100 {
                    reader.access_token().await.unwrap();
                    answers += 1;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                answers
            })
        })
        .collect();

    wait_until("refreshes before the kill", || {
        refreshed.load(Ordering::SeqCst) >= 5
    })
    .await;
    server.kill();
    let port = server.port();
    wait_until("failures while Redis is down", || {
        failed.load(Ordering::SeqCst) >= 3
    })
    .await;

    // Where they need Redis, callers get a typed error naming the address.
    match store(&server).load(&web_app(&ims).key()).await {
        Err(StoreError::Unavailable { backend, message }) => {
            assert_eq!(backend, "redis");
            assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let refreshes_at_restart = refreshed.load(Ordering::SeqCst);
    server.restart().unwrap();

    let errors = tokio::time::timeout(PATIENCE, refreshing)
        .await
        .expect("hang guard: refreshes after the restart")
        .unwrap();
    for answers in serving {
        assert!(answers.await.unwrap() >= 100);
    }
    assert!(
        refreshed.load(Ordering::SeqCst) > refreshes_at_restart,
        "recovered"
    );
    for error in &errors {
        assert_eq!(
            error.kind(),
            ErrorKind::Store,
            "only the store failed, typed: {error}"
        );
    }
    eprintln!(
        "{} refreshes, {} failed while Redis was down",
        refreshed.load(Ordering::SeqCst),
        errors.len()
    );
    // Everyone refreshes once more, through Redis, from the one live login.
    for manager in std::iter::once(&rotator).chain(&readers) {
        manager.force_refresh().await.unwrap();
    }
    assert_the_login_is_live(&ims, &server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_empty_gets_the_live_login_back_from_the_managers() {
    let Some(mut server) = RedisServer::start_or_skip(RedisServerConfig::default()) else {
        return;
    };
    let ims = ims_with_login(&server).await;
    let managers: Vec<TokenManager> = (0..3).map(|_| manager(&ims, &server)).collect();
    for manager in &managers {
        manager.access_token().await.unwrap();
    }
    // One rotates; the others adopt the rotated set at their next refresh (as a fleet does
    // in its refresh-ahead windows), so every memory holds the live set.
    managers[0].force_refresh().await.unwrap();
    for manager in &managers[1..] {
        let held = manager.access_token().await.unwrap();
        let adopted = manager
            .refresh_if_current(held.access_token())
            .await
            .unwrap();
        assert_ne!(adopted.access_token(), held.access_token());
    }
    assert_eq!(ims.refresh_grants_served(), 1, "adopted, not refreshed");
    let grants_before = ims.refresh_grants_served();

    server.restart().unwrap(); // no persistence: empty
    let key = web_app(&ims).key();
    let empty = store(&server);
    wait_until_reconnected(&empty).await;
    assert_eq!(empty.load(&key).await.unwrap(), None);

    // All at once: the first to take the lock writes its live set back and refreshes from
    // it; the others find that.
    let refreshes: Vec<_> = managers
        .iter()
        .map(|manager| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.force_refresh().await })
        })
        .collect();
    for refresh in refreshes {
        refresh.await.unwrap().unwrap();
    }
    assert_eq!(ims.refresh_grants_served(), grants_before + 3);
    assert_the_login_is_live(&ims, &server).await;
    // No new login was needed.
    assert_eq!(ims.grant_count("authorization_code"), 1);
}

async fn wait_until_reconnected(store: &RedisStore) {
    let started = Instant::now();
    while store.connect().await.is_err() {
        assert!(started.elapsed() < PATIENCE, "hang guard: reconnecting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
