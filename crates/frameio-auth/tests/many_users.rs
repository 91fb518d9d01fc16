//! A web server holding many users' logins: one manager per user, from one shared source and
//! one shared store. What each costs, and that dropping them leaves no task behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use std::alloc::System;
use std::sync::Arc;

use common::{HOUR, Script, ScriptedSource, set};
use frameio_auth::{TokenManager, TokenManagerBuilder};
use frameio_auth_core::{Clock, ManualClock, RefreshPolicy, TokenKey, TokenSource, TokenStore};
use frameio_auth_store_memory::MemoryStore;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

/// Counts the bytes live on the heap, to price one manager.
#[global_allocator]
static HEAP: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn live_bytes() -> isize {
    let stats = HEAP.stats();
    isize::try_from(stats.bytes_allocated).unwrap_or(isize::MAX)
        - isize::try_from(stats.bytes_deallocated).unwrap_or(isize::MAX)
}

const USERS: usize = 1_000;

fn user_key(user: usize) -> TokenKey {
    TokenKey::builder("test", "local", "client")
        .profile(format!("user-{user}"))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_managers_share_one_store_and_each_costs_little() {
    let clock = ManualClock::default();
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let source: Arc<dyn TokenSource> = ScriptedSource::new(&clock, Script::Rotate);
    for user in 0..USERS {
        let login = set(&format!("user-{user}-access"), Some("r"), clock.now(), HOUR);
        store.save(&user_key(user), &login).await.unwrap();
    }

    let before = live_bytes();
    let mut managers = Vec::with_capacity(USERS);
    for user in 0..USERS {
        let manager = TokenManagerBuilder::shared(Arc::clone(&source))
            .shared_store(Arc::clone(&store))
            .key(user_key(user))
            .clock(clock.clone())
            .sleeper(clock.paused_sleeper())
            .build();
        // Loaded: each holds its user's set in memory, as a busy server's would.
        let token = manager.access_token().await.unwrap();
        assert_eq!(token.expose_secret(), format!("user-{user}-access"));
        managers.push(manager);
    }
    let per_manager = (live_bytes() - before) / isize::try_from(USERS).unwrap();
    eprintln!("one loaded manager costs {per_manager} bytes of heap (set in memory included)");
    assert!(
        per_manager < 4096,
        "a manager should cost well under 4 KiB, costs {per_manager} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_managers_stops_their_background_tasks() {
    let clock = ManualClock::default();
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let source = ScriptedSource::new(&clock, Script::Transient);
    let shared: Arc<dyn TokenSource> = Arc::clone(&source) as Arc<dyn TokenSource>;
    // Valid for another hour yet inside a wide window: every manager refreshes in the
    // background, fails, and parks a retry on the clock.
    let policy = RefreshPolicy::default()
        .with_max_window(3 * HOUR)
        .with_lifetime_percent(100)
        .without_jitter();
    for user in 0..100 {
        store
            .save(&user_key(user), &set("a", Some("r"), clock.now(), HOUR))
            .await
            .unwrap();
    }
    let runtime = tokio::runtime::Handle::current();
    let idle = runtime.metrics().num_alive_tasks();
    let managers: Vec<TokenManager> = (0..100)
        .map(|user| {
            TokenManagerBuilder::shared(Arc::clone(&shared))
                .shared_store(Arc::clone(&store))
                .key(user_key(user))
                .refresh_policy(policy)
                .clock(clock.clone())
                .sleeper(clock.paused_sleeper())
                .build()
        })
        .collect();
    for manager in &managers {
        manager.access_token().await.unwrap();
    }
    clock.wait_for_sleepers(100).await;
    assert!(runtime.metrics().num_alive_tasks() >= idle + 100);

    drop(managers);
    let mut waited = 0;
    while runtime.metrics().num_alive_tasks() > idle || clock.sleepers() > 0 {
        tokio::task::yield_now().await;
        waited += 1;
        assert!(
            waited < 1_000_000,
            "background tasks outlived their managers"
        );
    }
    // And nothing more is sent once the clock moves on.
    let fetches = source.fetches();
    clock.advance(HOUR);
    tokio::task::yield_now().await;
    assert_eq!(source.fetches(), fetches);
}
