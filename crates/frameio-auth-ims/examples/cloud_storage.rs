//! Adobe Cloud Storage & Collaboration API, Server-to-Server: the preset reads
//! `CLOUD_STORAGE_CLIENT_ID` and `CLOUD_STORAGE_CLIENT_SECRET`, as that API's guide tells you
//! to export them.
//!
//! ```sh
//! CLOUD_STORAGE_CLIENT_ID=... CLOUD_STORAGE_CLIENT_SECRET=... \
//!     cargo run -p frameio-auth-ims --example cloud_storage
//! ```
//!
//! Optional: `IMS_ENV` (`prod`, `stage`), `IMS_BASE_URL` (another IMS, such as a fake).
//! The logic is in `run`, so the crate's tests run this file against a fake IMS.

use std::error::Error;
use std::io::Write;

use frameio_auth_ims::presets;

/// Runs the example with variables from `vars`, writing to `out`.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let s2s = presets::cloud_storage_server_to_server_from(vars)?.build()?;
    writeln!(
        out,
        "Cloud Storage credential {} on {} with scopes {}",
        s2s.client_id(),
        s2s.environment().base_url(),
        s2s.scopes()
    )?;
    // One token request; an application asks a `TokenManager` (crate `frameio-auth`) over
    // this source, which reuses the token.
    let tokens = s2s.request_new_token().await?;
    writeln!(
        out,
        "access token {:?}, expires at {:?} (unix ms); use it as `Authorization: Bearer ...`",
        tokens.access_token().fingerprint(),
        tokens
            .expires_at()
            .map(frameio_auth_core::Timestamp::as_unix_millis),
    )?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    run(&presets::process_env, &mut std::io::stdout()).await
}
