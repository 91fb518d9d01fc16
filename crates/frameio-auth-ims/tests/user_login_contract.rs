//! Every IMS user credential (Web App, Single Page App, Native App) driven through
//! `&dyn UserLogin` only, against `FakeIms`: the three ways to finish a login, the loopback
//! login, renewal and revocation through the `TokenSource` supertrait.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a panic is how a test fails

mod support;

use frameio_auth_core::{ErrorKind, Revocation, Scopes, TokenSet};
use frameio_auth_ims::{ImsEnvironment, NativeApp};
use frameio_auth_oauth::LoopbackReceiver;
use frameio_auth_oauth::user_login::{ShowUrl, UserLogin};
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeClient, FakeImsConfig, demo};
use support::{browser, clock, native, spa, user_scopes, web_app};
use url::Url;

fn query(url: &Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map_or_else(|| panic!("no {name} in {url}"), |(_, v)| v.into_owned())
}

/// Signs in three times through the contract: `begin` + `complete`, an adjusted
/// `authorization_request` + `complete_with_code`, and `begin` + `exchange_code` after the
/// caller checked the redirect. Then renews the last login and revokes it.
async fn drive(login: &dyn UserLogin, ims: &FakeIms) -> TokenSet {
    let codes = ims.grant_count("authorization_code");
    let refreshes = ims.grant_count("refresh_token");
    let (url, pending) = login.begin().unwrap();
    assert_eq!(query(&url, "client_id"), login.client_id());
    assert_eq!(query(&url, "redirect_uri"), login.redirect_uri());
    let first = login
        .complete(&pending, &browser(&url).await)
        .await
        .unwrap();
    assert!(first.refresh_token().is_some());

    let (url, pending) = login
        .authorization_request()
        .unwrap()
        .prompt("login")
        .login_hint("ada@example.com")
        .build()
        .unwrap();
    assert_eq!(query(&url, "prompt"), "login");
    let callback = browser(&url).await;
    let second = login
        .complete_with_code(
            &pending,
            &query(&callback, "code"),
            &query(&callback, "state"),
        )
        .await
        .unwrap();
    assert_ne!(second.access_token(), first.access_token());

    let (url, pending) = login.begin().unwrap();
    let code = pending.verify_callback(&browser(&url).await).unwrap();
    let third = login.exchange_code(&pending, code).await.unwrap();
    assert_eq!(ims.grant_count("authorization_code"), codes + 3);

    let renewed = login.fetch(Some(&third)).await.unwrap();
    assert_eq!(ims.grant_count("refresh_token"), refreshes + 1);
    assert_eq!(login.key().provider(), "ims");

    assert_eq!(login.revoke(&renewed).await.unwrap(), Revocation::Revoked);
    assert!(!ims.is_refresh_token_active(renewed.refresh_token().unwrap().expose_secret()));
    assert!(!ims.is_access_token_active(renewed.access_token().expose_secret()));
    assert_eq!(
        login.fetch(Some(&renewed)).await.unwrap_err().kind(),
        ErrorKind::NeedsLogin
    );
    renewed
}

#[tokio::test]
async fn every_ims_user_credential_works_through_the_contract() {
    let clock = clock();
    let ims = support::fake_ims(&clock).await;
    let credentials: Vec<Box<dyn UserLogin>> = vec![
        Box::new(web_app(&ims, &clock)),
        Box::new(spa(&ims, &clock, user_scopes())),
        Box::new(native(&ims, &clock)),
    ];
    for login in &credentials {
        drive(login.as_ref(), &ims).await;
    }
    assert_eq!(ims.grant_count("authorization_code"), 9);
}

#[tokio::test]
async fn an_error_redirect_gets_the_ims_advice_through_the_contract() {
    let clock = clock();
    let ims = support::fake_ims(&clock).await;
    let login: &dyn UserLogin = &spa(&ims, &clock, Scopes::parse("openid asset.read").unwrap());
    let (url, pending) = login.begin().unwrap();
    let err = login
        .complete(&pending, &browser(&url).await)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Developer Console"), "{err}");
    // And a pending request of another credential is refused before any exchange.
    let other: &dyn UserLogin = &web_app(&ims, &clock);
    let (url, pending) = other.begin().unwrap();
    let err = login
        .complete(&pending, &browser(&url).await)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert_eq!(ims.token_requests(), 0);
}

#[tokio::test]
async fn the_loopback_login_works_through_the_contract() {
    const CLIENT_ID: &str = "demo-native-loopback";
    let clock = clock();
    let ims = FakeIms::start(
        FakeImsConfig::with_demo_clients()
            .clock(clock.clone())
            .client(FakeClient::native_app(
                CLIENT_ID,
                "http://127.0.0.1:*/callback",
                demo::USER_SCOPES,
            )),
    )
    .await
    .unwrap();
    let receiver = LoopbackReceiver::builder().bind().await.unwrap();
    let app: NativeApp = NativeApp::builder(
        ImsEnvironment::custom(ims.base_url()).unwrap(),
        CLIENT_ID,
        receiver.redirect_uri(),
    )
    .scopes(user_scopes())
    .transport(support::manual(&clock))
    .build()
    .unwrap();
    let login: &dyn UserLogin = &app;
    // The browser is the asynchronous ShowUrl: it runs while the login waits for the redirect.
    let show = ShowUrl::new_async(|url| async move {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let to_ims = client.get(url).send().await.unwrap();
        let callback = to_ims.headers()["location"].to_str().unwrap().to_owned();
        let page = client.get(callback).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200);
    });
    let tokens = login.login_with_loopback(receiver, show).await.unwrap();
    assert!(tokens.refresh_token().is_some());
    assert_eq!(ims.grant_count("authorization_code"), 1);
}
