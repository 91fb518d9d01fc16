//! IMS-specific advice attached to errors.

use frameio_auth_core::{AuthError, OAuthErrorCode};

/// The hint added to `invalid_scope` on the authorization redirect.
pub const INVALID_SCOPE_HINT: &str = "hint: a requested scope is probably not enabled for this API \
     in the Adobe Developer Console; add the API (and its product profile) to the project, or \
     remove the scope";

/// Adds IMS-specific advice to an error from the authorization redirect.
///
/// `invalid_scope` there almost always means that a scope is not enabled for the credential's
/// API in the Adobe Developer Console (Frame.io V2 scope names such as `asset.read` also get
/// it). The hint is appended to the error's description; other errors are returned unchanged.
/// [`UserCredential::complete`](crate::UserCredential::complete) applies it already; call it
/// on the error of a [`LoopbackReceiver`](frameio_auth_oauth::LoopbackReceiver).
///
/// ```
/// use frameio_auth_core::{AuthError, OAuthErrorResponse};
/// use frameio_auth_ims::with_authorize_hint;
///
/// let error = AuthError::from_oauth(
///     OAuthErrorResponse::from_parts("invalid_scope", Some("bad scope"), None),
///     None, None, None,
/// );
/// assert!(with_authorize_hint(error).to_string().contains("Developer Console"));
/// ```
pub fn with_authorize_hint(error: AuthError) -> AuthError {
    match error {
        AuthError::Rejected {
            mut error,
            status,
            debug_id,
        } if error.error == OAuthErrorCode::InvalidScope => {
            let already = error
                .description
                .as_deref()
                .is_some_and(|d| d.contains(INVALID_SCOPE_HINT));
            if !already {
                error.description = Some(match error.description.take() {
                    Some(description) => format!("{description} ({INVALID_SCOPE_HINT})"),
                    None => INVALID_SCOPE_HINT.to_owned(),
                });
            }
            AuthError::Rejected {
                error,
                status,
                debug_id,
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frameio_auth_core::{ErrorKind, OAuthErrorResponse};

    #[test]
    fn only_invalid_scope_gets_the_hint_once() {
        let scope = AuthError::from_oauth(
            OAuthErrorResponse::from_parts("invalid_scope", None, None),
            None,
            None,
            None,
        );
        let hinted = with_authorize_hint(with_authorize_hint(scope));
        assert_eq!(hinted.kind(), ErrorKind::Rejected);
        assert_eq!(hinted.to_string().matches("Developer Console").count(), 1);
        let denied = AuthError::from_oauth(
            OAuthErrorResponse::from_parts("access_denied", None, None),
            None,
            None,
            None,
        );
        assert!(!with_authorize_hint(denied).to_string().contains("hint"));
    }
}
