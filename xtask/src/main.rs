//! `cargo xtask`: the repository's automation, written in plain Rust so that CI and
//! developers run exactly the same checks with nothing but a Rust toolchain.
//!
//! `cargo xtask ci [STEP...]` runs the CI steps (see [`step::Step`]); `cargo xtask release`
//! cuts a release locally (see [`release`]); `cargo xtask --help` lists both. The alias lives in `.cargo/config.toml`; `.ci/run` installs the external tools
//! the steps need and then calls `cargo xtask ci`.
//!
//! Its own tests include the tidy tests (`src/tidy.rs`): repository policy (layering, the
//! README's crate table, crate docs, no printed secrets) checked as ordinary tests, so the
//! `test` step enforces it.
//!
//! The crate is std only on purpose: it must compile in seconds on a fresh CI machine and
//! must not add anything to the dependency graph that cargo-deny has to vet.

// xtask is a command-line tool: talking to the user on stdout/stderr is its whole job, so the
// workspace-wide `print_stdout`/`print_stderr` lints (meant for library crates) do not apply.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod ci;
mod cli;
mod cmd;
mod deny;
mod manifest;
mod package;
mod release;
mod semver;
mod step;
// Repository policy as tests; nothing in it runs outside `cargo test`.
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cli::Command;

/// Exit code for a failed step.
const EXIT_FAILED: u8 = 1;
/// Exit code for a usage error (bad subcommand, unknown step, ...).
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(err) => {
            eprintln!("error: {err}");
            eprintln!();
            eprintln!("{}", cli::usage_hint(&err));
            return ExitCode::from(EXIT_USAGE);
        }
    };

    match command {
        Command::Help(topic) => {
            print!("{}", cli::help_text(topic));
            ExitCode::SUCCESS
        }
        Command::Release(options) => match release::run(&workspace_root(), &options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: release: {err}");
                ExitCode::from(EXIT_FAILED)
            }
        },
        Command::Ci { steps } => {
            if ci::run(&workspace_root(), &steps) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILED)
            }
        }
    }
}

/// The workspace root: the parent of this package's directory (`xtask/`).
///
/// Taken from `CARGO_MANIFEST_DIR` at compile time, so it is right whatever the current
/// directory is when `cargo xtask` runs.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}
