//! `load` and `save` of the Redis store (encrypted and plaintext) against a local
//! redis-server, side by side with the file store, in one run, on an IMS-sized token set.
//!
//! `cargo bench -p frameio-auth-store-redis`. Starts its own redis-server on a free loopback
//! port (no persistence); without redis-server installed, only the file store is measured.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use frameio_auth_core::{TokenKey, TokenStore};
use frameio_auth_store_file::FileStore;
use frameio_auth_store_redis::{EncryptionKey, RedisStore};
use frameio_auth_testkit::redis_server::{RedisServer, RedisServerConfig};
use frameio_auth_testkit::store::ims_sized_tokens as tokens;

fn measure(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    store: &dyn TokenStore,
) {
    let key = TokenKey::builder("ims", "prod", "bench").build().unwrap();
    let tokens = tokens();
    runtime.block_on(store.save(&key, &tokens)).unwrap();
    let mut group = c.benchmark_group(name);
    group.bench_function("save", |b| {
        b.iter(|| runtime.block_on(store.save(&key, &tokens)).unwrap());
    });
    group.bench_function("load", |b| {
        b.iter(|| runtime.block_on(store.load(&key)).unwrap().unwrap());
    });
    group.finish();
    runtime.block_on(store.delete(&key)).unwrap();
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Under target/ rather than /tmp, which may be a RAM disk where fsync costs nothing.
    let temp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let file = FileStore::new(temp.path().join("tokens"));
    measure(c, &runtime, "file_store", &file);

    let Some(server) = RedisServer::start_or_skip(RedisServerConfig::default()) else {
        return;
    };
    let _guard = runtime.enter();
    let encrypted = RedisStore::builder()
        .url(server.url())
        .key(EncryptionKey::from_bytes("bench", [9; 32]).unwrap())
        .build()
        .unwrap();
    measure(c, &runtime, "redis_store", &encrypted);
    let plaintext = RedisStore::builder()
        .url(server.url())
        .namespace("bench-plaintext")
        .plaintext()
        .build()
        .unwrap();
    measure(c, &runtime, "redis_store_plaintext", &plaintext);
}

criterion_group!(benches, bench);
criterion_main!(benches);
