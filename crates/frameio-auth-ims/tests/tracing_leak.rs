//! Runs every IMS flow (S2S with one and two secrets, both secrets wrong, the Cloud Storage
//! preset, Web App logins with HTTP Basic and with the secret in the body, `complete`,
//! `complete_with_code` and `login_with_loopback`, SPA and Native App logins, refresh, spent
//! refresh tokens, revoke and invalidate of each token, validate, userinfo, profile,
//! organizations, retries, `invalid_scope`) with every tracing span and event captured at
//! TRACE, then checks that no secret, code, verifier, state or token that took part appears
//! in the capture, nor in the `Display` or `Debug` of any error the flows produced.
//!
//! One test per file: it installs a process-wide subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails
#![allow(clippy::too_many_lines)] // one test walks every flow, in order

mod support;

use base64::Engine as _;
use frameio_auth_core::{ClientSecret, ManualClock, Scopes, TokenSource};
use frameio_auth_ims::{ImsEnvironment, NativeApp, WebApp, presets};
use frameio_auth_oauth::LoopbackReceiver;
use frameio_auth_oauth::user_login::ShowUrl;
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeClient, FakeImsConfig, Fault, demo, paths};
use frameio_auth_testkit::tracing_capture::{Capture, assert_no_secret, token_secrets};
use support::{REDIRECT_URI, browser, clock, env, native, s2s, spa, user_scopes, web_app};
use tokio::sync::oneshot;
use url::Url;

/// A Native App whose redirect is a loopback URI on any port, for `login_with_loopback`.
const LOOPBACK_CLIENT_ID: &str = "demo-native-loopback";

/// Keeps the `Display` and `Debug` of `error`, to check them for secrets.
fn record<E: std::fmt::Display + std::fmt::Debug>(errors: &mut Vec<String>, error: &E) {
    errors.push(error.to_string());
    errors.push(format!("{error:?}"));
}

/// The demo clients plus a loopback Native App, on `clock`.
async fn fake_ims(clock: &ManualClock) -> FakeIms {
    let config = FakeImsConfig::with_demo_clients()
        .clock(clock.clone())
        // The Web App flow replays its spent refresh token (for the error's tracing) and
        // then goes on with the newest one, which reuse detection would have revoked. This
        // test is about what reaches tracing; `flows.rs` checks the revocation.
        .refresh_token_reuse_detection(false)
        .client(FakeClient::native_app(
            LOOPBACK_CLIENT_ID,
            "http://127.0.0.1:*/callback",
            demo::USER_SCOPES,
        ));
    FakeIms::start(config).await.unwrap()
}

/// The `code` query value of a callback URL.
fn code_of(callback: &Url) -> String {
    callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_tracing_output_in_any_ims_flow() {
    let capture = Capture::install();
    let b64 = base64::engine::general_purpose::STANDARD;
    let rejected = "LEAKCHECK-rotated-away-secret";
    let wrong = "LEAKCHECK-wrong-second-secret";
    let mut errors: Vec<String> = Vec::new();
    let mut secrets = vec![
        wrong.to_owned(),
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
    let tokens = one.request_new_token().await.unwrap();
    token_secrets(&tokens, &mut secrets);
    one.validate(tokens.access_token()).await.unwrap();
    one.invalidate(tokens.access_token()).await.unwrap();
    let two = s2s(&ims, &clock, &[rejected, demo::S2S_SECRET_2]);
    let tokens = two.fetch(None).await.unwrap();
    token_secrets(&tokens, &mut secrets);
    two.revoke(&tokens).await.unwrap();
    // Both secrets wrong: invalid_client from each.
    let neither = s2s(&ims, &clock, &[rejected, wrong]);
    let err = neither.fetch(None).await.unwrap_err();
    record(&mut errors, &err);
    errors.push(format!("{neither:?}"));

    // The Cloud Storage preset, from a lookup function.
    let base_url = ims.base_url().to_owned();
    let lookup = |name: &str| match name {
        presets::CLOUD_STORAGE_CLIENT_ID => Some(demo::S2S_CLIENT_ID.to_owned()),
        presets::CLOUD_STORAGE_CLIENT_SECRET => Some(demo::S2S_SECRET.to_owned()),
        presets::IMS_BASE_URL => Some(base_url.clone()),
        _ => None,
    };
    let storage = presets::cloud_storage_server_to_server_from(lookup)
        .unwrap()
        .transport(support::manual(&clock))
        .build()
        .unwrap();
    let tokens = storage.request_new_token().await.unwrap();
    assert!(tokens.scopes().contains("creative_sdk"));
    token_secrets(&tokens, &mut secrets);
    errors.push(format!("{storage:?}"));

    user_flows(&ims, &clock, &mut secrets, &mut errors).await;
    loopback_flow(&ims, &clock, &mut secrets, &mut errors).await;

    let captured = capture.text();
    for expected in [
        "client_credentials",
        "refresh_token",
        "authorization_code",
        "oauth.endpoint_request",
        "invalid_client",
        "revoke",
        "userinfo",
        "invalidate",
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
    for secret in &secrets {
        for text in &errors {
            assert!(
                !text.contains(secret.as_str()),
                "a secret reached an error: {text}"
            );
        }
    }
    assert!(
        errors.iter().any(|e| e.contains("invalid_client"))
            && errors.iter().any(|e| e.contains("invalid_grant"))
            && errors.iter().any(|e| e.contains("invalid_scope")),
        "the error paths ran: {errors:?}"
    );
}

/// The user-credential flows; every secret that takes part goes into `secrets`, the
/// `Display` and `Debug` of every error into `errors`.
async fn user_flows(
    ims: &FakeIms,
    clock: &ManualClock,
    secrets: &mut Vec<String>,
    errors: &mut Vec<String>,
) {
    // Web App: login, refresh, spent refresh token, info endpoints (one through a 429),
    // revoke.
    let web = web_app(ims, clock);
    let (url, pending) = web.begin().unwrap();
    secrets.push(pending.state().expose_secret().to_owned());
    secrets.push(pending.code_verifier().expose_secret().to_owned());
    let callback = browser(&url).await;
    secrets.push(code_of(&callback));
    let first = web.complete(&pending, &callback).await.unwrap();
    token_secrets(&first, secrets);
    let second = web.refresh(&first).await.unwrap();
    token_secrets(&second, secrets);
    let err = web.refresh(&first).await.unwrap_err();
    record(errors, &err);
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
    let err = web.userinfo(second.access_token()).await.unwrap_err();
    record(errors, &err);
    errors.push(format!("{web:?}"));

    // Web App with the secret in the body: `complete_with_code`, refresh, then each token
    // revoked and invalidated on its own.
    let body = WebApp::builder(
        env(ims),
        demo::WEB_CLIENT_ID,
        ClientSecret::new(demo::WEB_SECRET),
        REDIRECT_URI,
    )
    .client_auth_in_body()
    .scopes(user_scopes())
    .transport(support::manual(clock))
    .build()
    .unwrap();
    let (url, pending) = body.begin().unwrap();
    secrets.push(pending.state().expose_secret().to_owned());
    secrets.push(pending.code_verifier().expose_secret().to_owned());
    let callback = browser(&url).await;
    let code = code_of(&callback);
    secrets.push(code.clone());
    let state = pending.state().expose_secret().to_owned();
    let first = body
        .complete_with_code(&pending, &code, &state)
        .await
        .unwrap();
    token_secrets(&first, secrets);
    let second = body.refresh(&first).await.unwrap();
    token_secrets(&second, secrets);
    body.revoke_refresh_token(second.refresh_token().unwrap())
        .await
        .unwrap();
    body.invalidate_access_token(second.access_token())
        .await
        .unwrap();
    let err = body.refresh(&second).await.unwrap_err();
    record(errors, &err);
    let third = {
        let (url, pending) = body.begin().unwrap();
        secrets.push(pending.state().expose_secret().to_owned());
        secrets.push(pending.code_verifier().expose_secret().to_owned());
        let callback = browser(&url).await;
        secrets.push(code_of(&callback));
        body.complete(&pending, &callback).await.unwrap()
    };
    token_secrets(&third, secrets);
    body.revoke_access_token(third.access_token())
        .await
        .unwrap();
    body.invalidate_refresh_token(third.refresh_token().unwrap(), true)
        .await
        .unwrap();
    errors.push(format!("{body:?}"));

    // SPA: login, refresh, cascading invalidate.
    let app = spa(ims, clock, user_scopes());
    let (url, pending) = app.begin().unwrap();
    secrets.push(pending.state().expose_secret().to_owned());
    secrets.push(pending.code_verifier().expose_secret().to_owned());
    let callback = browser(&url).await;
    secrets.push(code_of(&callback));
    let tokens = app.complete(&pending, &callback).await.unwrap();
    token_secrets(&tokens, secrets);
    let tokens = app.refresh(&tokens).await.unwrap();
    token_secrets(&tokens, secrets);
    app.invalidate(&tokens).await.unwrap();

    // Native App: login, refresh, revoke; then an invalid_scope login.
    let app = native(ims, clock);
    let (url, pending) = app.begin().unwrap();
    secrets.push(pending.state().expose_secret().to_owned());
    secrets.push(pending.code_verifier().expose_secret().to_owned());
    let callback = browser(&url).await;
    secrets.push(code_of(&callback));
    let tokens = app.complete(&pending, &callback).await.unwrap();
    token_secrets(&tokens, secrets);
    let tokens = app.refresh(&tokens).await.unwrap();
    token_secrets(&tokens, secrets);
    app.revoke(&tokens).await.unwrap();
    let bad = spa(ims, clock, Scopes::parse("openid asset.read").unwrap());
    let (url, pending) = bad.begin().unwrap();
    secrets.push(pending.state().expose_secret().to_owned());
    secrets.push(pending.code_verifier().expose_secret().to_owned());
    let err = bad
        .complete(&pending, &browser(&url).await)
        .await
        .unwrap_err();
    record(errors, &err);
}

/// `login_with_loopback` with a Native App: IMS redirects the browser to a local receiver.
async fn loopback_flow(
    ims: &FakeIms,
    clock: &ManualClock,
    secrets: &mut Vec<String>,
    errors: &mut Vec<String>,
) {
    let receiver = LoopbackReceiver::builder().bind().await.unwrap();
    let app = NativeApp::builder(
        ImsEnvironment::custom(ims.base_url()).unwrap(),
        LOOPBACK_CLIENT_ID,
        receiver.redirect_uri(),
    )
    .scopes(user_scopes())
    .transport(support::manual(clock))
    .build()
    .unwrap();
    let (shown, url) = oneshot::channel::<Url>();
    let browse = async {
        let url = url.await.expect("show_url was not called");
        let mut found = vec![
            url.query_pairs()
                .find(|(k, _)| k == "state")
                .unwrap()
                .1
                .into_owned(),
        ];
        let callback = browser(&url).await;
        found.push(code_of(&callback));
        let response = reqwest::get(callback).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        found
    };
    let (tokens, found) = tokio::join!(
        app.login_with_loopback(
            receiver,
            ShowUrl::new(move |url| shown.send(url.clone()).unwrap())
        ),
        browse,
    );
    secrets.extend(found);
    let tokens = tokens.unwrap();
    token_secrets(&tokens, secrets);
    let tokens = app.refresh(&tokens).await.unwrap();
    token_secrets(&tokens, secrets);
    app.revoke(&tokens).await.unwrap();
    let err = app.refresh(&tokens).await.unwrap_err();
    record(errors, &err);
    errors.push(format!("{app:?}"));
}
