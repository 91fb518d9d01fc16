//! The frameio-auth facade: [`TokenManager`], the one token cache for Frame.io and Adobe IMS
//! bearer tokens.
//!
//! A manager joins a [`TokenSource`](frameio_auth_core::TokenSource) (an IMS credential, a
//! Frame.io V2 app or Developer Token) and a [`TokenStore`](frameio_auth_core::TokenStore)
//! (memory, file, OS keyring, Redis) with a [`RefreshPolicy`](frameio_auth_core::RefreshPolicy):
//!
//! - a fresh token is answered from memory with no lock, no allocation and no system call;
//! - inside the refresh-ahead window callers keep the current token while one background
//!   refresh runs;
//! - callers of an expired or absent token wait for one shared refresh and all get its
//!   result or its error ([`TokenError`]);
//! - across processes, the refresh takes the store's lock, adopts what another process
//!   already refreshed, and saves a rotated refresh token before the lock is released;
//! - failures back off with jitter, a dead login is never sent again, and a set that cannot
//!   be saved stays in use until it can.
//!
//! `docs/refresh.md` in the repository describes the algorithm with a sequence diagram.
//!
//! With the `profiles` feature (default), a manager can come from a named profile of
//! `config.toml`: `TokenManager::from_profile("work")?` (see the `profiles` module and
//! `docs/profiles.md`). Features `ims`, `v2`, `store-file` (default), `store-keyring` and
//! `store-redis` bring the provider and store crates in.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `ims` | yes | Adobe IMS credentials: the [`ims`] crate (Server-to-Server, Web App, SPA, Native App) |
//! | `v2` | yes | Frame.io V2 credentials and `/v2/me`: the [`v2`] crate |
//! | `store-file` | yes | the file store: [`store_file`] |
//! | `profiles` | yes | named credentials in `config.toml`: [`profiles`], `TokenManager::from_profile` |
//! | `store-keyring` | no | the OS keyring store: [`store_keyring`] |
//! | `store-redis` | no | the Redis store, for a fleet of machines: [`store_redis`] |
//! | `reqwest` | no | `TokenManager::authorize` and the 401-retrying middleware: [`http`] |
//! | `metrics` | no | counters and histograms through the `metrics` facade: [`metrics`] |
//! | `mock` | no | mockall mocks of the core traits: [`mock`] |
//!
//! `use frameio_auth::prelude::*;` brings the common names of every enabled feature.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backoff;
mod builder;
mod cached;
mod error;
mod events;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod http;
mod logout;
mod manager;
pub mod metrics;
pub mod prelude;
#[cfg(feature = "profiles")]
#[cfg_attr(docsrs, doc(cfg(feature = "profiles")))]
pub mod profiles;
mod refresh;
mod time;

pub use backoff::{
    DEFAULT_MAX_RETRY_AFTER, DEFAULT_NEEDS_LOGIN_RELOAD, DEFAULT_REFRESH_BACKOFF_BASE,
    DEFAULT_REFRESH_BACKOFF_MAX, MIN_REFRESH_BACKOFF,
};
pub use builder::{DEFAULT_METRICS_PROFILE, TokenManagerBuilder};
pub use cached::CachedToken;
pub use error::TokenError;
pub use events::{EVENT_CAPACITY, TokenEvent, TokenEvents};
pub use logout::{LogoutReport, ProviderLogout};
pub use manager::TokenManager;
pub use time::COARSE_CLOCK_TICK;

/// The core token model (secret types, `TokenSet`, `Scopes`, the traits), re-exported.
pub use frameio_auth_core as model;
/// The OAuth transport (token client, loopback receiver, `TransportSettings`), re-exported.
pub use frameio_auth_oauth as oauth;
/// The in-memory store, re-exported.
pub use frameio_auth_store_memory as store_memory;

/// Adobe IMS credentials (feature `ims`), re-exported.
#[cfg(feature = "ims")]
#[cfg_attr(docsrs, doc(cfg(feature = "ims")))]
pub use frameio_auth_ims as ims;
/// The file store (feature `store-file`), re-exported.
#[cfg(feature = "store-file")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-file")))]
pub use frameio_auth_store_file as store_file;
/// The OS keyring store (feature `store-keyring`), re-exported.
#[cfg(feature = "store-keyring")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-keyring")))]
pub use frameio_auth_store_keyring as store_keyring;
/// The Redis store (feature `store-redis`), re-exported.
#[cfg(feature = "store-redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-redis")))]
pub use frameio_auth_store_redis as store_redis;
/// Frame.io V2 credentials and API checks (feature `v2`), re-exported.
#[cfg(feature = "v2")]
#[cfg_attr(docsrs, doc(cfg(feature = "v2")))]
pub use frameio_auth_v2 as v2;

/// mockall mocks of the core traits (feature `mock`).
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock {
    pub use frameio_auth_core::mock::{MockStoreLock, MockTokenSource, MockTokenStore};
}
