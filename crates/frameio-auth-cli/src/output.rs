//! Where output goes: results on stdout, everything else (progress, warnings, errors) on
//! stderr, so that `$(frameio-auth token)` captures the token alone.

use std::io::Write as _;

use serde_json::{Value, json};

use crate::exit::CliError;

/// Writes one line to stdout. A closed pipe (`| head`) is not an error worth a panic.
pub(crate) fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Writes `value` to stdout as pretty JSON.
pub(crate) fn json(value: &Value) {
    line(&serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned()));
}

/// Writes one line to stderr.
pub(crate) fn error_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// Reports a failed command: on stderr as text, and with `--json` also on stdout as
/// `{"error": {"code", "exit_code", "message", "hint"}}`.
pub(crate) fn report_error(error: &CliError, as_json: bool) {
    error_line(&format!("error: {}", error.message));
    if let Some(hint) = &error.hint {
        error_line(&format!("hint: {hint}"));
    }
    if as_json {
        json(&json!({
            "error": {
                "code": error.exit.name(),
                "exit_code": error.exit.code(),
                "message": error.message,
                "hint": error.hint,
            }
        }));
    }
}
