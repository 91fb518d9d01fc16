//! A Frame.io V2 OAuth app behind a `TokenManager`: sign in once in the browser, then use the
//! saved login (refreshed when needed) from the token store.
//!
//! What it shows:
//!
//! - a `V2OAuthApp` with a client secret (a confidential app: the token endpoint is called
//!   with HTTP Basic) or without one (a PKCE app: `client_id` in the request body); every
//!   authorization request carries PKCE S256 and a random `state` either way;
//! - the `offline` scope: without it Frame.io issues no refresh token, and the login ends
//!   when its access token does (after an hour);
//! - `access_token()` first: a login an earlier run saved is used without a browser, and
//!   `ErrorKind::NeedsLogin` says there is none (or it cannot be renewed);
//! - the login step by step, as a custom UI or a server would run it: `begin` (the URL to
//!   open), a `LoopbackReceiver` waiting for the redirect, `exchange_code`, and
//!   `TokenManager::import`, which saves the login;
//! - `GET /v2/me` with the token.
//!
//! Run it for real with an OAuth app from the Frame.io developer site whose redirect URI is
//! `http://127.0.0.1:<port>/callback`:
//!
//! ```sh
//! FRAMEIO_CLIENT_ID=... FRAMEIO_CLIENT_SECRET=... FRAMEIO_REDIRECT_PORT=8765 \
//!     cargo run -p frameio-auth --example v2_oauth_app
//! ```
//!
//! Leave `FRAMEIO_CLIENT_SECRET` out for a PKCE app (it has no secret). Optional:
//! `FRAMEIO_SCOPES` (default `account.read offline`), `FRAMEIO_REDIRECT_PORT` (default: any
//! free port), `FRAMEIO_OAUTH_BASE_URL` (default `https://applications.frame.io`) and
//! `FRAMEIO_API_BASE_URL` (default `https://api.frame.io`) for a fake, and
//! `FRAMEIO_AUTH_HOME` (the login is saved in `$FRAMEIO_AUTH_HOME/tokens`; default the
//! platform's data directory). Run it twice: the second run needs no browser. Tokens appear as
//! fingerprints only.
//!
//! The logic is in `run`, so the crate's tests run this file against a fake Frame.io V2,
//! playing the browser with the URL it prints.

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use frameio_auth::TokenManager;
use frameio_auth::model::{ClientSecret, ConfigError, ErrorKind};
use frameio_auth::oauth::LoopbackReceiver;
use frameio_auth::store_file::FileStore;
use frameio_auth::v2::{
    DEFAULT_API_BASE_URL, DEFAULT_OAUTH_BASE_URL, FrameioApi, V2OAuthApp, parse_list,
};

/// Runs the example with variables from `vars`, writing to `out`.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    // A variable's trimmed value; unset and empty are the same.
    let var = |name: &str| {
        vars(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let client_id = var("FRAMEIO_CLIENT_ID").ok_or("set FRAMEIO_CLIENT_ID to the app's id")?;
    let scopes = var("FRAMEIO_SCOPES").unwrap_or_else(|| "account.read offline".to_owned());
    let port = match var("FRAMEIO_REDIRECT_PORT") {
        Some(port) => port.parse::<u16>().map_err(|e| {
            ConfigError::new(format!("FRAMEIO_REDIRECT_PORT is not a port number: {e}"))
        })?,
        None => 0,
    };
    let oauth = var("FRAMEIO_OAUTH_BASE_URL");
    let api = var("FRAMEIO_API_BASE_URL");
    let api = FrameioApi::builder()
        .base_url(api.unwrap_or_else(|| DEFAULT_API_BASE_URL.to_owned()))
        .build()?;

    // The redirect URI names the port, so the receiver is bound first.
    let receiver = LoopbackReceiver::builder().port(port).bind().await?;
    let mut app = V2OAuthApp::builder(client_id, receiver.redirect_uri())
        .scopes(parse_list(&scopes))
        .oauth_base_url(oauth.unwrap_or_else(|| DEFAULT_OAUTH_BASE_URL.to_owned()));
    if let Some(secret) = var("FRAMEIO_CLIENT_SECRET") {
        app = app.client_secret(ClientSecret::new(secret));
    }
    let app = Arc::new(app.build()?);
    writeln!(
        out,
        "{} app, scopes {scopes}",
        if app.is_confidential() {
            "confidential (client secret)"
        } else {
            "PKCE (no secret)"
        }
    )?;

    let store = match var(FileStore::HOME_ENV) {
        Some(home) => FileStore::new(PathBuf::from(home).join("tokens")),
        None => FileStore::open_default()?,
    };
    // The app renews the login as the manager's source; a shared handle runs the login.
    let manager = TokenManager::builder(Arc::clone(&app)).store(store).build();
    let token = match manager.access_token().await {
        Ok(token) => {
            writeln!(out, "using the saved login")?;
            token
        }
        Err(error) if error.kind() == ErrorKind::NeedsLogin => {
            writeln!(out, "no usable saved login ({error}): signing in")?;
            let (url, pending) = app.begin()?;
            writeln!(out, "Open this URL in your browser to sign in:\n{url}")?;
            let code = receiver.wait_for_code(&pending).await?;
            let tokens = app.exchange_code(&pending, code).await?;
            manager.import(tokens).await?
        }
        Err(error) => return Err(error.into()),
    };
    writeln!(
        out,
        "access token {}, refresh token: {}",
        token.access_token().fingerprint(),
        if token.has_refresh_token() {
            "yes"
        } else {
            "none (request the `offline` scope to get one)"
        }
    )?;
    let me = api.whoami(token.access_token()).await?;
    writeln!(
        out,
        "GET /v2/me: {} <{}>",
        me.name.as_deref().unwrap_or("?"),
        me.email.as_deref().unwrap_or("?"),
    )?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let vars = |name: &str| std::env::var(name).ok();
    match run(&vars, &mut std::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Display, not Debug: the message is for a person (and carries no secret).
            let _ = writeln!(std::io::stderr(), "error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
