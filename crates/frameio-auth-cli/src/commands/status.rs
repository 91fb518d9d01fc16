//! `frameio-auth status`: every profile (or the one named) and its stored login, without a
//! request and without a secret.

use frameio_auth::model::{Timestamp, TokenSet};
use frameio_auth::profiles::{Preset, ProfileError, Profiles};
use serde_json::{Value, json};

use crate::context::{self, Context};
use crate::exit::CliError;
use crate::{human, output};

pub(crate) async fn run(ctx: &Context) -> Result<(), CliError> {
    let profiles = ctx.profiles()?;
    let names: Vec<String> = match &ctx.profile {
        Some(name) if profiles.get(name).is_none() => {
            return Err(ProfileError::UnknownProfile {
                name: name.clone(),
                path: profiles.path().to_owned(),
                known: profiles.names().map(str::to_owned).collect(),
            }
            .into());
        }
        Some(name) => vec![name.clone()],
        None => profiles.names().map(str::to_owned).collect(),
    };
    let now = human::now();
    let mut rows = Vec::new();
    for name in &names {
        rows.push(row(&profiles, name, now).await);
    }
    if ctx.json {
        output::json(&json!({
            "config": profiles.path().display().to_string(),
            "default": profiles.default_name(),
            "profiles": rows,
        }));
        return Ok(());
    }
    output::line(&format!("config: {}", profiles.path().display()));
    if rows.is_empty() {
        output::line(&format!(
            "no profiles: add one with `{}`",
            crate::exit::suggest("profiles add")
        ));
    }
    for (name, row) in names.iter().zip(&rows) {
        print_row(
            name,
            row,
            profiles.default_name() == Some(name.as_str()),
            now,
        );
    }
    Ok(())
}

/// One profile's state as the stable JSON of `status --json`. Read from the store alone: no
/// request, and no secret needed.
async fn row(profiles: &Profiles, name: &str, now: Timestamp) -> Value {
    let mut row = json!({
        "name": name,
        "default": profiles.default_name() == Some(name),
    });
    let profile = match profiles.resolve_without_secret(Some(name), &context::env) {
        Ok(profile) => profile,
        Err(error) => {
            if let Some(kind) = profiles
                .get(name)
                .and_then(|p| p.kind.or(p.preset.map(Preset::kind)))
            {
                row["kind"] = kind.as_str().into();
            }
            row["error"] = error.to_string().into();
            return row;
        }
    };
    row["kind"] = profile.kind.as_str().into();
    row["store"] = profile.store.as_str().into();
    if let Err(ProfileError::MissingSecretVariable { variable, .. }) =
        profiles.resolve(Some(name), &context::env)
    {
        row["secret_missing"] = variable.into();
    }
    match profile.stored_logins().await {
        Ok(logins) => match logins.first() {
            Some((_, tokens)) => fill_login(&mut row, tokens, now),
            None => row["logged_in"] = false.into(),
        },
        Err(error) => row["error"] = format!("cannot read the store: {error}").into(),
    }
    row
}

fn fill_login(row: &mut Value, tokens: &TokenSet, now: Timestamp) {
    row["logged_in"] = true.into();
    row["subject"] = tokens.subject().into();
    row["scopes"] = tokens
        .scopes()
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect::<Vec<_>>()
        .into();
    row["expires_at"] = tokens.expires_at().map(human::instant).into();
    row["expired"] = tokens.is_expired(now).into();
    row["has_refresh_token"] = tokens.refresh_token().is_some().into();
    row["refresh_token_expires_at"] = tokens.refresh_token_expires_at().map(human::instant).into();
}

fn print_row(name: &str, row: &Value, is_default: bool, now: Timestamp) {
    let text = |field: &str| row[field].as_str().map(str::to_owned);
    output::line("");
    output::line(&format!(
        "{name}{}",
        if is_default { " (default)" } else { "" }
    ));
    if let Some(kind) = text("kind") {
        output::line(&format!("  kind:          {kind}"));
    }
    if let Some(error) = text("error") {
        output::line(&format!("  problem:       {error}"));
        return;
    }
    output::line(&format!(
        "  store:         {}",
        text("store").unwrap_or_default()
    ));
    if let Some(variable) = text("secret_missing") {
        output::line(&format!(
            "  secret:        {variable} is not set here: every command that gets a token needs it"
        ));
    }
    if row["logged_in"] != true {
        output::line(&format!(
            "  login:         none; run `{}`",
            crate::exit::login_command(name)
        ));
        return;
    }
    output::line(&format!(
        "  subject:       {}",
        text("subject").unwrap_or_else(|| "(not given)".to_owned())
    ));
    let scopes: Vec<&str> = row["scopes"]
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    output::line(&format!("  scopes:        {}", scopes.join(" ")));
    output::line(&format!(
        "  access token:  {}",
        when(row, "expires_at", now, row["expired"] == true)
    ));
    let refresh = if row["has_refresh_token"] == true {
        format!(
            "held, {}",
            when(row, "refresh_token_expires_at", now, false)
        )
    } else {
        "none".to_owned()
    };
    output::line(&format!("  refresh token: {refresh}"));
}

/// `expires in 23h 59m (2026-12-02T04:00:00Z)`, from an RFC 3339 field of `row`.
fn when(row: &Value, field: &str, now: Timestamp, expired: bool) -> String {
    let Some(at) = row[field].as_str() else {
        return "no expiry given".to_owned();
    };
    let relative = humantime::parse_rfc3339(at)
        .map(|time| human::relative(Timestamp::from_system_time(time), now))
        .unwrap_or_default();
    let verb = if expired { "expired" } else { "expires" };
    format!("{verb} {relative} ({at})")
}
