//! Test kit for frameio-auth: what you need to test code that gets, keeps and refreshes
//! Frame.io and Adobe IMS tokens, without the internet and without sleeping.
//!
//! - [`store`]: the [`TokenStore`](frameio_auth_core::TokenStore) conformance suite. Every
//!   store, ours or a fork's, proves itself with
//!   `frameio_auth_testkit::store::conformance(Arc::new(MyStore::new())).await`. It uses
//!   random keys and cleans up after itself, so it is safe against a real OS keyring.
//! - [`ManualClock`] (re-exported from `frameio-auth-core`): time that moves only when a test
//!   says so, with [`Clock`], [`Sleeper`] and [`Timestamp`]. Its [`PausedSleeper`]
//!   (`clock.paused_sleeper()`) makes code under test wait until the test moves the clock.
//! - Fake servers that speak HTTP on 127.0.0.1 port 0: a fake Adobe IMS in module [`ims`], and
//!   fake Frame.io V2 (OAuth and `/v2/me`) and V4 (`/v4/me`) APIs in module [`v2`].
//! - [`redis_server`]: a throw-away `redis-server` on a free loopback port, for the Redis
//!   store's tests (skipped when it is not installed, unless `FRAMEIO_AUTH_REQUIRE_REDIS=1`).
//! - `tracing_capture` (feature `tracing-capture`, off by default): `Capture`, a subscriber
//!   that records every span and event at `TRACE`, and `assert_no_secret`, for the tests that
//!   prove no secret reaches tracing.
//!
//! Depends on `frameio-auth-core` only, never on the clients or stores it checks, and is meant
//! to be used as a dev-dependency.
//!
//! ```
//! use std::time::Duration;
//! use frameio_auth_testkit::{Clock, ManualClock, Timestamp};
//!
//! let clock = ManualClock::new(Timestamp::from_unix_secs(1_700_000_000));
//! clock.advance(Duration::from_secs(86_399));
//! assert_eq!(clock.now(), Timestamp::from_unix_secs(1_700_086_399));
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod http;
pub mod ims;
pub mod redis_server;
pub mod store;
#[cfg(feature = "tracing-capture")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing-capture")))]
pub mod tracing_capture;
pub mod v2;

pub use frameio_auth_core::{Clock, ManualClock, PausedSleeper, Sleeper, Timestamp};
pub use ims::FakeIms;
pub use v2::{FakeFrameioV2, FakeFrameioV4};
