//! `cargo xtask ci`: runs the selected steps in order, stops at the first failure, and
//! prints a summary table.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cmd::Cmd;
use crate::step::Step;
use crate::{deny, package, semver};

/// What a step that did not fail reports.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Parts of the step that were deliberately not run, with the reason, e.g. the advisory
    /// check of `deny` when there is no local advisory database.
    pub(crate) skipped: Vec<SkippedPart>,
}

/// A part of a step that was skipped.
#[derive(Debug)]
pub(crate) struct SkippedPart {
    /// Short name of the part, shown as `step/part` in the summary.
    pub(crate) part: &'static str,
    /// Why it was skipped.
    pub(crate) reason: String,
}

/// The result of one step: `Ok` with what was skipped, or the failure message.
pub(crate) type StepResult = Result<Outcome, String>;

/// One row of the summary table.
#[derive(Debug)]
struct Row {
    name: String,
    status: Status,
    elapsed: Option<Duration>,
    note: String,
}

/// A row's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Failed,
    Skipped,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
        }
    }
}

/// Runs `steps` (already in canonical order) in the workspace at `root`, failing fast.
/// Prints a summary table at the end and returns whether every step passed.
pub(crate) fn run(root: &Path, steps: &[Step]) -> bool {
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut failed = false;

    for (index, &step) in steps.iter().enumerate() {
        let name = step.name();
        if failed {
            rows.push(Row {
                name: name.to_owned(),
                status: Status::Skipped,
                elapsed: None,
                note: "not run: an earlier step failed".to_owned(),
            });
            continue;
        }

        header(&format!("[{}/{}] {name}", index + 1, steps.len()));
        let step_started = Instant::now();
        let result = run_step(step, root);
        let elapsed = Some(step_started.elapsed());
        match result {
            Ok(outcome) => {
                rows.push(Row {
                    name: name.to_owned(),
                    status: Status::Ok,
                    elapsed,
                    note: String::new(),
                });
                for skipped in outcome.skipped {
                    rows.push(Row {
                        name: format!("{name}/{}", skipped.part),
                        status: Status::Skipped,
                        elapsed: None,
                        note: skipped.reason,
                    });
                }
            }
            Err(message) => {
                eprintln!("error: step `{name}` failed: {message}");
                rows.push(Row {
                    name: name.to_owned(),
                    status: Status::Failed,
                    elapsed,
                    note: message,
                });
                failed = true;
            }
        }
    }

    header("summary");
    print_table(&rows);
    let verdict = if failed { "FAILED" } else { "ok" };
    eprintln!(
        "xtask ci: {verdict} in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    !failed
}

/// Runs one step. Each step prints the commands it runs before running them.
fn run_step(step: Step, root: &Path) -> StepResult {
    match step {
        Step::Fmt => {
            Cmd::cargo().args(["fmt", "--all", "--check"]).run(root)?;
            Ok(Outcome::default())
        }
        Step::Clippy => {
            Cmd::cargo()
                .args(["clippy", "--workspace", "--all-targets", "--all-features"])
                .args(["--", "-D", "warnings"])
                .run(root)?;
            Ok(Outcome::default())
        }
        Step::Test => test(root),
        Step::Doc => {
            Cmd::cargo()
                .args(["doc", "--workspace", "--no-deps", "--all-features"])
                .env("RUSTDOCFLAGS", "-D warnings")
                .run(root)?;
            Ok(Outcome::default())
        }
        Step::Features => {
            if !Cmd::cargo().args(["hack", "--version"]).probe(root) {
                return Err(
                    "cargo-hack is missing: cargo install --locked cargo-hack@0.6.46 (.ci/run does)"
                        .to_owned(),
                );
            }
            Cmd::cargo()
                .args([
                    "hack",
                    "check",
                    "--each-feature",
                    "--no-dev-deps",
                    "-p",
                    "frameio-auth",
                ])
                .run(root)?;
            Ok(Outcome::default())
        }
        Step::Deny => deny::run(root),
        Step::Package => package::run(root),
        Step::Semver => semver::run(root),
    }
}

/// The `test` step: nextest when it is installed (plus doc tests, which nextest cannot
/// run), else plain `cargo test`, which runs the doc tests itself. Output is not captured,
/// so the runners' closing summary lines reach the log unchanged.
fn test(root: &Path) -> StepResult {
    if Cmd::cargo().args(["nextest", "--version"]).probe(root) {
        // `--no-tests=warn`: a run with no test at all (e.g. while crates are being added)
        // must not fail CI for that alone.
        Cmd::cargo()
            .args([
                "nextest",
                "run",
                "--workspace",
                "--all-features",
                "--no-tests=warn",
            ])
            .run(root)?;
        Cmd::cargo()
            .args(["test", "--workspace", "--all-features", "--doc"])
            .run(root)?;
    } else {
        eprintln!(
            "note: cargo-nextest not found (`cargo install --locked cargo-nextest`); using cargo test"
        );
        Cmd::cargo()
            .args(["test", "--workspace", "--all-features"])
            .run(root)?;
    }
    Ok(Outcome::default())
}

/// Prints a step header that stands out in a long CI log.
pub(crate) fn header(title: &str) {
    eprintln!();
    eprintln!("==================== xtask ci: {title} ====================");
}

/// Prints the summary table: step, status, seconds, note.
fn print_table(rows: &[Row]) {
    let width = rows
        .iter()
        .map(|row| row.name.len())
        .chain(std::iter::once("step".len()))
        .max()
        .unwrap_or(4);
    eprintln!(
        "{:<width$}  {:<7}  {:>7}  note",
        "step", "status", "seconds"
    );
    eprintln!("{:-<width$}  {:-<7}  {:->7}  {:-<4}", "", "", "", "");
    for row in rows {
        let seconds = row
            .elapsed
            .map_or_else(|| "-".to_owned(), |d| format!("{:.1}", d.as_secs_f64()));
        let note = first_line(&row.note);
        let line = format!(
            "{:<width$}  {:<7}  {:>7}  {note}",
            row.name,
            row.status.label(),
            seconds
        );
        eprintln!("{}", line.trim_end());
    }
}

/// The first line of a possibly multi-line message, for the table.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}
