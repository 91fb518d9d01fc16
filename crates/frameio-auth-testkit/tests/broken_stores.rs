//! The conformance suite can fail: deliberately broken stores fail it, each at the check that
//! covers its flaw, with a message that names the problem and no token value.

// Test code may unwrap and panic (clippy.toml); these helpers and stores exist only for tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use frameio_auth_core::{
    AccessToken, Lifetime, StoreError, StoreLock, TokenKey, TokenSet, TokenStore,
};
use frameio_auth_testkit::store::{Check, Conformance, ConformanceFailure};
use tokio::sync::OwnedMutexGuard;

/// What is wrong with a [`FlawedStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flaw {
    /// Nothing: the control case.
    None,
    /// `lock` returns at once without excluding anybody.
    NoopLock,
    /// `lock` never returns.
    DeadlockedLock,
    /// One lock for every key.
    GlobalLock,
    /// `save` forgets the refresh token.
    DropsRefreshToken,
    /// `save` cuts access tokens to 4 KiB.
    TruncatesLongValues,
    /// `delete` does nothing.
    IgnoresDelete,
    /// `delete` removes every entry.
    DeleteClearsAll,
    /// `keys` is always empty.
    EmptyKeys,
    /// A second `save` to a key is ignored: loads return the stale first value.
    KeepsFirstValue,
    /// A second `save` keeps the old refresh token when the new set has none.
    MergesOverwrite,
    /// Entries are named without their scopes, so keys that differ in scopes collide.
    IgnoresScopesInKey,
    /// `save` removes the old entry, yields, then inserts the new one.
    NonAtomicSave,
}

#[derive(Debug)]
struct FlawedStore {
    flaw: Flaw,
    entries: Mutex<HashMap<String, (TokenKey, TokenSet)>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    global_lock: Arc<tokio::sync::Mutex<()>>,
}

struct Guard {
    key: TokenKey,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl StoreLock for Guard {
    fn key(&self) -> &TokenKey {
        &self.key
    }
}

/// `tokens` with another access token and, if `keep_refresh` is false, no refresh token.
fn rebuild(tokens: &TokenSet, access_token: AccessToken, keep_refresh: bool) -> TokenSet {
    let lifetime = tokens
        .lifetime()
        .map_or(Lifetime::Never, Lifetime::ExpiresIn);
    let mut out = TokenSet::new(access_token, tokens.issued_at(), lifetime)
        .with_token_type(tokens.token_type().clone())
        .with_scopes(tokens.scopes().clone());
    if let Some(refresh) = tokens.refresh_token().filter(|_| keep_refresh) {
        out = out.with_refresh_token(refresh.clone(), tokens.refresh_token_expires_at());
    }
    if let Some(id) = tokens.id_token() {
        out = out.with_id_token(id.clone());
    }
    if let Some(subject) = tokens.subject() {
        out = out.with_subject(subject);
    }
    out
}

impl FlawedStore {
    fn new(flaw: Flaw) -> Self {
        Self {
            flaw,
            entries: Mutex::default(),
            locks: Mutex::default(),
            global_lock: Arc::default(),
        }
    }

    fn name(&self, key: &TokenKey) -> String {
        if self.flaw == Flaw::IgnoresScopesInKey {
            format!(
                "{}~{}~{}~{}",
                key.provider(),
                key.environment(),
                key.client_id(),
                key.profile()
            )
        } else {
            key.as_str().to_owned()
        }
    }

    fn stored_form(&self, tokens: &TokenSet) -> TokenSet {
        match self.flaw {
            Flaw::DropsRefreshToken => rebuild(tokens, tokens.access_token().clone(), false),
            Flaw::TruncatesLongValues => {
                let access = tokens.access_token().expose_secret();
                let mut end = access.len().min(4096);
                while !access.is_char_boundary(end) {
                    end -= 1;
                }
                rebuild(tokens, AccessToken::new(&access[..end]), true)
            }
            _ => tokens.clone(),
        }
    }
}

#[async_trait]
impl TokenStore for FlawedStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
        Ok(self
            .entries
            .lock()
            .unwrap()
            .get(&self.name(key))
            .map(|(_, t)| t.clone()))
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
        let name = self.name(key);
        let mut tokens = self.stored_form(tokens);
        if self.flaw == Flaw::NonAtomicSave {
            self.entries.lock().unwrap().remove(&name);
            tokio::task::yield_now().await;
        }
        let mut entries = self.entries.lock().unwrap();
        if let Some((_, old)) = entries.get(&name) {
            match self.flaw {
                Flaw::KeepsFirstValue => return Ok(()),
                Flaw::MergesOverwrite => tokens = tokens.inherit_refresh_token(old),
                _ => {}
            }
        }
        entries.insert(name, (key.clone(), tokens));
        Ok(())
    }

    async fn delete(&self, key: &TokenKey) -> Result<(), StoreError> {
        let mut entries = self.entries.lock().unwrap();
        match self.flaw {
            Flaw::IgnoresDelete => {}
            Flaw::DeleteClearsAll => entries.clear(),
            _ => {
                entries.remove(&self.name(key));
            }
        }
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        if self.flaw == Flaw::EmptyKeys {
            return Ok(Vec::new());
        }
        Ok(self
            .entries
            .lock()
            .unwrap()
            .values()
            .map(|(k, _)| k.clone())
            .collect())
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
        let mutex = match self.flaw {
            Flaw::NoopLock => {
                return Ok(Box::new(Guard {
                    key: key.clone(),
                    _guard: None,
                }));
            }
            Flaw::DeadlockedLock => std::future::pending().await,
            Flaw::GlobalLock => Arc::clone(&self.global_lock),
            _ => Arc::clone(
                self.locks
                    .lock()
                    .unwrap()
                    .entry(self.name(key))
                    .or_default(),
            ),
        };
        Ok(Box::new(Guard {
            key: key.clone(),
            _guard: Some(mutex.lock_owned().await),
        }))
    }
}

/// Short deadlines: this store answers in microseconds, and the deadlock cases should fail fast.
fn suite() -> Conformance {
    Conformance::new()
        .with_op_timeout(Duration::from_millis(1500))
        .with_lock_probe(Duration::from_millis(100))
}

/// Fragments of the token values the suite stores: none may appear in a failure message.
const VALUE_FRAGMENTS: &[&str] = &[
    "eyJ",
    "fio-u-",
    "at-raced",
    "rt-raced",
    "id-raced",
    "ユーザー",
    "漢漢",
    "😀",
];

fn assert_reports_no_values(failure: &ConformanceFailure) {
    let shown = format!("{failure} {failure:?}");
    for fragment in VALUE_FRAGMENTS {
        assert!(
            !shown.contains(fragment),
            "failure message quotes a value ({fragment}): {shown}"
        );
    }
}

/// Runs the whole suite on a store with `flaw`; it must fail at `expected`, with a message that
/// contains `mentions`. Running `expected` alone must fail the same way.
async fn assert_fails(flaw: Flaw, expected: Check, mentions: &str) -> ConformanceFailure {
    let failure = suite()
        .run(Arc::new(FlawedStore::new(flaw)))
        .await
        .expect_err("a broken store must fail the suite");
    assert_eq!(
        failure.check(),
        expected,
        "{flaw:?} failed the wrong check: {failure}"
    );
    assert!(
        failure.message().contains(mentions),
        "{flaw:?}: expected the message to mention {mentions:?}: {failure}"
    );
    assert!(failure.to_string().contains(expected.name()), "{failure}");
    assert_reports_no_values(&failure);

    let alone = suite()
        .run_check(expected, Arc::new(FlawedStore::new(flaw)))
        .await
        .expect_err("the check must fail on its own too");
    assert_eq!(alone.check(), expected);
    failure
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn control_store_passes() {
    let store = Arc::new(FlawedStore::new(Flaw::None));
    let report = suite()
        .run(Arc::clone(&store) as Arc<dyn TokenStore>)
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.passed(), Check::ALL);
    assert!(report.to_string().contains("lock_exclusion"), "{report}");
    assert!(
        store.entries.lock().unwrap().is_empty(),
        "the suite must clean up after itself"
    );
}

#[tokio::test]
async fn noop_lock_fails_lock_exclusion() {
    assert_fails(Flaw::NoopLock, Check::LockExclusion, "was granted").await;
}

#[tokio::test]
async fn deadlocked_lock_fails_with_a_timeout_instead_of_hanging() {
    assert_fails(
        Flaw::DeadlockedLock,
        Check::LockExclusion,
        "did not complete within",
    )
    .await;
}

#[tokio::test]
async fn global_lock_fails_lock_independence() {
    assert_fails(
        Flaw::GlobalLock,
        Check::LockIndependence,
        "must not block each other",
    )
    .await;
}

#[tokio::test]
async fn lost_refresh_token_fails_round_trip() {
    assert_fails(Flaw::DropsRefreshToken, Check::RoundTrip, "found absent").await;
}

#[tokio::test]
async fn truncated_values_fail_unicode_and_long_values() {
    let failure = assert_fails(
        Flaw::TruncatesLongValues,
        Check::UnicodeAndLongValues,
        "access_token",
    )
    .await;
    assert!(
        failure.message().contains("expected 65536 bytes"),
        "{failure}"
    );
}

#[tokio::test]
async fn ignored_delete_fails_delete() {
    assert_fails(
        Flaw::IgnoresDelete,
        Check::Delete,
        "after delete: expected None",
    )
    .await;
}

#[tokio::test]
async fn delete_that_clears_everything_fails_delete() {
    assert_fails(
        Flaw::DeleteClearsAll,
        Check::Delete,
        "load of another key after a delete",
    )
    .await;
}

#[tokio::test]
async fn empty_keys_fails_keys() {
    assert_fails(
        Flaw::EmptyKeys,
        Check::Keys,
        "expected it to list the saved key",
    )
    .await;
}

#[tokio::test]
async fn stale_value_after_overwrite_fails_overwrite() {
    assert_fails(
        Flaw::KeepsFirstValue,
        Check::Overwrite,
        "found the first set",
    )
    .await;
}

#[tokio::test]
async fn merged_overwrite_fails_overwrite() {
    let failure = assert_fails(
        Flaw::MergesOverwrite,
        Check::Overwrite,
        "refresh_token: expected absent",
    )
    .await;
    assert!(failure.message().contains("must not survive"), "{failure}");
}

#[tokio::test]
async fn keys_that_ignore_scopes_fail_missing_key() {
    assert_fails(Flaw::IgnoresScopesInKey, Check::MissingKey, "fewer scopes").await;
}

// On one thread the interleaving is deterministic, so this cannot be flaky.
#[tokio::test]
async fn non_atomic_save_fails_concurrent_saves() {
    assert_fails(
        Flaw::NonAtomicSave,
        Check::ConcurrentSaves,
        "not an atomic replace",
    )
    .await;
}

#[test]
fn checks_have_distinct_names_and_descriptions() {
    let mut names: Vec<&str> = Check::ALL.iter().map(|c| c.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Check::ALL.len());
    for check in Check::ALL {
        assert_eq!(check.to_string(), check.name());
        assert!(!check.description().is_empty());
    }
}
