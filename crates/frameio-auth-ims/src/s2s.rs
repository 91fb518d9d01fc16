//! OAuth Server-to-Server credentials: `client_credentials`, one or two secrets.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use frameio_auth_core::{
    AccessToken, AuthError, ClientSecret, ConfigError, ErrorKind, Scopes, TokenKey, TokenSet,
    TokenSource,
};
use frameio_auth_oauth::{ClientAuth, Grant, ScopeFormat, TokenClient};
use tokio::sync::Mutex;

use crate::api::ImsApi;
use crate::responses::{ImsTokenType, TokenValidation};
use crate::transport::{Transport, transport_setters};
use crate::{ImsEnvironment, PROVIDER, enrich_token_set};

/// How long before expiry [`ServerToServer::access_token`] stops reusing its cached token:
/// 5 minutes.
pub const DEFAULT_REUSE_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The profile used in [`TokenKey`]s unless another is set.
pub const DEFAULT_PROFILE: &str = "default";

/// An OAuth Server-to-Server credential: a client id, one or two client secrets and scopes.
///
/// Tokens come from `client_credentials` on `/ims/token/v3`, with `client_id`,
/// `client_secret` and the scopes **comma separated** in the body. There is no refresh token:
/// a new token is requested when the old one runs out. Adobe throttles integrations that mint
/// a token per API call, so cache it: [`access_token`](Self::access_token) reuses its token
/// until [`DEFAULT_REUSE_MARGIN`] before expiry (one request at a time), and a
/// `TokenManager` over this [`TokenSource`] does the same with persistence.
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
/// let tokens = s2s.access_token().await?;
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
    transport: Transport,
    reuse_margin: Duration,
    cache: Mutex<Option<TokenSet>>,
    /// Held while a token is requested for `access_token`, so callers share one request.
    flight: Mutex<()>,
}

/// Builds a [`ServerToServer`] credential.
#[derive(Debug)]
pub struct ServerToServerBuilder {
    env: ImsEnvironment,
    client_id: String,
    secrets: Vec<ClientSecret>,
    scopes: Scopes,
    profile: String,
    reuse_margin: Duration,
    transport: Transport,
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
            reuse_margin: DEFAULT_REUSE_MARGIN,
            transport: Transport::default(),
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

    /// Requests a new token (`client_credentials`), whatever is cached. Prefer
    /// [`access_token`](Self::access_token).
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
        let tokens = enrich_token_set(tokens.with_requested_scopes_if_absent(&self.scopes));
        *self.cache.lock().await = Some(tokens.clone());
        Ok(tokens)
    }

    /// A token that is valid for at least the reuse margin: the cached one, or a new one.
    /// Concurrent callers wait for one request rather than each sending their own.
    pub async fn access_token(&self) -> Result<TokenSet, AuthError> {
        {
            let cached = self.cache.lock().await;
            if let Some(tokens) = cached.as_ref().filter(|t| self.still_good(t)) {
                return Ok(tokens.clone());
            }
        }
        let _single_flight = self.flight.lock().await;
        {
            let cached = self.cache.lock().await;
            if let Some(tokens) = cached.as_ref().filter(|t| self.still_good(t)) {
                return Ok(tokens.clone());
            }
        }
        self.request_new_token().await
    }

    fn still_good(&self, tokens: &TokenSet) -> bool {
        let now = self.transport.clock.now();
        tokens
            .remaining(now)
            .is_none_or(|left| left > self.reuse_margin)
    }

    /// The secret to use for calls that need one (the one that last worked).
    fn current_secret(&self) -> &ClientSecret {
        let index = usize::from(self.prefer_second.load(Ordering::Relaxed));
        &self.secrets[index.min(self.secrets.len() - 1)]
    }

    /// Revokes `token` (`/ims/revoke`, Basic authentication with the secret that last worked).
    pub async fn revoke(&self, token: &AccessToken) -> Result<(), AuthError> {
        let auth = ClientAuth::basic(self.client_id.clone(), self.current_secret().clone());
        self.api.revoke_as(token.expose_secret(), &auth).await?;
        self.forget(token).await;
        Ok(())
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
            .await?;
        self.forget(token).await;
        Ok(())
    }

    /// Asks IMS whether `token` is valid (`/ims/validate_token/v1`).
    pub async fn validate(&self, token: &AccessToken) -> Result<TokenValidation, AuthError> {
        self.api
            .validate(token.expose_secret(), ImsTokenType::AccessToken)
            .await
    }

    async fn forget(&self, token: &AccessToken) {
        let mut cached = self.cache.lock().await;
        if cached.as_ref().is_some_and(|t| t.access_token() == token) {
            *cached = None;
        }
    }
}

#[async_trait]
impl TokenSource for ServerToServer {
    /// Requests a new token: S2S has no refresh token, so `current` is not used. The caller
    /// (a `TokenManager`) decides when; it must cache.
    async fn fetch<'a>(&self, _current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
        self.request_new_token().await
    }

    fn key(&self) -> TokenKey {
        self.key.clone()
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

    /// How long before expiry [`ServerToServer::access_token`] requests a new token. Default:
    /// [`DEFAULT_REUSE_MARGIN`].
    #[must_use]
    pub fn reuse_margin(mut self, margin: Duration) -> Self {
        self.reuse_margin = margin;
        self
    }

    transport_setters!();

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
                self.transport.token_client(
                    token_url.clone(),
                    ClientAuth::request_body(self.client_id.clone(), secret.clone()),
                )
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
            transport: self.transport,
            reuse_margin: self.reuse_margin,
            cache: Mutex::new(None),
            flight: Mutex::new(()),
        })
    }
}
