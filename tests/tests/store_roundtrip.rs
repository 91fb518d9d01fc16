//! End to end, without a network: an IMS login response is parsed, imported into a
//! `MemoryStore` through a `TokenManager`, and refreshed by two concurrent "processes" (two
//! managers, each with its own cache, over the one store). The managers follow the refresh
//! algorithm of DESIGN.md (lock, re-load, refresh only if still needed, save, release):
//! exactly one refresh happens, and the rotated refresh token is what ends up stored.

// Test code may unwrap (clippy.toml); these helpers run only inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use frameio_auth::{ProviderLogout, TokenManager};
use frameio_auth_core::{
    AuthError, RefreshDecision, RefreshPolicy, Revocation, Scopes, TokenKey, TokenSet, TokenSource,
    TokenStore, TokenType, parse_token_response,
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

/// IMS's token endpoint for the refresh grant, seen from a process: it counts the token
/// requests, records the refresh token each one was sent, and answers with a new access
/// token and a rotated refresh token.
struct ImsRefresh {
    clock: ManualClock,
    token_requests: AtomicUsize,
    sent_refresh_tokens: Mutex<Vec<String>>,
}

impl ImsRefresh {
    fn new(clock: &ManualClock) -> Arc<Self> {
        Arc::new(Self {
            clock: clock.clone(),
            token_requests: AtomicUsize::new(0),
            sent_refresh_tokens: Mutex::new(Vec::new()),
        })
    }
}

/// One process's source: what `frameio_auth_ims::WebApp` does, over the shared endpoint.
struct Process(Arc<ImsRefresh>);

#[async_trait]
impl TokenSource for Process {
    async fn fetch<'a>(&self, current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
        let ims = &self.0;
        let current = current.expect("a stored login");
        let now = ims.clock.now();
        assert!(current.can_refresh(now), "a refresh token is needed");
        let refresh = current.refresh_token().unwrap().expose_secret().to_owned();
        ims.sent_refresh_tokens.lock().unwrap().push(refresh);
        let n = ims.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
        // The token request is in flight: give the other process every chance to barge in.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        Ok(parse_token_response(refresh_response(n).as_bytes(), now)?
            .with_requested_scopes_if_absent(current.scopes())
            .inherit_refresh_token(current))
    }

    fn key(&self) -> TokenKey {
        key()
    }

    async fn revoke<'a>(&self, _tokens: &'a TokenSet) -> Result<Revocation, AuthError> {
        Ok(Revocation::Revoked)
    }
}

/// A process's manager of the login in `store`: no jitter, time from `clock`.
fn manager(
    ims: &Arc<ImsRefresh>,
    store: &Arc<dyn TokenStore>,
    policy: RefreshPolicy,
    clock: &ManualClock,
) -> TokenManager {
    TokenManager::builder(Process(Arc::clone(ims)))
        .shared_store(Arc::clone(store))
        .refresh_policy(policy)
        .clock(clock.clone())
        .sleeper(clock.paused_sleeper())
        .build()
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

/// Steps 2 and 3: a manager makes it the login (saved under the store's lock); check what is
/// stored and its stored form.
async fn keep(store: &MemoryStore, manager: &TokenManager, key: &TokenKey, login: &TokenSet) {
    assert_eq!(store.load(key).await.unwrap(), None);
    manager.import(login.clone()).await.unwrap();
    assert_eq!(manager.export().await.unwrap().as_ref(), Some(login));
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
    ims: &Arc<ImsRefresh>,
    store: &Arc<dyn TokenStore>,
    policy: RefreshPolicy,
    clock: &ManualClock,
) -> TokenSet {
    let start = Arc::new(Barrier::new(2));
    let processes: Vec<_> = (0..2)
        .map(|_| {
            let manager = manager(ims, store, policy, clock);
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                manager.access_token().await.unwrap();
                manager.export().await.unwrap().unwrap()
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
        ims.token_requests.load(Ordering::SeqCst),
        1,
        "exactly one token request"
    );
    assert_eq!(
        *ims.sent_refresh_tokens.lock().unwrap(),
        [LOGIN_REFRESH],
        "the one request sent the login's refresh token"
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
    let memory = Arc::new(MemoryStore::new());
    let store: Arc<dyn TokenStore> = Arc::<MemoryStore>::clone(&memory);
    let ims = ImsRefresh::new(&clock);
    let key = key();

    let login = login(&clock);
    let first = manager(&ims, &store, policy, &clock);
    keep(&memory, &first, &key, &login).await;
    drop(first);
    decide_over_life(policy, &clock, &login);
    let refreshed_by_both = refresh_from_two_processes(&ims, &store, policy, &clock).await;

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
    let report = manager(&ims, &store, policy, &clock).logout().await;
    assert!(report.is_complete(), "{report:?}");
    assert!(matches!(
        report.provider,
        ProviderLogout::Done(Revocation::Revoked)
    ));
    assert_eq!(store.load(&key).await.unwrap(), None);
    assert!(store.keys().await.unwrap().is_empty());
    assert_eq!(
        ims.token_requests.load(Ordering::SeqCst),
        1,
        "nothing refreshed on the way"
    );
}
