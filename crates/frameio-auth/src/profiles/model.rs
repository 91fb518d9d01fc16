//! The file model: what one profile says, before the environment is applied.

use std::fmt;

use frameio_auth_core::ClientSecret;

/// What kind of credential a profile holds (`kind = "..."` in `config.toml`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProfileKind {
    /// `ims-s2s`: Adobe IMS Server-to-Server (`client_credentials`).
    ImsS2s,
    /// `ims-web`: Adobe IMS OAuth Web App (client secret, redirect URI).
    ImsWeb,
    /// `ims-spa`: Adobe IMS Single Page App (public client, redirect URI).
    ImsSpa,
    /// `ims-native`: Adobe IMS Native App (public client, redirect URI).
    ImsNative,
    /// `v2-developer-token`: a Frame.io V2 Developer Token.
    V2DeveloperToken,
    /// `v2-oauth`: a Frame.io V2 OAuth app (redirect URI, optional client secret).
    V2OAuth,
}

impl ProfileKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [Self; 6] = [
        Self::ImsS2s,
        Self::ImsWeb,
        Self::ImsSpa,
        Self::ImsNative,
        Self::V2DeveloperToken,
        Self::V2OAuth,
    ];

    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImsS2s => "ims-s2s",
            Self::ImsWeb => "ims-web",
            Self::ImsSpa => "ims-spa",
            Self::ImsNative => "ims-native",
            Self::V2DeveloperToken => "v2-developer-token",
            Self::V2OAuth => "v2-oauth",
        }
    }

    /// The kind named `name` in `config.toml`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Whether the kind talks to Adobe IMS.
    pub fn is_ims(self) -> bool {
        matches!(
            self,
            Self::ImsS2s | Self::ImsWeb | Self::ImsSpa | Self::ImsNative
        )
    }

    /// Whether the kind has a redirect URI.
    pub fn has_redirect_uri(self) -> bool {
        matches!(
            self,
            Self::ImsWeb | Self::ImsSpa | Self::ImsNative | Self::V2OAuth
        )
    }
}

impl fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ready-made starting point (`preset = "..."`); the profile's own fields override it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// `frameio-v4-s2s`: kind `ims-s2s`, Frame.io V4 Server-to-Server scopes.
    FrameioV4S2s,
    /// `cloud-storage-s2s`: kind `ims-s2s`, Cloud Storage & Collaboration API scopes; the
    /// client id and secret come from `CLOUD_STORAGE_CLIENT_ID` and
    /// `CLOUD_STORAGE_CLIENT_SECRET`, as the vendor documents.
    CloudStorageS2s,
    /// `frameio-v4-user`: Frame.io V4 user scopes; the profile picks its kind (`ims-web`,
    /// `ims-spa` or `ims-native`, default `ims-native`).
    FrameioV4User,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Self; 3] = [
        Self::FrameioV4S2s,
        Self::CloudStorageS2s,
        Self::FrameioV4User,
    ];

    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FrameioV4S2s => "frameio-v4-s2s",
            Self::CloudStorageS2s => "cloud-storage-s2s",
            Self::FrameioV4User => "frameio-v4-user",
        }
    }

    /// The preset named `name` in `config.toml`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|preset| preset.as_str() == name)
    }

    /// The kind the preset gives.
    pub fn kind(self) -> ProfileKind {
        match self {
            Self::FrameioV4S2s | Self::CloudStorageS2s => ProfileKind::ImsS2s,
            Self::FrameioV4User => ProfileKind::ImsNative,
        }
    }

    /// The scopes the preset gives.
    pub fn scopes(self) -> &'static str {
        match self {
            Self::FrameioV4S2s => frameio_auth_ims::presets::FRAMEIO_V4_SERVER_TO_SERVER_SCOPES,
            Self::CloudStorageS2s => {
                frameio_auth_ims::presets::CLOUD_STORAGE_SERVER_TO_SERVER_SCOPES
            }
            Self::FrameioV4User => frameio_auth_ims::presets::FRAMEIO_V4_USER_SCOPES,
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a profile keeps its tokens (`store = "..."`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreKind {
    /// `file`: token files (the default), in `store_dir` or the platform's data directory.
    File,
    /// `keyring`: the OS keyring (needs the `store-keyring` feature).
    Keyring,
    /// `memory`: nothing survives the process.
    Memory,
    /// `redis`: a Redis (or Valkey) shared by a fleet (needs the `store-redis` feature).
    Redis,
}

impl StoreKind {
    /// Every store kind.
    pub const ALL: [Self; 4] = [Self::File, Self::Keyring, Self::Memory, Self::Redis];

    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Keyring => "keyring",
            Self::Memory => "memory",
            Self::Redis => "redis",
        }
    }

    /// The store named `name` in `config.toml`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|store| store.as_str() == name)
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a profile's secret (client secret, or Developer Token) comes from.
///
/// Its `Debug` never shows an inline value:
///
/// ```
/// use frameio_auth::profiles::SecretRef;
/// use frameio_auth_core::ClientSecret;
///
/// let inline = SecretRef::Inline(ClientSecret::new("hunter2-hunter2"));
/// assert!(!format!("{inline:?}").contains("hunter2"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SecretRef {
    /// `secret_env = "NAME"`: the value of this environment variable (the recommended way).
    Env(String),
    /// `secret_keyring = "ENTRY"`: an entry of the OS keyring (feature `store-keyring`).
    Keyring(String),
    /// `secret = "..."`: the value itself, in the file (accepted with a warning, and only
    /// when the file is private: mode 0600).
    Inline(ClientSecret),
}

/// Where the `redis` store's URL comes from.
///
/// The URL may carry a password, so its `Debug` shows the variable's name, never a value, and
/// an inline `redis_url` is refused when it has a password.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisUrlRef {
    /// `redis_url_env = "NAME"`: the value of this environment variable (the recommended way:
    /// the URL may hold the password).
    Env(String),
    /// `redis_url = "redis://host:6379/0"`: the URL itself, without a password.
    Url(String),
}

/// Where the `redis` store's encryption key comes from (32 random bytes, in base64).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisKeyRef {
    /// `redis_key_env = "NAME"`: the base64 of the key, in this environment variable.
    Env(String),
    /// `redis_key_keyring = "ENTRY"`: the base64 of the key, in an OS keyring item of service
    /// `keyring_service` (feature `store-keyring`).
    Keyring(String),
    /// `redis_plaintext = true`: no encryption at rest (an explicit, logged opt-out).
    Plaintext,
}

/// One profile as the file gives it: every field is optional here; the environment, the
/// preset and defaults fill the rest when the profile is used.
///
/// ```
/// use frameio_auth::profiles::{Profile, ProfileKind, SecretRef};
///
/// let profile = Profile {
///     kind: Some(ProfileKind::ImsS2s),
///     client_id: Some("my-client-id".into()),
///     secret: Some(SecretRef::Env("MY_S2S_SECRET".into())),
///     ..Profile::default()
/// };
/// assert_eq!(profile.kind, Some(ProfileKind::ImsS2s));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// `preset`: the starting point.
    pub preset: Option<Preset>,
    /// `kind`: the credential kind (else the preset's).
    pub kind: Option<ProfileKind>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `scopes`: comma- or space-separated (a string or an array in the file).
    pub scopes: Option<String>,
    /// `ims_env`: `prod`, `stage` or a base URL (IMS kinds).
    pub ims_env: Option<String>,
    /// `v2_oauth_base_url`: the Frame.io V2 OAuth base URL (kind `v2-oauth`).
    pub v2_oauth_base_url: Option<String>,
    /// `api_base_url`: the Frame.io API base URL (`/v2/me`, `/v4/me`; default
    /// `https://api.frame.io`).
    pub api_base_url: Option<String>,
    /// `redirect_uri` (kinds `ims-web`, `ims-spa`, `ims-native`, `v2-oauth`).
    pub redirect_uri: Option<String>,
    /// `store`: where tokens are kept (default `file`).
    pub store: Option<StoreKind>,
    /// `store_dir`: the token directory of the `file` store.
    pub store_dir: Option<String>,
    /// `keyring_service`: the service name of the `keyring` store.
    pub keyring_service: Option<String>,
    /// `redis_url` or `redis_url_env`: where the `redis` store connects.
    pub redis_url: Option<RedisUrlRef>,
    /// `redis_namespace`: the `redis` store's namespace (default `frameio-auth`).
    pub redis_namespace: Option<String>,
    /// `redis_key_env`, `redis_key_keyring` or `redis_plaintext`: the `redis` store's
    /// encryption key.
    pub redis_key: Option<RedisKeyRef>,
    /// `redis_key_id`: the id stored with each value the key seals (default `default`).
    pub redis_key_id: Option<String>,
    /// `secret_env`, `secret_keyring` or `secret`: where the secret comes from.
    pub secret: Option<SecretRef>,
}
