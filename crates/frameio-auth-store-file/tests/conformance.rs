//! `FileStore` passes the store conformance suite on a temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::case_sensitive_file_extension_comparisons
)]

use std::sync::Arc;

use frameio_auth_core::TokenStore;
use frameio_auth_store_file::FileStore;
use frameio_auth_testkit::store::{Check, conformance};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_store_passes_the_suite() {
    let temp = tempfile::tempdir().unwrap();
    let store = FileStore::new(temp.path().join("tokens"));
    let report = conformance(Arc::new(store.clone()))
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.passed(), Check::ALL);
    // The suite deleted what it created; only lock files (and nothing else) remain.
    assert!(store.keys().await.unwrap().is_empty());
    for entry in std::fs::read_dir(store.dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(name.ends_with(".lock"), "unexpected file {name}");
    }
}

#[tokio::test]
async fn file_store_passes_the_suite_on_one_thread() {
    let temp = tempfile::tempdir().unwrap();
    conformance(Arc::new(FileStore::new(temp.path().join("a/b/tokens"))))
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
}
