//! Debug output of every secret type, and of everything holding secrets, reveals no secret.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

use std::time::Duration;

use frameio_auth_core::{
    AccessToken, AuthorizationCode, ClientSecret, CsrfState, DeveloperToken, IdToken, Lifetime,
    PkceVerifier, RefreshToken, Scopes, Timestamp, TokenSet,
};

const SECRET: &str = "s3cr3t-VALUE-that-must-never-print";

fn assert_hidden(shown: &str) {
    assert!(!shown.contains(SECRET), "secret leaked: {shown}");
    assert!(
        !shown.contains("s3cr3t"),
        "part of the secret leaked: {shown}"
    );
}

#[test]
fn every_secret_type_hides_its_value() {
    let shown = [
        format!("{:?}", AccessToken::new(SECRET)),
        format!("{:?}", RefreshToken::new(SECRET)),
        format!("{:?}", IdToken::new(SECRET)),
        format!("{:?}", ClientSecret::new(SECRET)),
        format!("{:?}", DeveloperToken::new(SECRET)),
        format!("{:?}", AuthorizationCode::new(SECRET)),
        format!("{:?}", PkceVerifier::new(SECRET)),
        format!("{:?}", CsrfState::new(SECRET)),
        format!("{:#?}", AccessToken::new(SECRET)),
    ];
    for text in &shown {
        assert_hidden(text);
        assert!(text.contains("sha256:"), "fingerprint expected: {text}");
    }
}

#[test]
fn token_set_debug_hides_all_tokens() {
    let tokens = TokenSet::new(
        AccessToken::new(format!("{SECRET}-access")),
        Timestamp::from_unix_secs(1_700_000_000),
        Lifetime::ExpiresIn(Duration::from_secs(60)),
    )
    .with_refresh_token(RefreshToken::new(format!("{SECRET}-refresh")), None)
    .with_id_token(IdToken::new(format!("{SECRET}-id")))
    .with_scopes(Scopes::parse("openid").unwrap())
    .with_subject("user@AdobeID");
    assert_hidden(&format!("{tokens:?}"));
    assert_hidden(&format!("{tokens:#?}"));
    assert!(format!("{tokens:?}").contains("user@AdobeID"));
}

#[test]
fn pkce_generated_values_hide_too() {
    let verifier = PkceVerifier::generate().unwrap();
    let shown = format!("{verifier:?}");
    assert!(!shown.contains(verifier.expose_secret()));
    let state = CsrfState::generate().unwrap();
    assert!(!format!("{state:?}").contains(state.expose_secret()));
}
