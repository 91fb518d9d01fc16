//! The token endpoint client against canned loopback HTTP servers: client authentication,
//! grants, retries on the injected clock, permanent errors and bad bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{CannedServer, Reply, json, reply, token_ok};
use frameio_auth_core::{
    AuthError, AuthorizationCode, ClientSecret, Clock, ErrorKind, ManualClock, NeedsLoginReason,
    OAuthErrorCode, PkceVerifier, ProtocolError, RefreshToken, Scopes, Timestamp,
};
use frameio_auth_oauth::{
    ClientAuth, Grant, RetryPolicy, ScopeFormat, SecureUrl, TokenClient, TokenClientBuilder,
    TransportSettings,
};

const START: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

/// Settings whose time is `clock`.
fn manual(clock: &ManualClock) -> TransportSettings {
    TransportSettings::new()
        .clock(clock.clone())
        .sleeper(clock.clone())
}

fn builder(server: &CannedServer, auth: ClientAuth, clock: &ManualClock) -> TokenClientBuilder {
    TokenClient::builder(
        SecureUrl::parse(&server.url("/ims/token/v3")).unwrap(),
        auth,
    )
    .transport(manual(clock))
}

fn client(server: &CannedServer, clock: &ManualClock) -> TokenClient {
    builder(
        server,
        ClientAuth::request_body("cid", ClientSecret::new("csecret")),
        clock,
    )
    .build()
    .unwrap()
}

fn s2s() -> Grant {
    Grant::client_credentials(
        &Scopes::parse("openid AdobeID").unwrap(),
        ScopeFormat::CommaSeparated,
    )
}

fn waited(clock: &ManualClock) -> Duration {
    clock.now().saturating_duration_since(START)
}

#[tokio::test]
async fn basic_auth_form_encodes_odd_ids_and_secrets() {
    let server = CannedServer::start(vec![token_ok()]).await;
    let clock = ManualClock::new(START);
    let id = "id:with colon/é+";
    let secret = "p@ss:w rd+/=%é\"";
    builder(
        &server,
        ClientAuth::basic(id, ClientSecret::new(secret)),
        &clock,
    )
    .build()
    .unwrap()
    .request_token(&s2s())
    .await
    .unwrap();
    let request = &server.requests()[0];
    let header = request.header("authorization").unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(header.strip_prefix("Basic ").unwrap())
        .unwrap();
    let decoded = String::from_utf8(decoded).unwrap();
    // Both halves are form-urlencoded, so the first `:` is the separator.
    let (enc_id, enc_secret) = decoded.split_once(':').unwrap();
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned()
    };
    assert_eq!(unescape(enc_id), id);
    assert_eq!(unescape(enc_secret), secret);
    assert!(!enc_secret.contains(' ') && !enc_id.contains(':'));
    // Nothing about the client goes in the body with Basic.
    assert_eq!(request.form_value("client_id"), None);
    assert_eq!(request.form_value("client_secret"), None);
}

#[tokio::test]
async fn body_basic_and_public_forms() {
    let clock = ManualClock::new(START);
    let cases = [
        (
            ClientAuth::basic("cid", ClientSecret::new("sec")),
            true,
            None,
            None,
            false,
        ),
        (
            ClientAuth::request_body("cid", ClientSecret::new("sec")),
            false,
            Some("cid"),
            Some("sec"),
            false,
        ),
        (ClientAuth::public("cid"), false, Some("cid"), None, false),
        (ClientAuth::public_in_query("cid"), false, None, None, true),
    ];
    for (auth, basic, body_id, body_secret, query_id) in cases {
        let server = CannedServer::start(vec![token_ok()]).await;
        builder(&server, auth.clone(), &clock)
            .build()
            .unwrap()
            .request_token(&s2s())
            .await
            .unwrap();
        let request = &server.requests()[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.header("authorization").is_some(), basic, "{auth:?}");
        assert_eq!(
            request.form_value("client_id").as_deref(),
            body_id,
            "{auth:?}"
        );
        assert_eq!(
            request.form_value("client_secret").as_deref(),
            body_secret,
            "{auth:?}"
        );
        let expected_target = if query_id {
            "/ims/token/v3?client_id=cid"
        } else {
            "/ims/token/v3"
        };
        assert_eq!(request.target, expected_target, "{auth:?}");
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(request.header("accept"), Some("application/json"));
        assert!(
            request
                .header("user-agent")
                .unwrap()
                .starts_with("frameio-auth/")
        );
        assert_eq!(
            request.form_value("grant_type").as_deref(),
            Some("client_credentials")
        );
        assert_eq!(
            request.form_value("scope").as_deref(),
            Some("AdobeID,openid")
        );
    }
}

#[tokio::test]
async fn each_grant_sends_its_fields_and_returns_tokens() {
    let server = CannedServer::start(vec![json(
        200,
        r#"{"access_token":"at-9","refresh_token":"rt-9","token_type":"bearer","expires_in":86399}"#,
    )])
    .await;
    let clock = ManualClock::new(START);
    let client = builder(&server, ClientAuth::public("spa"), &clock)
        .build()
        .unwrap();

    let verifier = PkceVerifier::generate().unwrap();
    let tokens = client
        .request_token(&Grant::authorization_code(
            AuthorizationCode::new("the code"),
            "https://localhost:8443/cb",
            Some(verifier.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "at-9");
    assert_eq!(tokens.refresh_token().unwrap().expose_secret(), "rt-9");
    assert_eq!(tokens.issued_at(), START);
    assert_eq!(
        tokens.expires_at(),
        Some(START.saturating_add(Duration::from_secs(86_399)))
    );

    client
        .request_token(&Grant::refresh_token(RefreshToken::new("rt-old")))
        .await
        .unwrap();
    client
        .request_token(&Grant::refresh_token_with_scopes(
            RefreshToken::new("rt-old"),
            &Scopes::parse("offline asset.read").unwrap(),
            ScopeFormat::SpaceSeparated,
        ))
        .await
        .unwrap();

    let requests = server.requests();
    let form = |i: usize| requests[i].form();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        form(0),
        pairs(&[
            ("grant_type", "authorization_code"),
            ("code", "the code"),
            ("redirect_uri", "https://localhost:8443/cb"),
            ("code_verifier", verifier.expose_secret()),
            ("client_id", "spa"),
        ])
    );
    assert_eq!(
        form(1),
        pairs(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt-old"),
            ("client_id", "spa")
        ])
    );
    assert_eq!(
        form(2),
        pairs(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt-old"),
            ("scope", "asset.read offline"),
            ("client_id", "spa"),
        ])
    );
}

#[tokio::test]
async fn retries_503_twice_then_succeeds_with_three_requests() {
    let server = CannedServer::start(vec![
        reply(503, &[], "busy"),
        reply(503, &[], "busy"),
        token_ok(),
    ])
    .await;
    let clock = ManualClock::new(START);
    let tokens = client(&server, &clock).request_token(&s2s()).await.unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "at-1");
    assert_eq!(server.count(), 3);
    // Full jitter: each wait is within [0, base * 2^n].
    assert!(
        waited(&clock) <= Duration::from_millis(500 + 1000),
        "{:?}",
        waited(&clock)
    );
    // The tokens are stamped with the time the successful attempt was sent.
    assert_eq!(tokens.issued_at(), clock.now());
}

#[tokio::test]
async fn retry_after_seconds_waits_on_the_injected_clock() {
    let server = CannedServer::start(vec![
        json(429, r#"{"error":"too_many_requests"}"#).with_header("Retry-After", "2"),
        token_ok(),
    ])
    .await;
    let clock = ManualClock::new(START);
    client(&server, &clock).request_token(&s2s()).await.unwrap();
    assert_eq!(server.count(), 2);
    assert_eq!(waited(&clock), Duration::from_secs(2));
}

#[tokio::test]
async fn retry_after_http_date_is_relative_to_the_clock() {
    let clock = ManualClock::new(START);
    let date = httpdate::fmt_http_date(
        std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(START.as_unix_secs() + 3),
    );
    let server = CannedServer::start(vec![
        reply(503, &[("Retry-After", &date)], "maintenance"),
        token_ok(),
    ])
    .await;
    client(&server, &clock).request_token(&s2s()).await.unwrap();
    assert_eq!(waited(&clock), Duration::from_secs(3));
}

#[tokio::test]
async fn retry_after_is_capped() {
    let server =
        CannedServer::start(vec![reply(429, &[("Retry-After", "3600")], ""), token_ok()]).await;
    let clock = ManualClock::new(START);
    builder(&server, ClientAuth::public("cid"), &clock)
        .transport(
            manual(&clock)
                .retry_policy(RetryPolicy::default().with_max_retry_after(Duration::from_secs(5))),
        )
        .build()
        .unwrap()
        .request_token(&s2s())
        .await
        .unwrap();
    assert_eq!(waited(&clock), Duration::from_secs(5));
}

#[tokio::test]
async fn invalid_grant_is_one_request_and_needs_login() {
    let server = CannedServer::start(vec![
        json(
            400,
            r#"{"error":"invalid_grant","error_description":"refresh token expired"}"#,
        )
        .with_header("x-debug-id", "dbg-42"),
    ])
    .await;
    let clock = ManualClock::new(START);
    let err = client(&server, &clock)
        .request_token(&Grant::refresh_token(RefreshToken::new("rt")))
        .await
        .unwrap_err();
    assert_eq!(server.count(), 1);
    assert_eq!(waited(&clock), Duration::ZERO);
    assert_eq!(err.kind(), ErrorKind::NeedsLogin);
    assert!(matches!(
        &err,
        AuthError::NeedsLogin { reason: NeedsLoginReason::InvalidGrant { description: Some(d) }, .. }
            if d == "refresh token expired"
    ));
    assert_eq!(err.debug_id(), Some("dbg-42"));
    assert!(err.to_string().contains("x-debug-id: dbg-42"), "{err}");
}

#[tokio::test]
async fn permanent_errors_are_never_retried() {
    let cases = [
        (
            401,
            r#"{"error":"invalid_client"}"#,
            ErrorKind::InvalidClient,
        ),
        (400, r#"{"error":"invalid_scope"}"#, ErrorKind::Rejected),
        (
            400,
            r#"{"error":"unauthorized_client"}"#,
            ErrorKind::Rejected,
        ),
        (400, r#"{"error":"invalid_request"}"#, ErrorKind::Rejected),
        (403, "forbidden", ErrorKind::Protocol),
        (404, "<html>not found</html>", ErrorKind::Protocol),
        (302, "", ErrorKind::Protocol),
    ];
    for (status, body, kind) in cases {
        let server = CannedServer::start(vec![
            reply(
                status,
                &[
                    ("x-debug-id", "dbg-p"),
                    ("Location", "https://elsewhere.example/"),
                ],
                body,
            ),
            token_ok(),
        ])
        .await;
        let clock = ManualClock::new(START);
        let err = client(&server, &clock)
            .request_token(&s2s())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{status} {body}");
        assert_eq!(
            server.count(),
            1,
            "{status} {body}: a redirect or 4xx must not be retried or followed"
        );
        assert_eq!(err.debug_id(), Some("dbg-p"));
    }
}

#[tokio::test]
async fn transient_failures_stop_after_max_attempts_keeping_the_debug_id() {
    let server = CannedServer::start(vec![reply(
        500,
        &[("x-debug-id", "dbg-5")],
        "<html>oops</html>",
    )])
    .await;
    let clock = ManualClock::new(START);
    let err = client(&server, &clock)
        .request_token(&s2s())
        .await
        .unwrap_err();
    assert_eq!(server.count(), 4);
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.debug_id(), Some("dbg-5"));
    let text = err.to_string();
    assert!(text.contains("HTTP 500") && text.contains("oops"), "{text}");
}

#[tokio::test]
async fn the_overall_deadline_stops_retries_early() {
    let server = CannedServer::start(vec![reply(429, &[("Retry-After", "40")], "")]).await;
    let clock = ManualClock::new(START);
    let err = client(&server, &clock)
        .request_token(&s2s())
        .await
        .unwrap_err();
    // 40 s fit in the 60 s deadline once; a second 40 s wait would not.
    assert_eq!(server.count(), 2);
    assert_eq!(waited(&clock), Duration::from_secs(40));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(40)));
}

#[tokio::test]
async fn oversized_bodies_fail_fast() {
    let clock = ManualClock::new(START);
    // Announced by Content-Length: refused before reading.
    let big = format!(
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{{",
        2 * 1024 * 1024
    );
    let server = CannedServer::start(vec![Reply::Raw(big.into_bytes())]).await;
    let err = client(&server, &clock)
        .request_token(&s2s())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::Protocol {
                source: ProtocolError::BodyTooLarge { limit: 1_048_576 },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);

    // Streamed without a length: refused once it passes the cap.
    let mut chunked =
        String::from("HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..8 {
        chunked.push_str("400\r\n");
        chunked.push_str(&"a".repeat(0x400));
        chunked.push_str("\r\n");
    }
    chunked.push_str("0\r\n\r\n");
    let server = CannedServer::start(vec![Reply::Raw(chunked.into_bytes())]).await;
    let err = builder(&server, ClientAuth::public("cid"), &clock)
        .transport(manual(&clock).max_body_bytes(4096))
        .build()
        .unwrap()
        .request_token(&s2s())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("4096-byte limit"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

#[tokio::test]
async fn html_body_gives_status_and_redacted_excerpt() {
    let server = CannedServer::start(vec![reply(
        200,
        &[("Content-Type", "text/html")],
        "<html><body><h1>Corporate proxy: sign in</h1> token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl</body></html>",
    )])
    .await;
    let clock = ManualClock::new(START);
    let err = client(&server, &clock)
        .request_token(&s2s())
        .await
        .unwrap_err();
    match &err {
        AuthError::Protocol {
            source: ProtocolError::UnexpectedResponse { status, excerpt },
            ..
        } => {
            assert_eq!(*status, 200);
            assert!(excerpt.contains("Corporate proxy"), "{excerpt}");
            assert!(
                excerpt.contains("[redacted]") && !excerpt.contains("eyJ"),
                "{excerpt}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn malformed_json_is_a_protocol_error() {
    let server = CannedServer::start(vec![
        json(200, r#"{"access_token": 5"#),
        json(200, r#"{"expires_in":5}"#),
    ])
    .await;
    let clock = ManualClock::new(START);
    let client = client(&server, &clock);
    let err = client.request_token(&s2s()).await.unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::Protocol {
                source: ProtocolError::UnexpectedResponse { .. }
                    | ProtocolError::MalformedJson { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let err = client.request_token(&s2s()).await.unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::Protocol {
                source: ProtocolError::MissingField {
                    field: "access_token"
                },
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn truncated_body_is_retried_then_reported_clearly() {
    let truncated = Reply::Raw(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 300\r\n\r\n{\"access_token\":\"at-".to_vec(),
    );
    let server = CannedServer::start(vec![truncated.clone(), token_ok()]).await;
    let clock = ManualClock::new(START);
    client(&server, &clock).request_token(&s2s()).await.unwrap();
    assert_eq!(server.count(), 2);

    let server = CannedServer::start(vec![truncated]).await;
    let err = client(&server, &clock)
        .request_token(&s2s())
        .await
        .unwrap_err();
    assert_eq!(server.count(), 4);
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    let server = CannedServer::start(vec![Reply::Drop, token_ok()]).await;
    let clock = ManualClock::new(START);
    let tokens = client(&server, &clock).request_token(&s2s()).await.unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "at-1");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn connection_refused_is_transient_and_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    drop(listener);
    let clock = ManualClock::new(START);
    let err = TokenClient::builder(SecureUrl::parse(&url).unwrap(), ClientAuth::public("cid"))
        .transport(manual(&clock).retry_policy(RetryPolicy::default().without_jitter()))
        .build()
        .unwrap()
        .request_token(&s2s())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.to_string().contains("cannot connect"), "{err}");
    // Three waits without jitter: 0.5 + 1 + 2 s.
    assert_eq!(waited(&clock), Duration::from_millis(3500));
}

#[tokio::test]
async fn attempt_timeout_is_retried() {
    let server = CannedServer::start(vec![Reply::Hang, token_ok()]).await;
    let clock = ManualClock::new(START);
    builder(&server, ClientAuth::public("cid"), &clock)
        .transport(manual(&clock).attempt_timeout(Duration::from_millis(200)))
        .build()
        .unwrap()
        .request_token(&s2s())
        .await
        .unwrap();
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn server_error_in_a_400_body_is_transient() {
    let server = CannedServer::start(vec![
        json(400, r#"{"error":"temporarily_unavailable"}"#),
        token_ok(),
    ])
    .await;
    let clock = ManualClock::new(START);
    client(&server, &clock).request_token(&s2s()).await.unwrap();
    assert_eq!(server.count(), 2);
}

#[test]
fn https_is_required_except_for_loopback() {
    let err = SecureUrl::parse("http://ims-na1.adobelogin.com/ims/token/v3").unwrap_err();
    assert!(err.message().contains("https"), "{err}");
    for ok in [
        "http://127.0.0.1:1/t",
        "http://[::1]:1/t",
        "http://localhost:1/t",
        "https://example.com/t",
    ] {
        assert!(SecureUrl::parse(ok).is_ok(), "{ok}");
    }
}

#[test]
fn builder_rejects_unusable_settings() {
    let url = SecureUrl::parse("https://example.com/token").unwrap();
    let auth = ClientAuth::public("cid");
    assert!(
        TokenClient::builder(url.clone(), ClientAuth::public(""))
            .build()
            .is_err()
    );
    assert!(
        TokenClient::builder(
            url.clone(),
            ClientAuth::basic("cid", ClientSecret::new(" "))
        )
        .build()
        .is_err()
    );
    assert!(
        TokenClient::builder(url.clone(), auth.clone())
            .transport(TransportSettings::new().max_body_bytes(0))
            .build()
            .is_err()
    );
    assert!(
        TokenClient::builder(url.clone(), auth.clone())
            .transport(TransportSettings::new().max_body_bytes(2 << 20))
            .build()
            .is_err()
    );
    assert!(
        TokenClient::builder(url.clone(), auth.clone())
            .transport(TransportSettings::new().attempt_timeout(Duration::ZERO))
            .build()
            .is_err()
    );
    let client = TokenClient::builder(url, auth).build().unwrap();
    assert_eq!(client.client_id(), "cid");
    assert_eq!(client.retry_policy(), RetryPolicy::default());
    let shown = format!("{client:?}");
    assert!(shown.contains("example.com"), "{shown}");
}

#[test]
fn oauth_error_codes_survive() {
    // A compile-time reminder that callers can match on the code of a rejection.
    let err = AuthError::from_oauth(
        frameio_auth_core::OAuthErrorResponse::from_parts("invalid_scope", None, None),
        Some(400),
        None,
        None,
    );
    assert!(
        matches!(err, AuthError::Rejected { error, .. } if error.error == OAuthErrorCode::InvalidScope)
    );
}

#[tokio::test]
async fn the_user_agent_is_ours_unless_set() {
    let server = CannedServer::start(vec![token_ok()]).await;
    let clock = ManualClock::new(START);
    client(&server, &clock).request_token(&s2s()).await.unwrap();
    builder(&server, ClientAuth::public("cid"), &clock)
        .transport(manual(&clock).user_agent("my-tool/1.0 frameio-auth"))
        .build()
        .unwrap()
        .request_token(&s2s())
        .await
        .unwrap();
    let agents: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("user-agent").unwrap().to_owned())
        .collect();
    assert_eq!(
        agents,
        [frameio_auth_oauth::USER_AGENT, "my-tool/1.0 frameio-auth"]
    );
}

#[tokio::test]
async fn an_explicit_proxy_carries_requests_to_real_endpoints_and_never_to_loopback() {
    let proxy = CannedServer::start(vec![token_ok(), token_ok()]).await;
    let clock = ManualClock::new(START);
    let via_proxy = manual(&clock)
        .retry_policy(RetryPolicy::no_retries())
        .proxy(frameio_auth_oauth::reqwest::Proxy::all(proxy.url("")).unwrap());
    let client = |url: &str, settings: TransportSettings| {
        TokenClient::builder(SecureUrl::parse(url).unwrap(), ClientAuth::public("cid"))
            .transport(settings)
            .build()
            .unwrap()
    };

    // A real endpoint: the proxy is asked to tunnel to it (and, being canned, fails the TLS
    // that follows; nothing leaves the machine).
    let real = "https://ims-na1.adobelogin.example/ims/token/v3";
    let _ = client(real, via_proxy.clone()).request_token(&s2s()).await;
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].target, "ims-na1.adobelogin.example:443",
        "a CONNECT tunnel"
    );

    // Loopback (plain http, secrets in the clear): never through the proxy. The port is
    // closed, so only the proxy could have answered.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let loopback = format!("http://{}/token", closed.local_addr().unwrap());
    drop(closed);
    let err = client(&loopback, via_proxy.clone())
        .request_token(&s2s())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(proxy.count(), 1, "the proxy saw a loopback request");
}
