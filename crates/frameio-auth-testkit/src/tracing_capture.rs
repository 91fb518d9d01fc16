//! Capture of everything `tracing` emits, for tests that prove no secret reaches it (behind the
//! `tracing-capture` feature).
//!
//! [`Capture::install`] sets a process-wide subscriber that writes every span (new, enter,
//! exit, close) and every event at `TRACE` into memory, with the `log` records of
//! dependencies (reqwest, rustls…) bridged in; [`Capture::text`] returns it.
//! [`assert_no_secret`] then checks that none of the secret values that took part (collect
//! token values with [`token_secrets`], Basic credentials with [`basic_credentials`]) appears
//! in it, raw or in its percent-encoded, form-encoded or JSON-escaped form.
//!
//! The subscriber is global, so install it once per test binary: keep such a test alone in its
//! own file under `tests/`.
//!
//! ```no_run
//! use frameio_auth_testkit::tracing_capture::{Capture, assert_no_secret};
//!
//! let capture = Capture::install();
//! let secrets = vec!["LEAKCHECK-client-secret-0123456789".to_owned()];
//! // ... run the flows that handle the secrets ...
//! assert_no_secret(&capture.text(), &secrets);
//! ```

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use frameio_auth_core::TokenSet;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The captured output of every span and event at `TRACE`. Clones share the same buffer.
#[derive(Clone, Debug, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Installs a process-wide subscriber writing here, bridges `log` records into it
    /// (`tracing-log`), and returns the capture.
    ///
    /// # Panics
    ///
    /// If a global subscriber or `log` logger is already set (install once per test binary).
    pub fn install() -> Self {
        let capture = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(FmtSpan::FULL)
            .with_writer(capture.clone())
            .finish();
        let installed = subscriber.try_init();
        assert!(
            installed.is_ok(),
            "cannot install the tracing capture: a global subscriber is already set \
             or a `log` logger (install it once per test binary)"
        );
        capture
    }

    /// Everything captured so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer()).into_owned()
    }

    fn buffer(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // A test that panicked while writing leaves the bytes usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The forms in which `secret` may leak: raw, percent-encoded (every non-alphanumeric byte),
/// form-encoded (`application/x-www-form-urlencoded`, spaces as `+`) and JSON-escaped (with
/// and without `\/`).
pub fn secret_forms(secret: &str) -> Vec<String> {
    labelled_forms(secret)
        .into_iter()
        .map(|(_, form)| form)
        .collect()
}

fn labelled_forms(secret: &str) -> Vec<(&'static str, String)> {
    let percent = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned();
    let json_slash = json.replace('/', "\\/");
    let mut forms = vec![("raw", secret.to_owned())];
    for extra in [
        ("percent-encoded", percent),
        ("form-encoded", form),
        ("JSON-escaped", json),
        ("JSON-escaped", json_slash),
    ] {
        if !forms.iter().any(|(_, known)| *known == extra.1) {
            forms.push(extra);
        }
    }
    forms
}

/// The credentials HTTP Basic authentication sends for `client_id` and `secret`:
/// `base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1), to add to the secrets.
pub fn basic_credentials(client_id: &str, secret: &str) -> String {
    use base64::Engine as _;
    let id: String = form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
    let secret: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

/// Asserts that no value of `secrets` appears in `captured`, in any of its
/// [`secret_forms`], and that each is at least 8 characters long (a shorter one would be
/// found by chance, or hide a mistake in the test). The failure message gives the size of
/// the capture and which form was found, never the secret.
///
/// # Panics
///
/// On a secret found in `captured`, or one too short to search for.
pub fn assert_no_secret<S: AsRef<str>>(captured: &str, secrets: &[S]) {
    for secret in secrets {
        let secret = secret.as_ref();
        assert!(
            secret.len() >= 8,
            "a test secret is too short to search for"
        );
        for (form, text) in labelled_forms(secret) {
            assert!(
                !captured.contains(&text),
                "a secret reached the tracing output, {form} ({} bytes of capture)",
                captured.len()
            );
        }
    }
}

/// Appends the secret values of `tokens` to `into`: the access token, and the refresh and ID
/// tokens when present.
pub fn token_secrets(tokens: &TokenSet, into: &mut Vec<String>) {
    into.push(tokens.access_token().expose_secret().to_owned());
    if let Some(refresh) = tokens.refresh_token() {
        into.push(refresh.expose_secret().to_owned());
    }
    if let Some(id) = tokens.id_token() {
        into.push(id.expose_secret().to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn writes_are_shared_between_clones() {
        let capture = Capture::default();
        let mut writer = capture.make_writer();
        writer.write_all(b"span=oauth.token_request").unwrap();
        writer.flush().unwrap();
        assert_eq!(capture.text(), "span=oauth.token_request");
        assert_no_secret(&capture.text(), &["LEAKCHECK-secret"]);
    }

    #[test]
    #[should_panic(expected = "a secret reached the tracing output")]
    fn a_found_secret_fails() {
        assert_no_secret("token=LEAKCHECK-secret", &["LEAKCHECK-secret"]);
    }

    #[test]
    #[should_panic(expected = "too short")]
    fn a_short_secret_fails() {
        assert_no_secret("", &["abc"]);
    }

    #[test]
    #[should_panic(expected = "a secret reached the tracing output, percent-encoded")]
    fn a_percent_encoded_secret_fails() {
        assert_no_secret("refresh_token=sh0rt%2Bs%2Fcr", &["sh0rt+s/cr"]);
    }

    #[test]
    #[should_panic(expected = "a secret reached the tracing output, form-encoded")]
    fn a_form_encoded_secret_fails() {
        assert_no_secret("client_secret=sh0rt+s3cr%21t", &["sh0rt s3cr!t"]);
    }

    #[test]
    #[should_panic(expected = "a secret reached the tracing output, JSON-escaped")]
    fn a_json_escaped_secret_fails() {
        assert_no_secret(r#"{"x":"sh0rt\"s3cr"}"#, &["sh0rt\"s3cr"]);
    }

    #[test]
    fn basic_credentials_match_what_basic_auth_sends() {
        assert_eq!(
            basic_credentials("cid", "short-secret"),
            "Y2lkOnNob3J0LXNlY3JldA=="
        );
    }
}
