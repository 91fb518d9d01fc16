//! Permissions, bad files, naming, quarantine and locking of `FileStore`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::case_sensitive_file_extension_comparisons
)]

use std::path::Path;
use std::time::Duration;

use frameio_auth_core::{
    AccessToken, Clock, FormatError, Lifetime, ManualClock, RefreshToken, Scopes, StoreError,
    Timestamp, TokenKey, TokenSet, TokenStore,
};
use frameio_auth_store_file::FileStore;
use frameio_auth_testkit::store::assert_lock_times_out;

const SECRET: &str = "SECRET-access-7f3a9c";

fn key(profile: &str) -> TokenKey {
    TokenKey::builder("ims", "prod", "client")
        .profile(profile)
        .build()
        .unwrap()
}

fn tokens() -> TokenSet {
    TokenSet::new(
        AccessToken::new(SECRET),
        Timestamp::from_unix_secs(1_700_000_000),
        Lifetime::ExpiresIn(Duration::from_secs(3600)),
    )
    .with_refresh_token(RefreshToken::new("SECRET-refresh-1b2c"), None)
}

fn store() -> (tempfile::TempDir, FileStore) {
    let temp = tempfile::tempdir().unwrap();
    let store = FileStore::new(temp.path().join("tokens"));
    (temp, store)
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains("SECRET"), "a secret leaked: {text}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn files_are_0600_in_a_0700_directory() {
    let (_temp, store) = store();
    store.save(&key("a"), &tokens()).await.unwrap();
    assert_eq!(mode(store.dir()), 0o700);
    assert_eq!(mode(&store.entry_path(&key("a"))), 0o600);
    drop(store.lock(&key("a")).await.unwrap());
    for entry in std::fs::read_dir(store.dir()).unwrap() {
        assert_eq!(mode(&entry.unwrap().path()), 0o600);
    }
}

#[cfg(unix)]
#[tokio::test]
async fn world_readable_file_is_refused_with_the_fix() {
    let (_temp, store) = store();
    let k = key("a");
    store.save(&k, &tokens()).await.unwrap();
    let path = store.entry_path(&k);
    chmod(&path, 0o644);
    let before = std::fs::read(&path).unwrap();
    for result in [
        store.load(&k).await.map(|_| ()),
        store.save(&k, &tokens()).await,
    ] {
        match result {
            Err(StoreError::Permission { location, message }) => {
                assert_eq!(location, path.display().to_string());
                let text = StoreError::Permission {
                    location,
                    message: message.clone(),
                }
                .to_string();
                assert!(text.contains(&path.display().to_string()), "{text}");
                assert!(message.contains("chmod 600"), "{message}");
                assert!(message.contains("check_permissions(false)"), "{message}");
                assert_no_secret(&text);
            }
            other => panic!("expected Permission, got {other:?}"),
        }
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // The documented override accepts it.
    let lenient = FileStore::builder()
        .dir(store.dir())
        .check_permissions(false)
        .build()
        .unwrap();
    assert_eq!(lenient.load(&k).await.unwrap(), Some(tokens()));
    // The fix the message gives works.
    chmod(&path, 0o600);
    assert_eq!(store.load(&k).await.unwrap(), Some(tokens()));
}

#[cfg(unix)]
#[tokio::test]
async fn group_readable_directory_is_refused_with_the_fix() {
    let (_temp, store) = store();
    store.save(&key("a"), &tokens()).await.unwrap();
    chmod(store.dir(), 0o750);
    match store.keys().await {
        Err(StoreError::Permission { location, message }) => {
            assert_eq!(location, store.dir().display().to_string());
            assert!(message.contains("chmod 700"), "{message}");
        }
        other => panic!("expected Permission, got {other:?}"),
    }
    assert!(matches!(
        store.load(&key("a")).await,
        Err(StoreError::Permission { .. })
    ));
}

/// Writes `bytes` as `key`'s entry (0600), as another program or a crash might have left it.
fn plant(store: &FileStore, k: &TokenKey, bytes: &[u8]) -> std::path::PathBuf {
    std::fs::create_dir_all(store.dir()).unwrap();
    #[cfg(unix)]
    chmod(store.dir(), 0o700);
    let path = store.entry_path(k);
    std::fs::write(&path, bytes).unwrap();
    #[cfg(unix)]
    chmod(&path, 0o600);
    path
}

#[tokio::test]
async fn bad_files_give_typed_errors_and_stay_byte_for_byte() {
    let (_temp, store) = store();
    let good = {
        let k = key("good");
        store.save(&k, &tokens()).await.unwrap();
        std::fs::read(store.entry_path(&k)).unwrap()
    };
    let text = String::from_utf8(good.clone()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("corrupt", b"\x00\x01garbage that is not JSON".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("empty", Vec::new()),
        (
            "future",
            text.replace("\"version\":1", "\"version\":2").into_bytes(),
        ),
        (
            "foreign",
            format!("{{\"access_token\":\"{SECRET}\",\"expires_in\":3600}}").into_bytes(),
        ),
    ];
    for (name, bytes) in cases {
        let k = key(name);
        let path = plant(&store, &k, &bytes);
        let check = |result: Result<(), StoreError>| match result {
            Err(StoreError::Corrupt { location, reason }) => {
                assert_eq!(location, path.display().to_string(), "{name}");
                match (name, &reason) {
                    ("corrupt" | "truncated" | "empty", FormatError::NotJson { .. })
                    | ("future", FormatError::UnsupportedVersion { found: 2 })
                    | ("foreign", FormatError::Foreign) => {}
                    _ => panic!("{name}: unexpected reason {reason:?}"),
                }
                let shown = format!(
                    "{} {:?}",
                    StoreError::Corrupt {
                        location: location.clone(),
                        reason: reason.clone()
                    },
                    reason
                );
                assert!(shown.contains(&location), "{shown}");
                assert_no_secret(&shown);
            }
            other => panic!("{name}: expected Corrupt, got {other:?}"),
        };
        check(store.load(&k).await.map(|_| ()));
        // `save` refuses to overwrite it too.
        check(store.save(&k, &tokens()).await);
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} changed");
        // Still listed (its name is a key), never silently dropped.
        assert!(store.keys().await.unwrap().contains(&k), "{name}");
        // Quarantine moves it aside, byte for byte; then a new login can be saved.
        let moved = store.quarantine(&k).await.unwrap().unwrap();
        assert!(!path.exists());
        assert_eq!(std::fs::read(&moved).unwrap(), bytes, "{name} quarantined");
        assert!(
            moved
                .file_name()
                .unwrap()
                .to_string_lossy()
                .contains(".corrupt-")
        );
        assert_eq!(store.load(&k).await.unwrap(), None);
        assert!(!store.keys().await.unwrap().contains(&k));
        store.save(&k, &tokens()).await.unwrap();
        assert_eq!(store.load(&k).await.unwrap(), Some(tokens()));
    }
    assert_eq!(store.quarantine(&key("absent")).await.unwrap(), None);
}

#[tokio::test]
async fn entry_under_the_wrong_name_is_refused() {
    let (_temp, store) = store();
    store.save(&key("a"), &tokens()).await.unwrap();
    let bytes = std::fs::read(store.entry_path(&key("a"))).unwrap();
    let path = plant(&store, &key("b"), &bytes);
    match store.load(&key("b")).await {
        Err(StoreError::Corrupt { location, reason }) => {
            assert_eq!(location, path.display().to_string());
            assert!(reason.to_string().contains("another key"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn long_and_case_only_different_keys_get_their_own_files() {
    let (_temp, store) = store();
    let many: Vec<String> = (0..60).map(|i| format!("Scope_{i}")).collect();
    let long = TokenKey::builder("ims", "prod", "client")
        .scopes(Scopes::parse(&many.join(",")).unwrap())
        .build()
        .unwrap();
    assert!(long.as_str().len() > 255);
    let upper = key("Alice");
    let lower = key("alice");
    for k in [&long, &upper, &lower] {
        store.save(k, &tokens()).await.unwrap();
        let name = store.entry_path(k);
        let name = name.file_name().unwrap().to_str().unwrap();
        assert!(name.len() <= 255, "{name}");
        assert_eq!(name, name.to_lowercase(), "names are case-safe");
    }
    assert_ne!(store.entry_path(&upper), store.entry_path(&lower));
    let mut expected = vec![long.clone(), upper.clone(), lower.clone()];
    expected.sort();
    assert_eq!(store.keys().await.unwrap(), expected);
    assert_eq!(store.load(&long).await.unwrap(), Some(tokens()));
    store.delete(&long).await.unwrap();
    assert_eq!(store.keys().await.unwrap(), vec![upper, lower]);
}

#[tokio::test]
async fn other_files_and_temporary_files_are_not_keys() {
    let (_temp, store) = store();
    store.save(&key("a"), &tokens()).await.unwrap();
    for name in [
        ".ims~prod~client~a~.123-4.tmp",
        "notes.txt",
        "README.token",
        "ims~prod~client~b~.lock",
    ] {
        std::fs::write(store.dir().join(name), "x").unwrap();
    }
    assert_eq!(store.keys().await.unwrap(), vec![key("a")]);
}

#[tokio::test]
async fn missing_directory_is_empty_and_created_on_save() {
    let (_temp, store) = store();
    assert_eq!(store.load(&key("a")).await.unwrap(), None);
    assert!(store.keys().await.unwrap().is_empty());
    store.delete(&key("a")).await.unwrap();
    assert!(!store.dir().exists(), "reads never create the directory");
    store.save(&key("a"), &tokens()).await.unwrap();
    assert!(store.dir().is_dir());
}

/// A clock at 0, and a second store on `first`'s directory whose lock waits run on it.
fn paused_store(first: &FileStore, timeout: Duration) -> (ManualClock, FileStore) {
    let clock = ManualClock::new(Timestamp::from_unix_secs(0));
    let store = FileStore::builder()
        .dir(first.dir())
        .lock_timeout(timeout)
        .sleeper(clock.paused_sleeper())
        .build()
        .unwrap();
    (clock, store)
}

#[tokio::test]
async fn two_stores_on_one_directory_exclude_each_other_through_the_os_lock() {
    let (_temp, first) = store();
    let timeout = Duration::from_secs(1);
    let (clock, second) = paused_store(&first, timeout);
    let held = first.lock(&key("a")).await.unwrap();
    // Separate stores share no mutex: the second one polls the OS lock, with pauses from
    // 1 ms doubling to 16 ms, until exactly its timeout.
    let pauses = assert_lock_times_out(&clock, &second, &key("a"), timeout).await;
    assert!(pauses > 60, "{pauses} pauses");
    assert_eq!(clock.sleepers(), 0);

    drop(second.lock(&key("b")).await.unwrap());
    drop(held);
    assert_eq!(second.lock(&key("a")).await.unwrap().key(), &key("a"));
}

#[tokio::test]
async fn a_polled_file_lock_is_taken_at_the_first_attempt_after_release() {
    let (_temp, first) = store();
    let (clock, second) = paused_store(&first, FileStore::DEFAULT_LOCK_TIMEOUT);
    let held = first.lock(&key("a")).await.unwrap();
    let waiter = tokio::spawn(async move { second.lock(&key("a")).await.map(|g| g.key().clone()) });
    // Parked: the timeout's timer and the first 1 ms pause.
    clock.wait_for_sleepers(2).await;
    drop(held);
    assert_eq!(
        clock.advance_to_next_wake(),
        Some(Timestamp::from_unix_millis(1))
    );
    assert_eq!(waiter.await.unwrap().unwrap(), key("a"));
    assert_eq!(
        clock.sleepers(),
        0,
        "the timeout's timer went with the wait"
    );
}

#[tokio::test]
async fn clones_wait_for_the_in_process_mutex_until_the_clock_passes_the_timeout() {
    let (_temp, first) = store();
    let (clock, store) = paused_store(&first, FileStore::DEFAULT_LOCK_TIMEOUT);
    let held = store.lock(&key("a")).await.unwrap();
    let clone = store.clone();
    let timeout = FileStore::DEFAULT_LOCK_TIMEOUT;
    assert_eq!(
        assert_lock_times_out(&clock, &clone, &key("a"), timeout).await,
        0
    );
    assert_eq!(clock.now(), Timestamp::from_unix_secs(30));
    drop(held);
}

#[tokio::test]
async fn debug_and_files_do_not_leak_into_messages() {
    let (_temp, store) = store();
    store.save(&key("a"), &tokens()).await.unwrap();
    assert_no_secret(&format!("{store:?}"));
    let guard = store.lock(&key("a")).await.unwrap();
    assert_no_secret(&format!("{:?}", guard.key()));
}

/// Issue 14 (6): an endless lock timeout (`Duration::MAX`) waits instead of panicking on the
/// overflow of "now + timeout": the lock is taken, and a contender still waits for it.
#[tokio::test]
async fn an_endless_lock_timeout_takes_the_lock_without_overflowing() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::builder()
        .dir(dir.path().join("tokens"))
        .lock_timeout(Duration::MAX)
        .build()
        .unwrap();
    let key = key("overflow");
    let held = store.lock(&key).await.unwrap();
    let contender = store.clone();
    let key2 = key.clone();
    let waiting = tokio::spawn(async move { contender.lock(&key2).await.map(|_| ()) });
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished(), "the contender waits for the holder");
    drop(held);
    waiting.await.unwrap().unwrap();
}

/// The lock file of `k`: the one file a lock leaves next to the entry.
fn lock_file(store: &FileStore, k: &TokenKey) -> std::path::PathBuf {
    let entry = store.entry_path(k);
    let stem = entry.file_name().unwrap().to_str().unwrap();
    let stem = &stem[..stem.find('.').unwrap()];
    std::fs::read_dir(store.dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p != &entry
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(stem) && n.ends_with(".lock"))
        })
        .unwrap()
}

#[cfg(unix)]
#[tokio::test]
async fn a_fifo_at_the_entry_path_is_an_error_not_a_hang() {
    let (_temp, store) = store();
    let k = key("fifo");
    store.save(&k, &tokens()).await.unwrap();
    let path = store.entry_path(&k);
    std::fs::remove_file(&path).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let Ok(loaded) = tokio::time::timeout(Duration::from_secs(5), store.load(&k)).await else {
        // Release the blocked reader (a writer opens the FIFO), so the test fails, not hangs.
        drop(std::fs::OpenOptions::new().write(true).open(&path));
        panic!("load() hung on a FIFO");
    };
    let err = loaded.unwrap_err();
    assert!(
        matches!(&err, StoreError::Io { source, .. } if source.to_string().contains("regular file")),
        "{err:?}"
    );
    // save refuses it too, promptly, and leaves it in place.
    let saved = tokio::time::timeout(Duration::from_secs(5), store.save(&k, &tokens()))
        .await
        .expect("save() hung on a FIFO");
    assert!(saved.is_err());
    assert!(
        std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[cfg(unix)]
use std::os::unix::fs::FileTypeExt as _;

#[cfg(unix)]
#[tokio::test]
async fn a_symlinked_entry_is_refused() {
    let (temp, store) = store();
    let k = key("linked");
    store.save(&k, &tokens()).await.unwrap();
    let path = store.entry_path(&k);
    let elsewhere = temp.path().join("elsewhere.json");
    std::fs::rename(&path, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
    let err = store.load(&k).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Permission { message, .. } if message.contains("symbolic link")),
        "{err:?}"
    );
    assert_no_secret(&err.to_string());
    // Even with the permission checks off: links are never followed.
    let lax = FileStore::builder()
        .dir(store.dir())
        .check_permissions(false)
        .build()
        .unwrap();
    assert!(matches!(
        lax.load(&k).await,
        Err(StoreError::Permission { .. })
    ));
}

#[cfg(unix)]
#[tokio::test]
async fn a_dangling_symlink_at_the_lock_file_is_not_followed() {
    let (temp, store) = store();
    let k = key("dangling");
    drop(store.lock(&k).await.unwrap());
    let lock = lock_file(&store, &k);
    std::fs::remove_file(&lock).unwrap();
    let target = temp.path().join("created-through-the-link");
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    let Err(err) = store.lock(&k).await else {
        panic!("the lock was taken through a symbolic link")
    };
    assert!(
        matches!(&err, StoreError::Permission { message, .. } if message.contains("symbolic link")),
        "{err:?}"
    );
    assert!(!target.exists(), "the link's target was created");
}

#[cfg(unix)]
#[tokio::test]
async fn files_and_directories_of_another_owner_are_refused() {
    let (temp, store) = store();
    let k = key("owner");
    store.save(&k, &tokens()).await.unwrap();
    let other = effective_uid().wrapping_add(1);
    // The same directory and 0600 file, seen by a store that expects another owner: as if
    // root loaded a 0600 file planted by another user in a 0700 directory.
    let strict = FileStore::builder()
        .dir(temp.path().join("tokens"))
        .expected_owner_uid(other)
        .build()
        .unwrap();
    let err = strict.load(&k).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Permission { message, .. } if message.contains("belongs to uid")),
        "{err:?}"
    );
    assert!(strict.keys().await.is_err());
    assert!(strict.save(&k, &tokens()).await.is_err());
    // `check_permissions(false)` turns the owner check off too.
    let lax = FileStore::builder()
        .dir(temp.path().join("tokens"))
        .expected_owner_uid(other)
        .check_permissions(false)
        .build()
        .unwrap();
    assert_eq!(lax.load(&k).await.unwrap(), Some(tokens()));
}

/// The effective uid, read from a file this process just created (it owns it).
#[cfg(unix)]
fn effective_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().metadata().unwrap().uid()
}
