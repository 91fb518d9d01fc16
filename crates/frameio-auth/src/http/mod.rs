//! reqwest integration (feature `reqwest`): bearer headers, a middleware that retries a 401
//! once after one shared refresh, and the typed error of a Frame.io 401 or 403.
//!
//! - [`TokenManager::authorize`](crate::TokenManager::authorize) adds
//!   `Authorization: Bearer <token>` to a [`reqwest::RequestBuilder`].
//! - [`BearerAuth`] does the same for every request of a
//!   [`reqwest_middleware::ClientWithMiddleware`], and on a `401` asks the manager for a newer
//!   token ([`refresh_if_current`](crate::TokenManager::refresh_if_current), so N concurrent
//!   401s cause one refresh) and sends the request once more when its body can be replayed.
//! - [`ApiAuthError`] turns a Frame.io V2 or V4 `401`/`403` response into a typed error that
//!   says whether the user must sign in again.
//!
//! ```no_run
//! use frameio_auth::TokenManager;
//! use frameio_auth::http::{ApiAuthError, BearerAuth};
//!
//! # async fn run(manager: TokenManager) -> Result<(), Box<dyn std::error::Error>> {
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(BearerAuth::new(manager))
//!     .build();
//! let response = client.get("https://api.frame.io/v4/me").send().await?;
//! match ApiAuthError::check(response).await {
//!     Ok(response) => println!("{}", response.text().await?),
//!     Err(error) if error.needs_login() => eprintln!("sign in again: {error}"),
//!     Err(error) => eprintln!("{error}"),
//! }
//! # Ok(()) }
//! ```

mod api_error;
mod authorize;
mod middleware;

pub use api_error::ApiAuthError;
pub use middleware::BearerAuth;

pub(crate) use authorize::bearer_header;

/// Put on a response by [`BearerAuth`]: a 401 that a refresh did not cure (the refreshed
/// token was rejected too, or the source had no newer token), so the user must sign in again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RefreshDidNotHelp;

/// Put on a response by [`BearerAuth`]: the token it sent (a reference-count increment, no
/// copy), so [`ApiAuthError`] can scrub it from a body that echoes it. Never shown
/// (`CachedToken`'s `Debug` is a fingerprint).
#[derive(Clone, Debug)]
pub(crate) struct SentToken(pub(crate) crate::CachedToken);
