//! Cross-process locking against a real Secret Service (GNOME Keyring in CI, started by
//! `.ci/run`): several processes increment a counter kept in one keyring entry, each round
//! under `lock`, and no increment may be lost.
//!
//! The children are this test binary itself, re-executed with `CHILD_ENV` set: the
//! `lock_child` test then does the child's work instead of nothing (as in the file store's
//! `tests/processes.rs`). They inherit `DBUS_SESSION_BUS_ADDRESS`, so they talk to the same
//! daemon, and get the service name and the lock directory through the environment.
//!
//! A separate test binary from `secret_service.rs`, so that plain `cargo test` never runs the
//! two against the daemon at the same time (nextest runs the crate's tests one at a time, see
//! `.config/nextest.toml`). Without a Secret Service the test prints a note and passes,
//! unless `FRAMEIO_AUTH_REQUIRE_KEYRING=1` (set by `.ci/run`) makes it fail.
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::format_collect
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use frameio_auth_core::{AccessToken, Lifetime, Timestamp, TokenKey, TokenSet, TokenStore};
use frameio_auth_store_keyring::{KeyringStore, keyring_core};

const REQUIRE_ENV: &str = "FRAMEIO_AUTH_REQUIRE_KEYRING";
const CHILD_ENV: &str = "FRAMEIO_AUTH_KEYRING_TEST_LOCK_CHILD";
const SERVICE_ENV: &str = "FRAMEIO_AUTH_KEYRING_TEST_SERVICE";
const LOCK_DIR_ENV: &str = "FRAMEIO_AUTH_KEYRING_TEST_LOCK_DIR";
/// Modest, as every round is several D-Bus round trips to one daemon.
const PROCESSES: usize = 3;
const ROUNDS: usize = 40;
/// Generous: a child may wait for the others' whole runs on a slow, busy machine.
const LOCK_TIMEOUT: Duration = Duration::from_secs(120);

fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key() -> TokenKey {
    TokenKey::builder("ims", "prod", "LockCounter")
        .profile("counter@example.com")
        .build()
        .unwrap()
}

fn counter(n: u64) -> TokenSet {
    TokenSet::new(
        AccessToken::new(format!("count-{n}")),
        Timestamp::from_unix_secs(1),
        Lifetime::Never,
    )
}

fn count_of(tokens: &TokenSet) -> u64 {
    tokens
        .access_token()
        .expose_secret()
        .strip_prefix("count-")
        .and_then(|n| n.parse().ok())
        .expect("a counter entry")
}

fn build(service: &str, lock_dir: &Path) -> Result<KeyringStore, frameio_auth_core::StoreError> {
    KeyringStore::builder()
        .service(service)
        .lock_dir(lock_dir)
        .lock_timeout(LOCK_TIMEOUT)
        .build()
}

/// The child side. A no-op test unless started by `spawn_child`.
#[test]
fn lock_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let service = std::env::var(SERVICE_ENV).unwrap();
    let lock_dir = PathBuf::from(std::env::var_os(LOCK_DIR_ENV).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = build(&service, &lock_dir)
            .unwrap_or_else(|e| panic!("the parent reached the Secret Service, a child not: {e}"));
        for round in 0..ROUNDS {
            let guard = store
                .lock(&key())
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            let current = store
                .load(&key())
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"))
                .expect("seeded by the parent");
            store
                .save(&key(), &counter(count_of(&current) + 1))
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            drop(guard);
        }
    });
    std::process::exit(0);
}

fn spawn_child(service: &str, lock_dir: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["lock_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env(SERVICE_ENV, service)
        .env(LOCK_DIR_ENV, lock_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Removes the counter entry and the index item, also when the test fails.
struct Cleanup {
    raw: Arc<keyring_core::CredentialStore>,
    service: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Both are small, so stored inline: one item each, no chunks.
        for account in [key().as_str(), "#index"] {
            if let Ok(entry) = self.raw.build(&self.service, account, None) {
                let _ = entry.delete_credential();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_increment_a_counter_in_the_keyring_under_the_lock() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let service = format!("frameio-auth-test-{}", random_hex());
    let temp = tempfile::Builder::new()
        .prefix("frameio-auth-keyring-test-")
        .tempdir()
        .unwrap();
    let lock_dir = temp.path().join("locks");
    let store = match build(&service, &lock_dir) {
        Ok(store) => store,
        Err(e) => {
            assert!(
                std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
                "{REQUIRE_ENV}=1 but no Secret Service is reachable: {e}"
            );
            eprintln!("note: skipping the cross-process Secret Service lock test: {e}");
            return;
        }
    };
    let raw: Arc<keyring_core::CredentialStore> = zbus_secret_service_keyring_store::Store::new()
        .expect("the store connected, so can a second one");
    let cleanup = Cleanup {
        raw: Arc::clone(&raw),
        service: service.clone(),
    };

    store.save(&key(), &counter(0)).await.unwrap();
    let started = Instant::now();
    let children: Vec<Child> = (0..PROCESSES)
        .map(|_| spawn_child(&service, &lock_dir))
        .collect();
    for mut child in children {
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "a child failed: {status}");
    }
    eprintln!(
        "{PROCESSES} processes x {ROUNDS} rounds took {:?}",
        started.elapsed()
    );
    let total = store
        .load(&key())
        .await
        .unwrap()
        .expect("the counter entry");
    assert_eq!(count_of(&total), (PROCESSES * ROUNDS) as u64);
    // The children really used the lock directory given to them.
    assert!(lock_dir.is_dir());

    store.delete(&key()).await.unwrap();
    assert_eq!(store.load(&key()).await.unwrap(), None);
    assert!(store.keys().await.unwrap().is_empty());
    drop(cleanup);
    for account in [key().as_str(), "#index"] {
        match raw.build(&service, account, None).unwrap().get_secret() {
            Err(keyring_core::Error::NoEntry) => {}
            other => panic!("item {account:?} left behind: {:?}", other.map(|_| ())),
        }
    }
}
