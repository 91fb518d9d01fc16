//! Crash safety and cross-process locking, with real child processes.
//!
//! The children are this test binary itself, re-executed with `CHILD_MODE_ENV` set: the
//! `child_entry` test then does the child's work instead of nothing. This works under both
//! `cargo test` and `cargo nextest`, and needs no extra binary target.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::cast_possible_truncation,
    clippy::similar_names
)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use frameio_auth_core::{
    AccessToken, Lifetime, RefreshToken, Timestamp, TokenKey, TokenSet, TokenStore,
};
use frameio_auth_store_file::FileStore;

const CHILD_MODE_ENV: &str = "FRAMEIO_AUTH_STORE_FILE_TEST_CHILD";
const CHILD_DIR_ENV: &str = "FRAMEIO_AUTH_STORE_FILE_TEST_DIR";
/// The first version number a "rewrite" child writes.
const CHILD_START_ENV: &str = "FRAMEIO_AUTH_STORE_FILE_TEST_START";
/// Version numbers of round `r`'s child are `(r + 1) * ROUND_STRIDE` onwards: far more than a
/// child can write before it is killed, so a version number tells which child wrote it.
const ROUND_STRIDE: u64 = 1_000_000;
const KILLS: usize = 200;
const PROCESSES: usize = 4;
const ROUNDS: usize = 250;

fn key() -> TokenKey {
    TokenKey::builder("ims", "prod", "CrashClient")
        .profile("alice@example.com")
        .build()
        .unwrap()
}

/// Version `n` of the entry: every field depends on `n`, and the access token is long
/// enough (4 KiB) that a torn write would show.
fn version(n: u64) -> TokenSet {
    let filler: String = (0..4096)
        .map(|i| char::from(b'a' + ((i + n) % 26) as u8))
        .collect();
    TokenSet::new(
        AccessToken::new(format!("v{n}-{filler}")),
        Timestamp::from_unix_millis(1_700_000_000_000 + n),
        Lifetime::ExpiresIn(Duration::from_secs(3600 + n)),
    )
    .with_refresh_token(RefreshToken::new(format!("refresh-{n}")), None)
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

/// The child side. A no-op test unless started by `spawn_child`.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD_MODE_ENV) else {
        return;
    };
    let dir = PathBuf::from(std::env::var(CHILD_DIR_ENV).unwrap());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = FileStore::builder()
            .dir(dir)
            .lock_timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        match mode.as_str() {
            "rewrite" => {
                let start: u64 = std::env::var(CHILD_START_ENV).unwrap().parse().unwrap();
                let mut n = start;
                store.save(&key(), &version(n)).await.unwrap();
                let mut out = std::io::stdout();
                writeln!(out, "ready {start}").unwrap();
                out.flush().unwrap();
                loop {
                    n += 1;
                    store.save(&key(), &version(n)).await.unwrap();
                }
            }
            "count" => {
                for _ in 0..ROUNDS {
                    let guard = store.lock(&key()).await.unwrap();
                    let current = store.load(&key()).await.unwrap().expect("seeded");
                    store
                        .save(&key(), &counter(count_of(&current) + 1))
                        .await
                        .unwrap();
                    drop(guard);
                }
            }
            other => panic!("unknown child mode {other}"),
        }
    });
    std::process::exit(0);
}

fn spawn_child(mode: &str, dir: &Path, start: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_MODE_ENV, mode)
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_START_ENV, start.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// A small deterministic generator, seeded from the clock (the seed is printed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test]
async fn sigkill_during_rewrites_never_leaves_a_torn_or_stray_entry() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("tokens");
    let store = FileStore::new(&dir);
    store.save(&key(), &version(0)).await.unwrap();

    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let mut rng = Rng(seed);
    let mut offsets = std::collections::HashSet::new();
    // Rounds whose entry is a version the killed child wrote after its first one: the kill
    // hit a child that was busy rewriting, not one still starting or already idle.
    let mut mid_rewrite = 0;
    for round in 0..KILLS {
        let start = (round as u64 + 1) * ROUND_STRIDE;
        let mut child = spawn_child("rewrite", &dir, start);
        // The test harness prints its own text first, on the same line.
        let expected = format!("ready {start}");
        let ready = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .any(|line| line.unwrap().ends_with(&expected));
        assert!(ready, "round {round}: the child did not start");
        // Somewhere in the next few writes (each a write, fsync, rename, fsync).
        std::thread::sleep(Duration::from_micros(1000 + rng.next() % 6000));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "round {round}: the child was not killed");

        let loaded = store
            .load(&key())
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"))
            .unwrap_or_else(|| panic!("round {round}: the entry vanished"));
        let n: u64 = loaded
            .access_token()
            .expose_secret()
            .strip_prefix('v')
            .and_then(|rest| rest.split('-').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("round {round}: not a written version"));
        assert_eq!(loaded, version(n), "round {round}: a mixture of versions");
        // The child saved `start` before saying ready, so the entry is at least that.
        assert!(
            (start..start + ROUND_STRIDE).contains(&n),
            "round {round}: version {n} is not this child's (from {start})"
        );
        if n > start {
            mid_rewrite += 1;
        }
        offsets.insert(n - start);
        assert_eq!(store.keys().await.unwrap(), vec![key()], "round {round}");
    }
    println!("{mid_rewrite} of {KILLS} kills hit a child in its rewrite loop");
    assert!(
        mid_rewrite >= KILLS / 2,
        "only {mid_rewrite} of {KILLS} kills hit a child that had rewritten the entry"
    );
    // The kills landed at different points of the loop, not always after the same write.
    assert!(
        offsets.len() >= 2,
        "every kill landed after write {offsets:?} of its child"
    );
    // Crashes may leave temporary files behind, but never a second entry.
    let entries = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".token")
        })
        .count();
    assert_eq!(entries, 1);
}

#[tokio::test]
async fn four_processes_increment_a_counter_under_the_lock_exactly_1000_times() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("tokens");
    let store = FileStore::new(&dir);
    store.save(&key(), &counter(0)).await.unwrap();
    let children: Vec<Child> = (0..PROCESSES)
        .map(|_| spawn_child("count", &dir, 0))
        .collect();
    for mut child in children {
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "a child failed: {status}");
    }
    let total = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(count_of(&total), (PROCESSES * ROUNDS) as u64);
}
