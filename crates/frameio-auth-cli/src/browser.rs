//! Showing the sign-in URL: the browser (unless `--no-browser`), the URL on stderr, and a
//! spinner with the time left while the login waits, drawn only on a terminal.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use frameio_auth::oauth::url::Url;
use frameio_auth::oauth::user_login::ShowUrl;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{human, output};

/// The wait for the browser: a spinner (on a terminal) that shows the time left.
pub(crate) struct Waiting {
    bar: Option<ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Waiting {
    /// Starts waiting; the spinner shows once the URL is shown.
    pub(crate) fn start(deadline: Duration) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self {
                bar: None,
                ticker: None,
            };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let started = Instant::now();
        let ticking = bar.clone();
        let ticker = tokio::spawn(async move {
            loop {
                let left = deadline.saturating_sub(started.elapsed());
                ticking.set_message(format!(
                    "waiting for the sign-in in the browser ({} left, Ctrl-C to stop)",
                    human::rounded(left)
                ));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Self {
            bar: Some(bar),
            ticker: Some(ticker),
        }
    }

    /// What the login does with the URL: print it (above the spinner) and open the browser.
    pub(crate) fn show_url(&self, open_browser: bool) -> ShowUrl {
        let bar = self.bar.clone();
        ShowUrl::new(move |url| {
            show(url, open_browser, bar.as_ref());
            if let Some(bar) = bar {
                bar.enable_steady_tick(Duration::from_millis(120));
            }
        })
    }

    /// Stops the spinner and clears its line.
    pub(crate) fn finish(self) {
        if let Some(ticker) = self.ticker {
            ticker.abort();
        }
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Prints the URL on stderr and opens it in the browser when asked to.
pub(crate) fn show(url: &Url, open_browser: bool, bar: Option<&ProgressBar>) {
    let print = |text: &str| match bar {
        Some(bar) => bar.println(text),
        None => output::error_line(text),
    };
    if open_browser {
        match open::that_detached(url.as_str()) {
            Ok(()) => print("Opened the browser to sign in. If it did not open, visit:"),
            Err(_) => print("Could not open a browser. Open this URL to sign in:"),
        }
    } else {
        print("Open this URL in a browser to sign in:");
    }
    print(url.as_str());
}
