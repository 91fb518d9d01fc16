//! `UserCredential::login_with_loopback` against `FakeIms`: a Native App signs in through a
//! plain-HTTP loopback receiver (the browser is the asynchronous `ShowUrl`), an error redirect
//! gets the `invalid_scope` hint, and a receiver at another redirect URI is refused before
//! anything is shown.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

use frameio_auth_core::{ErrorKind, Scopes};
use frameio_auth_ims::{ImsEnvironment, NativeApp};
use frameio_auth_oauth::user_login::ShowUrl;
use frameio_auth_oauth::{LoginError, LoopbackReceiver};
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeClient, FakeImsConfig, demo};

const CLIENT_ID: &str = "demo-native-loopback";

async fn fake_ims() -> FakeIms {
    FakeIms::start(
        FakeImsConfig::with_demo_clients().client(FakeClient::native_app(
            CLIENT_ID,
            "http://127.0.0.1:*/callback",
            demo::USER_SCOPES,
        )),
    )
    .await
    .unwrap()
}

fn app(ims: &FakeIms, redirect_uri: &str, scopes: &str) -> NativeApp {
    NativeApp::builder(
        ImsEnvironment::custom(ims.base_url()).unwrap(),
        CLIENT_ID,
        redirect_uri,
    )
    .scopes(Scopes::parse(scopes).unwrap())
    .build()
    .unwrap()
}

/// Plays the browser as the login shows the URL: opens it, follows IMS's redirect to the
/// receiver, and checks the page the receiver answers with.
fn browser(expected_status: u16) -> ShowUrl {
    ShowUrl::new_async(move |url| async move {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 302, "IMS should redirect back");
        let callback = response.headers()["location"].to_str().unwrap().to_owned();
        let response = client.get(callback).send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected_status);
    })
}

#[tokio::test]
async fn login_with_loopback_signs_in() {
    let ims = fake_ims().await;
    let receiver = LoopbackReceiver::builder().bind().await.unwrap();
    let app = app(&ims, receiver.redirect_uri(), demo::USER_SCOPES);
    let tokens = app
        .login_with_loopback(receiver, browser(200))
        .await
        .unwrap();
    assert!(tokens.refresh_token().is_some());
    assert_eq!(ims.grant_count("authorization_code"), 1);
    app.userinfo(tokens.access_token()).await.unwrap();
}

#[tokio::test]
async fn an_invalid_scope_redirect_gets_the_hint() {
    let ims = fake_ims().await;
    let receiver = LoopbackReceiver::builder().bind().await.unwrap();
    let app = app(&ims, receiver.redirect_uri(), "openid asset.read");
    let err = app
        .login_with_loopback(receiver, browser(400))
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::Auth(_)), "{err:?}");
    assert_eq!(err.auth_error().unwrap().kind(), ErrorKind::Rejected);
    assert!(err.to_string().contains("Developer Console"), "{err}");
    assert_eq!(ims.grant_count("authorization_code"), 0);
}

#[tokio::test]
async fn a_receiver_at_another_redirect_uri_is_refused_before_anything_is_shown() {
    let ims = fake_ims().await;
    let receiver = LoopbackReceiver::builder().bind().await.unwrap();
    let listening = receiver.redirect_uri().to_owned();
    let app = app(&ims, "http://127.0.0.1:1/callback", demo::USER_SCOPES);
    let err = app
        .login_with_loopback(receiver, ShowUrl::new(|_| panic!("no URL may be shown")))
        .await
        .unwrap_err();
    match &err {
        LoginError::RedirectUriMismatch {
            credential,
            receiver,
        } => {
            assert_eq!(credential, "http://127.0.0.1:1/callback");
            assert_eq!(receiver, &listening);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("redirect_uri()"), "{err}");
    assert!(!err.is_timeout() && err.auth_error().is_none());
}
