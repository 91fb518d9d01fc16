//! Runs the `FakeIms` flows (every grant, retries, `Retry-After`, `invalid_grant`, bad bodies)
//! with every tracing span and event captured at TRACE, then checks that no secret, code,
//! verifier, state or token that took part appears in the capture.
//!
//! One test per file: it installs a process-wide subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

mod fake_ims_support;

use base64::Engine as _;
use fake_ims_support::{
    browser_login, fake_ims, s2s_basic, s2s_in_body, s2s_scopes, token_client, web_basic,
};
use frameio_auth_core::{ManualClock, RefreshToken};
use frameio_auth_oauth::{ClientAuth, Grant, ScopeFormat};
use frameio_auth_testkit::ims::{Fault, Schedule, demo, paths};
use frameio_auth_testkit::tracing_capture::{Capture, assert_no_secret, token_secrets};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_tracing_output_in_fake_ims_flows() {
    let capture = Capture::install();

    let b64 = base64::engine::general_purpose::STANDARD;
    let mut secrets = vec![
        demo::S2S_SECRET.to_owned(),
        demo::WEB_SECRET.to_owned(),
        b64.encode(format!("{}:{}", demo::S2S_CLIENT_ID, demo::S2S_SECRET)),
        b64.encode(format!("{}:{}", demo::WEB_CLIENT_ID, demo::WEB_SECRET)),
    ];
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    let s2s = Grant::client_credentials(&s2s_scopes(), ScopeFormat::CommaSeparated);

    // client_credentials, both client authentication styles, through 503, 429 and a drop.
    ims.inject_on(paths::TOKEN, Fault::Status503, 1);
    ims.inject_on(paths::TOKEN, Fault::RetryAfter { secs: 2 }, 1);
    ims.inject_on(paths::TOKEN, Fault::DropConnection, 1);
    let tokens = token_client(&ims, s2s_basic(), &clock)
        .request_token(&s2s)
        .await
        .unwrap();
    token_secrets(&tokens, &mut secrets);
    let tokens = token_client(&ims, s2s_in_body(), &clock)
        .request_token(&s2s)
        .await
        .unwrap();
    token_secrets(&tokens, &mut secrets);

    // Web App: code exchange with PKCE, refresh, reuse of the spent refresh token.
    let web = token_client(&ims, web_basic(), &clock);
    let login = browser_login(&ims, demo::WEB_CLIENT_ID).await;
    secrets.push(login.code.expose_secret().to_owned());
    secrets.push(login.verifier().expose_secret().to_owned());
    secrets.push(login.state().expose_secret().to_owned());
    let first = web
        .request_token(&login.pending.token_grant(login.code.clone()))
        .await
        .unwrap();
    token_secrets(&first, &mut secrets);
    let spent = first.refresh_token().unwrap().clone();
    let second = web
        .request_token(&Grant::refresh_token(spent.clone()))
        .await
        .unwrap();
    token_secrets(&second, &mut secrets);
    assert!(
        web.request_token(&Grant::refresh_token(spent))
            .await
            .is_err()
    );
    assert!(
        web.request_token(&Grant::refresh_token(RefreshToken::new(
            "LEAKCHECK-bogus-refresh-token"
        )))
        .await
        .is_err()
    );
    secrets.push("LEAKCHECK-bogus-refresh-token".to_owned());

    // SPA: public client with PKCE.
    let spa = token_client(&ims, ClientAuth::public(demo::SPA_CLIENT_ID), &clock);
    let login = browser_login(&ims, demo::SPA_CLIENT_ID).await;
    secrets.push(login.code.expose_secret().to_owned());
    secrets.push(login.verifier().expose_secret().to_owned());
    let tokens = spa
        .request_token(&login.pending.token_grant(login.code.clone()))
        .await
        .unwrap();
    token_secrets(&tokens, &mut secrets);

    // Bad bodies: the error paths log too.
    for fault in [
        Fault::oversized(),
        Fault::HtmlBody { status: 200 },
        Fault::MalformedJson,
    ] {
        ims.inject_on(paths::TOKEN, fault, 1);
        let _ = token_client(&ims, s2s_basic(), &clock)
            .request_token(&s2s)
            .await;
    }
    ims.inject_on(paths::TOKEN, Fault::TruncatedBody, Schedule::Always);
    let _ = token_client(&ims, s2s_basic(), &clock)
        .request_token(&s2s)
        .await;
    ims.clear_faults();

    let captured = capture.text();
    assert!(
        captured.contains("client_credentials"),
        "the flows were traced: {captured}"
    );
    assert!(captured.contains("refresh_token"), "the flows were traced");
    assert_no_secret(&captured, &secrets);
}
