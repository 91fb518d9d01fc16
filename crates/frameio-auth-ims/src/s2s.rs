//! OAuth Server-to-Server credentials: `client_credentials`, one or two secrets.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use frameio_auth_core::{
    AccessToken, AuthError, ClientSecret, ConfigError, ErrorKind, Revocation, Scopes, TokenKey,
    TokenSet, TokenSource,
};
use frameio_auth_oauth::{ClientAuth, Grant, ScopeFormat, TokenClient, TransportSettings};

use crate::api::ImsApi;
use crate::responses::{ImsTokenType, TokenValidation};
use crate::{ImsEnvironment, PROVIDER, enrich_token_set};

/// The profile used in [`TokenKey`]s unless another is set.
pub const DEFAULT_PROFILE: &str = "default";

/// An OAuth Server-to-Server credential: a client id, one or two client secrets and scopes.
///
/// Tokens come from `client_credentials` on `/ims/token/v3`, with `client_id`,
/// `client_secret` and the scopes **comma separated** in the body. There is no refresh token:
/// a new token is requested when the old one runs out.
///
/// This type fetches; it never caches: every [`fetch`](TokenSource::fetch) and
/// [`request_new_token`](Self::request_new_token) is one token request. Adobe throttles
/// integrations that mint a token per API call, so put it behind the one token cache, the
/// `TokenManager` of the `frameio-auth` crate, which reuses the token until shortly before it
/// expires, shares one request between concurrent callers, and keeps it in a store.
///
/// During secret rotation Adobe allows two secrets at once: with
/// [`second_client_secret`](ServerToServerBuilder::second_client_secret), an `invalid_client`
/// answer to one secret is retried once with the other, a `warn` trace event says so (naming
/// the client id, never a secret), and the secret that worked is tried first from then on.
///
/// ```no_run
/// use frameio_auth_core::{ClientSecret, Scopes};
/// use frameio_auth_ims::{ImsEnvironment, ServerToServer};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let s2s = ServerToServer::builder(
///     ImsEnvironment::Production,
///     "my-client-id",
///     ClientSecret::new("p8e-my-secret"),
/// )
/// .scopes(Scopes::parse("openid,AdobeID,frame.s2s.all")?)
/// .build()?;
/// // One token request; in an application, ask a `TokenManager` (crate `frameio-auth`)
/// // over this source instead, so the token is reused.
/// let tokens = s2s.request_new_token().await?;
/// # let _ = tokens;
/// # Ok(()) }
/// ```
///
/// A Server-to-Server credential has no redirect URI, so none can be set:
///
/// ```compile_fail
/// use frameio_auth_core::ClientSecret;
/// use frameio_auth_ims::{ImsEnvironment, ServerToServer};
///
/// let s2s = ServerToServer::builder(ImsEnvironment::Production, "id", ClientSecret::new("s"))
///     .redirect_uri("https://localhost/callback") // no such method
///     .build();
/// ```
///
/// and it cannot be built without a secret:
///
/// ```compile_fail
/// use frameio_auth_ims::{ImsEnvironment, ServerToServer};
///
/// let s2s = ServerToServer::builder(ImsEnvironment::Production, "id").build();
/// ```
#[derive(Debug)]
pub struct ServerToServer {
    env: ImsEnvironment,
    client_id: String,
    scopes: Scopes,
    key: TokenKey,
    secrets: Vec<ClientSecret>,
    clients: Vec<TokenClient>,
    /// Index of the secret to try first (the one that last worked).
    prefer_second: AtomicBool,
    api: ImsApi,
}

/// Builds a [`ServerToServer`] credential.
#[derive(Debug)]
pub struct ServerToServerBuilder {
    env: ImsEnvironment,
    client_id: String,
    secrets: Vec<ClientSecret>,
    scopes: Scopes,
    profile: String,
    transport: TransportSettings,
}

impl ServerToServer {
    /// Starts a credential for `client_id` with its (first) client secret.
    pub fn builder(
        env: ImsEnvironment,
        client_id: impl Into<String>,
        client_secret: ClientSecret,
    ) -> ServerToServerBuilder {
        ServerToServerBuilder {
            env,
            client_id: client_id.into(),
            secrets: vec![client_secret],
            scopes: Scopes::new(),
            profile: DEFAULT_PROFILE.to_owned(),
            transport: TransportSettings::default(),
        }
    }

    /// The environment.
    pub fn environment(&self) -> &ImsEnvironment {
        &self.env
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The requested scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// How many client secrets are configured (1 or 2).
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// Requests one new token (`client_credentials`): one token request, plus the
    /// transport's retries of transient failures and, with two secrets, one more with the
    /// other secret after an `invalid_client`. Nothing is cached: a `TokenManager` (crate
    /// `frameio-auth`) decides when a new token is needed.
    pub async fn request_new_token(&self) -> Result<TokenSet, AuthError> {
        let grant = Grant::client_credentials(&self.scopes, ScopeFormat::CommaSeparated);
        let first = usize::from(self.prefer_second.load(Ordering::Relaxed));
        let tokens = match self.clients[first].request_token(&grant).await {
            Ok(tokens) => tokens,
            Err(error) if error.kind() == ErrorKind::InvalidClient && self.clients.len() == 2 => {
                let other = 1 - first;
                tracing::warn!(
                    client_id = %self.client_id,
                    rejected_secret = first + 1,
                    trying_secret = other + 1,
                    "IMS rejected a client secret (invalid_client); trying the other configured secret"
                );
                let tokens = self.clients[other].request_token(&grant).await?;
                self.prefer_second.store(other == 1, Ordering::Relaxed);
                tracing::info!(
                    client_id = %self.client_id,
                    secret = other + 1,
                    "the other client secret was accepted; it is tried first from now on"
                );
                tokens
            }
            Err(error) => return Err(error),
        };
        Ok(enrich_token_set(
            tokens.with_requested_scopes_if_absent(&self.scopes),
        ))
    }

    /// The secret to use for calls that need one (the one that last worked).
    fn current_secret(&self) -> &ClientSecret {
        let index = usize::from(self.prefer_second.load(Ordering::Relaxed));
        &self.secrets[index.min(self.secrets.len() - 1)]
    }

    /// Revokes `token` (`/ims/revoke`, Basic authentication with the secret that last worked).
    /// [`TokenSource::revoke`] does this for a token set.
    pub async fn revoke_access_token(&self, token: &AccessToken) -> Result<(), AuthError> {
        let auth = ClientAuth::basic(self.client_id.clone(), self.current_secret().clone());
        self.api.revoke_as(token.expose_secret(), &auth).await
    }

    /// Invalidates a service token (`/ims/invalidate_token/v2`, `token_type=service_token`,
    /// with the client secret).
    pub async fn invalidate(&self, token: &AccessToken) -> Result<(), AuthError> {
        self.api
            .invalidate(
                token.expose_secret(),
                ImsTokenType::ServiceToken,
                false,
                Some(self.current_secret()),
            )
            .await
    }

    /// Asks IMS whether `token` is valid (`/ims/validate_token/v1`).
    pub async fn validate(&self, token: &AccessToken) -> Result<TokenValidation, AuthError> {
        self.api
            .validate(token.expose_secret(), ImsTokenType::AccessToken)
            .await
    }
}

#[async_trait]
impl TokenSource for ServerToServer {
    /// Requests a new token ([`request_new_token`](ServerToServer::request_new_token)): S2S
    /// has no refresh token, so `current` is not used. The caller (a `TokenManager`) decides
    /// when, and caches.
    async fn fetch<'a>(&self, _current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
        self.request_new_token().await
    }

    fn key(&self) -> TokenKey {
        self.key.clone()
    }

    /// Revokes the service token at IMS (`/ims/revoke`, authenticated with the secret that
    /// last worked; see [`revoke_access_token`](ServerToServer::revoke_access_token)):
    /// [`Revocation::Revoked`].
    async fn revoke<'a>(&self, tokens: &'a TokenSet) -> Result<Revocation, AuthError> {
        self.revoke_access_token(tokens.access_token()).await?;
        Ok(Revocation::Revoked)
    }
}

impl ServerToServerBuilder {
    /// A second client secret, for rotation: tried when the other is refused with
    /// `invalid_client`.
    #[must_use]
    pub fn second_client_secret(mut self, secret: ClientSecret) -> Self {
        self.secrets.truncate(1);
        self.secrets.push(secret);
        self
    }

    /// The scopes to request (required; see [`presets`](crate::presets)).
    #[must_use]
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// The profile part of the [`TokenKey`] (default [`DEFAULT_PROFILE`]).
    #[must_use]
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = profile.into();
        self
    }

    /// How the credential talks HTTP: timeouts, retries, extra root certificates, proxy, user
    /// agent, and the clock and sleeper (tests give a
    /// [`ManualClock`](frameio_auth_core::ManualClock) as both). Default:
    /// [`TransportSettings::default`].
    #[must_use]
    pub fn transport(mut self, settings: TransportSettings) -> Self {
        self.transport = settings;
        self
    }

    /// Checks the configuration and builds the credential.
    pub fn build(self) -> Result<ServerToServer, ConfigError> {
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::new("the IMS client id is empty"));
        }
        if self.secrets.iter().any(ClientSecret::is_blank) {
            return Err(ConfigError::new("an IMS client secret is empty"));
        }
        if self.scopes.is_empty() {
            return Err(ConfigError::new(
                "a Server-to-Server credential needs scopes (IMS refuses client_credentials without them); \
                 set .scopes(...) or use a preset",
            ));
        }
        let token_url = self.env.token_url()?;
        let clients = self
            .secrets
            .iter()
            .map(|secret| {
                TokenClient::builder(
                    token_url.clone(),
                    ClientAuth::request_body(self.client_id.clone(), secret.clone()),
                )
                .transport(self.transport.clone())
                .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let key = TokenKey::builder(PROVIDER, self.env.key_name(), self.client_id.clone())
            .profile(self.profile)
            .scopes(self.scopes.clone())
            .build()
            .map_err(|e| ConfigError::new(format!("cannot name the stored token: {e}")))?;
        let api = ImsApi::new(
            &self.env,
            &self.client_id,
            self.secrets.first(),
            &self.transport,
        )?;
        Ok(ServerToServer {
            env: self.env,
            client_id: self.client_id,
            scopes: self.scopes,
            key,
            secrets: self.secrets,
            clients,
            prefer_second: AtomicBool::new(false),
            api,
        })
    }
}
