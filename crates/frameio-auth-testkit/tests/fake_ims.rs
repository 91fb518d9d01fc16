//! `FakeIms` driven over raw HTTP/1.1 (a tiny hand-written client), so these tests check the
//! fake itself and nothing of the client crates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a panic is how a test fails
#![allow(clippy::too_many_lines)] // table-driven protocol tests read better whole

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use frameio_auth_core::{ManualClock, PkceVerifier, Timestamp};
use frameio_auth_testkit::ims::{
    AuthorizeDecision, FakeClient, FakeIms, FakeImsConfig, FakeUser, Fault, Schedule, Times,
    decode_jwt_payload, demo, paths,
};
use frameio_auth_testkit::v2::FakeFrameioV4;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

// ---------------------------------------------------------------------------------------------
// A tiny HTTP/1.1 client: one request per connection (`Connection: close`), read to EOF.
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap().to_owned()
    }

    fn content_length(&self) -> Option<usize> {
        self.header("content-length").map(|v| v.parse().unwrap())
    }

    /// The query parameters of the `Location` header.
    fn location_params(&self) -> Vec<(String, String)> {
        let location = self.header("location").expect("a Location header");
        let query = location.split_once('?').map_or("", |(_, q)| q);
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn raw(addr: SocketAddr, request: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await?;
    Ok(out)
}

async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Resp> {
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        write!(request, "{k}: {v}\r\n").unwrap();
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    let out = raw(addr, &bytes).await?;
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no response head"))?;
    let head = String::from_utf8(out[..end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    Ok(Resp {
        status,
        headers,
        body: out[end + 4..].to_vec(),
    })
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// RFC 6749 §2.3.1: form-urlencode id and secret, then base64.
fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

async fn post_form(
    ims: &FakeIms,
    target: &str,
    pairs: &[(&str, &str)],
    auth: Option<&str>,
) -> Resp {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(auth) = auth {
        headers.push(("Authorization", auth));
    }
    send(ims.addr(), "POST", target, &headers, form(pairs).as_bytes())
        .await
        .unwrap()
}

async fn get(ims: &FakeIms, target: &str, bearer: Option<&str>) -> Resp {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    send(ims.addr(), "GET", target, &headers, b"")
        .await
        .unwrap()
}

async fn demo_ims() -> FakeIms {
    FakeIms::start(FakeImsConfig::with_demo_clients())
        .await
        .unwrap()
}

/// The demo clients, with refresh-token reuse detection off.
async fn ims_without_reuse_detection() -> FakeIms {
    FakeIms::start(FakeImsConfig::with_demo_clients().refresh_token_reuse_detection(false))
        .await
        .unwrap()
}

async fn s2s_token(ims: &FakeIms) -> Resp {
    post_form(
        ims,
        paths::TOKEN,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", demo::S2S_CLIENT_ID),
            ("client_secret", demo::S2S_SECRET),
            ("scope", "openid,AdobeID,frame.s2s.all"),
        ],
        None,
    )
    .await
}

/// Runs the authorize endpoint and returns the code.
async fn authorize_code(
    ims: &FakeIms,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    verifier: Option<&PkceVerifier>,
) -> String {
    let challenge = verifier.map(|v| v.challenge().as_str().to_owned());
    let mut q = vec![
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("response_type", "code"),
        ("state", "st-123"),
    ];
    if let Some(challenge) = &challenge {
        q.push(("code_challenge", challenge));
        q.push(("code_challenge_method", "S256"));
    }
    let resp = get(ims, &format!("{}?{}", paths::AUTHORIZE, form(&q)), None).await;
    assert_eq!(
        resp.status,
        302,
        "{:?}",
        String::from_utf8_lossy(&resp.body)
    );
    let params = resp.location_params();
    assert_eq!(param(&params, "state"), Some("st-123"));
    assert!(resp.header("location").unwrap().starts_with(redirect_uri));
    param(&params, "code").expect("a code").to_owned()
}

const WEB_REDIRECT: &str = "https://localhost:8443/callback";
const SPA_REDIRECT: &str = "https://localhost/app/cb";

async fn web_tokens(ims: &FakeIms, scope: &str) -> Value {
    let code = authorize_code(ims, demo::WEB_CLIENT_ID, WEB_REDIRECT, scope, None).await;
    let resp = web_exchange(ims, &code).await;
    assert_eq!(resp.status, 200, "{:?}", resp.json());
    resp.json()
}

/// The Web App's `authorization_code` grant for `code` (Basic authentication).
async fn web_exchange(ims: &FakeIms, code: &str) -> Resp {
    post_form(
        ims,
        paths::TOKEN,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEB_REDIRECT),
        ],
        Some(&basic(demo::WEB_CLIENT_ID, demo::WEB_SECRET)),
    )
    .await
}

/// A `refresh_token` grant by the Web App (Basic authentication).
async fn refresh(ims: &FakeIms, refresh_token: &str) -> Resp {
    post_form(
        ims,
        paths::TOKEN,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
        Some(&basic(demo::WEB_CLIENT_ID, demo::WEB_SECRET)),
    )
    .await
}

/// A `refresh_token` grant by the Single Page App (a public client).
async fn spa_refresh(ims: &FakeIms, refresh_token: &str) -> Resp {
    post_form(
        ims,
        paths::TOKEN,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", demo::SPA_CLIENT_ID),
        ],
        None,
    )
    .await
}

/// The access and refresh token of a token response.
fn pair(body: &Value) -> (String, String) {
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn validate_reason(ims: &FakeIms, kind: &str, token: &str) -> Value {
    let v = post_form(
        ims,
        paths::VALIDATE,
        &[
            ("type", kind),
            ("client_id", demo::WEB_CLIENT_ID),
            ("token", token),
        ],
        None,
    )
    .await
    .json();
    v["reason"].clone()
}

// ---------------------------------------------------------------------------------------------
// Grants
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn client_credentials_in_body_and_jwt_payload_in_milliseconds() {
    let clock = ManualClock::new(Timestamp::from_unix_secs(1_700_000_000));
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients().clock(clock.clone()))
        .await
        .unwrap();
    let resp = s2s_token(&ims).await;
    assert_eq!(resp.status, 200);
    assert!(resp.header("x-debug-id").is_some());
    let body = resp.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 86_399);
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("id_token").is_none());
    assert!(body.get("sub").is_none());
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);
    let payload = decode_jwt_payload(token).unwrap();
    assert_eq!(payload["created_at"], "1700000000000");
    assert_eq!(payload["expires_in"], "86399000");
    assert_eq!(payload["type"], "access_token");
    assert_eq!(payload["as"], "ims-na1");
    assert_eq!(payload["client_id"], demo::S2S_CLIENT_ID);
    assert_eq!(payload["scope"], "AdobeID,frame.s2s.all,openid");
    assert!(
        payload["user_id"]
            .as_str()
            .unwrap()
            .ends_with("@techacct.adobe.com")
    );
    assert!(payload.get("rtea").is_none());
    assert_eq!(ims.grant_count("client_credentials"), 1);
    assert_eq!(ims.issued_access_tokens(), 1);
    assert!(ims.is_access_token_active(token));
}

#[tokio::test]
async fn client_credentials_with_basic_and_either_secret() {
    let ims = demo_ims().await;
    for secret in [demo::S2S_SECRET, demo::S2S_SECRET_2] {
        let resp = post_form(
            &ims,
            paths::TOKEN,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "openid, AdobeID"),
            ],
            Some(&basic(demo::S2S_CLIENT_ID, secret)),
        )
        .await;
        assert_eq!(resp.status, 200, "{:?}", resp.json());
    }
    assert_eq!(
        ims.last_authorization_header(paths::TOKEN).unwrap(),
        basic(demo::S2S_CLIENT_ID, demo::S2S_SECRET_2)
    );
}

/// Form pairs, `Authorization` header, expected status, expected `error`.
type Case<'a> = (&'a [(&'a str, &'a str)], Option<String>, u16, &'a str);

#[tokio::test]
async fn client_credentials_refusals() {
    let ims = demo_ims().await;
    let cases: &[Case<'_>] = &[
        // wrong secret in the body
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", demo::S2S_CLIENT_ID),
                ("client_secret", "nope"),
                ("scope", "openid"),
            ],
            None,
            401,
            "invalid_client",
        ),
        // wrong secret with Basic
        (
            &[("grant_type", "client_credentials"), ("scope", "openid")],
            Some(basic(demo::S2S_CLIENT_ID, "nope")),
            401,
            "invalid_client",
        ),
        // unknown client
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "who"),
                ("client_secret", "x"),
                ("scope", "openid"),
            ],
            None,
            401,
            "invalid_client",
        ),
        // space-separated scopes: IMS wants commas
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", demo::S2S_CLIENT_ID),
                ("client_secret", demo::S2S_SECRET),
                ("scope", "openid AdobeID"),
            ],
            None,
            400,
            "invalid_scope",
        ),
        // a scope the credential does not have
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", demo::S2S_CLIENT_ID),
                ("client_secret", demo::S2S_SECRET),
                ("scope", "openid,asset.read"),
            ],
            None,
            400,
            "invalid_scope",
        ),
        // a Web App cannot use client_credentials
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", demo::WEB_CLIENT_ID),
                ("client_secret", demo::WEB_SECRET),
                ("scope", "openid"),
            ],
            None,
            400,
            "unauthorized_client",
        ),
        // two authentication methods at once
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", demo::S2S_SECRET),
                ("scope", "openid"),
            ],
            Some(basic(demo::S2S_CLIENT_ID, demo::S2S_SECRET)),
            400,
            "invalid_request",
        ),
        // unknown grant
        (
            &[
                ("grant_type", "password"),
                ("client_id", demo::S2S_CLIENT_ID),
                ("client_secret", demo::S2S_SECRET),
            ],
            None,
            400,
            "unsupported_grant_type",
        ),
        // repeated parameter
        (
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
                ("client_id", demo::S2S_CLIENT_ID),
                ("client_secret", demo::S2S_SECRET),
                ("scope", "openid"),
            ],
            None,
            400,
            "invalid_request",
        ),
    ];
    for (pairs, auth, status, error) in cases {
        let resp = post_form(&ims, paths::TOKEN, pairs, auth.as_deref()).await;
        assert_eq!(resp.status, *status, "{pairs:?}");
        assert_eq!(resp.error(), *error, "{pairs:?}");
        assert!(resp.header("x-debug-id").is_some());
    }
    assert_eq!(ims.issued_access_tokens(), 0);
    // Malformed Basic credentials, a missing content type: errors, never panics.
    let resp = post_form(
        &ims,
        paths::TOKEN,
        &[("grant_type", "client_credentials")],
        Some("Basic !!!"),
    )
    .await;
    assert_eq!(
        (resp.status, resp.error().as_str()),
        (401, "invalid_client")
    );
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    let resp = send(
        ims.addr(),
        "POST",
        paths::TOKEN,
        &[],
        b"grant_type=client_credentials",
    )
    .await
    .unwrap();
    assert_eq!(
        (resp.status, resp.error().as_str()),
        (400, "invalid_request")
    );
}

#[tokio::test]
async fn basic_auth_decodes_form_encoded_id_and_secret() {
    let (id, secret) = ("odd:id é", "s3cr+t/=%:x");
    let config = FakeImsConfig::new().client(FakeClient::server_to_server(id, [secret], "openid"));
    let ims = FakeIms::start(config).await.unwrap();
    let resp = post_form(
        &ims,
        paths::TOKEN,
        &[("grant_type", "client_credentials"), ("scope", "openid")],
        Some(&basic(id, secret)),
    )
    .await;
    assert_eq!(resp.status, 200, "{:?}", resp.json());
    // Unencoded Basic (the common client bug) does not authenticate this client.
    let unencoded = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    let resp = post_form(
        &ims,
        paths::TOKEN,
        &[("grant_type", "client_credentials"), ("scope", "openid")],
        Some(&unencoded),
    )
    .await;
    assert_eq!(resp.status, 401);
}

#[tokio::test]
async fn web_app_code_flow_with_basic_gives_refresh_and_id_tokens() {
    let clock = ManualClock::new(Timestamp::from_unix_secs(1_700_000_000));
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients().clock(clock.clone()))
        .await
        .unwrap();
    let body = web_tokens(&ims, "openid AdobeID offline_access email").await;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 86_399);
    assert_eq!(body["sub"], "4F3A2B1C0D9E8F7A6B5C4D3E@AdobeID");
    assert!(body["refresh_token"].is_string());
    let id_token = decode_jwt_payload(body["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(id_token["aud"], demo::WEB_CLIENT_ID);
    assert_eq!(id_token["email"], "ada@example.com");
    let payload = decode_jwt_payload(body["access_token"].as_str().unwrap()).unwrap();
    let fourteen_days_ms = 1_700_000_000_000_u64 + 14 * 24 * 3600 * 1000;
    assert_eq!(payload["rtea"], fourteen_days_ms.to_string());
    assert_eq!(payload["scope"], "AdobeID,email,offline_access,openid");
    assert_eq!(ims.grant_count("authorization_code"), 1);
    // Without offline_access and openid: neither a refresh token nor an id token.
    let body = web_tokens(&ims, "AdobeID").await;
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("id_token").is_none());
    assert!(
        decode_jwt_payload(body["access_token"].as_str().unwrap())
            .unwrap()
            .get("rtea")
            .is_none()
    );
}

#[tokio::test]
async fn code_is_single_use_and_bound_to_redirect_uri() {
    let ims = demo_ims().await;
    let auth = basic(demo::WEB_CLIENT_ID, demo::WEB_SECRET);
    let code = authorize_code(&ims, demo::WEB_CLIENT_ID, WEB_REDIRECT, "openid", None).await;
    // Client secret in the body this time.
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", WEB_REDIRECT),
        ("client_id", demo::WEB_CLIENT_ID),
        ("client_secret", demo::WEB_SECRET),
    ];
    assert_eq!(
        post_form(&ims, paths::TOKEN, &pairs, None).await.status,
        200
    );
    let form = ims.last_form(paths::TOKEN).unwrap();
    assert!(form.contains(&("client_secret".to_owned(), demo::WEB_SECRET.to_owned())));
    assert_eq!(ims.last_authorization_header(paths::TOKEN), None);
    let again = post_form(&ims, paths::TOKEN, &pairs, None).await;
    assert_eq!(
        (again.status, again.error().as_str()),
        (400, "invalid_grant")
    );

    let code = authorize_code(&ims, demo::WEB_CLIENT_ID, WEB_REDIRECT, "openid", None).await;
    let resp = post_form(
        &ims,
        paths::TOKEN,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://localhost/other"),
        ],
        Some(&auth),
    )
    .await;
    assert_eq!((resp.status, resp.error().as_str()), (400, "invalid_grant"));
    let resp = post_form(
        &ims,
        paths::TOKEN,
        &[
            ("grant_type", "authorization_code"),
            ("code", "made-up"),
            ("redirect_uri", WEB_REDIRECT),
        ],
        Some(&auth),
    )
    .await;
    assert_eq!((resp.status, resp.error().as_str()), (400, "invalid_grant"));
}

#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let clock = ManualClock::default();
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients().clock(clock.clone()))
        .await
        .unwrap();
    let code = authorize_code(&ims, demo::WEB_CLIENT_ID, WEB_REDIRECT, "openid", None).await;
    clock.advance(Duration::from_secs(601));
    let resp = web_exchange(&ims, &code).await;
    assert_eq!((resp.status, resp.error().as_str()), (400, "invalid_grant"));
}

#[tokio::test]
async fn public_clients_need_pkce_s256_and_the_right_verifier() {
    let ims = demo_ims().await;
    let verifier = PkceVerifier::generate().unwrap();

    // Wrong verifier: invalid_grant (and the code is spent).
    let code = authorize_code(
        &ims,
        demo::SPA_CLIENT_ID,
        SPA_REDIRECT,
        "openid offline_access",
        Some(&verifier),
    )
    .await;
    let wrong = PkceVerifier::generate().unwrap();
    let resp = post_form(
        &ims,
        paths::TOKEN,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", demo::SPA_CLIENT_ID),
            ("code", &code),
            ("redirect_uri", SPA_REDIRECT),
            ("code_verifier", wrong.expose_secret()),
        ],
        None,
    )
    .await;
    assert_eq!((resp.status, resp.error().as_str()), (400, "invalid_grant"));

    // Missing verifier: invalid_grant.
    let code = authorize_code(
        &ims,
        demo::SPA_CLIENT_ID,
        SPA_REDIRECT,
        "openid",
        Some(&verifier),
    )
    .await;
    let resp = post_form(
        &ims,
        paths::TOKEN,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", demo::SPA_CLIENT_ID),
            ("code", &code),
            ("redirect_uri", SPA_REDIRECT),
        ],
        None,
    )
    .await;
    assert_eq!((resp.status, resp.error().as_str()), (400, "invalid_grant"));

    // Right verifier, client_id in the query: tokens.
    let code = authorize_code(
        &ims,
        demo::SPA_CLIENT_ID,
        SPA_REDIRECT,
        "openid offline_access",
        Some(&verifier),
    )
    .await;
    let target = format!("{}?client_id={}", paths::TOKEN, demo::SPA_CLIENT_ID);
    let resp = post_form(
        &ims,
        &target,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", SPA_REDIRECT),
            ("code_verifier", verifier.expose_secret()),
        ],
        None,
    )
    .await;
    assert_eq!(resp.status, 200, "{:?}", resp.json());
    assert!(resp.json()["refresh_token"].is_string());
    assert_eq!(
        ims.last_query(paths::TOKEN).unwrap(),
        vec![("client_id".to_owned(), demo::SPA_CLIENT_ID.to_owned())]
    );

    // A public client that sends a secret is refused.
    let code = authorize_code(
        &ims,
        demo::NATIVE_CLIENT_ID,
        demo::NATIVE_REDIRECT,
        "openid",
        Some(&verifier),
    )
    .await;
    let resp = post_form(
        &ims,
        paths::TOKEN,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", demo::NATIVE_CLIENT_ID),
            ("client_secret", "x"),
            ("code", &code),
            ("redirect_uri", demo::NATIVE_REDIRECT),
            ("code_verifier", verifier.expose_secret()),
        ],
        None,
    )
    .await;
    assert_eq!(
        (resp.status, resp.error().as_str()),
        (401, "invalid_client")
    );
}

#[tokio::test]
async fn native_app_with_custom_scheme_and_loopback_pattern() {
    let config = FakeImsConfig::with_demo_clients().client(FakeClient::native_app(
        "loopback-app",
        "http://127.0.0.1:*/callback",
        "openid",
    ));
    let ims = FakeIms::start(config).await.unwrap();
    let verifier = PkceVerifier::generate().unwrap();
    for (client, redirect) in [
        (demo::NATIVE_CLIENT_ID, demo::NATIVE_REDIRECT),
        ("loopback-app", "http://127.0.0.1:50123/callback"),
    ] {
        let code = authorize_code(&ims, client, redirect, "openid", Some(&verifier)).await;
        let resp = post_form(
            &ims,
            paths::TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", client),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier.expose_secret()),
            ],
            None,
        )
        .await;
        assert_eq!(resp.status, 200, "{:?}", resp.json());
    }
}

#[tokio::test]
async fn refresh_rotates_and_a_spent_token_is_invalid_grant() {
    // Reuse detection off: this test replays the spent token and then goes on with the
    // newest one (scope narrowing, client binding), which detection would have revoked.
    // Detection has its own tests below.
    let ims = ims_without_reuse_detection().await;
    let auth = basic(demo::WEB_CLIENT_ID, demo::WEB_SECRET);
    let first = web_tokens(&ims, "openid offline_access profile").await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();

    let resp = refresh(&ims, &rt1).await;
    assert_eq!(resp.status, 200, "{:?}", resp.json());
    let second = resp.json();
    let rt2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    assert_ne!(first["access_token"], second["access_token"]);
    assert!(!ims.is_refresh_token_active(&rt1));
    assert!(ims.is_refresh_token_active(&rt2));

    let reuse = refresh(&ims, &rt1).await;
    assert_eq!(
        (reuse.status, reuse.error().as_str()),
        (400, "invalid_grant")
    );

    // Narrowing scopes is allowed, widening is not.
    let widen = post_form(
        &ims,
        paths::TOKEN,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt2),
            ("scope", "openid email"),
        ],
        Some(&auth),
    )
    .await;
    assert_eq!(
        (widen.status, widen.error().as_str()),
        (400, "invalid_scope")
    );
    let resp = refresh(&ims, &rt2).await;
    assert_eq!(resp.status, 200);
    assert_eq!(ims.grant_count("refresh_token"), 4);
    assert_eq!(
        ims.refresh_grants_served(),
        2,
        "the replay and the widening were refused"
    );
    assert_eq!(ims.refresh_token_reuses_detected(), 0, "detection is off");
    assert_eq!(ims.token_requests(), 5);
    assert_eq!(ims.issued_refresh_tokens(), 3);

    // Another client cannot use this client's refresh token.
    let rt3 = resp.json()["refresh_token"].as_str().unwrap().to_owned();
    let resp = spa_refresh(&ims, &rt3).await;
    assert_eq!((resp.status, resp.error().as_str()), (400, "invalid_grant"));
}

#[tokio::test]
async fn a_replayed_refresh_token_revokes_the_whole_grant() {
    let ims = demo_ims().await;
    assert!(ims.config().detects_refresh_token_reuse(), "on by default");
    let (at1, rt1) = pair(&web_tokens(&ims, "openid offline_access profile").await);
    let resp = refresh(&ims, &rt1).await;
    assert_eq!(resp.status, 200);
    let (at2, rt2) = pair(&resp.json());
    let resp = refresh(&ims, &rt2).await;
    assert_eq!(resp.status, 200);
    let (at3, rt3) = pair(&resp.json());
    // Another grant of the same client and user, which the replay must not touch.
    let (bystander_access, bystander_refresh) =
        pair(&web_tokens(&ims, "openid offline_access").await);
    assert_eq!(ims.refresh_grants_served(), 2);
    assert_eq!(ims.refresh_token_reuses_detected(), 0);

    // The first, long-spent refresh token comes back.
    let reuse = refresh(&ims, &rt1).await;
    assert_eq!(
        (reuse.status, reuse.error().as_str()),
        (400, "invalid_grant")
    );
    let description = reuse.json()["error_description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(description.contains("revoked the grant"), "{description}");
    assert_eq!(ims.refresh_token_reuses_detected(), 1);

    // The newest refresh token is dead: invalid_grant, validate says revoked.
    assert!(!ims.is_refresh_token_active(&rt3));
    let resp = refresh(&ims, &rt3).await;
    assert_eq!((resp.status, resp.error().as_str()), (400, "invalid_grant"));
    assert_eq!(
        validate_reason(&ims, "refresh_token", &rt3).await,
        "revoked"
    );
    // Spent ones stay spent.
    assert_eq!(validate_reason(&ims, "refresh_token", &rt2).await, "used");
    // Every access token of the grant is dead: validate and the bearer endpoints refuse it.
    for at in [&at1, &at2, &at3] {
        assert!(!ims.is_access_token_active(at));
        assert_eq!(validate_reason(&ims, "access_token", at).await, "revoked");
    }
    let userinfo = format!("{}?client_id={}", paths::USERINFO, demo::WEB_CLIENT_ID);
    assert_eq!(get(&ims, &userinfo, Some(&at3)).await.status, 401);
    assert_eq!(get(&ims, paths::PROFILE, Some(&at3)).await.status, 401);
    assert_eq!(
        ims.refresh_grants_served(),
        2,
        "nothing was served after the replay"
    );

    // The other grant lives on.
    assert!(ims.is_access_token_active(&bystander_access));
    assert_eq!(
        get(&ims, &userinfo, Some(&bystander_access)).await.status,
        200
    );
    let resp = refresh(&ims, &bystander_refresh).await;
    assert_eq!(resp.status, 200);
    assert_eq!(ims.refresh_grants_served(), 3);

    // Every presentation of a spent token counts, even of a grant already revoked.
    let again = refresh(&ims, &rt2).await;
    assert_eq!(again.error(), "invalid_grant");
    assert_eq!(ims.refresh_token_reuses_detected(), 2);
    assert_eq!(ims.grant_count("refresh_token"), 6);
}

#[tokio::test]
async fn a_spent_token_from_another_client_revokes_nothing() {
    let ims = demo_ims().await;
    let (at1, rt1) = pair(&web_tokens(&ims, "openid offline_access").await);
    let resp = refresh(&ims, &rt1).await;
    let (at2, rt2) = pair(&resp.json());
    // A public client presents the web app's spent token: refused, but it proves nothing
    // about the web app's grant.
    let resp = spa_refresh(&ims, &rt1).await;
    assert_eq!((resp.status, resp.error().as_str()), (400, "invalid_grant"));
    assert_eq!(ims.refresh_token_reuses_detected(), 0);
    assert!(ims.is_refresh_token_active(&rt2));
    assert!(ims.is_access_token_active(&at2));
    assert!(
        ims.is_access_token_active(&at1),
        "refresh does not revoke earlier tokens"
    );
}

#[tokio::test]
async fn without_reuse_detection_a_replay_is_refused_and_the_grant_lives() {
    let ims = ims_without_reuse_detection().await;
    assert!(!ims.config().detects_refresh_token_reuse());
    let (_, rt1) = pair(&web_tokens(&ims, "openid offline_access").await);
    let (at2, rt2) = pair(&refresh(&ims, &rt1).await.json());
    let reuse = refresh(&ims, &rt1).await;
    assert_eq!(
        (reuse.status, reuse.error().as_str()),
        (400, "invalid_grant")
    );
    assert_eq!(ims.refresh_token_reuses_detected(), 0);
    assert!(ims.is_refresh_token_active(&rt2));
    assert!(ims.is_access_token_active(&at2));
    assert_eq!(refresh(&ims, &rt2).await.status, 200);
    assert_eq!(ims.refresh_grants_served(), 2);
}

#[tokio::test]
async fn refresh_token_expires_per_the_clock() {
    let clock = ManualClock::default();
    let config = FakeImsConfig::with_demo_clients()
        .clock(clock.clone())
        .refresh_token_lifetime(Duration::from_secs(3600))
        .access_token_lifetime(Duration::from_secs(60));
    let ims = FakeIms::start(config).await.unwrap();
    let body = web_tokens(&ims, "openid offline_access").await;
    assert_eq!(body["expires_in"], 60);
    clock.advance(Duration::from_secs(3600));
    let resp = post_form(
        &ims,
        paths::TOKEN,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ],
        Some(&basic(demo::WEB_CLIENT_ID, demo::WEB_SECRET)),
    )
    .await;
    assert_eq!((resp.status, resp.error().as_str()), (400, "invalid_grant"));
}

// ---------------------------------------------------------------------------------------------
// Authorize endpoint
// ---------------------------------------------------------------------------------------------

async fn authorize_raw(ims: &FakeIms, q: &[(&str, &str)]) -> Resp {
    get(ims, &format!("{}?{}", paths::AUTHORIZE, form(q)), None).await
}

#[tokio::test]
async fn authorize_errors_redirect_or_show_a_page() {
    let ims = demo_ims().await;
    let verifier = PkceVerifier::generate().unwrap();
    let challenge = verifier.challenge().as_str().to_owned();

    // A scope the client does not have: redirect with error=invalid_scope and the state.
    let resp = authorize_raw(
        &ims,
        &[
            ("client_id", demo::WEB_CLIENT_ID),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid,asset.read"),
            ("response_type", "code"),
            ("state", "s1"),
        ],
    )
    .await;
    assert_eq!(resp.status, 302);
    let params = resp.location_params();
    assert_eq!(param(&params, "error"), Some("invalid_scope"));
    assert_eq!(param(&params, "state"), Some("s1"));
    assert_eq!(param(&params, "code"), None);

    // A public client without code_challenge.
    let resp = authorize_raw(
        &ims,
        &[
            ("client_id", demo::SPA_CLIENT_ID),
            ("redirect_uri", SPA_REDIRECT),
            ("scope", "openid"),
            ("response_type", "code"),
            ("state", "s2"),
        ],
    )
    .await;
    assert_eq!(resp.status, 302);
    assert_eq!(
        param(&resp.location_params(), "error"),
        Some("invalid_request")
    );

    // code_challenge without a method (IMS would assume plain): refused.
    let resp = authorize_raw(
        &ims,
        &[
            ("client_id", demo::SPA_CLIENT_ID),
            ("redirect_uri", SPA_REDIRECT),
            ("scope", "openid"),
            ("response_type", "code"),
            ("code_challenge", &challenge),
        ],
    )
    .await;
    assert_eq!(
        param(&resp.location_params(), "error"),
        Some("invalid_request")
    );

    // response_type other than code.
    let resp = authorize_raw(
        &ims,
        &[
            ("client_id", demo::WEB_CLIENT_ID),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid"),
            ("response_type", "token"),
        ],
    )
    .await;
    assert_eq!(
        param(&resp.location_params(), "error"),
        Some("unsupported_response_type")
    );

    // Unknown client, bad redirect URI, S2S client: a 400 page, no redirect.
    for q in [
        vec![
            ("client_id", "nobody"),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid"),
            ("response_type", "code"),
        ],
        vec![
            ("client_id", demo::WEB_CLIENT_ID),
            ("redirect_uri", "https://evil.example/cb"),
            ("scope", "openid"),
            ("response_type", "code"),
        ],
        vec![
            ("client_id", demo::S2S_CLIENT_ID),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid"),
            ("response_type", "code"),
        ],
        vec![("redirect_uri", WEB_REDIRECT)],
    ] {
        let resp = authorize_raw(&ims, &q).await;
        assert_eq!(resp.status, 400, "{q:?}");
        assert!(resp.header("location").is_none());
        assert!(
            resp.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
    }
    assert_eq!(ims.issued_codes(), 0);
    assert_eq!(ims.requests_to(paths::AUTHORIZE), 8);
    assert_eq!(
        ims.last_query(paths::AUTHORIZE).unwrap(),
        vec![("redirect_uri".to_owned(), WEB_REDIRECT.to_owned())]
    );
}

#[tokio::test]
async fn authorize_denial_is_configurable() {
    let config = FakeImsConfig::with_demo_clients()
        .authorize_decision(AuthorizeDecision::deny("access_denied"));
    let ims = FakeIms::start(config).await.unwrap();
    let q = [
        ("client_id", demo::WEB_CLIENT_ID),
        ("redirect_uri", WEB_REDIRECT),
        ("scope", "openid"),
        ("response_type", "code"),
        ("state", "s"),
    ];
    let resp = authorize_raw(&ims, &q).await;
    let params = resp.location_params();
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("s"));
    ims.set_authorize_decision(AuthorizeDecision::Deny {
        error: "login_required".into(),
        description: Some("prompt=none".into()),
    });
    let params = authorize_raw(&ims, &q).await.location_params();
    assert_eq!(param(&params, "error"), Some("login_required"));
    assert_eq!(param(&params, "error_description"), Some("prompt=none"));
    ims.set_authorize_decision(AuthorizeDecision::Approve);
    assert!(param(&authorize_raw(&ims, &q).await.location_params(), "code").is_some());
}

// ---------------------------------------------------------------------------------------------
// Other endpoints
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn userinfo_profile_and_organizations() {
    let ims = demo_ims().await;
    let body = web_tokens(&ims, "openid profile").await;
    let at = body["access_token"].as_str().unwrap();
    let target = format!("{}?client_id={}", paths::USERINFO, demo::WEB_CLIENT_ID);
    let info = get(&ims, &target, Some(at)).await;
    assert_eq!(info.status, 200);
    let info = info.json();
    assert_eq!(info["sub"], body["sub"]);
    assert_eq!(info["name"], "Ada Lovelace");
    assert_eq!(info["account_type"], "type1");
    assert!(info.get("email").is_none(), "email needs the email scope");

    let resp = get(&ims, &target, Some("not-a-token")).await;
    assert_eq!(resp.status, 401);
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(get(&ims, &target, None).await.status, 401);
    assert_eq!(get(&ims, paths::USERINFO, Some(at)).await.status, 400);

    let profile = get(&ims, paths::PROFILE, Some(at)).await;
    assert_eq!(profile.status, 200);
    assert_eq!(profile.json()["email"], "ada@example.com");
    let orgs = get(&ims, paths::ORGANIZATIONS, Some(at)).await;
    assert_eq!(orgs.status, 200);
    assert_eq!(orgs.json().as_array().unwrap().len(), 2);
    assert_eq!(get(&ims, paths::ORGANIZATIONS, None).await.status, 401);
}

#[tokio::test]
async fn login_hint_picks_which_registered_user_signs_in() {
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients().add_user(FakeUser::second()))
        .await
        .unwrap();
    let v4 = FakeFrameioV4::start(&ims).await.unwrap();
    let (ada, grace) = (FakeUser::default(), FakeUser::second());
    // Who signs in: the hinted user (address in any case, or user id), else the default one.
    for (hint, expected) in [
        (Some("grace@example.com"), &grace),
        (Some("GRACE@example.COM"), &grace),
        (Some(grace.user_id.as_str()), &grace),
        (Some("nobody@example.com"), &ada),
        (None, &ada),
    ] {
        let mut q = vec![
            ("client_id", demo::WEB_CLIENT_ID),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid profile email offline_access"),
            ("response_type", "code"),
        ];
        q.extend(hint.map(|hint| ("login_hint", hint)));
        let resp = authorize_raw(&ims, &q).await;
        assert_eq!(resp.status, 302);
        let code = param(&resp.location_params(), "code").unwrap().to_owned();
        let body = web_exchange(&ims, &code).await.json();
        assert_eq!(body["sub"], expected.user_id.as_str(), "{hint:?}");
        let id_token = decode_jwt_payload(body["id_token"].as_str().unwrap()).unwrap();
        assert_eq!(id_token["email"], expected.email.as_str());
        // Every answer about the token is that user's, and a refresh keeps the user.
        let (access, refresh_token) = pair(&body);
        let target = format!("{}?client_id={}", paths::USERINFO, demo::WEB_CLIENT_ID);
        let info = get(&ims, &target, Some(&access)).await.json();
        assert_eq!(info["name"], expected.name.as_str());
        assert_eq!(info["email"], expected.email.as_str());
        let profile = get(&ims, paths::PROFILE, Some(&access)).await.json();
        assert_eq!(profile["email"], expected.email.as_str());
        let bearer = format!("Bearer {access}");
        let me = send(
            v4.addr(),
            "GET",
            "/v4/me",
            &[("Authorization", &bearer)],
            b"",
        )
        .await
        .unwrap();
        assert_eq!(me.status, 200);
        assert_eq!(me.json()["data"]["id"], expected.user_id.as_str());
        assert_eq!(me.json()["data"]["email"], expected.email.as_str());
        let refreshed = refresh(&ims, &refresh_token).await.json();
        assert_eq!(refreshed["sub"], expected.user_id.as_str());
    }
}

#[tokio::test]
async fn expired_tokens_fail_validate_and_userinfo() {
    let clock = ManualClock::default();
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients().clock(clock.clone()))
        .await
        .unwrap();
    let body = web_tokens(&ims, "openid").await;
    let at = body["access_token"].as_str().unwrap();
    let validate = |token: String| {
        let ims = &ims;
        async move {
            post_form(
                ims,
                paths::VALIDATE,
                &[
                    ("type", "access_token"),
                    ("client_id", demo::WEB_CLIENT_ID),
                    ("token", &token),
                ],
                None,
            )
            .await
            .json()
        }
    };
    assert_eq!(validate(at.to_owned()).await["valid"], true);
    clock.advance(Duration::from_secs(86_399));
    let v = validate(at.to_owned()).await;
    assert_eq!(
        (v["valid"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("expired"))
    );
    let target = format!("{}?client_id={}", paths::USERINFO, demo::WEB_CLIENT_ID);
    assert_eq!(get(&ims, &target, Some(at)).await.status, 401);
    let v = validate("garbage".to_owned()).await;
    assert_eq!(v["reason"], "bad_token");
}

#[tokio::test]
async fn revoke_kills_tokens_and_answers_200_empty() {
    let ims = demo_ims().await;
    let body = web_tokens(&ims, "openid offline_access").await;
    let (at, rt) = (
        body["access_token"].as_str().unwrap(),
        body["refresh_token"].as_str().unwrap(),
    );
    let auth = basic(demo::WEB_CLIENT_ID, demo::WEB_SECRET);
    let resp = post_form(&ims, paths::REVOKE, &[("token", at)], Some(&auth)).await;
    assert_eq!(resp.status, 200);
    assert!(resp.body.is_empty());
    assert!(!ims.is_access_token_active(at));
    let target = format!("{}?client_id={}", paths::USERINFO, demo::WEB_CLIENT_ID);
    assert_eq!(get(&ims, &target, Some(at)).await.status, 401);
    let v = post_form(
        &ims,
        paths::VALIDATE,
        &[
            ("type", "access_token"),
            ("client_id", demo::WEB_CLIENT_ID),
            ("token", at),
        ],
        None,
    )
    .await
    .json();
    assert_eq!(v["reason"], "revoked");

    // Revoking the refresh token also revokes the grant's access tokens (RFC 7009).
    let resp = post_form(
        &ims,
        paths::TOKEN,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        Some(&auth),
    )
    .await;
    let fresh = resp.json();
    let (at2, rt2) = (
        fresh["access_token"].as_str().unwrap(),
        fresh["refresh_token"].as_str().unwrap(),
    );
    assert_eq!(
        post_form(&ims, paths::REVOKE, &[("token", rt2)], Some(&auth))
            .await
            .status,
        200
    );
    assert!(!ims.is_refresh_token_active(rt2));
    assert!(!ims.is_access_token_active(at2));

    // Public client: ?client_id=; wrong secret: 401; unknown token: 200.
    let verifier = PkceVerifier::generate().unwrap();
    let code = authorize_code(
        &ims,
        demo::SPA_CLIENT_ID,
        SPA_REDIRECT,
        "openid",
        Some(&verifier),
    )
    .await;
    let spa = post_form(
        &ims,
        paths::TOKEN,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", demo::SPA_CLIENT_ID),
            ("code", &code),
            ("redirect_uri", SPA_REDIRECT),
            ("code_verifier", verifier.expose_secret()),
        ],
        None,
    )
    .await
    .json();
    let spa_at = spa["access_token"].as_str().unwrap();
    let target = format!("{}?client_id={}", paths::REVOKE, demo::SPA_CLIENT_ID);
    assert_eq!(
        post_form(&ims, &target, &[("token", spa_at)], None)
            .await
            .status,
        200
    );
    assert!(!ims.is_access_token_active(spa_at));
    let resp = post_form(
        &ims,
        paths::REVOKE,
        &[("token", "x")],
        Some(&basic(demo::WEB_CLIENT_ID, "bad")),
    )
    .await;
    assert_eq!(resp.status, 401);
    assert_eq!(
        post_form(&ims, paths::REVOKE, &[("token", "unknown")], Some(&auth))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn invalidate_with_and_without_cascading() {
    let ims = demo_ims().await;
    let inv = |pairs: Vec<(&'static str, String)>| {
        let ims = &ims;
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(ims, paths::INVALIDATE, &pairs, None).await.status
        }
    };
    // Without cascading: the refresh token dies, the access token lives.
    let body = web_tokens(&ims, "openid offline_access").await;
    let (at, rt) = (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    );
    let status = inv(vec![
        ("token_type", "refresh_token".into()),
        ("token", rt.clone()),
        ("client_id", demo::WEB_CLIENT_ID.into()),
    ])
    .await;
    assert_eq!(status, 200);
    assert!(!ims.is_refresh_token_active(&rt));
    assert!(ims.is_access_token_active(&at));
    // With cascading=all: the access tokens of the grant die too.
    let body = web_tokens(&ims, "openid offline_access").await;
    let (at, rt) = (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    );
    let status = inv(vec![
        ("token_type", "refresh_token".into()),
        ("token", rt.clone()),
        ("client_id", demo::WEB_CLIENT_ID.into()),
        ("cascading", "all".into()),
    ])
    .await;
    assert_eq!(status, 200);
    assert!(!ims.is_access_token_active(&at));
    // Access token invalidation.
    let body = web_tokens(&ims, "openid").await;
    let at = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        inv(vec![
            ("token_type", "access_token".into()),
            ("token", at.clone()),
            ("client_id", demo::WEB_CLIENT_ID.into())
        ])
        .await,
        200
    );
    assert!(!ims.is_access_token_active(&at));
    // A service token needs the secret.
    let st = s2s_token(&ims).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        inv(vec![
            ("token_type", "service_token".into()),
            ("token", st.clone()),
            ("client_id", demo::S2S_CLIENT_ID.into())
        ])
        .await,
        401
    );
    assert!(ims.is_access_token_active(&st));
    assert_eq!(
        inv(vec![
            ("token_type", "service_token".into()),
            ("token", st.clone()),
            ("client_id", demo::S2S_CLIENT_ID.into()),
            ("client_secret", demo::S2S_SECRET.into())
        ])
        .await,
        200
    );
    assert!(!ims.is_access_token_active(&st));
    assert_eq!(
        inv(vec![
            ("token_type", "bogus".into()),
            ("token", st),
            ("client_id", demo::S2S_CLIENT_ID.into())
        ])
        .await,
        400
    );
}

#[tokio::test]
async fn discovery_lists_this_servers_endpoints() {
    let ims = demo_ims().await;
    let resp = get(&ims, paths::DISCOVERY, None).await;
    assert_eq!(resp.status, 200);
    let d = resp.json();
    assert_eq!(d["token_endpoint"], ims.token_url());
    assert_eq!(d["authorization_endpoint"], ims.authorize_url());
    assert_eq!(d["userinfo_endpoint"], ims.userinfo_url());
    assert_eq!(d["revocation_endpoint"], ims.revoke_url());
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    assert!(ims.base_url().starts_with("http://127.0.0.1:"));
    assert!(ims.addr().ip().is_loopback());
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_garbage_never_panic() {
    let ims = demo_ims().await;
    assert_eq!(get(&ims, "/nope", None).await.status, 404);
    let resp = get(&ims, paths::TOKEN, None).await;
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("allow"), Some("POST"));
    let resp = send(
        ims.addr(),
        "POST",
        paths::TOKEN,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"%%%\xff\xfe=&&==",
    )
    .await
    .unwrap();
    assert_eq!(resp.status, 400);
    // Not HTTP at all: hyper answers 400 or closes; the server keeps serving.
    let _ = raw(ims.addr(), b"\x00\x01garbage\r\n\r\n").await;
    assert_eq!(s2s_token(&ims).await.status, 200);
    let big = vec![b'a'; 1024 * 1024 + 1];
    let resp = send(
        ims.addr(),
        "POST",
        paths::TOKEN,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &big,
    )
    .await
    .unwrap();
    assert_eq!(resp.status, 413);
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn status_503_twice_then_success_counts_three_requests() {
    let ims = demo_ims().await;
    ims.inject(Fault::Status503, Times(2));
    for _ in 0..2 {
        let resp = s2s_token(&ims).await;
        assert_eq!(
            (resp.status, resp.error().as_str()),
            (503, "temporarily_unavailable")
        );
        assert!(resp.header("x-debug-id").is_some());
    }
    assert_eq!(s2s_token(&ims).await.status, 200);
    assert_eq!(ims.token_requests(), 3);
    assert_eq!(ims.grant_count("client_credentials"), 3);
    assert_eq!(ims.faults_fired(), 2);
    assert_eq!(ims.pending_faults(), 0);
    assert_eq!(ims.issued_access_tokens(), 1);
}

#[tokio::test]
async fn status_faults_with_and_without_json() {
    let ims = demo_ims().await;
    ims.inject(Fault::Status500, 1);
    let resp = s2s_token(&ims).await;
    assert_eq!((resp.status, resp.error().as_str()), (500, "server_error"));
    ims.inject(
        Fault::Status {
            status: 502,
            json_body: false,
        },
        1,
    );
    let resp = s2s_token(&ims).await;
    assert_eq!(resp.status, 502);
    assert!(resp.body.is_empty());
    ims.inject(
        Fault::Status {
            status: 504,
            json_body: true,
        },
        1,
    );
    assert_eq!(s2s_token(&ims).await.json()["error"], "server_error");
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_http_date() {
    let clock = ManualClock::new(Timestamp::from_unix_millis(1_700_000_000_250));
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients().clock(clock.clone()))
        .await
        .unwrap();
    ims.inject_on(paths::TOKEN, Fault::RetryAfter { secs: 2 }, 1);
    let resp = s2s_token(&ims).await;
    assert_eq!(resp.status, 429);
    assert_eq!(resp.header("retry-after"), Some("2"));
    assert_eq!(resp.error(), "too_many_requests");

    ims.inject_on(paths::TOKEN, Fault::RetryAfterDate { secs: 2 }, 1);
    let resp = s2s_token(&ims).await;
    assert_eq!(resp.status, 429);
    let date = httpdate::parse_http_date(resp.header("retry-after").unwrap()).unwrap();
    let secs = date
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(
        secs, 1_700_000_003,
        "now + 2 s, rounded up to a whole second"
    );
    assert_eq!(s2s_token(&ims).await.status, 200);
}

#[tokio::test]
async fn inject_on_one_path_leaves_others_alone() {
    let ims = demo_ims().await;
    ims.inject_on(paths::TOKEN, Fault::Status503, Schedule::Always);
    assert_eq!(get(&ims, paths::DISCOVERY, None).await.status, 200);
    assert_eq!(s2s_token(&ims).await.status, 503);
    assert_eq!(s2s_token(&ims).await.status, 503);
    ims.clear_faults();
    assert_eq!(s2s_token(&ims).await.status, 200);
    assert_eq!(ims.requests_to(paths::DISCOVERY), 1);
    assert_eq!(ims.total_requests(), 4);
}

#[tokio::test]
async fn every_nth_schedule() {
    let ims = demo_ims().await;
    ims.inject(Fault::Status500, Schedule::EveryNth(2));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(s2s_token(&ims).await.status);
    }
    assert_eq!(statuses, [200, 500, 200, 500]);
}

#[tokio::test]
async fn slow_response_then_normal_answer() {
    let ims = demo_ims().await;
    ims.inject(Fault::slow_millis(300), 1);
    let ims = std::sync::Arc::new(ims);
    let in_flight = tokio::spawn({
        let ims = std::sync::Arc::clone(&ims);
        async move { s2s_token(&ims).await.status }
    });
    // The request is received and recorded, but held: nothing is issued while it waits.
    tokio::time::timeout(Duration::from_secs(5), async {
        while ims.requests_to(paths::TOKEN) == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    assert_eq!(ims.issued_access_tokens(), 0);
    assert_eq!(in_flight.await.unwrap(), 200);
    assert_eq!(ims.issued_access_tokens(), 1);
}

#[tokio::test]
async fn body_faults() {
    let ims = demo_ims().await;

    ims.inject(Fault::MalformedJson, 1);
    let resp = s2s_token(&ims).await;
    assert_eq!(resp.status, 200);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(serde_json::from_slice::<Value>(&resp.body).is_err());

    ims.inject(Fault::HalfJson, 1);
    let resp = s2s_token(&ims).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_length(), Some(resp.body.len()));
    assert!(serde_json::from_slice::<Value>(&resp.body).is_err());
    assert!(resp.body.starts_with(b"{\"access_token\""));

    ims.inject(Fault::TruncatedBody, 1);
    let resp = s2s_token(&ims).await;
    assert_eq!(resp.status, 200);
    let declared = resp.content_length().unwrap();
    assert!(!resp.body.is_empty());
    assert!(
        resp.body.len() < declared,
        "{} of {declared} bytes",
        resp.body.len()
    );

    ims.inject(Fault::proxy_error_page(), 1);
    let resp = s2s_token(&ims).await;
    assert_eq!(resp.status, 502);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(String::from_utf8_lossy(&resp.body).contains("<html>"));
    assert!(resp.header("x-debug-id").is_some());

    ims.inject(Fault::HtmlBody { status: 200 }, 1);
    assert_eq!(s2s_token(&ims).await.status, 200);

    ims.inject(Fault::oversized(), 1);
    let resp = s2s_token(&ims).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body.len(), 2 * 1024 * 1024);
    assert_eq!(resp.content_length(), Some(2 * 1024 * 1024));
    assert!(resp.json()["padding"].is_string());

    ims.inject(Fault::Oversized { bytes: 10 }, 1);
    assert!(
        s2s_token(&ims).await.json().is_object(),
        "smallest valid object"
    );

    assert_eq!(ims.token_requests(), 7);
    assert_eq!(ims.issued_access_tokens(), 0);
    assert_eq!(s2s_token(&ims).await.status, 200);
}

#[tokio::test]
async fn dropped_connection_sends_nothing_then_recovers() {
    let ims = demo_ims().await;
    ims.inject_on(paths::TOKEN, Fault::DropConnection, 1);
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials",
        paths::TOKEN
    );
    match raw(ims.addr(), request.as_bytes()).await {
        Ok(bytes) => assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes)),
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
    }
    assert_eq!(ims.token_requests(), 1);
    assert_eq!(ims.grant_count("client_credentials"), 1);
    assert_eq!(s2s_token(&ims).await.status, 200);
}

#[tokio::test]
async fn reset_connection_is_a_tcp_reset_then_recovers() {
    let ims = demo_ims().await;
    ims.inject_on(paths::TOKEN, Fault::ResetConnection, 1);
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials",
        paths::TOKEN
    );
    let error = raw(ims.addr(), request.as_bytes()).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}");
    assert_eq!(ims.token_requests(), 1);
    assert_eq!(ims.faults_fired(), 1);
    assert_eq!(
        ims.issued_access_tokens(),
        0,
        "a reset request changes nothing"
    );
    assert_eq!(s2s_token(&ims).await.status, 200);
}

#[tokio::test]
async fn random_cycle_of_faults_hits_about_its_share() {
    let ims = demo_ims().await;
    ims.inject_on(
        paths::TOKEN,
        Fault::Cycle(vec![Fault::Status500, Fault::RetryAfter { secs: 1 }]),
        Schedule::Random {
            percent: 50,
            seed: 42,
        },
    );
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(s2s_token(&ims).await.status);
    }
    let faulted: Vec<u16> = statuses.iter().copied().filter(|&s| s != 200).collect();
    assert!((8..=32).contains(&faulted.len()), "{statuses:?}");
    // The faults alternate: 500, 429, 500, ...
    for (i, status) in faulted.iter().enumerate() {
        assert_eq!(*status, if i % 2 == 0 { 500 } else { 429 }, "{statuses:?}");
    }
    assert_eq!(ims.faults_fired(), faulted.len() as u64);
    assert_eq!(
        ims.pending_faults(),
        1,
        "a random schedule runs until cleared"
    );
    assert_eq!(
        ims.issued_access_tokens(),
        statuses.len() - faulted.len(),
        "faulted requests issue nothing"
    );
}

// ---------------------------------------------------------------------------------------------
// Observability, lifecycle
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn debug_ids_are_unique_and_requests_are_recorded() {
    let ims = demo_ims().await;
    let mut ids = HashSet::new();
    for _ in 0..5 {
        let resp = get(&ims, paths::DISCOVERY, None).await;
        assert!(ids.insert(resp.header("x-debug-id").unwrap().to_owned()));
    }
    s2s_token(&ims).await;
    let last = ims.last_request(paths::TOKEN).unwrap();
    assert_eq!(last.method, "POST");
    assert_eq!(last.form_value("client_id"), Some(demo::S2S_CLIENT_ID));
    assert_eq!(
        last.form_value("scope"),
        Some("openid,AdobeID,frame.s2s.all")
    );
    assert_eq!(
        last.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(ims.last_request("/never").is_none());
    assert_eq!(ims.requests_to("/never"), 0);
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let ims = demo_ims().await;
    let addr = ims.addr();
    assert_eq!(s2s_token(&ims).await.status, 200);
    ims.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());

    let ims = demo_ims().await;
    let addr = ims.addr();
    drop(ims);
    // The aborted task releases the listener once the runtime has run the cancellation.
    let mut refused = false;
    for _ in 0..50 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients() {
    let ims = std::sync::Arc::new(demo_ims().await);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let ims = std::sync::Arc::clone(&ims);
        tasks.push(tokio::spawn(async move { s2s_token(&ims).await.status }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(ims.issued_access_tokens(), 20);
}
