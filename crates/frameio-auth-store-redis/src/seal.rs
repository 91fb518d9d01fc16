//! Encryption at rest: the sealed form of a stored value, and the keys that open it.
//!
//! A value is a header followed by the payload:
//!
//! ```text
//! "fa" | format version (1) | algorithm | key id length | key id | nonce (24) | ciphertext+tag
//! ```
//!
//! Algorithm 1 is XChaCha20-Poly1305 (a random 192-bit nonce per write, so random nonces never
//! collide in practice), whose associated data is the header followed by a zero byte and the
//! `TokenKey`'s string form: a value copied under another key, or with its header edited,
//! fails to open. Algorithm 0 is the explicit plaintext opt-out: no key id, no nonce, the
//! payload is the versioned JSON of `frameio-auth-core` as it is.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use frameio_auth_core::{FormatError, StoreError, TokenKey, TokenSet};
use zeroize::Zeroizing;

use crate::ConfigError;

/// The first bytes of every value this store writes.
const MAGIC: &[u8; 2] = b"fa";
/// The sealed format this release writes and reads.
pub(crate) const SEALED_VERSION: u8 = 1;
const PLAINTEXT: u8 = 0;
const XCHACHA20_POLY1305: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// The longest key id: it is stored in every value.
pub const MAX_KEY_ID_LEN: usize = 32;

/// A 256-bit key for sealing stored values, with the id that names it in each value it
/// seals (so that a rotated-out key can still open old values).
///
/// Its `Debug` shows the id only; the key bytes are wiped when it is dropped.
///
/// ```
/// use frameio_auth_store_redis::EncryptionKey;
///
/// let key = EncryptionKey::from_base64("2026-12", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
/// assert_eq!(key.id(), "2026-12");
/// assert_eq!(format!("{key:?}"), "EncryptionKey { id: \"2026-12\", .. }");
/// # Ok::<(), frameio_auth_store_redis::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct EncryptionKey {
    id: String,
    bytes: Zeroizing<[u8; 32]>,
}

impl EncryptionKey {
    /// A key from its 32 bytes. The id (1 to 32 ASCII letters, digits, `-`, `_` or `.`) is
    /// stored in every value the key seals.
    pub fn from_bytes(id: impl Into<String>, bytes: [u8; 32]) -> Result<Self, ConfigError> {
        let id = id.into();
        check_key_id(&id)?;
        Ok(Self {
            id,
            bytes: Zeroizing::new(bytes),
        })
    }

    /// A key from the base64 (standard or URL-safe, padded or not) of its 32 bytes, such as
    /// the output of `openssl rand -base64 32` or `head -c 32 /dev/urandom | base64`.
    pub fn from_base64(id: impl Into<String>, encoded: &str) -> Result<Self, ConfigError> {
        let id = id.into();
        check_key_id(&id)?;
        let encoded = encoded.trim();
        let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(encoded).ok())
            .map(Zeroizing::new)
            .ok_or_else(|| ConfigError::InvalidKey {
                id: id.clone(),
                reason: "it is not base64; make one with `head -c 32 /dev/urandom | base64`"
                    .to_owned(),
            })?;
        let bytes: [u8; 32] =
            decoded
                .as_slice()
                .try_into()
                .map_err(|_| ConfigError::InvalidKey {
                    id: id.clone(),
                    reason: format!(
                        "it decodes to {} bytes, not 32; make one with `head -c 32 /dev/urandom | base64`",
                        decoded.len()
                    ),
                })?;
        Self::from_bytes(id, bytes)
    }

    /// A key from the environment variable `variable`, which holds its base64.
    pub fn from_env(id: impl Into<String>, variable: &str) -> Result<Self, ConfigError> {
        Self::from_lookup(id, variable, |name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `lookup` (tests, or a
    /// configuration that resolves variables itself).
    pub fn from_lookup(
        id: impl Into<String>,
        variable: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let value = lookup(variable)
            .map(Zeroizing::new)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ConfigError::MissingKeyVariable {
                variable: variable.to_owned(),
            })?;
        Self::from_base64(id, &value)
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn check_key_id(id: &str) -> Result<(), ConfigError> {
    let valid = !id.is_empty()
        && id.len() <= MAX_KEY_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(ConfigError::InvalidKeyId { id: id.to_owned() })
    }
}

/// How values are sealed: with a current key (and old keys that still open), or not at all.
#[derive(Clone)]
pub(crate) enum Sealing {
    Encrypted {
        current: EncryptionKey,
        old: Vec<EncryptionKey>,
    },
    Plaintext,
}

impl fmt::Debug for Sealing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encrypted { current, old } => f
                .debug_struct("Encrypted")
                .field("current", &current.id)
                .field("old", &old.iter().map(|k| &k.id).collect::<Vec<_>>())
                .finish(),
            Self::Plaintext => f.write_str("Plaintext"),
        }
    }
}

fn associated_data(header: &[u8], key: &TokenKey) -> Zeroizing<Vec<u8>> {
    let mut aad = Zeroizing::new(Vec::with_capacity(header.len() + 1 + key.as_str().len()));
    aad.extend_from_slice(header);
    aad.push(0);
    aad.extend_from_slice(key.as_str().as_bytes());
    aad
}

fn corrupt(location: &str, reason: FormatError) -> StoreError {
    StoreError::Corrupt {
        location: location.to_owned(),
        reason,
    }
}

fn invalid(location: &str, reason: impl Into<String>) -> StoreError {
    corrupt(
        location,
        FormatError::Invalid {
            reason: reason.into(),
        },
    )
}

fn decryption(location: &str, message: String) -> StoreError {
    StoreError::Decryption {
        location: location.to_owned(),
        message,
    }
}

impl Sealing {
    /// The sealed value of `tokens` stored under `key`.
    pub(crate) fn seal(&self, key: &TokenKey, tokens: &TokenSet) -> Result<Vec<u8>, StoreError> {
        let json = tokens
            .to_stored_json()
            .map_err(StoreError::cannot_serialize)?;
        let Self::Encrypted { current, .. } = self else {
            let mut value = Vec::with_capacity(5 + json.len());
            value.extend_from_slice(MAGIC);
            value.extend_from_slice(&[SEALED_VERSION, PLAINTEXT, 0]);
            value.extend_from_slice(&json);
            return Ok(value);
        };
        let mut header = Vec::with_capacity(5 + current.id.len());
        header.extend_from_slice(MAGIC);
        // The id is at most 32 bytes (checked when the key was made).
        header.extend_from_slice(&[
            SEALED_VERSION,
            XCHACHA20_POLY1305,
            u8::try_from(current.id.len()).unwrap_or(u8::MAX),
        ]);
        header.extend_from_slice(current.id.as_bytes());
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| StoreError::Backend {
            message: format!("the OS random generator failed, so no nonce could be made: {e}"),
            source: None,
        })?;
        let cipher = XChaCha20Poly1305::new(&(*current.bytes).into());
        let aad = associated_data(&header, key);
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &json,
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::Backend {
                message: "cannot encrypt the token set".to_owned(),
                source: None,
            })?;
        let mut value = header;
        value.extend_from_slice(&nonce);
        value.extend_from_slice(&sealed);
        Ok(value)
    }

    /// The token set in `value`, stored under `key` at `location`. Errors never quote the
    /// value; they name key ids, lengths and what to do.
    pub(crate) fn open(
        &self,
        key: &TokenKey,
        location: &str,
        value: &[u8],
    ) -> Result<TokenSet, StoreError> {
        if value.len() < 5 || &value[..2] != MAGIC {
            if value.len() >= 2 && &value[..2] == MAGIC || MAGIC.starts_with(value) {
                return Err(invalid(
                    location,
                    format!("truncated: {} bytes, shorter than a header", value.len()),
                ));
            }
            return Err(corrupt(location, FormatError::Foreign));
        }
        if value[2] != SEALED_VERSION {
            return Err(corrupt(
                location,
                FormatError::UnsupportedVersion {
                    found: u64::from(value[2]),
                },
            ));
        }
        let (algorithm, id_len) = (value[3], usize::from(value[4]));
        let header_len = 5 + id_len;
        let Some(id) = value.get(5..header_len) else {
            return Err(invalid(
                location,
                format!(
                    "truncated: {} bytes, the header needs {header_len}",
                    value.len()
                ),
            ));
        };
        let id = String::from_utf8_lossy(id);
        let json: Zeroizing<Vec<u8>> = match (algorithm, self) {
            (PLAINTEXT, Self::Plaintext) => Zeroizing::new(value[header_len..].to_vec()),
            (PLAINTEXT, Self::Encrypted { .. }) => {
                return Err(decryption(
                    location,
                    "the entry is stored in plaintext, but this store encrypts: a plaintext \
                     entry is not trusted; delete it and sign in again, or open it with a \
                     plaintext store to move it"
                        .to_owned(),
                ));
            }
            (XCHACHA20_POLY1305, Self::Plaintext) => {
                return Err(decryption(
                    location,
                    format!(
                        "the entry is encrypted with key `{id}`, but this store has no key: \
                         configure the same key (id `{id}`)"
                    ),
                ));
            }
            (XCHACHA20_POLY1305, Self::Encrypted { current, old }) => open_sealed(
                std::iter::once(current).chain(old),
                key,
                location,
                value,
                header_len,
            )?,
            (other, _) => {
                return Err(invalid(
                    location,
                    format!("unknown encryption algorithm {other}"),
                ));
            }
        };
        TokenSet::from_stored_json(&json).map_err(|reason| corrupt(location, reason))
    }
}

/// Opens an XChaCha20-Poly1305 value whose header is `value[..header_len]`, with the key its
/// header names among `keys`.
fn open_sealed<'k>(
    keys: impl Iterator<Item = &'k EncryptionKey> + Clone,
    key: &TokenKey,
    location: &str,
    value: &[u8],
    header_len: usize,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let id_bytes = &value[5..header_len];
    let id = String::from_utf8_lossy(id_bytes);
    let Some(secret) = keys.clone().find(|k| k.id.as_bytes() == id_bytes) else {
        let known: Vec<&str> = keys.map(|k| k.id.as_str()).collect();
        return Err(decryption(
            location,
            format!(
                "the entry was written with key `{id}`, which this store does not have (it has \
                 {}): add that key, as the current or an old key",
                known.join(", ")
            ),
        ));
    };
    let body = &value[header_len..];
    if body.len() < NONCE_LEN + TAG_LEN {
        return Err(invalid(
            location,
            format!(
                "truncated: {} bytes after the header, a sealed value has at least {}",
                body.len(),
                NONCE_LEN + TAG_LEN
            ),
        ));
    }
    let (nonce, sealed) = body.split_at(NONCE_LEN);
    let mut nonce_bytes = [0u8; NONCE_LEN];
    nonce_bytes.copy_from_slice(nonce);
    let cipher = XChaCha20Poly1305::new(&(*secret.bytes).into());
    let aad = associated_data(&value[..header_len], key);
    cipher
        .decrypt(
            &XNonce::from(nonce_bytes),
            Payload {
                msg: sealed,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| {
            decryption(
                location,
                format!(
                    "the entry does not open with key `{id}`: the key is not the one that sealed \
                     it, or the value was altered, truncated or copied from another entry; \
                     configure the right key, or delete the entry and sign in again"
                ),
            )
        })
}
