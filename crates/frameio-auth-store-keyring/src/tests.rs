//! Unit tests on keyring-core's mock store. The conformance run and the checks that matter
//! for real keyrings are in `tests/`, against a real Secret Service.

#![allow(clippy::cast_possible_truncation)]

use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{AccessToken, Clock, Lifetime, ManualClock, RefreshToken, Timestamp};
use frameio_auth_testkit::store::assert_lock_times_out;

use super::*;

/// A temporary directory per test for the lock files, removed when the returned guard drops
/// (the store creates the `locks` directory inside it on the first lock).
fn lock_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let temp = tempfile::Builder::new()
        .prefix("frameio-auth-keyring-unit-")
        .tempdir()
        .unwrap();
    let dir = temp.path().join("locks");
    (temp, dir)
}

/// A store on keyring-core's mock store; keep the returned directory guard alive as long as
/// the store is used.
fn store(chunk_size: usize) -> (KeyringStore, tempfile::TempDir) {
    let (temp, dir) = lock_dir();
    let store = KeyringStore::builder()
        .credential_store(keyring_core::mock::Store::new().unwrap())
        .service(format!("frameio-auth-unit-{}", generation()))
        .chunk_size(chunk_size)
        .lock_dir(dir)
        .build()
        .unwrap();
    (store, temp)
}

fn key(profile: &str) -> TokenKey {
    TokenKey::builder("ims", "prod", "client")
        .profile(profile)
        .build()
        .unwrap()
}

fn big_tokens(len: usize) -> TokenSet {
    let access: String = (0..len)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    TokenSet::new(
        AccessToken::new(access),
        Timestamp::from_unix_secs(1_700_000_000),
        Lifetime::ExpiresIn(Duration::from_secs(3600)),
    )
    .with_refresh_token(RefreshToken::new("refresh-secret-value"), None)
}

fn chunk_accounts(store: &KeyringStore, account: &str) -> Vec<String> {
    let main = store.shared.items.get(account).unwrap().unwrap();
    match chunk::classify(main).unwrap() {
        Stored::Chunked(h) => (0..h.count)
            .map(|i| chunk::chunk_account(account, &h.generation, i))
            .collect(),
        Stored::Inline(_) => Vec::new(),
    }
}

#[tokio::test]
async fn ten_kb_round_trips_through_chunks_and_delete_removes_them() {
    let (store, _lock_dir) = store(KeyringStore::DEFAULT_CHUNK_SIZE);
    let k = key("big");
    let tokens = big_tokens(10 * 1024);
    store.save(&k, &tokens).await.unwrap();
    let chunks = chunk_accounts(&store, k.as_str());
    assert!(chunks.len() >= 5, "{chunks:?}");
    assert_eq!(store.load(&k).await.unwrap(), Some(tokens));
    // A second, smaller save replaces the chunks with an inline value and drops them.
    let small = big_tokens(100);
    store.save(&k, &small).await.unwrap();
    for c in &chunks {
        assert!(
            store.shared.items.get(c).unwrap().is_none(),
            "{c} left behind"
        );
    }
    store.save(&k, &big_tokens(10 * 1024)).await.unwrap();
    let chunks = chunk_accounts(&store, k.as_str());
    store.delete(&k).await.unwrap();
    assert_eq!(store.load(&k).await.unwrap(), None);
    for c in chunks {
        assert!(
            store.shared.items.get(&c).unwrap().is_none(),
            "{c} left behind"
        );
    }
    assert!(store.keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_chunk_is_a_typed_error_never_half_a_token() {
    let (store, _lock_dir) = store(256);
    let k = key("gap");
    store.save(&k, &big_tokens(2000)).await.unwrap();
    let chunks = chunk_accounts(&store, k.as_str());
    store.shared.items.delete(&chunks[2]).unwrap();
    match store.load(&k).await {
        Err(StoreError::Corrupt { location, reason }) => {
            assert!(location.contains(k.as_str()), "{location}");
            assert!(reason.to_string().contains("chunk 3 of"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // A damaged (not missing) chunk is caught by the digest. (A damaged entry is never
    // overwritten: delete it first.)
    store.delete(&k).await.unwrap();
    store.save(&k, &big_tokens(2000)).await.unwrap();
    let chunks = chunk_accounts(&store, k.as_str());
    store.shared.items.set(&chunks[0], &[b'x'; 256]).unwrap();
    assert!(matches!(
        store.load(&k).await,
        Err(StoreError::Corrupt { .. })
    ));
}

/// Every item of an entry (main item and chunks, by the header's generation): account and
/// bytes.
fn snapshot(store: &KeyringStore, account: &str) -> Vec<(String, Option<Vec<u8>>)> {
    let main = store.shared.items.get(account).unwrap().map(|v| v.to_vec());
    let mut out = vec![(account.to_owned(), main)];
    for chunk in chunk_accounts(store, account) {
        let bytes = store.shared.items.get(&chunk).unwrap().map(|v| v.to_vec());
        out.push((chunk, bytes));
    }
    out
}

#[tokio::test]
async fn save_refuses_a_chunked_entry_with_a_missing_chunk_and_keeps_it() {
    let (store, _lock_dir) = store(256);
    let k = key("gap-save");
    store.save(&k, &big_tokens(2000)).await.unwrap();
    let chunks = chunk_accounts(&store, k.as_str());
    store.shared.items.delete(&chunks[1]).unwrap();
    let before = snapshot(&store, k.as_str());
    assert!(before.iter().filter(|(_, v)| v.is_some()).count() >= 3);
    match store.save(&k, &big_tokens(10)).await {
        Err(StoreError::Corrupt { reason, .. }) => {
            assert!(reason.to_string().contains("chunk 2 of"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // A large value too (chunked write path).
    assert!(matches!(
        store.save(&k, &big_tokens(3000)).await,
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(snapshot(&store, k.as_str()), before);
    assert_eq!(store.keys().await.unwrap(), vec![k.clone()]);
    // An explicit delete removes it; then saving works again.
    store.delete(&k).await.unwrap();
    for (account, _) in &before {
        assert!(
            store.shared.items.get(account).unwrap().is_none(),
            "{account}"
        );
    }
    store.save(&k, &big_tokens(10)).await.unwrap();
}

#[tokio::test]
async fn save_refuses_a_chunked_entry_of_an_unsupported_version_and_keeps_it() {
    let (store, _lock_dir) = store(256);
    let k = key("future");
    let json = big_tokens(2000).to_stored_json().unwrap();
    let text = std::str::from_utf8(&json).unwrap();
    assert!(text.contains("\"version\":1"), "{text}");
    let future = text.replacen("\"version\":1", "\"version\":7", 1);
    store
        .shared
        .items
        .write_value(k.as_str(), future.as_bytes(), 256)
        .unwrap();
    let before = snapshot(&store, k.as_str());
    assert!(before.len() > 3, "not chunked: {}", before.len());
    assert!(matches!(
        store.load(&k).await,
        Err(StoreError::Corrupt {
            reason: FormatError::UnsupportedVersion { found: 7 },
            ..
        })
    ));
    for tokens in [big_tokens(10), big_tokens(3000)] {
        assert!(matches!(
            store.save(&k, &tokens).await,
            Err(StoreError::Corrupt {
                reason: FormatError::UnsupportedVersion { found: 7 },
                ..
            })
        ));
    }
    assert_eq!(snapshot(&store, k.as_str()), before);

    // A header of a later chunk format is refused the same way.
    let later = format!("frameio-auth-chunks/2 00 1 1 {}", "0".repeat(64));
    let k2 = key("later-header");
    store
        .shared
        .items
        .set(k2.as_str(), later.as_bytes())
        .unwrap();
    assert!(matches!(
        store.save(&k2, &big_tokens(10)).await,
        Err(StoreError::Corrupt {
            reason: FormatError::UnsupportedVersion { found: 2 },
            ..
        })
    ));
    assert_eq!(
        store
            .shared
            .items
            .get(k2.as_str())
            .unwrap()
            .unwrap()
            .as_slice(),
        later.as_bytes()
    );
}

#[tokio::test]
async fn a_header_claiming_a_huge_length_is_corrupt_not_an_abort() {
    let (store, _lock_dir) = store(256);
    let k = key("huge");
    let header = format!(
        "{} 00 2 {} {}",
        chunk::MAGIC,
        usize::MAX / 2,
        "0".repeat(64)
    );
    store
        .shared
        .items
        .set(k.as_str(), header.as_bytes())
        .unwrap();
    assert!(matches!(
        store.load(&k).await,
        Err(StoreError::Corrupt { .. })
    ));
    assert!(matches!(
        store.save(&k, &big_tokens(10)).await,
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(
        store
            .shared
            .items
            .get(k.as_str())
            .unwrap()
            .unwrap()
            .as_slice(),
        header.as_bytes()
    );
}

#[tokio::test]
async fn a_crash_between_the_index_and_the_value_never_loses_or_invents_a_key() {
    let (store, _lock_dir) = store(256);
    let a = key("a");
    let b = key("b");
    // Crash after the value write, before the final index check: the key is listed
    // already, because save lists it before writing.
    store.save_unsynced(&a, &big_tokens(2000)).await.unwrap();
    assert_eq!(store.keys().await.unwrap(), vec![a.clone()]);
    assert_eq!(store.load(&a).await.unwrap(), Some(big_tokens(2000)));
    // Crash after listing, before the value write: the name is in the index, but `keys()`
    // lists only entries that exist.
    store.list_in_index(&b).await.unwrap();
    assert!(
        store
            .shared
            .items
            .read_index()
            .unwrap()
            .contains(&b.as_str().to_owned())
    );
    assert_eq!(store.keys().await.unwrap(), vec![a.clone()]);
    // The next save of that key completes normally.
    store.save(&b, &big_tokens(10)).await.unwrap();
    assert_eq!(store.keys().await.unwrap(), vec![a, b]);
}

#[tokio::test]
async fn index_lists_saved_keys_only() {
    let (store, _lock_dir) = store(256);
    let keys: Vec<TokenKey> = (0..20).map(|i| key(&format!("p{i:02}"))).collect();
    for k in &keys {
        store.save(k, &big_tokens(10)).await.unwrap();
    }
    // The index itself outgrew one chunk.
    assert!(!chunk_accounts(&store, INDEX_ACCOUNT).is_empty());
    assert_eq!(store.keys().await.unwrap(), keys);
    store.delete(&keys[3]).await.unwrap();
    let mut expected = keys.clone();
    expected.remove(3);
    assert_eq!(store.keys().await.unwrap(), expected);
    // An index naming a deleted entry (crash between the two steps) lists only real ones.
    store.shared.items.delete_value(keys[4].as_str()).unwrap();
    expected.remove(3);
    assert_eq!(store.keys().await.unwrap(), expected);
}

#[tokio::test]
async fn corrupt_entries_are_typed_and_not_overwritten() {
    let (store, _lock_dir) = store(2048);
    let k = key("bad");
    store
        .shared
        .items
        .set(k.as_str(), b"{\"format\":\"other\"}")
        .unwrap();
    assert!(matches!(
        store.load(&k).await,
        Err(StoreError::Corrupt {
            reason: FormatError::Foreign,
            ..
        })
    ));
    assert!(matches!(
        store.save(&k, &big_tokens(10)).await,
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(
        store
            .shared
            .items
            .get(k.as_str())
            .unwrap()
            .unwrap()
            .as_slice(),
        b"{\"format\":\"other\"}"
    );
    store.delete(&k).await.unwrap();
    store.save(&k, &big_tokens(10)).await.unwrap();
}

#[tokio::test]
async fn lock_excludes_and_times_out_exactly_when_the_clock_passes_the_timeout() {
    let (_temp, dir) = lock_dir();
    let clock = ManualClock::new(Timestamp::from_unix_secs(0));
    let store = KeyringStore::builder()
        .credential_store(keyring_core::mock::Store::new().unwrap())
        .service(format!("frameio-auth-unit-{}", generation()))
        .lock_dir(&dir)
        .sleeper(clock.paused_sleeper())
        .build()
        .unwrap();
    let held = store.lock(&key("a")).await.unwrap();
    let timeout = KeyringStore::DEFAULT_LOCK_TIMEOUT;
    assert_eq!(
        assert_lock_times_out(&clock, &store, &key("a"), timeout).await,
        0
    );
    assert_eq!(clock.now(), Timestamp::from_unix_secs(30));
    drop(store.lock(&key("b")).await.unwrap());
    drop(held);
    drop(store.lock(&key("a")).await.unwrap());
    assert!(dir.is_dir(), "the lock files went to {}", dir.display());
}

#[tokio::test]
async fn a_lock_file_held_by_another_store_is_polled_until_the_timeout() {
    let (_temp, dir) = lock_dir();
    let clock = ManualClock::new(Timestamp::from_unix_secs(0));
    let service = format!("frameio-auth-unit-{}", generation());
    let builder = || {
        KeyringStore::builder()
            .credential_store(keyring_core::mock::Store::new().unwrap())
            .service(&service)
            .lock_dir(&dir)
    };
    let first = builder().build().unwrap();
    let timeout = Duration::from_millis(100);
    let second = builder()
        .lock_timeout(timeout)
        .sleeper(clock.paused_sleeper())
        .build()
        .unwrap();
    // Separate stores share no mutex: only the lock file keeps the second one out.
    let held = first.lock(&key("a")).await.unwrap();
    let pauses = assert_lock_times_out(&clock, &second, &key("a"), timeout).await;
    assert!(pauses > 5, "{pauses} pauses");
    drop(held);
}

#[tokio::test]
async fn mock_store_passes_the_conformance_suite() {
    // Not the acceptance run (that one uses a real Secret Service): a quick check of the
    // logic that needs no daemon.
    let (store, _lock_dir) = store(512);
    frameio_auth_testkit::store::conformance(Arc::new(store))
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
}

#[test]
fn debug_and_errors_show_no_secret() {
    let (store, _lock_dir) = store(2048);
    let shown = format!("{store:?}");
    assert!(
        shown.contains("frameio-auth") && shown.contains("chunk_size"),
        "{shown}"
    );
    let err = store.shared.items.error(
        "acct",
        keyring_core::Error::BadEncoding(b"very-secret-token".to_vec()),
    );
    let text = format!("{err} {err:?}");
    assert!(!text.contains("very-secret"), "{text}");
    let err = unavailable(
        "x",
        &keyring_core::Error::BadDataFormat(b"very-secret".to_vec(), "e".into()),
    );
    assert!(!format!("{err} {err:?}").contains("very-secret"));
}

/// A store whose locks go in a simulated shared temporary directory `temp`, with the
/// private directory's owner checked against `owner` (default: the effective user).
#[cfg(unix)]
fn store_in_shared_temp(temp: &std::path::Path, owner: Option<u32>) -> KeyringStore {
    KeyringStore::builder()
        .credential_store(keyring_core::mock::Store::new().unwrap())
        .service(format!("frameio-auth-unit-{}", generation()))
        .lock_dir_in_shared_temp(temp, owner)
        .lock_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[cfg(unix)]
fn private_root(store: &KeyringStore) -> std::path::PathBuf {
    store
        .lock_dir()
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap()
        .to_path_buf()
}

#[cfg(unix)]
#[tokio::test]
async fn shared_temp_lock_dir_is_created_private_and_used() {
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::tempdir().unwrap();
    let store = store_in_shared_temp(temp.path(), None);
    let guard = store.lock(&key("shared-temp")).await.unwrap();
    drop(guard);
    let mode = std::fs::metadata(private_root(&store))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[cfg(unix)]
#[tokio::test]
async fn a_shared_temp_lock_dir_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::tempdir().unwrap();
    let store = store_in_shared_temp(temp.path(), None);
    let root = private_root(&store);
    std::fs::create_dir(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
    let Err(err) = store.lock(&key("planted-0777")).await else {
        panic!("the lock was taken")
    };
    assert!(
        matches!(&err, StoreError::Permission { location, message }
            if location == &root.display().to_string() && message.contains("777")),
        "{err:?}"
    );
    // Nothing was created inside it.
    assert!(std::fs::read_dir(&root).unwrap().next().is_none());
}

#[cfg(unix)]
#[tokio::test]
async fn a_shared_temp_lock_dir_of_another_owner_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let other = rustix::process::geteuid().as_raw().wrapping_add(1);
    let store = store_in_shared_temp(temp.path(), Some(other));
    let Err(err) = store.lock(&key("planted-owner")).await else {
        panic!("the lock was taken")
    };
    assert!(
        matches!(&err, StoreError::Permission { message, .. } if message.contains("belongs to uid")),
        "{err:?}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlink_at_the_shared_temp_lock_dir_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let store = store_in_shared_temp(temp.path(), None);
    let target = temp.path().join("elsewhere");
    std::fs::create_dir(&target).unwrap();
    std::os::unix::fs::symlink(&target, private_root(&store)).unwrap();
    let Err(err) = store.lock(&key("planted-link")).await else {
        panic!("the lock was taken")
    };
    assert!(matches!(err, StoreError::Permission { .. }), "{err:?}");
    assert!(std::fs::read_dir(&target).unwrap().next().is_none());
}

#[cfg(unix)]
#[tokio::test]
async fn a_dangling_symlink_at_the_lock_file_is_not_followed() {
    let (store, temp) = store(KeyringStore::DEFAULT_CHUNK_SIZE);
    let key = key("dangling");
    // Find the lock file's path: take and release the lock once, then replace the file.
    drop(store.lock(&key).await.unwrap());
    let lock_file = std::fs::read_dir(store.lock_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "lock"))
        .unwrap();
    std::fs::remove_file(&lock_file).unwrap();
    let target = temp.path().join("created-through-the-link");
    std::os::unix::fs::symlink(&target, &lock_file).unwrap();
    let Err(err) = store.lock(&key).await else {
        panic!("the lock was taken")
    };
    assert!(
        matches!(&err, StoreError::Permission { message, .. } if message.contains("symbolic link")),
        "{err:?}"
    );
    assert!(!target.exists(), "the link's target was created");
}
