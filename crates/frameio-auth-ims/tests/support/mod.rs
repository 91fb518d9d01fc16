//! Shared set-up for the tests that drive the IMS credentials against `FakeIms`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // not every test file uses all of it

use frameio_auth_core::{ClientSecret, ManualClock, Scopes, Timestamp};
use frameio_auth_ims::{ImsEnvironment, NativeApp, ServerToServer, SinglePageApp, WebApp};
use frameio_auth_oauth::TransportSettings;
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeImsConfig, demo};
use url::Url;

/// Where the Web App and the SPA are redirected (matches their `https://localhost*` pattern).
pub(crate) const REDIRECT_URI: &str = "https://localhost/callback";

pub(crate) fn clock() -> ManualClock {
    ManualClock::new(Timestamp::from_unix_secs(1_700_000_000))
}

/// Settings whose time is `clock`: token times, expiry checks and retry waits follow it.
pub(crate) fn manual(clock: &ManualClock) -> TransportSettings {
    TransportSettings::new()
        .clock(clock.clone())
        .sleeper(clock.clone())
}

pub(crate) async fn fake_ims(clock: &ManualClock) -> FakeIms {
    FakeIms::start(FakeImsConfig::with_demo_clients().clock(clock.clone()))
        .await
        .unwrap()
}

pub(crate) fn env(ims: &FakeIms) -> ImsEnvironment {
    ImsEnvironment::custom(ims.base_url()).unwrap()
}

pub(crate) fn user_scopes() -> Scopes {
    Scopes::parse(demo::USER_SCOPES).unwrap()
}

pub(crate) fn s2s_scopes() -> Scopes {
    Scopes::parse("openid,AdobeID,frame.s2s.all").unwrap()
}

pub(crate) fn web_app(ims: &FakeIms, clock: &ManualClock) -> WebApp {
    web_app_with(ims, manual(clock))
}

/// The demo Web App with `settings`.
pub(crate) fn web_app_with(ims: &FakeIms, settings: TransportSettings) -> WebApp {
    WebApp::builder(
        env(ims),
        demo::WEB_CLIENT_ID,
        ClientSecret::new(demo::WEB_SECRET),
        REDIRECT_URI,
    )
    .scopes(user_scopes())
    .transport(settings)
    .build()
    .unwrap()
}

pub(crate) fn spa(ims: &FakeIms, clock: &ManualClock, scopes: Scopes) -> SinglePageApp {
    SinglePageApp::builder(env(ims), demo::SPA_CLIENT_ID, REDIRECT_URI)
        .scopes(scopes)
        .transport(manual(clock))
        .build()
        .unwrap()
}

pub(crate) fn native(ims: &FakeIms, clock: &ManualClock) -> NativeApp {
    NativeApp::builder(env(ims), demo::NATIVE_CLIENT_ID, demo::NATIVE_REDIRECT)
        .scopes(user_scopes())
        .transport(manual(clock))
        .build()
        .unwrap()
}

pub(crate) fn s2s(ims: &FakeIms, clock: &ManualClock, secrets: &[&str]) -> ServerToServer {
    s2s_with(ims, manual(clock), secrets)
}

/// The demo Server-to-Server credential with `settings` and `secrets` (one or two).
pub(crate) fn s2s_with(
    ims: &FakeIms,
    settings: TransportSettings,
    secrets: &[&str],
) -> ServerToServer {
    let mut builder =
        ServerToServer::builder(env(ims), demo::S2S_CLIENT_ID, ClientSecret::new(secrets[0]))
            .scopes(s2s_scopes())
            .transport(settings);
    if let Some(second) = secrets.get(1) {
        builder = builder.second_client_secret(ClientSecret::new(*second));
    }
    builder.build().unwrap()
}

/// Plays the browser on the fake (which approves at once): opens `url` without following
/// redirects and returns where IMS sends the browser back to.
pub(crate) async fn browser(url: &Url) -> Url {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(url.clone()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302, "IMS should redirect back");
    let location = response.headers()["location"].to_str().unwrap();
    Url::parse(location).unwrap()
}
