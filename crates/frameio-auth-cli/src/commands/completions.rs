//! `frameio-auth completions <shell>`.

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::args::Cli;

pub(crate) fn run(shell: Shell) {
    let mut command = Cli::command();
    // Into memory first: clap_complete panics when it cannot write.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "frameio-auth", &mut script);
    if shell == Shell::Bash {
        script = fix_bash_state_names(&script);
    }
    crate::output::raw(&script);
}

/// `clap_complete` 4.6 names the bash states of a binary with a `-` in two ways
/// (`frameio__auth__subcmd__login` where it sets them, `frameio__subcmd__auth__subcmd__login`
/// where it matches them: clap-rs/clap#6421), so nothing completes after the first word. One
/// spelling for both; remove when `clap_complete` is fixed.
fn fix_bash_state_names(script: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(script)
        .replace("frameio__subcmd__auth", "frameio__auth")
        .into_bytes()
}
