//! OAuth 2 transport for frameio-auth.
//!
//! Everything here is provider-neutral; the IMS and Frame.io V2 crates add endpoints, scopes
//! and quirks on top.
//!
//! - [`TokenClient`]: a client for one token endpoint. It sends a [`Grant`]
//!   (`authorization_code`, `refresh_token`, `client_credentials`) with a [`ClientAuth`]
//!   (HTTP Basic, secret in the body, or a public client), retries transient failures with
//!   exponential backoff, full jitter and `Retry-After` ([`RetryPolicy`]), caps response
//!   bodies, keeps the IMS `x-debug-id` in every error and traces each attempt without ever
//!   recording a secret.
//! - [`EndpointClient`]: the same mechanics (retries, size cap, `x-debug-id`, typed errors,
//!   tracing without secrets) for a provider's other endpoints: a form `POST` with client
//!   authentication (revocation, validation) or a bearer `GET` (user info). Its raw mode,
//!   [`EndpointRequest::send_raw`], returns the response whatever its status (with its headers)
//!   for APIs whose statuses the caller maps itself, such as Frame.io's `/v2/me`.
//! - [`SecureUrl`]: HTTPS required, except loopback hosts (127.0.0.0/8, `[::1]`, `localhost`).
//!   TLS is rustls only.
//! - [`AuthorizationRequest`]: the authorization URL, always with PKCE S256 and a random
//!   `state`, and the serializable [`PendingAuthorization`] that checks the redirect.
//! - [`LoopbackReceiver`]: the RFC 8252 redirect receiver on 127.0.0.1 (HTTP, or HTTPS with a
//!   self-signed `localhost` certificate: an [`HttpsLoopbackReceiver`], which hands out the
//!   certificate). [`LoginError`] is the error of the provider crates'
//!   `login_with_loopback`, which run the whole login through one.
//! - [`user_login`]: what the providers' user credentials share: renewing a login
//!   ([`user_login::Refresh`]), the loopback login sequence and "no stored login". With
//!   [`PendingAuthorization::check_issued_for`], a provider crate keeps only what differs.
//!
//! Time is injected: a [`Clock`](frameio_auth_core::Clock) for "now" and a
//! [`Sleeper`](frameio_auth_core::Sleeper) for waits ([`TokioSleeper`] by default), so tests
//! run retries and deadlines on a [`ManualClock`](frameio_auth_core::ManualClock) without
//! waiting.
//!
//! ```no_run
//! use frameio_auth_core::{ClientSecret, Scopes};
//! use frameio_auth_oauth::{
//!     AuthorizationRequest, ClientAuth, LoopbackReceiver, ScopeFormat, SecureUrl, TokenClient,
//! };
//!
//! # async fn login() -> Result<(), Box<dyn std::error::Error>> {
//! let https = LoopbackReceiver::builder().https().bind().await?;
//! println!("trust this certificate:\n{}", https.certificate_pem());
//! let receiver = https.into_receiver();
//! let (url, pending) = AuthorizationRequest::new(
//!     SecureUrl::parse("https://ims-na1.adobelogin.com/ims/authorize/v2")?,
//!     "my-client-id",
//!     receiver.redirect_uri(),
//! )
//! .scopes(&Scopes::parse("openid AdobeID offline_access")?, ScopeFormat::SpaceSeparated)
//! .build()?;
//! println!("open {url}");
//! let code = receiver.wait_for_code(&pending).await?;
//!
//! let client = TokenClient::builder(
//!     SecureUrl::parse("https://ims-na1.adobelogin.com/ims/token/v3")?,
//!     ClientAuth::basic("my-client-id", ClientSecret::new("my-secret")),
//! )
//! .build()?;
//! let tokens = client.request_token(&pending.token_grant(code)).await?;
//! # let _ = tokens;
//! # Ok(()) }
//! ```
//!
//! The authorization URL alone needs no network: it always carries PKCE S256 and a random
//! `state`, which the [`PendingAuthorization`] checks on the way back.
//!
//! ```
//! use frameio_auth_core::Scopes;
//! use frameio_auth_oauth::{AuthorizationRequest, ScopeFormat, SecureUrl};
//!
//! let (url, pending) = AuthorizationRequest::new(
//!     SecureUrl::parse("https://ims-na1.adobelogin.com/ims/authorize/v2")?,
//!     "my-client-id",
//!     "http://127.0.0.1:8765/callback",
//! )
//! .scopes(&Scopes::parse("openid offline_access")?, ScopeFormat::SpaceSeparated)
//! .build()?;
//! let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
//! assert!(query.contains(&("code_challenge_method".into(), "S256".into())));
//! let state = &query.iter().find(|(k, _)| k == "state").expect("a state").1;
//! assert!(pending.verify_code_and_state("the-code", state).is_ok());
//! assert!(pending.verify_code_and_state("the-code", "forged").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod authorize;
mod body;
mod callback;
mod client;
mod client_auth;
mod endpoint;
mod form;
mod grant;
mod login_contract;
mod loopback;
mod proxy;
mod retry;
mod settings;
mod sleep;
mod transport;
mod transport_security;
pub mod user_login;

pub use authorize::AuthorizationRequest;
pub use callback::{CallbackParams, PendingAuthorization};
pub use client::{TokenClient, TokenClientBuilder};
pub use client_auth::{ClientAuth, ClientIdPlacement};
pub use endpoint::{EndpointClient, EndpointClientBuilder, EndpointRequest, EndpointResponse};
pub use grant::{Grant, ScopeFormat};
pub use loopback::{
    DEFAULT_CALLBACK_PATH, DEFAULT_LOOPBACK_DEADLINE, HttpsLoopbackReceiver, LoginError,
    LoopbackError, LoopbackReceiver, LoopbackReceiverBuilder, LoopbackRedirect, NotLoopback,
    PlainHttp, RedirectHost, SelfSignedHttps,
};
pub use retry::{
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_BASE_BACKOFF, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_BACKOFF, DEFAULT_MAX_RETRY_AFTER, DEFAULT_OVERALL_DEADLINE, RetryPolicy,
    parse_retry_after,
};
pub use settings::TransportSettings;
pub use sleep::TokioSleeper;
pub use transport::DEFAULT_MAX_BODY_BYTES;
pub use transport_security::{SecureUrl, USER_AGENT, is_loopback_host};

/// The `reqwest` crate version this crate's API uses ([`reqwest::Certificate`] and
/// [`reqwest::Proxy`] in [`TransportSettings`]).
pub use reqwest;
/// The `url` crate version this crate's API uses ([`url::Url`] in signatures).
pub use url;
