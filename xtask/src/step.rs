//! The table of CI steps: names, canonical order and the help text for each.

/// One step of `cargo xtask ci`.
///
/// The derive of `Ord` follows the declaration order, which is the canonical order in which
/// steps run: keep the variants, [`Step::ALL`] and [`Step::info`] in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Step {
    /// `cargo fmt --check`.
    Fmt,
    /// `cargo clippy` with warnings denied.
    Clippy,
    /// Unit, integration and doc tests.
    Test,
    /// `rustdoc` with warnings denied.
    Doc,
    /// Each feature of the facade builds alone (cargo-hack).
    Features,
    /// cargo-deny: bans, licences, sources and (offline) advisories.
    Deny,
    /// The publish policy holds and every published crate packages.
    Package,
    /// The public API against the last release (cargo-semver-checks).
    Semver,
}

/// Static description of a step, for `--help` and the progress headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepInfo {
    /// The name used on the command line and in the summary table.
    pub(crate) name: &'static str,
    /// One line saying what the step checks.
    pub(crate) about: &'static str,
    /// The commands the step runs, one per line, for `--help`.
    pub(crate) commands: &'static [&'static str],
    /// Remarks shown under the commands in `--help`.
    pub(crate) notes: &'static [&'static str],
}

impl Step {
    /// Every step, in the canonical order.
    pub(crate) const ALL: [Step; 8] = [
        Step::Fmt,
        Step::Clippy,
        Step::Test,
        Step::Doc,
        Step::Features,
        Step::Deny,
        Step::Package,
        Step::Semver,
    ];

    /// The step's name, help line and commands.
    pub(crate) fn info(self) -> StepInfo {
        match self {
            Step::Fmt => StepInfo {
                name: "fmt",
                about: "formatting is what rustfmt produces",
                commands: &["cargo fmt --all --check"],
                notes: &[],
            },
            Step::Clippy => StepInfo {
                name: "clippy",
                about: "no clippy warnings, in any target, with all features",
                commands: &["cargo clippy --workspace --all-targets --all-features -- -D warnings"],
                notes: &[],
            },
            Step::Test => StepInfo {
                name: "test",
                about: "all tests pass (nextest if installed, else cargo test), plus doc tests",
                commands: &[
                    "cargo nextest run --workspace --all-features --no-tests=warn",
                    "cargo test --workspace --all-features --doc",
                ],
                notes: &[
                    "without cargo-nextest: `cargo test --workspace --all-features` instead of both",
                    "(it runs the doc tests itself);",
                    "xtask's own tests include the tidy tests: repository policy (xtask/src/tidy.rs)",
                ],
            },
            Step::Doc => StepInfo {
                name: "doc",
                about: "the API docs build without warnings",
                commands: &[
                    "RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps --all-features",
                ],
                notes: &[],
            },
            Step::Features => StepInfo {
                name: "features",
                about: "the facade builds with each feature alone, with none, and with all",
                commands: &["cargo hack check --each-feature --no-dev-deps -p frameio-auth"],
                notes: &[
                    "--each-feature also checks no features and all features;",
                    "fails if cargo-hack is missing: cargo install --locked cargo-hack@0.6.46",
                ],
            },
            Step::Deny => StepInfo {
                name: "deny",
                about: "dependency policy (deny.toml) and RustSec advisories, offline",
                commands: &[
                    "cargo fetch",
                    "cargo deny --offline check bans licenses sources",
                    "../shared/tools/advisory-db target/advisory-db",
                    "cargo deny --offline --config target/deny-advisories.toml check advisories",
                ],
                notes: &[
                    "cargo fetch downloads crates of other platforms that the offline check reads;",
                    "target/deny-advisories.toml is deny.toml with db-path set to target/advisory-db;",
                    "advisories are skipped (not failed) when ../shared/advisory-db is missing;",
                    "fails if cargo-deny is missing: cargo install --locked cargo-deny@0.20.2",
                ],
            },
            Step::Package => StepInfo {
                name: "package",
                about: "publish policy holds and every published crate packages and builds",
                commands: &[
                    "(check) unpublished members set publish = false; published ones have full metadata",
                    "cargo package --workspace --allow-dirty --exclude frameio-auth-tests --exclude xtask",
                ],
                notes: &[
                    "unpublished members are listed in xtask/src/manifest.rs (UNPUBLISHED);",
                    "cargo resolves our own not-yet-published versions through a local overlay",
                ],
            },
            Step::Semver => StepInfo {
                name: "semver",
                about: "no unapproved breaking API change since the last release tag",
                commands: &[
                    "cargo semver-checks check-release --workspace --exclude ... --baseline-rev <last v* tag>",
                ],
                notes: &[
                    "skipped (not failed) before the first release tag;",
                    "fails if cargo-semver-checks is missing once a tag exists:",
                    "cargo install --locked cargo-semver-checks@0.51.0",
                ],
            },
        }
    }

    /// The step's command-line name.
    pub(crate) fn name(self) -> &'static str {
        self.info().name
    }

    /// Looks a step up by its command-line name.
    pub(crate) fn from_name(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.name() == name)
    }

    /// All step names, comma separated, for error messages.
    pub(crate) fn names() -> String {
        Step::ALL.map(Step::name).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::Step;

    #[test]
    fn all_is_in_canonical_order_and_complete() {
        let mut sorted = Step::ALL;
        sorted.sort();
        assert_eq!(sorted, Step::ALL);
        for step in Step::ALL {
            assert_eq!(Step::from_name(step.name()), Some(step));
            assert!(!step.info().commands.is_empty());
        }
    }

    #[test]
    fn names_are_unique() {
        let names = Step::ALL.map(Step::name);
        for (i, name) in names.iter().enumerate() {
            assert!(!names[i + 1..].contains(name), "duplicate step name {name}");
        }
    }
}
