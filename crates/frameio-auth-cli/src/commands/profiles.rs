//! `frameio-auth profiles add | list | show | remove`.

use std::io::IsTerminal as _;

use frameio_auth::ims::presets;
use frameio_auth::profiles::{
    FRAMEIO_AUTH_PROFILE, Preset, Profile, ProfileError, ProfileKind, Profiles, SecretRef,
    StoreKind,
};
use serde_json::{Value, json};

use crate::args::{AddArgs, ProfilesCommand};
use crate::context::Context;
use crate::exit::CliError;
use crate::output;

pub(crate) async fn run(ctx: &Context, command: ProfilesCommand) -> Result<(), CliError> {
    match command {
        ProfilesCommand::Add(args) => add(ctx, args),
        ProfilesCommand::List => list(ctx),
        ProfilesCommand::Show { name } => show(ctx, name.or_else(|| ctx.profile.clone())),
        ProfilesCommand::Remove { name, keep_login } => remove(ctx, &name, keep_login).await,
    }
}

/// Parses one of a closed set of names, or says which names there are.
fn one_of<T: Copy>(
    field: &str,
    value: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, CliError> {
    all.iter()
        .copied()
        .find(|t| name(*t) == value)
        .ok_or_else(|| {
            CliError::usage(format!(
                "--{field} `{value}` is unknown; expected one of: {}",
                all.iter().map(|t| name(*t)).collect::<Vec<_>>().join(", ")
            ))
        })
}

/// Asks on a terminal, or fails when asking is not possible.
struct Asker {
    interactive: bool,
}

impl Asker {
    fn text(&self, prompt: &str, flag: &str, required: bool) -> Result<Option<String>, CliError> {
        if !self.interactive {
            let pass = if flag.starts_with("the ") {
                flag.to_owned()
            } else {
                format!("--{flag}")
            };
            return if required {
                Err(CliError::usage(format!(
                    "{prompt} is required: pass {pass}"
                )))
            } else {
                Ok(None)
            };
        }
        let answer: String = dialoguer::Input::new()
            .with_prompt(prompt)
            .allow_empty(!required)
            .interact_text()
            .map_err(|e| CliError::usage(format!("cannot ask for {prompt}: {e}")))?;
        Ok(Some(answer.trim().to_owned()).filter(|a| !a.is_empty()))
    }

    fn choose(&self, prompt: &str, flag: &str, items: &[&str]) -> Result<usize, CliError> {
        if !self.interactive {
            return Err(CliError::usage(format!(
                "{prompt} is required: pass --{flag} ({})",
                items.join(", ")
            )));
        }
        dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(0)
            .interact()
            .map_err(|e| CliError::usage(format!("cannot ask for {prompt}: {e}")))
    }
}

fn add(ctx: &Context, args: AddArgs) -> Result<(), CliError> {
    let ask = Asker {
        interactive: !args.no_input
            && std::io::stdin().is_terminal()
            && std::io::stderr().is_terminal(),
    };
    let name = match args.name {
        Some(name) => name,
        None => ask
            .text("profile name", "the profile name (first argument)", true)?
            .unwrap_or_default(),
    };
    let preset = args
        .preset
        .as_deref()
        .map(|p| one_of("preset", p, &Preset::ALL, Preset::as_str))
        .transpose()?;
    let mut preset = preset;
    let mut kind = args
        .kind
        .as_deref()
        .map(|k| one_of("kind", k, &ProfileKind::ALL, ProfileKind::as_str))
        .transpose()?;
    if kind.is_none() && preset.is_none() {
        (preset, kind) = choose_kind(&ask)?;
    }
    let effective = kind
        .or(preset.map(Preset::kind))
        .unwrap_or(ProfileKind::ImsS2s);
    let client_id = match args.client_id {
        Some(id) => Some(id),
        None if effective != ProfileKind::V2DeveloperToken
            && preset != Some(Preset::CloudStorageS2s) =>
        {
            ask.text("client id (API key)", "client-id", true)?
        }
        None => None,
    };
    let redirect_uri = match args.redirect_uri {
        Some(uri) => Some(uri),
        None if effective.has_redirect_uri() => ask.text(
            if matches!(effective, ProfileKind::ImsWeb | ProfileKind::ImsSpa) {
                "redirect URI (IMS wants https: https://localhost/callback listens on any free port)"
            } else {
                "redirect URI (http://127.0.0.1/callback listens on any free port)"
            },
            "redirect-uri",
            true,
        )?,
        None => None,
    };
    let scopes = match args.scopes {
        Some(scopes) => Some(scopes),
        None if preset.is_some() => None,
        None => ask_scopes(&ask, effective)?,
    };
    let secret = secret_ref(
        &ask,
        effective,
        preset,
        args.secret_env,
        args.secret_keyring,
    )?;
    let store = args
        .store
        .as_deref()
        .map(|s| one_of("store", s, &StoreKind::ALL, StoreKind::as_str))
        .transpose()?;
    let profile = Profile {
        preset,
        kind,
        client_id,
        scopes,
        ims_env: args.ims_env,
        v2_oauth_base_url: args.v2_oauth_base_url,
        api_base_url: args.api_base_url,
        redirect_uri,
        store,
        store_dir: args.store_dir,
        secret,
        ..Profile::default()
    };
    let mut profiles = ctx.profiles_or_new()?;
    let replaced = profiles.get(&name).is_some();
    profiles.set(&name, profile)?;
    if args.default || profiles.default_name().is_none() {
        profiles.set_default(Some(&name));
    }
    profiles.save()?;
    report_added(ctx, &profiles, &name, replaced);
    Ok(())
}

fn report_added(ctx: &Context, profiles: &Profiles, name: &str, replaced: bool) {
    if ctx.json {
        output::json(&json!({
            "profile": name,
            "config": profiles.path().display().to_string(),
            "replaced": replaced,
            "default": profiles.default_name() == Some(name),
        }));
    } else {
        output::line(&format!(
            "{} profile `{name}` in {}{}",
            if replaced { "replaced" } else { "added" },
            profiles.path().display(),
            if profiles.default_name() == Some(name) {
                " (the default)"
            } else {
                ""
            }
        ));
        output::line(&format!("next: `{}`", crate::exit::login_command(name)));
    }
}

/// The preset or kind, asked on a terminal: the presets first, as most people want one.
fn choose_kind(ask: &Asker) -> Result<(Option<Preset>, Option<ProfileKind>), CliError> {
    let mut items: Vec<String> = Preset::ALL
        .iter()
        .map(|p| format!("{p} (preset: {}, its scopes)", p.kind()))
        .collect();
    items.extend(ProfileKind::ALL.iter().map(ToString::to_string));
    let labels: Vec<&str> = items.iter().map(String::as_str).collect();
    let chosen = ask.choose("preset or kind", "preset or --kind", &labels)?;
    Ok(match Preset::ALL.get(chosen) {
        Some(preset) => (Some(*preset), None),
        None => (
            None,
            ProfileKind::ALL.get(chosen - Preset::ALL.len()).copied(),
        ),
    })
}

/// The scopes of a profile with no preset: asked (with the usual ones offered), or required
/// as a flag, since IMS refuses a request without them.
fn ask_scopes(ask: &Asker, kind: ProfileKind) -> Result<Option<String>, CliError> {
    let usual = match kind {
        ProfileKind::ImsS2s => Some(presets::FRAMEIO_V4_SERVER_TO_SERVER_SCOPES),
        ProfileKind::ImsWeb | ProfileKind::ImsSpa | ProfileKind::ImsNative => {
            Some(presets::FRAMEIO_V4_USER_SCOPES)
        }
        ProfileKind::V2OAuth => Some("account.read offline"),
        _ => None,
    };
    let Some(usual) = usual else {
        return Ok(None);
    };
    if !ask.interactive {
        return Err(CliError::usage(format!(
            "kind `{kind}` needs scopes: pass --scopes (for example \"{usual}\"){}",
            if kind.is_ims() { " or a --preset" } else { "" }
        )));
    }
    let answer: String = dialoguer::Input::new()
        .with_prompt("scopes")
        .default(usual.to_owned())
        .interact_text()
        .map_err(|e| CliError::usage(format!("cannot ask for the scopes: {e}")))?;
    Ok(Some(answer.trim().to_owned()).filter(|a| !a.is_empty()))
}

/// Where the secret comes from: the flags, else (for kinds that have one) the variable asked
/// for.
fn secret_ref(
    ask: &Asker,
    kind: ProfileKind,
    preset: Option<Preset>,
    env: Option<String>,
    keyring: Option<String>,
) -> Result<Option<SecretRef>, CliError> {
    let needs_secret = matches!(
        kind,
        ProfileKind::ImsS2s | ProfileKind::ImsWeb | ProfileKind::V2DeveloperToken
    ) && preset != Some(Preset::CloudStorageS2s);
    Ok(match (env, keyring) {
        (Some(var), _) => Some(SecretRef::Env(var)),
        (None, Some(entry)) => Some(SecretRef::Keyring(entry)),
        (None, None) if needs_secret => ask
            .text(
                "name of the environment variable that holds the secret",
                "secret-env",
                true,
            )?
            .map(SecretRef::Env),
        (None, None) => None,
    })
}

/// A profile's settings as the file gives them, the secret as a reference only.
fn describe(profile: &Profile) -> Value {
    let secret = match &profile.secret {
        Some(SecretRef::Env(var)) => json!({ "env": var }),
        Some(SecretRef::Keyring(entry)) => json!({ "keyring": entry }),
        Some(SecretRef::Inline(_)) => json!({ "inline": "(hidden)" }),
        Some(_) => json!({ "other": "(hidden)" }),
        None => Value::Null,
    };
    json!({
        "preset": profile.preset.map(Preset::as_str),
        "kind": profile.kind.or(profile.preset.map(Preset::kind)).map(ProfileKind::as_str),
        "client_id": profile.client_id,
        "scopes": profile.scopes.as_deref().map(|list| {
            list.split([',', ' '])
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        }),
        "ims_env": profile.ims_env,
        "redirect_uri": profile.redirect_uri,
        "v2_oauth_base_url": profile.v2_oauth_base_url,
        "api_base_url": profile.api_base_url,
        "store": profile.store.map(StoreKind::as_str),
        "store_dir": profile.store_dir,
        "secret": secret,
    })
}

fn list(ctx: &Context) -> Result<(), CliError> {
    let profiles = ctx.profiles()?;
    let rows: Vec<Value> = profiles
        .names()
        .map(|name| {
            let mut row = profiles.get(name).map_or(Value::Null, describe);
            row["name"] = name.into();
            row["default"] = (profiles.default_name() == Some(name)).into();
            row
        })
        .collect();
    if ctx.json {
        output::json(&json!({ "config": profiles.path().display().to_string(), "profiles": rows }));
        return Ok(());
    }
    if rows.is_empty() {
        output::line(&format!(
            "no profiles: add one with `{}`",
            crate::exit::suggest("profiles add")
        ));
    }
    for row in &rows {
        output::line(&format!(
            "{}{}  {}",
            row["name"].as_str().unwrap_or_default(),
            if row["default"] == true {
                " (default)"
            } else {
                ""
            },
            row["kind"].as_str().unwrap_or("(no kind)"),
        ));
    }
    Ok(())
}

fn show(ctx: &Context, name: Option<String>) -> Result<(), CliError> {
    let profiles = ctx.profiles()?;
    let chosen = name
        .or_else(|| crate::context::env(FRAMEIO_AUTH_PROFILE).filter(|n| !n.trim().is_empty()))
        .or_else(|| profiles.default_name().map(str::to_owned));
    let Some(name) = chosen else {
        return Err(CliError::usage(format!(
            "name a profile: `{}`",
            crate::exit::suggest("profiles show NAME")
        )));
    };
    let Some(profile) = profiles.get(&name) else {
        return Err(unknown(&profiles, &name));
    };
    let mut value = describe(profile);
    value["name"] = name.as_str().into();
    if ctx.json {
        output::json(&value);
        return Ok(());
    }
    output::line(&name);
    for field in FIELD_ORDER {
        let value = &value[*field];
        {
            let text = match value {
                Value::Null => continue,
                Value::String(text) => text.clone(),
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
                Value::Object(map) => map
                    .iter()
                    .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            output::line(&format!("  {field}: {text}"));
        }
    }
    Ok(())
}

/// The order `profiles show` lists the fields in: as `config.toml` is usually written.
const FIELD_ORDER: &[&str] = &[
    "preset",
    "kind",
    "client_id",
    "scopes",
    "ims_env",
    "redirect_uri",
    "v2_oauth_base_url",
    "api_base_url",
    "store",
    "store_dir",
    "secret",
];

/// Removes a profile, logging it out first (unless `keep_login`): once the profile is gone,
/// nothing could name its login to end it.
async fn remove(ctx: &Context, name: &str, keep_login: bool) -> Result<(), CliError> {
    let mut profiles = ctx.profiles()?;
    if profiles.get(name).is_none() {
        return Err(unknown(&profiles, name));
    }
    let logout = if keep_login {
        None
    } else {
        let (row, error) = super::logout::logout_one(&profiles, Some(name)).await;
        match error {
            // Nothing was logged out (the profile could not be used): it stays, so that it
            // can be fixed and logged out, or removed with --keep-login.
            Some(error) if row.get("error").is_some() => {
                return Err(CliError {
                    message: format!("profile `{name}` not removed: {}", error.message),
                    ..error
                }
                .hint(format!(
                    "fix the profile and run this again, or remove it anyway with `{}`",
                    crate::exit::suggest(&format!("profiles remove {name} --keep-login"))
                )));
            }
            // Logged out locally, the provider not told: the profile goes; say so.
            Some(error) => output::error_line(&format!("warning: {}", error.message)),
            None => {}
        }
        Some(row)
    };
    profiles.remove(name);
    profiles.save()?;
    if ctx.json {
        output::json(&json!({ "removed": name, "logout": logout }));
    } else if keep_login {
        output::line(&format!(
            "removed profile `{name}`; its stored login, if any, was kept"
        ));
    } else {
        output::line(&format!("logged out of and removed profile `{name}`"));
    }
    Ok(())
}

fn unknown(profiles: &Profiles, name: &str) -> CliError {
    ProfileError::UnknownProfile {
        name: name.to_owned(),
        path: profiles.path().to_owned(),
        known: profiles.names().map(str::to_owned).collect(),
    }
    .into()
}
