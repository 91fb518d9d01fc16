//! `use frameio_auth::prelude::*;`: the names most programs need, from one crate.
//!
//! ```
//! use frameio_auth::prelude::*;
//!
//! fn manager_for(source: impl TokenSource + 'static) -> TokenManager {
//!     TokenManager::builder(source).store(MemoryStore::new()).build()
//! }
//! ```

pub use crate::{
    CachedToken, LogoutReport, ProviderLogout, TokenError, TokenEvent, TokenManager,
    TokenManagerBuilder,
};
pub use frameio_auth_core::{
    AccessToken, AuthError, ClientSecret, ErrorKind, RefreshPolicy, Scopes, TokenKey, TokenSet,
    TokenSource, TokenStore,
};
pub use frameio_auth_oauth::TransportSettings;
pub use frameio_auth_oauth::user_login::{ShowUrl, UserLogin};
pub use frameio_auth_oauth::{LoginError, LoopbackReceiver};
pub use frameio_auth_store_memory::MemoryStore;

#[cfg(feature = "reqwest")]
pub use crate::http::{ApiAuthError, BearerAuth};
#[cfg(feature = "profiles")]
pub use crate::profiles::Profiles;
#[cfg(feature = "ims")]
pub use frameio_auth_ims::{
    ImsEnvironment, NativeApp, ServerToServer, SinglePageApp, WebApp, presets,
};
#[cfg(feature = "store-file")]
pub use frameio_auth_store_file::FileStore;
#[cfg(feature = "store-keyring")]
pub use frameio_auth_store_keyring::KeyringStore;
#[cfg(feature = "store-redis")]
pub use frameio_auth_store_redis::{EncryptionKey, RedisStore};
#[cfg(feature = "v2")]
pub use frameio_auth_v2::{DeveloperTokenSource, FrameioApi, V2OAuthApp, V2Scope};
