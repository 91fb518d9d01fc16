//! `KeyringStore` against a real Secret Service (GNOME Keyring in CI, started by `.ci/run`).
//!
//! The checks run one after the other in a single test (D-Bus and gnome-keyring do not like
//! concurrent item creation from many connections), with a random service name so that a
//! developer's real keyring is never touched. Without a Secret Service the test prints a note
//! and passes, unless `FRAMEIO_AUTH_REQUIRE_KEYRING=1` (set by `.ci/run`) makes it fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::print_stdout,
    clippy::cast_possible_truncation,
    clippy::format_collect
)]

use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{
    AccessToken, Lifetime, RefreshToken, StoreError, Timestamp, TokenKey, TokenSet, TokenStore,
};
use frameio_auth_store_keyring::{KeyringStore, keyring_core};
use frameio_auth_testkit::store::{Check, conformance};

const REQUIRE_ENV: &str = "FRAMEIO_AUTH_REQUIRE_KEYRING";
const CHILD_ENV: &str = "FRAMEIO_AUTH_KEYRING_TEST_CHILD";

fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn big_tokens(len: usize) -> TokenSet {
    let access: String = (0..len)
        .map(|i| char::from(b'A' + (i % 26) as u8))
        .collect();
    TokenSet::new(
        AccessToken::new(access),
        Timestamp::from_unix_millis(1_700_000_000_123),
        Lifetime::ExpiresIn(Duration::from_secs(86_399)),
    )
    .with_refresh_token(RefreshToken::new("refresh-".repeat(200)), None)
}

/// The chunk accounts the main item of `account` points at (empty when stored inline).
fn chunk_accounts(
    raw: &keyring_core::CredentialStore,
    service: &str,
    account: &str,
) -> Vec<String> {
    let main = raw
        .build(service, account, None)
        .unwrap()
        .get_secret()
        .unwrap();
    let text = String::from_utf8_lossy(&main).into_owned();
    let fields: Vec<&str> = text.split(' ').collect();
    if fields[0] != "frameio-auth-chunks/1" {
        return Vec::new();
    }
    let count: usize = fields[2].parse().unwrap();
    (0..count)
        .map(|i| format!("{account}#{}.{i}", fields[1]))
        .collect()
}

fn exists(raw: &keyring_core::CredentialStore, service: &str, account: &str) -> bool {
    match raw.build(service, account, None).unwrap().get_secret() {
        Ok(_) => true,
        Err(keyring_core::Error::NoEntry) => false,
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_real_secret_service() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return; // we are the child of `no_secret_service_is_a_typed_unavailable_error`
    }
    let service = format!("frameio-auth-test-{}", random_hex());
    let temp = tempfile::Builder::new()
        .prefix("frameio-auth-keyring-test-")
        .tempdir()
        .unwrap();
    let lock_dir = temp.path().join("locks");
    let store = match KeyringStore::builder()
        .service(&service)
        .lock_dir(&lock_dir)
        .build()
    {
        Ok(store) => store,
        Err(e) => {
            assert!(
                std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
                "{REQUIRE_ENV}=1 but no Secret Service is reachable: {e}"
            );
            eprintln!("note: skipping the Secret Service checks: {e}");
            return;
        }
    };
    let raw: Arc<keyring_core::CredentialStore> =
        zbus_store().expect("the store connected, so can a second one");

    // 1. The conformance suite, against the daemon.
    let report = conformance(Arc::new(store.clone()))
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.passed(), Check::ALL);

    // 2. A 10 KB token set round-trips through chunking; deleting removes every chunk.
    let key = TokenKey::builder("ims", "prod", "chunky")
        .profile(random_hex())
        .build()
        .unwrap();
    let tokens = big_tokens(10 * 1024);
    store.save(&key, &tokens).await.unwrap();
    let chunks = chunk_accounts(raw.as_ref(), &service, key.as_str());
    assert!(chunks.len() >= 5, "expected chunks, found {chunks:?}");
    assert!(chunks.iter().all(|c| exists(raw.as_ref(), &service, c)));
    assert_eq!(store.load(&key).await.unwrap(), Some(tokens.clone()));
    assert!(store.keys().await.unwrap().contains(&key));
    // Re-saving replaces the generation and removes the old chunks.
    store.save(&key, &big_tokens(10 * 1024 + 1)).await.unwrap();
    assert!(chunks.iter().all(|c| !exists(raw.as_ref(), &service, c)));
    let chunks = chunk_accounts(raw.as_ref(), &service, key.as_str());
    store.delete(&key).await.unwrap();
    assert!(!exists(raw.as_ref(), &service, key.as_str()));
    assert!(
        chunks.iter().all(|c| !exists(raw.as_ref(), &service, c)),
        "chunks left behind"
    );
    assert_eq!(store.load(&key).await.unwrap(), None);
    assert!(!store.keys().await.unwrap().contains(&key));

    // 3. A missing chunk is a typed error, never half a token.
    store.save(&key, &tokens).await.unwrap();
    let chunks = chunk_accounts(raw.as_ref(), &service, key.as_str());
    raw.build(&service, &chunks[1], None)
        .unwrap()
        .delete_credential()
        .unwrap();
    match store.load(&key).await {
        Err(StoreError::Corrupt { location, reason }) => {
            assert!(location.contains(&service), "{location}");
            assert!(reason.to_string().contains("chunk 2 of"), "{reason}");
            let text = format!("{location} {reason}");
            assert!(
                !text.contains("AAAA") && !text.contains("refresh-"),
                "{text}"
            );
        }
        other => panic!("expected Corrupt, got {:?}", other.map(|t| t.is_some())),
    }
    store.delete(&key).await.unwrap();
    assert!(chunks.iter().all(|c| !exists(raw.as_ref(), &service, c)));

    // 4. The index item is the last thing left; remove it so the keyring stays clean.
    assert!(store.keys().await.unwrap().is_empty());
    for account in chunk_accounts(raw.as_ref(), &service, "#index") {
        raw.build(&service, &account, None)
            .unwrap()
            .delete_credential()
            .unwrap();
    }
    let _ = raw
        .build(&service, "#index", None)
        .unwrap()
        .delete_credential();
}

#[cfg(target_os = "linux")]
fn zbus_store() -> Option<Arc<keyring_core::CredentialStore>> {
    zbus_secret_service_keyring_store::Store::new()
        .ok()
        .map(|s| s as Arc<keyring_core::CredentialStore>)
}

#[cfg(not(target_os = "linux"))]
fn zbus_store() -> Option<Arc<keyring_core::CredentialStore>> {
    None
}

/// Child side of the "no backend" check: prints how `KeyringStore::new` failed.
#[test]
fn no_backend_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    match KeyringStore::new() {
        Err(StoreError::Unavailable { backend, message }) => {
            println!("UNAVAILABLE {backend}: {message}");
        }
        Err(other) => println!("OTHER {other}"),
        Ok(_) => println!("CONNECTED"),
    }
    std::process::exit(0);
}

#[cfg(target_os = "linux")]
#[test]
fn no_secret_service_is_a_typed_unavailable_error() {
    // A D-Bus address where nothing listens, in a child so this process keeps its own bus.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "no_backend_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/frameio-auth-test-bus",
        )
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .split_inclusive('\n')
        .find_map(|l| l.find("UNAVAILABLE").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("expected a typed Unavailable error, got: {stdout}"));
    assert!(line.starts_with("UNAVAILABLE keyring:"), "{line}");
    assert!(line.contains("gnome-keyring-daemon --unlock"), "{line}");
    assert!(line.contains("frameio-auth-store-file"), "{line}");
    assert!(
        line.contains("/nonexistent/frameio-auth-test-bus"),
        "{line}"
    );
}
