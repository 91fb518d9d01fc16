//! A fake Adobe IMS on 127.0.0.1 for demos and manual testing.
//!
//! ```text
//! cargo run -p frameio-auth-testkit --example fake_ims [-- --for-seconds N]
//! ```
//!
//! The first line on stdout is the base URL (`http://127.0.0.1:<port>`); the next lines are the
//! demo clients, one per line: `<kind> <client_id> [secret=<secret>...] redirect=<pattern>`.
//! The secrets are fixed, public demo values. It serves until Ctrl-C, or for N seconds.

use std::io::{self, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use frameio_auth_testkit::ims::{FakeIms, FakeImsConfig};

fn usage() -> ExitCode {
    let _ = writeln!(io::stderr(), "usage: fake_ims [--for-seconds N]");
    ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let for_seconds = match args.as_slice() {
        [] => None,
        [flag, n] if flag == "--for-seconds" => match n.parse::<u64>() {
            Ok(n) => Some(Duration::from_secs(n)),
            Err(_) => return usage(),
        },
        _ => return usage(),
    };

    let ims = match FakeIms::start(FakeImsConfig::with_demo_clients()).await {
        Ok(ims) => ims,
        Err(error) => {
            let _ = writeln!(io::stderr(), "fake_ims: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    if print_banner(&ims).is_err() {
        return ExitCode::FAILURE;
    }

    match for_seconds {
        Some(duration) => {
            tokio::select! {
                () = tokio::time::sleep(duration) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        None => {
            if let Err(error) = tokio::signal::ctrl_c().await {
                let _ = writeln!(io::stderr(), "fake_ims: cannot wait for Ctrl-C: {error}");
            }
        }
    }
    ims.shutdown().await;
    ExitCode::SUCCESS
}

fn print_banner(ims: &FakeIms) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{}", ims.base_url())?;
    for client in ims.config().clients() {
        write!(out, "{:?} {}", client.kind(), client.id())?;
        for secret in client.secrets() {
            write!(out, " secret={secret}")?;
        }
        if let Some(pattern) = client.redirect_pattern() {
            write!(out, " redirect={}", pattern.as_str())?;
        }
        writeln!(out)?;
    }
    out.flush()
}
