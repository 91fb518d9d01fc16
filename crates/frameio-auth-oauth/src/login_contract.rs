//! One contract for every provider's user (authorization code) credential, so a token manager
//! or a command-line tool can drive an IMS Web App, Single Page App, Native App or a Frame.io
//! V2 OAuth app alike.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use frameio_auth_core::{AuthError, AuthorizationCode, TokenSet, TokenSource};
use url::Url;

use crate::{AuthorizationRequest, LoginError, LoopbackReceiver, PendingAuthorization};

/// The future a [`ShowUrl`] returns.
pub type ShowUrlFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What a login does with the authorization URL: print it, open a browser, or (in a test)
/// play the browser. It may be asynchronous: the login runs it while it waits for the
/// redirect (the receiver is already listening, so the browser's request is served even
/// while `show` is still running), and returns once both are done.
///
/// ```
/// use frameio_auth_oauth::user_login::ShowUrl;
///
/// let print = ShowUrl::new(|url| eprintln!("Open {url} to sign in"));
/// let browse = ShowUrl::new_async(|url| async move {
///     // e.g. spawn a browser, or call a fake one in a test
///     let _ = url;
/// });
/// # let _ = (print, browse);
/// ```
pub struct ShowUrl(Box<dyn FnOnce(Url) -> ShowUrlFuture + Send>);

impl ShowUrl {
    /// Shows the URL with a synchronous function.
    pub fn new(show: impl FnOnce(&Url) + Send + 'static) -> Self {
        Self(Box::new(move |url| {
            show(&url);
            Box::pin(std::future::ready(()))
        }))
    }

    /// Shows the URL with an asynchronous function.
    pub fn new_async<F, Fut>(show: F) -> Self
    where
        F: FnOnce(Url) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self(Box::new(move |url| Box::pin(show(url))))
    }

    /// Shows `url`.
    pub async fn show(self, url: &Url) {
        (self.0)(url.clone()).await;
    }
}

impl fmt::Debug for ShowUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShowUrl")
    }
}

/// A user credential: starts an authorization code login, completes it, and (as a
/// [`TokenSource`]) renews it.
///
/// Every step has one name for every provider:
///
/// 1. [`authorization_request`](Self::authorization_request) (to add `prompt`, `login_hint`,
///    `nonce`) or [`begin`](Self::begin): the URL to open and the [`PendingAuthorization`] to
///    keep (for a web server, in the session);
/// 2. [`complete`](Self::complete) with the redirect URL the browser came back with, or
///    [`complete_with_code`](Self::complete_with_code) with its `code` and `state` values, or
///    [`exchange_code`](Self::exchange_code) with a code whose `state` was already checked;
/// 3. or all of it at once through a loopback receiver:
///    [`login_with_loopback`](Self::login_with_loopback).
///
/// A provider implements the steps that differ ([`client_id`](Self::client_id),
/// [`redirect_uri`](Self::redirect_uri), [`authorization_request`](Self::authorization_request),
/// [`exchange_code`](Self::exchange_code), and optionally its advice on an error redirect,
/// [`redirect_error`](Self::redirect_error)); the sequences are provided, the same for every
/// provider. The trait is object safe: a tool can hold a `Box<dyn UserLogin>`.
#[async_trait]
pub trait UserLogin: TokenSource {
    /// The client id of this credential.
    fn client_id(&self) -> &str;

    /// The redirect URI registered for this credential.
    fn redirect_uri(&self) -> &str;

    /// The authorization request, ready to [`build`](AuthorizationRequest::build) or to adjust
    /// first (`prompt`, `login_hint`, `nonce`, extra parameters).
    fn authorization_request(&self) -> Result<AuthorizationRequest, AuthError>;

    /// Exchanges a code whose `state` was already checked. A `pending` started by another
    /// credential (client id or redirect URI) must be refused before any request
    /// ([`PendingAuthorization::check_issued_for`]).
    async fn exchange_code(
        &self,
        pending: &PendingAuthorization,
        code: AuthorizationCode,
    ) -> Result<TokenSet, AuthError>;

    /// The provider's advice on an error redirect (`invalid_scope`, `access_denied`...), applied
    /// by [`complete`](Self::complete) and [`login_with_loopback`](Self::login_with_loopback).
    /// Default: the error unchanged.
    fn redirect_error(&self, error: AuthError) -> AuthError {
        error
    }

    /// Starts a login: the URL to open and the pending request to keep.
    fn begin(&self) -> Result<(Url, PendingAuthorization), AuthError> {
        self.authorization_request()?.build()
    }

    /// Finishes a login from the redirect URL: checks that `pending` is this credential's and
    /// the `state`, turns an `error=` redirect into a typed error (with the provider's
    /// [`redirect_error`](Self::redirect_error) advice), and exchanges the code.
    async fn complete(
        &self,
        pending: &PendingAuthorization,
        callback_url: &Url,
    ) -> Result<TokenSet, AuthError> {
        pending.check_issued_for(self.client_id(), self.redirect_uri())?;
        let code = pending
            .verify_callback(callback_url)
            .map_err(|error| self.redirect_error(error))?;
        self.exchange_code(pending, code).await
    }

    /// [`complete`](Self::complete) from the `code` and `state` query values.
    async fn complete_with_code(
        &self,
        pending: &PendingAuthorization,
        code: &str,
        state: &str,
    ) -> Result<TokenSet, AuthError> {
        pending.check_issued_for(self.client_id(), self.redirect_uri())?;
        let code = pending.verify_code_and_state(code, state)?;
        self.exchange_code(pending, code).await
    }

    /// The whole login of a command-line or desktop app through `receiver`: checks that it
    /// listens at [`redirect_uri`](Self::redirect_uri), begins, hands the URL to `show_url`
    /// while it waits for the redirect, and exchanges the code; see
    /// [`user_login::login_with_loopback`](crate::user_login::login_with_loopback).
    async fn login_with_loopback(
        &self,
        receiver: LoopbackReceiver,
        show_url: ShowUrl,
    ) -> Result<TokenSet, LoginError> {
        crate::user_login::login_with_loopback(
            receiver,
            self.redirect_uri(),
            || self.begin(),
            show_url,
            |error| self.redirect_error(error),
            |pending, code| async move { self.exchange_code(&pending, code).await },
        )
        .await
    }
}
