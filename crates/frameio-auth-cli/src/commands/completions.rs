//! `frameio-auth completions <shell>`.

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::args::Cli;

pub(crate) fn run(shell: Shell) {
    let mut command = Cli::command();
    // Into memory first: clap_complete panics when it cannot write.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "frameio-auth", &mut script);
    crate::output::raw(&script);
}
