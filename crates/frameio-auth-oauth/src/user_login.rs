//! The mechanics every provider's user (authorization code) credential shares: renewing a
//! login, the loopback login sequence, and "no stored login".
//!
//! The IMS and Frame.io V2 crates call these and add only what differs (IMS: token claims and
//! the `invalid_scope` hint; V2: the scopes repeated in a refresh, the missing-`offline`
//! warning). The check that a [`PendingAuthorization`] belongs to a credential is
//! [`PendingAuthorization::check_issued_for`].

use std::future::Future;

use frameio_auth_core::{
    AuthError, AuthorizationCode, NeedsLoginReason, RefreshToken, Scopes, Timestamp, TokenKey,
    TokenSet,
};
use url::Url;

use crate::{Grant, LoginError, LoopbackReceiver, PendingAuthorization, ScopeFormat, TokenClient};

pub use crate::login_contract::{ShowUrl, ShowUrlFuture, UserLogin};

/// A [`AuthError::NeedsLogin`] with no debug id.
pub fn needs_login(reason: NeedsLoginReason) -> AuthError {
    AuthError::NeedsLogin {
        reason,
        debug_id: None,
    }
}

/// The current login of a [`TokenSource::fetch`](frameio_auth_core::TokenSource::fetch), or
/// [`NeedsLoginReason::NoStoredLogin`] (for `key`) when there is none: a user credential can
/// only renew a login, not start one.
///
/// ```
/// use frameio_auth_core::{ErrorKind, TokenKey};
/// use frameio_auth_oauth::user_login::require_stored_login;
///
/// let key = TokenKey::builder("ims", "prod", "cid").build()?;
/// assert_eq!(require_stored_login(None, &key).unwrap_err().kind(), ErrorKind::NeedsLogin);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn require_stored_login<'a>(
    current: Option<&'a TokenSet>,
    key: &TokenKey,
) -> Result<&'a TokenSet, AuthError> {
    current.ok_or_else(|| needs_login(NeedsLoginReason::NoStoredLogin { key: key.clone() }))
}

/// What renewing `current` at `now` takes: `Ok(None)` to keep it as it is, `Ok(Some(token))`
/// to send a refresh grant with `token`, or a needs-login error.
fn refresh_token_to_use(
    current: &TokenSet,
    now: Timestamp,
) -> Result<Option<&RefreshToken>, AuthError> {
    let Some(refresh_token) = current.refresh_token() else {
        if current.is_expired(now) {
            return Err(needs_login(NeedsLoginReason::NoRefreshToken));
        }
        return Ok(None);
    };
    if !current.can_refresh(now) {
        return Err(needs_login(NeedsLoginReason::RefreshTokenExpired));
    }
    Ok(Some(refresh_token))
}

/// Renews a user login with its refresh token.
///
/// [`run`](Self::run) applies the same rules for every provider:
///
/// - No refresh token: while the access token is valid, the login is returned unchanged
///   (nothing can renew it, it can still be used); once it has expired,
///   [`NeedsLoginReason::NoRefreshToken`], without a request.
/// - A refresh token known to have expired
///   ([`refresh_token_expires_at`](TokenSet::refresh_token_expires_at) passed):
///   [`NeedsLoginReason::RefreshTokenExpired`], without a request.
/// - Otherwise a `refresh_token` grant, with no `scope` (the server keeps the granted ones)
///   unless the provider [repeats scopes](Self::repeat_scopes): then the scopes of the login
///   in hand, which are the granted ones, never the requested ones (RFC 6749 §6: a refresh
///   may not ask for a scope the login was not granted, and a strict server refuses it with
///   `invalid_scope`). The response goes through the provider's
///   [`map_response`](Self::map_response), then keeps the old refresh token if it carries
///   none ([`TokenSet::inherit_refresh_token`]; a new one replaces the spent one), and gets
///   the scopes of the old login, else the requested scopes, when it names none.
/// - A refresh token the server refuses (`invalid_grant`): a needs-login error, from the
///   [`TokenClient`].
///
/// ```no_run
/// use frameio_auth_core::{Scopes, Timestamp, TokenSet};
/// use frameio_auth_oauth::user_login::Refresh;
/// use frameio_auth_oauth::{ScopeFormat, TokenClient};
///
/// # async fn run(client: TokenClient, scopes: Scopes, current: TokenSet, now: Timestamp)
/// # -> Result<(), frameio_auth_core::AuthError> {
/// let renewed = Refresh::new(&client, &scopes)
///     .repeat_scopes(ScopeFormat::SpaceSeparated)
///     .run(&current, now)
///     .await?;
/// # let _ = renewed;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Refresh<'a> {
    client: &'a TokenClient,
    requested_scopes: &'a Scopes,
    repeat_scopes: Option<ScopeFormat>,
    map_response: fn(TokenSet) -> TokenSet,
}

impl<'a> Refresh<'a> {
    /// A refresh through `client` for a credential that requests `requested_scopes`.
    pub fn new(client: &'a TokenClient, requested_scopes: &'a Scopes) -> Self {
        Self {
            client,
            requested_scopes,
            repeat_scopes: None,
            map_response: |tokens| tokens,
        }
    }

    /// Repeats the scopes in the refresh grant, in `format`: the scopes of the login in hand
    /// (what was granted), or the requested scopes only when that login names none. By
    /// default the grant has no `scope`: the server keeps the granted ones.
    #[must_use]
    pub fn repeat_scopes(mut self, format: ScopeFormat) -> Self {
        self.repeat_scopes = Some(format);
        self
    }

    /// A provider step applied to the token response before the old refresh token is
    /// inherited (IMS reads its access token's claims there).
    #[must_use]
    pub fn map_response(mut self, map: fn(TokenSet) -> TokenSet) -> Self {
        self.map_response = map;
        self
    }

    /// What `current` was granted: its scopes, or (for a set that names none, such as one
    /// stored before scopes were recorded) the requested ones.
    fn granted_scopes<'s>(&self, current: &'s TokenSet) -> &'s Scopes
    where
        'a: 's,
    {
        if current.scopes().is_empty() {
            self.requested_scopes
        } else {
            current.scopes()
        }
    }

    /// Renews `current` at `now`; see [`Refresh`] for the rules.
    pub async fn run(self, current: &TokenSet, now: Timestamp) -> Result<TokenSet, AuthError> {
        let Some(refresh_token) = refresh_token_to_use(current, now)? else {
            return Ok(current.clone());
        };
        let grant = match self.repeat_scopes {
            Some(format) => Grant::refresh_token_with_scopes(
                refresh_token.clone(),
                self.granted_scopes(current),
                format,
            ),
            None => Grant::refresh_token(refresh_token.clone()),
        };
        let tokens = self.client.request_token(&grant).await?;
        tracing::debug!(
            rotated = tokens.refresh_token().is_some(),
            "user login refreshed"
        );
        Ok((self.map_response)(tokens)
            .with_requested_scopes_if_absent(current.scopes())
            .with_requested_scopes_if_absent(self.requested_scopes)
            .inherit_refresh_token(current))
    }
}

/// [`Refresh::new`]`(client, requested_scopes).`[`run`](Refresh::run)`(current, now)`: renews
/// a login with the rules of [`Refresh`], no scopes in the grant and no provider step.
pub async fn refresh_or_reuse(
    client: &TokenClient,
    current: &TokenSet,
    now: Timestamp,
    requested_scopes: &Scopes,
) -> Result<TokenSet, AuthError> {
    Refresh::new(client, requested_scopes)
        .run(current, now)
        .await
}

/// The login of a command-line or desktop app through a [`LoopbackReceiver`], the sequence
/// behind [`UserLogin::login_with_loopback`]:
///
/// 1. checks that `receiver` listens at `redirect_uri` (the credential's), else
///    [`LoginError::RedirectUriMismatch`] before anything is shown;
/// 2. `begin`s the authorization request;
/// 3. hands its URL to `show_url` and, at the same time, waits for the redirect (so an
///    asynchronous `show_url` may play the browser itself); an error redirect goes through
///    `redirect_error` (a provider's advice) and becomes [`LoginError::Auth`], a receiver
///    failure [`LoginError::Loopback`];
/// 4. once `show_url` has returned too, `exchange`s the code (a failure is
///    [`LoginError::Auth`]).
///
/// ```no_run
/// use frameio_auth_core::Scopes;
/// use frameio_auth_oauth::user_login::{ShowUrl, login_with_loopback};
/// use frameio_auth_oauth::{
///     AuthorizationRequest, ClientAuth, LoopbackReceiver, ScopeFormat, SecureUrl, TokenClient,
/// };
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let receiver = LoopbackReceiver::builder().bind().await?;
/// let redirect_uri = receiver.redirect_uri().to_owned();
/// let token_client = TokenClient::builder(
///     SecureUrl::parse("https://auth.example.com/token")?,
///     ClientAuth::public("my-client"),
/// )
/// .build()?;
/// let request = AuthorizationRequest::new(
///     SecureUrl::parse("https://auth.example.com/authorize")?,
///     "my-client",
///     redirect_uri.clone(),
/// )
/// .scopes(&Scopes::parse("openid offline_access")?, ScopeFormat::SpaceSeparated);
///
/// let tokens = login_with_loopback(
///     receiver,
///     &redirect_uri,
///     || request.build(),
///     ShowUrl::new(|url| println!("Open {url} to sign in")),
///     |error| error,
///     |pending, code| {
///         let grant = pending.token_grant(code);
///         let client = &token_client;
///         async move { client.request_token(&grant).await }
///     },
/// )
/// .await?;
/// # let _ = tokens;
/// # Ok(()) }
/// ```
pub async fn login_with_loopback<Fut>(
    receiver: LoopbackReceiver,
    redirect_uri: &str,
    begin: impl FnOnce() -> Result<(Url, PendingAuthorization), AuthError>,
    show_url: ShowUrl,
    redirect_error: impl FnOnce(AuthError) -> AuthError,
    exchange: impl FnOnce(PendingAuthorization, AuthorizationCode) -> Fut,
) -> Result<TokenSet, LoginError>
where
    Fut: Future<Output = Result<TokenSet, AuthError>>,
{
    receiver.check_redirect_uri(redirect_uri)?;
    let (url, pending) = begin()?;
    // Concurrently: a `show_url` that plays the browser needs the receiver to answer it.
    let ((), waited) = tokio::join!(show_url.show(&url), receiver.wait_for_code(&pending));
    let code = match waited {
        Ok(code) => code,
        Err(error) => {
            return Err(match LoginError::from(error) {
                LoginError::Auth(error) => LoginError::Auth(redirect_error(error)),
                other => other,
            });
        }
    };
    Ok(exchange(pending, code).await?)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use frameio_auth_core::{AccessToken, ClientSecret, ErrorKind, Lifetime};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;
    use crate::{AuthorizationRequest, ClientAuth, SecureUrl};

    const NOW: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

    fn set(expired: bool) -> TokenSet {
        let issued = if expired {
            Timestamp::from_unix_secs(1_600_000_000)
        } else {
            NOW
        };
        TokenSet::new(
            AccessToken::new("old-access"),
            issued,
            Lifetime::ExpiresIn(Duration::from_secs(3600)),
        )
    }

    fn reason(error: AuthError) -> NeedsLoginReason {
        match error {
            AuthError::NeedsLogin { reason, .. } => reason,
            other => panic!("{other:?}"),
        }
    }

    fn mark(tokens: TokenSet) -> TokenSet {
        tokens.with_subject("mapped")
    }

    /// A token endpoint that answers each request with `body` and records the request.
    async fn token_endpoint(body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        (url, task)
    }

    fn client(url: &str) -> TokenClient {
        TokenClient::builder(
            SecureUrl::parse(url).unwrap(),
            ClientAuth::basic("cid", ClientSecret::new("secret")),
        )
        .transport(crate::TransportSettings::new().clock(frameio_auth_core::ManualClock::new(NOW)))
        .build()
        .unwrap()
    }

    /// A client whose endpoint refuses connections: any request would fail.
    fn unreachable_client() -> TokenClient {
        client("http://127.0.0.1:1/token")
    }

    #[tokio::test]
    async fn without_a_refresh_token_a_valid_login_is_kept_and_an_expired_one_needs_login() {
        let client = unreachable_client();
        let scopes = Scopes::parse("openid").unwrap();
        let kept = refresh_or_reuse(&client, &set(false), NOW, &scopes)
            .await
            .unwrap();
        assert_eq!(kept.access_token().expose_secret(), "old-access");
        let err = refresh_or_reuse(&client, &set(true), NOW, &scopes)
            .await
            .unwrap_err();
        assert!(matches!(reason(err), NeedsLoginReason::NoRefreshToken));
    }

    #[tokio::test]
    async fn a_refresh_token_known_expired_needs_login_without_a_request() {
        let client = unreachable_client();
        let current = set(true).with_refresh_token(
            RefreshToken::new("old-refresh"),
            Some(Timestamp::from_unix_secs(1_650_000_000)),
        );
        let err = refresh_or_reuse(&client, &current, NOW, &Scopes::new())
            .await
            .unwrap_err();
        assert!(matches!(reason(err), NeedsLoginReason::RefreshTokenExpired));
    }

    #[tokio::test]
    async fn a_refresh_keeps_the_old_refresh_token_and_fills_in_scopes() {
        let (url, request) =
            token_endpoint(r#"{"access_token":"new-access","expires_in":60}"#).await;
        let scopes = Scopes::parse("openid offline_access").unwrap();
        let current = set(true)
            .with_refresh_token(RefreshToken::new("old-refresh"), None)
            .with_scopes(Scopes::parse("openid").unwrap());
        let renewed = Refresh::new(&client(&url), &scopes)
            .repeat_scopes(ScopeFormat::SpaceSeparated)
            .map_response(mark)
            .run(&current, NOW)
            .await
            .unwrap();
        assert_eq!(renewed.access_token().expose_secret(), "new-access");
        assert_eq!(
            renewed.refresh_token().unwrap().expose_secret(),
            "old-refresh"
        );
        assert_eq!(renewed.scopes(), current.scopes());
        assert_eq!(renewed.subject(), Some("mapped"));
        let request = request.await.unwrap();
        assert!(request.contains("grant_type=refresh_token"), "{request}");
        assert!(request.contains("refresh_token=old-refresh"), "{request}");
        // The login was granted `openid` only: the refresh asks for that, never for more.
        assert!(request.contains("scope=openid"), "{request}");
        assert!(!request.contains("offline_access"), "{request}");
    }

    #[tokio::test]
    async fn a_refresh_repeats_the_requested_scopes_only_for_a_login_that_names_none() {
        let (url, request) =
            token_endpoint(r#"{"access_token":"new-access","expires_in":60}"#).await;
        let scopes = Scopes::parse("openid offline_access").unwrap();
        let current = set(true).with_refresh_token(RefreshToken::new("old-refresh"), None);
        assert!(current.scopes().is_empty());
        let renewed = Refresh::new(&client(&url), &scopes)
            .repeat_scopes(ScopeFormat::SpaceSeparated)
            .run(&current, NOW)
            .await
            .unwrap();
        assert_eq!(renewed.scopes(), &scopes);
        let request = request.await.unwrap();
        assert!(request.contains("scope=offline_access+openid"), "{request}");
    }

    #[test]
    fn no_stored_login_names_the_key() {
        let key = TokenKey::builder("ims", "prod", "cid").build().unwrap();
        let current = set(false);
        assert!(require_stored_login(Some(&current), &key).is_ok());
        match reason(require_stored_login(None, &key).unwrap_err()) {
            NeedsLoginReason::NoStoredLogin { key: named } => assert_eq!(named, key),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn loopback_login_checks_the_redirect_uri_before_showing_anything() {
        let receiver = LoopbackReceiver::builder().bind().await.unwrap();
        let err = login_with_loopback(
            receiver,
            "http://127.0.0.1:1/elsewhere",
            || panic!("nothing may begin"),
            ShowUrl::new(|_| panic!("nothing may be shown")),
            |error| error,
            |_, _| async { panic!("nothing may be exchanged") },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, LoginError::RedirectUriMismatch { .. }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn loopback_login_passes_an_error_redirect_through_the_provider_advice() {
        let receiver = LoopbackReceiver::builder().bind().await.unwrap();
        let redirect_uri = receiver.redirect_uri().to_owned();
        let callback_base = redirect_uri.clone();
        let begin = || {
            AuthorizationRequest::new(
                SecureUrl::parse("https://auth.example/authorize").unwrap(),
                "cid",
                redirect_uri.clone(),
            )
            .build()
        };
        let err = login_with_loopback(
            receiver,
            &redirect_uri,
            begin,
            // The browser runs as the login shows the URL: it follows the redirect to the
            // receiver and reads the page to the end.
            ShowUrl::new_async(move |url| async move {
                let state = url
                    .query_pairs()
                    .find(|(k, _)| k == "state")
                    .unwrap()
                    .1
                    .into_owned();
                let port = Url::parse(&callback_base).unwrap().port().unwrap();
                let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap();
                let request = format!(
                    "GET /callback?error=access_denied&state={state} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                );
                stream.write_all(request.as_bytes()).await.unwrap();
                let mut page = Vec::new();
                stream.read_to_end(&mut page).await.unwrap();
                assert!(String::from_utf8_lossy(&page).starts_with("HTTP/1.1 400"));
            }),
            |_| needs_login(NeedsLoginReason::NoRefreshToken),
            |_, _| async { panic!("nothing may be exchanged") },
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.auth_error().map(AuthError::kind),
            Some(ErrorKind::NeedsLogin)
        );
    }
}
