//! A Frame.io V2 Developer Token behind a `TokenManager`, checked with `GET /v2/me`.
//!
//! What it shows:
//!
//! - a `DeveloperTokenSource` read from `FRAMEIO_TOKEN` as the manager's source: the same code
//!   that serves IMS tokens serves a static token that never expires (nothing is ever
//!   refreshed, and the default in-memory store is enough: the token lives in the
//!   environment);
//! - `access_token()` before the API call, and `FrameioApi::whoami_checked` for `/v2/me`
//!   with its rate-limit headers;
//! - a `401` told apart from other failures (`ApiError::InvalidToken`): a Developer Token
//!   that was deleted in the developer portal cannot be renewed, only replaced.
//!
//! Run it for real with a token from the Frame.io V2 developer portal:
//!
//! ```sh
//! FRAMEIO_TOKEN=fio-u-... cargo run -p frameio-auth --example v2_developer_token
//! ```
//!
//! Optional: `FRAMEIO_API_BASE_URL` (default `https://api.frame.io`; a loopback `http://`
//! URL for a fake). The token is never printed, only its fingerprint.
//!
//! The logic is in `run`, so the crate's tests run this file against a fake Frame.io V2.

use std::error::Error;
use std::io::Write;

use frameio_auth::TokenManager;
use frameio_auth::v2::{ApiError, DEFAULT_API_BASE_URL, DeveloperTokenSource, FrameioApi};

/// The Frame.io API base URL (default [`DEFAULT_API_BASE_URL`]).
pub const FRAMEIO_API_BASE_URL: &str = "FRAMEIO_API_BASE_URL";

/// Runs the example with variables from `vars`, writing to `out`.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    // `from_lookup` reads `FRAMEIO_TOKEN` (`from_env` reads the process environment) and
    // refuses a missing or blank one with an error that names the variable.
    let source = DeveloperTokenSource::from_lookup(vars)?;
    let manager = TokenManager::builder(source).build();
    let base_url = vars(FRAMEIO_API_BASE_URL)
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_API_BASE_URL.to_owned());
    let api = FrameioApi::builder().base_url(base_url).build()?;

    let token = manager.access_token().await?;
    writeln!(
        out,
        "Developer Token {} (never expires: {}), stored as {}",
        token.access_token().fingerprint(),
        token.expires_at().is_none(),
        manager.key(),
    )?;

    let checked = match api.whoami_checked(token.access_token()).await {
        Ok(checked) => checked,
        // Nothing can renew a Developer Token: say what to do, and fail with the typed error.
        Err(error @ ApiError::InvalidToken { .. }) => {
            writeln!(
                out,
                "Frame.io refused the Developer Token: it was deleted or mistyped; create one \
                 in the Frame.io developer portal and set FRAMEIO_TOKEN"
            )?;
            return Err(error.into());
        }
        Err(error) => return Err(error.into()),
    };
    let me = checked.value;
    writeln!(
        out,
        "GET /v2/me: {} <{}> (user {}, account {})",
        me.name.as_deref().unwrap_or("?"),
        me.email.as_deref().unwrap_or("?"),
        me.id,
        me.account_id.as_deref().unwrap_or("?"),
    )?;
    writeln!(out, "rate limit: {}", checked.rate_limit)?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run(
        &|name: &str| std::env::var(name).ok(),
        &mut std::io::stdout(),
    )
    .await
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Display, not Debug: the message is for a person (and, like all of this
            // workspace's errors, carries no secret).
            let _ = writeln!(std::io::stderr(), "error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
