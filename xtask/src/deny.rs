//! The `deny` step: cargo-deny's policy checks, then `RustSec` advisories against the local
//! advisory database snapshot, all offline.
//!
//! Advisory database location: cargo-deny takes `[advisories] db-path` from the config
//! verbatim apart from `~`/`$VAR` expansion, so a relative path is relative to cargo-deny's
//! *current directory*, not to `deny.toml` (which cargo-deny finds by walking up from the
//! manifest). `deny.toml` therefore keeps the default (`$CARGO_HOME/advisory-dbs`, fine for
//! developers who are online) and this step writes `target/deny-advisories.toml`: a copy of
//! `deny.toml` with an absolute `db-path`, passed with `--config`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::ci::{Outcome, SkippedPart, StepResult};
use crate::cmd::Cmd;

/// How CI and developers install the cargo-deny this configuration is written for.
const INSTALL_HINT: &str = "cargo install --locked cargo-deny@0.20.2";

/// Runs the step in the workspace at `root`.
pub(crate) fn run(root: &Path) -> StepResult {
    if !Cmd::cargo().args(["deny", "--version"]).probe(root) {
        return Err(format!(
            "cargo-deny is not installed; install it with `{INSTALL_HINT}`"
        ));
    }

    // `cargo deny --offline` runs `cargo metadata --offline`, which needs every crate of the
    // lock file on disk, including those only used on other platforms that a build never
    // downloads. `cargo fetch` gets them from crates.io (a no-op when all are cached).
    Cmd::cargo().args(["fetch"]).run(root)?;

    Cmd::cargo()
        .args(["deny", "--offline", "check", "bans", "licenses", "sources"])
        .run(root)?;

    // `../shared` beside the repository (lexically, as a user would read it).
    let shared = root
        .parent()
        .map_or_else(|| root.join(".."), Path::to_path_buf)
        .join("shared");
    if !shared.join("advisory-db").is_dir() {
        let reason = "../shared/advisory-db not found".to_owned();
        eprintln!("note: advisories skipped: {reason}");
        return Ok(Outcome {
            skipped: vec![SkippedPart {
                part: "advisories",
                reason,
            }],
        });
    }

    let target = root.join("target");
    let db_root = materialise_db(&shared, &target)?;
    let config = target.join("deny-advisories.toml");
    let base = fs::read_to_string(root.join("deny.toml"))
        .map_err(|err| format!("cannot read deny.toml: {err}"))?;
    fs::write(&config, with_db_path(&base, &db_root))
        .map_err(|err| format!("cannot write {}: {err}", config.display()))?;

    Cmd::cargo()
        .args(["deny", "--offline", "--config"])
        .args([&config])
        .args(["check", "advisories"])
        .run(root)?;
    Ok(Outcome::default())
}

/// Turns the snapshot in `shared/advisory-db` into the git repository cargo-deny reads, under
/// `target/advisory-db`, and returns the directory to use as `db-path`.
///
/// `shared/tools/advisory-db DIR` prints `DIR/<name>-<hash of the db url>`; cargo-deny wants
/// `DIR` and appends that folder name itself.
fn materialise_db(shared: &Path, target: &Path) -> Result<PathBuf, String> {
    fs::create_dir_all(target)
        .map_err(|err| format!("cannot create {}: {err}", target.display()))?;
    let script = shared.join("tools").join("advisory-db");
    let stdout = Cmd::new("bash")
        .args([script.as_os_str(), target.join("advisory-db").as_os_str()])
        .read_stdout(target)?;
    let db = stdout
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| format!("{} printed no path", script.display()))?;
    if !db.join(".git").is_dir() {
        return Err(format!(
            "{} is not a git repository after {}",
            db.display(),
            script.display()
        ));
    }
    db.parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{} has no parent directory", db.display()))
}

/// `config` (the text of a deny.toml) with `[advisories] db-path` set to `db_root`: any
/// `db-path` in that section is replaced; the section is added if missing.
fn with_db_path(config: &str, db_root: &Path) -> String {
    // The snapshot cannot be refreshed here (no network), so its age is no reason to fail;
    // a newer snapshot arrives with ../shared.
    let setting = format!(
        "db-path = {}  # written by `cargo xtask ci`\nmaximum-db-staleness = \"P3650D\"",
        toml_string(&db_root.to_string_lossy())
    );
    let mut out = String::with_capacity(config.len() + setting.len() + 32);
    let mut in_advisories = false;
    let mut written = false;
    for line in config.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_advisories = is_header(trimmed, "advisories");
            if in_advisories {
                out.push_str(line);
                out.push('\n');
                out.push_str(&setting);
                out.push('\n');
                written = true;
                continue;
            }
        } else if in_advisories
            && (is_key(trimmed, "db-path") || is_key(trimmed, "maximum-db-staleness"))
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !written {
        out.push_str("\n[advisories]\n");
        out.push_str(&setting);
        out.push('\n');
    }
    out
}

/// Whether `line` (trimmed at the start) is the table header `[name]`, maybe with a comment.
fn is_header(line: &str, name: &str) -> bool {
    line.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .is_some_and(|(inside, after)| {
            inside.trim() == name && {
                let after = after.trim();
                after.is_empty() || after.starts_with('#')
            }
        })
}

/// Whether `line` (trimmed at the start) assigns the bare or quoted key `key`.
fn is_key(line: &str, key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    [key, quoted.as_str()].into_iter().any(|k| {
        line.strip_prefix(k)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    })
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            // Writing to a String cannot fail.
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{toml_string, with_db_path};

    #[test]
    fn db_path_is_inserted_into_the_advisories_table() {
        let config = "[graph]\nall-features = true\n\n[advisories] # why\nversion = 2\n\n[bans]\n";
        let out = with_db_path(config, Path::new("/w/target/advisory-db"));
        assert_eq!(
            out,
            "[graph]\nall-features = true\n\n[advisories] # why\n\
             db-path = \"/w/target/advisory-db\"  # written by `cargo xtask ci`\n\
             maximum-db-staleness = \"P3650D\"\n\
             version = 2\n\n[bans]\n"
        );
    }

    #[test]
    fn existing_db_path_is_replaced_only_in_advisories() {
        let config = "[advisories]\ndb-path = \"~/x\"\nversion = 2\n[other]\ndb-path = 1\n";
        let out = with_db_path(config, Path::new("/db"));
        assert!(!out.contains("~/x"), "{out}");
        assert!(out.contains("[other]\ndb-path = 1\n"), "{out}");
        assert_eq!(out.matches("db-path = \"/db\"").count(), 1, "{out}");
    }

    #[test]
    fn advisories_table_is_added_when_missing() {
        let out = with_db_path("[bans]\n", Path::new("/db"));
        assert!(
            out.ends_with(
            "\n[advisories]\ndb-path = \"/db\"  # written by `cargo xtask ci`\nmaximum-db-staleness = \"P3650D\"\n"
        )
        );
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_string(r#"C:\a "b""#), r#""C:\\a \"b\"""#);
    }
}
