//! Scrubbing token-like text out of strings that may end up in errors or logs.

use std::borrow::Cow;

/// Characters that make up tokens: base64, base64url, JWT dots and the PKCE set. `=` is left
/// out so that `token=<value>` splits at the `=`; trailing base64 padding stays, harmlessly.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/')
}

/// The shortest run of token characters that is treated as a credential.
const MIN_OPAQUE_LEN: usize = 24;

fn looks_like_credential(word: &str) -> bool {
    word.len() >= MIN_OPAQUE_LEN
        || (word.len() >= 10 && (word.starts_with("eyJ") || word.starts_with("fio-u-")))
}

/// Replaces anything that looks like a credential with `[redacted]`.
///
/// A credential is a JWT (`eyJ...`), a Frame.io Developer Token (`fio-u-...`), or any run of
/// 24 or more base64/URL-safe characters. Meant for server error text and body excerpts,
/// which may echo a token back; ordinary words and short identifiers pass unchanged.
///
/// ```
/// use frameio_auth_core::redact_tokens;
/// let text = "bad token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here";
/// assert_eq!(redact_tokens(text), "bad token [redacted] here");
/// assert_eq!(redact_tokens("invalid code"), "invalid code");
/// ```
pub fn redact_tokens(text: &str) -> Cow<'_, str> {
    let words = text.split(|c: char| !is_token_char(c));
    if !words.clone().any(looks_like_credential) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| !is_token_char(c)).unwrap_or(tail.len());
        let word = &tail[..end];
        out.push_str(if looks_like_credential(word) {
            "[redacted]"
        } else {
            word
        });
        rest = &tail[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A short excerpt of `text` for an error message: [`redact_tokens`] applied, then cut to
/// `max_chars` characters (with `…` when cut).
///
/// ```
/// use frameio_auth_core::redacted_excerpt;
/// assert_eq!(redacted_excerpt("<html>Bad Gateway</html>", 10), "<html>Bad …");
/// ```
pub fn redacted_excerpt(text: &str, max_chars: usize) -> String {
    let redacted = redact_tokens(text);
    let mut out: String = redacted.chars().take(max_chars).collect();
    if redacted.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_each_kind() {
        assert_eq!(
            redact_tokens("token=fio-u-abcdefghij;"),
            "token=[redacted];"
        );
        assert_eq!(
            redact_tokens("x 0123456789abcdefABCDEF0123 y"),
            "x [redacted] y"
        );
        assert_eq!(redact_tokens("short abc-def.ghi"), "short abc-def.ghi");
        assert_eq!(redact_tokens("é eyJabcdefghijk é"), "é [redacted] é");
    }

    #[test]
    fn excerpt_truncates() {
        assert_eq!(redacted_excerpt("abcdef", 3), "abc…");
        assert_eq!(redacted_excerpt("abc", 3), "abc");
    }
}
