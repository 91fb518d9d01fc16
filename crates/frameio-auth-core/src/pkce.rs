//! PKCE (RFC 7636, S256 only) and random `state` values.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::{CsrfState, PkceVerifier, ProtocolError};

/// The operating system's random number generator failed.
#[derive(Debug, thiserror::Error)]
#[error(
    "the operating system's random number generator failed ({0}); PKCE and state values cannot be made safely"
)]
pub struct RandomnessError(getrandom::Error);

/// `chars` characters of base64url (a subset of the PKCE unreserved set) from fresh randomness.
fn random_urlsafe(chars: usize) -> Result<String, RandomnessError> {
    let mut bytes = vec![0_u8; chars.div_ceil(4) * 3];
    getrandom::fill(&mut bytes).map_err(RandomnessError)?;
    let mut text = URL_SAFE_NO_PAD.encode(&bytes);
    bytes.zeroize();
    text.truncate(chars);
    Ok(text)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

impl PkceVerifier {
    /// The shortest verifier RFC 7636 allows.
    pub const MIN_LEN: usize = 43;
    /// The longest verifier RFC 7636 allows.
    pub const MAX_LEN: usize = 128;
    /// The length [`generate`](Self::generate) uses: 64 characters, 384 bits of randomness.
    pub const DEFAULT_LEN: usize = 64;

    /// A new random verifier of [`DEFAULT_LEN`](Self::DEFAULT_LEN) characters.
    ///
    /// ```
    /// use frameio_auth_core::PkceVerifier;
    /// let verifier = PkceVerifier::generate()?;
    /// assert_eq!(verifier.expose_secret().len(), 64);
    /// assert_eq!(verifier.challenge().method(), "S256");
    /// # Ok::<(), frameio_auth_core::RandomnessError>(())
    /// ```
    pub fn generate() -> Result<Self, RandomnessError> {
        Self::generate_with_len(Self::DEFAULT_LEN)
    }

    /// A new random verifier of `len` characters, clamped to 43..=128.
    pub fn generate_with_len(len: usize) -> Result<Self, RandomnessError> {
        random_urlsafe(len.clamp(Self::MIN_LEN, Self::MAX_LEN)).map(Self::new)
    }

    /// Accepts an existing verifier (for example one restored from a session) after checking
    /// its length and characters.
    pub fn parse(value: impl Into<String>) -> Result<Self, ProtocolError> {
        let verifier = Self::new(value);
        let text = verifier.expose_secret();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&text.len()) {
            return Err(ProtocolError::InvalidField {
                field: "code_verifier",
                reason: format!(
                    "must be {} to {} characters long, found {}",
                    Self::MIN_LEN,
                    Self::MAX_LEN,
                    text.len()
                ),
            });
        }
        if !text.bytes().all(is_unreserved) {
            return Err(ProtocolError::InvalidField {
                field: "code_verifier",
                reason: "may only hold A-Z a-z 0-9 - . _ ~".to_owned(),
            });
        }
        Ok(verifier)
    }

    /// The S256 challenge for this verifier.
    pub fn challenge(&self) -> PkceChallenge {
        PkceChallenge::s256(self)
    }
}

impl CsrfState {
    /// A new random state value: 43 characters, 256 bits of randomness.
    pub fn generate() -> Result<Self, RandomnessError> {
        random_urlsafe(43).map(Self::new)
    }
}

/// A PKCE code challenge: `BASE64URL(SHA256(verifier))`, sent with `code_challenge_method=S256`.
///
/// Not a secret: it travels in the authorization URL. Only S256 is offered, because IMS
/// defaults to `plain` when the method is left out.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// The value of `code_challenge_method`.
    pub const METHOD: &'static str = "S256";

    /// Computes the S256 challenge of `verifier`.
    pub fn s256(verifier: &PkceVerifier) -> Self {
        let digest = Sha256::digest(verifier.expose_secret().as_bytes());
        Self(URL_SAFE_NO_PAD.encode(digest))
    }

    /// The challenge text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Always `S256`.
    pub fn method(&self) -> &'static str {
        Self::METHOD
    }
}

impl fmt::Debug for PkceChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PkceChallenge").field(&self.0).finish()
    }
}

impl fmt::Display for PkceChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(
            verifier.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_values_are_distinct_and_well_formed() {
        let a = PkceVerifier::generate().unwrap();
        let b = PkceVerifier::generate().unwrap();
        assert_ne!(a, b);
        assert!(PkceVerifier::parse(a.expose_secret()).is_ok());
        assert_eq!(
            PkceVerifier::generate_with_len(1)
                .unwrap()
                .expose_secret()
                .len(),
            43
        );
        assert_eq!(
            PkceVerifier::generate_with_len(500)
                .unwrap()
                .expose_secret()
                .len(),
            128
        );
        let state = CsrfState::generate().unwrap();
        assert_eq!(state.expose_secret().len(), 43);
        assert_ne!(state, CsrfState::generate().unwrap());
    }

    #[test]
    fn parse_rejects_bad_verifiers() {
        assert!(PkceVerifier::parse("short").is_err());
        assert!(PkceVerifier::parse("a".repeat(129)).is_err());
        assert!(PkceVerifier::parse(format!("{}!", "a".repeat(50))).is_err());
        assert!(PkceVerifier::parse("~.-_".repeat(11)).is_ok());
    }
}
