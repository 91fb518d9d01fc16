//! Runs every example against `FakeIms`, by pointing `IMS_BASE_URL` at it.
//!
//! Each example keeps its logic in `run(vars, out)`; this file includes the example source
//! itself (`#[path]`), so what is tested is exactly what `cargo run --example` runs, without a
//! nested cargo (which would wait on the build lock held by `cargo test`). For the user flows
//! the test plays the browser: it reads the authorization URL the example prints, opens it on
//! the fake without following redirects, and delivers the redirect to the example's loopback
//! receiver (accepting its self-signed certificate).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/cloud_storage.rs"]
mod cloud_storage;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/native_app.rs"]
mod native_app;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/server_to_server.rs"]
mod server_to_server;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/single_page_app.rs"]
mod single_page_app;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/web_app.rs"]
mod web_app;

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeClient, FakeImsConfig, demo, paths};
use tokio::sync::mpsc;
use url::Url;

/// The example's stdout: every complete line goes to the "browser", and all of it is kept.
struct Output {
    lines: mpsc::UnboundedSender<String>,
    partial: Vec<u8>,
    all: Arc<Mutex<String>>,
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.partial.extend_from_slice(buf);
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line).trim_end().to_owned();
            self.all.lock().unwrap().push_str(&line);
            self.all.lock().unwrap().push('\n');
            let _ = self.lines.send(line);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn output() -> (Output, mpsc::UnboundedReceiver<String>, Arc<Mutex<String>>) {
    let (lines, receiver) = mpsc::unbounded_channel();
    let all = Arc::new(Mutex::new(String::new()));
    let out = Output {
        lines,
        partial: Vec::new(),
        all: Arc::clone(&all),
    };
    (out, receiver, all)
}

async fn fake_ims() -> FakeIms {
    FakeIms::start(
        FakeImsConfig::with_demo_clients().client(FakeClient::native_app(
            "demo-native-loopback",
            "http://127.0.0.1:*/callback",
            demo::USER_SCOPES,
        )),
    )
    .await
    .unwrap()
}

fn env_vars(
    ims: &FakeIms,
    pairs: &[(&str, &str)],
) -> impl Fn(&str) -> Option<String> + Sync + use<> {
    let mut map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    map.insert("IMS_BASE_URL".to_owned(), ims.base_url().to_owned());
    move |name: &str| map.get(name).cloned()
}

/// Plays the browser: waits for the printed authorization URL, opens it on the fake, and
/// follows the redirect to the example's receiver.
async fn browser(mut lines: mpsc::UnboundedReceiver<String>, expected_status: u16) {
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
    assert_eq!(response.status().as_u16(), 302);
    let callback = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let port = callback.port().unwrap();
    let receiver = reqwest::Client::builder()
        .danger_accept_invalid_certs(true) // the receiver's self-signed localhost certificate
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .unwrap();
    let response = receiver.get(callback).send().await.unwrap();
    assert_eq!(
        response.status().as_u16(),
        expected_status,
        "the receiver's answer"
    );
}

#[tokio::test]
async fn server_to_server_example() {
    let ims = fake_ims().await;
    let vars = env_vars(
        &ims,
        &[
            ("IMS_CLIENT_ID", demo::S2S_CLIENT_ID),
            ("IMS_CLIENT_SECRET", demo::S2S_SECRET),
            ("IMS_SCOPES", "openid,AdobeID,frame.s2s.all"),
            ("IMS_ENV", "prod"),
        ],
    );
    let (mut out, _lines, all) = output();
    server_to_server::run(&vars, &mut out).await.unwrap();
    let text = all.lock().unwrap().clone();
    assert!(text.contains("valid: true"), "{text}");
    assert!(text.contains("revoked at IMS: true"), "{text}");
    assert_eq!(ims.grant_count("client_credentials"), 1);
    assert_eq!(ims.requests_to(paths::REVOKE), 1);
    assert!(!text.contains(demo::S2S_SECRET));

    // A missing variable is named.
    let (mut out, _lines, _all) = output();
    let err = server_to_server::run(&|_| None, &mut out)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("IMS_CLIENT_ID"), "{err}");
}

#[tokio::test]
async fn cloud_storage_example() {
    let ims = fake_ims().await;
    let vars = env_vars(
        &ims,
        &[
            ("CLOUD_STORAGE_CLIENT_ID", demo::S2S_CLIENT_ID),
            ("CLOUD_STORAGE_CLIENT_SECRET", demo::S2S_SECRET),
        ],
    );
    let (mut out, _lines, all) = output();
    cloud_storage::run(&vars, &mut out).await.unwrap();
    let text = all.lock().unwrap().clone();
    assert!(text.contains("creative_sdk"), "{text}");
    assert_eq!(
        ims.last_request(paths::TOKEN).unwrap().form_value("scope"),
        Some("AdobeID,creative_sdk,offline_access,openid")
    );

    let missing = env_vars(&ims, &[("CLOUD_STORAGE_CLIENT_ID", demo::S2S_CLIENT_ID)]);
    let (mut out, _lines, _all) = output();
    let err = cloud_storage::run(&missing, &mut out).await.unwrap_err();
    assert!(
        err.to_string().contains("CLOUD_STORAGE_CLIENT_SECRET"),
        "{err}"
    );
}

#[tokio::test]
async fn web_app_example() {
    let ims = fake_ims().await;
    let vars = env_vars(
        &ims,
        &[
            ("IMS_CLIENT_ID", demo::WEB_CLIENT_ID),
            ("IMS_CLIENT_SECRET", demo::WEB_SECRET),
        ],
    );
    let (mut out, lines, all) = output();
    let (result, ()) = tokio::join!(web_app::run(&vars, &mut out), browser(lines, 200));
    result.unwrap();
    let text = all.lock().unwrap().clone();
    assert!(
        text.contains("redirect_uri=https%3A%2F%2Flocalhost%3A"),
        "{text}"
    );
    for step in [
        "signed in",
        "refresh token received",
        "refreshed",
        "user: ",
        "revoked",
    ] {
        assert!(text.contains(step), "{step}: {text}");
    }
    assert_eq!(ims.grant_count("authorization_code"), 1);
    assert_eq!(ims.grant_count("refresh_token"), 1);
    assert_eq!(ims.requests_to(paths::REVOKE), 1);
}

#[tokio::test]
async fn single_page_app_example() {
    let ims = fake_ims().await;
    let vars = env_vars(&ims, &[("IMS_CLIENT_ID", demo::SPA_CLIENT_ID)]);
    let (mut out, lines, all) = output();
    let (result, ()) = tokio::join!(single_page_app::run(&vars, &mut out), browser(lines, 200));
    result.unwrap();
    let text = all.lock().unwrap().clone();
    for step in ["signed in", "refreshed", "user: ", "invalidated"] {
        assert!(text.contains(step), "{step}: {text}");
    }
    assert_eq!(ims.requests_to(paths::INVALIDATE), 1);
}

#[tokio::test]
async fn native_app_example() {
    let ims = fake_ims().await;
    let vars = env_vars(
        &ims,
        &[
            ("IMS_CLIENT_ID", "demo-native-loopback"),
            ("IMS_SCOPES", "openid AdobeID profile email"),
        ],
    );
    let (mut out, lines, all) = output();
    let (result, ()) = tokio::join!(native_app::run(&vars, &mut out), browser(lines, 200));
    result.unwrap();
    let text = all.lock().unwrap().clone();
    assert!(
        text.contains("redirect_uri=http%3A%2F%2F127.0.0.1"),
        "{text}"
    );
    // Without offline_access, no refresh token: the token is kept, no refresh request.
    assert!(text.contains("refresh token none"), "{text}");
    assert_eq!(ims.grant_count("refresh_token"), 0);
    assert_eq!(ims.requests_to(paths::REVOKE), 1);
}

#[tokio::test]
async fn user_example_reports_invalid_scope_with_the_hint() {
    let ims = fake_ims().await;
    let vars = env_vars(
        &ims,
        &[
            ("IMS_CLIENT_ID", demo::SPA_CLIENT_ID),
            ("IMS_SCOPES", "openid asset.read"),
        ],
    );
    let (mut out, lines, _all) = output();
    let (result, ()) = tokio::join!(single_page_app::run(&vars, &mut out), browser(lines, 400));
    let err = result.unwrap_err();
    assert!(err.to_string().contains("invalid_scope"), "{err}");
    assert!(err.to_string().contains("Developer Console"), "{err}");
}
