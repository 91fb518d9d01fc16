//! `TokenClient` against `FakeIms`: every grant, both client authentication styles, retries,
//! `Retry-After` on the injected clock, `invalid_grant`, and bad bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

mod fake_ims_support;

use std::time::Duration;

use fake_ims_support::{
    browser_login, fake_ims, s2s_basic, s2s_in_body, s2s_scopes, token_client, web_basic,
};
use frameio_auth_core::{Clock, ErrorKind, ManualClock, RefreshToken};
use frameio_auth_oauth::{ClientAuth, Grant, ScopeFormat};
use frameio_auth_testkit::ims::{Fault, Schedule, decode_jwt_payload, demo, paths};

fn s2s_grant() -> Grant {
    Grant::client_credentials(&s2s_scopes(), ScopeFormat::CommaSeparated)
}

#[tokio::test]
async fn client_credentials_with_basic_auth() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    let tokens = token_client(&ims, s2s_basic(), &clock)
        .request_token(&s2s_grant())
        .await
        .unwrap();

    assert_eq!(tokens.issued_at(), clock.now());
    assert_eq!(tokens.lifetime(), Some(Duration::from_secs(86_399)));
    assert!(tokens.refresh_token().is_none(), "S2S has no refresh token");
    assert!(ims.is_access_token_active(tokens.access_token().expose_secret()));
    let claims = decode_jwt_payload(tokens.access_token().expose_secret()).unwrap();
    assert_eq!(
        claims["expires_in"], "86399000",
        "IMS speaks milliseconds, as strings"
    );

    let request = ims.last_request(paths::TOKEN).unwrap();
    assert!(
        request
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(request.form_value("client_secret"), None);
    assert_eq!(
        request.form_value("scope"),
        Some("AdobeID,frame.s2s.all,openid")
    );
    assert_eq!(ims.grant_count("client_credentials"), 1);
}

#[tokio::test]
async fn client_credentials_with_secret_in_body() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    token_client(&ims, s2s_in_body(), &clock)
        .request_token(&s2s_grant())
        .await
        .unwrap();

    let request = ims.last_request(paths::TOKEN).unwrap();
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.form_value("client_id"), Some(demo::S2S_CLIENT_ID));
    assert_eq!(request.form_value("client_secret"), Some(demo::S2S_SECRET));
}

#[tokio::test]
async fn web_app_code_exchange_then_rotating_refresh() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    let client = token_client(&ims, web_basic(), &clock);

    let login = browser_login(&ims, demo::WEB_CLIENT_ID).await;
    let first = client
        .request_token(&login.pending.token_grant(login.code))
        .await
        .unwrap();
    let first_refresh = first.refresh_token().unwrap().clone();
    assert!(first.id_token().is_some(), "openid was requested");
    assert!(
        ims.last_request(paths::TOKEN)
            .unwrap()
            .form_value("code_verifier")
            .is_some()
    );

    clock.advance(Duration::from_secs(3600));
    let second = client
        .request_token(&Grant::refresh_token(first_refresh.clone()))
        .await
        .unwrap()
        .inherit_refresh_token(&first);
    assert_ne!(
        second.refresh_token(),
        Some(&first_refresh),
        "IMS rotates refresh tokens"
    );
    assert_eq!(second.issued_at(), clock.now());

    // The spent refresh token is dead: a typed needs-login error.
    let err = client
        .request_token(&Grant::refresh_token(first_refresh))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeedsLogin, "{err}");
    assert_eq!(ims.grant_count("authorization_code"), 1);
    assert_eq!(ims.grant_count("refresh_token"), 2);
}

#[tokio::test]
async fn single_page_app_is_a_public_pkce_client() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    let client = token_client(&ims, ClientAuth::public(demo::SPA_CLIENT_ID), &clock);

    let login = browser_login(&ims, demo::SPA_CLIENT_ID).await;
    let verifier = login.verifier().expose_secret().to_owned();
    let tokens = client
        .request_token(&login.pending.token_grant(login.code))
        .await
        .unwrap();
    assert!(ims.is_access_token_active(tokens.access_token().expose_secret()));

    let request = ims.last_request(paths::TOKEN).unwrap();
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.form_value("client_secret"), None);
    assert_eq!(request.form_value("client_id"), Some(demo::SPA_CLIENT_ID));
    assert_eq!(request.form_value("code_verifier"), Some(verifier.as_str()));
}

#[tokio::test]
async fn two_503s_then_success_is_three_requests() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    ims.inject_on(paths::TOKEN, Fault::Status503, 2);

    token_client(&ims, s2s_basic(), &clock)
        .request_token(&s2s_grant())
        .await
        .unwrap();
    assert_eq!(ims.token_requests(), 3);
    assert_eq!(ims.issued_access_tokens(), 1);
}

#[tokio::test]
async fn retry_after_waits_on_the_injected_clock() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    ims.inject_on(paths::TOKEN, Fault::RetryAfter { secs: 2 }, 1);
    let started = clock.now();

    token_client(&ims, s2s_basic(), &clock)
        .request_token(&s2s_grant())
        .await
        .unwrap();
    let waited = clock.now().saturating_duration_since(started);
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(3),
        "waited {waited:?} on the manual clock"
    );
    assert_eq!(ims.token_requests(), 2);
}

#[tokio::test]
async fn invalid_grant_is_one_request_and_needs_login() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;

    let err = token_client(&ims, web_basic(), &clock)
        .request_token(&Grant::refresh_token(RefreshToken::new("not-a-live-token")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeedsLogin, "{err}");
    assert!(err.debug_id().is_some(), "the x-debug-id is kept");
    assert_eq!(ims.token_requests(), 1);
}

#[tokio::test]
async fn bad_bodies_give_clear_errors() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    let client = token_client(&ims, s2s_basic(), &clock);

    ims.inject_on(paths::TOKEN, Fault::oversized(), 1);
    let err = client.request_token(&s2s_grant()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("limit"), "{err}");

    ims.inject_on(paths::TOKEN, Fault::HtmlBody { status: 200 }, 1);
    let err = client.request_token(&s2s_grant()).await.unwrap_err();
    assert!(err.to_string().contains("200"), "{err}");
    assert!(
        err.to_string().contains("html") || err.to_string().contains("HTML"),
        "{err}"
    );

    ims.inject_on(paths::TOKEN, Fault::proxy_error_page(), Schedule::Always);
    let err = client.request_token(&s2s_grant()).await.unwrap_err();
    assert!(err.to_string().contains("502"), "{err}");
    ims.clear_faults();

    ims.inject_on(paths::TOKEN, Fault::TruncatedBody, Schedule::Always);
    let err = client.request_token(&s2s_grant()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
    ims.clear_faults();

    ims.inject_on(paths::TOKEN, Fault::MalformedJson, 1);
    let err = client.request_token(&s2s_grant()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");

    // None of these consumed anything: the next request just works.
    client.request_token(&s2s_grant()).await.unwrap();
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    ims.inject_on(paths::TOKEN, Fault::DropConnection, 1);

    token_client(&ims, s2s_basic(), &clock)
        .request_token(&s2s_grant())
        .await
        .unwrap();
    assert_eq!(ims.token_requests(), 2);
}

#[tokio::test]
async fn permanent_errors_are_not_retried() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    let wrong_secret = ClientAuth::basic(
        demo::S2S_CLIENT_ID,
        frameio_auth_core::ClientSecret::new("wrong"),
    );
    let err = token_client(&ims, wrong_secret, &clock)
        .request_token(&s2s_grant())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidClient, "{err}");
    assert_eq!(ims.token_requests(), 1);

    let unknown_scope = Grant::client_credentials(
        &frameio_auth_core::Scopes::parse("asset.read").unwrap(),
        ScopeFormat::CommaSeparated,
    );
    let err = token_client(&ims, s2s_basic(), &clock)
        .request_token(&unknown_scope)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert_eq!(ims.token_requests(), 2);
}
