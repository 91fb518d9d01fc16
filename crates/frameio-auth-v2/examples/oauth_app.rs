//! Signs in to Frame.io V2 with an OAuth app (authorization code flow, PKCE always), checks
//! the token with `GET /v2/me`, refreshes it, and checks again.
//!
//! ```text
//! FRAMEIO_CLIENT_ID=... [FRAMEIO_CLIENT_SECRET=...] FRAMEIO_REDIRECT_PORT=8765 \
//!     cargo run -p frameio-auth-v2 --example oauth_app
//! ```
//!
//! Environment:
//! - `FRAMEIO_CLIENT_ID` (required); `FRAMEIO_CLIENT_SECRET` (optional: without it the app is a
//!   public PKCE app).
//! - `FRAMEIO_SCOPES` (default `account.read offline`).
//! - `FRAMEIO_REDIRECT_PORT`: the port of the registered redirect URI
//!   `http://127.0.0.1:<port>/callback` (default: any free port, which only a fake accepts).
//! - `FRAMEIO_OAUTH_BASE_URL` (default `https://applications.frame.io`),
//!   `FRAMEIO_API_BASE_URL` (default `https://api.frame.io`).
//!
//! It prints the URL to open; the browser comes back to a loopback receiver on 127.0.0.1.
//! No token is ever printed (fingerprints only).

use std::error::Error;
use std::io::Write;

use frameio_auth_core::ClientSecret;
use frameio_auth_oauth::LoopbackReceiver;
use frameio_auth_oauth::user_login::ShowUrl;
use frameio_auth_v2::{
    DEFAULT_API_BASE_URL, DEFAULT_OAUTH_BASE_URL, FrameioApi, V2OAuthApp, parse_list,
};

/// Runs the example with `env` as the environment, writing to `out`.
pub async fn run(
    env: impl Fn(&str) -> Option<String>,
    out: &mut impl Write,
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let client_id = env("FRAMEIO_CLIENT_ID").ok_or("FRAMEIO_CLIENT_ID is not set")?;
    let scopes =
        parse_list(&env("FRAMEIO_SCOPES").unwrap_or_else(|| "account.read offline".into()));
    let mut receiver = LoopbackReceiver::builder();
    if let Some(port) = env("FRAMEIO_REDIRECT_PORT") {
        receiver = receiver.port(port.trim().parse()?);
    }
    let receiver = receiver.bind().await?;
    let mut app = V2OAuthApp::builder(client_id, receiver.redirect_uri())
        .scopes(scopes)
        .oauth_base_url(
            env("FRAMEIO_OAUTH_BASE_URL").unwrap_or_else(|| DEFAULT_OAUTH_BASE_URL.to_owned()),
        );
    if let Some(secret) = env("FRAMEIO_CLIENT_SECRET") {
        app = app.client_secret(ClientSecret::new(secret));
    }
    let app = app.build()?;
    let api = FrameioApi::builder()
        .base_url(env("FRAMEIO_API_BASE_URL").unwrap_or_else(|| DEFAULT_API_BASE_URL.to_owned()))
        .build()?;

    // The login shows the URL through a channel, so it can be printed to `out` (borrowed
    // here) while the login waits for the redirect.
    let (shown, url) = tokio::sync::oneshot::channel();
    let show = ShowUrl::new(move |url| {
        let _ = shown.send(url.clone());
    });
    let print = async {
        if let Ok(url) = url.await {
            // A failed write shows up at the next one.
            let _ = writeln!(out, "Open this URL in a browser to sign in:\n{url}")
                .and_then(|()| out.flush());
        }
    };
    let (tokens, ()) = tokio::join!(app.login_with_loopback(receiver, show), print);
    let tokens = tokens?;
    writeln!(
        out,
        "signed in; access token {:?}, refresh token: {}",
        tokens.access_token().fingerprint(),
        tokens.refresh_token().is_some()
    )?;
    let me = api.whoami(tokens.access_token()).await?;
    writeln!(
        out,
        "whoami: {} <{}>",
        me.id,
        me.email.as_deref().unwrap_or("?")
    )?;

    if tokens.refresh_token().is_none() {
        writeln!(
            out,
            "no refresh token (request the `offline` scope to get one)"
        )?;
        return Ok(());
    }
    let refreshed = app.refresh(&tokens).await?;
    writeln!(
        out,
        "refreshed; new access token {:?}, refresh token {}",
        refreshed.access_token().fingerprint(),
        if refreshed.refresh_token() == tokens.refresh_token() {
            "kept"
        } else {
            "rotated"
        }
    )?;
    let me = api.whoami(refreshed.access_token()).await?;
    writeln!(out, "whoami after refresh: {}", me.id)?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    run(
        |name| std::env::var(name).ok(),
        &mut std::io::stdout().lock(),
    )
    .await
}
