//! `BearerAuth`: a reqwest-middleware middleware that adds the bearer token and retries a 401
//! once after one shared refresh.

use std::fmt;

use ::http::Extensions;
use reqwest::header::AUTHORIZATION;
use reqwest::{Request, Response, StatusCode};
use reqwest_middleware::{Middleware, Next};

use super::{RefreshDidNotHelp, SentToken, bearer_header};
use crate::{CachedToken, TokenManager};

/// A [`reqwest_middleware`] middleware that authorizes every request with a
/// [`TokenManager`]'s token and cures one `401`.
///
/// For each request it:
///
/// 1. sets `Authorization: Bearer <token>` (marked sensitive), replacing any there;
/// 2. on a `401`, calls [`refresh_if_current`](TokenManager::refresh_if_current) with the
///    token it sent, so any number of concurrent 401s on one token cause a single refresh,
///    and sends the request **once** more with the newer token, but only when the request can
///    be replayed ([`Request::try_clone`] is `Some`: not a streaming body);
/// 3. returns a second `401` as it is. A `403` (a missing scope or access, which a new token
///    does not change) and every other status are never retried.
///
/// A `401` that the refresh did not cure (the newer token was rejected too, or the source has
/// no newer token, as with a Developer Token) is marked, so that
/// [`ApiAuthError::needs_login`](crate::http::ApiAuthError::needs_login) says `true` for it.
///
/// Errors: when no token can be had (or the refresh after a `401` fails, say because the login
/// is dead), the request fails with [`reqwest_middleware::Error::Middleware`] holding the
/// [`TokenError`](crate::TokenError); find it with `downcast_ref::<TokenError>()`.
///
/// ```no_run
/// use frameio_auth::{TokenError, TokenManager};
/// use frameio_auth::http::BearerAuth;
/// use frameio_auth_core::ErrorKind;
///
/// # async fn run(manager: TokenManager) -> Result<(), Box<dyn std::error::Error>> {
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(BearerAuth::new(manager))
///     .build();
/// match client.get("https://api.frame.io/v4/me").send().await {
///     Ok(response) => println!("HTTP {}", response.status()),
///     Err(reqwest_middleware::Error::Middleware(error)) => {
///         if let Some(token_error) = error.downcast_ref::<TokenError>()
///             && token_error.kind() == ErrorKind::NeedsLogin
///         {
///             eprintln!("sign in again");
///         }
///     }
///     Err(error) => eprintln!("{error}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BearerAuth {
    manager: TokenManager,
}

impl BearerAuth {
    /// A middleware over `manager` (a clone shares its cache).
    ///
    /// ```
    /// # fn run(manager: frameio_auth::TokenManager) {
    /// use frameio_auth::http::BearerAuth;
    ///
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(BearerAuth::new(manager))
    ///     .build();
    /// # let _ = client;
    /// # }
    /// ```
    pub fn new(manager: TokenManager) -> Self {
        Self { manager }
    }

    /// The manager whose tokens are sent.
    ///
    /// ```
    /// # fn run(manager: frameio_auth::TokenManager) {
    /// use frameio_auth::http::BearerAuth;
    ///
    /// let auth = BearerAuth::new(manager.clone());
    /// assert_eq!(auth.manager().key(), manager.key());
    /// # }
    /// ```
    pub fn manager(&self) -> &TokenManager {
        &self.manager
    }
}

impl fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerAuth")
            .field("key", self.manager.key())
            .finish_non_exhaustive()
    }
}

/// Sets the bearer header of `token` on `request`.
fn authorize(request: &mut Request, token: &CachedToken) -> reqwest_middleware::Result<()> {
    let value =
        bearer_header(token.expose_secret()).map_err(reqwest_middleware::Error::middleware)?;
    request.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}

/// Marks `response` with the token sent for it, and as a 401 a refresh did not cure.
fn mark(mut response: Response, sent: &CachedToken, uncured: bool) -> Response {
    let uncured = uncured && response.status() == StatusCode::UNAUTHORIZED;
    let extensions = response.extensions_mut();
    extensions.insert(SentToken(sent.clone()));
    if uncured {
        extensions.insert(RefreshDidNotHelp);
    }
    response
}

#[async_trait::async_trait]
impl Middleware for BearerAuth {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let token = self
            .manager
            .access_token()
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        authorize(&mut request, &token)?;
        // Taken before sending: a request whose body streams cannot be sent twice.
        let replay = request.try_clone();
        let response = next.clone().run(request, extensions).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(mark(response, &token, false));
        }
        let Some(mut replay) = replay else {
            tracing::debug!("HTTP 401 on a request whose body cannot be replayed; not retried");
            return Ok(mark(response, &token, false));
        };
        let newer = self
            .manager
            .refresh_if_current(token.access_token())
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        if newer.access_token() == token.access_token() {
            // The source handed the same token back (a Developer Token): only a new login helps.
            return Ok(mark(response, &token, true));
        }
        drop(response);
        authorize(&mut replay, &newer)?;
        tracing::debug!("HTTP 401; retrying once with the refreshed token");
        let retried = next.run(replay, extensions).await?;
        Ok(mark(retried, &newer, true))
    }
}
