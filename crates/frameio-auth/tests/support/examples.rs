//! What the example tests share: the examples' output captured line by line, a table for
//! their environment, and the check that no secret reached what they wrote.
#![allow(dead_code)] // each test binary uses part of it

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frameio_auth_core::TokenStore as _;
use frameio_auth_store_file::FileStore;
use frameio_auth_testkit::tracing_capture::token_secrets;
use tokio::sync::mpsc;

/// The longest any example run may take before the test fails instead of hanging.
pub(crate) const RUN_LIMIT: Duration = Duration::from_secs(60);

pub(crate) type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The example's stdout: every complete line goes to the "browser", and all of it is kept.
pub(crate) struct Output {
    lines: mpsc::UnboundedSender<String>,
    partial: Vec<u8>,
    all: Arc<Mutex<String>>,
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.partial.extend_from_slice(buf);
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line).trim_end().to_owned();
            let mut all = self.all.lock().unwrap();
            all.push_str(&line);
            all.push('\n');
            let _ = self.lines.send(line);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(crate) fn output() -> (Output, mpsc::UnboundedReceiver<String>, Arc<Mutex<String>>) {
    let (lines, receiver) = mpsc::unbounded_channel();
    let all = Arc::new(Mutex::new(String::new()));
    let out = Output {
        lines,
        partial: Vec::new(),
        all: Arc::clone(&all),
    };
    (out, receiver, all)
}

pub(crate) fn env_vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Sync + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

/// Runs an example without a browser; its output, and its error if it failed.
pub(crate) async fn run_quietly(run: impl AsyncFnOnce(&mut Output) -> Result) -> (String, Result) {
    let (mut out, _lines, all) = output();
    let result = tokio::time::timeout(RUN_LIMIT, run(&mut out))
        .await
        .expect("the example took too long");
    let text = all.lock().unwrap().clone();
    (text, result)
}

/// Every token value in the token files under `home` (access, refresh and ID tokens).
pub(crate) async fn stored_tokens(home: &Path) -> Vec<String> {
    let store = FileStore::new(home.join("tokens"));
    let mut secrets = Vec::new();
    for key in store.keys().await.unwrap() {
        let tokens = store.load(&key).await.unwrap().unwrap();
        token_secrets(&tokens, &mut secrets);
    }
    secrets
}

/// No value of `secrets` appears in `text` (the failure names neither).
pub(crate) fn assert_no_secret(text: &str, secrets: &[String]) {
    assert!(!secrets.is_empty(), "nothing to look for");
    for secret in secrets {
        assert!(secret.len() >= 8, "a secret too short to search for");
        assert!(
            !text.contains(secret.as_str()),
            "a secret value appears in the example's output ({} bytes)",
            text.len()
        );
    }
}
