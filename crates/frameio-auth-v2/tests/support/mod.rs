//! Shared set-up for the tests that drive the V2 client against `FakeFrameioV2`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // not every test file uses all of it

use frameio_auth_core::{ClientSecret, ManualClock, TokenSet};
use frameio_auth_oauth::url::Url;
use frameio_auth_oauth::{RetryPolicy, TransportSettings};
use frameio_auth_testkit::v2::{FakeFrameioV2, FakeFrameioV2Config, demo};
use frameio_auth_v2::{FrameioApi, V2OAuthApp, V2Scope};

/// A redirect URI that matches the demo apps' `http://127.0.0.1:*` pattern. Nothing listens
/// there: the tests play the browser and hand the redirect to the app themselves.
pub(crate) const REDIRECT_URI: &str = "http://127.0.0.1:1/callback";

/// Settings whose time is `clock`: token times, expiry checks and retry waits follow it.
pub(crate) fn manual(clock: &ManualClock) -> TransportSettings {
    TransportSettings::new()
        .clock(clock.clone())
        .sleeper(clock.clone())
}

pub(crate) async fn fake(clock: &ManualClock) -> FakeFrameioV2 {
    FakeFrameioV2::start(FakeFrameioV2Config::with_demo_apps().clock(clock.clone()))
        .await
        .unwrap()
}

pub(crate) fn api(fake: &FakeFrameioV2, clock: &ManualClock) -> FrameioApi {
    FrameioApi::builder()
        .base_url(fake.base_url())
        .transport(manual(clock))
        .build()
        .unwrap()
}

pub(crate) fn confidential_app(
    fake: &FakeFrameioV2,
    clock: &ManualClock,
    scopes: &[V2Scope],
) -> V2OAuthApp {
    V2OAuthApp::builder(demo::CONFIDENTIAL_CLIENT_ID, REDIRECT_URI)
        .client_secret(ClientSecret::new(demo::CONFIDENTIAL_SECRET))
        .scopes(scopes.iter().cloned())
        .oauth_base_url(fake.base_url())
        .environment("fake")
        .transport(manual(clock).retry_policy(RetryPolicy::default().without_jitter()))
        .build()
        .unwrap()
}

pub(crate) fn pkce_app(
    fake: &FakeFrameioV2,
    clock: &ManualClock,
    scopes: &[V2Scope],
) -> V2OAuthApp {
    V2OAuthApp::builder(demo::PKCE_CLIENT_ID, REDIRECT_URI)
        .scopes(scopes.iter().cloned())
        .oauth_base_url(fake.base_url())
        .environment("fake")
        .transport(manual(clock))
        .build()
        .unwrap()
}

pub(crate) fn offline_scopes() -> Vec<V2Scope> {
    vec![V2Scope::AccountRead, V2Scope::AssetRead, V2Scope::Offline]
}

/// Plays the browser: opens the authorization URL on the fake (which auto-approves) and
/// returns the redirect it answers with.
pub(crate) async fn browse(url: Url) -> Url {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(url).send().await.unwrap();
    assert_eq!(
        response.status().as_u16(),
        302,
        "the fake should redirect back"
    );
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    Url::parse(&location).unwrap()
}

/// begin → browser → callback → exchange.
pub(crate) async fn login(app: &V2OAuthApp) -> (TokenSet, Vec<String>) {
    let (url, pending) = app.begin().unwrap();
    let callback = browse(url).await;
    let secrets = vec![
        pending.state().expose_secret().to_owned(),
        pending.code_verifier().expose_secret().to_owned(),
        callback
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned(),
    ];
    let tokens = app.complete(&pending, &callback).await.unwrap();
    (tokens, secrets)
}
