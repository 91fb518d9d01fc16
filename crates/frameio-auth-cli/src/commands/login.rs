//! `frameio-auth login`: a user login through the browser (loopback redirect, or a pasted
//! URL), or for Server-to-Server and Developer Token profiles one request that checks the
//! credential and stores the token.

use std::io::BufRead as _;
use std::time::Duration;

use frameio_auth::CachedToken;
use frameio_auth::oauth::url::Url;
use frameio_auth::oauth::{LoopbackReceiver, LoopbackRedirect};
use frameio_auth::profiles::{ProfileKind, ProfileSession, StoreKind};

use crate::args::LoginArgs;
use crate::browser::{self, Waiting};
use crate::context::Context;
use crate::exit::{CliError, Exit};
use crate::output;

pub(crate) async fn run(ctx: &Context, args: &LoginArgs) -> Result<(), CliError> {
    let profiles = ctx.profiles()?;
    let mut profile = ctx.resolve(&profiles)?;
    let name = profile.name.clone();
    if profile.store == StoreKind::Memory {
        output::error_line(&format!(
            "note: profile `{name}` keeps tokens in memory (store = \"memory\"): this login ends \
             with this command"
        ));
    }
    let token = match profile.kind {
        ProfileKind::ImsS2s | ProfileKind::V2DeveloperToken => {
            check_credential(&profile.session()?).await?
        }
        _ => {
            let redirect = profile.redirect_uri.as_deref().unwrap_or_default();
            let loopback = match LoopbackRedirect::parse(redirect) {
                Ok(loopback) if !args.paste => Some(loopback),
                Ok(_) => None,
                Err(why) => {
                    output::error_line(&format!("{why}: this login takes the redirect by paste."));
                    None
                }
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

/// Server-to-Server and Developer Token: one request that checks the credential (see
/// `ProfileSession::verify_credential`).
async fn check_credential(session: &ProfileSession) -> Result<CachedToken, CliError> {
    let name = &session.profile().name;
    session.verify_credential().await.map_err(|error| {
        let error = CliError::from_whoami(&error, name);
        if session.profile().kind == ProfileKind::V2DeveloperToken && error.exit == Exit::NeedsLogin
        {
            CliError::config(format!(
                "Frame.io rejected the Developer Token of `{name}`: {}",
                error.message
            ))
            .hint(
                "create a new Developer Token on developer.frame.io and put it in the \
                 profile's secret variable",
            )
        } else {
            error
        }
    })
}

async fn bind(
    redirect: &LoopbackRedirect,
    deadline: Duration,
) -> Result<LoopbackReceiver, CliError> {
    if redirect.is_https() {
        output::error_line(
            "The redirect comes back over HTTPS with a certificate made for this login: the \
             browser warns about it once; continue to localhost.",
        );
    }
    redirect.bind(deadline).await.map_err(|error| {
        CliError::new(
            Exit::Other,
            format!("cannot listen for the redirect at {redirect}: {error}"),
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
    let login =
        session
            .manager()
            .login(login.as_ref(), receiver, waiting.show_url(!args.no_browser));
    // Ctrl-C clears the spinner's line before the command ends.
    let result = tokio::select! {
        result = login => Some(result),
        _ = tokio::signal::ctrl_c() => None,
    };
    waiting.finish();
    match result {
        Some(result) => result.map_err(|error| CliError::from_login(&error, name)),
        None => Err(CliError::new(Exit::Other, "the login was cancelled")),
    }
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
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    });
    let waited = tokio::select! {
        waited = tokio::time::timeout(Duration::from_secs(args.timeout), read) => waited,
        _ = tokio::signal::ctrl_c() => {
            return Err(CliError::new(Exit::Other, "the login was cancelled"));
        }
    };
    let line = waited
        .map_err(|_| {
            CliError::new(
                Exit::Other,
                format!("nothing was pasted within {}s", args.timeout),
            )
            .hint(format!(
                "run `{}` again (with a longer --timeout if signing in takes a while)",
                crate::exit::login_command(name)
            ))
        })?
        .map_err(|e| CliError::new(Exit::Other, format!("cannot read the pasted URL: {e}")))?
        .map_err(|e| CliError::new(Exit::Other, format!("cannot read the pasted URL: {e}")))?;
    if line.trim().is_empty() {
        return Err(
            CliError::new(Exit::Other, "nothing was pasted").hint(format!(
                "run `{}` again and paste the address the browser ends on",
                crate::exit::login_command(name)
            )),
        );
    }
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
