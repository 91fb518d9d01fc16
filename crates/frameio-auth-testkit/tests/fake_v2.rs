//! `FakeFrameioV2` (and `FakeFrameioV4`) driven over raw HTTP/1.1, for behaviours the client
//! crates' tests do not reach: `Rotation::ReturnSame`, a confidential app's `client_secret` in
//! the body, a reused code, a PKCE mismatch, a login granted fewer scopes than asked and a
//! refresh asking for more than the grant, and that the fakes' `Debug` shows no token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a panic is how a test fails

use std::fmt::Write as _;
use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use frameio_auth_core::PkceVerifier;
use frameio_auth_testkit::v2::{
    ALL_SCOPES, FakeFrameioV2, FakeFrameioV2Config, FakeV2App, Rotation, demo, paths,
};
use frameio_auth_testkit::{FakeFrameioV4, FakeIms};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const REDIRECT: &str = "http://127.0.0.1:1/callback";

/// One request per connection (`Connection: close`): the status, the `Location` header and
/// the body.
async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Option<String>, String) {
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        write!(request, "{k}: {v}\r\n").unwrap();
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let location = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.trim().to_owned());
    (status, location, body.to_owned())
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn basic() -> String {
    let pair = format!(
        "{}:{}",
        demo::CONFIDENTIAL_CLIENT_ID,
        demo::CONFIDENTIAL_SECRET
    );
    format!("Basic {}", STANDARD.encode(pair))
}

/// POSTs a form to the token endpoint (with HTTP Basic when `basic` is set): status and JSON.
async fn token(addr: SocketAddr, pairs: &[(&str, &str)], auth: Option<&str>) -> (u16, Value) {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(auth) = auth {
        headers.push(("Authorization", auth));
    }
    let (status, _, body) = send(addr, "POST", paths::TOKEN, &headers, &form(pairs)).await;
    (status, serde_json::from_str(&body).unwrap())
}

/// Runs the authorize endpoint (which approves at once) and returns the code.
async fn code(fake: &FakeFrameioV2, client_id: &str, verifier: Option<&PkceVerifier>) -> String {
    let challenge = verifier.map(|v| v.challenge().as_str().to_owned());
    let mut query = vec![
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "st-1"),
        ("scope", "account.read offline"),
    ];
    if let Some(challenge) = &challenge {
        query.extend([
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]);
    }
    let target = format!("{}?{}", paths::AUTHORIZE, form(&query));
    let (status, location, _) = send(fake.addr(), "GET", &target, &[], "").await;
    assert_eq!(status, 302);
    let location = location.unwrap();
    let query = location.split_once('?').unwrap().1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned()
}

async fn exchange(fake: &FakeFrameioV2, code: &str) -> (u16, Value) {
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
    ];
    token(fake.addr(), &pairs, Some(&basic())).await
}

async fn demo_fake() -> FakeFrameioV2 {
    FakeFrameioV2::start(FakeFrameioV2Config::with_demo_apps())
        .await
        .unwrap()
}

#[tokio::test]
async fn return_same_keeps_the_refresh_token_usable() {
    let fake =
        FakeFrameioV2::start(FakeFrameioV2Config::with_demo_apps().rotation(Rotation::ReturnSame))
            .await
            .unwrap();
    let code = code(&fake, demo::CONFIDENTIAL_CLIENT_ID, None).await;
    let (status, first) = exchange(&fake, &code).await;
    assert_eq!(status, 200, "{first}");
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let mut secrets = vec![
        code,
        refresh.clone(),
        first["access_token"].as_str().unwrap().to_owned(),
    ];
    for _ in 0..2 {
        let pairs = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        let (status, body) = token(fake.addr(), &pairs, Some(&basic())).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["refresh_token"],
            refresh.as_str(),
            "the same token again"
        );
        secrets.push(body["access_token"].as_str().unwrap().to_owned());
    }
    assert!(fake.is_refresh_token_active(&refresh));
    assert_eq!(fake.grant_count("refresh_token"), 2);

    // Neither the fake nor a recorded request prints a token, the code or the secret.
    fake.register_developer_token("fio-u-LEAKCHECK-developer-token", "account.read");
    secrets.extend([
        demo::CONFIDENTIAL_SECRET.to_owned(),
        basic(),
        "fio-u-LEAKCHECK".to_owned(),
    ]);
    let recorded = fake.last_request(paths::TOKEN).unwrap();
    for text in [
        format!("{fake:?}"),
        format!("{fake:#?}"),
        format!("{recorded:?}"),
        format!("{recorded:#?}"),
    ] {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{secret} in Debug: {text}");
        }
    }
}

#[tokio::test]
async fn a_confidential_app_may_not_send_its_secret_in_the_body() {
    let fake = demo_fake().await;
    let code = code(&fake, demo::CONFIDENTIAL_CLIENT_ID, None).await;
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", demo::CONFIDENTIAL_CLIENT_ID),
        ("client_secret", demo::CONFIDENTIAL_SECRET),
    ];
    let (status, body) = token(fake.addr(), &pairs, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // With HTTP Basic the same code still works: the refusal did not spend it.
    let (status, body) = exchange(&fake, &code).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_reused_code_is_invalid_grant() {
    let fake = demo_fake().await;
    let code = code(&fake, demo::CONFIDENTIAL_CLIENT_ID, None).await;
    assert_eq!(exchange(&fake, &code).await.0, 200);
    let (status, body) = exchange(&fake, &code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_pkce_mismatch_is_invalid_grant() {
    let fake = demo_fake().await;
    let verifier = PkceVerifier::generate().unwrap();
    let code = code(&fake, demo::PKCE_CLIENT_ID, Some(&verifier)).await;
    let other = PkceVerifier::generate().unwrap();
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", demo::PKCE_CLIENT_ID),
        ("code_verifier", other.expose_secret()),
    ];
    let (status, body) = token(fake.addr(), &pairs, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The failed attempt spent the code: the right verifier is too late.
    pairs[4] = ("code_verifier", verifier.expose_secret());
    let (status, body) = token(fake.addr(), &pairs, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn v4_debug_shows_no_token() {
    let ims = FakeIms::start_demo().await.unwrap();
    let v4 = FakeFrameioV4::start(&ims).await.unwrap();
    let pairs = [
        ("grant_type", "client_credentials"),
        ("client_id", frameio_auth_testkit::ims::demo::S2S_CLIENT_ID),
        ("client_secret", frameio_auth_testkit::ims::demo::S2S_SECRET),
        ("scope", "openid,AdobeID,frame.s2s.all"),
    ];
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    let target = frameio_auth_testkit::ims::paths::TOKEN;
    let (status, _, body) = send(ims.addr(), "POST", target, &headers, &form(&pairs)).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let access = body["access_token"].as_str().unwrap();
    let bearer = format!("Bearer {access}");
    let (status, _, _) = send(
        v4.addr(),
        "GET",
        paths::V4_ME,
        &[("Authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v4.me_requests(), 1);
    for text in [format!("{v4:?}"), format!("{v4:#?}"), format!("{ims:?}")] {
        assert!(!text.contains(access), "a token in Debug: {text}");
        assert!(
            !text.contains(frameio_auth_testkit::ims::demo::S2S_SECRET),
            "{text}"
        );
    }
}

/// A refresh of `refresh` by the confidential demo app, asking for `scope` if given.
async fn refresh_with(fake: &FakeFrameioV2, refresh: &str, scope: Option<&str>) -> (u16, Value) {
    let mut pairs = vec![("grant_type", "refresh_token"), ("refresh_token", refresh)];
    pairs.extend(scope.map(|scope| ("scope", scope)));
    token(fake.addr(), &pairs, Some(&basic())).await
}

#[tokio::test]
async fn a_stingy_app_grants_fewer_scopes_and_a_refresh_may_not_ask_for_more() {
    let stingy = FakeV2App::confidential(
        demo::CONFIDENTIAL_CLIENT_ID,
        demo::CONFIDENTIAL_SECRET,
        demo::REDIRECT,
        ALL_SCOPES,
    )
    .grants_only("offline asset.read");
    let fake = FakeFrameioV2::start(FakeFrameioV2Config::with_demo_apps().app(stingy))
        .await
        .unwrap();
    // Asked for `account.read offline`: granted `offline` only, and told so.
    let code = code(&fake, demo::CONFIDENTIAL_CLIENT_ID, None).await;
    let (status, body) = exchange(&fake, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "offline");
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();

    let (status, body) = refresh_with(&fake, &refresh, Some("account.read offline")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    assert_eq!(
        body["error_description"],
        "refresh token missing requested scope"
    );
    // The refusal did not spend the refresh token: asking for the grant works.
    let (status, body) = refresh_with(&fake, &refresh, Some("offline")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "offline");
}

#[tokio::test]
async fn a_login_granted_none_of_its_scopes_is_refused() {
    let fake = FakeFrameioV2::start(FakeFrameioV2Config::new().app(
        FakeV2App::pkce(demo::PKCE_CLIENT_ID, demo::REDIRECT, ALL_SCOPES).grants_only("offline"),
    ))
    .await
    .unwrap();
    let verifier = PkceVerifier::generate().unwrap();
    let query = form(&[
        ("client_id", demo::PKCE_CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "st-2"),
        ("scope", "account.read"),
        ("code_challenge", verifier.challenge().as_str()),
        ("code_challenge_method", "S256"),
    ]);
    let target = format!("{}?{query}", paths::AUTHORIZE);
    let (status, location, _) = send(fake.addr(), "GET", &target, &[], "").await;
    assert_eq!(status, 302);
    assert!(location.unwrap().contains("error=invalid_scope"));
}
