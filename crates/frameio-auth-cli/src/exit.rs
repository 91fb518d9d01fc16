//! Failures as the command reports them: an exit code, what went wrong, and what to do next.

use std::sync::OnceLock;

use frameio_auth::model::{AuthError, ErrorKind, NeedsLoginReason, OAuthErrorCode, ProtocolError};
use frameio_auth::oauth::LoginError;
use frameio_auth::profiles::{ProfileError, WhoamiError};
use frameio_auth::{ProviderLogout, TokenError};

/// The documented exit codes (`docs/cli.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 1: anything else.
    Other,
    /// 2: bad arguments.
    Usage,
    /// 3: a login is needed.
    NeedsLogin,
    /// 4: the network or the provider is unavailable.
    Unavailable,
    /// 5: configuration (file, profile, client id or secret, scopes).
    Config,
}

impl Exit {
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Other => 1,
            Self::Usage => 2,
            Self::NeedsLogin => 3,
            Self::Unavailable => 4,
            Self::Config => 5,
        }
    }

    /// The stable name in `--json` errors.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Other => "other",
            Self::Usage => "usage",
            Self::NeedsLogin => "needs_login",
            Self::Unavailable => "unavailable",
            Self::Config => "configuration",
        }
    }
}

/// A failed command: its exit code, the message (no secret: every error of the libraries is
/// redacted) and the next step.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) exit: Exit,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    /// Already in the command's `--json` result: not printed again as a JSON document.
    pub(crate) reported: bool,
}

impl CliError {
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
            hint: None,
            reported: false,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(Exit::Config, message)
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    /// A library error about `profile`, with the next step its kind calls for.
    pub(crate) fn from_auth(error: &AuthError, profile: &str) -> Self {
        match error {
            // The anti-CSRF check: this redirect belongs to another (or an older) login.
            AuthError::Protocol {
                source: ProtocolError::StateMismatch,
                ..
            } => {
                return Self::new(Exit::Other, error.to_string()).hint(format!(
                    "paste the URL of the login you just started, in the same browser; run `{}` \
                     again if in doubt",
                    login_command(profile)
                ));
            }
            AuthError::NeedsLogin {
                reason: NeedsLoginReason::NoStoredLogin { .. },
                ..
            } => {
                return Self::new(
                    Exit::NeedsLogin,
                    format!("profile `{profile}` has no stored login"),
                )
                .hint(format!("sign in: `{}`", login_command(profile)));
            }
            _ => {}
        }
        let (exit, hint) = advice(error.kind(), oauth_code(error), profile);
        Self {
            exit,
            message: error.to_string(),
            hint,
            reported: false,
        }
    }

    pub(crate) fn from_token(error: &TokenError, profile: &str) -> Self {
        Self::from_auth(error.auth_error(), profile)
    }

    pub(crate) fn from_login(error: &LoginError, profile: &str) -> Self {
        match error {
            LoginError::Auth(auth) => Self::from_auth(auth, profile),
            _ if error.is_timeout() => Self::new(Exit::Other, error.to_string()).hint(format!(
                "no redirect arrived in time: run `{}` again, or use `--paste` if the browser \
                 cannot reach this machine",
                login_command(profile)
            )),
            LoginError::RedirectUriMismatch { .. } => Self::config(error.to_string()),
            _ => Self::new(Exit::Other, error.to_string()),
        }
    }

    pub(crate) fn from_whoami(error: &WhoamiError, profile: &str) -> Self {
        match error {
            WhoamiError::Token(token) => Self::from_token(token, profile),
            WhoamiError::Ims(auth) => Self::from_auth(auth, profile),
            _ => {
                let (exit, hint) = advice(error.kind(), None, profile);
                Self {
                    exit,
                    message: error.to_string(),
                    hint,
                    reported: false,
                }
            }
        }
    }

    pub(crate) fn from_logout(provider: &ProviderLogout, profile: &str) -> Option<Self> {
        match provider {
            ProviderLogout::Failed(error) => Some(Self::from_token(error, profile)),
            _ => None,
        }
    }
}

impl From<ProfileError> for CliError {
    fn from(error: ProfileError) -> Self {
        let hint = match &error {
            ProfileError::Read { .. } => Some(format!(
                "add a profile with `{}`, or point --config (or FRAMEIO_AUTH_CONFIG) at your \
                 config.toml",
                suggest("profiles add")
            )),
            ProfileError::Config { profile, .. } | ProfileError::Profile { profile, .. } => {
                Some(format!(
                    "fix the profile in the config file (see `{}`)",
                    suggest(&format!("profiles show {}", shell_word(profile)))
                ))
            }
            ProfileError::UnknownProfile { .. } => Some(format!(
                "see the profiles with `{}`",
                suggest("profiles list")
            )),
            _ => None,
        };
        Self {
            exit: Exit::Config,
            message: error.to_string(),
            hint,
            reported: false,
        }
    }
}

fn oauth_code(error: &AuthError) -> Option<&OAuthErrorCode> {
    match error {
        AuthError::InvalidClient { error, .. } | AuthError::Rejected { error, .. } => {
            Some(&error.error)
        }
        _ => None,
    }
}

/// The exit code and next step for an error of `kind` (and OAuth `code`) on `profile`.
fn advice(kind: ErrorKind, code: Option<&OAuthErrorCode>, profile: &str) -> (Exit, Option<String>) {
    match (kind, code) {
        (ErrorKind::NeedsLogin, _) => (
            Exit::NeedsLogin,
            Some(format!("sign in again: `{}`", login_command(profile))),
        ),
        (ErrorKind::InvalidClient, _) => (
            Exit::Config,
            Some(
                "check the client id and client secret in the Adobe Developer Console (or the \
                 Frame.io developer site for V2 apps), and the profile's secret_env variable"
                    .to_owned(),
            ),
        ),
        (_, Some(OAuthErrorCode::InvalidScope)) => (
            Exit::Config,
            Some(
                "a scope was refused: add the API (Frame.io API, or Cloud Storage) to the \
                 credential in the Adobe Developer Console, or remove the scope from the \
                 profile's `scopes`"
                    .to_owned(),
            ),
        ),
        (_, Some(OAuthErrorCode::UnauthorizedClient)) => (
            Exit::Config,
            Some(
                "this credential may not use this flow: check its type (Server-to-Server, Web \
                 App, Single Page App, Native App) against the profile's `kind`"
                    .to_owned(),
            ),
        ),
        (_, Some(OAuthErrorCode::AccessDenied)) => (
            Exit::Other,
            Some(format!(
                "the sign-in was cancelled or denied: run `{}` again",
                login_command(profile)
            )),
        ),
        (ErrorKind::Transient, _) => (
            Exit::Unavailable,
            Some(
                "the provider could not be reached or is busy: check the network (and any \
                 HTTPS_PROXY), then try again"
                    .to_owned(),
            ),
        ),
        (ErrorKind::Configuration, _) => (
            Exit::Config,
            Some(format!(
                "fix the profile: `{}`",
                suggest(&format!("profiles show {}", shell_word(profile)))
            )),
        ),
        (ErrorKind::Store, _) => (
            Exit::Other,
            Some(
                "check that the token store (directory or keyring) is reachable and writable"
                    .to_owned(),
            ),
        ),
        (ErrorKind::Protocol, _) => (
            Exit::Unavailable,
            Some(
                "the provider answered something unexpected: try again later; run with \
                 --verbose and report the debug id if it persists"
                    .to_owned(),
            ),
        ),
        _ => (Exit::Other, None),
    }
}

/// `--config FILE`, when the command was given one: repeated in every command it suggests.
static CONFIG_FLAG: OnceLock<String> = OnceLock::new();

/// Remembers the `--config` the command was run with, for the commands it suggests.
pub(crate) fn remember_config(path: &std::path::Path) {
    let _ = CONFIG_FLAG.set(format!(
        " --config {}",
        shell_word(&path.display().to_string())
    ));
}

/// The command `frameio-auth <rest>`, with the `--config` this one was given.
pub(crate) fn suggest(rest: &str) -> String {
    format!(
        "frameio-auth{} {rest}",
        CONFIG_FLAG.get().map_or("", String::as_str)
    )
}

/// The exact command that signs `profile` in.
pub(crate) fn login_command(profile: &str) -> String {
    suggest(&format!("login --profile {}", shell_word(profile)))
}

/// `word` as one shell word: as is when it is plain, else in single quotes.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}
