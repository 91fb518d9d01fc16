//! `FileStore` save (write, fsync, rename, fsync dir) and load, on a realistic IMS token set.
//!
//! `cargo bench -p frameio-auth-store-file`. The goal: save + load at most 2 ms.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use frameio_auth_core::{TokenKey, TokenStore};
use frameio_auth_store_file::FileStore;
use frameio_auth_testkit::store::ims_sized_tokens as tokens;

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Under target/ rather than /tmp, which may be a RAM disk where fsync costs nothing.
    let temp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = FileStore::new(temp.path().join("tokens"));
    let key = TokenKey::builder("ims", "prod", "bench").build().unwrap();
    let tokens = tokens();
    runtime.block_on(store.save(&key, &tokens)).unwrap();

    let mut group = c.benchmark_group("file_store");
    group.bench_function("save", |b| {
        b.iter(|| runtime.block_on(store.save(&key, &tokens)).unwrap());
    });
    group.bench_function("load", |b| {
        b.iter(|| runtime.block_on(store.load(&key)).unwrap().unwrap());
    });
    group.bench_function("save_then_load", |b| {
        b.iter(|| {
            runtime.block_on(async {
                store.save(&key, &tokens).await.unwrap();
                store.load(&key).await.unwrap().unwrap()
            })
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
