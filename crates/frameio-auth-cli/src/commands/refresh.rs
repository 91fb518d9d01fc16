//! `frameio-auth refresh`: a new access token now, even when the current one is fresh.

use crate::context::Context;
use crate::exit::CliError;
use crate::output;

pub(crate) async fn run(ctx: &Context) -> Result<(), CliError> {
    let (profile, token) = super::profile_token(ctx, true).await?;
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
