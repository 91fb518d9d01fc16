//! `frameio-auth whoami`: IMS user info, Frame.io `/v4/me` or `/v2/me`.

use serde_json::json;

use crate::context::Context;
use crate::exit::CliError;
use crate::output;

pub(crate) async fn run(ctx: &Context) -> Result<(), CliError> {
    let session = ctx.session()?;
    let profile = session.profile().name.clone();
    let me = session
        .whoami()
        .await
        .map_err(|error| CliError::from_whoami(&error, &profile))?;
    if ctx.json {
        output::json(&json!({
            "profile": profile,
            "source": me.source.as_str(),
            "id": me.id,
            "name": me.name,
            "email": me.email,
        }));
    } else {
        let mut text = me.id.clone();
        if let Some(name) = &me.name {
            text = format!("{name} ({text})");
        }
        if let Some(email) = &me.email {
            text = format!("{text} <{email}>");
        }
        output::line(&format!(
            "{text}  [profile `{profile}`, from {}]",
            me.source
        ));
    }
    Ok(())
}
