//! `EndpointClient` against `FakeIms`: form POSTs with client authentication, bearer GETs,
//! retries with `Retry-After` on the injected clock, and typed errors with the `x-debug-id`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

mod fake_ims_support;

use std::time::Duration;

use fake_ims_support::{fake_ims, s2s_basic, s2s_scopes, token_client};
use frameio_auth_core::{AccessToken, Clock, ErrorKind, ManualClock};
use frameio_auth_oauth::{EndpointClient, Grant, ScopeFormat, SecureUrl, TransportSettings};
use frameio_auth_testkit::ims::{Fault, demo, paths};

fn endpoint_client(clock: &ManualClock) -> EndpointClient {
    EndpointClient::builder()
        .transport(
            TransportSettings::new()
                .clock(clock.clone())
                .sleeper(clock.clone()),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn form_post_with_client_auth_and_bearer_get() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    let tokens = token_client(&ims, s2s_basic(), &clock)
        .request_token(&Grant::client_credentials(
            &s2s_scopes(),
            ScopeFormat::CommaSeparated,
        ))
        .await
        .unwrap();
    let client = endpoint_client(&clock);

    // validate_token: a form POST without client authentication, JSON answer, one retry.
    ims.inject_on(paths::VALIDATE, Fault::RetryAfter { secs: 3 }, 1);
    let started = clock.now();
    let answer: serde_json::Value = client
        .post_form("validate", &SecureUrl::parse(&ims.validate_url()).unwrap())
        .param("type", "access_token")
        .param("client_id", demo::S2S_CLIENT_ID)
        .param("token", tokens.access_token().expose_secret())
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(answer["valid"], true);
    assert!(clock.now().saturating_duration_since(started) >= Duration::from_secs(3));
    assert_eq!(ims.requests_to(paths::VALIDATE), 2);

    // A bearer GET: profile.
    let response = client
        .get("profile", &SecureUrl::parse(&ims.profile_url()).unwrap())
        .bearer(tokens.access_token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.debug_id().is_some());
    let bearer = ims.last_request(paths::PROFILE).unwrap();
    assert!(
        bearer
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ")
    );

    // revoke: Basic authentication, exactly as on the token endpoint.
    let auth = s2s_basic();
    let response = client
        .post_form("revoke", &SecureUrl::parse(&ims.revoke_url()).unwrap())
        .client_auth(&auth)
        .param("token", tokens.access_token().expose_secret())
        .send()
        .await
        .unwrap();
    assert!(response.body().is_empty());
    assert!(
        ims.last_request(paths::REVOKE)
            .unwrap()
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert!(!ims.is_access_token_active(tokens.access_token().expose_secret()));

    // A revoked bearer token: a typed rejection carrying the debug id.
    let err = client
        .get("profile", &SecureUrl::parse(&ims.profile_url()).unwrap())
        .bearer(tokens.access_token())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert!(err.debug_id().is_some());
    let err = client
        .get("profile", &SecureUrl::parse(&ims.profile_url()).unwrap())
        .bearer(&AccessToken::new("not-a-token"))
        .send()
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("not-a-token"), "{err}");
}

#[tokio::test]
async fn raw_mode_returns_every_status_and_retries_only_transport_failures() {
    let clock = ManualClock::default();
    let ims = fake_ims(&clock).await;
    let tokens = token_client(&ims, s2s_basic(), &clock)
        .request_token(&Grant::client_credentials(
            &s2s_scopes(),
            ScopeFormat::CommaSeparated,
        ))
        .await
        .unwrap();
    let client = endpoint_client(&clock);
    let profile = SecureUrl::parse(&ims.profile_url()).unwrap();

    // A 429 comes back as a response, at once, with its headers and body: no retry, no wait.
    ims.inject_on(paths::PROFILE, Fault::RetryAfter { secs: 3 }, 1);
    let started = clock.now();
    let response = client
        .get("profile", &profile)
        .bearer(tokens.access_token())
        .send_raw()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(!response.is_success());
    assert_eq!(response.header("Retry-After"), Some("3"));
    assert!(response.debug_id().is_some());
    assert!(response.body_excerpt().contains("too_many_requests"));
    assert_eq!(clock.now(), started);
    assert_eq!(ims.requests_to(paths::PROFILE), 1);

    // A 401 (revoked token below) is a response too, not an `AuthError`.
    let response = client
        .get("profile", &profile)
        .bearer(&AccessToken::new("not-a-token"))
        .send_raw()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // A dropped connection is a transport failure: retried per the policy...
    ims.inject_on(paths::PROFILE, Fault::DropConnection, 1);
    let response = client
        .get("profile", &profile)
        .bearer(tokens.access_token())
        .send_raw()
        .await
        .unwrap();
    assert!(response.is_success());
    assert_eq!(ims.requests_to(paths::PROFILE), 4);

    // ...and with `no_retries` it surfaces as a transient error after one attempt.
    let single = EndpointClient::builder()
        .transport(
            TransportSettings::new()
                .retry_policy(frameio_auth_oauth::RetryPolicy::no_retries())
                .clock(clock.clone())
                .sleeper(clock.clone()),
        )
        .build()
        .unwrap();
    ims.inject_on(paths::PROFILE, Fault::DropConnection, 1);
    let err = single
        .get("profile", &profile)
        .bearer(tokens.access_token())
        .send_raw()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(ims.requests_to(paths::PROFILE), 5);
}
