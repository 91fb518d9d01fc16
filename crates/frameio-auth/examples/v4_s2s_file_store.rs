//! Frame.io V4 Server-to-Server behind a `TokenManager` that keeps its token in a `FileStore`.
//!
//! What it shows:
//!
//! - an IMS `ServerToServer` credential with the Frame.io V4 preset scopes
//!   (`openid,AdobeID,frame.s2s.all`) as the manager's source, and a `FileStore` as its store;
//! - two `access_token()` calls: the first fetches a token (or takes the one an earlier run
//!   saved, still valid: no request at all), the second is answered from memory;
//! - `subscribe()`, to tell which of the two the first call did;
//! - a token check with `GET /v4/me`, and on a `401` (the token was revoked early) one
//!   `refresh_if_current` and one retry.
//!
//! Run it for real with a Server-to-Server credential of a Frame.io V4 project in the Adobe
//! Developer Console:
//!
//! ```sh
//! IMS_CLIENT_ID=... IMS_CLIENT_SECRET=... \
//!     cargo run -p frameio-auth --example v4_s2s_file_store
//! ```
//!
//! Optional: `FRAMEIO_AUTH_HOME` (the token file goes to `$FRAMEIO_AUTH_HOME/tokens`; default
//! the platform's data directory, `~/.local/share/frameio-auth/tokens` on Linux), `IMS_ENV`
//! (`prod`, the default, or `stage`), `IMS_BASE_URL` and `FRAMEIO_API_BASE_URL` (another IMS
//! or Frame.io API base URL, such as a fake; default `https://api.frame.io`). Run it twice:
//! the second run reuses the saved token.
//!
//! Nothing secret is printed: tokens appear as fingerprints (`sha256:…`), never as values.
//!
//! The logic is in `run`, which takes the environment and the output as parameters, so the
//! crate's tests run this very file against a fake IMS and a fake Frame.io V4 API.

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

use frameio_auth::ims::presets;
use frameio_auth::model::{ClientSecret, Timestamp};
use frameio_auth::oauth::TransportSettings;
use frameio_auth::store_file::FileStore;
use frameio_auth::v2::{ApiError, DEFAULT_API_BASE_URL, FrameioApi};
use frameio_auth::{CachedToken, TokenEvent, TokenManager};

/// The Frame.io API base URL (default [`DEFAULT_API_BASE_URL`]).
pub const FRAMEIO_API_BASE_URL: &str = "FRAMEIO_API_BASE_URL";

/// Runs the example with variables from `vars`, writing to `out`.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let client_id = presets::required_var(&vars, presets::IMS_CLIENT_ID)?;
    let secret = ClientSecret::new(presets::required_var(&vars, presets::IMS_CLIENT_SECRET)?);
    let env = presets::environment_from(&vars, false)?;
    let s2s = presets::frameio_v4_server_to_server(env, client_id, secret)
        .transport(
            TransportSettings::default().user_agent("frameio-auth-example/v4_s2s_file_store"),
        )
        .build()?;
    writeln!(out, "IMS: {}, scopes: {}", s2s.environment(), s2s.scopes())?;

    let store = match presets::optional_var(&vars, FileStore::HOME_ENV) {
        Some(home) => FileStore::new(PathBuf::from(home).join("tokens")),
        None => FileStore::open_default()?,
    };
    let manager = TokenManager::builder(s2s).store(store.clone()).build();
    writeln!(
        out,
        "token file: {}",
        store.entry_path(manager.key()).display()
    )?;

    // Subscribed before the first call, to see what it did.
    let mut events = manager.subscribe();
    let first = manager.access_token().await?;
    let origin = match events.try_recv() {
        Some(TokenEvent::Refreshed { adopted: true, .. }) => {
            "the token file (saved by an earlier run)"
        }
        Some(TokenEvent::Refreshed { adopted: false, .. }) => "IMS (a client_credentials request)",
        _ => "somewhere unexpected",
    };
    writeln!(out, "first call: token from {origin}")?;
    describe(out, &first)?;

    let second = manager.access_token().await?;
    writeln!(
        out,
        "second call: same token, from memory: {}",
        second.access_token() == first.access_token()
    )?;

    let base_url = presets::optional_var(&vars, FRAMEIO_API_BASE_URL)
        .unwrap_or_else(|| DEFAULT_API_BASE_URL.to_owned());
    let api = FrameioApi::builder().base_url(base_url).build()?;
    let me = match api.v4_me(second.access_token()).await {
        Ok(me) => me,
        // Revoked before it expired: get a new one (once, however many callers saw the 401),
        // and try again.
        Err(ApiError::InvalidToken { .. }) => {
            writeln!(out, "Frame.io refused the token (401): getting a new one")?;
            let renewed = manager.refresh_if_current(second.access_token()).await?;
            describe(out, &renewed)?;
            api.v4_me(renewed.access_token()).await?
        }
        Err(other) => return Err(other.into()),
    };
    writeln!(
        out,
        "GET /v4/me: user {} ({})",
        me.id,
        me.name.as_deref().unwrap_or("no name"),
    )?;
    Ok(())
}

/// The non-secret facts of a token: fingerprint, expiry, scopes.
fn describe(out: &mut (dyn Write + Send), token: &CachedToken) -> std::io::Result<()> {
    let now = Timestamp::from(SystemTime::now());
    match token.expires_at() {
        Some(expires_at) => writeln!(
            out,
            "access token {}, expires at {} (unix seconds, in {} min), scopes: {}",
            token.access_token().fingerprint(),
            expires_at.as_unix_secs(),
            expires_at.saturating_duration_since(now).as_secs() / 60,
            token.scopes(),
        ),
        None => writeln!(
            out,
            "access token {}, never expires, scopes: {}",
            token.access_token().fingerprint(),
            token.scopes(),
        ),
    }
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
