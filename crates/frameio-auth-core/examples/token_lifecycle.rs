//! A token's life, start to end, with nothing but the core crate: build the key a credential is
//! stored under, start a PKCE login, parse the token endpoint's answer, watch the refresh policy
//! move from fresh to refresh-ahead to expired on a hand-driven clock, keep the refresh token
//! across a refresh that returns none, and write the versioned storage form.
//!
//! Run with `cargo run -p frameio-auth-core --example token_lifecycle`.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use frameio_auth_core::{
    Clock, CsrfState, ManualClock, PkceVerifier, RefreshPolicy, Scopes, Timestamp, TokenKey,
    TokenSet, parse_token_response,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Timestamp::from_unix_secs(1_700_000_000));
    let scopes = Scopes::parse("openid, AdobeID, offline_access, additional_info.roles")?;

    let key = TokenKey::builder("ims", "prod", "a1b2c3d4e5f6")
        .profile("alice@example.com")
        .scopes(scopes.clone())
        .build()?;
    println!("stored under:       {key}");

    let verifier = PkceVerifier::generate()?;
    let state = CsrfState::generate()?;
    println!(
        "authorize with:     code_challenge={} code_challenge_method={} state={state:?}",
        verifier.challenge(),
        verifier.challenge().method()
    );
    println!("scope (S2S form):   {}", scopes.to_comma_separated());

    // What /ims/token/v3 answers to an authorization_code grant (IMS sends expires_in in seconds).
    let body = br#"{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJ0eXBlIjoiYWNjZXNzX3Rva2VuIn0.c2ln",
        "refresh_token":"eyJhbGciOiJSUzI1NiJ9.eyJ0eXBlIjoicmVmcmVzaF90b2tlbiJ9.c2ln",
        "token_type":"bearer","expires_in":86399,"sub":"1234@AdobeID"}"#;
    let tokens = parse_token_response(body, clock.now())?.with_requested_scopes_if_absent(&scopes);
    println!("received:           {tokens:?}");

    let policy = RefreshPolicy::default().with_jitter_seed(7);
    let refresh_at = policy.refresh_at(&tokens).unwrap_or(Timestamp::MAX);
    println!(
        "refresh ahead from: {} s after issue",
        refresh_at
            .saturating_duration_since(tokens.issued_at())
            .as_secs()
    );
    for step in [
        Duration::ZERO,
        Duration::from_secs(86_100),
        Duration::from_secs(280),
    ] {
        clock.advance(step);
        let left = tokens
            .remaining(clock.now())
            .unwrap_or(Duration::MAX)
            .as_secs();
        println!(
            "{left:>6} s left:      {:?}",
            policy.decide(&tokens, clock.now())
        );
    }

    // A refresh whose answer carries no refresh token keeps the one we had.
    let refreshed = parse_token_response(
        br#"{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJuZXcifQ.c2ln","expires_in":"86399"}"#,
        clock.now(),
    )?
    .inherit_refresh_token(&tokens);
    println!(
        "after refresh:      refresh token kept = {}",
        refreshed.refresh_token() == tokens.refresh_token()
    );

    let stored = refreshed.to_stored_json()?;
    println!(
        "storage form:       {} bytes, format version {}",
        stored.len(),
        frameio_auth_core::FORMAT_VERSION
    );
    assert_eq!(TokenSet::from_stored_json(&stored)?, refreshed);
    Ok(())
}
