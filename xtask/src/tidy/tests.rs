//! The tidy tests: each check on the real workspace, and each check failing on a fixture that
//! breaks its rule on purpose (so a check that silently stopped finding anything would show).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use super::*;
use crate::cmd::Cmd;

// ---------------------------------------------------------------------------------------------
// Helpers.

fn root() -> std::path::PathBuf {
    crate::workspace_root()
}

/// Fails with every violation, one per line, so the test output is the to-do list.
#[track_caller]
fn assert_clean(check: &str, violations: &[Violation]) {
    if !violations.is_empty() {
        let mut report = format!("{check}: {} violation(s):", violations.len());
        for violation in violations {
            let _ = write!(report, "\n  {violation}");
        }
        panic!("{report}");
    }
}

/// Asserts that exactly one violation was reported and that its text contains every needle.
#[track_caller]
fn assert_one(violations: &[Violation], needles: &[&str]) -> Violation {
    assert_eq!(
        violations.len(),
        1,
        "expected one violation, got {violations:#?}"
    );
    let text = violations[0].to_string();
    for needle in needles {
        assert!(text.contains(needle), "{text:?} should mention {needle:?}");
    }
    violations[0].clone()
}

/// A fixture package: name, published, and `(dependency, kind)` pairs with kind `""` (normal),
/// `"dev"` or `"build"`.
type Spec = (&'static str, bool, &'static [(&'static str, &'static str)]);

/// `cargo metadata --format-version 1 --no-deps` JSON for a fake workspace under `/ws`:
/// `(package, publish, [(dependency, kind)])` with kind `""` (normal), `"dev"` or `"build"`.
fn metadata_json(packages: &[Spec]) -> String {
    let packages: Vec<String> = packages
        .iter()
        .map(|(name, publish, deps)| {
            let dir = match *name {
                "frameio-auth-tests" => "tests".to_owned(),
                "xtask" => "xtask".to_owned(),
                _ => format!("crates/{name}"),
            };
            let deps: Vec<String> = deps
                .iter()
                .map(|(dep, kind)| {
                    // "optional": a normal dependency behind a feature.
                    let optional = *kind == "optional";
                    let kind = if kind.is_empty() || optional {
                        "null".to_owned()
                    } else {
                        format!("\"{kind}\"")
                    };
                    format!(
                        r#"{{"name":"{dep}","source":null,"req":"^1","kind":{kind},"rename":null,"optional":{optional},"uses_default_features":true,"features":[],"target":null,"registry":null}}"#
                    )
                })
                .collect();
            let publish = if *publish { "null" } else { "[]" };
            format!(
                r#"{{"name":"{name}","version":"0.1.0","id":"path+file:///ws/{dir}#{name}@0.1.0","dependencies":[{}],"manifest_path":"/ws/{dir}/Cargo.toml","publish":{publish},"targets":[]}}"#,
                deps.join(",")
            )
        })
        .collect();
    format!(
        r#"{{"packages":[{}],"workspace_members":[],"target_directory":"/ws/target","version":1,"workspace_root":"/ws","metadata":null}}"#,
        packages.join(",")
    )
}

fn packages(spec: &[Spec]) -> Vec<Package> {
    parse_metadata(&metadata_json(spec), Path::new("/ws")).unwrap()
}

/// A well-layered workspace like the real one, to break one rule at a time.
fn good_workspace() -> Vec<Spec> {
    vec![
        (
            "frameio-auth-core",
            true,
            &[("serde", ""), ("thiserror", ""), ("tokio", "dev")],
        ),
        (
            "frameio-auth-testkit",
            true,
            &[("frameio-auth-core", ""), ("tokio", ""), ("hyper", "")],
        ),
        (
            "frameio-auth-oauth",
            true,
            &[
                ("frameio-auth-core", ""),
                ("reqwest", ""),
                ("frameio-auth-testkit", "dev"),
            ],
        ),
        (
            "frameio-auth-store-memory",
            true,
            &[("frameio-auth-core", ""), ("tokio", "")],
        ),
        (
            "frameio-auth-store-file",
            true,
            &[
                ("frameio-auth-core", ""),
                ("frameio-auth-store-memory", "dev"),
            ],
        ),
        (
            "frameio-auth-ims",
            true,
            &[("frameio-auth-core", ""), ("frameio-auth-oauth", "")],
        ),
        (
            "frameio-auth-v2",
            true,
            &[("frameio-auth-oauth", ""), ("frameio-auth-ims", "dev")],
        ),
        (
            "frameio-auth",
            true,
            &[
                ("frameio-auth-ims", ""),
                ("frameio-auth-v2", ""),
                ("frameio-auth-store-file", ""),
            ],
        ),
        ("frameio-auth-cli", true, &[("frameio-auth", "")]),
        ("frameio-auth-tests", false, &[("frameio-auth", "dev")]),
        ("xtask", false, &[]),
    ]
}

/// `good_workspace` with `package`'s dependencies replaced.
fn with_deps(package: &str, deps: &'static [(&'static str, &'static str)]) -> Vec<Package> {
    let spec: Vec<_> = good_workspace()
        .into_iter()
        .map(|(name, publish, old)| (name, publish, if name == package { deps } else { old }))
        .collect();
    packages(&spec)
}

// ---------------------------------------------------------------------------------------------
// The real workspace.

fn real_packages() -> Vec<Package> {
    let json = Cmd::cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .read_stdout(&root())
        .unwrap();
    let packages = parse_metadata(&json, &root()).unwrap();
    assert!(
        packages
            .iter()
            .any(|p| p.name == "frameio-auth-core" && p.published),
        "cargo metadata did not list the core crate: {packages:?}"
    );
    packages
}

#[test]
fn the_workspace_is_layered_as_designed() {
    assert_clean("layering", &check_layering(&real_packages()));
}

#[test]
fn the_readme_crate_table_is_true() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    assert_clean(
        "README crate table",
        &check_readme_table("README.md", &readme, &real_packages()),
    );
}

#[test]
fn every_published_crate_is_documented_with_a_runnable_example() {
    let mut violations = Vec::new();
    for package in real_packages().iter().filter(|p| p.published) {
        let found = check_crate_docs(&crate_files(&root(), package));
        if OPEN_EXAMPLE_GAPS.contains(&package.name.as_str()) {
            let (gap, other): (Vec<_>, Vec<_>) = found
                .into_iter()
                .partition(|v| v.message.contains("has no runnable example"));
            if gap.is_empty() {
                violations.push(Violation::new(
                    "xtask/src/tidy.rs",
                    None,
                    format!(
                        "`{}` has a runnable example now: delete it from OPEN_EXAMPLE_GAPS",
                        package.name
                    ),
                ));
            }
            violations.extend(other);
        } else {
            violations.extend(found);
        }
    }
    assert_clean("crate docs", &violations);
}

#[test]
fn library_code_prints_no_secret() {
    let sources = library_sources(&root(), &real_packages());
    assert!(
        sources
            .iter()
            .any(|(path, _)| path == "crates/frameio-auth-core/src/secret.rs"),
        "the scan missed core's sources"
    );
    assert_clean("secrets", &check_secret_prints_in(&sources));
}

/// Relative link targets in a markdown text: `](target)`, without `#anchor`; web links skipped.
fn relative_links(markdown: &str) -> Vec<(usize, String)> {
    let mut links = Vec::new();
    for (index, line) in markdown.lines().enumerate() {
        for (at, _) in line.match_indices("](") {
            let Some((target, _)) = line[at + 2..].split_once(')') else {
                continue;
            };
            let target = target.split('#').next().unwrap_or_default();
            if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
                links.push((index + 1, target.to_owned()));
            }
        }
    }
    links
}

#[test]
fn the_style_guide_links_only_to_files_that_exist() {
    let docs = root().join("docs");
    let style = fs::read_to_string(docs.join("style.md")).unwrap();
    let links = relative_links(&style);
    assert!(
        links.len() >= 10,
        "docs/style.md should point at the code: {links:?}"
    );
    let missing: Vec<Violation> = links
        .into_iter()
        .filter(|(_, target)| !docs.join(target).exists())
        .map(|(line, target)| {
            Violation::new(
                "docs/style.md",
                Some(line),
                format!("links to `{target}`, which does not exist: fix the path or the rule"),
            )
        })
        .collect();
    assert_clean("style guide links", &missing);
}

/// The markdown files under `docs/` (and its sub-directories), relative paths and texts.
fn docs() -> Vec<(String, String)> {
    let mut pending = vec![root().join("docs")];
    let mut found = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let text = fs::read_to_string(&path).unwrap();
                found.push((relative(&root(), &path), text));
            }
        }
    }
    // The README copies the library quickstart like a guide copies its example.
    let readme = root().join("README.md");
    found.push((
        relative(&root(), &readme),
        fs::read_to_string(&readme).unwrap(),
    ));
    found.sort();
    found
}

/// The texts of the files under `crates/<krate>/tests/`.
fn tests_of(krate: &str) -> Vec<String> {
    rust_files(&root().join("crates").join(krate).join("tests"))
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .collect()
}

#[test]
fn code_copied_into_the_docs_is_the_code_the_tests_run() {
    let read = |path: &str| fs::read_to_string(root().join(path)).ok();
    let mut violations = Vec::new();
    let mut copies = 0;
    for (path, text) in docs() {
        copies += includes(&text).len();
        violations.extend(check_doc_includes(&path, &text, &read, &tests_of));
    }
    assert!(
        copies >= 8,
        "the guides should copy their examples: {copies}"
    );
    assert_clean("doc includes", &violations);
}

/// The guides: each has an example that a test runs, the index lists each, and their links
/// (and those of the other docs written with them) point at files that exist.
#[test]
fn every_guide_copies_a_tested_example_and_is_indexed() {
    let docs = docs();
    let index = &docs
        .iter()
        .find(|(path, _)| path == "docs/guides/README.md")
        .expect("docs/guides/README.md indexes the guides")
        .1;
    let mut violations = Vec::new();
    let guides: Vec<&(String, String)> = docs
        .iter()
        .filter(|(path, _)| path.starts_with("docs/guides/") && !path.ends_with("README.md"))
        .collect();
    assert!(guides.len() >= 7, "one guide per system: {guides:?}");
    for (path, text) in &guides {
        if includes(text).is_empty() {
            violations.push(Violation::new(
                path.as_str(),
                None,
                "copies no example: add one that a test runs, after an `<!-- include: ... -->` marker",
            ));
        }
        let name = path.trim_start_matches("docs/guides/");
        if !index.contains(&format!("]({name})")) {
            violations.push(Violation::new(
                "docs/guides/README.md",
                None,
                format!("does not link to `{name}`: list every guide"),
            ));
        }
    }
    let linked = [
        "docs/architecture.md",
        "docs/security.md",
        "docs/storage.md",
    ];
    for (path, text) in docs
        .iter()
        .filter(|(path, _)| path.starts_with("docs/guides/") || linked.contains(&path.as_str()))
    {
        let dir = root().join(path).parent().unwrap().to_path_buf();
        for (line, target) in relative_links(text) {
            if !dir.join(&target).exists() {
                violations.push(Violation::new(
                    path.as_str(),
                    Some(line),
                    format!("links to `{target}`, which does not exist"),
                ));
            }
        }
    }
    assert_clean("guides", &violations);
}

// ---------------------------------------------------------------------------------------------
// Doc includes on fixtures.

const EXAMPLE: &str = "use std::io;\n\n// ANCHOR: setup\nlet a = 1;\n// ANCHOR: inner\nlet b = 2;\n// ANCHOR_END: inner\n// ANCHOR_END: setup\nfn main() {}\n";
const RUNS_IT: &str = "#[path = \"../examples/demo.rs\"]\nmod demo;";

fn check_fixture(doc: &str) -> Vec<Violation> {
    let read = |path: &str| match path {
        "crates/c/examples/demo.rs" | "crates/c/examples/orphan.rs" | "crates/c/tests/t.rs" => {
            Some(EXAMPLE.to_owned())
        }
        "crates/c/src/lib.rs" => Some("pub fn f() {}\n".to_owned()),
        "crates/c/examples/sub.rs" => Some(
            "// frameio_auth_ims is fine in a comment\nuse frameio_auth_ims::presets;\n".to_owned(),
        ),
        _ => None,
    };
    let tests_of = |krate: &str| {
        if krate == "c" {
            vec![
                RUNS_IT.to_owned(),
                "#[path = \"../examples/sub.rs\"]".to_owned(),
            ]
        } else {
            Vec::new()
        }
    };
    check_doc_includes("docs/guides/g.md", doc, &read, &tests_of)
}

#[test]
fn a_doc_that_copies_a_file_or_a_region_exactly_passes() {
    let whole = "# G\n\n<!-- include: crates/c/examples/demo.rs -->\n```rust\nuse std::io;\n\nlet a = 1;\nlet b = 2;\nfn main() {}\n```\n";
    assert_clean("whole", &check_fixture(whole));
    let region = "<!-- include: crates/c/examples/demo.rs#setup -->\n\n```rust\nlet a = 1;\nlet b = 2;\n```\n";
    assert_clean("region", &check_fixture(region));
    let test = "<!-- include: crates/c/tests/t.rs#inner -->\n```rust\nlet b = 2;\n```\n";
    assert_clean("test region", &check_fixture(test));
    assert_eq!(
        includes(region),
        [Include {
            line: 1,
            path: "crates/c/examples/demo.rs".into(),
            region: Some("setup".into())
        }]
    );
}

#[test]
fn copied_code_builds_with_the_facade_alone() {
    let doc = "<!-- include: crates/c/examples/sub.rs -->\n```rust\n// frameio_auth_ims is fine in a comment\nuse frameio_auth_ims::presets;\n```\n";
    assert_one(
        &check_fixture(doc),
        &["line 2", "other than `frameio_auth`"],
    );
    assert!(!names_a_sub_crate("use frameio_auth::ims::presets;"));
    assert!(!names_a_sub_crate("let my_frameio_auth_x = 1;"));
    assert!(names_a_sub_crate("use frameio_auth_core::Scopes;"));
}

#[test]
fn a_doc_copy_that_drifted_is_reported_at_its_line() {
    let drifted =
        "<!-- include: crates/c/examples/demo.rs#setup -->\n```rust\nlet a = 1;\nlet b = 3;\n```\n";
    let violation = assert_one(
        &check_fixture(drifted),
        &[
            "docs/guides/g.md:4",
            "differs from `crates/c/examples/demo.rs#setup`",
            "line 2",
        ],
    );
    assert_eq!(violation.line, Some(4));
    let short = "<!-- include: crates/c/examples/demo.rs#setup -->\n```rust\nlet a = 1;\n```\n";
    assert_one(&check_fixture(short), &["differs", "line 2"]);
}

#[test]
fn a_doc_include_without_file_region_block_or_test_is_reported() {
    for (doc, needles) in [
        (
            "<!-- include: crates/c/examples/gone.rs -->\n```rust\n```\n",
            &["does not exist"][..],
        ),
        (
            "<!-- include: crates/c/examples/demo.rs#nowhere -->\n```rust\n```\n",
            &["no such region"],
        ),
        (
            "<!-- include: crates/c/examples/demo.rs#setup -->\nSome text.\n",
            &["no fenced code block"],
        ),
        (
            "<!-- include: crates/c/examples/demo.rs#setup -->\n```rust\nlet a = 1;\n",
            &["no fenced code block"],
        ),
        (
            "<!-- include: crates/c/examples/orphan.rs#inner -->\n```rust\nlet b = 2;\n```\n",
            &["which no test of `c` runs"],
        ),
        (
            "<!-- include: crates/c/src/lib.rs -->\n```rust\npub fn f() {}\n```\n",
            &["copies only examples a test runs"],
        ),
    ] {
        assert_one(&check_fixture(doc), needles);
    }
}

// ---------------------------------------------------------------------------------------------
// Layering on fixtures.

#[test]
fn metadata_is_read_like_cargo_writes_it() {
    let packages = packages(&good_workspace());
    let core = &packages[0];
    assert_eq!(core.name, "frameio-auth-core");
    assert_eq!(core.dir, "crates/frameio-auth-core");
    assert!(core.published);
    assert_eq!(core.deps[2].kind, DepKind::Dev);
    let tests = packages
        .iter()
        .find(|p| p.name == "frameio-auth-tests")
        .unwrap();
    assert!(!tests.published);
    assert_eq!(tests.dir, "tests");
}

#[test]
fn a_well_layered_workspace_passes() {
    assert_clean("layering", &check_layering(&packages(&good_workspace())));
}

#[test]
fn core_may_not_depend_on_a_runtime_or_http_crate() {
    let v = check_layering(&with_deps(
        "frameio-auth-core",
        &[("serde", ""), ("tokio", "")],
    ));
    let v = assert_one(
        &v,
        &[
            "crates/frameio-auth-core/Cargo.toml",
            "`tokio`",
            "[dependencies]",
            "no runtime or HTTP",
        ],
    );
    assert_eq!(v.line, None);
    let v = check_layering(&with_deps("frameio-auth-core", &[("hyper-util", "build")]));
    assert_one(&v, &["`hyper-util`", "[build-dependencies]"]);
    // Dev-dependencies are exempt.
    assert_clean(
        "dev",
        &check_layering(&with_deps("frameio-auth-core", &[("reqwest", "dev")])),
    );
}

#[test]
fn core_may_not_depend_on_a_crate_of_ours() {
    let v = check_layering(&with_deps(
        "frameio-auth-core",
        &[("frameio-auth-oauth", "")],
    ));
    assert_one(
        &v,
        &["core depends on no crate of ours", "frameio-auth-oauth"],
    );
}

#[test]
fn the_testkit_depends_on_core_only() {
    let v = check_layering(&with_deps(
        "frameio-auth-testkit",
        &[("frameio-auth-core", ""), ("frameio-auth-store-memory", "")],
    ));
    assert_one(
        &v,
        &[
            "crates/frameio-auth-testkit/Cargo.toml",
            "frameio-auth-store-memory",
            "core only",
        ],
    );
    // ... in its normal dependencies; its own tests may use a client.
    assert_clean(
        "testkit dev",
        &check_layering(&with_deps(
            "frameio-auth-testkit",
            &[("frameio-auth-core", ""), ("frameio-auth-oauth", "dev")],
        )),
    );
    let v = check_layering(&with_deps(
        "frameio-auth-ims",
        &[("frameio-auth-oauth", ""), ("frameio-auth-testkit", "")],
    ));
    assert_one(&v, &["dev-dependency only"]);
    // The one exception: the CLI's `demo` feature runs the fakes in its own process.
    assert_clean(
        "cli demo",
        &check_layering(&with_deps(
            "frameio-auth-cli",
            &[("frameio-auth", ""), ("frameio-auth-testkit", "optional")],
        )),
    );
    let v = check_layering(&with_deps(
        "frameio-auth-cli",
        &[("frameio-auth", ""), ("frameio-auth-testkit", "")],
    ));
    assert_one(&v, &["dev-dependency only"]);
}

#[test]
fn nothing_depends_upward_or_sideways() {
    let v = check_layering(&with_deps(
        "frameio-auth-oauth",
        &[("frameio-auth-ims", "")],
    ));
    assert_one(
        &v,
        &["frameio-auth-oauth", "`frameio-auth-ims`", "not below it"],
    );
    let v = check_layering(&with_deps("frameio-auth-ims", &[("frameio-auth-v2", "")]));
    assert_one(&v, &["`frameio-auth-v2`", "sideways"]);
    let v = check_layering(&with_deps(
        "frameio-auth-store-file",
        &[("frameio-auth-oauth", "")],
    ));
    assert_one(&v, &["not below it"]);
    let v = check_layering(&with_deps("frameio-auth", &[("frameio-auth-cli", "")]));
    assert_one(&v, &["`frameio-auth-cli`", "not below it"]);
}

#[test]
fn store_crates_do_not_depend_on_each_other() {
    let v = check_layering(&with_deps(
        "frameio-auth-store-file",
        &[("frameio-auth-core", ""), ("frameio-auth-store-memory", "")],
    ));
    assert_one(&v, &["store crates do not depend on each other"]);
}

#[test]
fn a_crate_without_a_layer_is_reported() {
    let mut spec = good_workspace();
    spec.push(("frameio-auth-extra", true, &[("frameio-auth-core", "")]));
    let v = check_layering(&packages(&spec));
    assert_one(
        &v,
        &[
            "crates/frameio-auth-extra/Cargo.toml",
            "has no layer",
            "layer_of",
        ],
    );
    // A new store is placed by its name.
    assert_eq!(layer_of("frameio-auth-store-redis"), Some(Layer::Store));
}

// ---------------------------------------------------------------------------------------------
// The README table on fixtures.

const README: &str = "# x

## Crates

| crate | what it is | status |
|---|---|---|
| [`frameio-auth-core`](crates/frameio-auth-core) | core | ready |
| [`frameio-auth-oauth`](crates/frameio-auth-oauth/) | oauth | ready |
| `frameio-auth-cli` | the command | planned |
| `tests/` (`frameio-auth-tests`) | end-to-end tests | |
| `xtask/` | automation | |

Text after the table.
";

fn readme_packages() -> Vec<Package> {
    packages(&[
        ("frameio-auth-core", true, &[]),
        ("frameio-auth-oauth", true, &[]),
        ("frameio-auth-tests", false, &[]),
        ("xtask", false, &[]),
    ])
}

#[test]
fn a_true_readme_table_passes() {
    assert_clean(
        "README",
        &check_readme_table("README.md", README, &readme_packages()),
    );
}

#[test]
fn a_readme_table_missing_a_crate_is_reported() {
    let readme = README.replace(
        "| [`frameio-auth-oauth`](crates/frameio-auth-oauth/) | oauth | ready |\n",
        "",
    );
    let v = check_readme_table("README.md", &readme, &readme_packages());
    assert_one(
        &v,
        &[
            "README.md",
            "lacks `frameio-auth-oauth`",
            "[`frameio-auth-oauth`](crates/frameio-auth-oauth)",
        ],
    );
    let readme = README.replace("| `xtask/` | automation | |\n", "");
    let v = check_readme_table("README.md", &readme, &readme_packages());
    assert_one(&v, &["lacks `xtask`"]);
}

#[test]
fn readme_statuses_must_be_true() {
    // A planned crate that exists.
    let mut members = readme_packages();
    members.extend(packages(&[("frameio-auth-cli", true, &[])]));
    let v = check_readme_table("README.md", README, &members);
    let v = assert_one(
        &v,
        &[
            "README.md:9:",
            "`frameio-auth-cli` is planned, but it exists",
            "mark it `ready`",
        ],
    );
    assert_eq!(v.line, Some(9));
    // A ready crate that does not exist.
    let readme = README.replace("the command | planned", "the command | ready");
    let v = check_readme_table("README.md", &readme, &readme_packages());
    assert_one(
        &v,
        &["README.md:9:", "no workspace member", "mark it `planned`"],
    );
    // An unknown status.
    let readme = README.replace("| core | ready |", "| core | beta |");
    let v = check_readme_table("README.md", &readme, &readme_packages());
    assert_one(&v, &["README.md:7:", "status `beta`"]);
}

#[test]
fn readme_rows_point_at_the_crate_once() {
    let readme = README.replace("(crates/frameio-auth-core)", "(crates/core)");
    let v = check_readme_table("README.md", &readme, &readme_packages());
    assert_one(
        &v,
        &["`crates/core`", "lives in `crates/frameio-auth-core`"],
    );
    let readme = README.replace(
        "| `frameio-auth-cli`",
        "| [`frameio-auth-core`](crates/frameio-auth-core) | again | ready |\n| `frameio-auth-cli`",
    );
    let v = check_readme_table("README.md", &readme, &readme_packages());
    assert_one(&v, &["listed twice (also on line 7)"]);
    let v = check_readme_table("README.md", "# no table\n", &readme_packages());
    assert_one(&v, &["no `## Crates` table"]);
}

// ---------------------------------------------------------------------------------------------
// Crate docs on fixtures.

const GOOD_LIB: &str = "//! A crate.
//!
//! ```no_run
//! start_a_server();
//! ```
//!
//! ```
//! assert_eq!(1 + 1, 2);
//! ```
#![deny(missing_docs)]
";

fn good_crate() -> CrateFiles {
    CrateFiles {
        name: "frameio-auth-demo".into(),
        dir: "crates/frameio-auth-demo".into(),
        has_readme: true,
        lib_rs: Some(GOOD_LIB.into()),
        ..CrateFiles::default()
    }
}

#[test]
fn a_documented_crate_passes() {
    assert_clean("docs", &check_crate_docs(&good_crate()));
    assert_eq!(runnable_doctests(GOOD_LIB), [7]);
}

#[test]
fn a_lib_rs_without_deny_missing_docs_is_reported() {
    let krate = CrateFiles {
        lib_rs: Some(GOOD_LIB.replace("#![deny(missing_docs)]\n", "#![warn(missing_docs)]\n")),
        ..good_crate()
    };
    assert_one(
        &check_crate_docs(&krate),
        &[
            "crates/frameio-auth-demo/src/lib.rs:1:",
            "#![deny(missing_docs)]",
        ],
    );
    // A binary-only crate is checked in main.rs.
    let krate = CrateFiles {
        lib_rs: None,
        main_rs: Some("fn main() {}\n".into()),
        examples: vec!["demo".into()],
        tests: vec!["#[path = \"../examples/demo.rs\"] mod demo;".into()],
        ..good_crate()
    };
    assert_one(
        &check_crate_docs(&krate),
        &["src/main.rs", "deny(missing_docs)"],
    );
}

#[test]
fn a_crate_without_a_readme_is_reported() {
    let krate = CrateFiles {
        has_readme: false,
        ..good_crate()
    };
    assert_one(
        &check_crate_docs(&krate),
        &["crates/frameio-auth-demo/README.md", "no README.md"],
    );
}

#[test]
fn a_crate_needs_an_example_that_runs() {
    let only_no_run = "//! ```no_run\n//! x();\n//! ```\n//! ```rust,ignore\n//! y();\n//! ```\n//! ```text\n//! z\n//! ```\n#![deny(missing_docs)]\n";
    let krate = CrateFiles {
        lib_rs: Some(only_no_run.into()),
        ..good_crate()
    };
    assert_one(
        &check_crate_docs(&krate),
        &["src/lib.rs", "no runnable example", "no examples/ program"],
    );
    // Examples count only when a test runs them.
    let krate = CrateFiles {
        examples: vec!["login".into()],
        ..krate
    };
    assert_one(
        &check_crate_docs(&krate),
        &["no test runs its examples (login)"],
    );
    let krate = CrateFiles {
        tests: vec!["#[path = \"../examples/login.rs\"]\nmod login;".into()],
        ..krate
    };
    assert_clean("examples run", &check_crate_docs(&krate));
    // An item's doc example in lib.rs counts as well.
    let krate = CrateFiles {
        lib_rs: Some(format!(
            "{only_no_run}/// An item.\n///\n/// ```\n/// item();\n/// ```\npub fn item() {{}}\n"
        )),
        examples: Vec::new(),
        tests: Vec::new(),
        ..krate
    };
    assert_clean("item doctest", &check_crate_docs(&krate));
    // `rust` and `should_panic` blocks run.
    assert!(runs_as_doctest("rust"));
    assert!(runs_as_doctest("should_panic"));
    assert!(runs_as_doctest(" edition2024"));
    assert!(!runs_as_doctest("rust,no_run"));
    assert!(!runs_as_doctest("compile_fail"));
    assert!(!runs_as_doctest("sh"));
}

// ---------------------------------------------------------------------------------------------
// Secrets on fixtures.

const LIB_PATH: &str = "crates/frameio-auth-demo/src/login.rs";

#[test]
fn printing_an_exposed_secret_is_reported() {
    let source =
        "fn show(token: &AccessToken) {\n    println!(\"{}\", token.expose_secret());\n}\n";
    let v = check_secret_prints(LIB_PATH, source);
    let v = assert_one(
        &v,
        &[
            "crates/frameio-auth-demo/src/login.rs:2:",
            "`println!`",
            ".expose_secret()",
            "SECRET_PRINT_ALLOWED",
        ],
    );
    assert_eq!(v.line, Some(2));
}

#[test]
fn every_print_macro_and_debug_placeholder_counts() {
    for line in [
        "eprintln!(\"refresh: {}\", refresh.expose_secret());",
        "print!(\"{secret}\", secret = ClientSecret::new(s).expose_secret());",
        "dbg!(&tokens.refresh_token().map(RefreshToken::expose_secret));",
        "let text = format!(\"{:?}\", AccessToken::new(raw));",
        "tracing::debug!(\"got {token:?}\", token = code as &AuthorizationCode);",
        "write!(f, \"{:#?}\", verifier as PkceVerifier)?;",
    ] {
        let source = format!("fn f() {{\n    {line}\n}}\n");
        let v = check_secret_prints(LIB_PATH, &source);
        assert_eq!(v.len(), 1, "{line}: {v:?}");
        assert_eq!(v[0].line, Some(2), "{line}");
    }
}

#[test]
fn a_print_over_several_lines_is_followed_to_its_end() {
    let source = "fn f() {\n    println!(\n        \"token: {}\",\n        token.expose_secret(),\n    );\n    println!(\"done\");\n}\n";
    assert_one(
        &check_secret_prints(LIB_PATH, source),
        &["login.rs:2:", "`println!`"],
    );
}

#[test]
fn test_code_comments_and_harmless_lines_are_not_reported() {
    let source = r#"//! Never `println!("{}", token.expose_secret())`.
/// Like `dbg!(AccessToken::new("x"))`, which would leak.
pub fn f(token: &AccessToken) -> &str {
    // println!("{}", token.expose_secret());
    println!("refreshing {}", key); // AccessToken is not printed here
    let cached = CachedAccessToken::default(); println!("{cached:?}");
    eprintln!("expires at {:?}", expires_at);
    token.expose_secret()
}

#[cfg(test)]
mod tests {
    #[test]
    fn t() {
        println!("{}", token.expose_secret());
        dbg!(AccessToken::new("x"));
    }
}

#[cfg(any(test, feature = "mock"))]
fn helper() { dbg!(AccessToken::new("x")); }

fn after() {
    dbg!(IdToken::parse(raw));
}
"#;
    let v = check_secret_prints(LIB_PATH, source);
    assert_one(&v, &["login.rs:24:", "`dbg!`", "IdToken"]);
    for path in [
        "crates/frameio-auth-demo/tests/login.rs",
        "crates/frameio-auth-demo/examples/login.rs",
        "crates/frameio-auth-demo/benches/login.rs",
        "crates/frameio-auth-demo/src/tests.rs",
    ] {
        assert_clean(path, &check_secret_prints(path, source));
    }
}

#[test]
fn the_allow_list_is_by_path_and_says_why() {
    let source = "fn run(token: &AccessToken) {\n    println!(\"{}\", token.expose_secret());\n}\n"
        .to_owned();
    let (allowed, reason) = SECRET_PRINT_ALLOWED[0];
    assert!(reason.contains("by design"));
    let files = vec![
        (allowed.to_owned(), source.clone()),
        (
            "crates/frameio-auth-cli/src/commands/status.rs".to_owned(),
            source,
        ),
    ];
    assert_one(&check_secret_prints_in(&files), &["commands/status.rs:2:"]);
}
