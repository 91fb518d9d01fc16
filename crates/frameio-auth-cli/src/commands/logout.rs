//! `frameio-auth logout [--all]`: end the login at the provider, then delete it locally.

use frameio_auth::ProviderLogout;
use frameio_auth::model::Revocation;
use serde_json::{Value, json};

use crate::args::LogoutArgs;
use crate::context::Context;
use crate::exit::CliError;
use crate::output;

pub(crate) async fn run(ctx: &Context, args: &LogoutArgs) -> Result<(), CliError> {
    let profiles = ctx.profiles()?;
    let names: Vec<Option<String>> = if args.all {
        profiles.names().map(|n| Some(n.to_owned())).collect()
    } else {
        vec![ctx.profile.clone()]
    };
    let mut reports = Vec::new();
    let mut first_error = None;
    for name in names {
        let session = match crate::context::resolve_named(&profiles, name.as_deref())
            .and_then(|profile| Ok(profile.session()?))
        {
            Ok(session) => session,
            Err(error) => {
                reports.push(json!({ "profile": name, "error": error.message }));
                first_error.get_or_insert(error);
                continue;
            }
        };
        let profile = session.profile().name.clone();
        let report = session.manager().logout().await;
        let provider = match &report.provider {
            ProviderLogout::Done(Revocation::Revoked) => "revoked",
            ProviderLogout::Done(_) => "not supported by the provider",
            ProviderLogout::NothingStored => "nothing stored",
            ProviderLogout::Failed(_) => "failed",
            _ => "unknown",
        };
        let local = match &report.local {
            Ok(()) => "deleted".to_owned(),
            Err(error) => format!("failed: {error}"),
        };
        reports.push(json!({ "profile": profile, "provider": provider, "local": local }));
        if !ctx.json {
            output::line(&format!(
                "logged out of `{profile}`: provider: {provider}; local: {local}"
            ));
        }
        if let Some(error) = CliError::from_logout(&report.provider, &profile) {
            let error = CliError {
                message: format!("`{profile}`: the provider was not told: {}", error.message),
                ..error
            };
            first_error.get_or_insert(error);
        } else if let Err(error) = &report.local {
            first_error.get_or_insert(CliError::from_token(error, &profile));
        }
    }
    if ctx.json {
        output::json(&json!({ "logouts": Value::Array(reports) }));
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}
