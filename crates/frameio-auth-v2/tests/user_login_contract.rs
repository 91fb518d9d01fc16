//! Both kinds of `V2OAuthApp` (confidential and PKCE) driven through `&dyn UserLogin` only,
//! against `FakeFrameioV2`: the three ways to finish a login, the loopback login, and renewal
//! through the `TokenSource` supertrait.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a panic is how a test fails

mod support;

use frameio_auth_core::{ErrorKind, ManualClock, Revocation, TokenSet};
use frameio_auth_oauth::LoopbackReceiver;
use frameio_auth_oauth::url::Url;
use frameio_auth_oauth::user_login::{ShowUrl, UserLogin};
use frameio_auth_testkit::v2::{FakeFrameioV2, demo, paths};
use frameio_auth_v2::V2OAuthApp;
use support::{browse, confidential_app, fake, offline_scopes, pkce_app};

fn query(url: &Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map_or_else(|| panic!("no {name} in {url}"), |(_, v)| v.into_owned())
}

/// Signs in three times through the contract (`begin` + `complete`, an adjusted
/// `authorization_request` + `complete_with_code`, `begin` + `exchange_code`), then renews.
async fn drive(login: &dyn UserLogin, fake: &FakeFrameioV2) -> TokenSet {
    let codes = fake.grant_count("authorization_code");
    let (url, pending) = login.begin().unwrap();
    assert_eq!(query(&url, "client_id"), login.client_id());
    let first = login.complete(&pending, &browse(url).await).await.unwrap();
    assert!(first.refresh_token().is_some());

    let (url, pending) = login
        .authorization_request()
        .unwrap()
        .prompt("login")
        .build()
        .unwrap();
    assert_eq!(query(&url, "prompt"), "login");
    let callback = browse(url).await;
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
    let code = pending.verify_callback(&browse(url).await).unwrap();
    let third = login.exchange_code(&pending, code).await.unwrap();
    assert_eq!(fake.grant_count("authorization_code"), codes + 3);

    let renewed = login.fetch(Some(&third)).await.unwrap();
    assert_eq!(
        fake.last_request(paths::TOKEN)
            .unwrap()
            .form_value("grant_type"),
        Some("refresh_token")
    );
    assert_eq!(login.key().provider(), "frameio-v2");
    // Frame.io V2 documents no revocation endpoint: nothing is sent.
    let requests = fake.total_requests();
    assert_eq!(
        login.revoke(&renewed).await.unwrap(),
        Revocation::Unsupported
    );
    assert_eq!(fake.total_requests(), requests);
    renewed
}

#[tokio::test]
async fn both_v2_apps_work_through_the_contract() {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    let apps: Vec<Box<dyn UserLogin>> = vec![
        Box::new(confidential_app(&fake, &clock, &offline_scopes())),
        Box::new(pkce_app(&fake, &clock, &offline_scopes())),
    ];
    for app in &apps {
        drive(app.as_ref(), &fake).await;
    }
    assert_eq!(fake.grant_count("authorization_code"), 6);
    assert_eq!(fake.grant_count("refresh_token"), 2);
}

#[tokio::test]
async fn a_pending_request_of_another_app_is_refused_through_the_contract() {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    let ours: &dyn UserLogin = &pkce_app(&fake, &clock, &offline_scopes());
    let theirs: &dyn UserLogin = &confidential_app(&fake, &clock, &offline_scopes());
    let (url, pending) = theirs.begin().unwrap();
    let err = ours
        .complete(&pending, &browse(url).await)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert_eq!(fake.requests_to(paths::TOKEN), 0);
}

#[tokio::test]
async fn the_loopback_login_works_through_the_contract() {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    let receiver = LoopbackReceiver::builder().bind().await.unwrap();
    let app = V2OAuthApp::builder(demo::PKCE_CLIENT_ID, receiver.redirect_uri())
        .scopes(offline_scopes())
        .oauth_base_url(fake.base_url())
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
        let to_fake = client.get(url).send().await.unwrap();
        let callback = to_fake.headers()["location"].to_str().unwrap().to_owned();
        let page = client.get(callback).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200);
    });
    let tokens = login.login_with_loopback(receiver, show).await.unwrap();
    assert!(tokens.refresh_token().is_some());
    assert_eq!(fake.grant_count("authorization_code"), 1);
}
