//! Speed of the hot-path decisions: `RefreshPolicy::decide` runs on every token request and
//! `TokenKey` formatting on every store access.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use frameio_auth_core::{
    AccessToken, Lifetime, RefreshPolicy, Scopes, Timestamp, TokenKey, TokenSet,
};

fn refresh_policy(c: &mut Criterion) {
    let issued = Timestamp::from_unix_secs(1_700_000_000);
    let tokens = TokenSet::new(
        AccessToken::new("a".repeat(1200)),
        issued,
        Lifetime::ExpiresIn(Duration::from_secs(86_399)),
    );
    let policy = RefreshPolicy::default();
    let fresh = issued.saturating_add(Duration::from_secs(60));
    let ahead = issued.saturating_add(Duration::from_secs(86_399 - 200));

    let mut group = c.benchmark_group("refresh_policy");
    group.bench_function("decide_fresh", |b| {
        b.iter(|| policy.decide(black_box(&tokens), black_box(fresh)));
    });
    group.bench_function("decide_refresh_ahead", |b| {
        b.iter(|| policy.decide(black_box(&tokens), black_box(ahead)));
    });
    let schedule = policy.schedule(&tokens);
    group.bench_function("schedule_decide", |b| {
        b.iter(|| black_box(&schedule).decide(black_box(fresh)));
    });
    group.bench_function("schedule", |b| {
        b.iter(|| policy.schedule(black_box(&tokens)));
    });
    group.finish();
}

fn token_key(c: &mut Criterion) {
    let scopes = Scopes::parse("openid profile email offline_access additional_info.roles")
        .unwrap_or_default();
    let key = TokenKey::builder("ims", "prod", "0123456789abcdef0123456789abcdef")
        .profile("alice@example.com")
        .scopes(scopes.clone())
        .build();
    let Ok(key) = key else { return };
    let text = key.to_string();

    let mut group = c.benchmark_group("token_key");
    group.bench_function("as_str", |b| b.iter(|| black_box(&key).as_str().len()));
    group.bench_function("to_string", |b| b.iter(|| black_box(&key).to_string()));
    group.bench_function("build", |b| {
        b.iter(|| {
            TokenKey::builder("ims", "prod", black_box("0123456789abcdef0123456789abcdef"))
                .profile("alice@example.com")
                .scopes(scopes.clone())
                .build()
        });
    });
    group.bench_function("parse", |b| b.iter(|| TokenKey::parse(black_box(&text))));
    group.finish();
}

criterion_group!(benches, refresh_policy, token_key);
criterion_main!(benches);
