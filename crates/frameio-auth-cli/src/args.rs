//! The command line, as clap reads it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

/// Get, keep and refresh the bearer tokens for Frame.io and Adobe APIs.
#[derive(Debug, Parser)]
#[command(
    name = "frameio-auth",
    version,
    about,
    after_help = "Exit codes: 0 ok, 1 other failure, 2 usage, 3 login needed, 4 network or \
                  provider unavailable, 5 configuration. See docs/cli.md."
)]
pub(crate) struct Cli {
    /// Show the libraries' tracing on stderr (never a secret).
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,
    /// Print machine-readable JSON on stdout (the format is stable; see docs/cli.md).
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// The config file (default: `FRAMEIO_AUTH_CONFIG`, else the platform config directory).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The profile (default: `FRAMEIO_AUTH_PROFILE`, else the file's `default`).
    #[arg(long, short, global = true, value_name = "NAME")]
    pub(crate) profile: Option<String>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

// Parsed once per process: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Sign in (user profiles: browser and loopback redirect, or --paste), or check and store
    /// the credential (Server-to-Server, Developer Token).
    Login(LoginArgs),
    /// Print a valid access token and nothing else, refreshing it when needed.
    Token,
    /// Show every profile (or one): kind, subject, scopes, store, expiry, refresh token.
    Status,
    /// Get a new access token now, even if the current one is still fresh.
    Refresh,
    /// End the login at the provider (revoke or invalidate), then delete it locally.
    Logout(LogoutArgs),
    /// Who the token belongs to: IMS user info, Frame.io /v4/me or /v2/me.
    Whoami,
    /// The current access token's JWT header and claims (never the token or its signature).
    Decode,
    /// Add, list, show or remove profiles.
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: Shell,
    },
    /// Walk through every flow against fake servers in this process: no network, no
    /// configuration, nothing left behind.
    #[cfg(feature = "demo")]
    Demo,
}

#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// Print the URL instead of opening the browser.
    #[arg(long)]
    pub(crate) no_browser: bool,
    /// Do not listen for the redirect: paste the final URL from the browser's address bar
    /// (custom-scheme redirects, remote machines).
    #[arg(long)]
    pub(crate) paste: bool,
    /// How long to wait for the browser, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub(crate) timeout: u64,
}

#[derive(Debug, Args)]
pub(crate) struct LogoutArgs {
    /// Log out of every profile.
    #[arg(long, conflicts_with = "profile")]
    pub(crate) all: bool,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum ProfilesCommand {
    /// Add or replace a profile: asks on a terminal for what the flags do not give.
    Add(AddArgs),
    /// List the profiles.
    List,
    /// Show one profile's settings (never a secret's value).
    Show {
        /// The profile (default: `--profile`, `FRAMEIO_AUTH_PROFILE` or the file's default).
        name: Option<String>,
    },
    /// Log a profile out (as `logout` does) and remove it.
    Remove {
        /// The profile.
        name: String,
        /// Keep its stored login (nothing will name it any more).
        #[arg(long)]
        keep_login: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The profile's name.
    pub(crate) name: Option<String>,
    /// Start from a preset: frameio-v4-s2s, cloud-storage-s2s, frameio-v4-user.
    #[arg(long)]
    pub(crate) preset: Option<String>,
    /// The kind: ims-s2s, ims-web, ims-spa, ims-native, v2-developer-token, v2-oauth.
    #[arg(long)]
    pub(crate) kind: Option<String>,
    /// The client id (API key).
    #[arg(long)]
    pub(crate) client_id: Option<String>,
    /// The scopes, comma separated.
    #[arg(long)]
    pub(crate) scopes: Option<String>,
    /// The IMS environment: prod, stage or a base URL.
    #[arg(long)]
    pub(crate) ims_env: Option<String>,
    /// The redirect URI registered for the credential.
    #[arg(long)]
    pub(crate) redirect_uri: Option<String>,
    /// The Frame.io V2 OAuth base URL.
    #[arg(long)]
    pub(crate) v2_oauth_base_url: Option<String>,
    /// The Frame.io API base URL (for whoami).
    #[arg(long)]
    pub(crate) api_base_url: Option<String>,
    /// Where tokens are kept: file, keyring or memory.
    #[arg(long)]
    pub(crate) store: Option<String>,
    /// The file store's directory.
    #[arg(long)]
    pub(crate) store_dir: Option<String>,
    /// The name of the environment variable that holds the secret.
    #[arg(long, conflicts_with = "secret_keyring")]
    pub(crate) secret_env: Option<String>,
    /// The OS keyring entry that holds the secret.
    #[arg(long)]
    pub(crate) secret_keyring: Option<String>,
    /// Make it the default profile.
    #[arg(long)]
    pub(crate) default: bool,
    /// Never ask: fail if something required is missing.
    #[arg(long)]
    pub(crate) no_input: bool,
}
