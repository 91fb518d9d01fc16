//! OAuth Native App (a public client: no secret, PKCE S256): sign in in the browser,
//! exchange the code, refresh if IMS issued a refresh token, read the user info, revoke.
//!
//! ```sh
//! IMS_CLIENT_ID=... IMS_REDIRECT_PORT=8443 \
//!     cargo run -p frameio-auth-ims --example native_app
//! ```
//!
//! The redirect URI is the loopback `http://127.0.0.1:<port>/callback` (RFC 8252), served by
//! a loopback receiver. (An app registered with Adobe's custom scheme
//! `adobe+<hash>://callback` gets the redirect from the operating system instead and passes
//! the URL to `NativeApp::complete`.) Register a matching pattern on the credential. Optional:
//! `IMS_SCOPES` (default: the Frame.io V4 user scopes), `IMS_ENV`, `IMS_BASE_URL`,
//! `IMS_REDIRECT_PORT` (default: any free port).
//!
//! The logic is in `run`, so the crate's tests run this file against a fake IMS, playing the
//! browser with the URL it prints.

use std::error::Error;
use std::io::Write;

use frameio_auth_core::{Scopes, TokenSource as _};
use frameio_auth_ims::{NativeApp, presets};
use frameio_auth_oauth::LoopbackReceiver;
use frameio_auth_oauth::user_login::ShowUrl;

/// Runs the example with variables from `vars`, writing to `out`.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    out: &mut (dyn Write + Send),
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let need = |name: &str| {
        vars(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| format!("set the environment variable {name}"))
    };
    let client_id = need("IMS_CLIENT_ID")?;
    let scopes = match vars("IMS_SCOPES") {
        Some(list) if !list.trim().is_empty() => Scopes::parse(&list)?,
        _ => presets::frameio_v4_user(),
    };
    let port = vars("IMS_REDIRECT_PORT").map_or(Ok(0), |p| p.parse::<u16>())?;
    let env = presets::environment_from(&vars, false)?;

    let receiver = LoopbackReceiver::builder().port(port).bind().await?;
    let web = NativeApp::builder(env, client_id, receiver.redirect_uri())
        .scopes(scopes)
        .build()?;
    // The login shows the URL through a channel, so it can be printed to `out` (borrowed
    // here) while the login waits for the redirect.
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
    let (tokens, ()) = tokio::join!(web.login_with_loopback(receiver, show), print);
    let tokens = tokens?;
    writeln!(
        out,
        "signed in: access token {:?}, refresh token {}",
        tokens.access_token().fingerprint(),
        if tokens.refresh_token().is_some() {
            "received"
        } else {
            "none (add offline_access)"
        },
    )?;
    // Adobe's docs say native apps get no refresh token; Frame.io's SDK refreshes anyway. Both work:
    // without one, `refresh` keeps the token until it expires, then asks for a new login.
    let tokens = web.refresh(&tokens).await?;
    writeln!(
        out,
        "refreshed: access token {:?}",
        tokens.access_token().fingerprint()
    )?;
    let me = web.userinfo(tokens.access_token()).await?;
    writeln!(
        out,
        "user: {} <{}>",
        me.name.unwrap_or_default(),
        me.email.unwrap_or_default()
    )?;
    // A logout: revoke the login at IMS (its refresh token ends the grant).
    web.revoke(&tokens).await?;
    writeln!(out, "revoked: signed out")?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    run(&presets::process_env, &mut std::io::stdout()).await
}
