//! End to end, without a network: an IMS login response is parsed, kept in a `MemoryStore`,
//! and refreshed by two concurrent "processes" that follow the refresh algorithm of DESIGN.md
//! (lock, re-load, refresh only if still needed, save, release) — exactly one refresh happens,
//! and the rotated refresh token is what ends up stored.

// Test code may unwrap (clippy.toml); these helpers run only inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use frameio_auth_core::{
    RefreshDecision, RefreshPolicy, Scopes, TokenKey, TokenSet, TokenStore, TokenType,
    parse_token_response,
};
use frameio_auth_store_memory::MemoryStore;
use frameio_auth_testkit::{Clock, ManualClock, Timestamp};
use tokio::sync::Barrier;

const LOGIN_ACCESS: &str = "eyJhbGciOiJSUzI1NiIsIng1dSI6Imltc19uYTEta2V5LWF0LTEuY2VyIn0.eyJpZCI6IjE3MDAwMDAwMDBfbG9naW4iLCJ0eXBlIjoiYWNjZXNzX3Rva2VuIn0.bG9naW4tc2lnbmF0dXJl";
const LOGIN_REFRESH: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJ0eXBlIjoicmVmcmVzaF90b2tlbiIsIm4iOjF9.cmVmcmVzaC0x";
const LOGIN_ID: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIwMTIzNDU2Nzg5QUJDREVGQEFkb2JlSUQifQ.aWQtdG9rZW4";
const SUBJECT: &str = "0123456789ABCDEF0123456@AdobeID";

/// What IMS answers to `POST /ims/token/v3` with `grant_type=authorization_code` (user auth,
/// OAuth Web App): no `scope` field, extra account fields we ignore.
fn login_response() -> String {
    format!(
        r#"{{"access_token":"{LOGIN_ACCESS}","refresh_token":"{LOGIN_REFRESH}","sub":"{SUBJECT}",
            "id_token":"{LOGIN_ID}","token_type":"bearer","expires_in":86399,
            "account_type":"type1","email":"alice@example.com","email_verified":"true",
            "name":"Alice Example","given_name":"Alice","family_name":"Example"}}"#
    )
}

/// What IMS answers to a `refresh_token` grant: a new access token and a rotated refresh token.
fn refresh_response(n: usize) -> String {
    format!(
        r#"{{"access_token":"eyJhbGciOiJSUzI1NiJ9.refreshed-{n}.c2ln","refresh_token":"eyJhbGciOiJSUzI1NiJ9.rotated-{n}.c2ln",
            "sub":"{SUBJECT}","token_type":"bearer","expires_in":"86399"}}"#
    )
}

fn requested_scopes() -> Scopes {
    Scopes::parse("openid,AdobeID,offline_access,additional_info.roles").unwrap()
}

fn key() -> TokenKey {
    TokenKey::builder("ims", "prod", "4f2a0e6b1c9d4e8f9a7b6c5d4e3f2a1b")
        .profile("alice")
        .scopes(requested_scopes())
        .build()
        .unwrap()
}

/// One process's refresh, as the future `TokenManager` does it: lock, re-load, refresh only if
/// the stored set still needs it, save the rotated set before releasing the lock.
async fn refresh_if_needed(
    store: &dyn TokenStore,
    key: &TokenKey,
    policy: RefreshPolicy,
    clock: &ManualClock,
    token_requests: &AtomicUsize,
) -> TokenSet {
    let guard = store.lock(key).await.unwrap();
    let current = store.load(key).await.unwrap().expect("a stored login");
    if policy.decide(&current, clock.now()) == RefreshDecision::Fresh {
        // Another process refreshed while we waited for the lock.
        return current;
    }
    assert!(
        current.can_refresh(clock.now()),
        "a refresh token is needed"
    );
    let n = token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    // The token request is in flight: give the other process every chance to barge in.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let refreshed = parse_token_response(refresh_response(n).as_bytes(), clock.now())
        .unwrap()
        .with_requested_scopes_if_absent(current.scopes())
        .inherit_refresh_token(&current);
    store.save(key, &refreshed).await.unwrap();
    drop(guard);
    refreshed
}

/// Step 1: the login response, parsed as received now.
fn login(clock: &ManualClock) -> TokenSet {
    let login = parse_token_response(login_response().as_bytes(), clock.now())
        .unwrap()
        .with_requested_scopes_if_absent(&requested_scopes());
    assert_eq!(login.token_type(), &TokenType::Bearer);
    assert_eq!(login.issued_at(), clock.now());
    assert_eq!(
        login.expires_at(),
        Some(Timestamp::from_unix_secs(1_700_086_399))
    );
    assert_eq!(login.access_token().expose_secret(), LOGIN_ACCESS);
    assert_eq!(
        login.refresh_token().unwrap().expose_secret(),
        LOGIN_REFRESH
    );
    assert_eq!(login.refresh_token_expires_at(), None);
    assert_eq!(login.id_token().unwrap().expose_secret(), LOGIN_ID);
    assert_eq!(login.subject(), Some(SUBJECT));
    assert_eq!(
        login.scopes(),
        &requested_scopes(),
        "IMS omits `scope`: the requested ones apply"
    );
    login
}

/// Steps 2 and 3: keep the login under the lock, check what is stored and its stored form.
async fn keep(store: &MemoryStore, key: &TokenKey, login: &TokenSet) {
    // Under the lock, as a login would.
    {
        let guard = store.lock(key).await.unwrap();
        assert_eq!(guard.key(), key);
        assert_eq!(store.load(key).await.unwrap(), None);
        store.save(key, login).await.unwrap();
    }
    let stored = store.load(key).await.unwrap().unwrap();
    assert_eq!(&stored, login);
    assert_eq!(store.keys().await.unwrap(), vec![key.clone()]);
    let shown = format!("{store:?}");
    for secret in [LOGIN_ACCESS, LOGIN_REFRESH, LOGIN_ID] {
        assert!(
            !shown.contains(secret),
            "Debug of the store shows a token: {shown}"
        );
    }

    // The stored format: versioned, and round trips to an equal set.
    let bytes = stored.to_stored_json().unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(
        text.starts_with(r#"{"format":"frameio-auth.token-set","version":1,"#),
        "{text}"
    );
    assert!(text.contains(r#""expires_at_ms":1700086399000"#), "{text}");
    assert!(
        !text.contains("email"),
        "fields we do not keep must not be stored: {text}"
    );
    assert_eq!(&TokenSet::from_stored_json(&bytes).unwrap(), login);
}

/// Step 4: the refresh decision over the token's life (no jitter: window 5 min, margin 30 s).
fn decide_over_life(policy: RefreshPolicy, clock: &ManualClock, stored: &TokenSet) {
    assert_eq!(policy.decide(stored, clock.now()), RefreshDecision::Fresh);
    clock.advance(Duration::from_secs(86_399 - 6 * 60));
    assert_eq!(policy.decide(stored, clock.now()), RefreshDecision::Fresh);
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        policy.decide(stored, clock.now()),
        RefreshDecision::RefreshAhead
    );
    clock.advance(Duration::from_secs(5 * 60 - 20));
    assert_eq!(policy.decide(stored, clock.now()), RefreshDecision::Expired);
    assert!(
        !stored.is_expired(clock.now()),
        "expired for use 30 s early, not yet in fact"
    );
}

/// Step 5: two processes notice at once; the lock and the re-load make it one token request.
/// Returns the set both ended up with.
async fn refresh_from_two_processes(
    store: &Arc<dyn TokenStore>,
    key: &TokenKey,
    policy: RefreshPolicy,
    clock: &ManualClock,
) -> TokenSet {
    let token_requests = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(2));
    let processes: Vec<_> = (0..2)
        .map(|_| {
            let (store, key, clock, requests, start) = (
                Arc::clone(store),
                key.clone(),
                clock.clone(),
                Arc::clone(&token_requests),
                Arc::clone(&start),
            );
            tokio::spawn(async move {
                start.wait().await;
                refresh_if_needed(&*store, &key, policy, &clock, &requests).await
            })
        })
        .collect();
    let mut results = Vec::new();
    for process in processes {
        results.push(
            tokio::time::timeout(Duration::from_secs(10), process)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(
        token_requests.load(Ordering::SeqCst),
        1,
        "exactly one token request"
    );
    assert_eq!(
        results[0], results[1],
        "both processes use the same refreshed set"
    );

    results.swap_remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ims_login_is_stored_and_refreshed_exactly_once() {
    let clock = ManualClock::new(Timestamp::from_unix_secs(1_700_000_000));
    let policy = RefreshPolicy::default().without_jitter();
    let store = MemoryStore::new();
    let key = key();

    let login = login(&clock);
    keep(&store, &key, &login).await;
    decide_over_life(policy, &clock, &login);
    let store: Arc<dyn TokenStore> = Arc::new(store);
    let refreshed_by_both = refresh_from_two_processes(&store, &key, policy, &clock).await;

    // What is stored now: the new access token and the rotated refresh token, nothing old.
    let refreshed = store.load(&key).await.unwrap().unwrap();
    assert_eq!(refreshed, refreshed_by_both);
    assert_eq!(
        refreshed.access_token().expose_secret(),
        "eyJhbGciOiJSUzI1NiJ9.refreshed-1.c2ln"
    );
    assert_eq!(
        refreshed.refresh_token().unwrap().expose_secret(),
        "eyJhbGciOiJSUzI1NiJ9.rotated-1.c2ln"
    );
    assert_ne!(
        refreshed.refresh_token(),
        login.refresh_token(),
        "IMS rotated the refresh token"
    );
    assert_eq!(
        refreshed.id_token(),
        None,
        "the refresh response carried no id token"
    );
    assert_eq!(refreshed.issued_at(), clock.now());
    assert_eq!(refreshed.scopes(), &requested_scopes());
    assert_eq!(
        policy.decide(&refreshed, clock.now()),
        RefreshDecision::Fresh
    );
    let bytes = refreshed.to_stored_json().unwrap();
    assert_eq!(TokenSet::from_stored_json(&bytes).unwrap(), refreshed);

    // Sign out.
    store.delete(&key).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap(), None);
    assert!(store.keys().await.unwrap().is_empty());
}
