//! The core traits are object safe, `Send + Sync`, and mockable by downstream crates.
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::mock::{MockStoreLock, MockTokenSource, MockTokenStore};
use frameio_auth_core::{
    AccessToken, AuthError, ErrorKind, Lifetime, NeedsLoginReason, StoreLock, Timestamp, TokenKey,
    TokenSet, TokenSource, TokenStore,
};

fn key() -> TokenKey {
    TokenKey::builder("ims", "prod", "client").build().unwrap()
}

fn tokens() -> TokenSet {
    TokenSet::new(
        AccessToken::new("a"),
        Timestamp::from_unix_secs(1),
        Lifetime::ExpiresIn(Duration::from_secs(60)),
    )
}

fn assert_send_sync<T: Send + Sync + ?Sized>() {}

#[test]
fn traits_are_object_safe_and_thread_safe() {
    assert_send_sync::<dyn TokenStore>();
    assert_send_sync::<dyn TokenSource>();
    assert_send_sync::<dyn StoreLock>();
}

#[tokio::test]
async fn mocked_store_behaves_as_programmed() {
    let mut store = MockTokenStore::new();
    store.expect_load().returning(|_| Ok(Some(tokens())));
    store.expect_lock().times(1).returning(|k| {
        let mut lock = MockStoreLock::new();
        lock.expect_key().return_const(k.clone());
        Ok(Box::new(lock))
    });
    let store: Arc<dyn TokenStore> = Arc::new(store);

    let guard = store.lock(&key()).await.unwrap();
    assert_eq!(guard.key(), &key());
    assert_eq!(store.load(&key()).await.unwrap(), Some(tokens()));
}

// `Option::is_none` cannot replace the closure: the argument's lifetime is higher-ranked.
#[allow(clippy::redundant_closure_for_method_calls)]
#[tokio::test]
async fn mocked_source_can_demand_a_login() {
    let mut source = MockTokenSource::new();
    source.expect_key().return_const(key());
    source
        .expect_fetch()
        .withf(|current| current.is_none())
        .returning(|_| {
            Err(AuthError::NeedsLogin {
                reason: NeedsLoginReason::NoRefreshToken,
                debug_id: None,
            })
        });
    let source: Arc<dyn TokenSource> = Arc::new(source);

    assert_eq!(source.key(), key());
    let err = source.fetch(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeedsLogin);
}

/// A guard that only names its key: what every store had before fenced saves existed.
struct PlainGuard(TokenKey);

impl StoreLock for PlainGuard {
    fn key(&self) -> &TokenKey {
        &self.0
    }
}

#[tokio::test]
async fn a_guard_without_fencing_reloads_and_saves_through_the_store() {
    let mut store = MockTokenStore::new();
    store
        .expect_load()
        .withf(|k| *k == key())
        .times(1)
        .returning(|_| Ok(None));
    store
        .expect_save()
        .withf(|k, t| *k == key() && *t == tokens())
        .times(1)
        .returning(|_, _| Ok(()));
    let guard = PlainGuard(key());
    assert_eq!(guard.reload(&store).await.unwrap(), None);
    guard.save_fenced(&store, &tokens()).await.unwrap();
    // Held until dropped: no budget, never lost, an absent entry was deleted on purpose.
    assert_eq!(guard.work_budget(), None);
    assert!(!guard.is_lost());
    assert!(!guard.entry_vanished());
}

#[test]
fn the_fencing_error_says_to_use_the_stored_set() {
    let error = frameio_auth_core::StoreError::Fenced { key: key() };
    let message = error.to_string();
    assert!(
        message.contains("another holder saved a newer set"),
        "{message}"
    );
    assert!(message.contains("use it"), "{message}");
}
