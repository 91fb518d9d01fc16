//! User credentials: OAuth Web App (confidential), Single Page App and Native App (public, PKCE).

use std::fmt;
use std::marker::PhantomData;

use async_trait::async_trait;
use frameio_auth_core::{
    AccessToken, AuthError, AuthorizationCode, ClientSecret, ConfigError, RefreshToken, Revocation,
    Scopes, TokenKey, TokenSet, TokenSource,
};
use frameio_auth_oauth::user_login::{self, Refresh, ShowUrl, UserLogin};
use frameio_auth_oauth::{
    AuthorizationRequest, ClientAuth, LoginError, LoopbackReceiver, PendingAuthorization,
    ScopeFormat, TokenClient, TransportSettings, is_loopback_host,
};
use url::Url;

use crate::api::ImsApi;
use crate::responses::{ImsTokenType, Organization, Profile, TokenValidation, UserInfo};
use crate::s2s::DEFAULT_PROFILE;
use crate::{ImsEnvironment, PROVIDER, enrich_token_set, with_authorize_hint};

mod sealed {
    pub trait Sealed {}
}

/// The kind of a user credential: [`WebAppKind`], [`SinglePageAppKind`] or
/// [`NativeAppKind`]. Sealed: the three kinds IMS offers are all there is.
pub trait CredentialKind: sealed::Sealed + Send + Sync + 'static {
    /// A name for messages (`OAuth Web App`...).
    const NAME: &'static str;
}

/// OAuth Web App: a confidential client (client secret), redirect URI over HTTPS.
#[derive(Clone, Copy, Debug)]
pub enum WebAppKind {}
/// OAuth Single Page App: a public client (no secret, PKCE S256), redirect URI over HTTPS.
#[derive(Clone, Copy, Debug)]
pub enum SinglePageAppKind {}
/// OAuth Native App: a public client (no secret, PKCE S256), redirect URI with Adobe's custom
/// scheme (`adobe+<hash>://callback`) or on loopback.
#[derive(Clone, Copy, Debug)]
pub enum NativeAppKind {}

impl sealed::Sealed for WebAppKind {}
impl sealed::Sealed for SinglePageAppKind {}
impl sealed::Sealed for NativeAppKind {}
impl CredentialKind for WebAppKind {
    const NAME: &'static str = "OAuth Web App";
}
impl CredentialKind for SinglePageAppKind {
    const NAME: &'static str = "OAuth Single Page App";
}
impl CredentialKind for NativeAppKind {
    const NAME: &'static str = "OAuth Native App";
}

/// An OAuth Web App credential. See [`UserCredential`].
pub type WebApp = UserCredential<WebAppKind>;
/// An OAuth Single Page App credential. See [`UserCredential`].
pub type SinglePageApp = UserCredential<SinglePageAppKind>;
/// An OAuth Native App credential. See [`UserCredential`].
pub type NativeApp = UserCredential<NativeAppKind>;

/// A user credential of kind `K`: [`WebApp`], [`SinglePageApp`] or [`NativeApp`].
///
/// The user flow:
/// 1. [`begin`](Self::begin) gives the `/ims/authorize/v2` URL to open (always with PKCE
///    S256 and a random `state`) and a serializable [`PendingAuthorization`] to keep;
/// 2. [`complete`](Self::complete) checks the redirect's `state`, exchanges the code on
///    `/ims/token/v3` and returns a [`TokenSet`];
/// 3. [`refresh`](Self::refresh) (or [`TokenSource::fetch`]) renews it with the refresh token
///    (IMS issues one with `offline_access`). Each refresh returns a new refresh token, which
///    replaces the old (spent) one; if a response had none, the previous one is kept. Without
///    any refresh token, an expired login is a typed needs-login error.
///
/// A command-line or desktop app does 1 and 2 in one call with a
/// [`LoopbackReceiver`]: [`login_with_loopback`](Self::login_with_loopback). A logout is
/// [`TokenSource::revoke`]: it revokes the login at IMS (its refresh token, which ends the
/// grant, else its access token).
///
/// These steps are the [`UserLogin`] contract, which every user credential (IMS and Frame.io
/// V2) implements with the same names: code that takes a `&dyn UserLogin` drives any of them.
///
/// Adobe's docs say SPA and Native App credentials get no refresh token, while Adobe's own
/// Frame.io SDK refreshes them: both outcomes work here.
///
/// The builders make wrong combinations unrepresentable. A public client has no secret:
///
/// ```compile_fail
/// use frameio_auth_core::ClientSecret;
/// use frameio_auth_ims::{ImsEnvironment, SinglePageApp};
///
/// let spa = SinglePageApp::builder(ImsEnvironment::Production, "id", "https://localhost/cb")
///     .client_secret(ClientSecret::new("s")) // no such method
///     .build();
/// ```
///
/// a Web App cannot be built without one:
///
/// ```compile_fail
/// use frameio_auth_ims::{ImsEnvironment, WebApp};
///
/// let web = WebApp::builder(ImsEnvironment::Production, "id", "https://localhost/cb").build();
/// ```
///
/// and PKCE cannot be switched off, for any kind:
///
/// ```compile_fail
/// use frameio_auth_ims::{ImsEnvironment, NativeApp};
///
/// let native = NativeApp::builder(ImsEnvironment::Production, "id", "adobe+abc://callback")
///     .without_pkce() // no such method
///     .build();
/// ```
///
/// What types cannot express is checked by `build`: a Web App or SPA redirect URI must be
/// `https` (IMS requires it even on localhost), a Native App's a custom scheme or loopback.
///
/// ```
/// use frameio_auth_ims::{presets, ImsEnvironment, SinglePageApp};
///
/// let err = SinglePageApp::builder(ImsEnvironment::Production, "id", "http://app.example/cb")
///     .scopes(presets::frameio_v4_user())
///     .build()
///     .unwrap_err();
/// assert!(err.message().contains("https"));
/// ```
pub struct UserCredential<K: CredentialKind> {
    env: ImsEnvironment,
    client_id: String,
    redirect_uri: String,
    scopes: Scopes,
    key: TokenKey,
    tokens: TokenClient,
    api: ImsApi,
    kind: PhantomData<fn() -> K>,
}

/// Builds a [`UserCredential`].
pub struct UserCredentialBuilder<K: CredentialKind> {
    env: ImsEnvironment,
    client_id: String,
    secret: Option<ClientSecret>,
    secret_in_body: bool,
    redirect_uri: String,
    scopes: Scopes,
    profile: String,
    transport: TransportSettings,
    kind: PhantomData<fn() -> K>,
}

impl UserCredential<WebAppKind> {
    /// Starts a Web App credential: client id, client secret and the registered redirect URI
    /// (HTTPS).
    pub fn builder(
        env: ImsEnvironment,
        client_id: impl Into<String>,
        client_secret: ClientSecret,
        redirect_uri: impl Into<String>,
    ) -> UserCredentialBuilder<WebAppKind> {
        UserCredentialBuilder::new(
            env,
            client_id.into(),
            Some(client_secret),
            redirect_uri.into(),
        )
    }
}

impl UserCredential<SinglePageAppKind> {
    /// Starts a Single Page App credential: client id and the registered redirect URI
    /// (HTTPS). A public client: no secret, PKCE S256.
    pub fn builder(
        env: ImsEnvironment,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> UserCredentialBuilder<SinglePageAppKind> {
        UserCredentialBuilder::new(env, client_id.into(), None, redirect_uri.into())
    }
}

impl UserCredential<NativeAppKind> {
    /// Starts a Native App credential: client id and the redirect URI (Adobe's custom scheme
    /// `adobe+<hash>://callback`, or a loopback URI). A public client: no secret, PKCE S256.
    pub fn builder(
        env: ImsEnvironment,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> UserCredentialBuilder<NativeAppKind> {
        UserCredentialBuilder::new(env, client_id.into(), None, redirect_uri.into())
    }
}

impl<K: CredentialKind> UserCredentialBuilder<K> {
    fn new(
        env: ImsEnvironment,
        client_id: String,
        secret: Option<ClientSecret>,
        redirect_uri: String,
    ) -> Self {
        Self {
            env,
            client_id,
            secret,
            secret_in_body: false,
            redirect_uri,
            scopes: Scopes::new(),
            profile: DEFAULT_PROFILE.to_owned(),
            transport: TransportSettings::default(),
            kind: PhantomData,
        }
    }

    /// The scopes to request (see [`presets::frameio_v4_user`](crate::presets::frameio_v4_user)).
    /// Include `offline_access` to get a refresh token.
    #[must_use]
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// The profile part of the [`TokenKey`] (a named login; default `default`).
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
    pub fn build(self) -> Result<UserCredential<K>, ConfigError> {
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::new("the IMS client id is empty"));
        }
        if self.secret.as_ref().is_some_and(ClientSecret::is_blank) {
            return Err(ConfigError::new("the IMS client secret is empty"));
        }
        if self.scopes.is_empty() {
            return Err(ConfigError::new(
                "a user credential needs scopes (IMS refuses an authorization request without them); \
                 set .scopes(...), for example presets::frameio_v4_user()",
            ));
        }
        check_redirect_uri::<K>(&self.redirect_uri)?;
        let auth = match &self.secret {
            Some(secret) if self.secret_in_body => {
                ClientAuth::request_body(self.client_id.clone(), secret.clone())
            }
            Some(secret) => ClientAuth::basic(self.client_id.clone(), secret.clone()),
            None => ClientAuth::public(self.client_id.clone()),
        };
        let tokens = TokenClient::builder(self.env.token_url()?, auth)
            .transport(self.transport.clone())
            .build()?;
        let api = ImsApi::new(
            &self.env,
            &self.client_id,
            self.secret.as_ref(),
            &self.transport,
        )?;
        let key = TokenKey::builder(PROVIDER, self.env.key_name(), self.client_id.clone())
            .profile(self.profile)
            .scopes(self.scopes.clone())
            .build()
            .map_err(|e| ConfigError::new(format!("cannot name the stored token: {e}")))?;
        Ok(UserCredential {
            env: self.env,
            client_id: self.client_id,
            redirect_uri: self.redirect_uri,
            scopes: self.scopes,
            key,
            tokens,
            api,
            kind: PhantomData,
        })
    }
}

impl UserCredentialBuilder<WebAppKind> {
    /// Sends `client_id` and `client_secret` in the request body (`client_secret_post`, as
    /// Frame.io's Postman collection does) instead of HTTP Basic (the default, as IMS documents).
    #[must_use]
    pub fn client_auth_in_body(mut self) -> Self {
        self.secret_in_body = true;
        self
    }
}

/// Web App and SPA: `https` only. Native App: a private-use scheme, or loopback.
fn check_redirect_uri<K: CredentialKind>(redirect_uri: &str) -> Result<(), ConfigError> {
    let url = Url::parse(redirect_uri).map_err(|e| {
        ConfigError::new(format!(
            "the redirect URI of the {} is not a valid URL: {e}",
            K::NAME
        ))
    })?;
    if url.fragment().is_some() {
        return Err(ConfigError::new(
            "the redirect URI must not have a fragment",
        ));
    }
    let native = K::NAME == NativeAppKind::NAME;
    let loopback = url.host().is_some_and(|h| is_loopback_host(&h));
    let ok = match url.scheme() {
        "https" => true,
        "http" => native && loopback,
        // RFC 8252 §7.1 private-use schemes: Adobe's `adobe+<hash>`, or reverse-DNS names.
        scheme => native && (scheme.starts_with("adobe+") || scheme.contains('.')),
    };
    if ok {
        Ok(())
    } else if native {
        Err(ConfigError::new(format!(
            "the redirect URI `{redirect_uri}` of an {} must use the custom scheme Adobe assigned \
             (adobe+<hash>://callback) or a loopback address (http://127.0.0.1:<port>/...)",
            K::NAME
        )))
    } else {
        Err(ConfigError::new(format!(
            "the redirect URI `{redirect_uri}` of an {} must use https: IMS requires it, even for \
             localhost (https://localhost:<port>/...)",
            K::NAME
        )))
    }
}

impl<K: CredentialKind> UserCredential<K> {
    /// The environment.
    pub fn environment(&self) -> &ImsEnvironment {
        &self.env
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The requested scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// The authorization request for this credential, ready to [`build`](AuthorizationRequest::build)
    /// or to adjust first (`prompt`, `login_hint`, `nonce`). Scopes are space separated.
    pub fn authorization_request(&self) -> Result<AuthorizationRequest, AuthError> {
        Ok(AuthorizationRequest::new(
            self.env.authorize_url()?,
            self.client_id.clone(),
            self.redirect_uri.clone(),
        )
        .scopes(&self.scopes, ScopeFormat::SpaceSeparated))
    }

    /// Starts a login: the URL to open in the browser and the pending request to keep (for a
    /// web server, in the session: it holds the PKCE verifier and `state`).
    pub fn begin(&self) -> Result<(Url, PendingAuthorization), AuthError> {
        UserLogin::begin(self)
    }

    /// Finishes a login from the redirect URL the browser came back with: checks that
    /// `pending` is this credential's and the `state`, turns an `error=` redirect into a typed
    /// error (with a hint for `invalid_scope`), and exchanges the code.
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

    /// Exchanges a code whose `state` was already checked (by a [`LoopbackReceiver`]; see
    /// [`login_with_loopback`](Self::login_with_loopback) for the whole sequence). A
    /// `pending` started by another credential is refused with a configuration error, before
    /// any request.
    pub async fn exchange_code(
        &self,
        pending: &PendingAuthorization,
        code: AuthorizationCode,
    ) -> Result<TokenSet, AuthError> {
        pending.check_issued_for(&self.client_id, &self.redirect_uri)?;
        let tokens = self
            .tokens
            .request_token(&pending.token_grant(code))
            .await?;
        Ok(enrich_token_set(
            tokens.with_requested_scopes_if_absent(&self.scopes),
        ))
    }

    /// The whole login of a command-line or desktop app: checks that `receiver` listens at
    /// this credential's redirect URI, [`begin`](Self::begin)s, hands the URL to `show_url`
    /// (print it, open a browser) while it waits for the redirect, then
    /// [`exchange_code`](Self::exchange_code)s.
    ///
    /// Build the credential with the receiver's
    /// [`redirect_uri`](LoopbackReceiver::redirect_uri) (or bind the receiver to the registered
    /// port); otherwise [`LoginError::RedirectUriMismatch`], before anything is shown. An
    /// error redirect is [`LoginError::Auth`], with the [`with_authorize_hint`] advice for
    /// `invalid_scope`; a receiver failure (its deadline) is [`LoginError::Loopback`].
    ///
    /// ```no_run
    /// use frameio_auth_core::ClientSecret;
    /// use frameio_auth_ims::{ImsEnvironment, WebApp, presets};
    /// use frameio_auth_oauth::LoopbackReceiver;
    /// use frameio_auth_oauth::user_login::ShowUrl;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let receiver = LoopbackReceiver::builder()
    ///     .https()
    ///     .port(8443)
    ///     .bind()
    ///     .await?
    ///     .into_receiver();
    /// let web = WebApp::builder(
    ///     ImsEnvironment::Production,
    ///     "my-client-id",
    ///     ClientSecret::new("my-secret"),
    ///     receiver.redirect_uri(),
    /// )
    /// .scopes(presets::frameio_v4_user())
    /// .build()?;
    /// let tokens = web
    ///     .login_with_loopback(receiver, ShowUrl::new(|url| println!("Open {url} to sign in")))
    ///     .await?;
    /// # let _ = tokens;
    /// # Ok(()) }
    /// ```
    pub async fn login_with_loopback(
        &self,
        receiver: LoopbackReceiver,
        show_url: ShowUrl,
    ) -> Result<TokenSet, LoginError> {
        UserLogin::login_with_loopback(self, receiver, show_url).await
    }

    /// Renews `current` with its refresh token (the rules of the oauth crate's
    /// [`Refresh`], plus the IMS token claims).
    ///
    /// - The new refresh token replaces the old one (IMS rotates them; the old one is spent);
    ///   if the response has none, the old one is kept.
    /// - No refresh token: while the access token is valid, `current` is returned unchanged
    ///   (nothing can renew it, it can still be used); once it has expired, a needs-login
    ///   error ([`NeedsLoginReason::NoRefreshToken`]).
    /// - A refresh token known to have expired (IMS's `rtea`): a needs-login error
    ///   ([`NeedsLoginReason::RefreshTokenExpired`]), without a request.
    /// - A refresh token IMS refuses (spent, revoked): `invalid_grant`, a needs-login error.
    ///
    /// [`NeedsLoginReason::NoRefreshToken`]: frameio_auth_core::NeedsLoginReason::NoRefreshToken
    /// [`NeedsLoginReason::RefreshTokenExpired`]: frameio_auth_core::NeedsLoginReason::RefreshTokenExpired
    pub async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, AuthError> {
        Refresh::new(&self.tokens, &self.scopes)
            .map_response(enrich_token_set)
            .run(current, self.tokens.clock().now())
            .await
    }

    /// Revokes one access token. A whole login is revoked with [`TokenSource::revoke`].
    pub async fn revoke_access_token(&self, token: &AccessToken) -> Result<(), AuthError> {
        self.api.revoke(token.expose_secret()).await
    }

    /// Revokes one refresh token (and with it the grant's access tokens).
    pub async fn revoke_refresh_token(&self, token: &RefreshToken) -> Result<(), AuthError> {
        self.api.revoke(token.expose_secret()).await
    }

    /// Invalidates a login (`/ims/invalidate_token/v2`): its refresh token with
    /// `cascading=all` (the grant's access tokens die too) if it has one, otherwise its access
    /// token.
    pub async fn invalidate(&self, tokens: &TokenSet) -> Result<(), AuthError> {
        match tokens.refresh_token() {
            Some(refresh) => self.invalidate_refresh_token(refresh, true).await,
            None => self.invalidate_access_token(tokens.access_token()).await,
        }
    }

    /// Invalidates one access token.
    pub async fn invalidate_access_token(&self, token: &AccessToken) -> Result<(), AuthError> {
        self.api
            .invalidate(
                token.expose_secret(),
                ImsTokenType::AccessToken,
                false,
                None,
            )
            .await
    }

    /// Invalidates one refresh token; with `cascading`, the access tokens issued from its grant
    /// as well.
    pub async fn invalidate_refresh_token(
        &self,
        token: &RefreshToken,
        cascading: bool,
    ) -> Result<(), AuthError> {
        self.api
            .invalidate(
                token.expose_secret(),
                ImsTokenType::RefreshToken,
                cascading,
                None,
            )
            .await
    }

    /// Asks IMS whether an access token is valid (`/ims/validate_token/v1`).
    pub async fn validate_access_token(
        &self,
        token: &AccessToken,
    ) -> Result<TokenValidation, AuthError> {
        self.api
            .validate(token.expose_secret(), ImsTokenType::AccessToken)
            .await
    }

    /// Asks IMS whether a refresh token is valid.
    pub async fn validate_refresh_token(
        &self,
        token: &RefreshToken,
    ) -> Result<TokenValidation, AuthError> {
        self.api
            .validate(token.expose_secret(), ImsTokenType::RefreshToken)
            .await
    }

    /// The signed-in user (`/ims/userinfo/v2`); fields depend on the `profile` and `email`
    /// scopes.
    pub async fn userinfo(&self, token: &AccessToken) -> Result<UserInfo, AuthError> {
        self.api.userinfo(token).await
    }

    /// The IMS profile (`/ims/profile/v1`).
    pub async fn profile(&self, token: &AccessToken) -> Result<Profile, AuthError> {
        self.api.profile(token).await
    }

    /// The user's organizations (`/ims/organizations/v5`).
    pub async fn organizations(&self, token: &AccessToken) -> Result<Vec<Organization>, AuthError> {
        self.api.organizations(token).await
    }
}

#[async_trait]
impl<K: CredentialKind> TokenSource for UserCredential<K> {
    /// Refreshes `current` (see [`UserCredential::refresh`]). Without `current` there is
    /// nothing to refresh: a needs-login error ([`NeedsLoginReason::NoStoredLogin`]).
    ///
    /// [`NeedsLoginReason::NoStoredLogin`]: frameio_auth_core::NeedsLoginReason::NoStoredLogin
    async fn fetch<'a>(&self, current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
        self.refresh(user_login::require_stored_login(current, &self.key)?)
            .await
    }

    fn key(&self) -> TokenKey {
        self.key.clone()
    }

    /// Revokes the login at IMS (`/ims/revoke`): its refresh token if it has one (which ends
    /// the whole grant, its access tokens included), otherwise its access token.
    /// [`Revocation::Revoked`].
    async fn revoke<'a>(&self, tokens: &'a TokenSet) -> Result<Revocation, AuthError> {
        match tokens.refresh_token() {
            Some(refresh) => self.revoke_refresh_token(refresh).await,
            None => self.revoke_access_token(tokens.access_token()).await,
        }?;
        Ok(Revocation::Revoked)
    }
}

/// The one login contract every user credential shares; the inherent methods of the same
/// names are these.
#[async_trait]
impl<K: CredentialKind> UserLogin for UserCredential<K> {
    fn client_id(&self) -> &str {
        &self.client_id
    }

    fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    fn authorization_request(&self) -> Result<AuthorizationRequest, AuthError> {
        UserCredential::authorization_request(self)
    }

    async fn exchange_code(
        &self,
        pending: &PendingAuthorization,
        code: AuthorizationCode,
    ) -> Result<TokenSet, AuthError> {
        UserCredential::exchange_code(self, pending, code).await
    }

    /// [`with_authorize_hint`]: `invalid_scope` gets the Developer Console advice.
    fn redirect_error(&self, error: AuthError) -> AuthError {
        with_authorize_hint(error)
    }
}

impl<K: CredentialKind> fmt::Debug for UserCredential<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(K::NAME)
            .field("environment", &self.env)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("token_client", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl<K: CredentialKind> fmt::Debug for UserCredentialBuilder<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentialBuilder")
            .field("kind", &K::NAME)
            .field("environment", &self.env)
            .field("client_id", &self.client_id)
            .field("secret", &self.secret)
            .field("secret_in_body", &self.secret_in_body)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_rules_per_kind() {
        for (uri, web, native) in [
            ("https://localhost:8443/callback", true, true),
            ("https://app.example/cb", true, true),
            ("http://localhost:8080/cb", false, true),
            ("http://127.0.0.1:8080/cb", false, true),
            ("http://app.example/cb", false, false),
            ("adobe+0a1b2c3d4e5f://callback", false, true),
            ("https://localhost/cb#frag", false, false),
            ("not a url", false, false),
        ] {
            assert_eq!(check_redirect_uri::<WebAppKind>(uri).is_ok(), web, "{uri}");
            assert_eq!(
                check_redirect_uri::<SinglePageAppKind>(uri).is_ok(),
                web,
                "{uri}"
            );
            assert_eq!(
                check_redirect_uri::<NativeAppKind>(uri).is_ok(),
                native,
                "{uri}"
            );
        }
    }
}
