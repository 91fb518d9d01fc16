//! The RFC 8252 loopback receiver, driven by a real HTTP client standing in for the browser.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

use std::net::IpAddr;
use std::time::Duration;

use frameio_auth_core::{AuthError, ManualClock, OAuthErrorCode};
use frameio_auth_oauth::{
    AuthorizationRequest, LoopbackError, LoopbackReceiver, LoopbackReceiverBuilder,
    PendingAuthorization, RedirectHost, SecureUrl,
};

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn pending_for(receiver: &LoopbackReceiver) -> (url::Url, PendingAuthorization) {
    AuthorizationRequest::new(
        SecureUrl::parse("https://ims.example/ims/authorize/v2").unwrap(),
        "cid",
        receiver.redirect_uri(),
    )
    .build()
    .unwrap()
}

fn callback(receiver_uri: &str, query: &[(&str, &str)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{receiver_uri}?{query}")
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn bind(builder: LoopbackReceiverBuilder) -> LoopbackReceiver {
    builder.bind().await.unwrap()
}

#[tokio::test]
async fn the_right_callback_gives_the_code() {
    let receiver = bind(LoopbackReceiver::builder()).await;
    let uri = receiver.redirect_uri().to_owned();
    assert!(
        uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"),
        "{uri}"
    );
    let (url, pending) = pending_for(&receiver);
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "redirect_uri" && v == uri)
    );
    let state = pending.state().expose_secret().to_owned();
    let waiter = tokio::spawn(async move { receiver.wait_for_code(&pending).await });

    let client = browser();
    let (status, page) = get(
        &client,
        &callback(&uri, &[("code", "the-code"), ("state", &state)]),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("signed in"), "{page}");
    let code = waiter.await.unwrap().unwrap();
    assert_eq!(code.expose_secret(), "the-code");
}

#[tokio::test]
async fn wrong_state_and_stray_requests_are_refused_and_it_keeps_waiting() {
    let receiver = bind(LoopbackReceiver::builder().path("/cb")).await;
    let uri = receiver.redirect_uri().to_owned();
    let base = uri.trim_end_matches("/cb").to_owned();
    let (_, pending) = pending_for(&receiver);
    let state = pending.state().expose_secret().to_owned();
    let waiter = tokio::spawn(async move { receiver.wait_for_code(&pending).await });
    let client = browser();

    let (status, page) = get(
        &client,
        &callback(&uri, &[("code", "forged"), ("state", "guess")]),
    )
    .await;
    assert_eq!(status, 400);
    assert!(page.contains("does not belong"), "{page}");
    // A forged error without our state must not end the login either.
    let (status, _) = get(&client, &callback(&uri, &[("error", "access_denied")])).await;
    assert_eq!(status, 400);
    let (status, _) = get(&client, &callback(&uri, &[("code", "no-state")])).await;
    assert_eq!(status, 400);
    let (status, _) = get(&client, &format!("{base}/favicon.ico")).await;
    assert_eq!(status, 404);
    let (status, _) = get(&client, &format!("{base}/")).await;
    assert_eq!(status, 404);
    let status = client.post(&uri).send().await.unwrap().status().as_u16();
    assert_eq!(status, 405);
    assert!(!waiter.is_finished(), "the receiver must still be waiting");

    let (status, _) = get(
        &client,
        &callback(&uri, &[("state", &state), ("code", "real")]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(waiter.await.unwrap().unwrap().expose_secret(), "real");
}

#[tokio::test]
async fn error_callbacks_become_typed_errors() {
    for (code, expected) in [
        ("access_denied", OAuthErrorCode::AccessDenied),
        ("invalid_scope", OAuthErrorCode::InvalidScope),
        ("login_required", OAuthErrorCode::LoginRequired),
    ] {
        let receiver = bind(LoopbackReceiver::builder()).await;
        let uri = receiver.redirect_uri().to_owned();
        let (_, pending) = pending_for(&receiver);
        let state = pending.state().expose_secret().to_owned();
        let waiter = tokio::spawn(async move { receiver.wait_for_code(&pending).await });
        let (status, page) = get(
            &browser(),
            &callback(
                &uri,
                &[
                    ("error", code),
                    ("error_description", "nope"),
                    ("state", &state),
                ],
            ),
        )
        .await;
        assert_eq!(status, 400);
        assert!(
            page.contains("Sign-in failed") && page.contains(code),
            "{page}"
        );
        match waiter.await.unwrap() {
            Err(LoopbackError::Authorization(AuthError::Rejected {
                error,
                status: None,
                ..
            })) => {
                assert_eq!(error.error, expected);
                assert_eq!(error.description.as_deref(), Some("nope"));
            }
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_deadline_gives_a_timeout() {
    // On the manual clock the deadline passes at once, without waiting.
    let receiver = bind(
        LoopbackReceiver::builder()
            .deadline(Duration::from_secs(300))
            .sleeper(ManualClock::default()),
    )
    .await;
    let (_, pending) = pending_for(&receiver);
    let err = receiver.wait_for_code(&pending).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("300s"), "{err}");

    // On the real clock, with a short deadline.
    let receiver = bind(LoopbackReceiver::builder().deadline(Duration::from_millis(50))).await;
    let (_, pending) = pending_for(&receiver);
    assert!(matches!(
        receiver.wait_for_code(&pending).await,
        Err(LoopbackError::TimedOut { after }) if after == Duration::from_millis(50)
    ));
}

#[tokio::test]
async fn https_mode_works_with_a_client_that_trusts_the_certificate() {
    let https = LoopbackReceiver::builder().https().bind().await.unwrap();
    // The certificate is there by type: no Option to unwrap.
    let pem = https.certificate_pem().to_owned();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let der = https.certificate_der().to_vec();
    assert!(https.receiver().is_https());
    let receiver: LoopbackReceiver = https.into();
    assert!(receiver.is_https());
    let uri = receiver.redirect_uri().to_owned();
    assert!(uri.starts_with("https://localhost:"), "{uri}");
    let addr = receiver.local_addr();
    let (_, pending) = pending_for(&receiver);
    let state = pending.state().expose_secret().to_owned();
    let waiter = tokio::spawn(async move { receiver.wait_for_code(&pending).await });

    // A client that does not trust the certificate cannot talk to it...
    let untrusting = reqwest::Client::builder()
        .no_proxy()
        .resolve("localhost", addr)
        .build()
        .unwrap();
    assert!(untrusting.get(&uri).send().await.is_err());

    // ...one that trusts it (DER here; the PEM works the same) can.
    let trusting = reqwest::Client::builder()
        .no_proxy()
        .resolve("localhost", addr)
        .tls_certs_only([reqwest::Certificate::from_der(&der).unwrap()])
        .build()
        .unwrap();
    reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    let (status, page) = get(
        &trusting,
        &callback(&uri, &[("code", "tls-code"), ("state", &state)]),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(waiter.await.unwrap().unwrap().expose_secret(), "tls-code");
}

#[tokio::test]
async fn it_refuses_to_bind_a_non_loopback_address() {
    for address in ["0.0.0.0", "192.168.1.10", "8.8.8.8", "::", "::1"] {
        let address: IpAddr = address.parse().unwrap();
        let err = LoopbackReceiver::builder()
            .address(address)
            .bind()
            .await
            .unwrap_err();
        assert!(
            matches!(err, LoopbackError::NonLoopbackAddress { address: a } if a == address),
            "{address}: {err:?}"
        );
    }
    // Other 127/8 addresses are loopback too.
    let receiver = bind(LoopbackReceiver::builder().address("127.0.0.1".parse().unwrap())).await;
    assert!(receiver.local_addr().ip().is_loopback());
}

#[tokio::test]
async fn a_given_port_is_used_and_a_busy_port_is_a_bind_error() {
    let first = bind(LoopbackReceiver::builder()).await;
    let port = first.local_addr().port();
    let err = LoopbackReceiver::builder()
        .port(port)
        .bind()
        .await
        .unwrap_err();
    assert!(matches!(err, LoopbackError::Bind { .. }), "{err:?}");
    drop(first);
    let again = bind(
        LoopbackReceiver::builder()
            .port(port)
            .redirect_host(RedirectHost::Localhost),
    )
    .await;
    assert_eq!(
        again.redirect_uri(),
        format!("http://localhost:{port}/callback")
    );
}

#[tokio::test]
async fn misuse_is_reported() {
    for path in ["callback", "/a?b", "/a#b", "/a b"] {
        let err = LoopbackReceiver::builder()
            .path(path)
            .bind()
            .await
            .unwrap_err();
        assert!(
            matches!(err, LoopbackError::InvalidPath { .. }),
            "{path}: {err:?}"
        );
    }
    let receiver = bind(LoopbackReceiver::builder()).await;
    let (_, pending) = AuthorizationRequest::new(
        SecureUrl::parse("https://ims.example/a").unwrap(),
        "cid",
        "http://127.0.0.1:1/elsewhere",
    )
    .build()
    .unwrap();
    let err = receiver.wait_for_code(&pending).await.unwrap_err();
    assert!(
        matches!(err, LoopbackError::RedirectUriMismatch { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn requests_before_waiting_are_queued_not_lost() {
    let receiver = bind(LoopbackReceiver::builder()).await;
    let uri = receiver.redirect_uri().to_owned();
    let (_, pending) = pending_for(&receiver);
    let state = pending.state().expose_secret().to_owned();
    let browser_side = tokio::spawn(async move {
        get(
            &browser(),
            &callback(&uri, &[("code", "early"), ("state", &state)]),
        )
        .await
    });
    tokio::task::yield_now().await;
    let code = receiver.wait_for_code(&pending).await.unwrap();
    assert_eq!(code.expose_secret(), "early");
    assert_eq!(browser_side.await.unwrap().0, 200);
}

#[tokio::test]
async fn https_builders_keep_their_settings_and_plain_receivers_are_http() {
    let https = LoopbackReceiver::builder()
        .path("/cb")
        .redirect_host(frameio_auth_oauth::RedirectHost::Ip)
        .https()
        .bind()
        .await
        .unwrap();
    let uri = https.receiver().redirect_uri();
    assert!(
        uri.starts_with("https://127.0.0.1:") && uri.ends_with("/cb"),
        "{uri}"
    );
    assert!(!format!("{https:?}").contains("BEGIN CERTIFICATE"));
    let plain = bind(LoopbackReceiver::builder()).await;
    assert!(!plain.is_https());
    assert!(plain.redirect_uri().starts_with("http://127.0.0.1:"));
    let err = LoopbackReceiver::builder()
        .https()
        .address("10.0.0.1".parse().unwrap())
        .bind()
        .await
        .unwrap_err();
    assert!(
        matches!(err, LoopbackError::NonLoopbackAddress { .. }),
        "{err:?}"
    );
}

/// Whether this machine has IPv6 loopback at all; when not, says so (the `[::1]` assertions
/// are skipped: no one can listen where nothing exists).
#[allow(clippy::print_stderr)] // the note says why a check was skipped
fn has_ipv6_loopback() -> bool {
    match std::net::TcpListener::bind("[::1]:0") {
        Ok(_) => true,
        Err(error) => {
            eprintln!("note: [::1]:0 cannot be bound here ({error}); skipping the IPv6 checks");
            false
        }
    }
}

/// Another listener on `[::1]:<port>` is refused: the receiver holds it.
fn assert_ipv6_side_is_held(port: u16) {
    let error = std::net::TcpListener::bind(("::1", port))
        .expect_err("another process could listen on [::1] and receive the localhost redirect");
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse, "{error}");
}

/// A receiver waiting for its code in a task of its own.
type Waiter = tokio::task::JoinHandle<Result<frameio_auth_core::AuthorizationCode, LoopbackError>>;

/// For a `localhost` receiver on a machine with IPv6 loopback (else `None`): checks that the
/// `[::1]` side of its port is held, then waits for the code in a task. Its port, the pending
/// request's `state`, and the waiting task.
fn hold_and_wait(receiver: LoopbackReceiver) -> Option<(u16, String, Waiter)> {
    let port = receiver.local_addr().port();
    if !has_ipv6_loopback() {
        return None;
    }
    assert_ipv6_side_is_held(port);
    let (_, pending) = pending_for(&receiver);
    let state = pending.state().expose_secret().to_owned();
    let waiter = tokio::spawn(async move { receiver.wait_for_code(&pending).await });
    Some((port, state, waiter))
}

#[tokio::test]
async fn a_localhost_receiver_holds_and_serves_ipv6_loopback_too() {
    let receiver = bind(LoopbackReceiver::builder().redirect_host(RedirectHost::Localhost)).await;
    let uri = receiver.redirect_uri().to_owned();
    assert!(uri.starts_with("http://localhost:"), "{uri}");
    let Some((port, state, waiter)) = hold_and_wait(receiver) else {
        return;
    };
    // A browser that resolves localhost to ::1 reaches this receiver.
    let (status, page) = get(
        &browser(),
        &callback(
            &format!("http://[::1]:{port}/callback"),
            &[("code", "v6-code"), ("state", &state)],
        ),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(waiter.await.unwrap().unwrap().expose_secret(), "v6-code");
}

#[tokio::test]
async fn an_https_localhost_receiver_holds_and_serves_ipv6_loopback_too() {
    let https = LoopbackReceiver::builder().https().bind().await.unwrap();
    let der = https.certificate_der().to_vec();
    let receiver = https.into_receiver();
    let uri = receiver.redirect_uri().to_owned();
    assert!(uri.starts_with("https://localhost:"), "{uri}");
    let Some((port, state, waiter)) = hold_and_wait(receiver) else {
        return;
    };
    // `localhost` resolved to ::1, as Chrome does.
    let client = reqwest::Client::builder()
        .no_proxy()
        .resolve("localhost", (std::net::Ipv6Addr::LOCALHOST, port).into())
        .tls_certs_only([reqwest::Certificate::from_der(&der).unwrap()])
        .build()
        .unwrap();
    let (status, page) = get(
        &client,
        &callback(&uri, &[("code", "v6-tls-code"), ("state", &state)]),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        waiter.await.unwrap().unwrap().expose_secret(),
        "v6-tls-code"
    );
}

#[tokio::test]
async fn a_fixed_localhost_port_taken_on_ipv6_loopback_is_a_bind_error() {
    if !has_ipv6_loopback() {
        return;
    }
    let squatter = std::net::TcpListener::bind("[::1]:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    let err = LoopbackReceiver::builder()
        .port(port)
        .redirect_host(RedirectHost::Localhost)
        .bind()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LoopbackError::Bind { address, .. } if address.is_ipv6() && address.port() == port),
        "{err:?}"
    );
    // An IP redirect URI names 127.0.0.1 only, so the browser never goes to [::1].
    let ip = bind(
        LoopbackReceiver::builder()
            .port(port)
            .redirect_host(RedirectHost::Ip),
    )
    .await;
    assert_eq!(ip.local_addr().port(), port);
}
