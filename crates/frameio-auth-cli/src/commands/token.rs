//! `frameio-auth token`: the one command that prints a token, and nothing else on stdout.

use crate::context::Context;
use crate::exit::CliError;
use crate::output;

pub(crate) async fn run(ctx: &Context) -> Result<(), CliError> {
    let (profile, token) = super::profile_token(ctx, false).await?;
    if ctx.json {
        let mut value = super::token_summary(&profile, &token);
        value["access_token"] = token.expose_secret().into();
        value["token_type"] = "Bearer".into();
        output::json(&value);
    } else {
        output::line(token.expose_secret());
    }
    Ok(())
}
