//! The demo's world: fake Adobe IMS, Frame.io V2 and V4 on 127.0.0.1, a temporary token
//! directory, and profiles that point at them. Nothing is read from or written to the user's
//! configuration; the directory is deleted when the demo ends.

use std::collections::HashMap;
use std::io;

use frameio_auth::profiles::{ProfileError, Profiles, ResolvedProfile};
use frameio_auth_testkit::ims::{FakeClient, FakeImsConfig, demo as ims_demo};
use frameio_auth_testkit::v2::{FakeFrameioV2Config, demo as v2_demo};
use frameio_auth_testkit::{FakeFrameioV2, FakeFrameioV4, FakeIms};
use tempfile::TempDir;

/// A Native App of the fake IMS whose redirect URI pattern accepts any loopback port, as a
/// real Native App credential registered for `http://127.0.0.1/callback` does.
pub(super) const NATIVE_CLIENT_ID: &str = "demo-native-loopback";
/// The Developer Token the fake Frame.io V2 knows.
const DEVELOPER_TOKEN: &str = "fio-u-demo-developer-token-0123456789abcdef";
/// The variables the demo's profiles name for their secrets (never the process's own).
const S2S_SECRET_VAR: &str = "DEMO_S2S_SECRET";
const V2_TOKEN_VAR: &str = "DEMO_V2_DEVELOPER_TOKEN";
const V2_SECRET_VAR: &str = "DEMO_V2_CLIENT_SECRET";

/// The running fakes and the demo's profiles.
pub(super) struct World {
    pub(super) ims: FakeIms,
    pub(super) v2: FakeFrameioV2,
    pub(super) v4: FakeFrameioV4,
    /// The token directory: removed on drop.
    pub(super) dir: TempDir,
    profiles: Profiles,
    vars: HashMap<&'static str, &'static str>,
}

impl World {
    pub(super) async fn start() -> io::Result<Self> {
        let ims = FakeIms::start(FakeImsConfig::with_demo_clients().client(
            FakeClient::native_app(
                NATIVE_CLIENT_ID,
                "http://127.0.0.1:*/callback",
                ims_demo::USER_SCOPES,
            ),
        ))
        .await?;
        let v4 = FakeFrameioV4::start(&ims).await?;
        let v2 = FakeFrameioV2::start(FakeFrameioV2Config::with_demo_apps()).await?;
        v2.register_developer_token(DEVELOPER_TOKEN, "account.read");
        let dir = tempfile::Builder::new()
            .prefix("frameio-auth-demo-")
            .tempdir()?;
        let store_dir = dir.path().join("tokens");
        let text = config_text(&ims, &v2, &v4, &store_dir.display().to_string());
        let profiles = Profiles::parse(dir.path().join("config.toml"), &text)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let vars = HashMap::from([
            (S2S_SECRET_VAR, ims_demo::S2S_SECRET),
            (V2_TOKEN_VAR, DEVELOPER_TOKEN),
            (V2_SECRET_VAR, v2_demo::CONFIDENTIAL_SECRET),
        ]);
        Ok(Self {
            ims,
            v2,
            v4,
            dir,
            profiles,
            vars,
        })
    }

    /// A demo profile, resolved against the demo's variables only.
    pub(super) fn profile(&self, name: &str) -> Result<ResolvedProfile, ProfileError> {
        self.profiles.resolve(Some(name), &|var| {
            self.vars.get(var).map(|v| (*v).to_owned())
        })
    }

    /// The Developer Token's secret values, to prove the output never shows them.
    #[cfg(test)]
    pub(super) fn known_secrets() -> [&'static str; 3] {
        [
            DEVELOPER_TOKEN,
            ims_demo::S2S_SECRET,
            v2_demo::CONFIDENTIAL_SECRET,
        ]
    }

    pub(super) async fn shutdown(self) {
        self.ims.shutdown().await;
        self.v2.shutdown().await;
        drop(self.v4);
        drop(self.dir);
    }
}

/// The demo's `config.toml`: what a user writes, with the fakes' addresses.
fn config_text(ims: &FakeIms, v2: &FakeFrameioV2, v4: &FakeFrameioV4, store_dir: &str) -> String {
    let ims_url = ims.base_url();
    let v2_url = v2.base_url();
    let v4_url = v4.base_url();
    let s2s_id = ims_demo::S2S_CLIENT_ID;
    let user_scopes = ims_demo::USER_SCOPES;
    let v2_app = v2_demo::CONFIDENTIAL_CLIENT_ID;
    let store_dir = toml_string(store_dir);
    format!(
        r#"default = "s2s"

[profiles.s2s]
preset = "frameio-v4-s2s"
client_id = "{s2s_id}"
secret_env = "{S2S_SECRET_VAR}"
ims_env = "{ims_url}"
api_base_url = "{v4_url}"
store_dir = {store_dir}

[profiles.native]
kind = "ims-native"
client_id = "{NATIVE_CLIENT_ID}"
scopes = "{user_scopes}"
redirect_uri = "http://127.0.0.1/callback"
ims_env = "{ims_url}"
store_dir = {store_dir}

[profiles.v2-token]
kind = "v2-developer-token"
secret_env = "{V2_TOKEN_VAR}"
api_base_url = "{v2_url}"
store_dir = {store_dir}

[profiles.v2-oauth]
kind = "v2-oauth"
client_id = "{v2_app}"
secret_env = "{V2_SECRET_VAR}"
scopes = "account.read offline"
redirect_uri = "http://127.0.0.1/callback"
v2_oauth_base_url = "{v2_url}"
api_base_url = "{v2_url}"
store_dir = {store_dir}
"#
    )
}

/// `text` as a TOML string (paths may hold backslashes on Windows).
fn toml_string(text: &str) -> String {
    toml_edit::Value::from(text).to_string().trim().to_owned()
}
