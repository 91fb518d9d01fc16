//! `frameio-auth decode`: the access token's JWT header and claims, read but not verified.
//! The token itself and its signature are never printed.

use frameio_auth::ims::{AccessTokenClaims, JwtParts};
use serde_json::{Map, Value, json};

use crate::context::Context;
use crate::exit::{CliError, Exit};
use crate::{human, output};

pub(crate) async fn run(ctx: &Context) -> Result<(), CliError> {
    let (profile, token) = super::profile_token(ctx, false).await?;
    let Some(parts) = JwtParts::decode(token.access_token()) else {
        return Err(CliError::new(
            Exit::Other,
            format!("the access token of `{profile}` is not a JWT: there is nothing to decode"),
        )
        .hint("IMS access tokens are JWTs; Frame.io V2 tokens are opaque"));
    };
    // IMS writes these as strings of milliseconds: shown as times people can read.
    let claims = AccessTokenClaims::decode(token.access_token()).unwrap_or_default();
    let mut times = Map::new();
    if let Some(at) = claims.created_at {
        times.insert("created_at".into(), human::instant(at).into());
    }
    if let Some(lifetime) = claims.expires_in {
        times.insert("expires_in".into(), human::millis(lifetime).into());
    }
    if let Some(at) = claims.expires_at() {
        times.insert("expires_at".into(), human::instant(at).into());
    }
    if let Some(at) = claims.refresh_token_expires_at {
        times.insert("refresh_token_expires_at".into(), human::instant(at).into());
    }
    if ctx.json {
        output::json(&json!({
            "profile": profile,
            "header": parts.header,
            "claims": parts.claims,
            "times": times,
        }));
        return Ok(());
    }
    output::line(&format!(
        "profile `{profile}`: JWT (signature not shown, not verified)"
    ));
    output::line("header:");
    output::line(&pretty(&Value::Object(parts.header)));
    output::line("claims:");
    output::line(&pretty(&Value::Object(parts.claims)));
    if !times.is_empty() {
        output::line("times (from the millisecond claims):");
        for (name, value) in &times {
            output::line(&format!("  {name}: {}", value.as_str().unwrap_or_default()));
        }
    }
    Ok(())
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
