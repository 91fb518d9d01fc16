//! The metrics of a scripted run, read back through `metrics-util`'s debugging recorder.
#![cfg(feature = "metrics")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Script, ScriptedSource, expired_login, key, spawn_callers};
use frameio_auth::TokenManager;
use frameio_auth_core::{ManualClock, TokenStore};
use frameio_auth_store_memory::MemoryStore;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

/// What one snapshot holds (the debugging recorder drains on each snapshot).
type Snapshot = Vec<(
    metrics_util::CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)>;

/// The counter `name` with these labels, or the number of samples of the histogram.
fn value(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> u64 {
    snapshot
        .iter()
        .filter(|(key, ..)| {
            let key = key.key();
            key.name() == name
                && labels
                    .iter()
                    .all(|(k, v)| key.labels().any(|l| l.key() == *k && l.value() == *v))
        })
        .map(|(_, _, _, value)| match value {
            DebugValue::Counter(n) => *n,
            DebugValue::Histogram(samples) => samples.len() as u64,
            DebugValue::Gauge(_) => 0,
        })
        .sum()
}

#[tokio::test]
async fn a_scripted_run_counts_refreshes_waiters_lock_waits_and_stale_serves() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let clock = ManualClock::default();
    let store = Arc::new(MemoryStore::new());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate).gate();
    let manager = TokenManager::builder(Arc::clone(&source))
        .shared_store(Arc::clone(&store) as Arc<dyn TokenStore>)
        .clock(clock.clone())
        .sleeper(clock.paused_sleeper())
        .metrics_profile("ci")
        .build();
    let labels = [("provider", "test"), ("profile", "ci")];

    // Ten callers on an expired login: one refresh, nine waiters.
    let callers = spawn_callers(&manager, 10);
    source.wait_started(1).await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    source.open();
    for caller in callers {
        caller.await.unwrap().unwrap();
    }
    let snapshot = snapshotter.snapshot().into_vec();
    let ok = [labels[0], labels[1], ("outcome", "ok")];
    assert_eq!(value(&snapshot, "frameio_auth_refreshes_total", &ok), 1);
    assert_eq!(
        value(&snapshot, "frameio_auth_refresh_duration_seconds", &ok),
        1
    );
    assert_eq!(
        value(&snapshot, "frameio_auth_flight_waiters_total", &labels),
        9
    );
    assert_eq!(
        value(&snapshot, "frameio_auth_store_lock_wait_seconds", &labels),
        1
    );

    // Into the expiry margin with the endpoint failing: the valid token is served stale.
    source.set_script(Script::Transient);
    let token = manager.access_token().await.unwrap();
    let expires_at = token.expires_at().unwrap();
    clock.set(expires_at.saturating_sub(Duration::from_secs(20)));
    for _ in 0..5 {
        manager.access_token().await.unwrap();
    }
    let snapshot = snapshotter.snapshot().into_vec();
    let transient = [labels[0], labels[1], ("outcome", "transient")];
    assert_eq!(
        value(&snapshot, "frameio_auth_refreshes_total", &transient),
        1
    );
    // The first caller in the margin waited for the failing refresh and got the valid token
    // back; the other four got it at once while the retry waits for its slot.
    assert_eq!(
        value(&snapshot, "frameio_auth_served_stale_total", &labels),
        5
    );

    // A dead login: one refresh with the needs_login outcome.
    source.set_script(Script::InvalidGrant);
    let _ = manager.force_refresh().await.unwrap_err();
    let after = snapshotter.snapshot().into_vec();
    let needs_login = [labels[0], labels[1], ("outcome", "needs_login")];
    assert_eq!(
        value(&after, "frameio_auth_refreshes_total", &needs_login),
        1
    );

    // No label carries a token or a per-user value.
    let text = format!("{snapshot:?}");
    for secret in ["access-1", "refresh-1", "access-0", "refresh-0"] {
        assert!(!text.contains(secret), "{secret} in a metric");
    }
}
