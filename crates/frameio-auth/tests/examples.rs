//! Runs every example of the facade against the fakes: `FakeIms` with `FakeFrameioV4`, and
//! `FakeFrameioV2`. Never the internet. (The web server example has its own file,
//! `web_app_server.rs`, and the custom store's conformance run is in `custom_store.rs`.)
//!
//! As in the IMS and V2 crates, each example keeps its logic in `run(vars, out)` and this file
//! includes the example source itself (`#[path]`), so what is tested is exactly what
//! `cargo run --example` runs, without a nested cargo (which would wait on the build lock
//! `cargo test` holds). The environment is a table (base URLs of the fakes, demo client ids,
//! a temporary `FRAMEIO_AUTH_HOME`), the output a buffer. For the Native App and V2 OAuth
//! app logins the test plays the browser: it reads the authorization URL the example prints, opens it on the fake
//! without following redirects, and delivers the redirect to the example's loopback receiver.
//!
//! Every test also checks that no token value reached the output: the tokens are read back
//! from the example's token file (or are the test's own Developer Token).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/cloud_storage_s2s.rs"]
mod cloud_storage_s2s;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/native_app_login.rs"]
mod native_app_login;
#[cfg(feature = "profiles")]
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/profile_s2s.rs"]
mod profile_s2s;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/quickstart.rs"]
mod quickstart;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/v2_developer_token.rs"]
mod v2_developer_token;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/v2_oauth_app.rs"]
mod v2_oauth_app;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/v4_s2s_file_store.rs"]
mod v4_s2s_file_store;

#[path = "support/examples.rs"]
mod support;

use frameio_auth_core::{AccessToken, ClientSecret};
use frameio_auth_ims::{ImsEnvironment, presets};
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeClient, FakeImsConfig, demo, paths};
use frameio_auth_testkit::v2::{self as fake_v2, FakeFrameioV2, FakeFrameioV4};
use frameio_auth_v2::ApiError;
use reqwest::Url;
use support::{RUN_LIMIT, assert_no_secret, env_vars, output, run_quietly, stored_tokens};
use tokio::sync::mpsc;

/// A Native App client of the fake IMS that accepts loopback redirects on any port.
const NATIVE_LOOPBACK_CLIENT_ID: &str = "demo-native-loopback";

#[tokio::test]
async fn v4_s2s_file_store_example_reuses_its_token_file_and_recovers_from_a_401() {
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients())
        .await
        .unwrap();
    let v4 = FakeFrameioV4::start(&ims).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let vars = env_vars(&[
        ("IMS_CLIENT_ID", demo::S2S_CLIENT_ID),
        ("IMS_CLIENT_SECRET", demo::S2S_SECRET),
        ("IMS_BASE_URL", ims.base_url()),
        ("FRAMEIO_API_BASE_URL", v4.base_url()),
        ("FRAMEIO_AUTH_HOME", home.path().to_str().unwrap()),
    ]);
    let mut outputs = Vec::new();

    // First run: one client_credentials request with the V4 preset scopes, saved to the file;
    // the second call is answered from memory.
    let (text, result) = run_quietly(async |out| v4_s2s_file_store::run(&vars, out).await).await;
    result.unwrap();
    for expected in [
        "first call: token from IMS",
        "second call: same token, from memory: true",
        "access token sha256:",
        "frame.s2s.all",
        "GET /v4/me: user ",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert!(
        text.contains(&home.path().join("tokens").display().to_string()),
        "{text}"
    );
    assert_eq!(ims.grant_count("client_credentials"), 1);
    assert_eq!(
        ims.last_request(paths::TOKEN).unwrap().form_value("scope"),
        Some("AdobeID,frame.s2s.all,openid"), // the V4 preset, comma separated and sorted
    );
    assert_eq!(v4.me_requests(), 1);
    let mut secrets = stored_tokens(home.path()).await;
    assert_eq!(secrets.len(), 1, "an S2S set holds an access token only");
    outputs.push(text);

    // Second run, as a new process: the saved token is still valid, so no request to IMS.
    let (text, result) = run_quietly(async |out| v4_s2s_file_store::run(&vars, out).await).await;
    result.unwrap();
    assert!(
        text.contains("first call: token from the token file"),
        "{text}"
    );
    assert!(text.contains("GET /v4/me: user "), "{text}");
    assert_eq!(ims.grant_count("client_credentials"), 1);
    assert_eq!(v4.me_requests(), 2);
    outputs.push(text);

    // The saved token is revoked at IMS: the third run gets a 401 from Frame.io, asks for one
    // new token and succeeds.
    let s2s = presets::frameio_v4_server_to_server(
        ImsEnvironment::custom(ims.base_url()).unwrap(),
        demo::S2S_CLIENT_ID,
        ClientSecret::new(demo::S2S_SECRET),
    )
    .build()
    .unwrap();
    s2s.revoke_access_token(&AccessToken::new(secrets[0].as_str()))
        .await
        .unwrap();
    let (text, result) = run_quietly(async |out| v4_s2s_file_store::run(&vars, out).await).await;
    result.unwrap();
    for expected in [
        "first call: token from the token file",
        "Frame.io refused the token (401): getting a new one",
        "GET /v4/me: user ",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert_eq!(ims.grant_count("client_credentials"), 2);
    assert_eq!(v4.me_requests(), 4);
    secrets.extend(stored_tokens(home.path()).await);
    assert_eq!(secrets.len(), 2);
    assert_ne!(secrets[0], secrets[1], "the file holds the new token");
    outputs.push(text);

    secrets.push(demo::S2S_SECRET.to_owned());
    for text in &outputs {
        assert_no_secret(text, &secrets);
    }

    // A missing variable is named.
    let (_, result) = run_quietly(async |out| v4_s2s_file_store::run(&|_| None, out).await).await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("IMS_CLIENT_ID"), "{err}");
}

/// Plays the browser: waits for the printed authorization URL, opens it on the fake, and
/// follows the redirect to the example's loopback receiver. Returns the authorization code.
async fn browser(mut lines: mpsc::UnboundedReceiver<String>) -> String {
    let url = loop {
        let line = lines.recv().await.expect("the example printed no URL");
        if line.starts_with("http") {
            break Url::parse(&line).unwrap();
        }
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302, "the fake IMS's answer");
    let callback = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = callback
        .query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, value)| value.into_owned())
        .expect("a code in the redirect");
    let response = client.get(callback).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "the receiver's answer");
    code
}

#[tokio::test]
async fn native_app_login_example_signs_in_once_and_then_uses_the_saved_login() {
    let ims = FakeIms::start(
        FakeImsConfig::with_demo_clients().client(FakeClient::native_app(
            NATIVE_LOOPBACK_CLIENT_ID,
            "http://127.0.0.1:*/callback",
            demo::USER_SCOPES,
        )),
    )
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let vars = env_vars(&[
        ("IMS_CLIENT_ID", NATIVE_LOOPBACK_CLIENT_ID),
        ("IMS_BASE_URL", ims.base_url()),
        ("FRAMEIO_AUTH_HOME", home.path().to_str().unwrap()),
    ]);

    // First run: no saved login, so the example prints the URL and the test plays the
    // browser.
    let (mut out, lines, all) = output();
    let (result, code) = tokio::time::timeout(RUN_LIMIT, async {
        tokio::join!(native_app_login::run(&vars, &mut out), browser(lines))
    })
    .await
    .expect("the login took too long");
    result.unwrap();
    let first = all.lock().unwrap().clone();
    for expected in [
        "no usable saved login (",
        "Open this URL in your browser to sign in:",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
        "signed in: access token sha256:",
        "refresh token: yes",
        "offline_access",
        "signed in as Ada Lovelace <ada@example.com>",
    ] {
        assert!(first.contains(expected), "{expected}: {first}");
    }
    assert_eq!(ims.requests_to(paths::AUTHORIZE), 1);
    assert_eq!(ims.grant_count("authorization_code"), 1);
    assert_eq!(ims.requests_to(paths::USERINFO), 1);
    let mut secrets = stored_tokens(home.path()).await;
    assert_eq!(secrets.len(), 3, "access, refresh and ID tokens were saved");

    // Second run, as a new process: the saved login is used, no browser, no token request.
    let (second, result) = run_quietly(async |out| native_app_login::run(&vars, out).await).await;
    result.unwrap();
    assert!(second.contains("using the saved login"), "{second}");
    assert!(!second.contains("Open this URL"), "{second}");
    assert!(
        second.contains("signed in as Ada Lovelace <ada@example.com>"),
        "{second}"
    );
    assert_eq!(ims.requests_to(paths::AUTHORIZE), 1);
    assert_eq!(ims.token_requests(), 1);
    assert_eq!(ims.requests_to(paths::USERINFO), 2);

    secrets.push(code);
    assert_no_secret(&first, &secrets);
    assert_no_secret(&second, &secrets);

    // Configuration errors name the variable.
    let bad_port = env_vars(&[
        ("IMS_CLIENT_ID", NATIVE_LOOPBACK_CLIENT_ID),
        ("IMS_REDIRECT_PORT", "http"),
    ]);
    let (_, result) = run_quietly(async |out| native_app_login::run(&bad_port, out).await).await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("IMS_REDIRECT_PORT"), "{err}");
    let (_, result) = run_quietly(async |out| native_app_login::run(&|_| None, out).await).await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("IMS_CLIENT_ID"), "{err}");
}

#[tokio::test]
async fn v2_developer_token_example_checks_the_token_and_explains_a_401() {
    const TOKEN: &str = "fio-u-examples-test-developer-token";
    const UNKNOWN: &str = "fio-u-examples-test-deleted-token";
    let fake = FakeFrameioV2::start_default().await.unwrap();
    fake.register_developer_token(TOKEN, "account.read");
    let vars = env_vars(&[
        ("FRAMEIO_TOKEN", TOKEN),
        ("FRAMEIO_API_BASE_URL", fake.base_url()),
    ]);
    let (text, result) = run_quietly(async |out| v2_developer_token::run(&vars, out).await).await;
    result.unwrap();
    for expected in [
        "Developer Token sha256:",
        "never expires: true",
        "stored as frameio-v2~",
        "GET /v2/me: Ada Lovelace <ada@example.com>",
        "remaining 99",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert_eq!(fake.requests_to(fake_v2::paths::ME), 1);
    assert_no_secret(&text, &[TOKEN.to_owned()]);

    // A token Frame.io does not know: the advice, and the typed error.
    let unknown = env_vars(&[
        ("FRAMEIO_TOKEN", UNKNOWN),
        ("FRAMEIO_API_BASE_URL", fake.base_url()),
    ]);
    let (text, result) =
        run_quietly(async |out| v2_developer_token::run(&unknown, out).await).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<ApiError>(),
            Some(ApiError::InvalidToken { .. })
        ),
        "{err}"
    );
    assert!(text.contains("set FRAMEIO_TOKEN"), "{text}");
    assert_no_secret(&format!("{text}{err}{err:?}"), &[UNKNOWN.to_owned()]);

    // No token: the variable is named.
    let (_, result) = run_quietly(async |out| v2_developer_token::run(&|_| None, out).await).await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("FRAMEIO_TOKEN"), "{err}");
}

#[cfg(feature = "profiles")]
/// Issue 11's acceptance: a `config.toml` with an `ims-s2s` profile and the secret in the
/// variable it names give a token, in one line (`TokenManager::from_profile`).
#[tokio::test]
async fn profile_s2s_example_gets_a_token_from_a_config_file_profile() {
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "# my profiles\ndefault = \"work\"\n\n[profiles.work]\nkind = \"ims-s2s\"\n\
             client_id = \"{}\"\nscopes = \"openid,AdobeID,frame.s2s.all\"\n\
             ims_env = \"{}\"\nsecret_env = \"WORK_IMS_SECRET\"\n\
             store_dir = \"{}\"\n",
            demo::S2S_CLIENT_ID,
            ims.base_url(),
            dir.path().join("tokens").display(),
        ),
    )
    .unwrap();
    let vars = env_vars(&[
        ("FRAMEIO_AUTH_CONFIG", config.to_str().unwrap()),
        ("WORK_IMS_SECRET", demo::S2S_SECRET),
    ]);

    let (text, result) =
        run_quietly(async |out| profile_s2s::run(Some("work"), &vars, out).await).await;
    result.unwrap();
    assert!(text.contains("access token sha256:"), "{text}");
    assert_eq!(ims.grant_count("client_credentials"), 1);
    let request = ims.last_request(paths::TOKEN).unwrap();
    assert_eq!(
        request.form_value("scope"),
        Some("AdobeID,frame.s2s.all,openid")
    );
    let secrets = stored_tokens(dir.path()).await;
    assert_eq!(secrets.len(), 1);
    assert_no_secret(&text, &secrets);

    // The default profile, and a second run served from the token file.
    let (text, result) = run_quietly(async |out| profile_s2s::run(None, &vars, out).await).await;
    result.unwrap();
    assert!(text.contains("access token sha256:"), "{text}");
    assert_eq!(ims.grant_count("client_credentials"), 1);

    // Without the secret variable, the error names it.
    let no_secret = env_vars(&[("FRAMEIO_AUTH_CONFIG", config.to_str().unwrap())]);
    let (_, result) =
        run_quietly(async |out| profile_s2s::run(Some("work"), &no_secret, out).await).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "profile `work`: the environment variable WORK_IMS_SECRET is not set (or empty); \
         export it with the secret"
    );
}

#[tokio::test]
async fn the_readme_quickstart_gets_one_token_and_calls_v4_me_with_it() {
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients())
        .await
        .unwrap();
    let v4 = FakeFrameioV4::start(&ims).await.unwrap();
    let vars = env_vars(&[
        ("IMS_CLIENT_ID", demo::S2S_CLIENT_ID),
        ("IMS_CLIENT_SECRET", demo::S2S_SECRET),
        ("IMS_BASE_URL", ims.base_url()),
        ("FRAMEIO_API_BASE_URL", v4.base_url()),
    ]);
    let (text, result) = run_quietly(async |out| quickstart::run(&vars, out).await).await;
    result.unwrap();
    assert!(text.contains("GET /v4/me: {"), "{text}");
    assert!(text.contains("techacct"), "{text}");
    assert_eq!(ims.grant_count("client_credentials"), 1);
    assert_eq!(v4.me_requests(), 1);
    assert!(!text.contains(demo::S2S_SECRET), "{text}");
}

#[tokio::test]
async fn cloud_storage_s2s_example_requests_one_token_with_that_apis_scopes() {
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let vars = env_vars(&[
        ("CLOUD_STORAGE_CLIENT_ID", demo::S2S_CLIENT_ID),
        ("CLOUD_STORAGE_CLIENT_SECRET", demo::S2S_SECRET),
        ("IMS_BASE_URL", ims.base_url()),
        ("FRAMEIO_AUTH_HOME", home.path().to_str().unwrap()),
    ]);
    let mut outputs = Vec::new();
    for _run in 0..2 {
        let (text, result) =
            run_quietly(async |out| cloud_storage_s2s::run(&vars, out).await).await;
        result.unwrap();
        for expected in [
            "scopes AdobeID creative_sdk offline_access openid",
            "access token sha256:",
            "IMS says the token is valid: true, until ",
        ] {
            assert!(text.contains(expected), "{expected}: {text}");
        }
        outputs.push(text);
    }
    // One token for both runs: the second one found it in the token file.
    assert_eq!(ims.grant_count("client_credentials"), 1);
    assert_eq!(
        ims.last_request(paths::TOKEN).unwrap().form_value("scope"),
        Some("AdobeID,creative_sdk,offline_access,openid"),
    );
    let mut secrets = stored_tokens(home.path()).await;
    secrets.push(demo::S2S_SECRET.to_owned());
    for text in &outputs {
        assert_no_secret(text, &secrets);
    }

    // A missing variable is named.
    let no_secret = env_vars(&[("CLOUD_STORAGE_CLIENT_ID", demo::S2S_CLIENT_ID)]);
    let (_, result) = run_quietly(async |out| cloud_storage_s2s::run(&no_secret, out).await).await;
    let err = result.unwrap_err();
    assert!(
        err.to_string().contains("CLOUD_STORAGE_CLIENT_SECRET"),
        "{err}"
    );
}

/// Runs the V2 OAuth app example with `vars`, playing the browser if it asks for a login.
/// Its output, and the authorization code if there was a login.
async fn v2_oauth_run(vars: &(dyn Fn(&str) -> Option<String> + Sync)) -> (String, Option<String>) {
    let (mut out, lines, all) = output();
    let (result, code) = tokio::time::timeout(RUN_LIMIT, async {
        let run = v2_oauth_app::run(vars, &mut out);
        let browse = browser(lines);
        tokio::pin!(run, browse);
        // The browser acts only if the example prints a URL before it ends.
        tokio::select! {
            result = &mut run => (result, None),
            code = &mut browse => (run.await, Some(code)),
        }
    })
    .await
    .expect("the example took too long");
    result.unwrap();
    let text = all.lock().unwrap().clone();
    (text, code)
}

#[tokio::test]
async fn v2_oauth_app_example_signs_in_with_and_without_a_secret_and_reuses_the_login() {
    let fake = FakeFrameioV2::start_default().await.unwrap();
    let pkce_home = tempfile::tempdir().unwrap();
    let confidential_home = tempfile::tempdir().unwrap();
    let vars = |client_id: &str, secret: Option<&str>, home: &tempfile::TempDir| {
        let mut pairs = vec![
            ("FRAMEIO_CLIENT_ID", client_id),
            ("FRAMEIO_OAUTH_BASE_URL", fake.base_url()),
            ("FRAMEIO_API_BASE_URL", fake.base_url()),
            ("FRAMEIO_AUTH_HOME", home.path().to_str().unwrap()),
        ];
        pairs.extend(secret.map(|secret| ("FRAMEIO_CLIENT_SECRET", secret)));
        env_vars(&pairs)
    };
    let mut outputs = Vec::new();
    let mut secrets = vec![fake_v2::demo::CONFIDENTIAL_SECRET.to_owned()];

    // A PKCE app (no secret): `client_id` and the verifier in the body, no Basic auth.
    let pkce = vars(fake_v2::demo::PKCE_CLIENT_ID, None, &pkce_home);
    let (text, code) = v2_oauth_run(&pkce).await;
    secrets.extend(code);
    for expected in [
        "PKCE (no secret) app, scopes account.read offline",
        "no usable saved login (",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
        "refresh token: yes",
        "GET /v2/me: Ada Lovelace <ada@example.com>",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    let exchange = fake.last_request(fake_v2::paths::TOKEN).unwrap();
    assert_eq!(
        exchange.form_value("client_id"),
        Some(fake_v2::demo::PKCE_CLIENT_ID)
    );
    assert!(exchange.form_value("code_verifier").is_some());
    assert!(exchange.header("authorization").is_none());
    outputs.push(text);

    // A confidential app (a secret): HTTP Basic, and PKCE all the same.
    let confidential = vars(
        fake_v2::demo::CONFIDENTIAL_CLIENT_ID,
        Some(fake_v2::demo::CONFIDENTIAL_SECRET),
        &confidential_home,
    );
    let (text, code) = v2_oauth_run(&confidential).await;
    secrets.extend(code);
    assert!(text.contains("confidential (client secret) app"), "{text}");
    assert!(text.contains("refresh token: yes"), "{text}");
    let exchange = fake.last_request(fake_v2::paths::TOKEN).unwrap();
    assert!(
        exchange
            .header("authorization")
            .is_some_and(|h| h.starts_with("Basic "))
    );
    assert!(exchange.form_value("code_verifier").is_some());
    assert_eq!(fake.grant_count("authorization_code"), 2);
    outputs.push(text);

    // Run again: the saved login, no browser, no token request.
    let (text, code) = v2_oauth_run(&confidential).await;
    assert!(code.is_none(), "{text}");
    assert!(text.contains("using the saved login"), "{text}");
    assert!(text.contains("GET /v2/me: Ada Lovelace"), "{text}");
    assert_eq!(fake.grant_count("authorization_code"), 2);
    outputs.push(text);

    secrets.extend(stored_tokens(pkce_home.path()).await);
    secrets.extend(stored_tokens(confidential_home.path()).await);
    for text in &outputs {
        assert_no_secret(text, &secrets);
    }

    // Without `offline`: no refresh token, and the example says what to request.
    let home = tempfile::tempdir().unwrap();
    let no_offline = env_vars(&[
        ("FRAMEIO_CLIENT_ID", fake_v2::demo::PKCE_CLIENT_ID),
        ("FRAMEIO_SCOPES", "account.read"),
        ("FRAMEIO_OAUTH_BASE_URL", fake.base_url()),
        ("FRAMEIO_API_BASE_URL", fake.base_url()),
        ("FRAMEIO_AUTH_HOME", home.path().to_str().unwrap()),
    ]);
    let (text, _) = v2_oauth_run(&no_offline).await;
    assert!(
        text.contains("refresh token: none (request the `offline` scope to get one)"),
        "{text}"
    );
}
