//! Checks a Frame.io V2 Developer Token with `GET /v2/me`.
//!
//! ```text
//! FRAMEIO_TOKEN=fio-u-... cargo run -p frameio-auth-v2 --example developer_token
//! ```
//!
//! Environment: `FRAMEIO_TOKEN` (required), `FRAMEIO_API_BASE_URL` (optional, default
//! `https://api.frame.io`; a loopback `http://` URL for a fake). The token is never printed.

use std::error::Error;
use std::io::Write;

use frameio_auth_core::TokenSource as _;
use frameio_auth_v2::{DEFAULT_API_BASE_URL, DeveloperTokenSource, FrameioApi};

/// Runs the example with `env` as the environment, writing to `out`.
pub async fn run(
    env: impl Fn(&str) -> Option<String>,
    out: &mut impl Write,
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let source = DeveloperTokenSource::from_lookup(&env)?;
    let base_url = env("FRAMEIO_API_BASE_URL").unwrap_or_else(|| DEFAULT_API_BASE_URL.to_owned());
    let api = FrameioApi::builder().base_url(base_url).build()?;
    let tokens = source.fetch(None).await?;
    writeln!(
        out,
        "Developer Token {:?} (never expires: {})",
        source.token().fingerprint(),
        tokens.expires_at().is_none()
    )?;
    let checked = api.whoami_checked(tokens.access_token()).await?;
    let me = checked.value;
    writeln!(
        out,
        "signed in as {} <{}> (user {}, account {})",
        me.name.as_deref().unwrap_or("?"),
        me.email.as_deref().unwrap_or("?"),
        me.id,
        me.account_id.as_deref().unwrap_or("?"),
    )?;
    writeln!(out, "rate limit: {}", checked.rate_limit)?;
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
