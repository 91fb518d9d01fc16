//! What every command starts from: the config file and the chosen profile.

use std::path::PathBuf;

use frameio_auth::profiles::{FRAMEIO_AUTH_CONFIG, ProfileSession, Profiles, ResolvedProfile};

use crate::args::Cli;
use crate::exit::CliError;

/// The process environment.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The global options every command reads.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) json: bool,
    pub(crate) config: Option<PathBuf>,
    pub(crate) profile: Option<String>,
}

impl Context {
    pub(crate) fn new(cli: &Cli) -> Self {
        Self {
            json: cli.json,
            config: cli.config.clone(),
            profile: cli.profile.clone(),
        }
    }

    /// Where config.toml is.
    pub(crate) fn config_path(&self) -> Result<PathBuf, CliError> {
        match &self.config {
            Some(path) => Ok(path.clone()),
            None => Ok(Profiles::default_path_with(&env)?),
        }
    }

    /// The config file; an error (exit 5) when it cannot be read or is invalid.
    pub(crate) fn profiles(&self) -> Result<Profiles, CliError> {
        let path = self.config_path()?;
        if !path.exists() {
            return Err(
                CliError::config(format!("no config file at {}", path.display())).hint(format!(
                    "add a profile (it creates the file): `{}`, or point --config or \
                     {FRAMEIO_AUTH_CONFIG} at another file",
                    crate::exit::suggest(
                        "profiles add NAME --preset frameio-v4-s2s --client-id ID --secret-env VAR"
                    )
                )),
            );
        }
        Ok(Profiles::load_from(path)?)
    }

    /// The config file, or a new empty one at its path when there is none yet.
    pub(crate) fn profiles_or_new(&self) -> Result<Profiles, CliError> {
        let path = self.config_path()?;
        if path.exists() {
            Ok(Profiles::load_from(path)?)
        } else {
            Ok(Profiles::new(path))
        }
    }

    /// The profile the command is about: `--profile`, `FRAMEIO_AUTH_PROFILE`, the file's default.
    pub(crate) fn resolve(&self, profiles: &Profiles) -> Result<ResolvedProfile, CliError> {
        resolve_named(profiles, self.profile.as_deref())
    }

    /// The chosen profile, put to use.
    pub(crate) fn session(&self) -> Result<ProfileSession, CliError> {
        let profiles = self.profiles()?;
        Ok(self.resolve(&profiles)?.session()?)
    }
}

/// The profile `name` (or the default), with the process environment applied.
pub(crate) fn resolve_named(
    profiles: &Profiles,
    name: Option<&str>,
) -> Result<ResolvedProfile, CliError> {
    Ok(profiles.resolve(name, &env)?)
}
