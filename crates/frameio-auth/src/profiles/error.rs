//! Everything that can go wrong with profiles. No message ever holds a secret value.

use std::path::PathBuf;

use frameio_auth_core::{ConfigError, StoreError};

/// A profile could not be read, understood, used or written. Every message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}; create it, or set FRAMEIO_AUTH_CONFIG to its path")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No platform config directory (no home directory).
    #[error("no home directory to find config.toml in: set FRAMEIO_AUTH_CONFIG to its path")]
    NoConfigDir,
    /// The file is not valid TOML, or a field is wrong; `field` is the dotted path.
    #[error("{}:{line}:{column}: {}{message}", path.display(), field_prefix(field.as_deref()))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The field, as a dotted path (`profiles.work.kind`), when one is at fault.
        field: Option<String>,
        /// What is wrong and what is expected.
        message: String,
    },
    /// No profile of that name.
    #[error("no profile `{name}` in {}{}", path.display(), known_list(known))]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The file.
        path: PathBuf,
        /// The profiles the file has.
        known: Vec<String>,
    },
    /// No profile named, and no default.
    #[error(
        "no profile was named: set `default = \"<name>\"` in {} or FRAMEIO_AUTH_PROFILE",
        path.display()
    )]
    NoDefault {
        /// The file.
        path: PathBuf,
    },
    /// The secret's environment variable is not set.
    #[error(
        "profile `{profile}`: the environment variable {variable} is not set (or empty); export it with the secret"
    )]
    MissingSecretVariable {
        /// The profile.
        profile: String,
        /// The variable `secret_env` names.
        variable: String,
    },
    /// A profile is incomplete or inconsistent once the environment and preset are applied.
    #[error("profile `{profile}`: {message}")]
    Profile {
        /// The profile.
        profile: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A credential could not be built from the profile.
    #[error("profile `{profile}`: {source}")]
    Config {
        /// The profile.
        profile: String,
        /// Why.
        source: ConfigError,
    },
    /// The profile's store could not be opened.
    #[error("profile `{profile}`: {source}")]
    Store {
        /// The profile.
        profile: String,
        /// Why.
        source: StoreError,
    },
}

fn field_prefix(field: Option<&str>) -> String {
    field.map(|f| format!("`{f}`: ")).unwrap_or_default()
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        " (it has no profiles)".to_owned()
    } else {
        format!(" (profiles: {})", known.join(", "))
    }
}
