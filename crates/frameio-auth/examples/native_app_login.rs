//! An IMS Native App login through `TokenManager::login`, for a command-line tool.
//!
//! What it shows:
//!
//! - a `NativeApp` credential (a public client: no secret, PKCE S256) that is both the
//!   manager's source (it refreshes the login) and the login itself;
//! - `access_token()` first: a login an earlier run saved is used without a browser, and
//!   `ErrorKind::NeedsLogin` says that there is none (or that it cannot be renewed);
//! - then `TokenManager::login` with a `LoopbackReceiver` on `http://127.0.0.1:<port>/callback`
//!   (RFC 8252) and a `ShowUrl` that prints the URL to open (it opens nothing itself), which
//!   saves the login in the store; then `access_token()` again, answered from memory;
//! - a check of the token with IMS's user info.
//!
//! Run it for real with a Native App credential whose redirect URI pattern allows
//! `http://127.0.0.1:<port>/callback`:
//!
//! ```sh
//! IMS_CLIENT_ID=... IMS_REDIRECT_PORT=8443 \
//!     cargo run -p frameio-auth --example native_app_login
//! ```
//!
//! Open the printed URL in a browser and sign in. Optional: `IMS_SCOPES` (default: the
//! Frame.io V4 user scopes, `offline_access` included, so the login can be refreshed),
//! `IMS_REDIRECT_PORT` (default: any free port), `IMS_ENV` (`prod`, the default, or `stage`),
//! `IMS_BASE_URL` (another IMS, such as a fake), `FRAMEIO_AUTH_HOME` (the login is saved in
//! `$FRAMEIO_AUTH_HOME/tokens`; default the platform's data directory,
//! `~/.local/share/frameio-auth/tokens` on Linux). Run it twice: the second run signs in
//! without the browser. Delete the printed file to sign out locally.
//!
//! Nothing secret is printed: tokens appear as fingerprints. The authorization URL is meant
//! to be shown: its PKCE challenge is a hash of the verifier, which never leaves this process,
//! so a code obtained with it is useless to anyone else.
//!
//! The logic is in `run`, so the crate's tests run this file against a fake IMS, playing the
//! browser with the URL it prints.

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use frameio_auth::TokenManager;
use frameio_auth::ims::{NativeApp, presets};
use frameio_auth::model::{ConfigError, ErrorKind, Scopes};
use frameio_auth::oauth::LoopbackReceiver;
use frameio_auth::oauth::user_login::ShowUrl;
use frameio_auth::store_file::FileStore;

/// The loopback port to listen on (default 0: any free port).
pub const IMS_REDIRECT_PORT: &str = "IMS_REDIRECT_PORT";

/// Runs the example with variables from `vars`, writing to `out`.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let client_id = presets::required_var(&vars, presets::IMS_CLIENT_ID)?;
    let scopes = match presets::optional_var(&vars, presets::IMS_SCOPES) {
        Some(list) => Scopes::parse(&list)?,
        None => presets::frameio_v4_user(),
    };
    let port = match presets::optional_var(&vars, IMS_REDIRECT_PORT) {
        Some(port) => port.parse::<u16>().map_err(|e| {
            ConfigError::new(format!("{IMS_REDIRECT_PORT} is not a port number: {e}"))
        })?,
        None => 0,
    };
    let env = presets::environment_from(&vars, false)?;
    let store = match presets::optional_var(&vars, FileStore::HOME_ENV) {
        Some(home) => FileStore::new(PathBuf::from(home).join("tokens")),
        None => FileStore::open_default()?,
    };

    // The redirect URI names the port, so the receiver is bound before the credential is
    // built, even when a saved login makes it unnecessary. The port is not part of the
    // stored entry's key: a login saved by a run on another port is found all the same.
    let receiver = LoopbackReceiver::builder().port(port).bind().await?;
    let native = Arc::new(
        NativeApp::builder(env, client_id, receiver.redirect_uri())
            .scopes(scopes)
            .build()?,
    );
    // One credential, two roles: the manager's source (refresh) and the login. A shared
    // credential is a source too, so the example keeps a handle for `login`.
    let manager = TokenManager::builder(Arc::clone(&native))
        .store(store.clone())
        .build();
    writeln!(
        out,
        "login file: {}",
        store.entry_path(manager.key()).display()
    )?;

    match manager.access_token().await {
        Ok(_) => writeln!(out, "using the saved login")?,
        Err(error) if error.kind() == ErrorKind::NeedsLogin => {
            writeln!(out, "no usable saved login ({error}): signing in")?;
            login(&manager, &native, receiver, out).await?;
        }
        Err(error) => return Err(error.into()),
    }

    // What every API call does: ask the manager (fresh, so answered from memory).
    let token = manager.access_token().await?;
    writeln!(
        out,
        "access token {}, expires at {} (unix seconds), refresh token: {}, scopes: {}",
        token.access_token().fingerprint(),
        token
            .expires_at()
            .map_or_else(|| "never".to_owned(), |at| at.as_unix_secs().to_string()),
        if token.has_refresh_token() {
            "yes"
        } else {
            "none (add offline_access)"
        },
        token.scopes(),
    )?;
    let me = native.userinfo(token.access_token()).await?;
    writeln!(
        out,
        "signed in as {} <{}>",
        me.name.as_deref().unwrap_or("?"),
        me.email.as_deref().unwrap_or("?"),
    )?;
    Ok(())
}

/// Signs in through `receiver`, printing the URL to open to `out`, and saves the login.
async fn login(
    manager: &TokenManager,
    native: &NativeApp,
    receiver: LoopbackReceiver,
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    // A `ShowUrl` must own what it uses, so it hands the URL over a channel and it is printed
    // to `out` (borrowed here) while the login waits for the redirect. A tool writing to the
    // terminal can simply `ShowUrl::new(|url| eprintln!("Open {url}"))`, or open a browser.
    let (shown, url) = tokio::sync::oneshot::channel();
    let show = ShowUrl::new(move |url| {
        let _ = shown.send(url.clone());
    });
    let print = async {
        if let Ok(url) = url.await {
            // A failed write shows up at the next one.
            let _ = writeln!(out, "Open this URL in your browser to sign in:\n{url}")
                .and_then(|()| out.flush());
        }
    };
    let (logged_in, ()) = tokio::join!(manager.login(native, receiver, show), print);
    let tokens = logged_in?;
    writeln!(
        out,
        "signed in: access token {}, login saved",
        tokens.access_token().fingerprint()
    )?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run(&presets::process_env, &mut std::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Display, not Debug: the message is for a person (and, like all of this
            // workspace's errors, carries no secret).
            let _ = writeln!(std::io::stderr(), "error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
