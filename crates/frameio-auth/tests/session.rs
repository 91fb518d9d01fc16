//! A profile put to use (`ResolvedProfile::session`), against the fakes: `whoami` with one
//! refresh on a rejected token, `complete_login` for a pasted redirect, and the stored login
//! read and deleted without the secret.
#![cfg(feature = "profiles")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

use std::collections::HashMap;

use frameio_auth::model::{AccessToken, ClientSecret};
use frameio_auth::oauth::url::Url;
use frameio_auth::profiles::{IdentitySource, Profiles};
use frameio_auth_ims::{ImsEnvironment, presets};
use frameio_auth_testkit::ims::{FakeImsConfig, demo};
use frameio_auth_testkit::v2::FakeFrameioV2Config;
use frameio_auth_testkit::{FakeFrameioV2, FakeFrameioV4, FakeIms};

const DEVELOPER_TOKEN: &str = "fio-u-session-test-token-0123456789abcdef";

struct World {
    ims: FakeIms,
    v4: FakeFrameioV4,
    v2: FakeFrameioV2,
    // Kept for the token directory's life: deleted on drop.
    _dir: tempfile::TempDir,
    profiles: Profiles,
}

impl World {
    async fn start() -> Self {
        let ims = FakeIms::start(FakeImsConfig::with_demo_clients())
            .await
            .unwrap();
        let v4 = FakeFrameioV4::start(&ims).await.unwrap();
        let v2 = FakeFrameioV2::start(FakeFrameioV2Config::with_demo_apps())
            .await
            .unwrap();
        v2.register_developer_token(DEVELOPER_TOKEN, "account.read");
        let dir = tempfile::tempdir().unwrap();
        let store = toml_edit::Value::from(dir.path().join("tokens").display().to_string());
        let text = format!(
            r#"
[profiles.s2s]
preset = "frameio-v4-s2s"
client_id = "{s2s}"
secret_env = "S2S_SECRET"
ims_env = "{ims}"
api_base_url = "{v4}"
store_dir = {store}

[profiles.native]
kind = "ims-native"
client_id = "{native}"
scopes = "{scopes}"
redirect_uri = "{redirect}"
ims_env = "{ims}"
store_dir = {store}

[profiles.other]
kind = "ims-native"
client_id = "another-native-client"
scopes = "{scopes}"
redirect_uri = "{redirect}"
ims_env = "{ims}"
store_dir = {store}

[profiles.v2]
kind = "v2-developer-token"
secret_env = "V2_TOKEN"
api_base_url = "{v2}"
store_dir = {store}
"#,
            s2s = demo::S2S_CLIENT_ID,
            native = demo::NATIVE_CLIENT_ID,
            scopes = demo::USER_SCOPES,
            redirect = demo::NATIVE_REDIRECT,
            ims = ims.base_url(),
            v4 = v4.base_url(),
            v2 = v2.base_url(),
        );
        let profiles = Profiles::parse(dir.path().join("config.toml"), &text).unwrap();
        Self {
            ims,
            v4,
            v2,
            _dir: dir,
            profiles,
        }
    }
}

fn secrets() -> impl Fn(&str) -> Option<String> {
    let map: HashMap<&str, &str> = HashMap::from([
        ("S2S_SECRET", demo::S2S_SECRET),
        ("V2_TOKEN", DEVELOPER_TOKEN),
    ]);
    move |name| map.get(name).map(|v| (*v).to_owned())
}

fn no_secrets(_: &str) -> Option<String> {
    None
}

#[tokio::test]
async fn whoami_refreshes_once_when_the_api_rejects_the_token() {
    let world = World::start().await;
    let session = world
        .profiles
        .resolve(Some("s2s"), &secrets())
        .unwrap()
        .session()
        .unwrap();
    let first = session.manager().access_token().await.unwrap();

    // IMS revokes the token early: the API answers 401, and one refresh fixes it.
    let s2s = presets::frameio_v4_server_to_server(
        ImsEnvironment::custom(world.ims.base_url()).unwrap(),
        demo::S2S_CLIENT_ID,
        ClientSecret::new(demo::S2S_SECRET),
    )
    .build()
    .unwrap();
    s2s.revoke_access_token(&AccessToken::new(first.expose_secret()))
        .await
        .unwrap();

    let me = session.whoami().await.unwrap();
    assert_eq!(me.source, IdentitySource::FrameioV4Me);
    assert!(me.id.contains("techacct"), "{me:?}");
    assert_eq!(world.ims.grant_count("client_credentials"), 2);
    assert_eq!(world.v4.me_requests(), 2, "the 401, then the retry");

    // A Developer Token asks /v2/me.
    let v2 = world
        .profiles
        .resolve(Some("v2"), &secrets())
        .unwrap()
        .session()
        .unwrap();
    let me = v2.whoami().await.unwrap();
    assert_eq!(me.source, IdentitySource::FrameioV2Me);
    assert_eq!(world.v2.requests_to(frameio_auth_testkit::v2::paths::ME), 1);
}

#[tokio::test]
async fn complete_login_checks_the_credential_and_the_state_then_saves_the_login() {
    let world = World::start().await;
    let native = world
        .profiles
        .resolve(Some("native"), &no_secrets)
        .unwrap()
        .session()
        .unwrap();
    let login = native.user_login().unwrap();
    let (url, pending) = login.begin().unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let response = browser.get(url.as_str()).send().await.unwrap();
    let redirect = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();

    // Another profile's login is refused before any request.
    let other = world
        .profiles
        .resolve(Some("other"), &no_secrets)
        .unwrap()
        .session()
        .unwrap();
    let refused = native
        .manager()
        .complete_login(other.user_login().unwrap().as_ref(), &pending, &redirect)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("log in with the manager's own credential")
    );
    assert_eq!(world.ims.grant_count("authorization_code"), 0);

    // A redirect of another login (its state) is refused, with no request.
    let (_, someone_elses) = login.begin().unwrap();
    let wrong = native
        .manager()
        .complete_login(login.as_ref(), &someone_elses, &redirect)
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("state"), "{wrong}");
    assert_eq!(world.ims.grant_count("authorization_code"), 0);

    let token = native
        .manager()
        .complete_login(login.as_ref(), &pending, &redirect)
        .await
        .unwrap();
    assert!(token.has_refresh_token());
    assert_eq!(world.ims.grant_count("authorization_code"), 1);
    let stored = native.manager().export().await.unwrap().unwrap();
    assert_eq!(stored.access_token().expose_secret(), token.expose_secret());
}

#[tokio::test]
async fn the_stored_login_is_found_and_deleted_without_the_secret() {
    let world = World::start().await;
    for name in ["s2s", "v2"] {
        let session = world
            .profiles
            .resolve(Some(name), &secrets())
            .unwrap()
            .session()
            .unwrap();
        session.manager().access_token().await.unwrap();
    }

    // Without the secrets' variables, `resolve` refuses and `resolve_without_secret` works.
    assert!(world.profiles.resolve(Some("s2s"), &no_secrets).is_err());
    for name in ["s2s", "v2"] {
        let profile = world
            .profiles
            .resolve_without_secret(Some(name), &no_secrets)
            .unwrap();
        assert!(profile.secret.is_none());
        let logins = profile.stored_logins().await.unwrap();
        assert_eq!(logins.len(), 1, "{name}");
        assert_eq!(logins[0].0.profile(), name);
        // Such a profile cannot get tokens: it says what is missing.
        if name == "s2s" {
            let error = profile.session().unwrap_err();
            assert!(error.to_string().contains("secret"), "{error}");
        }
        assert_eq!(profile.forget_stored_logins().await.unwrap(), 1);
        assert!(profile.stored_logins().await.unwrap().is_empty());
    }
}

#[test]
fn a_missing_secret_variable_is_still_named_when_the_secret_is_needed() {
    let profiles = Profiles::parse(
        "config.toml",
        "[profiles.s2s]\npreset = \"frameio-v4-s2s\"\nclient_id = \"x\"\nsecret_env = \"MY_SECRET\"\n",
    )
    .unwrap();
    let error = profiles.resolve(Some("s2s"), &no_secrets).unwrap_err();
    assert!(error.to_string().contains("MY_SECRET"), "{error}");
    let error = profiles
        .resolve_without_secret(Some("s2s"), &no_secrets)
        .unwrap()
        .session()
        .unwrap_err();
    assert!(error.to_string().contains("no secret"), "{error}");
}
