//! The Frame.io V2 OAuth 2 app: authorization code flow, with a secret (Basic) or PKCE only.

use std::fmt;

use async_trait::async_trait;
use frameio_auth_core::{
    AuthError, AuthorizationCode, ClientSecret, ConfigError, Scopes, TokenKey, TokenSet,
};
use frameio_auth_oauth::url::Url;
use frameio_auth_oauth::user_login::{self, Refresh, ShowUrl, UserLogin};
use frameio_auth_oauth::{
    AuthorizationRequest, ClientAuth, LoginError, LoopbackReceiver, PendingAuthorization,
    ScopeFormat, SecureUrl, TokenClient, TransportSettings,
};

use crate::scope::to_core;
use crate::{PROVIDER, V2Scope, render};

/// The production OAuth host: `https://applications.frame.io`.
pub const DEFAULT_OAUTH_BASE_URL: &str = "https://applications.frame.io";
/// The authorization endpoint path.
pub const AUTHORIZE_PATH: &str = "/oauth2/auth";
/// The token endpoint path.
pub const TOKEN_PATH: &str = "/oauth2/token";

/// A Frame.io V2 OAuth 2 app.
///
/// - With a client secret it is a confidential app: token requests authenticate with HTTP
///   Basic. Without one it is a public PKCE app: `client_id` goes in the token request body.
/// - Every authorization request carries PKCE S256 and a random `state` (both apps), and
///   scopes space-separated.
/// - Access tokens last an hour. A refresh token comes only with [`V2Scope::Offline`]; a
///   refresh keeps the old refresh token when the response carries none. Without `offline`,
///   [`begin`](Self::begin) logs a warning and, once the access token expires, [`fetch`] and
///   [`refresh`](Self::refresh) fail with [`AuthError::NeedsLogin`]
///   ([`NeedsLoginReason::NoRefreshToken`]).
/// - A refresh token known to have expired fails with [`NeedsLoginReason::RefreshTokenExpired`]
///   without a request, and a [`PendingAuthorization`] started by another app (client id or
///   redirect URI) is refused before its code is exchanged.
/// - Its [`TokenKey`] has the provider `frameio-v2`, apart from any IMS credential.
/// - It implements [`UserLogin`], the login contract of every user credential (the inherent
///   `authorization_request`, `begin`, `complete`, `complete_with_code`, `exchange_code` and
///   `login_with_loopback` are its methods), so code that takes a `&dyn UserLogin` drives it
///   like an IMS credential.
/// - Frame.io V2 documents no revocation endpoint: [`revoke`] keeps the default
///   [`Revocation::Unsupported`], and a logout only deletes the stored copy.
///
/// All OAuth mechanics (URLs, PKCE, `state`, client authentication, retries) come from
/// `frameio-auth-oauth`; this type holds only what is specific to Frame.io V2.
///
/// [`fetch`]: frameio_auth_core::TokenSource::fetch
/// [`revoke`]: frameio_auth_core::TokenSource::revoke
/// [`Revocation::Unsupported`]: frameio_auth_core::Revocation::Unsupported
/// [`NeedsLoginReason::NoRefreshToken`]: frameio_auth_core::NeedsLoginReason::NoRefreshToken
/// [`NeedsLoginReason::RefreshTokenExpired`]: frameio_auth_core::NeedsLoginReason::RefreshTokenExpired
///
/// ```
/// use frameio_auth_core::ClientSecret;
/// use frameio_auth_v2::{V2OAuthApp, V2Scope};
///
/// let app = V2OAuthApp::builder("my-client-id", "https://localhost:8443/callback")
///     .client_secret(ClientSecret::new("my-secret"))
///     .scopes([V2Scope::AccountRead, V2Scope::AssetRead, V2Scope::Offline])
///     .build()?;
/// let (url, pending) = app.begin()?;
/// assert!(url.as_str().starts_with("https://applications.frame.io/oauth2/auth?"));
/// assert!(url.query_pairs().any(|(k, v)| k == "scope" && v == "account.read asset.read offline"));
/// assert!(url.query_pairs().any(|(k, v)| k == "code_challenge_method" && v == "S256"));
/// // ... send the browser to `url`; the redirect comes back to the callback:
/// // let tokens = app.complete(&pending, &callback_url).await?;
/// # let _ = pending;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct V2OAuthApp {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<V2Scope>,
    core_scopes: Scopes,
    authorize_url: SecureUrl,
    token: TokenClient,
    confidential: bool,
    key: TokenKey,
}

impl V2OAuthApp {
    /// Starts building an app with its client id and registered redirect URI.
    pub fn builder(
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> V2OAuthAppBuilder {
        V2OAuthAppBuilder {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            client_secret: None,
            scopes: Vec::new(),
            oauth_base_url: DEFAULT_OAUTH_BASE_URL.to_owned(),
            authorize_url: None,
            token_url: None,
            environment: "prod".to_owned(),
            profile: "default".to_owned(),
            transport: TransportSettings::default(),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The requested scopes, in the order given.
    pub fn scopes(&self) -> &[V2Scope] {
        &self.scopes
    }

    /// Whether the app authenticates with a client secret (else it is a public PKCE app).
    pub fn is_confidential(&self) -> bool {
        self.confidential
    }

    /// Whether `offline` is requested (and so a refresh token is expected).
    pub fn requests_offline(&self) -> bool {
        self.scopes.contains(&V2Scope::Offline)
    }

    /// The authorization endpoint.
    pub fn authorize_url(&self) -> &SecureUrl {
        &self.authorize_url
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &SecureUrl {
        self.token.token_url()
    }

    /// The authorization request, ready to [`build`](AuthorizationRequest::build) or to adjust
    /// first (`prompt`, `login_hint`, extra parameters, where Frame.io accepts them). Scopes are
    /// space separated.
    ///
    /// Logs a warning when `offline` is not requested: the login will then end when the
    /// 1-hour access token expires.
    pub fn authorization_request(&self) -> Result<AuthorizationRequest, AuthError> {
        if !self.requests_offline() {
            tracing::warn!(
                client_id = %self.client_id,
                "the Frame.io V2 login does not request the `offline` scope: no refresh token \
                 will be issued and the user must sign in again when the access token expires \
                 (after 1 hour)"
            );
        }
        Ok(AuthorizationRequest::new(
            self.authorize_url.clone(),
            self.client_id.clone(),
            self.redirect_uri.clone(),
        )
        .scopes(&self.core_scopes, ScopeFormat::SpaceSeparated))
    }

    /// Starts a login: the URL to send the browser to, and the [`PendingAuthorization`] to keep
    /// until the redirect comes back (it checks `state` and holds the PKCE verifier). Warns
    /// like [`authorization_request`](Self::authorization_request) without `offline`.
    pub fn begin(&self) -> Result<(Url, PendingAuthorization), AuthError> {
        UserLogin::begin(self)
    }

    /// Finishes a login from the redirect URL the browser came back with: checks that
    /// `pending` was started by this app and the redirect's `state` (or the `error` it
    /// carries), and exchanges the code.
    pub async fn complete(
        &self,
        pending: &PendingAuthorization,
        callback_url: &Url,
    ) -> Result<TokenSet, AuthError> {
        UserLogin::complete(self, pending, callback_url).await
    }

    /// [`complete`](Self::complete) from the `code` and `state` query values.
    pub async fn complete_with_code(
        &self,
        pending: &PendingAuthorization,
        code: &str,
        state: &str,
    ) -> Result<TokenSet, AuthError> {
        UserLogin::complete_with_code(self, pending, code, state).await
    }

    /// Exchanges an authorization code already checked against `pending` (for example by a
    /// [`LoopbackReceiver`]; see [`login_with_loopback`](Self::login_with_loopback)). A
    /// `pending` started by another app (client id or redirect URI) is refused with a
    /// configuration error, before any request.
    pub async fn exchange_code(
        &self,
        pending: &PendingAuthorization,
        code: AuthorizationCode,
    ) -> Result<TokenSet, AuthError> {
        pending.check_issued_for(&self.client_id, &self.redirect_uri)?;
        let tokens = self.token.request_token(&pending.token_grant(code)).await?;
        tracing::debug!(
            refresh_token = tokens.refresh_token().is_some(),
            "Frame.io V2 code exchanged"
        );
        Ok(tokens.with_requested_scopes_if_absent(&self.core_scopes))
    }

    /// The whole login of a command-line or desktop app: checks that `receiver` listens at
    /// this app's redirect URI, [`begin`](Self::begin)s, hands the URL to `show_url` (print
    /// it, open a browser) while it waits for the redirect, then
    /// [`exchange_code`](Self::exchange_code)s.
    ///
    /// Build the app with the receiver's [`redirect_uri`](LoopbackReceiver::redirect_uri) (or
    /// bind the receiver to the registered port); otherwise
    /// [`LoginError::RedirectUriMismatch`], before anything is shown. An error redirect or a
    /// failed exchange is [`LoginError::Auth`]; a receiver failure (its deadline)
    /// [`LoginError::Loopback`].
    pub async fn login_with_loopback(
        &self,
        receiver: LoopbackReceiver,
        show_url: ShowUrl,
    ) -> Result<TokenSet, LoginError> {
        UserLogin::login_with_loopback(self, receiver, show_url).await
    }

    /// Refreshes `current` with `grant_type=refresh_token`, with the rules of the oauth crate's
    /// [`Refresh`]. The grant repeats the scopes `current` was granted (never more: the app
    /// may have asked for scopes Frame.io did not grant), or the requested ones when
    /// `current` names none. Keeps the old refresh token when the response carries none.
    ///
    /// Without a refresh token (no `offline`): returns `current` unchanged while its access
    /// token is still valid, and [`AuthError::NeedsLogin`] with
    /// [`NeedsLoginReason::NoRefreshToken`] once it has expired. A refresh token known to have
    /// expired: [`NeedsLoginReason::RefreshTokenExpired`], without a request.
    ///
    /// [`NeedsLoginReason::NoRefreshToken`]: frameio_auth_core::NeedsLoginReason::NoRefreshToken
    /// [`NeedsLoginReason::RefreshTokenExpired`]: frameio_auth_core::NeedsLoginReason::RefreshTokenExpired
    pub async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, AuthError> {
        Refresh::new(&self.token, &self.core_scopes)
            .repeat_scopes(ScopeFormat::SpaceSeparated)
            .run(current, self.token.clock().now())
            .await
    }
}

impl fmt::Debug for V2OAuthApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V2OAuthApp")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &render(&self.scopes))
            .field("authorize_url", &self.authorize_url)
            .field("token", &self.token)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl frameio_auth_core::TokenSource for V2OAuthApp {
    /// Refreshes `current` (see [`V2OAuthApp::refresh`]). With no current set there is nothing
    /// to refresh: [`NeedsLoginReason::NoStoredLogin`].
    ///
    /// [`NeedsLoginReason::NoStoredLogin`]: frameio_auth_core::NeedsLoginReason::NoStoredLogin
    async fn fetch<'a>(&self, current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
        self.refresh(user_login::require_stored_login(current, &self.key)?)
            .await
    }

    fn key(&self) -> TokenKey {
        self.key.clone()
    }
}

/// The one login contract every user credential shares; the inherent methods of the same
/// names are these.
#[async_trait]
impl UserLogin for V2OAuthApp {
    fn client_id(&self) -> &str {
        &self.client_id
    }

    fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    fn authorization_request(&self) -> Result<AuthorizationRequest, AuthError> {
        V2OAuthApp::authorization_request(self)
    }

    async fn exchange_code(
        &self,
        pending: &PendingAuthorization,
        code: AuthorizationCode,
    ) -> Result<TokenSet, AuthError> {
        V2OAuthApp::exchange_code(self, pending, code).await
    }
}

/// Builds a [`V2OAuthApp`].
pub struct V2OAuthAppBuilder {
    client_id: String,
    redirect_uri: String,
    client_secret: Option<ClientSecret>,
    scopes: Vec<V2Scope>,
    oauth_base_url: String,
    authorize_url: Option<String>,
    token_url: Option<String>,
    environment: String,
    profile: String,
    transport: TransportSettings,
}

impl fmt::Debug for V2OAuthAppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V2OAuthAppBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scopes", &render(&self.scopes))
            .finish_non_exhaustive()
    }
}

impl V2OAuthAppBuilder {
    /// The client secret of a confidential app (sent with HTTP Basic). Without one, the app is
    /// a public PKCE app.
    #[must_use]
    pub fn client_secret(mut self, secret: ClientSecret) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// The scopes to request (added to any given before). Include [`V2Scope::Offline`] for a
    /// refresh token.
    #[must_use]
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = V2Scope>) -> Self {
        self.scopes.extend(scopes);
        self
    }

    /// The OAuth host (default [`DEFAULT_OAUTH_BASE_URL`]); the endpoints are
    /// [`AUTHORIZE_PATH`] and [`TOKEN_PATH`] under it. `https`, or `http` on loopback only.
    #[must_use]
    pub fn oauth_base_url(mut self, url: impl Into<String>) -> Self {
        self.oauth_base_url = url.into();
        self
    }

    /// The authorization endpoint, overriding the one derived from the base URL.
    #[must_use]
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }

    /// The token endpoint, overriding the one derived from the base URL.
    #[must_use]
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The environment part of the [`TokenKey`] (default `prod`). Set another one when
    /// pointing the app at another server, so its tokens are stored apart.
    #[must_use]
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = environment.into();
        self
    }

    /// The profile part of the [`TokenKey`] (default `default`).
    #[must_use]
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = profile.into();
        self
    }

    /// How the app talks HTTP: timeouts, retries, extra root certificates, proxy, user agent,
    /// and the clock (token times, expiry checks) and sleeper (tests give a
    /// [`ManualClock`](frameio_auth_core::ManualClock) as both). Default:
    /// [`TransportSettings::default`].
    #[must_use]
    pub fn transport(mut self, settings: TransportSettings) -> Self {
        self.transport = settings;
        self
    }

    /// Checks the settings and builds the app.
    pub fn build(self) -> Result<V2OAuthApp, ConfigError> {
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::new("the Frame.io V2 client id is empty"));
        }
        let base = self.oauth_base_url.trim_end_matches('/');
        let authorize_url = SecureUrl::parse(
            &self
                .authorize_url
                .unwrap_or_else(|| format!("{base}{AUTHORIZE_PATH}")),
        )?;
        let token_url = SecureUrl::parse(
            &self
                .token_url
                .unwrap_or_else(|| format!("{base}{TOKEN_PATH}")),
        )?;
        let core_scopes = to_core(&self.scopes)?;
        let confidential = self.client_secret.is_some();
        let auth = match self.client_secret {
            Some(secret) => ClientAuth::basic(self.client_id.clone(), secret),
            None => ClientAuth::public(self.client_id.clone()),
        };
        let token = TokenClient::builder(token_url, auth)
            .transport(self.transport)
            .build()?;
        // Check the redirect URI now rather than at the first `begin()`.
        AuthorizationRequest::new(
            authorize_url.clone(),
            self.client_id.clone(),
            self.redirect_uri.clone(),
        )
        .build()
        .map_err(|e| match e {
            AuthError::Config(config) => config,
            other => ConfigError::new(other.to_string()),
        })?;
        let key = TokenKey::builder(PROVIDER, self.environment, self.client_id.clone())
            .profile(self.profile)
            .scopes(core_scopes.clone())
            .build()
            .map_err(|e| ConfigError::new(e.to_string()))?;
        Ok(V2OAuthApp {
            client_id: self.client_id,
            redirect_uri: self.redirect_uri,
            scopes: self.scopes,
            core_scopes,
            authorize_url,
            token,
            confidential,
            key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_client_modes() {
        let app = V2OAuthApp::builder("cid", "http://127.0.0.1:9/callback")
            .scopes([V2Scope::AccountRead])
            .build()
            .unwrap();
        assert!(!app.is_confidential());
        assert!(!app.requests_offline());
        assert_eq!(
            app.authorize_url().as_str(),
            "https://applications.frame.io/oauth2/auth"
        );
        assert_eq!(
            app.token_url().as_str(),
            "https://applications.frame.io/oauth2/token"
        );
        let app = V2OAuthApp::builder("cid", "https://localhost/cb")
            .client_secret(ClientSecret::new("s3cr3t-value"))
            .oauth_base_url("http://127.0.0.1:1234/")
            .build()
            .unwrap();
        assert!(app.is_confidential());
        assert_eq!(
            app.token_url().as_str(),
            "http://127.0.0.1:1234/oauth2/token"
        );
        assert!(!format!("{app:?}").contains("s3cr3t-value"));
        assert_eq!(
            frameio_auth_core::TokenSource::key(&app).provider(),
            "frameio-v2"
        );
    }

    /// An app whose token endpoint refuses connections: a request would be a transient error.
    fn unreachable_app(redirect_uri: &str, clock: frameio_auth_core::ManualClock) -> V2OAuthApp {
        V2OAuthApp::builder("cid", redirect_uri)
            .scopes([V2Scope::AccountRead, V2Scope::Offline])
            .oauth_base_url("http://127.0.0.1:1")
            .transport(
                TransportSettings::new()
                    .clock(clock)
                    .retry_policy(frameio_auth_oauth::RetryPolicy::no_retries()),
            )
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_refresh_token_known_expired_needs_login_without_a_request() {
        use frameio_auth_core::{
            AccessToken, Lifetime, NeedsLoginReason, RefreshToken, Timestamp, TokenSource as _,
        };
        let now = Timestamp::from_unix_secs(1_700_000_000);
        let app = unreachable_app(
            "http://127.0.0.1:9/callback",
            frameio_auth_core::ManualClock::new(now),
        );
        let current = TokenSet::new(
            AccessToken::new("at"),
            Timestamp::from_unix_secs(1_600_000_000),
            Lifetime::ExpiresIn(std::time::Duration::from_secs(3600)),
        )
        .with_refresh_token(
            RefreshToken::new("rt"),
            Some(Timestamp::from_unix_secs(1_650_000_000)),
        );
        for err in [
            app.refresh(&current).await.unwrap_err(),
            app.fetch(Some(&current)).await.unwrap_err(),
        ] {
            assert!(
                matches!(
                    err,
                    AuthError::NeedsLogin {
                        reason: NeedsLoginReason::RefreshTokenExpired,
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_pending_authorization_of_another_app_is_refused_before_the_exchange() {
        use frameio_auth_core::{ErrorKind, Timestamp};
        let clock = frameio_auth_core::ManualClock::new(Timestamp::from_unix_secs(1_700_000_000));
        let ours = unreachable_app("http://127.0.0.1:9/callback", clock.clone());
        let theirs = unreachable_app("http://127.0.0.1:9/other", clock);
        let (_url, pending) = theirs.begin().unwrap();
        let err = ours
            .exchange_code(&pending, AuthorizationCode::new("code"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
        let callback = Url::parse(&format!(
            "http://127.0.0.1:9/other?code=code&state={}",
            pending.state().expose_secret()
        ))
        .unwrap();
        let err = ours.complete(&pending, &callback).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
        // Its own app still takes it (and fails only at the unreachable endpoint).
        let err = theirs
            .exchange_code(&pending, AuthorizationCode::new("code"))
            .await
            .unwrap_err();
        assert_ne!(err.kind(), ErrorKind::Configuration, "{err}");
    }

    #[test]
    fn bad_settings_are_refused() {
        let base = || V2OAuthApp::builder("cid", "https://localhost/cb");
        assert!(base().oauth_base_url("http://example.com").build().is_err());
        assert!(base().token_url("ftp://127.0.0.1/t").build().is_err());
        assert!(
            V2OAuthApp::builder(" ", "https://localhost/cb")
                .build()
                .is_err()
        );
        assert!(
            V2OAuthApp::builder("cid", "http://example.com/cb")
                .build()
                .is_err()
        );
        assert!(base().client_secret(ClientSecret::new("")).build().is_err());
        assert!(
            base()
                .scopes([V2Scope::Other("a b".into())])
                .build()
                .is_err()
        );
    }
}
