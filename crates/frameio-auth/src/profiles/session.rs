//! A profile put to use: its manager, its login, and the identity its tokens belong to.

use std::fmt;
use std::sync::Arc;

use frameio_auth_core::{AccessToken, AuthError, ErrorKind};
use frameio_auth_oauth::user_login::UserLogin;
use frameio_auth_v2::{ApiError, FrameioApi};

use super::build::Credential;
use super::env::ResolvedProfile;
use super::error::ProfileError;
use crate::{CachedToken, TokenError, TokenManager, TokenManagerBuilder};

/// A profile ready to use: the manager over its credential and store, the credential's login
/// for the kinds that sign a user in, and [`whoami`](Self::whoami).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use frameio_auth::profiles::Profiles;
///
/// let profiles = Profiles::load()?;
/// let session = profiles.resolve(Some("work"), &|name| std::env::var(name).ok())?.session()?;
/// let me = session.whoami().await?;
/// println!("signed in as {}", me.id);
/// # Ok(()) }
/// ```
pub struct ProfileSession {
    profile: ResolvedProfile,
    credential: Credential,
    manager: TokenManager,
}

impl fmt::Debug for ProfileSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileSession")
            .field("profile", &self.profile.name)
            .field("kind", &self.profile.kind)
            .field("manager", &self.manager)
            .finish_non_exhaustive()
    }
}

impl ResolvedProfile {
    /// The profile put to use: one credential serves as the manager's source and as its
    /// login, so [`TokenManager::login`] accepts [`ProfileSession::user_login`].
    pub fn session(&self) -> Result<ProfileSession, ProfileError> {
        self.session_with(|builder| builder)
    }

    /// [`session`](Self::session), with the manager's builder adjusted first (a clock, a
    /// refresh policy).
    pub fn session_with(
        &self,
        adjust: impl FnOnce(TokenManagerBuilder) -> TokenManagerBuilder,
    ) -> Result<ProfileSession, ProfileError> {
        let credential = self.credential()?;
        let manager = adjust(self.builder_over(&credential)?).build();
        Ok(ProfileSession {
            profile: self.clone(),
            credential,
            manager,
        })
    }
}

/// Where [`ProfileSession::whoami`] asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentitySource {
    /// Adobe IMS `GET /ims/userinfo/v2` (IMS user logins).
    ImsUserInfo,
    /// Frame.io `GET /v4/me` (IMS Server-to-Server).
    FrameioV4Me,
    /// Frame.io `GET /v2/me` (V2 Developer Tokens and OAuth apps).
    FrameioV2Me,
}

impl IdentitySource {
    /// A stable name: `ims-userinfo`, `v4-me` or `v2-me`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImsUserInfo => "ims-userinfo",
            Self::FrameioV4Me => "v4-me",
            Self::FrameioV2Me => "v2-me",
        }
    }
}

impl fmt::Display for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a profile's tokens belong to. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// Where the answer came from.
    pub source: IdentitySource,
    /// The user (or technical account) id.
    pub id: String,
    /// The display name, when the provider gave one.
    pub name: Option<String>,
    /// The e-mail address, when the provider gave one.
    pub email: Option<String>,
}

/// Why [`ProfileSession::whoami`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WhoamiError {
    /// No valid token: the manager's error (a needs-login error among them).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// IMS refused or could not be reached.
    #[error("IMS user info: {0}")]
    Ims(AuthError),
    /// The Frame.io API refused or could not be reached.
    #[error("Frame.io API: {0}")]
    Api(ApiError),
    /// The API client could not be configured (`api_base_url`).
    #[error(transparent)]
    Config(#[from] frameio_auth_core::ConfigError),
}

impl WhoamiError {
    /// What kind of failure this is, in the terms of [`ErrorKind`]: a token rejected even
    /// after a refresh means a new login; an unreachable provider is transient.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Token(error) => error.kind(),
            Self::Ims(error) | Self::Api(ApiError::Transport(error)) => error.kind(),
            Self::Api(ApiError::InvalidToken { .. }) => ErrorKind::NeedsLogin,
            Self::Api(error) if error.is_retryable() => ErrorKind::Transient,
            Self::Api(_) => ErrorKind::Rejected,
            Self::Config(_) => ErrorKind::Configuration,
        }
    }
}

impl ProfileSession {
    /// The resolved profile.
    pub fn profile(&self) -> &ResolvedProfile {
        &self.profile
    }

    /// The manager: the one token cache of this profile.
    pub fn manager(&self) -> &TokenManager {
        &self.manager
    }

    /// The login of the kinds that sign a user in (`ims-web`, `ims-spa`, `ims-native`,
    /// `v2-oauth`), for [`TokenManager::login`] and [`TokenManager::complete_login`]; `None`
    /// for Server-to-Server and Developer Tokens, whose [`TokenManager::force_refresh`] is
    /// their login.
    pub fn user_login(&self) -> Option<Arc<dyn UserLogin>> {
        self.credential.user_login()
    }

    /// The login of the kinds that need no browser, with one request that proves the
    /// credential works: Server-to-Server asks IMS for a new token; a Developer Token is
    /// checked with `GET /v2/me`, and forgotten again when Frame.io refuses it. The token is
    /// stored. The user kinds sign in through [`user_login`](Self::user_login) instead, and get
    /// a configuration error here.
    pub async fn verify_credential(&self) -> Result<CachedToken, WhoamiError> {
        match &self.credential {
            Credential::S2s(_) => Ok(self.manager.force_refresh().await?),
            Credential::DeveloperToken(_) => {
                let token = self.manager.force_refresh().await?;
                if let Err(error) = self.whoami().await {
                    // A token Frame.io refuses must not look like a login; one it could not
                    // check (the network) stays.
                    if error.kind() == ErrorKind::NeedsLogin {
                        let _ = self.manager.logout().await;
                    }
                    return Err(error);
                }
                Ok(token)
            }
            _ => Err(WhoamiError::Config(frameio_auth_core::ConfigError::new(
                format!(
                    "profile `{}` ({}) signs a user in through the browser: use its user login",
                    self.profile.name, self.profile.kind
                ),
            ))),
        }
    }

    /// Who the tokens belong to: IMS user info for IMS user logins, Frame.io `/v4/me` for
    /// Server-to-Server, `/v2/me` for V2. Gets a token from the manager (refreshing it when
    /// needed); when the provider rejects it as invalid, refreshes once through
    /// [`TokenManager::refresh_if_current`] and asks again.
    pub async fn whoami(&self) -> Result<Identity, WhoamiError> {
        let token = self.manager.access_token().await?;
        match self.ask(token.access_token()).await {
            Err(error) if rejected_token(&error) => {
                let renewed = self
                    .manager
                    .refresh_if_current(token.access_token())
                    .await?;
                self.ask(renewed.access_token()).await
            }
            answer => answer,
        }
    }

    fn api(&self) -> Result<FrameioApi, WhoamiError> {
        let mut builder = FrameioApi::builder();
        if let Some(base) = &self.profile.api_base_url {
            builder = builder.base_url(base.clone());
        }
        Ok(builder.build()?)
    }

    async fn ask(&self, token: &AccessToken) -> Result<Identity, WhoamiError> {
        let userinfo = match &self.credential {
            Credential::Web(c) => Some(c.userinfo(token).await),
            Credential::Spa(c) => Some(c.userinfo(token).await),
            Credential::Native(c) => Some(c.userinfo(token).await),
            Credential::S2s(_) | Credential::DeveloperToken(_) | Credential::V2OAuth(_) => None,
        };
        if let Some(answer) = userinfo {
            let info = answer.map_err(WhoamiError::Ims)?;
            return Ok(Identity {
                source: IdentitySource::ImsUserInfo,
                id: info.sub,
                name: info.name,
                email: info.email,
            });
        }
        let api = self.api()?;
        if let Credential::S2s(_) = &self.credential {
            let me = api.v4_me(token).await.map_err(WhoamiError::Api)?;
            Ok(Identity {
                source: IdentitySource::FrameioV4Me,
                id: me.id,
                name: me.name,
                email: me.email,
            })
        } else {
            let me = api.whoami(token).await.map_err(WhoamiError::Api)?;
            Ok(Identity {
                source: IdentitySource::FrameioV2Me,
                id: me.id,
                name: me.name,
                email: me.email,
            })
        }
    }
}

/// Whether the provider rejected the token itself (HTTP 401), so that one refresh may help.
fn rejected_token(error: &WhoamiError) -> bool {
    match error {
        WhoamiError::Api(ApiError::InvalidToken { .. }) => true,
        WhoamiError::Ims(AuthError::Rejected { status, .. }) => *status == Some(401),
        WhoamiError::Ims(error) => error.kind() == ErrorKind::NeedsLogin,
        _ => false,
    }
}
