//! The `custom_store` example's store passes the conformance suite of
//! `frameio-auth-testkit`: the same test a store of your own should have (`docs/storage.md`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a panic is how a test fails

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/custom_store.rs"]
mod custom_store;
#[path = "support/examples.rs"]
mod support;

use std::sync::Arc;

use custom_store::KvStore;
use frameio_auth_core::TokenStore as _;
use frameio_auth_testkit::store::{Check, conformance};
use support::{assert_no_secret, env_vars, run_quietly};

// ANCHOR: conformance
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_store_passes_the_conformance_suite() {
    let store = Arc::new(KvStore::default());
    let report = conformance(store.clone())
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.passed(), Check::ALL);
    // The suite deletes every entry it created.
    assert!(store.keys().await.unwrap().is_empty());
}
// ANCHOR_END: conformance

#[tokio::test]
async fn the_example_saves_the_managers_token_in_the_store() {
    const TOKEN: &str = "fio-u-custom-store-example-token";
    let vars = env_vars(&[("FRAMEIO_TOKEN", TOKEN)]);
    let (text, result) = run_quietly(async |out| custom_store::run(&vars, out).await).await;
    result.unwrap();
    assert!(text.contains("token sha256:"), "{text}");
    assert!(text.contains("saved under frameio-v2~"), "{text}");
    assert!(text.contains("KvStore { entries: 1, .. }"), "{text}");
    assert_no_secret(&text, &[TOKEN.to_owned()]);
}
