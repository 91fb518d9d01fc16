//! Captures every tracing event and span at TRACE while token requests, retries and loopback
//! logins run with distinctive secret values, then checks that none of them was recorded.
//!
//! This file holds a single test because it installs a process-wide subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{CannedServer, Reply, json, reply};
use frameio_auth_core::{ClientSecret, ManualClock, RefreshToken, Scopes};
use frameio_auth_oauth::{
    AuthorizationRequest, ClientAuth, Grant, LoopbackReceiver, ScopeFormat, SecureUrl, TokenClient,
    TransportSettings,
};
use frameio_auth_testkit::tracing_capture::{Capture, assert_no_secret, basic_credentials};

const CLIENT_SECRET: &str = "LEAKCHECK-client-secret-0123456789";
const ACCESS_TOKEN: &str = "LEAKCHECK-access-token-0123456789";
const REFRESH_TOKEN: &str = "LEAKCHECK-refresh-token-0123456789";
const NEW_REFRESH_TOKEN: &str = "LEAKCHECK-rotated-refresh-0123456789";
const ID_TOKEN: &str = "LEAKCHECK-id-token-0123456789";
const CODE: &str = "LEAKCHECK-authorization-code-0123456789";
/// Short secrets (8 to 16 characters) with characters that encode differently in a form, a
/// URL and JSON; too short for the old 24-character rule (issue 14, case 5).
const SHORT_CLIENT_SECRET: &str = "Sh0rt/S3c+r!t";
const SHORT_REFRESH_TOKEN: &str = "9fQx7Yk2+LmN/4";

fn token_body() -> String {
    format!(
        r#"{{"access_token":"{ACCESS_TOKEN}","refresh_token":"{NEW_REFRESH_TOKEN}","id_token":"{ID_TOKEN}","token_type":"bearer","expires_in":86399}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_tracing_output() {
    let capture = Capture::install();

    let mut secrets: Vec<String> = [
        CLIENT_SECRET,
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        NEW_REFRESH_TOKEN,
        ID_TOKEN,
        CODE,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    secrets.push(base64::engine::general_purpose::STANDARD.encode(format!("cid:{CLIENT_SECRET}")));
    let clock = ManualClock::default();
    secrets.extend(client_credentials_with_retries(&clock).await);
    refresh_with_a_dropped_connection_then_invalid_grant(&clock).await;
    secrets.extend(loopback_login_and_code_exchange(&clock).await);
    secrets.extend(short_secrets_echoed_back(&clock).await);

    let output = capture.text();
    if std::env::var_os("SHOW_TRACE").is_some() {
        eprintln!("{output}");
    }
    // The capture worked and saw the interesting parts.
    for expected in [
        "oauth.token_request",
        "grant_type=\"client_credentials\"",
        "grant_type=\"refresh_token\"",
        "grant_type=\"authorization_code\"",
        "attempt=3",
        "status=503",
        "status=429",
        "latency_ms=",
        "delay_ms=1000",
        "debug_id=\"dbg-leak\"",
        "oauth.loopback_receiver",
        "refused a callback",
    ] {
        assert!(
            output.contains(expected),
            "missing `{expected}` in:\n{output}"
        );
    }
    assert!(
        !output.contains("LEAKCHECK"),
        "a secret leaked into tracing output:\n{output}"
    );
    for secret in &secrets {
        assert!(
            !output.contains(secret.as_str()),
            "`{secret}` leaked into tracing output:\n{output}"
        );
    }
    // Also percent-encoded, form-encoded and JSON-escaped.
    assert_no_secret(&output, &secrets);
}

/// Short secrets, echoed back encoded: a proxy page quoting the form body and the
/// `Authorization` header, then an OAuth error quoting them as JSON. Both errors are logged.
async fn short_secrets_echoed_back(clock: &ManualClock) -> Vec<String> {
    let basic = basic_credentials("cid", SHORT_CLIENT_SECRET);
    let echo_page = format!(
        "<html>403 Forbidden. Request: grant_type=refresh_token&refresh_token=9fQx7Yk2%2BLmN%2F4 \
         Authorization: Basic {basic} secret Sh0rt%2FS3c%2Br%21t</html>"
    );
    let echo_json = r#"{"error":"invalid_grant","error_description":"refresh token 9fQx7Yk2+LmN\/4 for secret Sh0rt\/S3c+r!t"}"#;
    let server = CannedServer::start(vec![reply(403, &[], &echo_page), json(400, echo_json)]).await;
    let client = TokenClient::builder(
        SecureUrl::parse(&server.url("/token")).unwrap(),
        ClientAuth::basic("cid", ClientSecret::new(SHORT_CLIENT_SECRET)),
    )
    .transport(
        TransportSettings::new()
            .clock(clock.clone())
            .sleeper(clock.clone()),
    )
    .build()
    .unwrap();
    let grant = Grant::refresh_token(RefreshToken::new(SHORT_REFRESH_TOKEN));
    for _ in 0..2 {
        let err = client.request_token(&grant).await.unwrap_err();
        tracing::error!(error = %err, debug = ?err, "refresh failed");
    }
    assert_eq!(server.count(), 2);
    vec![
        SHORT_CLIENT_SECRET.to_owned(),
        SHORT_REFRESH_TOKEN.to_owned(),
        basic,
    ]
}

/// Basic auth, `client_credentials`: 503 (echoing the secret), 429 with `Retry-After`, success.
async fn client_credentials_with_retries(clock: &ManualClock) -> Vec<String> {
    let scopes = Scopes::parse("openid AdobeID").unwrap();
    let server = CannedServer::start(vec![
        json(
            503,
            &format!(
                r#"{{"error":"temporarily_unavailable","error_description":"{CLIENT_SECRET}"}}"#
            ),
        ),
        reply(
            429,
            &[("Retry-After", "1"), ("x-debug-id", "dbg-leak")],
            CLIENT_SECRET,
        ),
        Reply::Raw(
            format!(
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
                token_body().len(),
                token_body()
            )
            .into_bytes(),
        ),
    ])
    .await;
    let client = TokenClient::builder(
        SecureUrl::parse(&server.url("/ims/token/v3?tenant=LEAKCHECK-query-0123456789")).unwrap(),
        ClientAuth::basic("cid", ClientSecret::new(CLIENT_SECRET)),
    )
    .transport(
        TransportSettings::new()
            .clock(clock.clone())
            .sleeper(clock.clone()),
    )
    .build()
    .unwrap();
    let tokens = client
        .request_token(&Grant::client_credentials(
            &scopes,
            ScopeFormat::CommaSeparated,
        ))
        .await
        .unwrap();
    tracing::info!(?tokens, "tokens received (Debug must be redacted)");
    assert_eq!(server.count(), 3);
    vec!["LEAKCHECK-query-0123456789".to_owned()]
}

/// Secret in the body; a refresh after a dropped connection, then `invalid_grant` echoing it.
async fn refresh_with_a_dropped_connection_then_invalid_grant(clock: &ManualClock) {
    let server = CannedServer::start(vec![
        Reply::Drop,
        json(200, &token_body()),
        json(
            400,
            &format!(r#"{{"error":"invalid_grant","error_description":"bad {REFRESH_TOKEN}"}}"#),
        ),
    ])
    .await;
    let client = TokenClient::builder(
        SecureUrl::parse(&server.url("/token")).unwrap(),
        ClientAuth::request_body("cid", ClientSecret::new(CLIENT_SECRET)),
    )
    .transport(
        TransportSettings::new()
            .clock(clock.clone())
            .sleeper(clock.clone()),
    )
    .build()
    .unwrap();
    let grant = Grant::refresh_token(RefreshToken::new(REFRESH_TOKEN));
    tracing::debug!(?grant, ?client, "refreshing");
    client.request_token(&grant).await.unwrap();
    let err = client.request_token(&grant).await.unwrap_err();
    tracing::error!(error = %err, debug = ?err, "refresh failed");
}

/// An HTTPS loopback login (a wrong state first), then the code exchange with PKCE.
/// Returns the generated state and verifier.
async fn loopback_login_and_code_exchange(clock: &ManualClock) -> Vec<String> {
    let mut secrets = Vec::new();
    let https = LoopbackReceiver::builder().https().bind().await.unwrap();
    let der = https.certificate_der().to_vec();
    let receiver = https.into_receiver();
    let uri = receiver.redirect_uri().to_owned();
    let addr = receiver.local_addr();
    let (url, pending) = AuthorizationRequest::new(
        SecureUrl::parse("https://ims.example/ims/authorize/v2").unwrap(),
        "cid",
        &uri,
    )
    .build()
    .unwrap();
    secrets.push(pending.state().expose_secret().to_owned());
    secrets.push(pending.code_verifier().expose_secret().to_owned());
    tracing::info!(?pending, "pending authorization (Debug must be redacted)");
    let _ = url;
    let state = pending.state().expose_secret().to_owned();
    let browser = reqwest::Client::builder()
        .no_proxy()
        .resolve("localhost", addr)
        .tls_certs_only([reqwest::Certificate::from_der(&der).unwrap()])
        .build()
        .unwrap();
    let waiter = {
        let pending = pending.clone();
        tokio::spawn(async move { receiver.wait_for_code(&pending).await })
    };
    let wrong = format!("{uri}?code={CODE}-forged&state=LEAKCHECK-wrong-state-0123456789");
    assert_eq!(browser.get(&wrong).send().await.unwrap().status(), 400);
    let right = format!("{uri}?code={CODE}&state={state}");
    assert_eq!(browser.get(&right).send().await.unwrap().status(), 200);
    let code = waiter.await.unwrap().unwrap();

    let server = CannedServer::start(vec![
        reply(502, &[], "<html>bad gateway</html>"),
        json(200, &token_body()),
    ])
    .await;
    let client = TokenClient::builder(
        SecureUrl::parse(&server.url("/token")).unwrap(),
        ClientAuth::public_in_query("cid"),
    )
    .transport(
        TransportSettings::new()
            .clock(clock.clone())
            .sleeper(clock.clone())
            .attempt_timeout(Duration::from_secs(5)),
    )
    .build()
    .unwrap();
    client
        .request_token(&pending.token_grant(code))
        .await
        .unwrap();
    assert_eq!(
        server.requests()[1].form_value("code").as_deref(),
        Some(CODE)
    );
    secrets
}
