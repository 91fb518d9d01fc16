//! OAuth Server-to-Server: get a token with `client_credentials`, validate it, revoke it.
//!
//! `ServerToServer` fetches and never caches: each call below is a token request. An
//! application asks a `TokenManager` (crate `frameio-auth`) over it instead, which reuses the
//! token until shortly before it expires (Adobe throttles integrations that mint a token per
//! call).
//!
//! ```sh
//! IMS_CLIENT_ID=... IMS_CLIENT_SECRET=... IMS_SCOPES=openid,AdobeID,frame.s2s.all IMS_ENV=prod \
//!     cargo run -p frameio-auth-ims --example server_to_server
//! ```
//!
//! Optional: `IMS_CLIENT_SECRET_2` (a second secret during rotation), `IMS_BASE_URL` (another
//! IMS, such as a fake). Nothing secret is printed: tokens appear as fingerprints.
//!
//! The logic is in `run`, which takes the environment and the output as parameters, so the
//! crate's tests run this very file against a fake IMS.

use std::error::Error;
use std::io::Write;

use frameio_auth_core::{Revocation, TokenSource as _};
use frameio_auth_ims::{AccessTokenClaims, presets};

/// Runs the example with variables from `vars`, writing to `out`.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let s2s = presets::from_lookup(vars)?.build()?;
    writeln!(out, "IMS: {}", s2s.environment().base_url())?;

    let tokens = s2s.request_new_token().await?;
    writeln!(
        out,
        "access token {:?}, expires at {:?} (unix ms)",
        tokens.access_token().fingerprint(),
        tokens
            .expires_at()
            .map(frameio_auth_core::Timestamp::as_unix_millis),
    )?;
    if let Some(claims) = AccessTokenClaims::decode(tokens.access_token()) {
        writeln!(
            out,
            "issued to client {:?} with scopes {:?}",
            claims.client_id.unwrap_or_default(),
            claims.scope.unwrap_or_default()
        )?;
    }
    let validation = s2s.validate(tokens.access_token()).await?;
    writeln!(out, "IMS says the token is valid: {}", validation.valid)?;
    // What a logout does: end the token at IMS, then forget it.
    let revoked = s2s.revoke(&tokens).await? == Revocation::Revoked;
    writeln!(out, "revoked at IMS: {revoked}")?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    run(&presets::process_env, &mut std::io::stdout()).await
}
