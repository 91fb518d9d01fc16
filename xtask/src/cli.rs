//! Command-line parsing, by hand (std only), and the help texts.

use std::fmt::{self, Write as _};

use crate::release::Level;
pub(crate) use crate::release::Options as ReleaseOptions;
use crate::step::Step;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Print a help text and exit successfully.
    Help(HelpTopic),
    /// Run CI steps: the selected ones, deduplicated, in canonical order.
    Ci {
        /// Never empty: no step names on the command line means every step.
        steps: Vec<Step>,
    },
    /// Cut a release locally.
    Release(ReleaseOptions),
}

/// Which help text to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HelpTopic {
    /// `cargo xtask --help`.
    Main,
    /// `cargo xtask ci --help`.
    Ci,
    /// `cargo xtask release --help`.
    Release,
}

/// A command line that cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UsageError {
    /// No subcommand at all.
    MissingCommand,
    /// A subcommand we do not have.
    UnknownCommand(String),
    /// An option (`-x`, `--xyz`) the subcommand does not take.
    UnknownOption {
        /// The subcommand, for the hint.
        command: &'static str,
        /// The option as given.
        option: String,
    },
    /// A step name that is not in [`Step::ALL`].
    UnknownStep(String),
    /// `release` without a valid level or version.
    BadReleaseLevel(Option<String>),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::MissingCommand => write!(f, "no subcommand given"),
            UsageError::UnknownCommand(command) => write!(f, "unknown subcommand `{command}`"),
            UsageError::UnknownOption { command, option } => {
                write!(f, "unknown option `{option}` for `{command}`")
            }
            UsageError::BadReleaseLevel(None) => {
                write!(f, "`release` needs a level: patch, minor, major or X.Y.Z")
            }
            UsageError::BadReleaseLevel(Some(level)) => write!(
                f,
                "`{level}` is not a release level: use patch, minor, major or X.Y.Z"
            ),
            UsageError::UnknownStep(step) => write!(
                f,
                "unknown step `{step}`; valid steps are: {}",
                Step::names()
            ),
        }
    }
}

/// The line printed after a usage error, pointing at the relevant help.
pub(crate) fn usage_hint(err: &UsageError) -> &'static str {
    match err {
        UsageError::UnknownOption { command: "ci", .. } | UsageError::UnknownStep(_) => {
            "Run `cargo xtask ci --help` for the steps and what they run."
        }
        UsageError::UnknownOption {
            command: "release", ..
        }
        | UsageError::BadReleaseLevel(_) => "Run `cargo xtask release --help`.",
        _ => "Run `cargo xtask --help` for the subcommands.",
    }
}

/// Parses the arguments after the program name.
pub(crate) fn parse<I>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator,
    I::Item: Into<String>,
{
    let mut args = args.into_iter().map(Into::into);
    let Some(command) = args.next() else {
        return Err(UsageError::MissingCommand);
    };
    match command.as_str() {
        "-h" | "--help" => Ok(Command::Help(HelpTopic::Main)),
        "help" => match args.next().as_deref() {
            None => Ok(Command::Help(HelpTopic::Main)),
            Some("ci") => Ok(Command::Help(HelpTopic::Ci)),
            Some("release") => Ok(Command::Help(HelpTopic::Release)),
            Some(other) => Err(UsageError::UnknownCommand(other.to_owned())),
        },
        "ci" => parse_ci(args),
        "release" => parse_release(args),
        _ => Err(UsageError::UnknownCommand(command)),
    }
}

/// Parses `ci [-h|--help] [STEP...]`.
fn parse_ci(args: impl Iterator<Item = String>) -> Result<Command, UsageError> {
    let mut steps = Vec::new();
    for arg in args {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help(HelpTopic::Ci)),
            option if option.starts_with('-') => {
                return Err(UsageError::UnknownOption {
                    command: "ci",
                    option: arg,
                });
            }
            name => steps.push(Step::from_name(name).ok_or(UsageError::UnknownStep(arg))?),
        }
    }
    if steps.is_empty() {
        steps = Step::ALL.to_vec();
    }
    steps.sort_unstable();
    steps.dedup();
    Ok(Command::Ci { steps })
}

/// Help for `cargo xtask`, before the step list.
fn parse_release(args: impl Iterator<Item = String>) -> Result<Command, UsageError> {
    let mut level = None;
    let mut options = ReleaseOptions {
        level: Level::Patch,
        dry_run: false,
        run_ci: true,
        offline: false,
    };
    for arg in args {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help(HelpTopic::Release)),
            "--dry-run" => options.dry_run = true,
            "--offline" => options.offline = true,
            option if option.starts_with('-') => {
                return Err(UsageError::UnknownOption {
                    command: "release",
                    option: arg,
                });
            }
            _ if level.is_some() => return Err(UsageError::BadReleaseLevel(Some(arg))),
            text => {
                level = Some(Level::parse(text).ok_or(UsageError::BadReleaseLevel(Some(arg)))?);
            }
        }
    }
    options.level = level.ok_or(UsageError::BadReleaseLevel(None))?;
    Ok(Command::Release(options))
}

const MAIN_HELP: &str = "\
Repository automation for frameio-auth.

Usage: cargo xtask <COMMAND>

Commands:
  ci [STEP...]   Run the CI checks (all steps, or only the named ones, in canonical order)
  release LEVEL  Cut a release locally: bump, changelog, package, commit, tag (never pushes)
  help [CMD]     Print this help, or the help of `ci` or `release`

Options:
  -h, --help     Print help
";

/// Help for `cargo xtask ci`, before the step list.
const CI_HELP: &str = "\
Run the CI checks, as CI does (`.ci/run` installs the tools, then runs this).

Usage: cargo xtask ci [STEP...]

Without STEP, runs every step. With STEPs, runs only those, in the canonical order below,
whatever order they are given in. Stops at the first failing step, then prints a summary
(step, ok/FAILED/skipped, seconds). Exit status: 0 all ok, 1 a step failed, 2 usage error.

Options:
  -h, --help     Print help
";

/// The help text for `topic`, including every step and the commands it runs.
const RELEASE_HELP: &str = "\
Cut a release locally. Never pushes, never publishes. See docs/releasing.md.

Usage: cargo xtask release <patch|minor|major|X.Y.Z> [--dry-run]

1. checks that the working tree is clean and the tag vX.Y.Z is free;
2. runs `cargo xtask ci` (every step but semver);
3. bumps the workspace version and every internal version requirement, in lockstep;
4. moves CHANGELOG.md's \"Unreleased\" entries under \"## [X.Y.Z] - <today>\";
5. refreshes Cargo.lock, checks that every published crate packages, and runs the semver
   step against the last release with the NEW version (a breaking change needs a major
   bump, or a minor one before 1.0);
6. commits \"Release X.Y.Z\" and creates the annotated tag vX.Y.Z.
If step 5 fails, the edits are undone.

Options:
  --dry-run      Print the plan and check the preconditions; change nothing
  --offline      Pass --offline to cargo
  -h, --help     Print help
";

pub(crate) fn help_text(topic: HelpTopic) -> String {
    let mut text = String::from(match topic {
        HelpTopic::Main => MAIN_HELP,
        HelpTopic::Ci => CI_HELP,
        HelpTopic::Release => return RELEASE_HELP.to_owned(),
    });
    text.push_str("\nSteps of `ci` (canonical order):\n");
    for step in Step::ALL {
        let info = step.info();
        // Writing to a String cannot fail.
        let _ = writeln!(text, "  {:<8} {}", info.name, info.about);
        for command in info.commands {
            let _ = writeln!(text, "  {:<8}   $ {command}", "");
        }
        for note in info.notes {
            let _ = writeln!(text, "  {:<8}   {note}", "");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{Command, HelpTopic, UsageError, help_text, parse};
    use crate::step::Step;

    fn ci(steps: &[Step]) -> Command {
        Command::Ci {
            steps: steps.to_vec(),
        }
    }

    #[test]
    fn ci_without_steps_selects_all_in_order() {
        assert_eq!(parse(["ci"]), Ok(ci(&Step::ALL)));
    }

    #[test]
    fn ci_steps_run_in_canonical_order_once() {
        assert_eq!(
            parse(["ci", "test", "clippy", "test"]),
            Ok(ci(&[Step::Clippy, Step::Test]))
        );
        assert_eq!(
            parse(["ci", "deny", "fmt"]),
            Ok(ci(&[Step::Fmt, Step::Deny]))
        );
        assert_eq!(parse(["ci", "doc"]), Ok(ci(&[Step::Doc])));
    }

    #[test]
    fn unknown_step_is_an_error_listing_valid_steps() {
        let result = parse(["ci", "clippy", "lint"]);
        assert_eq!(result, Err(UsageError::UnknownStep("lint".to_owned())));
        if let Err(err) = result {
            let message = err.to_string();
            for step in Step::ALL {
                assert!(message.contains(step.name()), "{message}");
            }
        }
    }

    #[test]
    fn unknown_option_and_command_are_errors() {
        assert_eq!(
            parse(["ci", "--fast"]),
            Err(UsageError::UnknownOption {
                command: "ci",
                option: "--fast".to_owned()
            })
        );
        assert_eq!(
            parse(["build"]),
            Err(UsageError::UnknownCommand("build".to_owned()))
        );
        assert_eq!(parse(Vec::<String>::new()), Err(UsageError::MissingCommand));
    }

    #[test]
    fn help_flags() {
        for args in [&["--help"][..], &["-h"], &["help"]] {
            assert_eq!(
                parse(args.iter().copied()),
                Ok(Command::Help(HelpTopic::Main))
            );
        }
        for args in [
            &["ci", "--help"][..],
            &["ci", "-h"],
            &["ci", "fmt", "-h"],
            &["help", "ci"],
        ] {
            assert_eq!(
                parse(args.iter().copied()),
                Ok(Command::Help(HelpTopic::Ci))
            );
        }
    }

    #[test]
    fn help_documents_every_step() {
        for topic in [HelpTopic::Main, HelpTopic::Ci] {
            let text = help_text(topic);
            for step in Step::ALL {
                let info = step.info();
                assert!(
                    text.contains(info.name),
                    "{topic:?} help lacks {}",
                    info.name
                );
                for command in info.commands {
                    assert!(text.contains(command), "{topic:?} help lacks {command}");
                }
            }
        }
    }

    #[test]
    fn release_arguments() {
        use crate::release::Level;
        let Ok(Command::Release(options)) = parse(["release", "minor", "--dry-run"]) else {
            panic!("release minor --dry-run should parse");
        };
        assert_eq!(options.level, Level::Minor);
        assert!(options.dry_run && options.run_ci && !options.offline);
        let Ok(Command::Release(options)) = parse(["release", "1.2.3", "--offline"]) else {
            panic!("release 1.2.3 should parse");
        };
        assert_eq!(options.level, Level::parse("1.2.3").unwrap());
        assert!(options.run_ci && options.offline && !options.dry_run);
        assert!(matches!(
            parse(["release", "patch", "--skip-ci"]),
            Err(UsageError::UnknownOption { .. })
        ));
        assert_eq!(parse(["release"]), Err(UsageError::BadReleaseLevel(None)));
        assert_eq!(
            parse(["release", "huge"]),
            Err(UsageError::BadReleaseLevel(Some("huge".into())))
        );
        assert_eq!(
            parse(["release", "patch", "minor"]),
            Err(UsageError::BadReleaseLevel(Some("minor".into())))
        );
        assert!(matches!(
            parse(["release", "patch", "--push"]),
            Err(UsageError::UnknownOption { .. })
        ));
        assert_eq!(
            parse(["release", "--help"]),
            Ok(Command::Help(HelpTopic::Release))
        );
        assert!(help_text(HelpTopic::Release).contains("--dry-run"));
        assert!(help_text(HelpTopic::Main).contains("release LEVEL"));
        assert!(help_text(HelpTopic::Ci).contains("package"));
    }
}
