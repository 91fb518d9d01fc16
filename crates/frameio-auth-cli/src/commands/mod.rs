//! One module per command; each is a thin layer over the facade.

mod completions;
mod decode;
mod login;
mod logout;
mod profiles;
mod refresh;
mod status;
mod token;
mod whoami;

use frameio_auth::CachedToken;
use serde_json::{Value, json};

use crate::args::{Cli, Command};
use crate::context::Context;
use crate::exit::CliError;
use crate::human;

/// Runs the parsed command.
pub(crate) async fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Context::new(&cli);
    match cli.command {
        Command::Login(args) => login::run(&ctx, &args).await,
        Command::Token => token::run(&ctx).await,
        Command::Status => status::run(&ctx).await,
        Command::Refresh => refresh::run(&ctx).await,
        Command::Logout(args) => logout::run(&ctx, &args).await,
        Command::Whoami => whoami::run(&ctx).await,
        Command::Decode => decode::run(&ctx).await,
        Command::Profiles(command) => profiles::run(&ctx, command).await,
        Command::Completions { shell } => {
            completions::run(shell);
            Ok(())
        }
        #[cfg(feature = "demo")]
        Command::Demo => crate::demo::run_stdout().await,
    }
}

/// The chosen profile's name and a valid access token: from memory or the store, refreshed
/// when needed, or (`forced`) a new one in any case.
pub(crate) async fn profile_token(
    ctx: &Context,
    forced: bool,
) -> Result<(String, CachedToken), CliError> {
    let session = ctx.session()?;
    let profile = session.profile().name.clone();
    let token = if forced {
        session.manager().force_refresh().await
    } else {
        session.manager().access_token().await
    };
    let token = token.map_err(|error| CliError::from_token(&error, &profile))?;
    Ok((profile, token))
}

/// What a command says about a token it got, never the token: the JSON fields shared by
/// `login`, `refresh` and `token --json`.
pub(crate) fn token_summary(profile: &str, token: &CachedToken) -> Value {
    let now = human::now();
    json!({
        "profile": profile,
        "expires_at": token.expires_at().map(human::instant),
        "expires_in_secs": token
            .expires_at()
            .map(|at| at.saturating_duration_since(now).as_secs()),
        "scopes": token
            .scopes()
            .iter()
            .map(frameio_auth::model::Scope::as_str)
            .collect::<Vec<_>>(),
        "subject": token.subject(),
        "has_refresh_token": token.has_refresh_token(),
    })
}

/// One line about a token: `expires in 23h 59m (2026-12-02T04:00:00Z)`.
pub(crate) fn expiry_text(token: &CachedToken) -> String {
    match token.expires_at() {
        Some(at) => format!(
            "expires {} ({})",
            human::relative(at, human::now()),
            human::instant(at)
        ),
        None => "does not expire".to_owned(),
    }
}
