//! Values larger than one keyring item: a small header item pointing at numbered chunks.
//!
//! A value up to the chunk size is stored as it is (a token set's JSON starts with `{`).
//! A larger one is split into chunks stored under `<account>#<generation>.<index>`, and the
//! main item holds the header
//!
//! ```text
//! frameio-auth-chunks/1 <generation> <count> <total length> <sha256 of the value, hex>
//! ```
//!
//! Writes store the new chunks under a new random generation, then replace the header (one
//! item, atomic), then delete the previous generation's chunks. A reader that finds a chunk
//! missing re-reads the header: if it changed, a writer replaced the value meanwhile and the
//! reader starts over; if not, the entry is damaged and the error says which chunk is
//! missing. The digest guarantees a reader never assembles half a token.

use std::fmt;
use std::fmt::Write as _;

use frameio_auth_core::FormatError;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The header's first word.
pub(crate) const MAGIC: &str = "frameio-auth-chunks/1";
/// What every version of the header starts with; a main item starting so is a header.
const MAGIC_PREFIX: &str = "frameio-auth-chunks/";
/// The longest value a header may announce (16 MiB). A damaged header claiming more is
/// refused before anything is allocated for it.
pub(crate) const MAX_VALUE_LEN: usize = 16 * 1024 * 1024;

/// A parsed chunk header. `Debug` leaves out the digest (a hash of the token set).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) generation: String,
    pub(crate) count: usize,
    pub(crate) total_len: usize,
    pub(crate) digest: [u8; 32],
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Header")
            .field("generation", &self.generation)
            .field("count", &self.count)
            .field("total_len", &self.total_len)
            .field("digest", &"<redacted>")
            .finish()
    }
}

/// What a main item holds. `Debug` shows no secret: the length of an inline value only.
pub(crate) enum Stored {
    /// The whole value.
    Inline(Zeroizing<Vec<u8>>),
    /// A header pointing at chunks.
    Chunked(Header),
}

impl fmt::Debug for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inline(value) => write!(f, "Inline(<{} bytes redacted>)", value.len()),
            Self::Chunked(header) => f.debug_tuple("Chunked").field(header).finish(),
        }
    }
}

/// The account of chunk `index` of `generation` for `account`. `#` never occurs in a token
/// key's string form, so a chunk's account never collides with an entry's.
pub(crate) fn chunk_account(account: &str, generation: &str, index: usize) -> String {
    format!("{account}#{generation}.{index}")
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

impl Header {
    /// The header for `value` split into chunks of `chunk_size` under `generation`.
    pub(crate) fn new(value: &[u8], chunk_size: usize, generation: String) -> Self {
        Self {
            generation,
            count: value.len().div_ceil(chunk_size.max(1)),
            total_len: value.len(),
            digest: Sha256::digest(value).into(),
        }
    }

    pub(crate) fn render(&self) -> Vec<u8> {
        format!(
            "{MAGIC} {} {} {} {}",
            self.generation,
            self.count,
            self.total_len,
            hex(&self.digest)
        )
        .into_bytes()
    }

    fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        let invalid = |what: &str| FormatError::Invalid {
            reason: format!("malformed chunk header: {what}"),
        };
        let text = std::str::from_utf8(bytes).map_err(|_| invalid("not UTF-8"))?;
        let parts: Vec<&str> = text.split(' ').collect();
        let [magic, generation, count, total_len, digest] = parts[..] else {
            return Err(invalid("expected 5 fields"));
        };
        if magic != MAGIC {
            if let Some(found) = magic
                .strip_prefix(MAGIC_PREFIX)
                .and_then(|v| v.parse::<u64>().ok())
            {
                return Err(FormatError::UnsupportedVersion { found });
            }
            return Err(invalid("unknown marker"));
        }
        if generation.is_empty() || !generation.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("bad generation"));
        }
        let count: usize = count.parse().map_err(|_| invalid("bad chunk count"))?;
        let total_len: usize = total_len.parse().map_err(|_| invalid("bad length"))?;
        if count == 0 || count > 100_000 || total_len < count {
            return Err(invalid("inconsistent chunk count and length"));
        }
        if total_len > MAX_VALUE_LEN {
            return Err(invalid("the length is over the 16 MiB limit"));
        }
        // All ASCII hex digits (so every byte index below is a character boundary).
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("bad digest"));
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digest[2 * i..2 * i + 2], 16)
                .map_err(|_| invalid("bad digest"))?;
        }
        Ok(Self {
            generation: generation.to_owned(),
            count,
            total_len,
            digest: out,
        })
    }

    /// Checks an assembled value against the header.
    pub(crate) fn verify(&self, value: &[u8]) -> Result<(), FormatError> {
        if value.len() != self.total_len {
            return Err(FormatError::Invalid {
                reason: format!(
                    "the chunks add up to {} bytes, the header says {}",
                    value.len(),
                    self.total_len
                ),
            });
        }
        let digest: [u8; 32] = Sha256::digest(value).into();
        if digest != self.digest {
            return Err(FormatError::Invalid {
                reason: "the chunks do not match the header's digest (mixed or damaged chunks)"
                    .to_owned(),
            });
        }
        Ok(())
    }
}

/// Classifies a main item's bytes.
pub(crate) fn classify(bytes: Zeroizing<Vec<u8>>) -> Result<Stored, FormatError> {
    if bytes.starts_with(MAGIC_PREFIX.as_bytes()) {
        Header::parse(&bytes).map(Stored::Chunked)
    } else {
        Ok(Stored::Inline(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let value = vec![7u8; 5000];
        let header = Header::new(&value, 2048, "00ff".to_owned());
        assert_eq!(header.count, 3);
        let parsed = match classify(Zeroizing::new(header.render())).unwrap() {
            Stored::Chunked(h) => h,
            Stored::Inline(_) => panic!("expected a header"),
        };
        assert_eq!(parsed, header);
        parsed.verify(&value).unwrap();
        let mut other = value.clone();
        other[10] = 8;
        assert!(parsed.verify(&other).is_err());
        assert!(parsed.verify(&value[..4000]).is_err());
    }

    #[test]
    fn bad_headers_are_typed_errors() {
        for bad in [
            "frameio-auth-chunks/1",
            "frameio-auth-chunks/1 zz 1 1 00",
            "frameio-auth-chunks/1 00 0 0 00",
            "frameio-auth-chunks/1 00 5 2 0000000000000000000000000000000000000000000000000000000000000000",
            "frameio-auth-chunks/1 00 1 1 xyz",
        ] {
            assert!(
                matches!(
                    classify(Zeroizing::new(bad.as_bytes().to_vec())),
                    Err(FormatError::Invalid { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            classify(Zeroizing::new(b"{\"format\":1}".to_vec())),
            Ok(Stored::Inline(_))
        ));
    }

    const ZEROS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn a_digest_with_a_multi_byte_character_is_an_error_not_a_panic() {
        // 64 bytes, with a two-byte character across the boundary of the first byte pair.
        let digest = format!("0\u{e9}{}", &ZEROS[..61]);
        assert_eq!(digest.len(), 64);
        let bad = format!("{MAGIC} 00 1 1 {digest}");
        assert!(matches!(
            classify(Zeroizing::new(bad.into_bytes())),
            Err(FormatError::Invalid { .. })
        ));
    }

    #[test]
    fn a_huge_length_is_refused_before_allocating() {
        for len in [
            (MAX_VALUE_LEN + 1).to_string(),
            usize::MAX.to_string(),
            "99999999999999999999999999".to_owned(),
        ] {
            let bad = format!("{MAGIC} 00 3 {len} {ZEROS}");
            assert!(
                matches!(
                    classify(Zeroizing::new(bad.into_bytes())),
                    Err(FormatError::Invalid { .. })
                ),
                "{len}"
            );
        }
        let at_limit = format!("{MAGIC} 00 3 {MAX_VALUE_LEN} {ZEROS}");
        assert!(classify(Zeroizing::new(at_limit.into_bytes())).is_ok());
    }

    #[test]
    fn a_later_header_version_is_unsupported_not_inline() {
        let later = format!("frameio-auth-chunks/2 00 1 1 {ZEROS}");
        assert!(matches!(
            classify(Zeroizing::new(later.into_bytes())),
            Err(FormatError::UnsupportedVersion { found: 2 })
        ));
    }

    #[test]
    fn debug_shows_no_secret() {
        let secret = b"{\"access_token\":\"very-secret-token\"}".to_vec();
        let header = Header::new(&secret, 8, "00ff".to_owned());
        let digest_hex = hex(&header.digest);
        let shown = format!(
            "{:?} {:?} {header:?} {:#?}",
            Stored::Inline(Zeroizing::new(secret.clone())),
            Stored::Chunked(header.clone()),
            Stored::Inline(Zeroizing::new(secret.clone())),
        );
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains(&digest_hex[..16]), "{shown}");
        let bytes: Vec<String> = header.digest.iter().map(u8::to_string).collect();
        assert!(!shown.contains(&bytes[..4].join(", ")), "{shown}");
        assert!(
            shown.contains("redacted") && shown.contains("00ff"),
            "{shown}"
        );
    }
}
