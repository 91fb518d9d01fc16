//! Adobe Cloud Storage & Collaboration API, Server-to-Server, behind a `TokenManager`.
//!
//! What it shows:
//!
//! - the preset `presets::cloud_storage_server_to_server_from`: it reads
//!   `CLOUD_STORAGE_CLIENT_ID` and `CLOUD_STORAGE_CLIENT_SECRET` (the names that API's
//!   authentication guide exports) and requests that API's scopes
//!   (`openid, AdobeID, offline_access, creative_sdk`);
//! - a `TokenManager` with a `FileStore`: the token is requested once and reused, by later
//!   runs too, until it nears its expiry (IMS throttles integrations that mint a token per
//!   request);
//! - IMS's own check of the token (`/ims/validate_token/v1`), through the same credential.
//!
//! ```sh
//! CLOUD_STORAGE_CLIENT_ID=... CLOUD_STORAGE_CLIENT_SECRET=... \
//!     cargo run -p frameio-auth --example cloud_storage_s2s
//! ```
//!
//! Optional: `FRAMEIO_AUTH_HOME` (the token file goes to `$FRAMEIO_AUTH_HOME/tokens`; default
//! the platform's data directory), `IMS_ENV` (`prod`, the default, or `stage`) and
//! `IMS_BASE_URL` (another IMS, such as a fake). Tokens appear as fingerprints only.
//!
//! The logic is in `run`, so the crate's tests run this file against a fake IMS.

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use frameio_auth::TokenManager;
use frameio_auth::ims::presets;
use frameio_auth::store_file::FileStore;

/// Runs the example with variables from `vars`, writing to `out`.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    // A missing or empty variable is an error that names it.
    let s2s = Arc::new(presets::cloud_storage_server_to_server_from(vars)?.build()?);
    let store = match presets::optional_var(&vars, FileStore::HOME_ENV) {
        Some(home) => FileStore::new(PathBuf::from(home).join("tokens")),
        None => FileStore::open_default()?,
    };
    // The manager fetches and caches; a shared credential keeps a handle for `validate`.
    let manager = TokenManager::builder(Arc::clone(&s2s)).store(store).build();
    writeln!(
        out,
        "Cloud Storage credential {} on {}, scopes {}",
        s2s.client_id(),
        s2s.environment(),
        s2s.scopes()
    )?;

    // What every API call does: ask the manager (from memory or the token file while fresh).
    let token = manager.access_token().await?;
    writeln!(
        out,
        "access token {}; send it as `Authorization: Bearer <token>`",
        token.access_token().fingerprint()
    )?;
    let check = s2s.validate(token.access_token()).await?;
    writeln!(
        out,
        "IMS says the token is valid: {}, until {} (unix seconds)",
        check.valid,
        check
            .expires_at
            .map_or_else(|| "?".to_owned(), |at| at.as_unix_secs().to_string()),
    )?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run(&presets::process_env, &mut std::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Display, not Debug: the message is for a person (and carries no secret).
            let _ = writeln!(std::io::stderr(), "error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
