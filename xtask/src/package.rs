//! The `package` step: the publishing set-up is complete and every published crate packages.

use std::fs;
use std::path::{Path, PathBuf};

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
    forget_stale_unpacked_packages(root, &published)?;
    forget_stale_builds(&root.join("target"))?;
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

/// Removes the builds of our own crates (from the workspace and from earlier `cargo package`
/// runs alike: their names do not tell them apart), keeping their dependencies'.
///
/// Cargo takes a crate from a registry to be unchanging, so it reuses an earlier build of
/// `frameio-auth-core 0.1.0` from the local registry even after its sources changed, and a
/// dependent crate then fails against the old one. A fresh clone never has such builds; a
/// second run in the same checkout does, and pays for it by building our crates again.
fn forget_stale_builds(target_dir: &Path) -> Result<(), String> {
    let Ok(profiles) = fs::read_dir(target_dir) else {
        return Ok(());
    };
    for profile in profiles.flatten() {
        for kind in [".fingerprint", "deps", "build"] {
            let Ok(entries) = fs::read_dir(profile.path().join(kind)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !(name.starts_with("frameio-auth")
                    || name.starts_with("libframeio_auth")
                    || name.starts_with("frameio_auth"))
                {
                    continue;
                }
                let path = entry.path();
                let removed = if path.is_dir() {
                    fs::remove_dir_all(&path)
                } else {
                    fs::remove_file(&path)
                };
                removed.map_err(|err| {
                    format!("cannot remove the stale build {}: {err}", path.display())
                })?;
            }
        }
    }
    Ok(())
}

/// Removes cargo's unpacked copies of our own crates from earlier `cargo package` runs.
///
/// `cargo package` serves our not-yet-published crates to each other from a local registry in
/// `target/package/tmp-registry` and unpacks them under `$CARGO_HOME/registry/src/-<hash>/`,
/// where the hash comes from the registry's path. Cargo reuses an unpacked directory that is
/// already there, so a second run from the same checkout path would build a dependent crate
/// against the *previous* sources of our crates. Local registries are the `-<hash>` folders;
/// crates.io's folder is never touched.
fn forget_stale_unpacked_packages(
    root: &Path,
    published: &[manifest::Member],
) -> Result<(), String> {
    let Some(version) = manifest::string_field(
        &manifest::read(&root.join("Cargo.toml"))?,
        "workspace.package",
        "version",
    ) else {
        return Ok(());
    };
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    let Some(src) = cargo_home.map(|home| home.join("registry").join("src")) else {
        return Ok(());
    };
    let Ok(registries) = fs::read_dir(&src) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for member in published {
            let unpacked = registry.path().join(format!("{}-{version}", member.name));
            if unpacked.is_dir() {
                fs::remove_dir_all(&unpacked).map_err(|err| {
                    format!(
                        "cannot remove the stale unpacked copy {}: {err}",
                        unpacked.display()
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// The CI step.
pub(crate) fn run(root: &Path) -> StepResult {
    package(root, Verify::Build, false)?;
    Ok(Outcome::default())
}
