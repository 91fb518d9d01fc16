//! The error every waiter of one refresh shares.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{AuthError, ConfigError, ErrorKind, StoreError};

/// An [`AuthError`] that many callers can hold at once.
///
/// One refresh serves every caller that waited for it (single flight), so its failure is
/// handed to all of them: the error is shared behind an [`Arc`], and cloning it is cheap.
/// Nothing is lost: [`kind`](Self::kind), [`retry_after`](Self::retry_after) and
/// [`debug_id`](Self::debug_id) answer as the underlying error does, and
/// [`auth_error`](Self::auth_error) (or `*error`) reaches it whole.
///
/// ```
/// use frameio_auth::TokenError;
/// use frameio_auth_core::{AuthError, ErrorKind};
///
/// let error = TokenError::from(AuthError::Transient {
///     message: "IMS answered 503".into(),
///     retry_after: Some(std::time::Duration::from_secs(2)),
///     debug_id: Some("abc123".into()),
/// });
/// let seen_by_another_caller = error.clone();
/// assert_eq!(seen_by_another_caller.kind(), ErrorKind::Transient);
/// assert_eq!(seen_by_another_caller.debug_id(), Some("abc123"));
/// assert!(error.same_failure(&seen_by_another_caller));
/// ```
#[derive(Clone)]
pub struct TokenError(Arc<AuthError>);

impl TokenError {
    /// What a caller can do about it.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind()
    }

    /// Whether a later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        self.0.is_retryable()
    }

    /// How long the server asked to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after()
    }

    /// The IMS `x-debug-id` of the failed response, for Adobe support.
    pub fn debug_id(&self) -> Option<&str> {
        self.0.debug_id()
    }

    /// The underlying error.
    pub fn auth_error(&self) -> &AuthError {
        &self.0
    }

    /// Whether both are the very same failure (one request's outcome handed to two callers).
    pub fn same_failure(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for TokenError {
    type Target = AuthError;

    fn deref(&self) -> &AuthError {
        &self.0
    }
}

impl From<AuthError> for TokenError {
    fn from(error: AuthError) -> Self {
        Self(Arc::new(error))
    }
}

impl From<StoreError> for TokenError {
    fn from(error: StoreError) -> Self {
        Self::from(AuthError::Store(error))
    }
}

impl From<ConfigError> for TokenError {
    fn from(error: ConfigError) -> Self {
        Self::from(AuthError::Config(error))
    }
}

impl fmt::Debug for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for TokenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}
