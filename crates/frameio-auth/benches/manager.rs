//! The token cache against the physical floor: a bare `ArcSwap` load, measured in the same run
//! so ratios hold on a noisy machine.
//!
//! - `cached/*`: one task asking for a fresh token.
//! - `contended/*`: 16 tasks on a 2-worker runtime asking at once (throughput).
//! - `herd/*`: 10,000 tasks on an expired token while the token endpoint takes 20 ms; the
//!   bench checks that every repetition sends exactly one fetch and prints the slowest
//!   caller's wait.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr
)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use frameio_auth::TokenManager;
use frameio_auth_core::{
    AccessToken, AuthError, Clock, Lifetime, SystemClock, Timestamp, TokenKey, TokenSet,
    TokenSource, TokenStore,
};
use frameio_auth_store_memory::MemoryStore;

const TASKS: usize = 16;
const HERD: usize = 10_000;
const ENDPOINT_LATENCY: Duration = Duration::from_millis(20);

/// A token endpoint that answers after `latency` and counts its requests.
struct SlowEndpoint {
    latency: Duration,
    fetches: AtomicUsize,
}

#[async_trait]
impl TokenSource for SlowEndpoint {
    async fn fetch<'a>(&self, _current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.latency).await;
        Ok(token_set(SystemClock.now()))
    }

    fn key(&self) -> TokenKey {
        TokenKey::builder("bench", "local", "client")
            .build()
            .unwrap()
    }
}

fn token_set(issued: Timestamp) -> TokenSet {
    // An IMS access token is about 1.2 kB.
    TokenSet::new(
        AccessToken::new("x".repeat(1200)),
        issued,
        Lifetime::ExpiresIn(Duration::from_secs(86_399)),
    )
}

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

/// A manager holding a fresh token, on the default (system, coarse) clock.
fn warm_manager(rt: &tokio::runtime::Runtime) -> TokenManager {
    let source = SlowEndpoint {
        latency: Duration::ZERO,
        fetches: AtomicUsize::new(0),
    };
    let manager = TokenManager::builder(source).build();
    rt.block_on(async { manager.access_token().await.unwrap() });
    manager
}

fn cached(c: &mut Criterion) {
    let rt = runtime(2);
    let manager = warm_manager(&rt);
    let floor = ArcSwap::from_pointee(token_set(SystemClock.now()));

    let mut group = c.benchmark_group("cached");
    group.bench_function("floor_arcswap_load", |b| {
        b.iter(|| black_box(floor.load().access_token().expose_secret().len()));
    });
    group.bench_function("access_token", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(manager.access_token().await.unwrap());
        });
    });
    group.bench_function("with_token", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(manager.with_token(str::len).await.unwrap()) });
    });
    group.finish();
}

/// Runs `iters` gets spread over 16 tasks at once, each task with its own clone of `state`
/// (so no reference count is shared per get); evaluates to the wall time.
macro_rules! contended_run {
    ($rt:expr, $iters:expr, $state:expr, |$s:ident| $get:expr) => {{
        let per_task = $iters.div_ceil(TASKS as u64);
        let state = $state.clone();
        $rt.block_on(async move {
            let start = Instant::now();
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let $s = state.clone();
                    tokio::spawn(async move {
                        let mut sum = 0usize;
                        for _ in 0..per_task {
                            sum = sum.wrapping_add($get);
                        }
                        black_box(sum)
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            start.elapsed()
        })
    }};
}

fn contended(c: &mut Criterion) {
    let rt = runtime(2);
    let manager = warm_manager(&rt);
    let floor = Arc::new(ArcSwap::from_pointee(token_set(SystemClock.now())));

    let mut group = c.benchmark_group("contended");
    group.throughput(Throughput::Elements(1));
    group.bench_function("floor_arcswap_load_16_tasks", |b| {
        b.iter_custom(|iters| {
            contended_run!(rt, iters, floor, |floor| floor
                .load()
                .access_token()
                .expose_secret()
                .len())
        });
    });
    group.bench_function("with_token_16_tasks", |b| {
        b.iter_custom(|iters| {
            contended_run!(rt, iters, manager, |manager| manager
                .with_token(str::len)
                .await
                .unwrap())
        });
    });
    group.bench_function("access_token_16_tasks", |b| {
        b.iter_custom(|iters| {
            contended_run!(rt, iters, manager, |manager| manager
                .access_token()
                .await
                .unwrap()
                .expose_secret()
                .len())
        });
    });
    group.finish();
}

/// The herd's floor: the same 10,000 tasks, where the first one sleeps for the endpoint's
/// latency and hands the others its result through a bare `watch` channel; no manager.
/// Returns the wall time and the slowest caller's wait.
fn herd_floor(rt: &tokio::runtime::Runtime) -> (Duration, Duration) {
    rt.block_on(async {
        let (done, outcome) = tokio::sync::watch::channel(None::<Arc<TokenSet>>);
        let done = Arc::new(std::sync::Mutex::new(Some(done)));
        let start = Instant::now();
        let tasks: Vec<_> = (0..HERD)
            .map(|_| {
                let mut outcome = outcome.clone();
                let done = Arc::clone(&done);
                tokio::spawn(async move {
                    let asked = Instant::now();
                    let first = done.lock().unwrap().take();
                    if let Some(done) = first {
                        tokio::spawn(async move {
                            tokio::time::sleep(ENDPOINT_LATENCY).await;
                            done.send_replace(Some(Arc::new(token_set(SystemClock.now()))));
                        });
                    }
                    let set = outcome.wait_for(Option::is_some).await.unwrap().clone();
                    black_box(set);
                    asked.elapsed()
                })
            })
            .collect();
        let mut worst = Duration::ZERO;
        for task in tasks {
            worst = worst.max(task.await.unwrap());
        }
        (start.elapsed(), worst)
    })
}

fn summary(name: &str, worsts: &mut [Duration]) {
    worsts.sort();
    let median = worsts.get(worsts.len() / 2).copied().unwrap_or_default();
    let max = worsts.last().copied().unwrap_or_default();
    let within = worsts
        .iter()
        .filter(|w| **w <= Duration::from_millis(25))
        .count();
    eprintln!(
        "{name}: {} repetitions of {HERD} tasks; slowest caller per repetition: median {median:?}, max {max:?}; {within} repetitions served every caller within 25 ms (endpoint latency {ENDPOINT_LATENCY:?})",
        worsts.len()
    );
}

fn herd(c: &mut Criterion) {
    let rt = runtime(2);
    let mut worsts = Vec::new();
    let mut repetitions = 0u32;
    let mut group = c.benchmark_group("herd");
    group.sample_size(10);
    let mut floor_worsts = Vec::new();
    group.bench_function("floor_watch_channel_20ms", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (elapsed, worst) = herd_floor(&rt);
                floor_worsts.push(worst);
                total += elapsed;
            }
            total
        });
    });
    group.bench_function("10000_tasks_expired_token_20ms_endpoint", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let source = Arc::new(SlowEndpoint {
                    latency: ENDPOINT_LATENCY,
                    fetches: AtomicUsize::new(0),
                });
                let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
                let manager = frameio_auth::TokenManagerBuilder::shared(
                    Arc::clone(&source) as Arc<dyn TokenSource>
                )
                .shared_store(store)
                .build();
                let (elapsed, worst) = rt.block_on(async {
                    // The login in memory and in the store has expired: every task needs a
                    // refresh.
                    let expired = SystemClock
                        .now()
                        .saturating_sub(Duration::from_secs(90_000));
                    manager.import(token_set(expired)).await.unwrap();
                    let start = Instant::now();
                    let tasks: Vec<_> = (0..HERD)
                        .map(|_| {
                            let manager = manager.clone();
                            tokio::spawn(async move {
                                let asked = Instant::now();
                                manager.with_token(str::len).await.unwrap();
                                asked.elapsed()
                            })
                        })
                        .collect();
                    let mut worst = Duration::ZERO;
                    for task in tasks {
                        worst = worst.max(task.await.unwrap());
                    }
                    (start.elapsed(), worst)
                });
                assert_eq!(
                    source.fetches.load(Ordering::SeqCst),
                    1,
                    "one fetch per herd"
                );
                worsts.push(worst);
                repetitions += 1;
                total += elapsed;
            }
            total
        });
    });
    group.finish();
    summary("herd floor (bare watch channel)", &mut floor_worsts);
    summary(
        &format!("herd TokenManager (exactly 1 fetch in each of {repetitions} repetitions)"),
        &mut worsts,
    );
}

criterion_group!(benches, cached, contended, herd);
criterion_main!(benches);
