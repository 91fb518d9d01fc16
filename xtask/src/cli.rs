//! Command-line parsing, by hand (std only), and the help texts.

use std::fmt::{self, Write as _};

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
    // Reserved: `Release { .. }` for a later `cargo xtask release` subcommand. Parse it in
    // `parse`, document it in `MAIN_HELP` and dispatch it in `main`.
}

/// Which help text to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HelpTopic {
    /// `cargo xtask --help`.
    Main,
    /// `cargo xtask ci --help`.
    Ci,
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
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::MissingCommand => write!(f, "no subcommand given"),
            UsageError::UnknownCommand(command) => write!(f, "unknown subcommand `{command}`"),
            UsageError::UnknownOption { command, option } => {
                write!(f, "unknown option `{option}` for `{command}`")
            }
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
            Some(other) => Err(UsageError::UnknownCommand(other.to_owned())),
        },
        "ci" => parse_ci(args),
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
const MAIN_HELP: &str = "\
Repository automation for frameio-auth.

Usage: cargo xtask <COMMAND>

Commands:
  ci [STEP...]   Run the CI checks (all steps, or only the named ones, in canonical order)
  help [ci]      Print this help, or the help of `ci`

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
pub(crate) fn help_text(topic: HelpTopic) -> String {
    let mut text = String::from(match topic {
        HelpTopic::Main => MAIN_HELP,
        HelpTopic::Ci => CI_HELP,
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
}
