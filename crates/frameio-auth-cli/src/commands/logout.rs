//! `frameio-auth logout [--all]`: end the login at the provider, then delete it locally.
//! Where the secret a revocation needs is not set, the local copy is still deleted and the
//! command says that the provider was not told.

use frameio_auth::ProviderLogout;
use frameio_auth::model::Revocation;
use frameio_auth::profiles::{ProfileError, Profiles};
use serde_json::{Value, json};

use crate::args::LogoutArgs;
use crate::context::{self, Context};
use crate::exit::{CliError, Exit};
use crate::output;

pub(crate) async fn run(ctx: &Context, args: &LogoutArgs) -> Result<(), CliError> {
    let profiles = ctx.profiles()?;
    let names: Vec<Option<String>> = if args.all {
        profiles.names().map(|n| Some(n.to_owned())).collect()
    } else {
        vec![ctx.profile.clone()]
    };
    let mut rows = Vec::new();
    let mut first_error = None;
    for name in names {
        let (row, error) = logout_one(&profiles, name.as_deref()).await;
        if !ctx.json {
            output::line(&describe(&row));
        }
        rows.push(row);
        if let Some(error) = error {
            first_error.get_or_insert(error);
        }
    }
    let mut result = json!({ "logouts": rows });
    if let Some(error) = &mut first_error {
        result["error"] = output::error_json(error);
        error.reported = true;
    }
    if ctx.json {
        output::json(&result);
    }
    first_error.map_or(Ok(()), Err)
}

/// Logs one profile out: at the provider when its credential can be built, then locally.
/// The row for the result, and the error to exit with, if any.
pub(crate) async fn logout_one(
    profiles: &Profiles,
    name: Option<&str>,
) -> (Value, Option<CliError>) {
    match profiles.resolve(name, &context::env) {
        Ok(profile) => match profile.session() {
            Ok(session) => {
                let report = session.manager().logout().await;
                let name = session.profile().name.clone();
                let provider = match &report.provider {
                    ProviderLogout::Done(Revocation::Revoked) => "revoked",
                    ProviderLogout::Done(_) => "cannot revoke (only deleted locally)",
                    ProviderLogout::NothingStored => "nothing stored",
                    ProviderLogout::Failed(_) => "failed",
                    _ => "unknown",
                };
                let local = match (&report.local, &report.provider) {
                    (Ok(()), ProviderLogout::NothingStored) => "nothing stored".to_owned(),
                    (Ok(()), _) => "deleted".to_owned(),
                    (Err(error), _) => format!("failed: {error}"),
                };
                let error = CliError::from_logout(&report.provider, &name)
                    .map(|error| {
                        CliError {
                            message: format!(
                                "`{name}`: deleted locally, but the provider was not told: {}",
                                error.message
                            ),
                            ..error
                        }
                        .hint(
                            "the login stays valid at the provider until its tokens expire; to \
                             end it sooner, remove the app's access in your Adobe or Frame.io \
                             account (user logins) or rotate the client secret \
                             (Server-to-Server)",
                        )
                    })
                    .or_else(|| {
                        report
                            .local
                            .as_ref()
                            .err()
                            .map(|error| CliError::from_token(error, &name))
                    });
                let row = json!({ "profile": name, "provider": provider, "local": local });
                (row, error)
            }
            Err(error) => failed(name, error.into()),
        },
        Err(ProfileError::MissingSecretVariable { variable, .. }) => {
            locally_only(profiles, name, &variable).await
        }
        Err(error) => failed(name, error.into()),
    }
}

/// Without the secret the provider cannot be asked; the stored login is deleted all the same
/// (a logout that leaves the login on disk would be worse), and the command says so.
async fn locally_only(
    profiles: &Profiles,
    name: Option<&str>,
    variable: &str,
) -> (Value, Option<CliError>) {
    let profile = match profiles.resolve_without_secret(name, &context::env) {
        Ok(profile) => profile,
        Err(error) => return failed(name, error.into()),
    };
    let local = match profile.forget_stored_logins().await {
        Ok(0) => "nothing stored".to_owned(),
        Ok(_) => "deleted".to_owned(),
        Err(error) => return failed(name, error.into()),
    };
    // Frame.io V2 has no revocation: deleting the local copy is the whole logout.
    if !profile.kind.is_ims() {
        let row = json!({
            "profile": profile.name,
            "provider": "cannot revoke (only deleted locally)",
            "local": local,
        });
        return (row, None);
    }
    let row = json!({
        "profile": profile.name,
        "provider": "not told (the secret is not set)",
        "local": local,
    });
    let error = (local == "deleted").then(|| {
        CliError::new(
            Exit::Config,
            format!(
                "`{}`: deleted locally, but the provider was not told: {variable} is not set",
                profile.name
            ),
        )
        .hint(
            "the login stays valid at the provider until its tokens expire; to end it sooner, \
             export the variable and log in and out again, or rotate the client secret in the \
             Adobe Developer Console",
        )
    });
    (row, error)
}

fn failed(name: Option<&str>, error: CliError) -> (Value, Option<CliError>) {
    let row = json!({ "profile": name, "error": error.message });
    (row, Some(error))
}

/// One line of text for a row.
fn describe(row: &Value) -> String {
    let name = row["profile"].as_str().unwrap_or("(default)");
    if let Some(error) = row["error"].as_str() {
        return format!("`{name}`: not logged out: {error}");
    }
    format!(
        "logged out of `{name}`: provider: {}; local: {}",
        row["provider"].as_str().unwrap_or_default(),
        row["local"].as_str().unwrap_or_default()
    )
}
