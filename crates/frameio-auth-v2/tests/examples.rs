//! Runs the examples' `run` functions against the fakes (no nested cargo, no internet).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

#[path = "../examples/developer_token.rs"]
#[allow(dead_code, unreachable_pub)]
mod developer_token;
#[path = "../examples/oauth_app.rs"]
#[allow(dead_code, unreachable_pub)]
mod oauth_app;

use std::collections::HashMap;
use std::io;

use frameio_auth_testkit::v2::{FakeFrameioV2, Rotation, demo, paths};
use tokio::sync::mpsc;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[tokio::test]
async fn developer_token_example_against_the_fake() {
    let fake = FakeFrameioV2::start_default().await.unwrap();
    fake.register_developer_token("fio-u-example-token-value", "account.read");
    let mut out = Vec::new();
    developer_token::run(
        env(&[
            ("FRAMEIO_TOKEN", "fio-u-example-token-value"),
            ("FRAMEIO_API_BASE_URL", fake.base_url()),
        ]),
        &mut out,
    )
    .await
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("signed in as Ada Lovelace <ada@example.com>"),
        "{out}"
    );
    assert!(out.contains("never expires: true"), "{out}");
    assert!(out.contains("remaining 99"), "{out}");
    assert!(!out.contains("fio-u-example-token-value"), "{out}");
    assert_eq!(fake.requests_to(paths::ME), 1);

    let mut out = Vec::new();
    let err = developer_token::run(env(&[("FRAMEIO_TOKEN", " ")]), &mut out)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("FRAMEIO_TOKEN"), "{err}");
}

/// Forwards everything written to a channel, so a test can read the URL as it is printed.
struct ChannelWriter(mpsc::UnboundedSender<String>);

impl io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.0.send(String::from_utf8_lossy(buf).into_owned());
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads the output until the authorization URL appears, then plays the browser: the fake
/// redirects to the example's loopback receiver, which gets the code.
async fn browser(mut lines: mpsc::UnboundedReceiver<String>) -> String {
    let mut seen = String::new();
    let url = loop {
        seen.push_str(&lines.recv().await.unwrap());
        if let Some(url) = seen
            .split_whitespace()
            .find(|w| w.contains("/oauth2/auth?"))
        {
            break url.to_owned();
        }
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let callback = response.headers()["location"].to_str().unwrap().to_owned();
    let page = client.get(&callback).send().await.unwrap();
    assert!(page.status().is_success());
    while let Some(text) = lines.recv().await {
        seen.push_str(&text);
    }
    seen
}

async fn oauth_example(secret: Option<&str>, client_id: &str, fake: &FakeFrameioV2) -> String {
    let mut vars = vec![
        ("FRAMEIO_CLIENT_ID", client_id),
        ("FRAMEIO_OAUTH_BASE_URL", fake.base_url()),
        ("FRAMEIO_API_BASE_URL", fake.base_url()),
        ("FRAMEIO_SCOPES", "account.read asset.read offline"),
    ];
    if let Some(secret) = secret {
        vars.push(("FRAMEIO_CLIENT_SECRET", secret));
    }
    let (sender, receiver) = mpsc::unbounded_channel();
    let browsing = tokio::spawn(browser(receiver));
    let mut out = ChannelWriter(sender);
    oauth_app::run(env(&vars), &mut out).await.unwrap();
    drop(out);
    browsing.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_app_example_against_the_fake() {
    let fake = FakeFrameioV2::start_default().await.unwrap();
    let out = oauth_example(
        Some(demo::CONFIDENTIAL_SECRET),
        demo::CONFIDENTIAL_CLIENT_ID,
        &fake,
    )
    .await;
    assert!(out.contains("refresh token: true"), "{out}");
    assert!(out.contains("refresh token rotated"), "{out}");
    assert!(out.contains("whoami after refresh"), "{out}");
    assert!(
        fake.last_request(paths::TOKEN)
            .unwrap()
            .header("authorization")
            .is_some_and(|h| h.starts_with("Basic "))
    );

    fake.set_rotation(Rotation::OmitRefreshToken);
    let out = oauth_example(None, demo::PKCE_CLIENT_ID, &fake).await;
    assert!(out.contains("refresh token kept"), "{out}");
    assert_eq!(fake.grant_count("authorization_code"), 2);
    assert_eq!(fake.grant_count("refresh_token"), 2);
    assert_eq!(fake.requests_to(paths::ME), 4);
}
