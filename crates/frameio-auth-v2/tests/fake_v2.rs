//! The V2 client against `FakeFrameioV2` (and `/v4/me` against `FakeFrameioV4` + `FakeIms`):
//! Developer Tokens, both OAuth app kinds end to end, refresh semantics, and typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

mod support;

use std::time::Duration;

use frameio_auth_core::{
    AccessToken, AuthError, Clock, DeveloperToken, ErrorKind, ManualClock, NeedsLoginReason,
    TokenSource,
};
use frameio_auth_oauth::{ClientAuth, ScopeFormat, SecureUrl, TokenClient};
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeImsConfig, demo as ims_demo};
use frameio_auth_testkit::v2::{FakeFrameioV4, Fault, Rotation, demo, paths};
use frameio_auth_v2::{ApiError, DeveloperTokenSource, FrameioApi, V2Scope};
use support::{api, browse, confidential_app, fake, login, offline_scopes, pkce_app};

#[tokio::test]
async fn developer_token_through_whoami() {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    fake.register_developer_token("fio-u-dev-token-for-whoami", "account.read");
    let source = DeveloperTokenSource::from_lookup(|name| {
        (name == "FRAMEIO_TOKEN").then(|| "fio-u-dev-token-for-whoami".to_owned())
    })
    .unwrap();
    let tokens = source.fetch(None).await.unwrap();
    assert_eq!(tokens.expires_at(), None);

    let checked = api(&fake, &clock)
        .whoami_checked(tokens.access_token())
        .await
        .unwrap();
    let me = checked.value;
    assert_eq!(me.email.as_deref(), Some("ada@example.com"));
    assert_eq!(
        me.account_id.as_deref(),
        Some(fake.config().fake_user().account_id.as_str())
    );
    assert_eq!(me.other["_type"], "user", "unknown fields are kept");
    assert_eq!(checked.rate_limit.limit, Some(100));
    assert_eq!(checked.rate_limit.remaining, Some(99));
    assert_eq!(checked.rate_limit.window, Some(Duration::from_secs(60)));
    let request = fake.last_request(paths::ME).unwrap();
    assert_eq!(
        request.header("authorization"),
        Some("Bearer fio-u-dev-token-for-whoami")
    );

    // Years later it is still the same, never-expiring token.
    clock.advance(Duration::from_secs(3 * 365 * 86_400));
    let again = source.fetch(Some(&tokens)).await.unwrap();
    assert!(!again.is_expired(clock.now()));
    api(&fake, &clock)
        .whoami(again.access_token())
        .await
        .unwrap();
}

/// authorize → callback → exchange → whoami → refresh → whoami.
async fn end_to_end(confidential: bool) {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    let app = if confidential {
        confidential_app(&fake, &clock, &offline_scopes())
    } else {
        pkce_app(&fake, &clock, &offline_scopes())
    };
    let (url, pending) = app.begin().unwrap();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("scope"), Some("account.read asset.read offline"));
    assert_eq!(get("code_challenge_method"), Some("S256"));
    assert_eq!(get("state"), Some(pending.state().expose_secret()));
    let callback = browse(url).await;
    let first = app.complete(&pending, &callback).await.unwrap();

    let exchange = fake.last_request(paths::TOKEN).unwrap();
    assert_eq!(
        exchange.form_value("grant_type"),
        Some("authorization_code")
    );
    assert!(
        exchange.form_value("code_verifier").is_some(),
        "PKCE always"
    );
    if confidential {
        assert!(
            exchange
                .header("authorization")
                .unwrap()
                .starts_with("Basic ")
        );
        assert_eq!(exchange.form_value("client_id"), None);
    } else {
        assert_eq!(exchange.header("authorization"), None);
        assert_eq!(exchange.form_value("client_id"), Some(demo::PKCE_CLIENT_ID));
    }
    assert_eq!(first.lifetime(), Some(Duration::from_secs(3600)));
    assert!(first.scopes().contains("offline"));
    let first_refresh = first.refresh_token().unwrap().clone();

    let api = api(&fake, &clock);
    let me = api.whoami(first.access_token()).await.unwrap();
    assert_eq!(me.name.as_deref(), Some("Ada Lovelace"));

    clock.advance(Duration::from_secs(3600));
    assert!(matches!(
        api.whoami(first.access_token()).await.unwrap_err(),
        ApiError::InvalidToken { .. }
    ));
    let second = app.fetch(Some(&first)).await.unwrap();
    let refresh = fake.last_request(paths::TOKEN).unwrap();
    assert_eq!(refresh.form_value("grant_type"), Some("refresh_token"));
    assert_eq!(
        refresh.form_value("scope"),
        Some("account.read asset.read offline")
    );
    assert_ne!(second.access_token(), first.access_token());
    let rotated = second.refresh_token().unwrap();
    assert_ne!(
        rotated, &first_refresh,
        "the fake rotates by default; the new one is kept"
    );
    assert!(fake.is_refresh_token_active(rotated.expose_secret()));
    api.whoami(second.access_token()).await.unwrap();
    assert_eq!(fake.grant_count("refresh_token"), 1);
}

#[tokio::test]
async fn confidential_app_end_to_end() {
    end_to_end(true).await;
}

#[tokio::test]
async fn pkce_app_end_to_end() {
    end_to_end(false).await;
}

#[tokio::test]
async fn refresh_without_new_refresh_token_keeps_the_old_one() {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    fake.set_rotation(Rotation::OmitRefreshToken);
    let app = pkce_app(&fake, &clock, &offline_scopes());
    let (first, _) = login(&app).await;
    let original = first.refresh_token().unwrap().clone();

    let second = app.refresh(&first).await.unwrap();
    assert_eq!(second.refresh_token(), Some(&original));
    // And it still works: the next refresh uses it again.
    let third = app.refresh(&second).await.unwrap();
    assert_eq!(third.refresh_token(), Some(&original));
    assert_eq!(
        fake.last_request(paths::TOKEN)
            .unwrap()
            .form_value("refresh_token"),
        Some(original.expose_secret())
    );
    api(&fake, &clock)
        .whoami(third.access_token())
        .await
        .unwrap();

    // Rotation resumes: the new one replaces it.
    fake.set_rotation(Rotation::Rotate);
    let fourth = app.refresh(&third).await.unwrap();
    assert_ne!(fourth.refresh_token(), Some(&original));
}

#[tokio::test]
async fn without_offline_the_login_ends_at_expiry() {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    let app = confidential_app(&fake, &clock, &[V2Scope::AccountRead]);
    let (tokens, _) = login(&app).await;
    assert!(tokens.refresh_token().is_none());
    assert_eq!(fake.issued_refresh_tokens(), 0);

    // Still valid: the source hands back what it has.
    clock.advance(Duration::from_secs(3599));
    let same = app.fetch(Some(&tokens)).await.unwrap();
    assert_eq!(same.access_token(), tokens.access_token());

    clock.advance(Duration::from_secs(1));
    let err = app.fetch(Some(&tokens)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeedsLogin);
    assert!(matches!(
        err,
        AuthError::NeedsLogin {
            reason: NeedsLoginReason::NoRefreshToken,
            ..
        }
    ));
    assert_eq!(
        fake.grant_count("refresh_token"),
        0,
        "nothing to refresh with"
    );
    let none = app.fetch(None).await.unwrap_err();
    assert!(matches!(
        none,
        AuthError::NeedsLogin {
            reason: NeedsLoginReason::NoStoredLogin { .. },
            ..
        }
    ));
}

#[tokio::test]
async fn http_errors_are_typed() {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    let api = api(&fake, &clock);
    fake.register_developer_token("fio-u-no-account-scope", "asset.read");
    fake.register_developer_token("fio-u-good-token", "account.read");

    let err = api
        .whoami(&AccessToken::new("fio-u-not-registered"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    let ApiError::InvalidToken { details } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(details.code, Some(401));
    assert_eq!(details.errors[0].detail.as_deref(), Some("invalid token"));

    let err = api
        .whoami(&AccessToken::new("fio-u-no-account-scope"))
        .await
        .unwrap_err();
    let ApiError::Forbidden { details } = &err else {
        panic!("{err:?}")
    };
    assert!(err.to_string().contains("account.read"), "{err}");
    assert_eq!(details.errors[0].title.as_deref(), Some("Forbidden"));

    fake.inject_rate_limit(1, 3);
    let err = api
        .whoami(&AccessToken::new("fio-u-good-token"))
        .await
        .unwrap_err();
    let rate = err.rate_limit().copied().unwrap();
    assert_eq!(rate.limit, Some(100));
    assert_eq!(rate.remaining, Some(0));
    assert_eq!(rate.window, Some(Duration::from_secs(60)));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    assert!(err.is_retryable());
    assert!(matches!(err, ApiError::RateLimited { .. }));
    assert!(err.to_string().contains("remaining 0"), "{err}");

    fake.inject_on(
        paths::ME,
        Fault::Status {
            status: 402,
            json_body: true,
        },
        1,
    );
    let err = api
        .whoami(&AccessToken::new("fio-u-good-token"))
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::PlanLimit { .. }), "{err:?}");

    fake.inject_on(paths::ME, Fault::HtmlBody { status: 200 }, 1);
    let err = api
        .whoami(&AccessToken::new("fio-u-good-token"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::UnexpectedBody { status: 200, .. }),
        "{err:?}"
    );

    fake.inject_on(paths::ME, Fault::Status500, 1);
    let err = api
        .whoami(&AccessToken::new("fio-u-good-token"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.is_retryable());

    // After all that, the token still works.
    api.whoami(&AccessToken::new("fio-u-good-token"))
        .await
        .unwrap();
}

#[tokio::test]
async fn oauth_errors_from_the_fake_are_typed_auth_errors() {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    // A wrong secret: invalid_client.
    let app =
        frameio_auth_v2::V2OAuthApp::builder(demo::CONFIDENTIAL_CLIENT_ID, support::REDIRECT_URI)
            .client_secret(frameio_auth_core::ClientSecret::new("wrong-secret"))
            .scopes(offline_scopes())
            .oauth_base_url(fake.base_url())
            .transport(support::manual(&clock))
            .build()
            .unwrap();
    let (url, pending) = app.begin().unwrap();
    let callback = browse(url).await;
    let err = app.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidClient);

    // A spent refresh token: invalid_grant, a needs-login error.
    let good = confidential_app(&fake, &clock, &offline_scopes());
    let (first, _) = login(&good).await;
    good.refresh(&first).await.unwrap();
    let err = good.refresh(&first).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeedsLogin);

    // A scope the fake does not know: the redirect carries invalid_scope.
    let odd = pkce_app(&fake, &clock, &[V2Scope::Other("share.read".into())]);
    let (url, pending) = odd.begin().unwrap();
    let callback = browse(url).await;
    let err = odd.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert!(err.to_string().contains("invalid_scope"), "{err}");
}

#[tokio::test]
async fn v4_me_accepts_ims_tokens_only() {
    let clock = ManualClock::default();
    let ims = FakeIms::start(FakeImsConfig::with_demo_clients().clock(clock.clone()))
        .await
        .unwrap();
    let v4 = FakeFrameioV4::start(&ims).await.unwrap();
    let tokens = TokenClient::builder(
        SecureUrl::parse(&ims.token_url()).unwrap(),
        ClientAuth::basic(
            ims_demo::S2S_CLIENT_ID,
            frameio_auth_core::ClientSecret::new(ims_demo::S2S_SECRET),
        ),
    )
    .transport(support::manual(&clock))
    .build()
    .unwrap()
    .request_token(&frameio_auth_oauth::Grant::client_credentials(
        &frameio_auth_core::Scopes::parse("openid,AdobeID,frame.s2s.all").unwrap(),
        ScopeFormat::CommaSeparated,
    ))
    .await
    .unwrap();
    let api = FrameioApi::builder()
        .base_url(v4.base_url())
        .transport(support::manual(&clock))
        .build()
        .unwrap();
    let me = api.v4_me_checked(tokens.access_token()).await.unwrap();
    assert_eq!(me.value.email.as_deref(), Some("ada@example.com"));
    assert!(me.value.other.contains_key("created_at"));
    assert_eq!(me.rate_limit.remaining, Some(99));

    // A V2 token does not work on V4, and the V4 error body is parsed.
    let err = api
        .v4_me(&AccessToken::new("fio-u-a-v2-developer-token"))
        .await
        .unwrap_err();
    let ApiError::InvalidToken { details } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(details.errors[0].title.as_deref(), Some("Unauthorized"));
    assert!(
        details.errors[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("invalid token")
    );

    v4.inject_rate_limit(1, 1);
    let err = api.v4_me(tokens.access_token()).await.unwrap_err();
    assert_eq!(err.rate_limit().unwrap().remaining, Some(0));
    clock.advance(Duration::from_secs(86_399));
    assert!(matches!(
        api.v4_me(tokens.access_token()).await.unwrap_err(),
        ApiError::InvalidToken { .. }
    ));
    assert_eq!(v4.me_requests(), 4);
}

#[tokio::test]
async fn developer_token_source_key_is_not_ims() {
    let source = DeveloperTokenSource::new(DeveloperToken::new("fio-u-key-check")).unwrap();
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    let app = confidential_app(&fake, &clock, &offline_scopes());
    assert_eq!(source.key().provider(), "frameio-v2");
    assert_eq!(app.key().provider(), "frameio-v2");
    assert_eq!(app.key().client_id(), demo::CONFIDENTIAL_CLIENT_ID);
    assert!(app.key().scopes().contains("offline"));
    assert_ne!(source.key(), app.key());
}

#[tokio::test]
async fn loopback_login_refuses_a_receiver_at_another_redirect_uri() {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    let app = pkce_app(&fake, &clock, &offline_scopes());
    let receiver = frameio_auth_oauth::LoopbackReceiver::builder()
        .bind()
        .await
        .unwrap();
    let err = app
        .login_with_loopback(
            receiver,
            frameio_auth_oauth::user_login::ShowUrl::new(|_| panic!("no URL may be shown")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            frameio_auth_oauth::LoginError::RedirectUriMismatch { credential, .. }
                if credential == app.redirect_uri()
        ),
        "{err:?}"
    );
}

#[test]
fn builder_debug_hides_the_client_secret() {
    let secret = "LEAKCHECK-v2-builder-secret-0123456789";
    let builder = frameio_auth_v2::V2OAuthApp::builder("builder-client", support::REDIRECT_URI)
        .client_secret(frameio_auth_core::ClientSecret::new(secret))
        .scopes([V2Scope::AccountRead, V2Scope::Offline]);
    for text in [format!("{builder:?}"), format!("{builder:#?}")] {
        assert!(!text.contains(secret), "the secret reached Debug: {text}");
        assert!(
            text.contains("builder-client") && text.contains("client_secret"),
            "{text}"
        );
    }
    let app = builder.build().unwrap();
    for text in [format!("{app:?}"), format!("{app:#?}")] {
        assert!(!text.contains(secret), "the secret reached Debug: {text}");
    }
}

/// One `TransportSettings` value reaches the OAuth app's token requests and the API client;
/// the API client still makes one attempt per call whatever retry policy the settings carry.
#[tokio::test]
async fn transport_settings_reach_the_app_and_the_api() {
    let clock = ManualClock::default();
    let fake = fake(&clock).await;
    let settings = support::manual(&clock)
        .user_agent("v2-test/1.0 frameio-auth")
        .retry_policy(frameio_auth_oauth::RetryPolicy::default().without_jitter());
    let app = frameio_auth_v2::V2OAuthApp::builder(demo::PKCE_CLIENT_ID, support::REDIRECT_URI)
        .scopes(offline_scopes())
        .oauth_base_url(fake.base_url())
        .transport(settings.clone())
        .build()
        .unwrap();
    let (tokens, _) = login(&app).await;
    assert_eq!(tokens.issued_at(), clock.now(), "the settings' clock");
    let agent = |path: &str| {
        fake.last_request(path)
            .unwrap()
            .header("user-agent")
            .map(str::to_owned)
    };
    assert_eq!(
        agent(paths::TOKEN).as_deref(),
        Some("v2-test/1.0 frameio-auth")
    );

    let api = FrameioApi::builder()
        .base_url(fake.base_url())
        .transport(settings)
        .build()
        .unwrap();
    api.whoami(tokens.access_token()).await.unwrap();
    assert_eq!(
        agent(paths::ME).as_deref(),
        Some("v2-test/1.0 frameio-auth")
    );
    fake.inject_on(paths::ME, Fault::DropConnection, 1);
    let before = fake.requests_to(paths::ME);
    let err = api.whoami(tokens.access_token()).await.unwrap_err();
    assert!(matches!(err, ApiError::Transport(_)), "{err:?}");
    assert_eq!(fake.requests_to(paths::ME), before + 1, "one attempt");
}

/// RFC 6749 §6: a login granted fewer scopes than it asked for refreshes with the granted
/// ones; repeating the requested ones would be refused by a strict server (`invalid_scope`).
#[tokio::test]
async fn a_refresh_asks_only_for_the_scopes_granted() {
    let clock = ManualClock::default();
    let stingy = frameio_auth_testkit::v2::FakeV2App::pkce(
        demo::PKCE_CLIENT_ID,
        demo::REDIRECT,
        frameio_auth_testkit::v2::ALL_SCOPES,
    )
    .grants_only("account.read offline");
    let fake = frameio_auth_testkit::v2::FakeFrameioV2::start(
        frameio_auth_testkit::v2::FakeFrameioV2Config::with_demo_apps()
            .clock(clock.clone())
            .app(stingy),
    )
    .await
    .unwrap();
    // Asks for account.read asset.read offline.
    let app = pkce_app(&fake, &clock, &offline_scopes());
    let (tokens, _) = login(&app).await;
    let granted = frameio_auth_core::Scopes::parse("account.read offline").unwrap();
    assert_eq!(tokens.scopes(), &granted);

    clock.advance(Duration::from_secs(3600));
    let renewed = app.fetch(Some(&tokens)).await.unwrap();
    let refresh = fake.last_request(paths::TOKEN).unwrap();
    assert_eq!(refresh.form_value("grant_type"), Some("refresh_token"));
    assert_eq!(refresh.form_value("scope"), Some("account.read offline"));
    assert_eq!(renewed.scopes(), &granted);
    api(&fake, &clock)
        .whoami(renewed.access_token())
        .await
        .unwrap();
}
