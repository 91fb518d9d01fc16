//! Shared set-up for the tests that drive `TokenClient` against `FakeIms`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // not every test file uses all of it

use frameio_auth_core::{
    AuthorizationCode, ClientSecret, CsrfState, ManualClock, PkceVerifier, Scopes,
};
use frameio_auth_oauth::{
    AuthorizationRequest, ClientAuth, PendingAuthorization, ScopeFormat, SecureUrl, TokenClient,
    TransportSettings,
};
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeImsConfig, demo};
use url::Url;

/// Where the fake redirects the Web App and the SPA (matches their `https://localhost*` pattern).
pub(crate) const REDIRECT_URI: &str = "https://localhost/callback";

pub(crate) async fn fake_ims(clock: &ManualClock) -> FakeIms {
    FakeIms::start(FakeImsConfig::with_demo_clients().clock(clock.clone()))
        .await
        .unwrap()
}

pub(crate) fn token_client(ims: &FakeIms, auth: ClientAuth, clock: &ManualClock) -> TokenClient {
    TokenClient::builder(SecureUrl::parse(&ims.token_url()).unwrap(), auth)
        .transport(
            TransportSettings::new()
                .clock(clock.clone())
                .sleeper(clock.clone()),
        )
        .build()
        .unwrap()
}

pub(crate) fn s2s_basic() -> ClientAuth {
    ClientAuth::basic(demo::S2S_CLIENT_ID, ClientSecret::new(demo::S2S_SECRET))
}

pub(crate) fn s2s_in_body() -> ClientAuth {
    ClientAuth::request_body(demo::S2S_CLIENT_ID, ClientSecret::new(demo::S2S_SECRET))
}

pub(crate) fn web_basic() -> ClientAuth {
    ClientAuth::basic(demo::WEB_CLIENT_ID, ClientSecret::new(demo::WEB_SECRET))
}

pub(crate) fn s2s_scopes() -> Scopes {
    Scopes::parse("openid,AdobeID,frame.s2s.all").unwrap()
}

pub(crate) fn user_scopes() -> Scopes {
    Scopes::parse(demo::USER_SCOPES).unwrap()
}

/// What a browser login gave: the code plus the secrets of the pending request.
pub(crate) struct Login {
    pub(crate) pending: PendingAuthorization,
    pub(crate) code: AuthorizationCode,
    pub(crate) callback: Url,
}

impl Login {
    pub(crate) fn verifier(&self) -> &PkceVerifier {
        self.pending.code_verifier()
    }

    pub(crate) fn state(&self) -> &CsrfState {
        self.pending.state()
    }
}

/// Plays the browser: opens the authorization URL on the fake (which auto-approves), reads
/// the redirect, and checks it with the pending request.
pub(crate) async fn browser_login(ims: &FakeIms, client_id: &str) -> Login {
    let (url, pending) = AuthorizationRequest::new(
        SecureUrl::parse(&ims.authorize_url()).unwrap(),
        client_id,
        REDIRECT_URI,
    )
    .scopes(&user_scopes(), ScopeFormat::SpaceSeparated)
    .build()
    .unwrap();
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
    let callback = Url::parse(&location).unwrap();
    let code = pending.verify_callback(&callback).unwrap();
    Login {
        pending,
        code,
        callback,
    }
}
