//! The `semver` step: the public API of every published crate against the last release.

use std::path::Path;

use crate::ci::{Outcome, SkippedPart, StepResult};
use crate::cmd::Cmd;
use crate::manifest::UNPUBLISHED;

/// The newest `v*` tag, by version order, if any.
pub(crate) fn last_release_tag(root: &Path) -> Result<Option<String>, String> {
    let tags = Cmd::new("git")
        .args(["tag", "--list", "v*", "--sort=-v:refname"])
        .read_stdout(root)?;
    Ok(tags.lines().next().map(str::to_owned))
}

/// Runs cargo-semver-checks against the last release tag; skipped before the first release.
pub(crate) fn run(root: &Path) -> StepResult {
    let Some(tag) = last_release_tag(root)? else {
        eprintln!("semver skipped: no release tag (v*) yet, so there is no API to compare with");
        return Ok(Outcome {
            skipped: vec![SkippedPart {
                part: "checks",
                reason: "no release tag yet".to_owned(),
            }],
        });
    };
    if !Cmd::cargo()
        .args(["semver-checks", "--version"])
        .probe(root)
    {
        return Err(format!(
            "cargo-semver-checks is not installed (needed to compare with {tag}); \
             install it with `cargo install --locked cargo-semver-checks@0.51.0`"
        ));
    }
    let mut cargo = Cmd::cargo().args(["semver-checks", "check-release", "--workspace"]);
    for name in UNPUBLISHED {
        cargo = cargo.args(["--exclude", name]);
    }
    cargo.args(["--baseline-rev", tag.as_str()]).run(root)?;
    Ok(Outcome::default())
}
