//! `MemoryStore` passes the store conformance suite.

use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::TokenStore;
use frameio_auth_store_memory::MemoryStore;
use frameio_auth_testkit::store::{Check, conformance, run_check};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_suite_in_parallel() {
    let store = MemoryStore::new();
    let report = conformance(Arc::new(store.clone()))
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.passed(), Check::ALL);
    // The suite deletes everything it created.
    assert!(store.is_empty(), "{store:?}");
}

#[tokio::test]
async fn memory_store_passes_the_suite_on_one_thread() {
    let store = MemoryStore::new();
    conformance(Arc::new(store.clone()))
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert!(store.is_empty(), "{store:?}");
}

#[tokio::test]
async fn memory_store_passes_without_a_lock_timeout() {
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::builder().wait_indefinitely().build());
    run_check(Check::LockExclusion, Arc::clone(&store))
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    run_check(Check::LockIndependence, store)
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
}

#[tokio::test]
async fn suite_leaves_other_entries_alone() {
    // A store that already holds credentials, as a real keyring would.
    let store = MemoryStore::builder()
        .lock_timeout(Duration::from_secs(5))
        .build();
    let key = frameio_auth_core::TokenKey::builder("ims", "prod", "client")
        .build()
        .unwrap();
    let tokens = frameio_auth_core::TokenSet::new(
        frameio_auth_core::AccessToken::new("pre-existing"),
        frameio_auth_core::Timestamp::from_unix_secs(1),
        frameio_auth_core::Lifetime::Never,
    );
    store.save(&key, &tokens).await.unwrap();
    conformance(Arc::new(store.clone()))
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(store.keys().await.unwrap(), vec![key.clone()]);
    assert_eq!(store.load(&key).await.unwrap(), Some(tokens));
}
