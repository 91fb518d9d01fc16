//! Running external commands: echoed before they run, stdio inherited so output streams
//! live, failures turned into readable errors.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::Path;
use std::process::{Command, Stdio};

/// A command to run in the workspace root.
#[derive(Debug)]
pub(crate) struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
}

impl Cmd {
    /// A command running `program`.
    pub(crate) fn new(program: impl Into<OsString>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// `cargo`: the cargo that runs xtask (`$CARGO`), so that the same toolchain is used
    /// throughout, or `cargo` from `PATH` if xtask was started some other way.
    pub(crate) fn cargo() -> Self {
        Cmd::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
    }

    /// Appends arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the command (the rest is inherited).
    pub(crate) fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    fn command(&self, dir: &Path) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .current_dir(dir)
            // CI runs without a terminal and maybe without stdin: never wait for input.
            .stdin(Stdio::null());
        command
    }

    /// Echoes the command, runs it in `dir` with stdout/stderr inherited, and fails unless it
    /// exits successfully.
    pub(crate) fn run(&self, dir: &Path) -> Result<(), String> {
        eprintln!("$ {self}");
        let status = self
            .command(dir)
            .status()
            .map_err(|err| format!("could not start `{self}`: {err}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{self}` failed ({status})"))
        }
    }

    /// Echoes the command, runs it in `dir` with stderr inherited, and returns its stdout.
    pub(crate) fn read_stdout(&self, dir: &Path) -> Result<String, String> {
        eprintln!("$ {self}");
        let output = self
            .command(dir)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|err| format!("could not start `{self}`: {err}"))?;
        if output.status.success() {
            String::from_utf8(output.stdout)
                .map_err(|_| format!("`{self}` printed something that is not UTF-8"))
        } else {
            Err(format!("`{self}` failed ({})", output.status))
        }
    }

    /// Runs the command silently and says whether it succeeded: for probes such as
    /// `cargo nextest --version`.
    pub(crate) fn probe(&self, dir: &Path) -> bool {
        self.command(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// Shows the command the way a user would type it: `$CARGO` as `cargo`, env vars first.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.envs {
            write!(
                f,
                "{}={} ",
                key.to_string_lossy(),
                quote(&value.to_string_lossy())
            )?;
        }
        let program = Path::new(&self.program);
        if program.file_stem() == Some(OsStr::new("cargo")) {
            f.write_str("cargo")?;
        } else {
            f.write_str(&quote(&self.program.to_string_lossy()))?;
        }
        for arg in &self.args {
            write!(f, " {}", quote(&arg.to_string_lossy()))?;
        }
        Ok(())
    }
}

/// Quotes `s` for display when it contains spaces or shell metacharacters.
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:,@+%".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::Cmd;

    #[test]
    fn display_reads_like_a_shell_command() {
        let cmd = Cmd::new("/opt/rust/bin/cargo")
            .args(["doc", "--workspace"])
            .env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            cmd.to_string(),
            "RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace"
        );
    }
}
