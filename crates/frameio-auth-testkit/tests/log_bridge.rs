//! The capture also records `log` records (which reqwest and rustls emit), bridged through
//! `tracing-log` (issue 14, case 5). One test: it installs a process-wide subscriber.
#![cfg(feature = "tracing-capture")]

use frameio_auth_testkit::tracing_capture::{Capture, assert_no_secret};

#[test]
fn log_records_reach_the_capture() {
    let capture = Capture::install();
    log::debug!(target: "reqwest::connect", "LOGBRIDGE-record refresh_token=sh0rt%2Bs%2Fcr");
    let text = capture.text();
    assert!(text.contains("LOGBRIDGE-record"), "{text}");
    assert!(text.contains("reqwest::connect"), "{text}");
    let found = std::panic::catch_unwind(|| assert_no_secret(&text, &["sh0rt+s/cr"]));
    assert!(
        found.is_err(),
        "the encoded secret in a log record must be found"
    );
}
