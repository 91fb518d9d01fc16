//! The `package` step: the publishing set-up is complete and every published crate packages.

use std::path::Path;

use crate::ci::{Outcome, StepResult};
use crate::cmd::Cmd;
use crate::manifest::{self, UNPUBLISHED};

/// How thoroughly to package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Build every package from its packaged sources, as `cargo publish` would (CI).
    Build,
    /// Assemble the packages only: manifests, files and version requirements (release dry
    /// runs and xtask's own tests, where a full build would take minutes).
    AssembleOnly,
}

/// Checks the publish policy, then runs `cargo package` over the published crates, in
/// dependency order (cargo resolves our unpublished versions through a local overlay).
pub(crate) fn package(root: &Path, verify: Verify, offline: bool) -> Result<(), String> {
    let published = manifest::check_publish_policy(root)?;
    eprintln!(
        "publishing set-up ok for {} crates: {}",
        published.len(),
        published
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    // A check, not a publish: uncommitted work (or a release's own edits) may be packaged.
    let mut cargo = Cmd::cargo().args(["package", "--workspace", "--allow-dirty"]);
    for name in UNPUBLISHED {
        cargo = cargo.args(["--exclude", name]);
    }
    if verify == Verify::AssembleOnly {
        cargo = cargo.args(["--no-verify"]);
    }
    if offline {
        cargo = cargo.args(["--offline"]);
    }
    cargo.run(root)
}

/// The CI step.
pub(crate) fn run(root: &Path) -> StepResult {
    package(root, Verify::Build, false)?;
    Ok(Outcome::default())
}
