//! The `frameio-auth` command: sign in to Frame.io and Adobe IMS, print a fresh bearer token
//! for scripts, and see the state of every profile.
//!
//! ```sh
//! frameio-auth profiles add work --preset frameio-v4-s2s --client-id ID --secret-env WORK_SECRET
//! frameio-auth login --profile work
//! curl -H "Authorization: Bearer $(frameio-auth token --profile work)" https://api.frame.io/v4/me
//! frameio-auth status
//! ```
//!
//! The command is a thin layer over the [`frameio_auth`] facade (profiles and
//! `TokenManager`); it holds no auth logic of its own. `docs/cli.md` lists every command, its
//! output, its `--json` form and its exit codes:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | any other failure |
//! | 2 | usage: bad arguments |
//! | 3 | a login is needed: the message names the `login` command to run |
//! | 4 | the network or the provider is unavailable: try again later |
//! | 5 | configuration: the config file, a profile, a client id or secret, a scope |
//!
//! This library exists so that the binary stays one line and so that the offline
//! [`demo`] can be run from code, as the tests do:
//!
//! ```
//! # #[cfg(feature = "demo")] {
//! let mut out = Vec::new();
//! let summary = frameio_auth_cli::demo::run_to(&mut out).expect("the demo runs offline");
//! assert!(summary.steps.iter().all(|step| step.ok));
//! assert!(String::from_utf8(out).unwrap().contains("Summary"));
//! # }
//! ```
#![deny(missing_docs)]

mod args;
mod browser;
mod commands;
mod context;
#[cfg(feature = "demo")]
pub mod demo;
mod exit;
mod human;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

/// Runs the command with the process's arguments and environment, and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr (2).
            let _ = error.print();
            if !error.use_stderr() {
                return ExitCode::SUCCESS;
            }
            if std::env::args().any(|arg| arg == "--json") {
                let rendered = error.render().to_string();
                let first = rendered.lines().next().unwrap_or_default();
                let usage = exit::CliError::usage(first.trim_start_matches("error: "));
                output::json(&serde_json::json!({ "error": output::error_json(&usage) }));
            }
            return ExitCode::from(exit::Exit::Usage.code());
        }
    };
    init_tracing(cli.verbose);
    if let Some(config) = &cli.config {
        exit::remember_config(config);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            output::error_line(&format!("error: cannot start the async runtime: {error}"));
            return ExitCode::from(exit::Exit::Other.code());
        }
    };
    let json = cli.json;
    let result = runtime
        .block_on(commands::run(cli))
        .and_then(|()| output::check_stdout());
    // A read of stdin that timed out (`login --paste`) must not hold the exit.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::report_error(&error, json);
            ExitCode::from(error.exit.code())
        }
    }
}

/// The libraries' tracing, to stderr (stdout stays for the command's output): their warnings
/// always (an inline secret in the config file, a store that may drop logins), everything
/// down to debug with `--verbose`.
fn init_tracing(verbose: bool) {
    let level = if verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::WARN
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}
