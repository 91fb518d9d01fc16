//! Secret newtypes: zeroized on drop, never printed, compared in constant time.

use std::fmt;

use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// A short, non-reversible SHA-256 fingerprint of a secret: the first 4 bytes of its digest.
///
/// Lets logs and `Debug` output tell two secrets apart ("did the refresh token change?")
/// without revealing either. Shown as `sha256:` followed by 8 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 4]);

impl Fingerprint {
    /// Computes the fingerprint of `value`.
    pub fn of(value: &[u8]) -> Self {
        let digest = Sha256::digest(value);
        Self([digest[0], digest[1], digest[2], digest[3]])
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// Moves `value` into a zeroizing box without leaving an unwiped copy behind.
///
/// `String::into_boxed_str` reallocates when the capacity exceeds the length and frees the old
/// buffer unwiped, so such strings are copied into an exact-size box and wiped by hand.
pub(crate) fn seal(mut value: String) -> SecretBox<str> {
    if value.capacity() == value.len() {
        SecretBox::new(value.into_boxed_str())
    } else {
        let exact: Box<str> = Box::from(value.as_str());
        value.zeroize();
        SecretBox::new(exact)
    }
}

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// # Handling
        ///
        /// The value is wiped from memory when dropped. `Debug` prints the type name and a
        /// [`Fingerprint`] only, there is no `Display`, and reading the value takes an explicit
        /// [`expose_secret`](Self::expose_secret). Equality is checked in constant time.
        pub struct $name(SecretBox<str>);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(seal(value.into()))
            }

            /// Returns the secret value.
            ///
            /// # Security warning
            ///
            /// The returned text is the credential itself. Send it only where it is meant to go
            /// (a request header or body, a token store); never log, print or put it in an error.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }

            /// A short fingerprint that tells values apart without revealing them.
            pub fn fingerprint(&self) -> Fingerprint {
                Fingerprint::of(self.expose_secret().as_bytes())
            }

            /// Whether the value is empty or only white space.
            pub fn is_blank(&self) -> bool {
                self.expose_secret().trim().is_empty()
            }
        }

        impl Clone for $name {
            fn clone(&self) -> Self {
                // `Box::from(&str)` allocates exactly `len` bytes: no spare copy is left behind.
                Self(SecretBox::new(Box::from(self.expose_secret())))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.fingerprint()).finish()
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.expose_secret()
                    .as_bytes()
                    .ct_eq(other.expose_secret().as_bytes())
                    .into()
            }
        }

        impl Eq for $name {}

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

secret_type!(
    /// An OAuth 2 access token: the bearer credential sent as `Authorization: Bearer ...`.
    AccessToken
);
secret_type!(
    /// An OAuth 2 refresh token. IMS rotates it on every refresh: the newest one is the only
    /// live one.
    RefreshToken
);
secret_type!(
    /// An OpenID Connect ID token (a signed JWT about the user).
    IdToken
);
secret_type!(
    /// The client secret of a confidential OAuth client (Server-to-Server or Web App).
    ClientSecret
);
secret_type!(
    /// A Frame.io V2 Developer Token (usually `fio-u-...`): a static bearer token with its
    /// user's rights.
    DeveloperToken
);
secret_type!(
    /// An authorization code from the redirect of an authorization request; single use.
    AuthorizationCode
);
secret_type!(
    /// A PKCE code verifier (RFC 7636): 43 to 128 characters of the unreserved set.
    ///
    /// Create one with [`PkceVerifier::generate`].
    PkceVerifier
);
secret_type!(
    /// The `state` value of an authorization request, which ties the redirect back to the
    /// request that started it (CSRF protection). Compare with `==`: it is constant time.
    ///
    /// Create one with [`CsrfState::generate`].
    CsrfState
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_type_and_fingerprint_only() {
        let token = AccessToken::new("super-secret-value");
        let shown = format!("{token:?}");
        assert!(shown.starts_with("AccessToken(sha256:"), "{shown}");
        assert!(!shown.contains("super-secret-value"));
        assert_eq!(shown.len(), "AccessToken(sha256:12345678)".len());
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(CsrfState::new("abc"), CsrfState::new("abc"));
        assert_ne!(CsrfState::new("abc"), CsrfState::new("abd"));
        assert_ne!(CsrfState::new("abc"), CsrfState::new("abcd"));
    }

    #[test]
    fn spare_capacity_is_sealed_exactly() {
        let mut value = String::with_capacity(64);
        value.push_str("token");
        let secret = RefreshToken::new(value);
        assert_eq!(secret.expose_secret(), "token");
        assert_eq!(secret.clone(), secret);
    }

    #[test]
    fn fingerprints_differ_for_different_values() {
        assert_ne!(
            ClientSecret::new("a").fingerprint(),
            ClientSecret::new("b").fingerprint()
        );
        assert!(ClientSecret::new("  ").is_blank());
    }
}
