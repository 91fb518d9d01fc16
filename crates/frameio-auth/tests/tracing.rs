//! Every refresh is traced in a span with its key, reason, attempt, outcome and duration, and
//! no line the manager traces (success, failure, dead login, failed save, logout) carries a
//! secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::{FlakyStore, HOUR, Script, ScriptedSource, expired_login, key, set};
use frameio_auth::TokenManager;
use frameio_auth_core::{Clock, ManualClock, TokenStore};
use frameio_auth_testkit::tracing_capture::{Capture, assert_no_secret};

#[tokio::test]
async fn refresh_spans_carry_key_reason_outcome_and_no_secret() {
    let capture = Capture::install();
    let clock = ManualClock::default();
    let store = Arc::new(FlakyStore::default());
    store.save(&key(), &expired_login(&clock)).await.unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = TokenManager::builder(Arc::clone(&source))
        .shared_store(Arc::new(Arc::clone(&store)))
        .clock(clock.clone())
        .sleeper(clock.paused_sleeper())
        .build();

    // A refresh that succeeds but cannot be saved, one that saves, one that fails, a dead
    // login, an import and a logout.
    store.failing.store(true, Ordering::SeqCst);
    manager.access_token().await.unwrap();
    store.failing.store(false, Ordering::SeqCst);
    manager.force_refresh().await.unwrap();
    source.set_script(Script::Transient);
    manager.force_refresh().await.unwrap_err();
    source.set_script(Script::InvalidGrant);
    clock.advance(HOUR);
    manager.force_refresh().await.unwrap_err();
    manager
        .import(set(
            "imported-access-token",
            Some("imported-refresh-token"),
            clock.now(),
            HOUR,
        ))
        .await
        .unwrap();
    let _ = manager.logout().await;

    let text = capture.text();
    assert!(text.contains("frameio_auth.refresh"), "{text}");
    assert!(text.contains(&format!("key={}", key())), "{text}");
    for field in [
        "reason=\"expired\"",
        "reason=\"forced\"",
        "outcome=\"ok\"",
        "outcome=\"transient\"",
        "outcome=\"needs_login\"",
        "attempt=",
        "duration_ms=",
    ] {
        assert!(text.contains(field), "{field} missing: {text}");
    }
    assert!(
        text.contains("cannot save the refreshed token set"),
        "{text}"
    );
    let mut secrets: Vec<String> = (0..=3)
        .flat_map(|n| [format!("access-{n}"), format!("refresh-{n}")])
        .filter(|s| s.len() >= 8)
        .collect();
    secrets.extend([
        "imported-access-token".to_owned(),
        "imported-refresh-token".to_owned(),
    ]);
    assert_no_secret(&text, &secrets);
}
