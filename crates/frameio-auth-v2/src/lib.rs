//! Frame.io V2 (legacy) authentication for frameio-auth.
//!
//! - [`DeveloperTokenSource`]: a Developer Token (a static bearer token from the developer
//!   portal) from a value or `FRAMEIO_TOKEN`; it never expires.
//! - [`V2OAuthApp`]: the OAuth 2 authorization code flow at `applications.frame.io`, as a
//!   confidential app (client secret, HTTP Basic) or a public PKCE app; refresh with the
//!   `offline` scope. PKCE S256 and `state` always.
//! - [`V2Scope`]: every documented V2 scope, plus [`V2Scope::Other`].
//! - [`FrameioApi`]: token checks, `GET /v2/me` ([`V2User`]) and `GET /v4/me` ([`V4User`]), with
//!   typed [`ApiError`]s (401, 402, 403, 429 with [`RateLimit`]).
//!
//! Both sources implement [`TokenSource`] with [`TokenKey`]s
//! whose provider is [`PROVIDER`] (`frameio-v2`), so V2 credentials never mix with IMS ones.
//! Every byte of OAuth mechanics (URLs, PKCE, client authentication, retries, body caps) comes
//! from `frameio-auth-oauth`; this crate holds only what is specific to Frame.io V2.
//!
//! Every URL is overridable (for fakes and proxies) and must be `https`, or plain `http` on a
//! loopback host.
//!
//! ```
//! use frameio_auth_core::{DeveloperToken, TokenSource};
//! use frameio_auth_v2::{DeveloperTokenSource, FrameioApi};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let fake = frameio_auth_testkit::v2::FakeFrameioV2::start_default().await?;
//! # fake.register_developer_token("fio-u-doc-example", "account.read");
//! let source = DeveloperTokenSource::new(DeveloperToken::new("fio-u-doc-example"))?;
//! let api = FrameioApi::builder()
//!     .base_url(fake.base_url()) // or leave out for https://api.frame.io
//!     .build()?;
//! let me = api.whoami(&source.access_token()).await?;
//! assert_eq!(me.email.as_deref(), Some("ada@example.com"));
//! assert_eq!(source.fetch(None).await?.expires_at(), None);
//! # Ok(()) }
//! ```
//!
//! [`TokenKey`]: frameio_auth_core::TokenKey
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod app;
mod developer_token;
mod error;
mod scope;

pub use api::{Checked, DEFAULT_API_BASE_URL, FrameioApi, FrameioApiBuilder, V2User, V4User};
pub use app::{AUTHORIZE_PATH, DEFAULT_OAUTH_BASE_URL, TOKEN_PATH, V2OAuthApp, V2OAuthAppBuilder};
pub use developer_token::{DeveloperTokenSource, FRAMEIO_TOKEN_ENV, TokenOrigin};
pub use error::{ApiError, ErrorDetails, ErrorItem, RateLimit};
/// The core types this crate's signatures use, so a user of this crate alone needs no second
/// crate.
pub use frameio_auth_core::{
    AccessToken, AuthError, ClientSecret, ConfigError, DeveloperToken, ErrorKind, RefreshToken,
    Scopes, TokenKey, TokenSet, TokenSource,
};
/// The transport settings and login helpers this crate's builders and methods take.
pub use frameio_auth_oauth::{
    LoginError, LoopbackReceiver, TransportSettings,
    user_login::{ShowUrl, UserLogin},
};
pub use scope::{V2Scope, parse_list, render};

/// The provider name in the [`TokenKey`]s of this crate.
pub const PROVIDER: &str = "frameio-v2";
