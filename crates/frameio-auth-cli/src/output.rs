//! Where output goes: results on stdout, everything else (progress, warnings, errors) on
//! stderr, so that `$(frameio-auth token)` captures the token alone.
//!
//! A result that cannot be written is a failure (exit 1), found when the command ends; a
//! reader that went away (`| head`) is not: the command stops quietly, as Unix tools do.

use std::io::{self, Write as _};
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::exit::{CliError, Exit};

/// The first failure to write to stdout, if any.
static STDOUT_FAILURE: Mutex<Option<io::ErrorKind>> = Mutex::new(None);

/// Writes one line to stdout.
pub(crate) fn line(text: &str) {
    let mut out = io::stdout().lock();
    let written = writeln!(out, "{text}").and_then(|()| out.flush());
    record(written);
}

/// Writes `bytes` to stdout as they are.
pub(crate) fn raw(bytes: &[u8]) {
    let mut out = io::stdout().lock();
    let written = out.write_all(bytes).and_then(|()| out.flush());
    record(written);
}

fn record(written: io::Result<()>) {
    if let Err(error) = written {
        let mut failure = STDOUT_FAILURE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        failure.get_or_insert(error.kind());
    }
}

/// How writing the results went: an error for a failed write, `Ok` when every write landed
/// or the reader closed the pipe.
pub(crate) fn check_stdout() -> Result<(), CliError> {
    let failure = *STDOUT_FAILURE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match failure {
        None | Some(io::ErrorKind::BrokenPipe) => Ok(()),
        Some(kind) => Err(CliError::new(
            Exit::Other,
            format!(
                "cannot write the result to stdout: {}",
                io::Error::from(kind)
            ),
        )
        .hint("check where the output goes (a full disk, a closed file)")),
    }
}

/// Writes `value` to stdout as pretty JSON.
pub(crate) fn json(value: &Value) {
    line(&serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned()));
}

/// Writes one line to stderr.
pub(crate) fn error_line(text: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// The error as the `error` member of `--json` output.
pub(crate) fn error_json(error: &CliError) -> Value {
    json!({
        "code": error.exit.name(),
        "exit_code": error.exit.code(),
        "message": error.message,
        "hint": error.hint,
    })
}

/// Reports a failed command: on stderr as text, and with `--json` also on stdout as
/// `{"error": {"code", "exit_code", "message", "hint"}}`, unless the command's own JSON
/// result already holds it.
pub(crate) fn report_error(error: &CliError, as_json: bool) {
    error_line(&format!("error: {}", error.message));
    if let Some(hint) = &error.hint {
        error_line(&format!("hint: {hint}"));
    }
    if as_json && !error.reported {
        json(&json!({ "error": error_json(error) }));
    }
}
