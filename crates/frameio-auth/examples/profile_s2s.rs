//! A token from a profile of `config.toml`: one line of code.
//!
//! ```rust,ignore
//! let token = TokenManager::from_profile("work")?.access_token().await?;
//! ```
//!
//! Write `~/.config/frameio-auth/config.toml` (or any file, named by `FRAMEIO_AUTH_CONFIG`):
//!
//! ```toml
//! default = "work"
//!
//! [profiles.work]
//! preset = "frameio-v4-s2s"        # kind ims-s2s, Frame.io V4 scopes
//! client_id = "0123abcd..."        # from the Adobe Developer Console
//! secret_env = "WORK_IMS_SECRET"   # the secret stays in the environment
//! ```
//!
//! then run:
//!
//! ```sh
//! WORK_IMS_SECRET=... cargo run -p frameio-auth --example profile_s2s -- work
//! ```
//!
//! Without an argument the example uses `FRAMEIO_AUTH_PROFILE`, else the file's `default`.
//! `docs/profiles.md` lists every field and environment variable. Nothing secret is printed:
//! the token appears as a fingerprint.
//!
//! The logic is in `run`, which takes the environment and the output as parameters, so the
//! crate's tests run this very file against a fake IMS.

use std::error::Error;
use std::io::Write;

use frameio_auth::TokenManager;

/// Runs the example for the profile `name` (else the default one), with variables from
/// `vars`, writing to `out`.
pub async fn run(
    name: Option<&str>,
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    // With the process environment, this is `TokenManager::from_profile(name)`.
    let manager = TokenManager::from_profile_with(name, vars)?;
    let token = manager.access_token().await?;
    writeln!(
        out,
        "access token {}, scopes: {}",
        token.access_token().fingerprint(),
        token.scopes()
    )?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let name = std::env::args().nth(1);
    let vars = |name: &str| std::env::var(name).ok();
    match run(name.as_deref(), &vars, &mut std::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
