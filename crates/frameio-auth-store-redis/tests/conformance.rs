//! `RedisStore` passes the store conformance suite against a real redis-server, encrypted
//! and in plaintext, and its lock times out on a paused clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{ManualClock, TokenStore};
use frameio_auth_store_redis::RedisStore;
use frameio_auth_testkit::store::{Check, assert_lock_times_out, conformance};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_store_passes_the_suite_encrypted() {
    let Some(server) = common::server() else {
        return;
    };
    let store = common::store(&server);
    let report = conformance(Arc::new(store.clone()))
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.passed(), Check::ALL);
    assert!(store.keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn redis_store_passes_the_suite_in_plaintext_on_one_thread() {
    let Some(server) = common::server() else {
        return;
    };
    let store = RedisStore::builder()
        .url(server.url())
        .plaintext()
        .build()
        .unwrap();
    conformance(Arc::new(store))
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
}

#[tokio::test]
async fn a_held_lock_times_out_exactly_at_the_lock_timeout_on_a_paused_clock() {
    let Some(server) = common::server() else {
        return;
    };
    let clock = ManualClock::default();
    let timeout = Duration::from_secs(5);
    let namespace = common::random("timeout");
    let holder = common::builder(&server)
        .namespace(namespace.clone())
        .build()
        .unwrap();
    let waiter = common::builder(&server)
        .namespace(namespace)
        .lock_timeout(timeout)
        .sleeper(clock.paused_sleeper())
        .build()
        .unwrap();
    let key = common::token_key("timeout");
    let held = holder.lock(&key).await.unwrap();
    let pauses = assert_lock_times_out(&clock, &waiter, &key, timeout).await;
    assert!(pauses > 0, "the waiter polls Redis between pauses");
    drop(held);
}
