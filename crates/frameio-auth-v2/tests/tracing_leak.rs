//! Runs every V2 flow (Developer Token checks, both OAuth app kinds with exchange and refresh,
//! refresh without rotation, no `offline`, 401/402/403/429, failed grants) with every tracing
//! span and event captured at TRACE, then checks that no token, secret, code, verifier or
//! state appears in the capture, and that the Developer Token appears in no error's `Display`
//! or `Debug`.
//!
//! One test per file: it installs a process-wide subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails
#![allow(clippy::too_many_lines)] // one test walks every flow, in order

mod support;

use std::time::Duration;

use frameio_auth_core::{AccessToken, DeveloperToken, ManualClock, TokenSource};
use frameio_auth_testkit::tracing_capture::{Capture, assert_no_secret, token_secrets};
use frameio_auth_testkit::v2::{Fault, Rotation, demo, paths};
use frameio_auth_v2::{DeveloperTokenSource, V2Scope};
use support::{api, confidential_app, fake, login, offline_scopes, pkce_app};

const DEVELOPER_TOKEN: &str = "fio-u-LEAKCHECK-developer-token-0123456789";

fn record<E: std::error::Error>(errors: &mut Vec<String>, error: &E) {
    errors.push(error.to_string());
    errors.push(format!("{error:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_tracing_output_or_errors() {
    let capture = Capture::install();
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    let api = api(&fake, &clock);
    let mut secrets = vec![
        DEVELOPER_TOKEN.to_owned(),
        demo::CONFIDENTIAL_SECRET.to_owned(),
    ];
    let mut errors: Vec<String> = Vec::new();

    // Developer Token: success, 403, 429, 402, 500, and a bad body.
    fake.register_developer_token(DEVELOPER_TOKEN, "account.read");
    let source = DeveloperTokenSource::new(DeveloperToken::new(DEVELOPER_TOKEN)).unwrap();
    let dev = source.fetch(None).await.unwrap();
    api.whoami(dev.access_token()).await.unwrap();
    for fault in [
        Fault::RetryAfter { secs: 1 },
        Fault::Status {
            status: 402,
            json_body: true,
        },
        Fault::Status {
            status: 403,
            json_body: true,
        },
        Fault::Status500,
        Fault::HtmlBody { status: 200 },
        Fault::DropConnection,
    ] {
        fake.inject_on(paths::ME, fault, 1);
        let err = api.whoami(dev.access_token()).await.unwrap_err();
        record(&mut errors, &err);
    }
    // 401 for an unknown token that looks like a Developer Token.
    let unknown = "fio-u-LEAKCHECK-unknown-token-abcdefghij";
    secrets.push(unknown.to_owned());
    let err = api.whoami(&AccessToken::new(unknown)).await.unwrap_err();
    record(&mut errors, &err);
    // Blank tokens and their errors.
    let err = DeveloperTokenSource::from_lookup(|_| Some("  ".into())).unwrap_err();
    record(&mut errors, &err);
    errors.push(format!("{source:?}"));
    errors.push(format!("{dev:?}"));

    // Confidential app and PKCE app: exchange, whoami, refresh, whoami.
    for confidential in [true, false] {
        let app = if confidential {
            confidential_app(&fake, &clock, &offline_scopes())
        } else {
            pkce_app(&fake, &clock, &offline_scopes())
        };
        let (first, login_secrets) = login(&app).await;
        secrets.extend(login_secrets);
        token_secrets(&first, &mut secrets);
        api.whoami(first.access_token()).await.unwrap();
        let second = app.fetch(Some(&first)).await.unwrap();
        token_secrets(&second, &mut secrets);
        api.whoami(second.access_token()).await.unwrap();
        // Reusing the spent refresh token fails (invalid_grant).
        let err = app.refresh(&first).await.unwrap_err();
        record(&mut errors, &err);
        errors.push(format!("{app:?}"));
    }

    // A refresh that returns no new refresh token.
    fake.set_rotation(Rotation::OmitRefreshToken);
    let app = confidential_app(&fake, &clock, &offline_scopes());
    let (first, login_secrets) = login(&app).await;
    secrets.extend(login_secrets);
    token_secrets(&first, &mut secrets);
    let kept = app.refresh(&first).await.unwrap();
    token_secrets(&kept, &mut secrets);
    fake.set_rotation(Rotation::Rotate);

    // Token endpoint trouble: 503 then success (retried), and a 429.
    fake.inject_on(paths::TOKEN, Fault::Status503, 1);
    let retried = app.refresh(&kept).await.unwrap();
    token_secrets(&retried, &mut secrets);

    // No `offline`: the warning at begin(), and needs-login at expiry.
    let app = pkce_app(&fake, &clock, &[V2Scope::AccountRead]);
    let (short, login_secrets) = login(&app).await;
    secrets.extend(login_secrets);
    token_secrets(&short, &mut secrets);
    clock.advance(Duration::from_secs(3600));
    let err = app.fetch(Some(&short)).await.unwrap_err();
    record(&mut errors, &err);
    let err = api.whoami(short.access_token()).await.unwrap_err();
    record(&mut errors, &err);

    let captured = capture.text();
    assert!(
        captured.contains("oauth.token_request"),
        "token requests were traced"
    );
    assert!(
        captured.contains("oauth.endpoint_request"),
        "API calls were traced"
    );
    assert!(
        captured.contains("does not request the `offline` scope"),
        "begin() warns without offline"
    );
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            demo::CONFIDENTIAL_CLIENT_ID,
            demo::CONFIDENTIAL_SECRET
        ))
    };
    secrets.push(basic);
    assert_no_secret(&captured, &secrets);
    for secret in &secrets {
        for text in &errors {
            assert!(
                !text.contains(secret.as_str()),
                "a secret reached an error: {text}"
            );
        }
    }
    assert!(errors.len() > 20, "the error paths ran");
}
