//! Proxies: a configured one carries requests to real endpoints, and never one to a loopback
//! address (plain `http` there would carry the secret off the machine). The environment's
//! variables are tested in the crate's unit tests (a test may not set them: `unsafe`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

use std::time::Duration;

use frameio_auth_oauth::{EndpointClient, RetryPolicy, SecureUrl, TransportSettings};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A "proxy" that records the first line of each request it gets and answers 502.
async fn recording_proxy() -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (lines, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0; 4096];
            let read = socket.read(&mut buffer).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&buffer[..read]).into_owned();
            let _ = lines.send(text.lines().next().unwrap_or_default().to_owned());
            let _ = socket
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    (url, seen)
}

/// A server that answers every request `{}`.
async fn loopback_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                )
                .await;
        }
    });
    url
}

fn client(proxy: &str) -> EndpointClient {
    EndpointClient::builder()
        .transport(
            TransportSettings::new()
                .proxy(frameio_auth_oauth::reqwest::Proxy::all(proxy).unwrap())
                .retry_policy(RetryPolicy::no_retries())
                .attempt_timeout(Duration::from_secs(5)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn loopback_is_never_proxied_and_real_endpoints_are() {
    let (proxy, mut seen) = recording_proxy().await;
    let client = client(&proxy);

    // To loopback: straight to the server, the proxy sees nothing.
    let server = loopback_server().await;
    for host in [server.clone(), server.replace("127.0.0.1", "localhost")] {
        let url = SecureUrl::parse(&format!("{host}/token")).unwrap();
        let answer = client.get("loopback", &url).send_raw().await.unwrap();
        assert_eq!(answer.status(), 200, "{host}");
    }
    assert!(seen.try_recv().is_err(), "the proxy saw a loopback request");

    // To a real endpoint: through the proxy (which refuses it; nothing leaves the machine).
    let url = SecureUrl::parse("https://ims-na1.adobelogin.example/ims/token/v3").unwrap();
    let _ = client.get("remote", &url).send_raw().await;
    let first = tokio::time::timeout(Duration::from_secs(5), seen.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, "CONNECT ims-na1.adobelogin.example:443 HTTP/1.1");
}
