//! `cargo xtask release`: bump every published crate in lockstep, move the changelog's
//! "Unreleased" section under the new version, prove the crates package, then commit and tag
//! locally. It never pushes or publishes.

use std::fmt;
use std::fs;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::ci;
use crate::cmd::Cmd;
use crate::manifest::{self, string_field};
use crate::package::{self, Verify};
use crate::semver;
use crate::step::Step;

/// Which version to release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Level {
    /// `x.y.z` → `x.y.(z+1)`.
    Patch,
    /// `x.y.z` → `x.(y+1).0`.
    Minor,
    /// `x.y.z` → `(x+1).0.0`.
    Major,
    /// An explicit version, which must be greater than the current one.
    Exact(Version),
}

impl Level {
    /// Parses `patch`, `minor`, `major` or `X.Y.Z`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "patch" => Some(Level::Patch),
            "minor" => Some(Level::Minor),
            "major" => Some(Level::Major),
            other => Version::parse(other).map(Level::Exact),
        }
    }
}

/// A release version `major.minor.patch` (no pre-release or build suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
}

impl Version {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.').map(|part| {
            (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u64>().ok())
                .flatten()
        });
        let version = Version {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next()??,
        };
        parts.next().is_none().then_some(version)
    }

    fn bump(self, level: &Level) -> Result<Self, String> {
        let next = match level {
            Level::Patch => Version {
                patch: self.patch + 1,
                ..self
            },
            Level::Minor => Version {
                minor: self.minor + 1,
                patch: 0,
                ..self
            },
            Level::Major => Version {
                major: self.major + 1,
                minor: 0,
                patch: 0,
            },
            Level::Exact(version) => *version,
        };
        if next <= self {
            return Err(format!(
                "{next} is not greater than the current version {self}"
            ));
        }
        Ok(next)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What `cargo xtask release` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) level: Level,
    /// Print the plan, change nothing.
    pub(crate) dry_run: bool,
    /// Run `cargo xtask ci` first and the semver check after the bump. Always on from the
    /// command line; off only in xtask's own tests, which cannot afford a full CI run.
    pub(crate) run_ci: bool,
    /// Pass `--offline` to cargo.
    pub(crate) offline: bool,
}

const CHANGELOG: &str = "CHANGELOG.md";
const UNRELEASED: &str = "## [Unreleased]";

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 86_400);
    civil_date(days)
}

/// The proleptic Gregorian date of day `days` since 1970-01-01 (Hinnant's algorithm).
fn civil_date(days: u64) -> String {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The current workspace version, from `[workspace.package] version`.
fn current_version(root_manifest: &str) -> Result<Version, String> {
    let text = string_field(root_manifest, "workspace.package", "version")
        .ok_or("the root Cargo.toml has no `[workspace.package] version`")?;
    Version::parse(&text).ok_or_else(|| format!("cannot read the workspace version `{text}`"))
}

/// `manifest` with the version of the workspace and of every internal dependency moved from
/// `old` to `new`: `[workspace.package] version` and each `version = "old"` on a line that
/// names one of `crates` as a dependency.
fn bump_manifest(manifest: &str, crates: &[String], old: Version, new: Version) -> String {
    let old_field = format!("version = \"{old}\"");
    let new_field = format!("version = \"{new}\"");
    let mut table = String::new();
    let mut out = String::with_capacity(manifest.len());
    for line in manifest.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            trimmed.trim_end().clone_into(&mut table);
        }
        let names_internal_crate = crates.iter().any(|name| {
            trimmed
                .strip_prefix(name.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        let is_workspace_version = table == "[workspace.package]"
            && trimmed
                .split_once('=')
                .is_some_and(|(key, _)| key.trim() == "version");
        if (names_internal_crate || is_workspace_version) && line.contains(&old_field) {
            out.push_str(&line.replacen(&old_field, &new_field, 1));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `changelog` with the "Unreleased" entries moved under `## [new] - date`.
fn move_unreleased(changelog: &str, new: Version, date: &str) -> Result<String, String> {
    let start = changelog
        .find(UNRELEASED)
        .ok_or_else(|| format!("{CHANGELOG} has no `{UNRELEASED}` section"))?;
    let body_start = start + UNRELEASED.len();
    let body_end = changelog[body_start..]
        .find("\n## ")
        .map_or(changelog.len(), |offset| body_start + offset + 1);
    let body = changelog[body_start..body_end].trim();
    if body.is_empty() {
        return Err(format!(
            "{CHANGELOG} has nothing under `{UNRELEASED}`: say what this release changes first"
        ));
    }
    let rest = &changelog[body_end..];
    Ok(format!(
        "{}{UNRELEASED}\n\n## [{new}] - {date}\n\n{body}\n{}{rest}",
        &changelog[..start],
        if rest.is_empty() { "" } else { "\n" }
    ))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    Cmd::new("git").args(args).read_stdout(root)
}

/// After the bump: refresh `Cargo.lock`, prove the crates package, and (unless testing)
/// check the API against the last release with the new version in place.
fn check_bumped_tree(root: &Path, options: &Options) -> Result<(), String> {
    let offline: &[&str] = if options.offline { &["--offline"] } else { &[] };
    Cmd::cargo()
        .args(["update", "--workspace"])
        .args(offline)
        .run(root)?;
    package::package(root, Verify::AssembleOnly, options.offline)?;
    if options.run_ci {
        semver::run(root)?;
    }
    Ok(())
}

/// Runs a release in the workspace at `root`.
pub(crate) fn run(root: &Path, options: &Options) -> Result<(), String> {
    let root_manifest_path = root.join("Cargo.toml");
    let root_manifest = manifest::read(&root_manifest_path)?;
    let old = current_version(&root_manifest)?;
    let new = old.bump(&options.level)?;
    let tag = format!("v{new}");
    let date = today();

    let members = manifest::members(root)?;
    let published: Vec<String> = members
        .iter()
        .filter(|m| m.is_published())
        .map(|m| m.name.clone())
        .collect();
    let changelog_path = root.join(CHANGELOG);
    let changelog = move_unreleased(&manifest::read(&changelog_path)?, new, &date)?;
    let dirty = git(root, &["status", "--porcelain"])?;
    let tag_taken = !git(root, &["tag", "--list", &tag])?.trim().is_empty();

    eprintln!("release plan: {old} -> {new} ({date})");
    eprintln!("  crates, in lockstep: {}", published.join(", "));
    eprintln!(
        "  edit: Cargo.toml (workspace version, internal requirements), member manifests that pin internal versions, Cargo.lock, {CHANGELOG}"
    );
    eprintln!(
        "  check: {}",
        if options.run_ci {
            "cargo xtask ci, then cargo package"
        } else {
            "cargo package (ci skipped)"
        }
    );
    eprintln!("  commit \"Release {new}\" and annotated tag {tag}; nothing is pushed or published");
    if !dirty.trim().is_empty() {
        return Err(format!(
            "the working tree is not clean; commit or stash first:\n{dirty}"
        ));
    }
    if tag_taken {
        return Err(format!("tag {tag} already exists"));
    }
    if options.dry_run {
        eprintln!("dry run: nothing changed");
        return Ok(());
    }
    // Semver runs after the bump instead: cargo-semver-checks judges the API change against
    // the version being released, so an intended breaking release passes with a major bump.
    let before_bump: Vec<Step> = Step::ALL
        .into_iter()
        .filter(|s| *s != Step::Semver)
        .collect();
    if options.run_ci && !ci::run(root, &before_bump) {
        return Err("cargo xtask ci failed: no release".to_owned());
    }

    let mut edited = vec![root_manifest_path.clone(), changelog_path.clone()];
    write(
        &root_manifest_path,
        &bump_manifest(&root_manifest, &published, old, new),
    )?;
    for member in &members {
        let bumped = bump_manifest(&member.manifest, &published, old, new);
        if bumped != member.manifest {
            let path = member.dir.join("Cargo.toml");
            write(&path, &bumped)?;
            edited.push(path);
        }
    }
    write(&changelog_path, &changelog)?;
    edited.push(root.join("Cargo.lock"));

    let checked = check_bumped_tree(root, options);
    if let Err(err) = checked {
        // Leave the tree as it was: a half-done release is worse than none.
        let _ = Cmd::new("git")
            .args(["checkout", "--"])
            .args(&edited)
            .run(root);
        return Err(format!(
            "packaging or the semver check failed, release undone: {err}"
        ));
    }

    Cmd::new("git")
        .args(["add", "--"])
        .args(&edited)
        .run(root)?;
    Cmd::new("git")
        .args(["commit", "--quiet", "-m", &format!("Release {new}")])
        .run(root)?;
    Cmd::new("git")
        .args([
            "tag",
            "--annotate",
            &tag,
            "-m",
            &format!("frameio-auth {new}"),
        ])
        .run(root)?;
    eprintln!("released {new} locally as commit \"Release {new}\" and tag {tag}. Next:");
    eprintln!("  git push origin main {tag}");
    eprintln!("  cargo publish --workspace --exclude frameio-auth-tests --exclude xtask");
    Ok(())
}

#[cfg(test)]
mod tests;
