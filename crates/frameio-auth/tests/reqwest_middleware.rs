//! The reqwest integration (feature `reqwest`) against a fake API on 127.0.0.1: one refresh
//! and one retry per 401, one refresh for many concurrent 401s, no retry of a streaming body
//! or a 403, a second 401 returned as is, and the typed error of V2 and V4 401 bodies.
#![cfg(feature = "reqwest")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{HOUR, Script, ScriptedSource, key, set};
use frameio_auth::http::{ApiAuthError, BearerAuth};
use frameio_auth::{TokenError, TokenManager};
use frameio_auth_core::mock::MockTokenSource;
use frameio_auth_core::{Clock, ErrorKind, ManualClock, TokenStore};
use frameio_auth_store_memory::MemoryStore;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use tokio::net::TcpListener;

/// What the fake API saw.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    rejected: AtomicUsize,
    /// Bodies of the requests it accepted.
    accepted_bodies: Mutex<Vec<String>>,
    /// Whether each request's `Authorization` header was `Bearer <token>`.
    tokens: Mutex<Vec<String>>,
}

/// A fake Frame.io API on 127.0.0.1, port 0. It accepts only the tokens in `valid`:
///
/// - `/v4/...`: 200, else 401 with a V4 body;
/// - `/v2/...`: 200, else 401 with a V2 body;
/// - `/never/v4`, `/never/v2`: 401 with a V4 or V2 body whatever the token;
/// - `/echo`: 401 whose body repeats the token it got;
/// - `/forbidden`: 403 with a V4 body.
struct FakeApi {
    base: String,
    seen: Arc<Seen>,
}

impl FakeApi {
    async fn start(valid: &[&str]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Seen::default());
        let valid: Arc<HashSet<String>> = Arc::new(valid.iter().map(|t| (*t).to_owned()).collect());
        let state = Arc::clone(&seen);
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let seen = Arc::clone(&state);
                let valid = Arc::clone(&valid);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let seen = Arc::clone(&seen);
                        let valid = Arc::clone(&valid);
                        async move { Ok::<_, Infallible>(answer(request, &seen, &valid).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { base, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn requests(&self) -> usize {
        self.seen.requests.load(Ordering::SeqCst)
    }

    fn rejected(&self) -> usize {
        self.seen.rejected.load(Ordering::SeqCst)
    }

    fn tokens(&self) -> Vec<String> {
        self.seen.tokens.lock().unwrap().clone()
    }
}

fn v4_body(detail: &str) -> String {
    serde_json::json!({"errors": [{"detail": detail, "source": {"pointer": ""}, "title": "Unauthorized"}]})
        .to_string()
}

fn v2_body(detail: &str) -> String {
    serde_json::json!({
        "code": 401,
        "message": "Unauthorized",
        "errors": [{"code": "unauthorized", "detail": detail, "status": 401, "title": "Unauthorized"}],
    })
    .to_string()
}

fn reply(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-request-id", "req-7")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn answer(
    request: Request<Incoming>,
    seen: &Seen,
    valid: &HashSet<String>,
) -> Response<Full<Bytes>> {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    let path = request.uri().path().to_owned();
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    seen.tokens.lock().unwrap().push(token.clone());
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    let unauthorized = |body: String| {
        seen.rejected.fetch_add(1, Ordering::SeqCst);
        reply(StatusCode::UNAUTHORIZED, body)
    };
    match path.as_str() {
        "/forbidden" => reply(
            StatusCode::FORBIDDEN,
            serde_json::json!({"errors": [{"detail": "missing scope", "title": "Forbidden"}]})
                .to_string(),
        ),
        "/never/v4" => unauthorized(v4_body("invalid token")),
        "/never/v2" => unauthorized(v2_body("invalid token")),
        "/echo" => unauthorized(v4_body(&format!("the token {token} is not valid"))),
        _ if !valid.contains(&token) => {
            if path.starts_with("/v2/") {
                unauthorized(v2_body("token expired"))
            } else {
                unauthorized(v4_body("invalid token"))
            }
        }
        _ => {
            seen.accepted_bodies.lock().unwrap().push(body);
            reply(StatusCode::OK, r#"{"id":"user-1"}"#.to_owned())
        }
    }
}

/// A manager on a manual clock whose store holds a fresh `access-0` (the fake API rejects
/// it); its source rotates to `access-1`, `access-2`, ...
async fn manager_with(source: &Arc<ScriptedSource>, clock: &ManualClock) -> TokenManager {
    let store = Arc::new(MemoryStore::new());
    store
        .save(
            &key(),
            &set("access-0", Some("refresh-0"), clock.now(), HOUR),
        )
        .await
        .unwrap();
    TokenManager::builder(Arc::clone(source))
        .shared_store(store)
        .clock(clock.clone())
        .sleeper(clock.paused_sleeper())
        .jitter_seed(7)
        .build()
}

fn client(manager: &TokenManager) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(BearerAuth::new(manager.clone()))
        .build()
}

#[tokio::test]
async fn a_401_causes_one_refresh_and_one_retry_that_succeeds() {
    let clock = ManualClock::default();
    let api = FakeApi::start(&["access-1"]).await;
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager_with(&source, &clock).await;

    let response = client(&manager)
        .post(api.url("/v4/assets"))
        .body("payload")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(source.fetches(), 1);
    assert_eq!(api.requests(), 2);
    assert_eq!(api.tokens(), ["access-0", "access-1"]);
    // The retry carried the body again.
    assert_eq!(*api.seen.accepted_bodies.lock().unwrap(), ["payload"]);
    let response = ApiAuthError::check(response).await.unwrap();
    assert_eq!(response.text().await.unwrap(), r#"{"id":"user-1"}"#);

    // The next request uses the refreshed token straight away.
    let again = client(&manager)
        .get(api.url("/v4/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(source.fetches(), 1);
    assert_eq!(api.requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_401s_cause_one_refresh() {
    let clock = ManualClock::default();
    let api = FakeApi::start(&["access-1"]).await;
    // The refresh waits until every request has had its 401, so all 20 are on `access-0`.
    let source = ScriptedSource::new(&clock, Script::Rotate).gate();
    let manager = manager_with(&source, &clock).await;
    let client = client(&manager);

    let requests: Vec<_> = (0..20)
        .map(|i| {
            let client = client.clone();
            let url = api.url("/v4/me");
            tokio::spawn(async move { client.post(url).body(format!("body-{i}")).send().await })
        })
        .collect();
    source.wait_started(1).await;
    while api.rejected() < 20 {
        tokio::task::yield_now().await;
    }
    source.open();
    for request in requests {
        assert_eq!(request.await.unwrap().unwrap().status(), 200);
    }

    assert_eq!(source.fetches(), 1);
    assert_eq!(api.rejected(), 20);
    assert_eq!(api.requests(), 40);
    let tokens = api.tokens();
    assert_eq!(tokens.iter().filter(|t| *t == "access-0").count(), 20);
    assert_eq!(tokens.iter().filter(|t| *t == "access-1").count(), 20);
}

#[tokio::test]
async fn a_streaming_body_is_not_retried_and_its_401_is_returned() {
    let clock = ManualClock::default();
    let api = FakeApi::start(&["access-1"]).await;
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager_with(&source, &clock).await;

    let chunks =
        futures_util::stream::iter(vec![Ok::<_, std::io::Error>("chunk-1"), Ok("chunk-2")]);
    let response = client(&manager)
        .post(api.url("/v2/assets"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 401);
    assert_eq!(source.fetches(), 0);
    assert_eq!(api.requests(), 1);
    // Not retried, so a refresh may still cure it: no new login needed yet.
    let error = ApiAuthError::check(response).await.unwrap_err();
    assert!(!error.needs_login());
    assert_eq!(error.status(), 401);
    assert_eq!(error.message(), "Unauthorized; Unauthorized: token expired");
    assert_eq!(error.request_id(), Some("req-7"));
}

#[tokio::test]
async fn a_403_is_never_retried() {
    let clock = ManualClock::default();
    let api = FakeApi::start(&["access-0"]).await;
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager_with(&source, &clock).await;

    let response = client(&manager)
        .get(api.url("/forbidden"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 403);
    assert_eq!(source.fetches(), 0);
    assert_eq!(api.requests(), 1);
    let error = ApiAuthError::check(response).await.unwrap_err();
    assert!(!error.needs_login());
    assert_eq!(error.status(), 403);
    assert_eq!(error.message(), "Forbidden: missing scope");
}

#[tokio::test]
async fn a_second_401_is_returned_as_is_with_a_v4_body() {
    let clock = ManualClock::default();
    let api = FakeApi::start(&["access-1"]).await;
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager_with(&source, &clock).await;

    let response = client(&manager)
        .get(api.url("/never/v4"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 401);
    assert_eq!(source.fetches(), 1);
    assert_eq!(api.requests(), 2);
    assert_eq!(api.tokens(), ["access-0", "access-1"]);
    let error = ApiAuthError::check(response).await.unwrap_err();
    assert!(error.needs_login());
    assert_eq!(error.status(), 401);
    assert_eq!(error.message(), "Unauthorized: invalid token");
    assert_eq!(error.request_id(), Some("req-7"));
    assert_eq!(
        error.to_string(),
        "HTTP 401: the token was rejected after a refresh; sign in again: \
         Unauthorized: invalid token (request id req-7)"
    );
}

#[tokio::test]
async fn a_second_401_with_a_v2_body_needs_a_login() {
    let clock = ManualClock::default();
    let api = FakeApi::start(&["access-1"]).await;
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager_with(&source, &clock).await;

    let response = client(&manager)
        .get(api.url("/never/v2"))
        .send()
        .await
        .unwrap();

    assert_eq!(source.fetches(), 1);
    assert_eq!(api.requests(), 2);
    let error = ApiAuthError::from_response(response).await;
    assert!(error.needs_login());
    assert_eq!(error.status(), 401);
    assert_eq!(error.message(), "Unauthorized; Unauthorized: invalid token");
    assert_eq!(error.details().code, Some(401));
    assert_eq!(
        error.details().errors[0].code.as_deref(),
        Some("unauthorized")
    );
}

#[tokio::test]
async fn a_source_with_no_newer_token_gets_its_401_back_as_needing_a_login() {
    let clock = ManualClock::default();
    let api = FakeApi::start(&[]).await;
    // A Developer Token: the source hands back the set it is given.
    let fetches = Arc::new(AtomicUsize::new(0));
    let mut source = MockTokenSource::new();
    source.expect_key().returning(key);
    let counter = Arc::clone(&fetches);
    source.expect_fetch().returning(move |current| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(current.cloned().expect("the stored set"))
    });
    let store = Arc::new(MemoryStore::new());
    store
        .save(&key(), &set("access-0", None, clock.now(), HOUR))
        .await
        .unwrap();
    let manager = TokenManager::builder(source)
        .shared_store(store)
        .clock(clock.clone())
        .sleeper(clock.paused_sleeper())
        .build();

    let response = client(&manager)
        .get(api.url("/v4/me"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 401);
    assert!(fetches.load(Ordering::SeqCst) <= 1);
    // Sending the same token again would be pointless.
    assert_eq!(api.requests(), 1);
    assert!(
        ApiAuthError::check(response)
            .await
            .unwrap_err()
            .needs_login()
    );
}

#[tokio::test]
async fn a_failed_refresh_is_the_token_error() {
    let clock = ManualClock::default();
    let api = FakeApi::start(&["access-1"]).await;
    let source = ScriptedSource::new(&clock, Script::InvalidGrant);
    let manager = manager_with(&source, &clock).await;

    let error = client(&manager)
        .get(api.url("/v4/me"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(api.requests(), 1);
    let reqwest_middleware::Error::Middleware(error) = error else {
        panic!("expected the middleware's error, got {error:?}");
    };
    let token_error = error.downcast_ref::<TokenError>().expect("a TokenError");
    assert_eq!(token_error.kind(), ErrorKind::NeedsLogin);
}

#[tokio::test]
async fn the_error_never_shows_the_token() {
    let clock = ManualClock::default();
    let api = FakeApi::start(&["access-1"]).await;
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager_with(&source, &clock).await;

    // The server repeats the token it got in its 401 body.
    let response = client(&manager).get(api.url("/echo")).send().await.unwrap();

    assert_eq!(api.tokens(), ["access-0", "access-1"]);
    let error = ApiAuthError::check(response).await.unwrap_err();
    assert!(error.needs_login());
    assert_eq!(
        error.message(),
        "Unauthorized: the token [redacted] is not valid"
    );
    for shown in [
        error.to_string(),
        format!("{error:?}"),
        format!("{error:#?}"),
    ] {
        assert!(!shown.contains("access-0"), "{shown}");
        assert!(!shown.contains("access-1"), "{shown}");
    }
}

#[tokio::test]
async fn authorize_sets_a_sensitive_bearer_header() {
    let clock = ManualClock::default();
    let api = FakeApi::start(&["access-0"]).await;
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = manager_with(&source, &clock).await;
    let client = reqwest::Client::new();

    let request = manager
        .authorize(
            client
                .get(api.url("/v4/me"))
                .header("authorization", "Bearer stale"),
        )
        .await
        .unwrap()
        .build()
        .unwrap();
    let headers = request.headers().get_all("authorization");
    let values: Vec<_> = headers.iter().collect();
    assert_eq!(values.len(), 1);
    assert_eq!(values[0], "Bearer access-0");
    assert!(values[0].is_sensitive());
    assert!(!format!("{request:?}").contains("access-0"));

    let response = client.execute(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(source.fetches(), 0);
}

#[tokio::test]
async fn a_token_that_cannot_be_a_header_is_a_configuration_error() {
    let clock = ManualClock::default();
    let store = Arc::new(MemoryStore::new());
    store
        .save(&key(), &set("bad\ntoken", None, clock.now(), HOUR))
        .await
        .unwrap();
    let source = ScriptedSource::new(&clock, Script::Rotate);
    let manager = TokenManager::builder(Arc::clone(&source))
        .shared_store(store)
        .clock(clock.clone())
        .sleeper(clock.paused_sleeper())
        .build();

    let error = manager
        .authorize(reqwest::Client::new().get("http://127.0.0.1:9/v4/me"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Configuration);
    assert!(!error.to_string().contains("bad"), "{error}");

    let error = client(&manager)
        .get("http://127.0.0.1:9/v4/me")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_middleware());
}
