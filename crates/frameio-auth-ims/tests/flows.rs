//! Every IMS credential kind end to end against `FakeIms`: authorize, callback, exchange,
//! refresh, revoke or invalidate; S2S with one and two secrets; needs-login cases; the
//! information endpoints; presets and configuration from the environment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a panic is how a test fails

mod support;

use std::collections::HashSet;
use std::time::Duration;

use frameio_auth_core::{
    AuthError, Clock, ErrorKind, NeedsLoginReason, OAuthErrorCode, Revocation, Scopes, Timestamp,
    TokenSource,
};
use frameio_auth_ims::{
    AccessTokenClaims, ImsEnvironment, NativeApp, SinglePageApp, WebApp, presets,
};
use frameio_auth_testkit::ims::{Fault, demo, paths};
use support::{
    REDIRECT_URI, browser, clock, env, fake_ims, native, s2s, spa, user_scopes, web_app,
};

fn needs_login_reason(error: &AuthError) -> &NeedsLoginReason {
    match error {
        AuthError::NeedsLogin { reason, .. } => reason,
        other => panic!("expected a needs-login error, got {other:?}"),
    }
}

#[tokio::test]
async fn web_app_end_to_end_with_rotation_info_endpoints_and_revoke() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let web = web_app(&ims, &clock);

    let (url, pending) = web.begin().unwrap();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("code_challenge_method"), Some("S256"));
    assert_eq!(
        get("scope"),
        Some("AdobeID additional_info.roles email offline_access openid profile")
    );
    // The pending request survives a round trip through a web session.
    let pending: frameio_auth_oauth::PendingAuthorization =
        serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();

    let callback = browser(&url).await;
    let first = web.complete(&pending, &callback).await.unwrap();
    let token_request = ims.last_request(paths::TOKEN).unwrap();
    assert!(
        token_request
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert!(token_request.form_value("code_verifier").is_some());
    assert_eq!(first.issued_at(), clock.now());
    assert_eq!(first.lifetime(), Some(Duration::from_secs(86_399)));
    assert!(first.id_token().is_some());
    // `rtea` (ms) filled the refresh token's expiry: 14 days.
    assert_eq!(
        first.refresh_token_expires_at(),
        Some(
            clock
                .now()
                .saturating_add(Duration::from_secs(14 * 24 * 3600))
        )
    );
    let claims = AccessTokenClaims::decode(first.access_token()).unwrap();
    assert_eq!(claims.client_id.as_deref(), Some(demo::WEB_CLIENT_ID));
    assert_eq!(claims.expires_in, Some(Duration::from_secs(86_399)));
    assert!(first.subject().is_some());

    clock.advance(Duration::from_secs(3600));
    let second = web.fetch(Some(&first)).await.unwrap();
    assert_ne!(
        second.refresh_token(),
        first.refresh_token(),
        "IMS rotates refresh tokens"
    );
    assert_eq!(second.issued_at(), clock.now());
    assert_eq!(second.scopes(), &user_scopes());

    // The spent refresh token is dead: needs-login, one request, debug id kept.
    let err = web.refresh(&first).await.unwrap_err();
    assert!(
        matches!(
            needs_login_reason(&err),
            NeedsLoginReason::InvalidGrant { .. }
        ),
        "{err}"
    );
    assert!(err.debug_id().is_some());
    // Like a strict IMS (RFC 9700 §4.14.2), the fake treats the replay as a leak and revokes
    // the whole grant: the newest refresh token and its access token die too.
    assert_eq!(ims.refresh_token_reuses_detected(), 1);
    assert!(!ims.is_refresh_token_active(second.refresh_token().unwrap().expose_secret()));
    assert!(!ims.is_access_token_active(second.access_token().expose_secret()));
    let err = web.refresh(&second).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeedsLogin, "{err}");

    // So sign in again for the rest.
    let (url, pending) = web.begin().unwrap();
    let second = web.complete(&pending, &browser(&url).await).await.unwrap();
    let access = second.access_token();
    let info = web.userinfo(access).await.unwrap();
    assert_eq!(info.sub, second.subject().unwrap());
    assert!(info.email.is_some() && info.name.is_some());
    let profile = web.profile(access).await.unwrap();
    assert!(profile.email.is_some());
    assert_eq!(profile.email_verified, Some(true));
    let orgs = web.organizations(access).await.unwrap();
    assert_eq!(orgs.len(), 2);
    assert!(orgs[0].id().unwrap().ends_with("@AdobeOrg"));
    let valid = web.validate_access_token(access).await.unwrap();
    assert!(valid.valid && valid.expires_at.is_some());
    let rt_valid = web
        .validate_refresh_token(second.refresh_token().unwrap())
        .await
        .unwrap();
    assert!(rt_valid.valid);

    assert_eq!(web.revoke(&second).await.unwrap(), Revocation::Revoked);
    assert!(
        ims.last_request(paths::REVOKE)
            .unwrap()
            .header("authorization")
            .is_some()
    );
    assert!(!ims.is_refresh_token_active(second.refresh_token().unwrap().expose_secret()));
    assert!(
        !ims.is_access_token_active(access.expose_secret()),
        "revoking the grant kills its access tokens"
    );
    let after = web.validate_access_token(access).await.unwrap();
    assert!(!after.valid && after.reason.is_some());
    let err = web.userinfo(access).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    let err = web.refresh(&second).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeedsLogin);
}

#[tokio::test]
async fn web_app_can_send_credentials_in_the_body() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let web = WebApp::builder(
        env(&ims),
        demo::WEB_CLIENT_ID,
        frameio_auth_core::ClientSecret::new(demo::WEB_SECRET),
        REDIRECT_URI,
    )
    .scopes(user_scopes())
    .client_auth_in_body()
    .transport(support::manual(&clock))
    .build()
    .unwrap();
    let (url, pending) = web.begin().unwrap();
    let callback = browser(&url).await;
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let state = callback
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let tokens = web
        .complete_with_code(&pending, &code, &state)
        .await
        .unwrap();
    let request = ims.last_request(paths::TOKEN).unwrap();
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.form_value("client_secret"), Some(demo::WEB_SECRET));
    let refreshed = web.refresh(&tokens).await.unwrap();
    assert_eq!(
        ims.last_request(paths::TOKEN)
            .unwrap()
            .form_value("client_id"),
        Some(demo::WEB_CLIENT_ID)
    );
    web.invalidate(&refreshed).await.unwrap();
    assert!(!ims.is_access_token_active(refreshed.access_token().expose_secret()));
}

#[tokio::test]
async fn single_page_app_end_to_end_with_cascading_invalidate() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let app = spa(&ims, &clock, user_scopes());
    let (url, pending) = app.begin().unwrap();
    let tokens = app.complete(&pending, &browser(&url).await).await.unwrap();
    let request = ims.last_request(paths::TOKEN).unwrap();
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.form_value("client_secret"), None);
    assert_eq!(request.form_value("client_id"), Some(demo::SPA_CLIENT_ID));
    assert_eq!(
        request.form_value("code_verifier"),
        Some(pending.code_verifier().expose_secret())
    );

    // Frame.io's SDK refreshes SPA logins; when IMS issues a refresh token, so do we.
    clock.advance(Duration::from_secs(60));
    let refreshed = app.refresh(&tokens).await.unwrap();
    assert!(refreshed.refresh_token().is_some());

    app.invalidate(&refreshed).await.unwrap();
    let request = ims.last_request(paths::INVALIDATE).unwrap();
    assert_eq!(request.form_value("token_type"), Some("refresh_token"));
    assert_eq!(request.form_value("cascading"), Some("all"));
    assert_eq!(request.header("x-ims-clientid"), Some(demo::SPA_CLIENT_ID));
    assert!(!ims.is_refresh_token_active(refreshed.refresh_token().unwrap().expose_secret()));
    assert!(!ims.is_access_token_active(refreshed.access_token().expose_secret()));
    let err = app.refresh(&refreshed).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeedsLogin);
}

#[tokio::test]
async fn native_app_with_custom_scheme_end_to_end_and_public_revoke() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let app = native(&ims, &clock);
    let (url, pending) = app.begin().unwrap();
    let callback = browser(&url).await;
    assert_eq!(callback.scheme(), "adobe+0a1b2c3d4e5f");
    let tokens = app.complete(&pending, &callback).await.unwrap();
    let refreshed = app.refresh(&tokens).await.unwrap();
    assert_eq!(app.revoke(&refreshed).await.unwrap(), Revocation::Revoked);
    let revoke = ims.last_request(paths::REVOKE).unwrap();
    assert_eq!(
        revoke.header("authorization"),
        None,
        "a public client has no secret"
    );
    assert!(
        revoke
            .query
            .iter()
            .any(|(k, v)| k == "client_id" && v == demo::NATIVE_CLIENT_ID)
    );
    assert!(!ims.is_access_token_active(refreshed.access_token().expose_secret()));
    assert_eq!(
        app.refresh(&refreshed).await.unwrap_err().kind(),
        ErrorKind::NeedsLogin
    );
}

#[tokio::test]
async fn without_a_refresh_token_an_expired_login_needs_a_new_one() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    // Adobe's docs: no refresh token for SPAs. Without offline_access IMS issues none.
    let app = spa(
        &ims,
        &clock,
        Scopes::parse("openid AdobeID profile").unwrap(),
    );
    let (url, pending) = app.begin().unwrap();
    let tokens = app.complete(&pending, &browser(&url).await).await.unwrap();
    assert!(tokens.refresh_token().is_none());

    let requests = ims.token_requests();
    assert_eq!(
        app.fetch(Some(&tokens)).await.unwrap(),
        tokens,
        "still valid: kept"
    );
    clock.advance(Duration::from_secs(86_399));
    let err = app.fetch(Some(&tokens)).await.unwrap_err();
    assert_eq!(needs_login_reason(&err), &NeedsLoginReason::NoRefreshToken);
    assert_eq!(ims.token_requests(), requests, "nothing was sent");

    let err = app.fetch(None).await.unwrap_err();
    assert!(matches!(
        needs_login_reason(&err),
        NeedsLoginReason::NoStoredLogin { .. }
    ));
}

#[tokio::test]
async fn an_expired_refresh_token_needs_login_without_a_request() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let web = web_app(&ims, &clock);
    let (url, pending) = web.begin().unwrap();
    let tokens = web.complete(&pending, &browser(&url).await).await.unwrap();
    clock.advance(Duration::from_secs(15 * 24 * 3600));
    let requests = ims.token_requests();
    let err = web.refresh(&tokens).await.unwrap_err();
    assert_eq!(
        needs_login_reason(&err),
        &NeedsLoginReason::RefreshTokenExpired
    );
    assert_eq!(ims.token_requests(), requests);
}

#[tokio::test]
async fn invalid_scope_on_the_redirect_gets_a_hint() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    // A Frame.io V2 scope name: IMS refuses it.
    let app = spa(&ims, &clock, Scopes::parse("openid asset.read").unwrap());
    let (url, pending) = app.begin().unwrap();
    let callback = browser(&url).await;
    let err = app.complete(&pending, &callback).await.unwrap_err();
    match &err {
        AuthError::Rejected { error, .. } => assert_eq!(error.error, OAuthErrorCode::InvalidScope),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("Developer Console"), "{err}");
    assert_eq!(ims.token_requests(), 0);
}

#[tokio::test]
async fn a_pending_request_of_another_credential_is_refused() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let (url, pending) = spa(&ims, &clock, user_scopes()).begin().unwrap();
    let callback = browser(&url).await;
    let err = web_app(&ims, &clock)
        .complete(&pending, &callback)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    // And a wrong state is a protocol error, never an exchange.
    let err = spa(&ims, &clock, user_scopes())
        .complete_with_code(&pending, "code", "not-the-state")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(ims.token_requests(), 0);
}

#[tokio::test]
async fn server_to_server_with_one_secret() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let s2s = s2s(&ims, &clock, &[demo::S2S_SECRET]);
    let tokens = s2s.fetch(None).await.unwrap();
    let request = ims.last_request(paths::TOKEN).unwrap();
    assert_eq!(request.form_value("grant_type"), Some("client_credentials"));
    assert_eq!(
        request.form_value("scope"),
        Some("AdobeID,frame.s2s.all,openid"),
        "comma separated"
    );
    assert_eq!(request.form_value("client_secret"), Some(demo::S2S_SECRET));
    assert!(tokens.refresh_token().is_none());
    assert_eq!(
        tokens.expires_at(),
        Some(clock.now().saturating_add(Duration::from_secs(86_399)))
    );
    assert_eq!(tokens.scopes(), &support::s2s_scopes());

    // A source fetches, it never caches (the TokenManager does): each fetch is exactly one
    // token request, even while the last token is fresh, and concurrent fetches are not merged.
    let (a, b) = tokio::join!(s2s.fetch(Some(&tokens)), s2s.request_new_token());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a != tokens && b != tokens && a != b);
    assert_eq!(ims.grant_count("client_credentials"), 3);
    let renewed = s2s.fetch(None).await.unwrap();
    assert_eq!(ims.grant_count("client_credentials"), 4);
    assert_eq!(ims.token_requests(), 4);

    let valid = s2s.validate(renewed.access_token()).await.unwrap();
    assert!(valid.valid);
    s2s.invalidate(renewed.access_token()).await.unwrap();
    let request = ims.last_request(paths::INVALIDATE).unwrap();
    assert_eq!(request.form_value("token_type"), Some("service_token"));
    assert!(!ims.is_access_token_active(renewed.access_token().expose_secret()));
    // A logout revokes the service token at IMS.
    let next = s2s.fetch(None).await.unwrap();
    assert_eq!(s2s.revoke(&next).await.unwrap(), Revocation::Revoked);
    let request = ims.last_request(paths::REVOKE).unwrap();
    assert!(
        request
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert!(!ims.is_access_token_active(next.access_token().expose_secret()));
    assert!(ims.is_access_token_active(a.access_token().expose_secret()));
    s2s.revoke_access_token(a.access_token()).await.unwrap();
    assert!(!ims.is_access_token_active(a.access_token().expose_secret()));
}

#[tokio::test]
async fn server_to_server_falls_back_to_the_second_secret() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let s2s = s2s(&ims, &clock, &["rotated-away-secret", demo::S2S_SECRET_2]);
    let tokens = s2s.request_new_token().await.unwrap();
    assert!(ims.is_access_token_active(tokens.access_token().expose_secret()));
    assert_eq!(ims.token_requests(), 2, "one refusal, one success");
    assert_eq!(
        ims.last_request(paths::TOKEN)
            .unwrap()
            .form_value("client_secret"),
        Some(demo::S2S_SECRET_2)
    );
    // The working secret is tried first from now on, for tokens and for revocation.
    let tokens = s2s.request_new_token().await.unwrap();
    assert_eq!(ims.token_requests(), 3);
    assert_eq!(s2s.revoke(&tokens).await.unwrap(), Revocation::Revoked);
    assert!(!ims.is_access_token_active(tokens.access_token().expose_secret()));

    // Both wrong: the invalid_client error comes through.
    let both_wrong = support::s2s(&ims, &clock, &["wrong-1", "wrong-2"]);
    let err = both_wrong.request_new_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidClient, "{err}");
    // One wrong secret and no second: no fallback.
    let one_wrong = support::s2s(&ims, &clock, &["wrong-1"]);
    let before = ims.token_requests();
    assert_eq!(
        one_wrong.request_new_token().await.unwrap_err().kind(),
        ErrorKind::InvalidClient
    );
    assert_eq!(ims.token_requests(), before + 1);
}

#[tokio::test]
async fn transient_failures_are_retried_on_every_endpoint() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let s2s = s2s(&ims, &clock, &[demo::S2S_SECRET]);
    ims.inject_on(paths::TOKEN, Fault::Status503, 1);
    let tokens = s2s.request_new_token().await.unwrap();
    ims.inject_on(paths::VALIDATE, Fault::RetryAfter { secs: 2 }, 1);
    let before = clock.now();
    assert!(s2s.validate(tokens.access_token()).await.unwrap().valid);
    assert!(clock.now().saturating_duration_since(before) >= Duration::from_secs(2));
    assert_eq!(ims.requests_to(paths::VALIDATE), 2);
}

#[tokio::test]
async fn token_keys_separate_environments_clients_profiles_and_scopes() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let secret = || frameio_auth_core::ClientSecret::new("s");
    let keys: Vec<_> = vec![
        web_app(&ims, &clock).key(),
        WebApp::builder(
            ImsEnvironment::Production,
            demo::WEB_CLIENT_ID,
            secret(),
            REDIRECT_URI,
        )
        .scopes(user_scopes())
        .build()
        .unwrap()
        .key(),
        WebApp::builder(
            ImsEnvironment::Stage,
            demo::WEB_CLIENT_ID,
            secret(),
            REDIRECT_URI,
        )
        .scopes(user_scopes())
        .build()
        .unwrap()
        .key(),
        WebApp::builder(env(&ims), demo::WEB_CLIENT_ID, secret(), REDIRECT_URI)
            .scopes(user_scopes())
            .profile("alice")
            .build()
            .unwrap()
            .key(),
        WebApp::builder(env(&ims), demo::WEB_CLIENT_ID, secret(), REDIRECT_URI)
            .scopes(Scopes::parse("openid AdobeID").unwrap())
            .build()
            .unwrap()
            .key(),
        SinglePageApp::builder(env(&ims), demo::SPA_CLIENT_ID, REDIRECT_URI)
            .scopes(user_scopes())
            .build()
            .unwrap()
            .key(),
        NativeApp::builder(env(&ims), demo::NATIVE_CLIENT_ID, demo::NATIVE_REDIRECT)
            .scopes(user_scopes())
            .build()
            .unwrap()
            .key(),
        s2s(&ims, &clock, &[demo::S2S_SECRET]).key(),
    ];
    assert!(keys.iter().all(|k| k.provider() == "ims"));
    let distinct: HashSet<&str> = keys
        .iter()
        .map(frameio_auth_core::TokenKey::as_str)
        .collect();
    assert_eq!(distinct.len(), keys.len(), "{keys:?}");
    assert_eq!(keys[1].environment(), "prod");
    assert_eq!(keys[2].environment(), "stage");
    assert_eq!(keys[3].profile(), "alice");
}

#[tokio::test]
async fn cloud_storage_preset_from_environment_variables() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let base = ims.base_url().to_owned();
    let vars = move |name: &str| match name {
        "CLOUD_STORAGE_CLIENT_ID" => Some(demo::S2S_CLIENT_ID.to_owned()),
        "CLOUD_STORAGE_CLIENT_SECRET" => Some(demo::S2S_SECRET.to_owned()),
        "IMS_BASE_URL" => Some(base.clone()),
        _ => None,
    };
    let s2s = presets::cloud_storage_server_to_server_from(vars)
        .unwrap()
        .transport(support::manual(&clock))
        .build()
        .unwrap();
    let tokens = s2s.request_new_token().await.unwrap();
    assert!(ims.is_access_token_active(tokens.access_token().expose_secret()));
    assert_eq!(
        ims.last_request(paths::TOKEN).unwrap().form_value("scope"),
        Some("AdobeID,creative_sdk,offline_access,openid")
    );
    assert!(
        tokens.refresh_token().is_none(),
        "S2S never gets a refresh token"
    );

    for missing in ["CLOUD_STORAGE_CLIENT_ID", "CLOUD_STORAGE_CLIENT_SECRET"] {
        let vars = |name: &str| (name != missing).then(|| "value".to_owned());
        let err = presets::cloud_storage_server_to_server_from(vars).unwrap_err();
        assert!(err.message().contains(missing), "{err}");
        let vars = |name: &str| Some(if name == missing { "" } else { "value" }.to_owned());
        let err = presets::cloud_storage_server_to_server_from(vars).unwrap_err();
        assert!(
            err.message().contains(missing) && err.message().contains("empty"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn from_lookup_and_the_frameio_preset_work_against_ims() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let base = ims.base_url().to_owned();
    let vars = move |name: &str| match name {
        "IMS_CLIENT_ID" => Some(demo::S2S_CLIENT_ID.to_owned()),
        "IMS_CLIENT_SECRET" => Some("old-secret".to_owned()),
        "IMS_CLIENT_SECRET_2" => Some(demo::S2S_SECRET.to_owned()),
        "IMS_SCOPES" => Some("openid AdobeID frame.s2s.all".to_owned()),
        "IMS_ENV" => Some("prod".to_owned()),
        "IMS_BASE_URL" => Some(base.clone()),
        _ => None,
    };
    let s2s = presets::from_lookup(vars)
        .unwrap()
        .transport(support::manual(&clock))
        .build()
        .unwrap();
    s2s.request_new_token().await.unwrap();

    let preset = presets::frameio_v4_server_to_server(
        env(&ims),
        demo::S2S_CLIENT_ID,
        frameio_auth_core::ClientSecret::new(demo::S2S_SECRET),
    )
    .transport(support::manual(&clock))
    .build()
    .unwrap();
    preset.request_new_token().await.unwrap();
    assert_eq!(
        ims.last_request(paths::TOKEN).unwrap().form_value("scope"),
        Some("AdobeID,frame.s2s.all,openid")
    );
    let _ = Timestamp::from_unix_secs(0);
}

/// One `TransportSettings` value reaches every request a credential sends: token requests
/// and the other endpoints, for Server-to-Server and user credentials alike.
#[tokio::test]
async fn transport_settings_reach_every_request() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let settings = support::manual(&clock).user_agent("flows-test/1.0 frameio-auth");
    let agent = |path: &str| {
        ims.last_request(path)
            .unwrap()
            .header("user-agent")
            .map(str::to_owned)
    };
    let s2s = support::s2s_with(&ims, settings.clone(), &[demo::S2S_SECRET]);
    let tokens = s2s.fetch(None).await.unwrap();
    assert_eq!(tokens.issued_at(), clock.now(), "the settings' clock");
    s2s.validate(tokens.access_token()).await.unwrap();
    let web = support::web_app_with(&ims, settings.clone());
    let (url, pending) = web.begin().unwrap();
    let login = web.complete(&pending, &browser(&url).await).await.unwrap();
    assert_eq!(
        agent(paths::TOKEN).as_deref(),
        Some("flows-test/1.0 frameio-auth")
    );
    web.userinfo(login.access_token()).await.unwrap();
    for path in [paths::VALIDATE, paths::USERINFO] {
        assert_eq!(
            agent(path).as_deref(),
            Some("flows-test/1.0 frameio-auth"),
            "{path}"
        );
    }

    // The body cap of the settings applies too: an IMS token response is larger than this.
    let capped = support::s2s_with(&ims, settings.max_body_bytes(64), &[demo::S2S_SECRET]);
    let err = capped.fetch(None).await.unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::Protocol {
                source: frameio_auth_core::ProtocolError::BodyTooLarge { limit: 64 },
                ..
            }
        ),
        "{err:?}"
    );
}

/// RFC 6749 §6: a refresh may not ask for a scope the login was not granted. IMS user
/// credentials send no `scope` on refresh at all (IMS keeps the grant's), so they never do.
#[tokio::test]
async fn a_refresh_never_asks_for_scopes_beyond_the_grant() {
    let clock = clock();
    let ims = fake_ims(&clock).await;
    let credentials: Vec<Box<dyn frameio_auth_oauth::user_login::UserLogin>> = vec![
        Box::new(web_app(&ims, &clock)),
        Box::new(spa(&ims, &clock, user_scopes())),
        Box::new(native(&ims, &clock)),
    ];
    for login in &credentials {
        let (url, pending) = login.begin().unwrap();
        let tokens = login
            .complete(&pending, &browser(&url).await)
            .await
            .unwrap();
        clock.advance(Duration::from_secs(60));
        login.fetch(Some(&tokens)).await.unwrap();
        let refresh = ims.last_request(paths::TOKEN).unwrap();
        assert_eq!(refresh.form_value("grant_type"), Some("refresh_token"));
        let asked = refresh
            .form_value("scope")
            .map(|list| Scopes::parse(list).unwrap());
        assert!(
            asked.is_none_or(|asked| asked.is_subset(tokens.scopes())),
            "{:?}",
            refresh.form_value("scope")
        );
        assert_eq!(
            refresh.form_value("scope"),
            None,
            "IMS keeps the grant's scopes"
        );
    }
}
