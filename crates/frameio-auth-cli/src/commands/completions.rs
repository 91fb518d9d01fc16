//! `frameio-auth completions <shell>`.

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::args::Cli;

pub(crate) fn run(shell: Shell) {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "frameio-auth", &mut std::io::stdout());
}
