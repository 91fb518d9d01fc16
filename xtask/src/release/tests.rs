use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::manifest::members;

#[test]
fn versions_bump_and_refuse_to_go_back() {
    let v = Version::parse("0.1.9").unwrap();
    assert_eq!(v.bump(&Level::Patch).unwrap().to_string(), "0.1.10");
    assert_eq!(v.bump(&Level::Minor).unwrap().to_string(), "0.2.0");
    assert_eq!(v.bump(&Level::Major).unwrap().to_string(), "1.0.0");
    assert_eq!(
        Level::parse("2.0.0"),
        Some(Level::Exact(Version::parse("2.0.0").unwrap()))
    );
    assert!(v.bump(&Level::parse("0.1.9").unwrap()).is_err());
    for bad in ["1.2", "1.2.3.4", "1.x.3", "", "1..3", "+1.2.3", "big"] {
        assert_eq!(Level::parse(bad), None, "{bad}");
    }
}

#[test]
fn civil_dates() {
    assert_eq!(civil_date(0), "1970-01-01");
    assert_eq!(civil_date(19_723), "2024-01-01");
    assert_eq!(civil_date(20_416), "2025-11-24");
    assert_eq!(civil_date(11_016), "2000-02-29");
}

#[test]
fn manifest_bump_touches_only_our_versions() {
    let text = "[workspace.package]\nversion = \"0.1.0\"\n\n[workspace.dependencies]\n\
                frameio-auth-core = { path = \"crates/frameio-auth-core\", version = \"0.1.0\" }\n\
                frameio-auth-core-extra = { version = \"0.1.0\" }\n\
                other = { version = \"0.1.0\" }\n";
    let crates = vec!["frameio-auth-core".to_owned()];
    let old = Version::parse("0.1.0").unwrap();
    let new = Version::parse("0.2.0").unwrap();
    assert_eq!(
        bump_manifest(text, &crates, old, new),
        "[workspace.package]\nversion = \"0.2.0\"\n\n[workspace.dependencies]\n\
         frameio-auth-core = { path = \"crates/frameio-auth-core\", version = \"0.2.0\" }\n\
         frameio-auth-core-extra = { version = \"0.1.0\" }\n\
         other = { version = \"0.1.0\" }\n"
    );
}

#[test]
fn changelog_section_moves_under_the_version() {
    let text = "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n### Added\n- a thing\n\n## [0.1.0] - 2026-01-01\n\n- first\n";
    let moved = move_unreleased(text, Version::parse("0.2.0").unwrap(), "2026-11-24").unwrap();
    assert_eq!(
        moved,
        "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n## [0.2.0] - 2026-11-24\n\n### Added\n- a thing\n\n## [0.1.0] - 2026-01-01\n\n- first\n"
    );
    let empty = "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-01-01\n";
    assert!(move_unreleased(empty, Version::parse("0.2.0").unwrap(), "d").is_err());
}

/// A scratch clone of this repository, deleted on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Everything git tracks, with contents: what "changes nothing" is checked against.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    git_in(dir, &["ls-files"])
        .lines()
        .map(|file| {
            (
                file.to_owned(),
                std::fs::read(dir.join(file)).unwrap_or_default(),
            )
        })
        .collect()
}

fn scratch_clone() -> Scratch {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = std::env::temp_dir().join(format!(
        "xtask-release-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let scratch = Scratch(dir);
    git_in(
        source,
        &[
            "clone",
            "--quiet",
            "--no-hardlinks",
            ".",
            scratch.0.to_str().unwrap(),
        ],
    );
    git_in(&scratch.0, &["config", "user.name", "xtask test"]);
    git_in(&scratch.0, &["config", "user.email", "xtask@test.invalid"]);
    git_in(&scratch.0, &["config", "commit.gpgsign", "false"]);
    git_in(&scratch.0, &["config", "tag.gpgsign", "false"]);
    scratch
}

/// `release patch --dry-run` changes nothing; `release patch` bumps every crate and internal
/// requirement consistently, moves the changelog section, commits, tags, and leaves a tree
/// whose crates package.
#[test]
fn release_patch_on_a_scratch_copy() {
    let scratch = scratch_clone();
    let root = scratch.0.as_path();
    let before = snapshot(root);
    let head = git_in(root, &["rev-parse", "HEAD"]);
    let old = current_version(&manifest::read(&root.join("Cargo.toml")).unwrap()).unwrap();
    let new = old.bump(&Level::Patch).unwrap();
    let mut options = Options {
        level: Level::Patch,
        dry_run: true,
        run_ci: false,
        offline: true,
    };

    let unreleased_before = {
        let text = manifest::read(&root.join(CHANGELOG)).unwrap();
        let start = text.find(UNRELEASED).unwrap() + UNRELEASED.len();
        let end = text[start..]
            .find("\n## ")
            .map_or(text.len(), |i| start + i);
        text[start..end].trim().to_owned()
    };
    run(root, &options).unwrap();
    assert_eq!(snapshot(root), before, "a dry run changed files");
    assert!(
        git_in(root, &["status", "--porcelain", "--untracked-files=all"])
            .trim()
            .is_empty(),
        "a dry run left files behind"
    );
    assert_eq!(git_in(root, &["rev-parse", "HEAD"]), head);
    assert!(git_in(root, &["tag", "--list"]).trim().is_empty());

    options.dry_run = false;
    run(root, &options).unwrap();

    assert!(
        git_in(root, &["status", "--porcelain"]).trim().is_empty(),
        "release left changes"
    );
    assert_eq!(
        git_in(root, &["log", "-1", "--format=%s"]).trim(),
        format!("Release {new}")
    );
    assert_eq!(
        git_in(root, &["cat-file", "-t", &format!("v{new}")]).trim(),
        "tag",
        "annotated tag"
    );

    let root_manifest = manifest::read(&root.join("Cargo.toml")).unwrap();
    assert_eq!(current_version(&root_manifest).unwrap(), new);
    let published: Vec<_> = members(root)
        .unwrap()
        .into_iter()
        .filter(crate::manifest::Member::is_published)
        .collect();
    for member in &published {
        let line = root_manifest
            .lines()
            .find(|l| l.starts_with(&format!("{} = ", member.name)))
            .unwrap_or_else(|| panic!("{} is not in [workspace.dependencies]", member.name));
        assert!(line.contains(&format!("version = \"{new}\"")), "{line}");
    }
    let lock = manifest::read(&root.join("Cargo.lock")).unwrap();
    for member in &published {
        let entry = format!("name = \"{}\"\nversion = \"{new}\"", member.name);
        assert!(lock.contains(&entry), "Cargo.lock lacks {entry}");
    }
    let changelog = manifest::read(&root.join(CHANGELOG)).unwrap();
    let unreleased = changelog.find(UNRELEASED).unwrap();
    let section = changelog.find(&format!("## [{new}] - ")).unwrap();
    assert!(section > unreleased);
    assert!(
        changelog[unreleased + UNRELEASED.len()..section]
            .trim()
            .is_empty(),
        "Unreleased not emptied"
    );
    let heading = format!("## [{new}] - {}", today());
    assert!(
        changelog[section..].starts_with(&heading),
        "expected {heading}"
    );
    let body_start = section + heading.len();
    let body_end = changelog[body_start..]
        .find("\n## ")
        .map_or(changelog.len(), |i| body_start + i);
    assert_eq!(
        changelog[body_start..body_end].trim(),
        unreleased_before,
        "entries moved whole"
    );

    package::package(root, Verify::AssembleOnly, true).unwrap();
    // A second release needs new changelog entries first.
    assert!(run(root, &options).unwrap_err().contains("nothing under"));
}
