//! `TokenManager::authorize`: a bearer header on a reqwest request.

use frameio_auth_core::ConfigError;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::{TokenError, TokenManager};

/// `Bearer <token>` as a header value marked sensitive (HTTP/2 never indexes it; reqwest's
/// `Debug` hides it).
pub(crate) fn bearer_header(token: &str) -> Result<HeaderValue, TokenError> {
    let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
        TokenError::from(ConfigError::new(
            "the access token holds characters an HTTP header cannot carry",
        ))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

impl TokenManager {
    /// Adds `Authorization: Bearer <token>` (a valid token, as from
    /// [`access_token`](Self::access_token)) to `request`, replacing any there. The header is
    /// marked sensitive.
    ///
    /// This sends nothing and never retries; for a `401` call
    /// [`refresh_if_current`](Self::refresh_if_current), or use
    /// [`BearerAuth`](crate::http::BearerAuth), which does both.
    ///
    /// Errors: those of [`access_token`](Self::access_token), and
    /// [`ErrorKind::Configuration`](frameio_auth_core::ErrorKind::Configuration) for a token that cannot be
    /// a header value.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use async_trait::async_trait;
    /// # use frameio_auth_core::{AccessToken, AuthError, Clock, Lifetime, SystemClock, TokenKey, TokenSet, TokenSource};
    /// use frameio_auth::TokenManager;
    /// # struct Minter;
    /// # #[async_trait]
    /// # impl TokenSource for Minter {
    /// #     async fn fetch<'a>(&self, _current: Option<&'a TokenSet>) -> Result<TokenSet, AuthError> {
    /// #         Ok(TokenSet::new(AccessToken::new("minted"), SystemClock.now(), Lifetime::ExpiresIn(Duration::from_secs(3600))))
    /// #     }
    /// #     fn key(&self) -> TokenKey { TokenKey::builder("example", "local", "minter").build().expect("a valid key") }
    /// # }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = TokenManager::builder(Minter).build();
    /// let client = reqwest::Client::new();
    /// let request = manager
    ///     .authorize(client.get("https://api.frame.io/v4/me"))
    ///     .await?
    ///     .build()?;
    /// let header = &request.headers()["authorization"];
    /// assert_eq!(header.to_str()?, "Bearer minted");
    /// assert!(header.is_sensitive());
    /// # Ok(()) }
    /// ```
    pub async fn authorize(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, TokenError> {
        let value = self.with_token(bearer_header).await??;
        // `headers` replaces a header of the same name; `header` would add a second one.
        let mut headers = HeaderMap::with_capacity(1);
        headers.insert(AUTHORIZATION, value);
        Ok(request.headers(headers))
    }
}
