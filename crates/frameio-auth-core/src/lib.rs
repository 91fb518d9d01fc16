//! The core token model of frameio-auth.
//!
//! This crate holds the types every other frameio-auth crate speaks: secret newtypes that never
//! print themselves, [`Scopes`], [`TokenSet`] with absolute expiry times, the pure
//! [`RefreshPolicy`] decision, [`Clock`]s, the [`TokenKey`] that names a stored credential, PKCE,
//! OAuth 2 response parsing, the versioned storage format and the [`TokenStore`] and
//! [`TokenSource`] traits.
//!
//! It performs no I/O and needs no async runtime: it compiles fast and can be used anywhere.
//!
//! ```
//! use std::time::Duration;
//! use frameio_auth_core::{
//!     AccessToken, Clock, Lifetime, ManualClock, RefreshDecision, RefreshPolicy, Timestamp,
//!     TokenSet,
//! };
//!
//! let clock = ManualClock::new(Timestamp::from_unix_secs(1_700_000_000));
//! let tokens = TokenSet::new(
//!     AccessToken::new("eyJhbGciOi..."),
//!     clock.now(),
//!     Lifetime::ExpiresIn(Duration::from_secs(86_399)),
//! );
//! let policy = RefreshPolicy::default().without_jitter();
//!
//! assert_eq!(policy.decide(&tokens, clock.now()), RefreshDecision::Fresh);
//! clock.advance(Duration::from_secs(86_399 - 60));
//! assert_eq!(policy.decide(&tokens, clock.now()), RefreshDecision::RefreshAhead);
//! clock.advance(Duration::from_secs(60));
//! assert_eq!(policy.decide(&tokens, clock.now()), RefreshDecision::Expired);
//! ```
//!
//! # Features
//!
//! - `mock`: exports [mockall](https://docs.rs/mockall) mocks of [`TokenStore`],
//!   [`TokenSource`] and [`StoreLock`] in the `mock` module, for tests of code that uses
//!   the traits. Off by default.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod deadline;
mod error;
mod key;
mod oauth;
mod pkce;
mod policy;
mod redact;
mod scopes;
mod secret;
mod source;
mod store;
mod stored;
mod time;
mod token_set;

pub use clock::{Clock, ManualClock, PausedSleeper, Sleeper, SystemClock};
pub use deadline::Deadline;
pub use error::{AuthError, ConfigError, ErrorKind, NeedsLoginReason, ProtocolError, StoreError};
pub use key::{KeyError, TokenKey, TokenKeyBuilder};
pub use oauth::{
    DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN, MAX_RESPONSE_BYTES, OAuthErrorCode, OAuthErrorResponse,
    ParsedTokenResponse, ResponseWarning, parse_error_response, parse_token_response,
    parse_token_response_with_warnings,
};
pub use pkce::{PkceChallenge, RandomnessError};
pub use policy::{RefreshDecision, RefreshPolicy, RefreshSchedule};
pub use redact::{redact_known, redact_tokens, redacted_excerpt, redacted_excerpt_known};
pub use scopes::{Scope, ScopeError, Scopes};
pub use secret::{
    AccessToken, AuthorizationCode, ClientSecret, CsrfState, DeveloperToken, Fingerprint, IdToken,
    PkceVerifier, RefreshToken,
};
pub use source::{Revocation, TokenSource};
pub use store::{StoreLock, TokenStore};
pub use stored::{FORMAT_NAME, FORMAT_VERSION, FormatError};
pub use time::Timestamp;
pub use token_set::{Lifetime, TokenSet, TokenType};

/// mockall mocks of the core traits, for tests of code that uses them.
///
/// Enabled by the `mock` feature.
#[cfg(any(test, feature = "mock"))]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock {
    pub use crate::source::MockTokenSource;
    pub use crate::store::{MockStoreLock, MockTokenStore};
}
