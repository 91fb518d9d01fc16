//! Reading the workspace's manifests (a few well-known keys, no TOML library): which crates
//! exist, which are published, and whether the published ones carry what crates.io and
//! docs.rs need.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Workspace members that are never published. Every other member is, so a new crate is
/// published unless it is added here (with `publish = false` in its manifest).
///
/// `frameio-auth-testkit` is published on purpose: forks run its store conformance suite and
/// downstream crates test against its fake servers.
pub(crate) const UNPUBLISHED: &[&str] = &["frameio-auth-tests", "xtask"];

/// One workspace member.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The package name.
    pub(crate) name: String,
    /// The package directory.
    pub(crate) dir: PathBuf,
    /// The text of its `Cargo.toml`.
    pub(crate) manifest: String,
}

impl Member {
    /// Whether the member is published to crates.io.
    pub(crate) fn is_published(&self) -> bool {
        !UNPUBLISHED.contains(&self.name.as_str())
    }
}

pub(crate) fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
}

/// The lines of `[table]` (header excluded), up to the next table header.
fn table_lines<'a>(text: &'a str, table: &str) -> impl Iterator<Item = &'a str> {
    let header = format!("[{table}]");
    text.lines()
        .skip_while(move |line| line.trim() != header)
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
}

/// The raw value of `key` in `[table]` (what follows `=`, comment stripped), on one line.
pub(crate) fn field(text: &str, table: &str, key: &str) -> Option<String> {
    table_lines(text, table).find_map(|line| {
        let (name, value) = line.split_once('=')?;
        (name.trim() == key).then(|| strip_comment(value).trim().to_owned())
    })
}

/// A string value of `key` in `[table]`, without its quotes.
pub(crate) fn string_field(text: &str, table: &str, key: &str) -> Option<String> {
    field(text, table, key).map(|value| value.trim_matches('"').to_owned())
}

fn strip_comment(value: &str) -> &str {
    let mut in_string = false;
    for (index, c) in value.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return &value[..index],
            _ => {}
        }
    }
    value
}

/// The quoted strings of the array `key = [ ... ]` in `[table]`, which may span lines.
fn string_array(text: &str, table: &str, key: &str) -> Option<Vec<String>> {
    let mut lines = table_lines(text, table);
    let first = lines.find(|line| {
        line.split_once('=')
            .is_some_and(|(name, _)| name.trim() == key)
    })?;
    let mut body = first.split_once('=')?.1.to_owned();
    while !strip_comment(&body).contains(']') {
        body.push_str(strip_comment(lines.next()?));
    }
    let body = strip_comment(&body);
    let inner = body.split_once('[')?.1.split_once(']')?.0;
    Some(
        inner
            .split(',')
            .map(|item| item.trim().trim_matches('"').to_owned())
            .filter(|item| !item.is_empty())
            .collect(),
    )
}

/// Every workspace member, in the order of `members` in the root manifest.
pub(crate) fn members(root: &Path) -> Result<Vec<Member>, String> {
    let text = read(&root.join("Cargo.toml"))?;
    let paths = string_array(&text, "workspace", "members")
        .ok_or("the root Cargo.toml has no `[workspace] members` list")?;
    paths
        .into_iter()
        .map(|path| {
            let dir = root.join(&path);
            let manifest = read(&dir.join("Cargo.toml"))?;
            let name = string_field(&manifest, "package", "name")
                .ok_or_else(|| format!("{path}/Cargo.toml has no package name"))?;
            Ok(Member {
                name,
                dir,
                manifest,
            })
        })
        .collect()
}

/// Whether `[table]` sets `key` either directly or as `key.workspace = true`.
fn has_field(text: &str, table: &str, key: &str) -> bool {
    field(text, table, key).is_some_and(|value| !value.is_empty() && value != "\"\"")
        || field(text, table, &format!("{key}.workspace")).as_deref() == Some("true")
}

/// What is wrong with one member's publishing set-up; empty when nothing is.
pub(crate) fn publish_problems(member: &Member) -> Vec<String> {
    let text = &member.manifest;
    let publish_false = field(text, "package", "publish").as_deref() == Some("false");
    let mut problems = Vec::new();
    if !member.is_published() {
        if !publish_false {
            problems.push("must set `publish = false` (it is in xtask's UNPUBLISHED list)".into());
        }
        return problems;
    }
    if publish_false {
        problems.push(
            "sets `publish = false` but is not in xtask's UNPUBLISHED list: decide and record it there"
                .into(),
        );
    }
    if field(text, "package", "version.workspace").as_deref() != Some("true") {
        problems
            .push("must use `version.workspace = true` so that releases move in lockstep".into());
    }
    for key in [
        "description",
        "license",
        "rust-version",
        "repository",
        "keywords",
        "categories",
        "readme",
        "documentation",
    ] {
        if !has_field(text, "package", key) {
            problems.push(format!("lacks `{key}`"));
        }
    }
    if let Some(readme) = string_field(text, "package", "readme")
        && !member.dir.join(&readme).is_file()
    {
        problems.push(format!("names readme `{readme}`, which does not exist"));
    }
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        if !member.dir.join(licence).is_file() {
            problems.push(format!("lacks {licence} (a link to the one at the root)"));
        }
    }
    if field(text, "package.metadata.docs.rs", "all-features").as_deref() != Some("true") {
        problems.push("lacks `[package.metadata.docs.rs] all-features = true`".into());
    }
    if !field(text, "package.metadata.docs.rs", "rustdoc-args")
        .is_some_and(|v| v.contains("docsrs"))
    {
        problems.push(
            "lacks `[package.metadata.docs.rs] rustdoc-args = [\"--cfg\", \"docsrs\"]`".into(),
        );
    }
    problems
}

/// Checks every member's publishing set-up; returns the published members.
pub(crate) fn check_publish_policy(root: &Path) -> Result<Vec<Member>, String> {
    let members = members(root)?;
    let mut report = String::new();
    for member in &members {
        for problem in publish_problems(member) {
            let _ = write!(report, "\n  {}: {problem}", member.name);
        }
    }
    if !report.is_empty() {
        return Err(format!("publishing set-up is incomplete:{report}"));
    }
    Ok(members.into_iter().filter(Member::is_published).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"[package]
name = "demo" # the name
version.workspace = true
description = "A # inside a string"
keywords = ["a", "b"]

[package.metadata.docs.rs]
all-features = true
rustdoc-args = ["--cfg", "docsrs"]

[workspace]
members = [
    "crates/a", # first
    "crates/b",
]
"#;

    #[test]
    fn reads_fields_and_arrays() {
        assert_eq!(
            string_field(MANIFEST, "package", "name").as_deref(),
            Some("demo")
        );
        assert_eq!(
            string_field(MANIFEST, "package", "description").as_deref(),
            Some("A # inside a string")
        );
        assert_eq!(
            field(MANIFEST, "package", "version.workspace").as_deref(),
            Some("true")
        );
        assert!(has_field(MANIFEST, "package", "version"));
        assert!(!has_field(MANIFEST, "package", "readme"));
        assert_eq!(
            string_array(MANIFEST, "workspace", "members").unwrap(),
            ["crates/a", "crates/b"]
        );
        assert_eq!(
            field(MANIFEST, "package.metadata.docs.rs", "all-features").as_deref(),
            Some("true")
        );
    }

    #[test]
    fn the_real_workspace_follows_the_publish_policy() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let published = check_publish_policy(root).unwrap();
        assert!(published.iter().any(|m| m.name == "frameio-auth-core"));
        assert!(published.iter().any(|m| m.name == "frameio-auth-testkit"));
        assert!(
            published
                .iter()
                .all(|m| !UNPUBLISHED.contains(&m.name.as_str()))
        );
    }

    #[test]
    fn unpublished_members_must_say_so() {
        let member = Member {
            name: "xtask".into(),
            dir: PathBuf::from("/nonexistent"),
            manifest: "[package]\nname = \"xtask\"\n".into(),
        };
        assert_eq!(publish_problems(&member).len(), 1);
        let member = Member {
            name: "frameio-auth-new".into(),
            dir: PathBuf::from("/nonexistent"),
            manifest: "[package]\nname = \"frameio-auth-new\"\npublish = false\n".into(),
        };
        let problems = publish_problems(&member);
        assert!(
            problems.iter().any(|p| p.contains("UNPUBLISHED")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("documentation")),
            "{problems:?}"
        );
    }
}
