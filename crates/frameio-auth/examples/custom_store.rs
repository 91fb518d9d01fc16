//! Your own `TokenStore`: token sets kept in a key-value map, the stand-in for a database
//! table, a cache or a secret manager, behind a `TokenManager`.
//!
//! What it shows:
//!
//! - the five methods of the contract: `load`, `save` (one atomic replace), `delete`, `keys`
//!   and `lock` (the exclusive section a refresh runs in);
//! - the stored form: the versioned JSON of `TokenSet::to_stored_json`, under the key's
//!   string form, kept in zeroizing buffers; an entry that cannot be read is an error
//!   (`StoreError::Corrupt`), never "absent", and is never deleted by the store;
//! - the store behind a `TokenManager`, which saves the token it got into it.
//!
//! The crate's test `tests/custom_store.rs` runs the conformance suite of
//! `frameio-auth-testkit` against this store; run it against yours the same way
//! (`docs/storage.md`).
//!
//! ```sh
//! FRAMEIO_TOKEN=fio-u-... cargo run -p frameio-auth --example custom_store
//! ```
//!
//! It sends no request: a Developer Token is used as it is. The token is never printed, only
//! its fingerprint.

use std::collections::HashMap;
use std::error::Error;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use frameio_auth::TokenManager;
use frameio_auth::model::{StoreError, StoreLock, TokenKey, TokenSet, TokenStore};
use frameio_auth::v2::DeveloperTokenSource;
use zeroize::Zeroizing;

// ANCHOR: store
/// Token sets in a key-value map: the versioned JSON of `TokenSet::to_stored_json` under the
/// key's string form.
#[derive(Default)]
pub struct KvStore {
    values: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

#[async_trait]
impl TokenStore for KvStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>, StoreError> {
        let values = lock(&self.values);
        let Some(bytes) = values.get(key.as_str()) else {
            return Ok(None);
        };
        // An entry that cannot be read is an error, never `None`, and it stays where it is.
        match TokenSet::from_stored_json(bytes) {
            Ok(tokens) => Ok(Some(tokens)),
            Err(reason) => Err(StoreError::Corrupt {
                location: key.to_string(),
                reason,
            }),
        }
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<(), StoreError> {
        let bytes = tokens.to_stored_json().map_err(|e| StoreError::Backend {
            message: format!("cannot serialize the set for {key}"),
            source: Some(Box::new(e)),
        })?;
        // One replace: a reader sees the old set or the new one, never a mixture.
        lock(&self.values).insert(key.as_str().to_owned(), bytes);
        Ok(())
    }

    async fn delete(&self, key: &TokenKey) -> Result<(), StoreError> {
        lock(&self.values).remove(key.as_str());
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        let values = lock(&self.values);
        let parse = |name: &String| {
            TokenKey::parse(name).map_err(|e| StoreError::Backend {
                message: format!("an entry with a name that is not a key: {e}"),
                source: None,
            })
        };
        values.keys().map(parse).collect()
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn StoreLock>, StoreError> {
        // One lock per key, held until the guard is dropped. This one excludes the tasks of
        // one process; a store that several processes or machines share needs a lock they
        // all see (a lock file, a row lock, a lease that expires).
        let mutex = Arc::clone(
            lock(&self.locks)
                .entry(key.as_str().to_owned())
                .or_default(),
        );
        let guard = mutex.lock_owned().await;
        Ok(Box::new(KvLock {
            key: key.clone(),
            _guard: guard,
        }))
    }
}

/// The lock on one key: released when dropped.
struct KvLock {
    key: TokenKey,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl StoreLock for KvLock {
    fn key(&self) -> &TokenKey {
        &self.key
    }
}

/// A poisoned lock only means another thread panicked: the map is still whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a log or a panic message may show: the number of entries, never their bytes.
impl std::fmt::Debug for KvStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvStore")
            .field("entries", &lock(&self.values).len())
            .finish_non_exhaustive()
    }
}
// ANCHOR_END: store

/// Runs the example with variables from `vars`, writing to `out`.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let store = Arc::new(KvStore::default());
    let source = DeveloperTokenSource::from_lookup(vars)?;
    let manager = TokenManager::builder(source)
        .store(Arc::clone(&store))
        .build();
    let token = manager.access_token().await?;
    writeln!(
        out,
        "token {} saved under {} ({store:?})",
        token.access_token().fingerprint(),
        manager.key(),
    )?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let vars = |name: &str| std::env::var(name).ok();
    match run(&vars, &mut std::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
