//! The `frameio-auth` command (see the `frameio_auth_cli` library and `docs/cli.md`).

fn main() -> std::process::ExitCode {
    frameio_auth_cli::main()
}
