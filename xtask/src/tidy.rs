//! Repository policy as ordinary tests ("tidy" tests): the rules of `DESIGN.md` and the house
//! style that a reviewer would otherwise have to remember, checked on every `cargo xtask ci`
//! (its `test` step runs xtask's tests like any other package's).
//!
//! Each check is a plain function from inputs (parsed `cargo metadata`, file contents) to a
//! list of [`Violation`]s, so the tests (`tidy/tests.rs`; xtask is a binary, so they are unit
//! tests rather than `xtask/tests/`) show every check failing on a deliberate violation (a
//! fixture) as well as passing on the real workspace. The checks:
//!
//! - [`check_layering`]: who may depend on whom (normal and build dependencies).
//! - [`check_readme_table`]: the README's crate table matches the workspace.
//! - [`check_crate_docs`]: every published crate has a README, a runnable example and
//!   `#![deny(missing_docs)]`.
//! - [`check_secret_prints`]: no secret printed or `Debug`-formatted in library code.
//! - [`check_doc_includes`]: a code block a doc marks as a copy of a file (an example a test
//!   runs, or a test) is that file, byte for byte, so a guide can never drift from code that
//!   compiles and runs.
//!
//! A failure names the file (and line, where there is one) and says what to do. A rule is
//! never weakened to make a test pass: a deliberate exception goes into an allow-list here,
//! with its reason ([`SECRET_PRINT_ALLOWED`]); a gap found when a rule was written is listed
//! as work to do ([`OPEN_EXAMPLE_GAPS`]), and that list may only shrink.

mod json;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use json::Value;

/// One broken rule: where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Violation {
    /// The file, relative to the workspace root.
    pub(crate) file: String,
    /// The 1-based line, when the rule is about one line.
    pub(crate) line: Option<usize>,
    /// What is wrong and how to fix it.
    pub(crate) message: String,
}

impl Violation {
    fn new(file: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Violation {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Workspace packages, from `cargo metadata --format-version 1 --no-deps`.

/// The kind of a dependency, as `cargo metadata` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DepKind {
    Normal,
    Dev,
    Build,
}

/// One dependency of a workspace package.
#[derive(Debug, Clone)]
pub(crate) struct Dep {
    /// The package name (not a `package = ...` rename).
    pub(crate) name: String,
    pub(crate) kind: DepKind,
    /// Whether a feature turns it on (`optional = true`).
    pub(crate) optional: bool,
}

/// One workspace package.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub(crate) name: String,
    /// The package directory, relative to the workspace root (`crates/frameio-auth-core`).
    pub(crate) dir: String,
    /// Whether it is published (`publish` is not `false`).
    pub(crate) published: bool,
    pub(crate) deps: Vec<Dep>,
}

impl Package {
    fn manifest(&self) -> String {
        format!("{}/Cargo.toml", self.dir)
    }
}

/// Reads the workspace packages out of `cargo metadata --no-deps` JSON. `root` turns the
/// absolute manifest paths into paths relative to the workspace.
pub(crate) fn parse_metadata(text: &str, root: &Path) -> Result<Vec<Package>, String> {
    let doc = json::parse(text)?;
    let packages = doc
        .get("packages")
        .and_then(Value::as_array)
        .ok_or("cargo metadata: no `packages` array")?;
    packages
        .iter()
        .map(|package| {
            let name = package
                .get("name")
                .and_then(Value::as_str)
                .ok_or("cargo metadata: a package without a name")?
                .to_owned();
            let manifest = package
                .get("manifest_path")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("cargo metadata: {name} has no manifest_path"))?;
            let dir = Path::new(manifest).parent().unwrap_or(Path::new(""));
            let dir = dir.strip_prefix(root).unwrap_or(dir);
            // `null`: any registry; `[]`: `publish = false`; a list: those registries.
            let published =
                !matches!(package.get("publish"), Some(Value::Array(r)) if r.is_empty());
            let deps = package
                .get("dependencies")
                .and_then(Value::as_array)
                .unwrap_or_default()
                .iter()
                .map(|dep| {
                    let dep_name = dep.get("name").and_then(Value::as_str).ok_or_else(|| {
                        format!("cargo metadata: {name} has an unnamed dependency")
                    })?;
                    let kind = match dep.get("kind").and_then(Value::as_str) {
                        None => DepKind::Normal,
                        Some("dev") => DepKind::Dev,
                        Some("build") => DepKind::Build,
                        Some(other) => {
                            return Err(format!("cargo metadata: dependency kind {other}"));
                        }
                    };
                    Ok(Dep {
                        name: dep_name.to_owned(),
                        kind,
                        optional: matches!(dep.get("optional"), Some(Value::Bool(true))),
                    })
                })
                .collect::<Result<_, String>>()?;
            Ok(Package {
                name,
                dir: dir.to_string_lossy().replace('\\', "/"),
                published,
                deps,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Layering.

/// The layers of `DESIGN.md`, bottom to top. A crate may depend (normally or at build time)
/// only on crates in lower layers; dev-dependencies are free (tests may use anything), except
/// that nothing but core may be a normal dependency of the testkit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    /// `frameio-auth-core`: types, traits, pure protocol. No crate of ours, no runtime, no HTTP.
    Core,
    /// `frameio-auth-testkit`: beside core; depends on core only, never on what it checks.
    Testkit,
    /// `frameio-auth-oauth`: the OAuth 2 transport.
    Oauth,
    /// `frameio-auth-store-*`: token stores; they do not depend on each other.
    Store,
    /// `frameio-auth-ims`, `frameio-auth-v2`: the providers.
    Provider,
    /// `frameio-auth`: the facade.
    Facade,
    /// `frameio-auth-cli`: the command.
    Cli,
}

impl Layer {
    /// The height in the picture: a dependency must be strictly lower than its dependent.
    fn rank(self) -> u8 {
        match self {
            Layer::Core | Layer::Testkit => 0,
            Layer::Oauth | Layer::Store => 1,
            Layer::Provider => 2,
            Layer::Facade => 3,
            Layer::Cli => 4,
        }
    }
}

/// The order, for messages.
const LAYER_ORDER: &str =
    "core (and testkit beside it) < oauth, stores < ims, v2 < frameio-auth < frameio-auth-cli";

/// The layer of one of our crates; `None` for a crate nobody placed yet.
pub(crate) fn layer_of(name: &str) -> Option<Layer> {
    match name {
        "frameio-auth-core" => Some(Layer::Core),
        "frameio-auth-testkit" => Some(Layer::Testkit),
        "frameio-auth-oauth" => Some(Layer::Oauth),
        "frameio-auth-ims" | "frameio-auth-v2" => Some(Layer::Provider),
        "frameio-auth" => Some(Layer::Facade),
        "frameio-auth-cli" => Some(Layer::Cli),
        _ if name.starts_with("frameio-auth-store-") => Some(Layer::Store),
        _ => None,
    }
}

/// Crates that do I/O or run tasks: core must depend on none of them (it is pure and fast to
/// compile). Matched exactly; see also [`RUNTIME_AND_HTTP_FAMILIES`].
pub(crate) const RUNTIME_AND_HTTP: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "async-io",
    "async-executor",
    "mio",
    "futures-executor",
    "actix",
    "actix-rt",
    "actix-web",
    "reqwest",
    "hyper",
    "http",
    "http-body",
    "http-body-util",
    "h2",
    "h3",
    "tower",
    "tower-http",
    "axum",
    "ureq",
    "isahc",
    "surf",
    "curl",
    "rustls",
    "native-tls",
    "openssl",
];

/// Families of runtime and HTTP crates, matched by prefix (`tokio-rustls`, `hyper-util`).
const RUNTIME_AND_HTTP_FAMILIES: &[&str] = &["tokio-", "hyper-", "reqwest-", "actix-", "tower-"];

fn is_runtime_or_http(name: &str) -> bool {
    RUNTIME_AND_HTTP.contains(&name)
        || RUNTIME_AND_HTTP_FAMILIES
            .iter()
            .any(|family| name.starts_with(family))
}

/// Who may depend on whom, over the workspace packages. Unpublished packages (`tests/`,
/// `xtask/`) sit outside the picture and are not checked; dev-dependencies are exempt.
pub(crate) fn check_layering(packages: &[Package]) -> Vec<Violation> {
    let members: BTreeSet<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let ours = |name: &str| members.contains(name) || name.starts_with("frameio-auth");
    let mut violations = Vec::new();
    for package in packages.iter().filter(|p| p.published) {
        let file = package.manifest();
        let Some(layer) = layer_of(&package.name) else {
            violations.push(Violation::new(
                &file,
                None,
                format!(
                    "`{}` has no layer: place it in `layer_of` (xtask/src/tidy.rs) and in the \
                     picture in DESIGN.md ({LAYER_ORDER})",
                    package.name
                ),
            ));
            continue;
        };
        for dep in package.deps.iter().filter(|d| d.kind != DepKind::Dev) {
            let section = if dep.kind == DepKind::Build {
                "[build-dependencies]"
            } else {
                "[dependencies]"
            };
            let what = format!("`{}` has `{}` in {section}", package.name, dep.name);
            if layer == Layer::Core {
                if ours(&dep.name) {
                    violations.push(Violation::new(
                        &file,
                        None,
                        format!("{what}: core depends on no crate of ours; move the code that needs it up a layer"),
                    ));
                } else if is_runtime_or_http(&dep.name) {
                    violations.push(Violation::new(
                        &file,
                        None,
                        format!("{what}: core does no I/O and needs no runtime or HTTP crate; move that code to oauth, a store or the facade"),
                    ));
                }
                continue;
            }
            if !ours(&dep.name) {
                continue;
            }
            let Some(dep_layer) = layer_of(&dep.name) else {
                violations.push(Violation::new(
                    &file,
                    None,
                    format!("{what}, which has no layer: place it in `layer_of` (xtask/src/tidy.rs) and in DESIGN.md"),
                ));
                continue;
            };
            if layer == Layer::Testkit {
                if dep_layer != Layer::Core {
                    violations.push(Violation::new(
                        &file,
                        None,
                        format!("{what}: the testkit depends on core only, never on the clients and stores it checks; take the type from core or move the helper into the crate's own tests"),
                    ));
                }
                continue;
            }
            // The CLI's `demo` feature runs the fakes in-process (docs/decisions.md): the
            // one normal use of the testkit, and only behind that feature.
            let demo_feature = layer == Layer::Cli && dep.optional;
            if dep_layer == Layer::Testkit && !demo_feature {
                violations.push(Violation::new(
                    &file,
                    None,
                    format!("{what}: the testkit is used as a dev-dependency only; move it to [dev-dependencies]"),
                ));
            } else if layer == Layer::Store && dep_layer == Layer::Store {
                violations.push(Violation::new(
                    &file,
                    None,
                    format!("{what}: store crates do not depend on each other; share the code through core"),
                ));
            } else if dep_layer.rank() >= layer.rank() {
                violations.push(Violation::new(
                    &file,
                    None,
                    format!("{what}, which is not below it: nothing depends upward or sideways ({LAYER_ORDER})"),
                ));
            }
        }
    }
    violations
}

// ---------------------------------------------------------------------------------------------
// The README's crate table.

/// Unpublished members that the README's table documents (by directory), with no status.
pub(crate) const DOCUMENTED_UNPUBLISHED_ROWS: &[&str] = &["tests", "xtask"];

/// One row of the README's crate table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    line: usize,
    /// The crate the row names, if any (`frameio-auth-core`).
    name: Option<String>,
    /// The directory it names or links to, without a trailing `/` (`crates/frameio-auth-core`).
    dir: Option<String>,
    status: String,
}

/// The text between backticks in `cell`, in order.
fn backticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// The rows of the table under `## Crates` (header and separator rows left out).
fn crate_table(readme: &str) -> Option<Vec<Row>> {
    let mut lines = readme.lines().enumerate();
    lines.find(|(_, line)| line.trim() == "## Crates")?;
    let table: Vec<(usize, &str)> = lines
        .skip_while(|(_, line)| !line.trim_start().starts_with('|'))
        .take_while(|(_, line)| line.trim_start().starts_with('|'))
        .collect();
    let rows = table
        .into_iter()
        .skip(1) // header
        .filter(|(_, line)| !line.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')))
        .map(|(index, line)| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let first = cells.first().copied().unwrap_or_default();
            let ticked = backticked(first);
            let link = first
                .split_once("](")
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(target, _)| target.trim_end_matches('/').to_owned());
            Row {
                line: index + 1,
                name: ticked
                    .iter()
                    .find(|t| !t.ends_with('/'))
                    .map(|t| (*t).to_owned()),
                dir: link.or_else(|| {
                    ticked
                        .iter()
                        .find(|t| t.ends_with('/'))
                        .map(|t| t.trim_end_matches('/').to_owned())
                }),
                status: if cells.len() > 1 {
                    cells.last().copied().unwrap_or_default().to_owned()
                } else {
                    String::new()
                },
            }
        })
        .collect();
    Some(rows)
}

/// The README's crate table lists exactly the published members (each `ready`), the planned
/// crates (`planned`, and none of them may exist) and the documented unpublished rows (no
/// status). `readme_path` is only for messages.
pub(crate) fn check_readme_table(
    readme_path: &str,
    readme: &str,
    packages: &[Package],
) -> Vec<Violation> {
    let Some(rows) = crate_table(readme) else {
        return vec![Violation::new(
            readme_path,
            None,
            "has no `## Crates` table: add one with a row per published crate (crate | what it is | status)",
        )];
    };
    let mut violations = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &rows {
        let at = |message: String| Violation::new(readme_path, Some(row.line), message);
        let member = packages.iter().find(|p| {
            row.name.as_deref() == Some(p.name.as_str())
                || (row.name.is_none() && row.dir.as_deref() == Some(p.dir.as_str()))
        });
        let Some(member) = member else {
            match (row.name.as_deref(), row.status.as_str()) {
                (Some(_), "planned") => {}
                (Some(name), "ready") => violations.push(at(format!(
                    "says `{name}` is ready, but no workspace member has that name: add the crate or mark it `planned`"
                ))),
                (Some(name), status) => violations.push(at(format!(
                    "`{name}` is not a workspace member, so its status must be `planned`, not `{status}`"
                ))),
                (None, _) => violations.push(at(
                    "names no crate in backticks and no member directory: write the crate as [`name`](crates/name)".to_owned(),
                )),
            }
            continue;
        };
        if let Some(first) = seen.insert(member.name.as_str(), row.line) {
            violations.push(at(format!(
                "`{}` is listed twice (also on line {first}): keep one row",
                member.name
            )));
        }
        if let Some(dir) = &row.dir
            && *dir != member.dir
        {
            violations.push(at(format!(
                "points `{}` at `{dir}`, but the crate lives in `{}`",
                member.name, member.dir
            )));
        }
        if member.published {
            match row.status.as_str() {
                "ready" => {}
                "planned" => violations.push(at(format!(
                    "says `{}` is planned, but it exists: mark it `ready`",
                    member.name
                ))),
                other => violations.push(at(format!(
                    "gives `{}` the status `{other}`: a published crate that exists is `ready`",
                    member.name
                ))),
            }
        } else if DOCUMENTED_UNPUBLISHED_ROWS.contains(&member.dir.as_str()) {
            if !row.status.is_empty() {
                violations.push(at(format!(
                    "`{}/` is unpublished and takes no status: leave the status cell empty",
                    member.dir
                )));
            }
        } else {
            violations.push(at(format!(
                "lists `{}`, which is not published: the table lists published crates (plus {})",
                member.name,
                DOCUMENTED_UNPUBLISHED_ROWS.join("/, ") + "/"
            )));
        }
    }
    for package in packages {
        let wanted =
            package.published || DOCUMENTED_UNPUBLISHED_ROWS.contains(&package.dir.as_str());
        if wanted && !seen.contains_key(package.name.as_str()) {
            let row = if package.published {
                format!(
                    "| [`{0}`]({1}) | what it is | ready |",
                    package.name, package.dir
                )
            } else {
                format!("| `{}/` | what it is | |", package.dir)
            };
            violations.push(Violation::new(
                readme_path,
                None,
                format!(
                    "the `## Crates` table lacks `{}`: add the row `{row}`",
                    package.name
                ),
            ));
        }
    }
    violations
}

// ---------------------------------------------------------------------------------------------
// Per-crate documentation.

/// What [`check_crate_docs`] looks at in one published crate.
#[derive(Debug, Clone, Default)]
pub(crate) struct CrateFiles {
    pub(crate) name: String,
    /// The crate directory, relative to the workspace root.
    pub(crate) dir: String,
    /// Whether `README.md` exists in the crate directory.
    pub(crate) has_readme: bool,
    /// `src/lib.rs`, if there is one.
    pub(crate) lib_rs: Option<String>,
    /// `src/main.rs`, if there is one.
    pub(crate) main_rs: Option<String>,
    /// The programs in `examples/` (file stems).
    pub(crate) examples: Vec<String>,
    /// The text of every file in the crate's `tests/`, to see which examples a test runs.
    pub(crate) tests: Vec<String>,
}

/// Published crates that break the runnable-example rule today: the gaps found when the rule
/// was written (issue 11). These are NOT exceptions but work to do: give `src/lib.rs` a
/// doctest that runs (or add an `examples/` program that a test runs), then delete the line.
/// The tidy test fails while a listed crate already follows the rule, so this list only
/// shrinks; never add to it.
pub(crate) const OPEN_EXAMPLE_GAPS: &[&str] = &[];

/// Whether a doc-code-block info string (what follows the opening fence) makes a doctest that
/// rustdoc compiles and runs.
fn runs_as_doctest(info: &str) -> bool {
    info.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|token| !token.is_empty())
        .all(|token| {
            matches!(token, "rust" | "should_panic" | "test_harness")
                || token.starts_with("edition")
        })
}

/// The lines (1-based) of the opening fences of runnable doctests in the doc comments (`//!`
/// crate docs and `///` item docs) of `source`.
fn runnable_doctests(source: &str) -> Vec<usize> {
    let mut in_block = false;
    let mut found = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let line = line.trim_start();
        let Some(doc) = line.strip_prefix("//!").or_else(|| {
            line.strip_prefix("///")
                .filter(|_| !line.starts_with("////"))
        }) else {
            continue;
        };
        let doc = doc.trim_start();
        if let Some(info) = doc.strip_prefix("```") {
            if !in_block && runs_as_doctest(info) {
                found.push(index + 1);
            }
            in_block = !in_block;
        }
    }
    found
}

/// Whether `source` has `#![deny(missing_docs)]` (or `forbid`) as a crate attribute.
fn denies_missing_docs(source: &str) -> bool {
    source.lines().any(|line| {
        let line = line.trim();
        (line.starts_with("#![deny(") || line.starts_with("#![forbid("))
            && line.contains("missing_docs")
    })
}

/// Whether some test file runs `example`: includes its source (`examples/<name>.rs`, as the
/// example tests here do) or runs `--example <name>`.
fn example_is_run(example: &str, tests: &[String]) -> bool {
    let path = format!("examples/{example}.rs");
    let flag = format!("--example {example}");
    let arg = format!("\"--example\", \"{example}\"");
    tests
        .iter()
        .any(|t| t.contains(&path) || t.contains(&flag) || t.contains(&arg))
}

/// A published crate has a README, a runnable example (a doctest in `src/lib.rs` that runs, in
/// the crate docs or an item's, or an `examples/` program that a test runs) and
/// `#![deny(missing_docs)]`.
pub(crate) fn check_crate_docs(krate: &CrateFiles) -> Vec<Violation> {
    let mut violations = Vec::new();
    let dir = &krate.dir;
    if !krate.has_readme {
        violations.push(Violation::new(
            format!("{dir}/README.md"),
            None,
            format!("`{}` has no README.md: write one (what it is, a first example; crates.io shows it) and set `readme` in its Cargo.toml", krate.name),
        ));
    }
    let (root_file, root) = match (&krate.lib_rs, &krate.main_rs) {
        (Some(lib), _) => (format!("{dir}/src/lib.rs"), lib),
        (None, Some(main)) => (format!("{dir}/src/main.rs"), main),
        (None, None) => {
            violations.push(Violation::new(
                format!("{dir}/src"),
                None,
                "has neither lib.rs nor main.rs",
            ));
            return violations;
        }
    };
    if !denies_missing_docs(root) {
        violations.push(Violation::new(
            &root_file,
            Some(1),
            "lacks `#![deny(missing_docs)]`: add it after the crate docs (the workspace only warns)",
        ));
    }
    let doctests = if krate.lib_rs.is_some() {
        runnable_doctests(root)
    } else {
        Vec::new() // rustdoc runs no doctests in a binary crate
    };
    let run_examples = krate
        .examples
        .iter()
        .filter(|e| example_is_run(e, &krate.tests))
        .count();
    if doctests.is_empty() && run_examples == 0 {
        let examples = if krate.examples.is_empty() {
            "it has no examples/ program".to_owned()
        } else {
            format!(
                "no test runs its examples ({}); include each in a test under tests/ as the other crates' tests/examples.rs do",
                krate.examples.join(", ")
            )
        };
        violations.push(Violation::new(
            &root_file,
            None,
            format!(
                "`{}` has no runnable example: its doc comments have no ``` block that runs (no_run, ignore and compile_fail do not count) and {examples}; add a runnable doctest to src/lib.rs (best in the crate docs) or an examples/ program that a test runs",
                krate.name
            ),
        ));
    }
    violations
}

// ---------------------------------------------------------------------------------------------
// Secrets in output.

/// The secret types of core (and anything exposing one): printing or `Debug`-formatting them
/// in library code is a leak waiting for a log file.
pub(crate) const SECRET_NAMES: &[&str] = &[
    "AccessToken",
    "RefreshToken",
    "ClientSecret",
    "DeveloperToken",
    "IdToken",
    "AuthorizationCode",
    "PkceVerifier",
    "CsrfState",
];

/// Files that may print a secret, each with the reason. Deliberate, reviewed exceptions only.
pub(crate) const SECRET_PRINT_ALLOWED: &[(&str, &str)] = &[(
    "crates/frameio-auth-cli/src/commands/token.rs",
    "`frameio-auth token` prints exactly one token by design (for `curl -H \"Authorization: Bearer $(frameio-auth token)\"`)",
)];

/// The print macros that write to the terminal.
const PRINT_MACROS: &[&str] = &["println!", "eprintln!", "print!", "eprint!", "dbg!"];

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `line` with a trailing `//` comment (or a whole doc comment) removed; `//` inside a string
/// literal is kept.
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(index + 1) == Some(&b'/') => return &line[..index],
            _ => {}
        }
    }
    line
}

/// `{` minus `}` outside string and char literals.
fn brace_balance(code: &str) -> i64 {
    let mut balance = 0;
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = code.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '\'' if !in_string && chars.get(index + 2) == Some(&'\'') => index += 2,
            '{' if !in_string => balance += 1,
            '}' if !in_string => balance -= 1,
            _ => {}
        }
        index += 1;
    }
    balance
}

/// `(` minus `)`, for following a macro call over several lines.
fn paren_balance(code: &str) -> i64 {
    code.chars()
        .map(|c| match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        })
        .sum()
}

/// The first secret `code` mentions: a secret type as a whole word, or `expose_secret`.
fn mentioned_secret(code: &str) -> Option<&'static str> {
    if code.contains("expose_secret") {
        return Some(".expose_secret()");
    }
    SECRET_NAMES.iter().copied().find(|name| {
        code.match_indices(name).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            let after = code[at + name.len()..].chars().next();
            !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char)
        })
    })
}

/// Where a print macro starts in `code`, if one does (as a whole word: not `eprintln!` when
/// looking for `println!`, not `my_print!`).
fn print_macro(code: &str) -> Option<(usize, &'static str)> {
    PRINT_MACROS
        .iter()
        .filter_map(|name| {
            code.match_indices(name)
                .find(|(at, _)| !code[..*at].chars().next_back().is_some_and(is_ident_char))
                .map(|(at, _)| (at, *name))
        })
        .min_by_key(|(at, _)| *at)
}

/// Whether `code` has a `Debug` placeholder: `{:?}`, `{:#?}`, `{name:?}`, `{0:?}`.
fn has_debug_placeholder(code: &str) -> bool {
    code.contains(":?}") || code.contains(":#?}")
}

/// Whether a `#[cfg(...)]` attribute line turns the next item on only for tests.
fn is_test_cfg(attribute: &str) -> bool {
    let attribute = attribute.trim();
    attribute.starts_with("#[cfg(")
        && !attribute.contains("not(test")
        && attribute.match_indices("test").any(|(at, _)| {
            !attribute[..at]
                .chars()
                .next_back()
                .is_some_and(is_ident_char)
                && !attribute[at + 4..]
                    .chars()
                    .next()
                    .is_some_and(is_ident_char)
        })
}

/// Whether `path` (relative, `/`-separated) is test, bench or example code rather than library
/// code: under `tests/`, `benches/` or `examples/`, or a `tests.rs` module file.
fn is_test_path(path: &str) -> bool {
    let mut parts = path.split('/');
    let file = parts.next_back().unwrap_or_default();
    parts.any(|dir| matches!(dir, "tests" | "benches" | "examples")) || file == "tests.rs"
}

/// State of the line scanner in [`check_secret_prints`].
enum Scan {
    Code,
    /// Just after a test-only `#[cfg(...)]`: the next item is test code.
    AfterTestCfg,
    /// Inside a test-only item; `opened` once its `{` was seen.
    InTestItem {
        depth: i64,
        opened: bool,
    },
}

/// No print macro (`println!`, `eprintln!`, `print!`, `eprint!`, `dbg!`) and no `Debug`
/// placeholder (`{:?}`) on a line (or macro call) that names a secret type or calls
/// `expose_secret`, in non-test library code. Line-oriented and heuristic: comments, test
/// files and `#[cfg(test)]` items are skipped; a print macro is followed to its closing `)`.
pub(crate) fn check_secret_prints(path: &str, text: &str) -> Vec<Violation> {
    if is_test_path(path) {
        return Vec::new();
    }
    let mut violations = Vec::new();
    let mut scan = Scan::Code;
    // An unfinished print macro call: its first line, text so far, open parentheses.
    let mut open_print: Option<(usize, &'static str, String, i64)> = None;
    for (index, line) in text.lines().enumerate() {
        let code = strip_comment(line);
        let trimmed = code.trim();
        match scan {
            Scan::InTestItem {
                ref mut depth,
                ref mut opened,
            } => {
                *depth += brace_balance(code);
                *opened |= code.contains('{');
                if (*opened && *depth <= 0) || (!*opened && code.contains(';')) {
                    scan = Scan::Code;
                }
                continue;
            }
            Scan::AfterTestCfg => {
                if trimmed.is_empty() || trimmed.starts_with("#[") {
                    continue;
                }
                let depth = brace_balance(code);
                let opened = code.contains('{');
                scan = if (opened && depth <= 0) || (!opened && code.contains(';')) {
                    Scan::Code
                } else {
                    Scan::InTestItem { depth, opened }
                };
                continue;
            }
            Scan::Code => {}
        }
        if is_test_cfg(trimmed) {
            // `#[cfg(test)] mod tests {` on one line: the item starts right after the attribute.
            let rest = trimmed.split_once(")]").map_or("", |(_, rest)| rest.trim());
            scan = if rest.is_empty() {
                Scan::AfterTestCfg
            } else {
                let depth = brace_balance(rest);
                let opened = rest.contains('{');
                if (opened && depth <= 0) || (!opened && rest.contains(';')) {
                    Scan::Code
                } else {
                    Scan::InTestItem { depth, opened }
                }
            };
            continue;
        }
        if let Some((first, name, mut call, mut balance)) = open_print.take() {
            call.push_str(code);
            balance += paren_balance(code);
            if balance > 0 {
                open_print = Some((first, name, call, balance));
            } else if let Some(secret) = mentioned_secret(&call) {
                violations.push(print_violation(path, first, name, secret));
            }
        } else if let Some((at, name)) = print_macro(code) {
            let call = &code[at..];
            let balance = paren_balance(call);
            if balance > 0 {
                open_print = Some((index + 1, name, call.to_owned(), balance));
            } else if let Some(secret) = mentioned_secret(call) {
                violations.push(print_violation(path, index + 1, name, secret));
            }
            continue;
        }
        if has_debug_placeholder(code)
            && let Some(secret) = mentioned_secret(code)
        {
            violations.push(Violation::new(
                path,
                Some(index + 1),
                format!("`Debug`-formats a line that names {secret}: never format a secret; log its fingerprint or a key/label instead"),
            ));
        }
    }
    violations
}

fn print_violation(path: &str, line: usize, name: &str, secret: &str) -> Violation {
    Violation::new(
        path,
        Some(line),
        format!(
            "`{name}` with {secret}: library code never prints a secret; return it to the caller, or print a fingerprint or label (a deliberate exception goes in SECRET_PRINT_ALLOWED in xtask/src/tidy.rs, with its reason)"
        ),
    )
}

/// [`check_secret_prints`] over `(path, text)` files, skipping [`SECRET_PRINT_ALLOWED`].
pub(crate) fn check_secret_prints_in(files: &[(String, String)]) -> Vec<Violation> {
    files
        .iter()
        .filter(|(path, _)| {
            !SECRET_PRINT_ALLOWED
                .iter()
                .any(|(allowed, _)| path == allowed)
        })
        .flat_map(|(path, text)| check_secret_prints(path, text))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Code blocks in docs that are copies of files.

/// The marker before a code block that copies a file: `<!-- include: PATH -->`, or
/// `<!-- include: PATH#REGION -->` for the lines between `// ANCHOR: REGION` and
/// `// ANCHOR_END: REGION` (the mdBook convention). PATH is relative to the workspace root.
pub(crate) const INCLUDE_MARKER: &str = "<!-- include: ";

/// One marker of a doc: its line, the file and the region it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Include {
    pub(crate) line: usize,
    pub(crate) path: String,
    pub(crate) region: Option<String>,
}

/// The include markers of a markdown text.
pub(crate) fn includes(markdown: &str) -> Vec<Include> {
    markdown
        .lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let target = line
                .trim()
                .strip_prefix(INCLUDE_MARKER)?
                .strip_suffix("-->")?
                .trim();
            let (path, region) = match target.split_once('#') {
                Some((path, region)) => (path, Some(region.to_owned())),
                None => (target, None),
            };
            Some(Include {
                line: index + 1,
                path: path.to_owned(),
                region,
            })
        })
        .collect()
}

/// The lines of `region` in `source` (anchor lines of other regions left out), or the whole
/// source without any anchor line when `region` is `None`. `None` when the region is absent.
pub(crate) fn region_lines<'a>(source: &'a str, region: Option<&str>) -> Option<Vec<&'a str>> {
    fn is_anchor(line: &str) -> bool {
        let line = line.trim();
        line.starts_with("// ANCHOR: ") || line.starts_with("// ANCHOR_END: ")
    }
    let Some(region) = region else {
        return Some(source.lines().filter(|l| !is_anchor(l)).collect());
    };
    let start = format!("// ANCHOR: {region}");
    let end = format!("// ANCHOR_END: {region}");
    let mut lines = source.lines().skip_while(|l| l.trim() != start).skip(1);
    let mut found: Vec<&'a str> = Vec::new();
    loop {
        let line = lines.next()?; // no end marker: the region is not there
        if line.trim() == end {
            // A region inside a function is copied without the function's indentation.
            let indent = found
                .iter()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.len() - l.trim_start().len())
                .min()
                .unwrap_or(0);
            return Some(
                found
                    .into_iter()
                    .filter(|l| !is_anchor(l))
                    .map(|l| l.get(indent..).unwrap_or(""))
                    .collect(),
            );
        }
        found.push(line);
    }
}

/// The code block right after line `marker` (1-based) of `markdown`: its first line (1-based)
/// and its lines, or `None` when the next non-blank line opens no fence or it never closes.
fn block_after(markdown: &str, marker: usize) -> Option<(usize, Vec<&str>)> {
    let mut lines = markdown.lines().enumerate().skip(marker);
    let (open, fence) = lines.find(|(_, line)| !line.trim().is_empty())?;
    let fence = fence.trim_start();
    if !fence.starts_with("```") {
        return None;
    }
    let mut block = Vec::new();
    for (_, line) in lines {
        if line.trim_start() == "```" {
            return Some((open + 2, block));
        }
        block.push(line);
    }
    None
}

/// Every include marker of `doc` (at `doc_path`, for messages) is followed by a code block
/// equal to the file or region it names, read with `read` (a workspace-relative path; `None`
/// when missing). An included `crates/<crate>/examples/` file must be run by a test of that
/// crate (`tests_of` gives their texts), or the guide would copy code nothing checks; other
/// files must be tests (under `tests/`).
pub(crate) fn check_doc_includes(
    doc_path: &str,
    doc: &str,
    read: &dyn Fn(&str) -> Option<String>,
    tests_of: &dyn Fn(&str) -> Vec<String>,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    for include in includes(doc) {
        let at = |message: String| Violation::new(doc_path, Some(include.line), message);
        let what = match &include.region {
            Some(region) => format!("`{}#{region}`", include.path),
            None => format!("`{}`", include.path),
        };
        let Some(source) = read(&include.path) else {
            violations.push(at(format!("includes {what}, which does not exist: fix the path (relative to the workspace root)")));
            continue;
        };
        let parts: Vec<&str> = include.path.split('/').collect();
        match parts.as_slice() {
            ["crates", krate, "examples", file] => {
                let stem = file.trim_end_matches(".rs");
                if !example_is_run(stem, &tests_of(krate)) {
                    violations.push(at(format!("includes {what}, which no test of `{krate}` runs: include the example in a test under crates/{krate}/tests/ (as tests/examples.rs does)")));
                }
            }
            [.., "tests", _] | [.., "tests", _, _] => {}
            _ => violations.push(at(format!("includes {what}: a doc copies only examples a test runs (crates/<crate>/examples/) or tests"))),
        }
        let Some(expected) = region_lines(&source, include.region.as_deref()) else {
            violations.push(at(format!("includes {what}, but the file has no such region: mark it with `// ANCHOR: name` and `// ANCHOR_END: name`")));
            continue;
        };
        // What a reader copies must build with the one dependency most of them add.
        if let Some(offset) = expected.iter().position(|line| names_a_sub_crate(line)) {
            violations.push(at(format!("includes {what}, whose line {} names one of our crates other than `frameio_auth`: a reader who added only `frameio-auth` cannot build it; use its re-exports (`frameio_auth::model`, `::oauth`, `::ims`, `::v2`, `::store_file`...)", offset + 1)));
        }
        let Some((first, block)) = block_after(doc, include.line) else {
            violations.push(at(format!("includes {what}, but no fenced code block follows the marker: put the copy right after it")));
            continue;
        };
        if let Some(offset) =
            (0..block.len().max(expected.len())).find(|&i| block.get(i) != expected.get(i))
        {
            violations.push(Violation::new(
                doc_path,
                Some(first + offset),
                format!("differs from {what} (its line {} of the copied part): copy it again, byte for byte", offset + 1),
            ));
        }
    }
    violations
}

/// Whether a code line names one of our crates other than the facade (`frameio_auth_ims::`),
/// outside a comment.
fn names_a_sub_crate(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices("frameio_auth_").any(|(at, _)| {
        !code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

// ---------------------------------------------------------------------------------------------
// Reading the real workspace.

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// What [`check_crate_docs`] needs from a crate on disk.
fn crate_files(root: &Path, package: &Package) -> CrateFiles {
    let dir = root.join(&package.dir);
    let examples = rust_files(&dir.join("examples"))
        .iter()
        .filter(|p| p.parent() == Some(dir.join("examples").as_path()))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    CrateFiles {
        name: package.name.clone(),
        dir: package.dir.clone(),
        has_readme: dir.join("README.md").is_file(),
        lib_rs: fs::read_to_string(dir.join("src/lib.rs")).ok(),
        main_rs: fs::read_to_string(dir.join("src/main.rs")).ok(),
        examples,
        tests: rust_files(&dir.join("tests"))
            .iter()
            .filter_map(|p| fs::read_to_string(p).ok())
            .collect(),
    }
}

/// Library sources of every published crate: `(relative path, text)` of `src/**/*.rs`.
fn library_sources(root: &Path, packages: &[Package]) -> Vec<(String, String)> {
    packages
        .iter()
        .filter(|p| p.published)
        .flat_map(|p| rust_files(&root.join(&p.dir).join("src")))
        .filter_map(|path| Some((relative(root, &path), fs::read_to_string(&path).ok()?)))
        .collect()
}

#[cfg(test)]
mod tests;
