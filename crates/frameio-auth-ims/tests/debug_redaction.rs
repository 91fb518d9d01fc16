//! The `Debug` (`{:?}` and `{:#?}`) of every IMS builder and credential hides the client
//! secrets and every token: `ServerToServerBuilder`, `ServerToServer` after fetching, and
//! the Web App, Single Page App and Native App builders and credentials after a login.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

mod support;

use frameio_auth_core::{ClientSecret, ManualClock, TokenSource as _};
use frameio_auth_ims::{NativeApp, ServerToServer, SinglePageApp, WebApp};
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeClient, FakeImsConfig, demo};
use frameio_auth_testkit::tracing_capture::token_secrets;
use support::{REDIRECT_URI, browser, clock, env, s2s_scopes, user_scopes};

const S2S_ID: &str = "leakcheck-s2s-client";
const S2S_SECRET: &str = "LEAKCHECK-s2s-secret-first-0123456789";
const S2S_SECRET_2: &str = "LEAKCHECK-s2s-secret-second-0123456789";
const WEB_ID: &str = "leakcheck-web-client";
const WEB_SECRET: &str = "LEAKCHECK-web-secret-0123456789";

async fn fake_ims(clock: &ManualClock) -> FakeIms {
    let config = FakeImsConfig::with_demo_clients()
        .clock(clock.clone())
        .client(FakeClient::server_to_server(
            S2S_ID,
            [S2S_SECRET, S2S_SECRET_2],
            demo::S2S_SCOPES,
        ))
        .client(FakeClient::web_app(
            WEB_ID,
            WEB_SECRET,
            demo::WEB_REDIRECT,
            demo::USER_SCOPES,
        ));
    FakeIms::start(config).await.unwrap()
}

/// Both renderings of `value`'s `Debug`.
fn debug(value: &impl std::fmt::Debug, into: &mut Vec<String>) {
    into.push(format!("{value:?}"));
    into.push(format!("{value:#?}"));
}

fn assert_hidden(texts: &[String], secrets: &[String]) {
    for secret in secrets {
        assert!(secret.len() >= 8, "too short to search for: {secret:?}");
        for text in texts {
            assert!(
                !text.contains(secret.as_str()),
                "a secret ({secret}) reached Debug: {text}"
            );
        }
    }
}

#[tokio::test]
async fn server_to_server_debug_hides_secrets_and_tokens() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let mut texts = Vec::new();
    let mut secrets = vec![S2S_SECRET.to_owned(), S2S_SECRET_2.to_owned()];

    let builder = ServerToServer::builder(env(&ims), S2S_ID, ClientSecret::new(S2S_SECRET))
        .second_client_secret(ClientSecret::new(S2S_SECRET_2))
        .scopes(s2s_scopes())
        .transport(support::manual(&clock));
    debug(&builder, &mut texts);
    let s2s = builder.build().unwrap();
    let tokens = s2s.fetch(None).await.unwrap();
    token_secrets(&tokens, &mut secrets);
    assert_eq!(ims.grant_count("client_credentials"), 1);
    debug(&s2s, &mut texts);
    debug(&tokens, &mut texts);

    // The builder's and the credential's renderings name the client; the credential holds
    // no token (a source never caches), so none can show.
    assert!(texts[..4].iter().all(|t| t.contains(S2S_ID)), "{texts:?}");
    assert!(!texts[2].contains("TokenSet"), "{}", texts[2]);
    assert_hidden(&texts, &secrets);
}

/// Logs in with `app` (playing the browser) and refreshes; the code, verifier, state and
/// tokens go into `secrets`.
macro_rules! login {
    ($app:expr, $secrets:expr, $texts:expr) => {{
        let app = &$app;
        let (url, pending) = app.begin().unwrap();
        debug(&pending, $texts);
        $secrets.push(pending.state().expose_secret().to_owned());
        $secrets.push(pending.code_verifier().expose_secret().to_owned());
        let callback = browser(&url).await;
        let code = callback
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        $secrets.push(code);
        let first = app.complete(&pending, &callback).await.unwrap();
        token_secrets(&first, $secrets);
        let second = app.fetch(Some(&first)).await.unwrap();
        token_secrets(&second, $secrets);
        debug(app, $texts);
        debug(&second, $texts);
    }};
}

#[tokio::test]
async fn user_credential_debug_hides_secrets_and_tokens() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let mut texts = Vec::new();
    let mut secrets = vec![WEB_SECRET.to_owned()];

    // Web App, secret with HTTP Basic and in the body.
    for in_body in [false, true] {
        let mut builder = WebApp::builder(
            env(&ims),
            WEB_ID,
            ClientSecret::new(WEB_SECRET),
            REDIRECT_URI,
        )
        .scopes(user_scopes())
        .transport(support::manual(&clock));
        if in_body {
            builder = builder.client_auth_in_body();
        }
        debug(&builder, &mut texts);
        let app = builder.build().unwrap();
        login!(app, &mut secrets, &mut texts);
    }

    // Single Page App.
    let builder = SinglePageApp::builder(env(&ims), demo::SPA_CLIENT_ID, REDIRECT_URI)
        .scopes(user_scopes())
        .transport(support::manual(&clock));
    debug(&builder, &mut texts);
    let app = builder.build().unwrap();
    login!(app, &mut secrets, &mut texts);

    // Native App.
    let builder = NativeApp::builder(env(&ims), demo::NATIVE_CLIENT_ID, demo::NATIVE_REDIRECT)
        .scopes(user_scopes())
        .transport(support::manual(&clock));
    debug(&builder, &mut texts);
    let app = builder.build().unwrap();
    login!(app, &mut secrets, &mut texts);

    assert_eq!(ims.grant_count("authorization_code"), 4);
    assert!(texts.iter().any(|t| t.contains(WEB_ID)), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains(demo::NATIVE_CLIENT_ID)),
        "{texts:?}"
    );
    assert_hidden(&texts, &secrets);
}
