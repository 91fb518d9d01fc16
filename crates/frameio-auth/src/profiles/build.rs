//! Building a profile's credential and store, and the manager over them.

use std::sync::Arc;

use frameio_auth_core::{ConfigError, DeveloperToken, Scopes, TokenSource, TokenStore};
use frameio_auth_ims::{NativeApp, ServerToServer, SinglePageApp, WebApp};
use frameio_auth_oauth::user_login::UserLogin;
use frameio_auth_store_file::FileStore;
use frameio_auth_store_memory::MemoryStore;
use frameio_auth_v2::{DeveloperTokenSource, V2OAuthApp};

use super::env::ResolvedProfile;
use super::error::ProfileError;
use super::model::{ProfileKind, StoreKind};
use crate::{TokenManager, TokenManagerBuilder};

/// A profile's credential, kept concrete so that a session can use what only its type
/// offers (a login, IMS user info).
#[derive(Clone, Debug)]
pub(super) enum Credential {
    S2s(Arc<ServerToServer>),
    Web(Arc<WebApp>),
    Spa(Arc<SinglePageApp>),
    Native(Arc<NativeApp>),
    DeveloperToken(Arc<DeveloperTokenSource>),
    V2OAuth(Arc<V2OAuthApp>),
}

impl Credential {
    /// The credential as the manager's source.
    pub(super) fn source(&self) -> Arc<dyn TokenSource> {
        match self {
            Self::S2s(c) => Arc::clone(c) as Arc<dyn TokenSource>,
            Self::Web(c) => Arc::clone(c) as Arc<dyn TokenSource>,
            Self::Spa(c) => Arc::clone(c) as Arc<dyn TokenSource>,
            Self::Native(c) => Arc::clone(c) as Arc<dyn TokenSource>,
            Self::DeveloperToken(c) => Arc::clone(c) as Arc<dyn TokenSource>,
            Self::V2OAuth(c) => Arc::clone(c) as Arc<dyn TokenSource>,
        }
    }

    /// The credential as a user login, for the kinds that sign a user in.
    pub(super) fn user_login(&self) -> Option<Arc<dyn UserLogin>> {
        match self {
            Self::Web(c) => Some(Arc::clone(c) as Arc<dyn UserLogin>),
            Self::Spa(c) => Some(Arc::clone(c) as Arc<dyn UserLogin>),
            Self::Native(c) => Some(Arc::clone(c) as Arc<dyn UserLogin>),
            Self::V2OAuth(c) => Some(Arc::clone(c) as Arc<dyn UserLogin>),
            Self::S2s(_) | Self::DeveloperToken(_) => None,
        }
    }
}

impl ResolvedProfile {
    fn config(&self) -> impl Fn(ConfigError) -> ProfileError + '_ {
        |source| ProfileError::Config {
            profile: self.name.clone(),
            source,
        }
    }

    fn scope_set(&self) -> Result<Scopes, ProfileError> {
        Scopes::parse(self.scopes.as_deref().unwrap_or_default()).map_err(|e| {
            ProfileError::Profile {
                profile: self.name.clone(),
                message: format!("invalid scopes: {e}"),
            }
        })
    }

    fn missing(&self, what: &str) -> ProfileError {
        ProfileError::Profile {
            profile: self.name.clone(),
            message: format!("no {what}"),
        }
    }

    /// The profile's credential, built from its resolved fields.
    pub(super) fn credential(&self) -> Result<Credential, ProfileError> {
        let config = self.config();
        let id = || {
            self.client_id
                .clone()
                .ok_or_else(|| self.missing("client id"))
        };
        let secret = || self.secret.clone().ok_or_else(|| self.missing("secret"));
        let redirect = || {
            self.redirect_uri
                .clone()
                .ok_or_else(|| self.missing("redirect URI"))
        };
        let env = self.ims_env.clone();
        Ok(match self.kind {
            ProfileKind::ImsS2s => Credential::S2s(Arc::new(
                ServerToServer::builder(env, id()?, secret()?)
                    .scopes(self.scope_set()?)
                    .profile(self.name.clone())
                    .build()
                    .map_err(config)?,
            )),
            ProfileKind::ImsWeb => Credential::Web(Arc::new(
                WebApp::builder(env, id()?, secret()?, redirect()?)
                    .scopes(self.scope_set()?)
                    .profile(self.name.clone())
                    .build()
                    .map_err(config)?,
            )),
            ProfileKind::ImsSpa => Credential::Spa(Arc::new(
                SinglePageApp::builder(env, id()?, redirect()?)
                    .scopes(self.scope_set()?)
                    .profile(self.name.clone())
                    .build()
                    .map_err(config)?,
            )),
            ProfileKind::ImsNative => Credential::Native(Arc::new(
                NativeApp::builder(env, id()?, redirect()?)
                    .scopes(self.scope_set()?)
                    .profile(self.name.clone())
                    .build()
                    .map_err(config)?,
            )),
            ProfileKind::V2DeveloperToken => {
                let token = DeveloperToken::new(secret()?.expose_secret());
                Credential::DeveloperToken(Arc::new(
                    DeveloperTokenSource::new(token)
                        .and_then(|s| s.with_profile(self.name.clone()))
                        .map_err(config)?,
                ))
            }
            ProfileKind::V2OAuth => {
                let mut app = V2OAuthApp::builder(id()?, redirect()?)
                    .scopes(frameio_auth_v2::parse_list(
                        self.scopes.as_deref().unwrap_or_default(),
                    ))
                    .profile(self.name.clone());
                if let Some(secret) = self.secret.clone() {
                    app = app.client_secret(secret);
                }
                if let Some(base) = &self.v2_oauth_base_url {
                    app = app.oauth_base_url(base.clone());
                }
                Credential::V2OAuth(Arc::new(app.build().map_err(config)?))
            }
        })
    }

    /// A builder over the profile's credential and store; set anything else (policy,
    /// clock) before `build()`.
    pub fn manager_builder(&self) -> Result<TokenManagerBuilder, ProfileError> {
        self.builder_over(&self.credential()?)
    }

    pub(super) fn builder_over(
        &self,
        credential: &Credential,
    ) -> Result<TokenManagerBuilder, ProfileError> {
        // The metrics label is the profile's name: bounded, and chosen by the user.
        Ok(TokenManagerBuilder::shared(credential.source())
            .shared_store(self.open_store()?)
            .metrics_profile(self.name.clone()))
    }

    /// The manager: the profile's credential over its store.
    pub fn manager(&self) -> Result<TokenManager, ProfileError> {
        Ok(self.manager_builder()?.build())
    }

    /// Opens the profile's store.
    pub fn open_store(&self) -> Result<Arc<dyn TokenStore>, ProfileError> {
        let unavailable = |message: &str| ProfileError::Profile {
            profile: self.name.clone(),
            message: message.to_owned(),
        };
        match self.store {
            StoreKind::Memory => Ok(Arc::new(MemoryStore::new())),
            StoreKind::File => {
                // FRAMEIO_AUTH_HOME was already looked up (through the caller's lookup) when
                // the profile was resolved: here only the platform directory is left, the
                // file store's own default without its environment variable.
                let dir = match &self.store_dir {
                    Some(dir) => dir.clone(),
                    None => directories::ProjectDirs::from("", "", "frameio-auth")
                        .map(|dirs| dirs.data_local_dir().join("tokens"))
                        .ok_or_else(|| {
                            unavailable(
                                "no home directory to keep tokens in: set `store_dir`, or \
                                 FRAMEIO_AUTH_STORE_DIR",
                            )
                        })?,
                };
                Ok(Arc::new(FileStore::new(dir)))
            }
            #[cfg(feature = "store-keyring")]
            StoreKind::Keyring => {
                let mut builder = frameio_auth_store_keyring::KeyringStore::builder();
                if let Some(service) = &self.keyring_service {
                    builder = builder.service(service.clone());
                }
                let store = builder.build().map_err(|source| ProfileError::Store {
                    profile: self.name.clone(),
                    source,
                })?;
                Ok(Arc::new(store))
            }
            #[cfg(not(feature = "store-keyring"))]
            StoreKind::Keyring => Err(unavailable(
                "store `keyring` needs the `store-keyring` feature of frameio-auth: enable it, \
                 or use store `file`",
            )),
            #[cfg(feature = "store-redis")]
            StoreKind::Redis => self
                .open_redis()
                .map(|store| Arc::new(store) as Arc<dyn TokenStore>),
            #[cfg(not(feature = "store-redis"))]
            StoreKind::Redis => Err(unavailable(
                "store `redis` needs the `store-redis` feature of frameio-auth: enable it, or \
                 use store `file`",
            )),
        }
    }

    /// The profile's Redis store. Connects on first use: opening touches no network.
    #[cfg(feature = "store-redis")]
    fn open_redis(&self) -> Result<frameio_auth_store_redis::RedisStore, ProfileError> {
        use frameio_auth_store_redis::{EncryptionKey, RedisStore};
        let config = |error: frameio_auth_store_redis::ConfigError| ProfileError::Profile {
            profile: self.name.clone(),
            message: error.to_string(),
        };
        let redis = self.redis.as_ref().ok_or_else(|| ProfileError::Profile {
            profile: self.name.clone(),
            message: "store `redis` has no settings: set `redis_url_env` and `redis_key_env`"
                .to_owned(),
        })?;
        let mut builder = RedisStore::builder().url(redis.url.expose_secret());
        if let Some(namespace) = &redis.namespace {
            builder = builder.namespace(namespace.clone());
        }
        builder = match &redis.key {
            Some((id, base64)) => builder.key(
                EncryptionKey::from_base64(id.clone(), base64.expose_secret()).map_err(config)?,
            ),
            None => builder.plaintext(),
        };
        builder.build().map_err(config)
    }
}
