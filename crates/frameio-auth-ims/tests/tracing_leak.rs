//! Runs every IMS flow (S2S with one and two secrets, Web App, SPA and Native App logins,
//! refresh, spent refresh tokens, revoke, invalidate, validate, userinfo, profile,
//! organizations, retries) with every tracing span and event captured at TRACE, then checks
//! that no secret, code, verifier, state or token that took part appears in the capture.
//!
//! One test per file: it installs a process-wide subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

mod support;

use base64::Engine as _;
use frameio_auth_core::TokenSource;
use frameio_auth_testkit::ims::{Fault, demo, paths};
use frameio_auth_testkit::tracing_capture::{Capture, assert_no_secret, token_secrets};
use support::{browser, clock, fake_ims, native, s2s, spa, user_scopes, web_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_tracing_output_in_any_ims_flow() {
    let capture = Capture::install();
    let b64 = base64::engine::general_purpose::STANDARD;
    let rejected = "LEAKCHECK-rotated-away-secret";
    let mut secrets = vec![
        demo::S2S_SECRET.to_owned(),
        demo::S2S_SECRET_2.to_owned(),
        demo::WEB_SECRET.to_owned(),
        rejected.to_owned(),
        b64.encode(format!("{}:{}", demo::WEB_CLIENT_ID, demo::WEB_SECRET)),
    ];
    let clock = clock();
    let ims = fake_ims(&clock).await;

    // S2S: one secret (through a 503), two secrets with the first rejected, validate,
    // invalidate, revoke.
    ims.inject_on(paths::TOKEN, Fault::Status503, 1);
    let one = s2s(&ims, &clock, &[demo::S2S_SECRET]);
    let tokens = one.access_token().await.unwrap();
    token_secrets(&tokens, &mut secrets);
    one.validate(tokens.access_token()).await.unwrap();
    one.invalidate(tokens.access_token()).await.unwrap();
    let two = s2s(&ims, &clock, &[rejected, demo::S2S_SECRET_2]);
    let tokens = two.fetch(None).await.unwrap();
    token_secrets(&tokens, &mut secrets);
    two.revoke(tokens.access_token()).await.unwrap();

    user_flows(&ims, &clock, &mut secrets).await;

    let captured = capture.text();
    for expected in [
        "client_credentials",
        "refresh_token",
        "authorization_code",
        "oauth.endpoint_request",
        "invalid_client",
        "revoke",
        "userinfo",
    ] {
        assert!(
            captured.contains(expected),
            "the flows were traced ({expected}): {captured}"
        );
    }
    assert!(
        captured.contains(demo::S2S_CLIENT_ID)
            && captured.contains("trying the other configured secret"),
        "the secret fallback is traced"
    );
    assert_no_secret(&captured, &secrets);
}

/// The user-credential flows; every secret that takes part goes into `secrets`.
async fn user_flows(
    ims: &frameio_auth_testkit::FakeIms,
    clock: &frameio_auth_core::ManualClock,
    secrets: &mut Vec<String>,
) {
    let (ims, clock) = (ims, clock);
    // Web App: login, refresh, spent refresh token, info endpoints (one through a 429),
    // revoke.
    let web = web_app(ims, clock);
    let (url, pending) = web.begin().unwrap();
    secrets.push(pending.state().expose_secret().to_owned());
    secrets.push(pending.code_verifier().expose_secret().to_owned());
    let callback = browser(&url).await;
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    secrets.push(code);
    let first = web.complete(&pending, &callback).await.unwrap();
    token_secrets(&first, secrets);
    let second = web.refresh(&first).await.unwrap();
    token_secrets(&second, secrets);
    assert!(web.refresh(&first).await.is_err());
    ims.inject_on(paths::USERINFO, Fault::RetryAfter { secs: 1 }, 1);
    web.userinfo(second.access_token()).await.unwrap();
    web.profile(second.access_token()).await.unwrap();
    web.organizations(second.access_token()).await.unwrap();
    web.validate_access_token(second.access_token())
        .await
        .unwrap();
    web.validate_refresh_token(second.refresh_token().unwrap())
        .await
        .unwrap();
    web.revoke(&second).await.unwrap();
    assert!(web.userinfo(second.access_token()).await.is_err());

    // SPA: login, refresh, cascading invalidate.
    let app = spa(ims, clock, user_scopes());
    let (url, pending) = app.begin().unwrap();
    secrets.push(pending.state().expose_secret().to_owned());
    secrets.push(pending.code_verifier().expose_secret().to_owned());
    let tokens = app.complete(&pending, &browser(&url).await).await.unwrap();
    token_secrets(&tokens, secrets);
    let tokens = app.refresh(&tokens).await.unwrap();
    token_secrets(&tokens, secrets);
    app.invalidate(&tokens).await.unwrap();

    // Native App: login, refresh, revoke; then an invalid_scope login.
    let app = native(ims, clock);
    let (url, pending) = app.begin().unwrap();
    secrets.push(pending.state().expose_secret().to_owned());
    secrets.push(pending.code_verifier().expose_secret().to_owned());
    let tokens = app.complete(&pending, &browser(&url).await).await.unwrap();
    token_secrets(&tokens, secrets);
    let tokens = app.refresh(&tokens).await.unwrap();
    token_secrets(&tokens, secrets);
    app.revoke(&tokens).await.unwrap();
    let bad = spa(
        ims,
        clock,
        frameio_auth_core::Scopes::parse("openid asset.read").unwrap(),
    );
    let (url, pending) = bad.begin().unwrap();
    assert!(bad.complete(&pending, &browser(&url).await).await.is_err());
}
