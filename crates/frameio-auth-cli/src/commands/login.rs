//! `frameio-auth login`: a user login through the browser (loopback redirect, or a pasted
//! URL), or for Server-to-Server and Developer Token profiles one request that checks the
//! credential and stores the token.

use std::io::BufRead as _;
use std::time::Duration;

use frameio_auth::CachedToken;
use frameio_auth::oauth::url::{self, Url};
use frameio_auth::oauth::{LoopbackReceiver, RedirectHost, is_loopback_host};
use frameio_auth::profiles::{ProfileKind, ProfileSession, ResolvedProfile};

use crate::args::LoginArgs;
use crate::browser::{self, Waiting};
use crate::context::Context;
use crate::exit::{CliError, Exit};
use crate::output;

pub(crate) async fn run(ctx: &Context, args: &LoginArgs) -> Result<(), CliError> {
    let profiles = ctx.profiles()?;
    let mut profile = ctx.resolve(&profiles)?;
    let name = profile.name.clone();
    let token = match profile.kind {
        ProfileKind::ImsS2s | ProfileKind::V2DeveloperToken => {
            check_credential(&profile.session()?).await?
        }
        _ => {
            let loopback = if args.paste {
                None
            } else {
                loopback_redirect(&profile)
            };
            match loopback {
                Some(redirect) => {
                    let receiver = bind(&redirect, Duration::from_secs(args.timeout)).await?;
                    // The credential's redirect URI is the receiver's: the port it really got.
                    profile.redirect_uri = Some(receiver.redirect_uri().to_owned());
                    with_loopback(&profile.session()?, receiver, args).await?
                }
                None => with_pasted_url(&profile.session()?, args).await?,
            }
        }
    };
    if ctx.json {
        output::json(&super::token_summary(&name, &token));
    } else {
        output::line(&format!(
            "logged in to `{name}`{}: access token {}, {}; refresh token: {}",
            token
                .subject()
                .map(|s| format!(" as {s}"))
                .unwrap_or_default(),
            token.access_token().fingerprint(),
            super::expiry_text(&token),
            if token.has_refresh_token() {
                "held"
            } else {
                "none"
            },
        ));
    }
    Ok(())
}

/// Server-to-Server: one token request. Developer Token: one `GET /v2/me`. Either way the
/// token is stored when the credential works; a Developer Token that does not is forgotten.
async fn check_credential(session: &ProfileSession) -> Result<CachedToken, CliError> {
    let name = &session.profile().name;
    let token = session
        .manager()
        .force_refresh()
        .await
        .map_err(|error| CliError::from_token(&error, name))?;
    if session.profile().kind == ProfileKind::V2DeveloperToken
        && let Err(error) = session.whoami().await
    {
        let _ = session.manager().logout().await;
        let mut error = CliError::from_whoami(&error, name);
        if error.exit == Exit::NeedsLogin {
            error = CliError::config(format!(
                "Frame.io rejected the Developer Token of `{name}`: {}",
                error.message
            ))
            .hint("create a new Developer Token on developer.frame.io and put it in the profile's secret variable");
        }
        return Err(error);
    }
    Ok(token)
}

/// Where to listen when the redirect URI is an `http(s)` loopback URI: RFC 8252 §7.3, any
/// port when none (or 0) is given.
struct LoopbackRedirect {
    https: bool,
    host: RedirectHost,
    port: u16,
    path: String,
}

fn loopback_redirect(profile: &ResolvedProfile) -> Option<LoopbackRedirect> {
    let uri = Url::parse(profile.redirect_uri.as_deref()?).ok()?;
    let https = match uri.scheme() {
        "http" => false,
        "https" => true,
        _ => return None,
    };
    // The receiver listens on IPv4 loopback; an `[::1]` redirect cannot reach it.
    let host = uri.host()?;
    if !is_loopback_host(&host) || matches!(host, url::Host::Ipv6(_)) {
        return None;
    }
    Some(LoopbackRedirect {
        https,
        host: if uri.host_str() == Some("localhost") {
            RedirectHost::Localhost
        } else {
            RedirectHost::Ip
        },
        port: uri.port().unwrap_or(0),
        path: uri.path().to_owned(),
    })
}

async fn bind(
    redirect: &LoopbackRedirect,
    deadline: Duration,
) -> Result<LoopbackReceiver, CliError> {
    let builder = LoopbackReceiver::builder()
        .port(redirect.port)
        .path(redirect.path.clone())
        .redirect_host(redirect.host)
        .deadline(deadline);
    let bound = if redirect.https {
        builder.https().bind().await.map(|https| {
            output::error_line(
                "The redirect comes back over HTTPS with a certificate made for this login: \
                 the browser warns about it once; continue to localhost.",
            );
            https.into_receiver()
        })
    } else {
        builder.bind().await
    };
    bound.map_err(|error| {
        CliError::new(
            Exit::Other,
            format!("cannot listen for the redirect: {error}"),
        )
        .hint(
            "another program may use the redirect URI's port: stop it, or register \
             http://127.0.0.1/callback (any port) and set it as the profile's redirect_uri; \
             or use --paste",
        )
    })
}

async fn with_loopback(
    session: &ProfileSession,
    receiver: LoopbackReceiver,
    args: &LoginArgs,
) -> Result<CachedToken, CliError> {
    let name = &session.profile().name;
    let login = user_login(session)?;
    let waiting = Waiting::start(Duration::from_secs(args.timeout));
    let result = session
        .manager()
        .login(login.as_ref(), receiver, waiting.show_url(!args.no_browser))
        .await;
    waiting.finish();
    result.map_err(|error| CliError::from_login(&error, name))
}

async fn with_pasted_url(
    session: &ProfileSession,
    args: &LoginArgs,
) -> Result<CachedToken, CliError> {
    let name = &session.profile().name;
    let login = user_login(session)?;
    let (url, pending) = login
        .begin()
        .map_err(|error| CliError::from_auth(&error, name))?;
    browser::show(&url, !args.no_browser, None);
    output::error_line(
        "After signing in, the browser goes to the redirect URI (it may show an error page). \
         Paste that page's full URL here and press Enter:",
    );
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| CliError::new(Exit::Other, format!("cannot read the pasted URL: {e}")))?
    .map_err(|e| CliError::new(Exit::Other, format!("cannot read the pasted URL: {e}")))?;
    let pasted = Url::parse(line.trim()).map_err(|e| {
        CliError::usage(format!("what was pasted is not a URL ({e})")).hint(format!(
            "copy the whole address from the browser's address bar, starting with the redirect \
             URI; run `{}` again",
            crate::exit::login_command(name)
        ))
    })?;
    session
        .manager()
        .complete_login(login.as_ref(), &pending, &pasted)
        .await
        .map_err(|error| CliError::from_login(&error, name))
}

fn user_login(
    session: &ProfileSession,
) -> Result<std::sync::Arc<dyn frameio_auth::oauth::user_login::UserLogin>, CliError> {
    session.user_login().ok_or_else(|| {
        CliError::config(format!(
            "profile `{}` ({}) has no user login",
            session.profile().name,
            session.profile().kind
        ))
    })
}
