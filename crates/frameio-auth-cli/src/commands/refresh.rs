//! `frameio-auth refresh`: a new access token now, even when the current one is fresh.

use crate::context::Context;
use crate::exit::CliError;
use crate::output;

pub(crate) async fn run(ctx: &Context) -> Result<(), CliError> {
    let session = ctx.session()?;
    let profile = session.profile().name.clone();
    let token = session
        .manager()
        .force_refresh()
        .await
        .map_err(|error| CliError::from_token(&error, &profile))?;
    if ctx.json {
        output::json(&super::token_summary(&profile, &token));
    } else {
        output::line(&format!(
            "refreshed `{profile}`: new access token {}, {}",
            token.access_token().fingerprint(),
            super::expiry_text(&token)
        ));
    }
    Ok(())
}
