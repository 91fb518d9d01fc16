//! Reading response bodies with a size cap, and quoting them safely in errors.

use frameio_auth_core::redacted_excerpt_known;
use zeroize::Zeroizing;

/// The longest body excerpt quoted in an error, in characters.
const EXCERPT_CHARS: usize = 200;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Larger than the cap (announced by `Content-Length`, or seen while streaming).
    TooLarge,
    /// The connection failed while reading (closed early, reset, timed out).
    Transport(reqwest::Error),
}

/// Reads the whole body, but never more than `limit` bytes: a `Content-Length` above the limit
/// fails before reading anything, and a streamed body fails as soon as it passes the limit.
///
/// The body holds tokens: it is wiped when dropped, and so is every smaller buffer it grew
/// out of (it grows by copying into a new wiping buffer, never by reallocating in place).
pub(crate) async fn read_capped(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<Zeroizing<Vec<u8>>, BodyError> {
    let announced = response.content_length();
    if announced.is_some_and(|len| usize::try_from(len).map_or(true, |len| len > limit)) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Zeroizing::new(Vec::with_capacity(
        announced.map_or(0, |len| usize::try_from(len).unwrap_or(0)),
    ));
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        let needed = body.len().saturating_add(chunk.len());
        if needed > limit {
            return Err(BodyError::TooLarge);
        }
        if needed > body.capacity() {
            let mut grown = Zeroizing::new(Vec::with_capacity(
                needed.max(body.capacity().saturating_mul(2)).min(limit),
            ));
            grown.extend_from_slice(&body);
            body = grown;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A short, single-line excerpt of `body` for an error message, with anything token-like
/// replaced by `[redacted]`.
pub(crate) fn excerpt(body: &[u8]) -> String {
    excerpt_known(body, &[])
}

/// [`excerpt`], with the given secrets of the request in hand (and their encoded forms)
/// redacted as well.
pub(crate) fn excerpt_known(body: &[u8], known: &[&str]) -> String {
    let text = String::from_utf8_lossy(body);
    let flat: String = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if flat.is_empty() {
        return "(empty body)".to_owned();
    }
    redacted_excerpt_known(&flat, EXCERPT_CHARS, known)
}

/// Whether `body` is JSON at all (as opposed to HTML, text or garbage).
pub(crate) fn is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_flat_and_redacted() {
        let html = b"<html>\n  <body>\t502 Bad Gateway eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln</body></html>";
        assert_eq!(
            excerpt(html),
            "<html> <body> 502 Bad Gateway [redacted]</body></html>"
        );
        let long = "x ".repeat(500);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(excerpt(b"  \n"), "(empty body)");
        assert_eq!(excerpt(&[0xff, 0xfe, b'a']), "\u{fffd}\u{fffd}a");
    }

    #[test]
    fn json_detection() {
        assert!(is_json(br#"{"a":1}"#));
        assert!(is_json(b"[]"));
        assert!(!is_json(b"<html>"));
        assert!(!is_json(br#"{"a":"#));
    }
}
