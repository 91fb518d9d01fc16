//! Issue 14, case 4: a refresh response with odd optional fields still yields the rotated
//! refresh token, and each fallback is a `warn` event that names the field, never a value.
//!
//! This file holds a single test because it installs a process-wide subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

mod common;

use common::{CannedServer, json};
use frameio_auth_core::{ManualClock, RefreshToken, Timestamp, TokenType};
use frameio_auth_oauth::{ClientAuth, Grant, SecureUrl, TokenClient, TransportSettings};
use frameio_auth_testkit::tracing_capture::{Capture, assert_no_secret};

const START: Timestamp = Timestamp::from_unix_secs(1_700_000_000);
const ACCESS_TOKEN: &str = "LEAKCHECK-odd-access-0123456789";
const NEW_REFRESH_TOKEN: &str = "LEAKCHECK-odd-rotated-refresh-0123456789";
const ODD_VALUE: &str = "LEAKCHECK-odd-value-0123456789";

#[tokio::test]
async fn odd_optional_fields_keep_the_rotated_refresh_token_and_warn_by_name() {
    let capture = Capture::install();
    let body = format!(
        r#"{{"access_token":"{ACCESS_TOKEN}","refresh_token":"{NEW_REFRESH_TOKEN}",
            "token_type":"","expires_in":0,"refresh_token_expires_in":"{ODD_VALUE}",
            "scope":"openid {ODD_VALUE}\" offline_access"}}"#
    );
    let server = CannedServer::start(vec![json(200, &body)]).await;
    let clock = ManualClock::new(START);
    let client = TokenClient::builder(
        SecureUrl::parse(&server.url("/ims/token/v3")).unwrap(),
        ClientAuth::public("cid"),
    )
    .transport(
        TransportSettings::new()
            .clock(clock.clone())
            .sleeper(clock.clone()),
    )
    .build()
    .unwrap();

    let tokens = client
        .request_token(&Grant::refresh_token(RefreshToken::new("rt-old")))
        .await
        .expect("odd optional fields must not throw the response away");
    assert_eq!(server.count(), 1, "no retry needed");
    assert_eq!(
        tokens.refresh_token().unwrap().expose_secret(),
        NEW_REFRESH_TOKEN
    );
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
    assert_eq!(tokens.refresh_token_expires_at(), None);
    assert_eq!(
        tokens.scopes().to_space_separated(),
        "offline_access openid"
    );
    assert!(
        tokens.is_expired(START),
        "expires_in 0: expired on arrival, never served as live"
    );

    let output = capture.text();
    for field in [
        "field=\"expires_in\"",
        "field=\"token_type\"",
        "field=\"refresh_token_expires_in\"",
        "field=\"scope\"",
    ] {
        assert!(
            output
                .lines()
                .any(|line| line.contains("WARN") && line.contains(field)),
            "no warn event for {field}:\n{output}"
        );
    }
    assert_no_secret(&output, &[ACCESS_TOKEN, NEW_REFRESH_TOKEN, ODD_VALUE]);
}
