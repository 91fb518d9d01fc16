//! Adobe IMS client for frameio-auth.
//!
//! Frame.io V4 and the Adobe Cloud Storage & Collaboration API authenticate through Adobe
//! IMS. This crate knows IMS's endpoints, parameters, quirks and presets; every byte of OAuth
//! mechanics (HTTP, retries, PKCE, the loopback receiver) comes from `frameio-auth-oauth`.
//!
//! | credential | type | flow |
//! |---|---|---|
//! | OAuth Server-to-Server | [`ServerToServer`] | `client_credentials`, scopes comma separated, one or two secrets |
//! | OAuth Web App | [`WebApp`] | authorization code + PKCE, client secret (Basic or body) |
//! | OAuth Single Page App | [`SinglePageApp`] | authorization code + PKCE S256, public |
//! | OAuth Native App | [`NativeApp`] | authorization code + PKCE S256, public, custom scheme or loopback |
//!
//! Each implements [`TokenSource`] (S2S: a new token; user
//! credentials: a refresh) with a [`TokenKey`] (provider `ims`)
//! that separates environments, clients, profiles and scope sets. All of them can revoke,
//! invalidate and validate tokens; user credentials also read `userinfo`, `profile` and
//! `organizations`. [`presets`] holds the Frame.io V4 and Cloud Storage configurations and
//! configuration from environment variables.
//!
//! ```no_run
//! use frameio_auth_core::ClientSecret;
//! use frameio_auth_ims::{presets, ImsEnvironment, WebApp};
//!
//! # async fn run(callback_url: url::Url) -> Result<(), Box<dyn std::error::Error>> {
//! let web = WebApp::builder(
//!     ImsEnvironment::Production,
//!     "my-client-id",
//!     ClientSecret::new("my-secret"),
//!     "https://localhost:8443/callback",
//! )
//! .scopes(presets::frameio_v4_user())
//! .build()?;
//! let (url, pending) = web.begin()?;
//! println!("open {url}");
//! // ... the browser comes back to the redirect URI with `callback_url` ...
//! let tokens = web.complete(&pending, &callback_url).await?;
//! let tokens = web.refresh(&tokens).await?;
//! let me = web.userinfo(tokens.access_token()).await?;
//! # let _ = me;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod claims;
mod environment;
mod errors;
pub mod presets;
mod responses;
mod s2s;
mod user;

pub use claims::{AccessTokenClaims, JwtParts, enrich_token_set};
pub use environment::{ImsEnvironment, PRODUCTION_BASE_URL, STAGE_BASE_URL, paths};
pub use errors::{INVALID_SCOPE_HINT, with_authorize_hint};
/// The core types this crate's signatures use, so a user of this crate alone needs no second
/// crate.
pub use frameio_auth_core::{
    AccessToken, AuthError, ClientSecret, ConfigError, ErrorKind, RefreshToken, Scopes, TokenKey,
    TokenSet, TokenSource,
};
/// The transport settings and login helpers this crate's builders and methods take.
pub use frameio_auth_oauth::{
    LoginError, LoopbackReceiver, TransportSettings,
    user_login::{ShowUrl, UserLogin},
};
pub use responses::{ImsTokenType, OrgRef, Organization, Profile, TokenValidation, UserInfo};
pub use s2s::{DEFAULT_PROFILE, ServerToServer, ServerToServerBuilder};
pub use user::{
    CredentialKind, NativeApp, NativeAppKind, SinglePageApp, SinglePageAppKind, UserCredential,
    UserCredentialBuilder, WebApp, WebAppKind,
};

/// The provider name in every [`TokenKey`] this crate makes.
pub const PROVIDER: &str = "ims";
