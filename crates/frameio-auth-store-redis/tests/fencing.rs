//! The fenced lock against a real redis-server: a holder whose lease lapsed loses to one
//! that overtook it, and still saves when nobody did; renewal keeps a lease alive; and a
//! property test interleaves lock, renew, expire, reload and save of three holders, and
//! unlocked deletes, and shows that no write ever lands over a newer version or a delete the
//! holder did not see.
//!
//! Leases here are short real ones (Redis times them); every assertion is about an outcome
//! (who holds the lock, what is stored), never about how long something took.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{raw, token_key, tokens};
use frameio_auth_core::{StoreError, StoreLock, TokenStore};
use frameio_auth_store_redis::{RedisLock, RedisStore};
use proptest::prelude::*;
use redis::AsyncCommands as _;

/// A hang guard for waits on Redis's clock; a healthy run never gets near it.
const PATIENCE: Duration = Duration::from_secs(20);

fn short_lease(
    server: &frameio_auth_testkit::redis_server::RedisServer,
    namespace: &str,
) -> RedisStore {
    common::builder(server)
        .namespace(namespace)
        .lease(Duration::from_millis(300))
        .build()
        .unwrap()
}

/// Takes `key`'s lock through `store` as soon as it is free.
async fn take_when_free(store: &RedisStore, key: &frameio_auth_core::TokenKey) -> RedisLock {
    let started = Instant::now();
    loop {
        if let Some(lock) = store.try_lock(key).await.unwrap() {
            return lock;
        }
        assert!(started.elapsed() < PATIENCE, "the lease never ran out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_holder_that_was_overtaken_loses_and_the_newer_set_stays() {
    let Some(server) = common::server() else {
        return;
    };
    let namespace = common::random("overtaken");
    let (a_store, b_store) = (
        short_lease(&server, &namespace),
        short_lease(&server, &namespace),
    );
    let key = token_key("overtaken");
    a_store.save(&key, &tokens("start")).await.unwrap();

    let a = a_store.lock_key_guard(&key).await.unwrap();
    assert_eq!(a.reload(&a_store).await.unwrap(), Some(tokens("start")));
    a.pause_renewal(); // A stalls: its lease runs out

    let b = take_when_free(&b_store, &key).await;
    assert_eq!(b.reload(&b_store).await.unwrap(), Some(tokens("start")));
    b.save_fenced(&b_store, &tokens("b")).await.unwrap();

    // A wakes up with its rotated set: fenced.
    match a.save_fenced(&a_store, &tokens("a")).await {
        Err(StoreError::Fenced { key: fenced }) => assert_eq!(fenced, key),
        other => panic!("expected Fenced, got {other:?}"),
    }
    assert_eq!(a_store.load(&key).await.unwrap(), Some(tokens("b")));
    // A's guard learns that the lock is gone.
    assert!(!a.renew_now().await.unwrap());
    assert!(a.is_lost());
    assert!(!b.is_lost());
    drop(a);
    // A's release does not free B's lock.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(a_store.try_lock(&key).await.unwrap().is_none());
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lease_lapsed_but_nobody_overtook_still_saves_its_rotated_set() {
    let Some(server) = common::server() else {
        return;
    };
    let store = short_lease(&server, &common::random("lapsed"));
    let key = token_key("lapsed");
    store.save(&key, &tokens("start")).await.unwrap();
    let a = store.lock_key_guard(&key).await.unwrap();
    a.reload(&store).await.unwrap();
    a.pause_renewal();
    let mut connection = raw(&server).await;
    let started = Instant::now();
    loop {
        let held: bool = connection.exists(store.lock_key(&key)).await.unwrap();
        if !held {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "the lease never ran out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The lease is gone, yet nobody wrote since A loaded: A's set is the newest, and its
    // rotated refresh token the only live one.
    a.save_fenced(&store, &tokens("rotated")).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap(), Some(tokens("rotated")));
    // A second save by A lands too (its fence moved with its own write).
    a.save_fenced(&store, &tokens("rotated-again"))
        .await
        .unwrap();
    assert_eq!(
        store.load(&key).await.unwrap(),
        Some(tokens("rotated-again"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_lease_outlives_many_leases_and_keeps_others_out() {
    let Some(server) = common::server() else {
        return;
    };
    let store = short_lease(&server, &common::random("renewed"));
    let key = token_key("renewed");
    let a = store.lock_key_guard(&key).await.unwrap();
    assert_eq!(a.work_budget(), Some(Duration::from_millis(225)));
    // Renewals happen every 100 ms: after 4 of them more than a lease has passed.
    let started = Instant::now();
    while a.renewals() < 4 {
        assert!(started.elapsed() < PATIENCE, "the lease is not renewed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(store.try_lock(&key).await.unwrap().is_none());
    assert!(!a.is_lost());
    drop(a);
    let b = take_when_free(&store, &key).await;
    assert!(!b.is_lost());
}

#[tokio::test]
async fn a_fenced_save_before_any_reload_is_fenced_by_the_version_at_lock_time() {
    let Some(server) = common::server() else {
        return;
    };
    let store = common::store(&server);
    let key = token_key("fence-at-lock");
    store.save(&key, &tokens("one")).await.unwrap();
    let guard = store.lock_key_guard(&key).await.unwrap();
    // An unlocked save (a login elsewhere) after the lock was taken: last writer wins...
    store.save(&key, &tokens("login")).await.unwrap();
    // ... and the holder, which never saw it, may not overwrite it.
    assert!(matches!(
        guard.save_fenced(&store, &tokens("holder")).await,
        Err(StoreError::Fenced { .. })
    ));
    assert_eq!(store.load(&key).await.unwrap(), Some(tokens("login")));
    // After a reload it may.
    guard.reload(&store).await.unwrap();
    guard.save_fenced(&store, &tokens("holder")).await.unwrap();
}

/// One step of the property test.
#[derive(Clone, Copy, Debug)]
enum Op {
    Lock,
    Renew,
    /// The holder's lease runs out (the test deletes the lock key).
    Expire,
    Reload,
    Save,
    Release,
    /// An unlocked delete (a logout elsewhere), by nobody in particular.
    Delete,
}

fn op() -> impl Strategy<Value = (Op, usize)> {
    (
        prop_oneof![
            Just(Op::Lock),
            Just(Op::Renew),
            Just(Op::Expire),
            Just(Op::Reload),
            Just(Op::Save),
            Just(Op::Release),
            Just(Op::Delete),
        ],
        0..3usize,
    )
}

/// The model: who holds the lock, and the version each guard's next save must find.
struct Holder {
    guard: Option<RedisLock>,
    /// The version this holder last saw (the fence its guard keeps).
    seen: u64,
}

/// The entry's version; without an entry, its tombstone's (a delete's); 0 without either.
async fn stored_version(connection: &mut redis::aio::MultiplexedConnection, entry: &str) -> u64 {
    let mut version: Option<String> = connection.hget(entry, "v").await.unwrap();
    if version.is_none() {
        let gone = entry.replacen(":token:", ":gone:", 1);
        version = connection.get(gone).await.unwrap();
    }
    version.map_or(0, |v| v.parse().unwrap())
}

/// A fenced save by a holder that last saw `seen`: lands exactly when nothing was written or
/// deleted since. Returns what the holder sees now.
async fn save_step(
    store: &RedisStore,
    connection: &mut redis::aio::MultiplexedConnection,
    guard: &RedisLock,
    seen: u64,
    tokens: &frameio_auth_core::TokenSet,
    context: &str,
) -> u64 {
    let key = guard.key().clone();
    let entry = store.entry_key(&key);
    let before = stored_version(connection, &entry).await;
    let stored_before = store.load(&key).await.unwrap();
    let outcome = guard.save_fenced(store, tokens).await;
    let after = stored_version(connection, &entry).await;
    if seen == before {
        // Nobody wrote since this holder saw the entry, lease or no lease.
        assert!(outcome.is_ok(), "{context}: {outcome:?}");
        assert!(after > before, "{context}: versions only grow");
        assert_eq!(store.load(&key).await.unwrap().as_ref(), Some(tokens));
        after
    } else {
        // A newer version is stored: the write must not land over it.
        assert!(
            matches!(outcome, Err(StoreError::Fenced { .. })),
            "{context}: over a newer version: {outcome:?}"
        );
        assert_eq!(after, before, "{context}: nothing written");
        assert_eq!(store.load(&key).await.unwrap(), stored_before);
        seen
    }
}

/// An unlocked delete: leaves a tombstone at (or, over nothing, above) the last version.
async fn delete_step(
    store: &RedisStore,
    connection: &mut redis::aio::MultiplexedConnection,
    key: &frameio_auth_core::TokenKey,
    step: usize,
) {
    let entry = store.entry_key(key);
    let before = stored_version(connection, &entry).await;
    store.delete(key).await.unwrap();
    let after = stored_version(connection, &entry).await;
    assert!(after >= before, "step {step}: a delete keeps the version");
    assert!(
        after > 0,
        "step {step}: a delete always fences a holder of none"
    );
    assert_eq!(store.load(key).await.unwrap(), None);
}

async fn run_ops(server_url: String, namespace: String, ops: Vec<(Op, usize)>) {
    let store = RedisStore::builder()
        .url(&server_url)
        .namespace(namespace)
        .key(common::key_a())
        .build()
        .unwrap();
    let mut connection = redis::Client::open(server_url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let key = token_key("property");
    let entry = store.entry_key(&key);
    let lock_key = store.lock_key(&key);
    let mut holders: Vec<Holder> = (0..3)
        .map(|_| Holder {
            guard: None,
            seen: 0,
        })
        .collect();
    let mut owner: Option<usize> = None;
    let mut writes = 0u32;
    for (step, (op, h)) in ops.into_iter().enumerate() {
        let holder = &mut holders[h];
        match op {
            Op::Lock => {
                if holder.guard.is_some() {
                    continue;
                }
                let taken = store.try_lock(&key).await.unwrap();
                assert_eq!(taken.is_some(), owner.is_none(), "step {step}: lock by {h}");
                if let Some(guard) = taken {
                    holder.seen = stored_version(&mut connection, &entry).await;
                    assert_eq!(guard.fence(), holder.seen);
                    holder.guard = Some(guard);
                    owner = Some(h);
                }
            }
            Op::Renew => {
                if let Some(guard) = &holder.guard {
                    let renewed = guard.renew_now().await.unwrap();
                    assert_eq!(renewed, owner == Some(h), "step {step}: renew by {h}");
                }
            }
            Op::Expire => {
                if owner == Some(h) {
                    let _: () = connection.del(&lock_key).await.unwrap();
                    owner = None;
                }
            }
            Op::Reload => {
                if let Some(guard) = &holder.guard {
                    guard.reload(&store).await.unwrap();
                    holder.seen = stored_version(&mut connection, &entry).await;
                    assert_eq!(guard.fence(), holder.seen);
                }
            }
            Op::Save => {
                let Some(guard) = &holder.guard else { continue };
                writes += 1;
                let tokens = tokens(&format!("h{h}-w{writes}"));
                let context = format!("step {step}: save by {h}");
                holder.seen = save_step(
                    &store,
                    &mut connection,
                    guard,
                    holder.seen,
                    &tokens,
                    &context,
                )
                .await;
            }
            Op::Delete => delete_step(&store, &mut connection, &key, step).await,
            Op::Release => {
                if let Some(guard) = holder.guard.take() {
                    drop(guard);
                    if owner == Some(h) {
                        owner = None;
                        // The release runs in the background: wait for it.
                        let started = Instant::now();
                        loop {
                            let held: bool = connection.exists(&lock_key).await.unwrap();
                            if !held {
                                break;
                            }
                            assert!(started.elapsed() < PATIENCE, "the lock was not released");
                            tokio::task::yield_now().await;
                        }
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_write_lands_over_a_newer_version(ops in proptest::collection::vec(op(), 1..40)) {
        let Some(server) = common::server() else {
            return Ok(());
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(run_ops(server.url(), common::random("property"), ops));
    }
}
