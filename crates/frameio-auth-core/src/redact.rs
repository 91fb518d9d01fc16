//! Scrubbing token-like text out of strings that may end up in errors or logs.
//!
//! The text is percent-decoded before it is scanned, and whatever is found is redacted in the
//! original text, so `refresh_token=9fQx%2BLmN%2F…` loses its encoded value too. Three rules
//! mark a credential:
//!
//! - the value after a credential name (`access_token`, `refresh_token`, `id_token`,
//!   `client_secret`, `code`, `code_verifier`), in form (`name=value`) or JSON
//!   (`"name":"value"`) form, in any case, however short;
//! - the value after `Basic ` or `Bearer `, in any case;
//! - a JWT (`eyJ...`), a Frame.io Developer Token (`fio-u-...`), or any run of 24 or more
//!   base64/URL-safe characters.
//!
//! [`redact_known`] also removes the exact secrets of the request in hand, in their raw,
//! percent-encoded, form-encoded and JSON-escaped forms.

use std::borrow::Cow;
use std::ops::Range;

/// Characters that make up tokens: base64, base64url, JWT dots and the PKCE set. `=` is left
/// out so that `token=<value>` splits at the `=`; trailing base64 padding stays, harmlessly.
fn is_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~' | b'+' | b'/')
}

/// The shortest run of token characters that is treated as a credential.
const MIN_OPAQUE_LEN: usize = 24;

/// Names whose value is always a credential, however short (matched in any case).
const SECRET_NAMES: [&[u8]; 6] = [
    b"access_token",
    b"refresh_token",
    b"id_token",
    b"client_secret",
    b"code_verifier",
    b"code",
];

/// Authorization schemes whose parameter is always a credential (matched in any case).
const SCHEMES: [&[u8]; 2] = [b"basic", b"bearer"];

/// The shortest known secret that [`redact_known`] searches for; shorter values would match
/// ordinary text by chance (the name rules still catch them).
const MIN_KNOWN_LEN: usize = 4;

const REDACTED: &str = "[redacted]";

fn looks_like_credential(word: &[u8]) -> bool {
    word.len() >= MIN_OPAQUE_LEN
        || (word.len() >= 10 && (word.starts_with(b"eyJ") || word.starts_with(b"fio-u-")))
}

/// The percent-decoded bytes of a text, each with the offset in the original text where it
/// starts (plus one final entry, the original length).
struct Decoded {
    bytes: Vec<u8>,
    origin: Vec<usize>,
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn decode(text: &str) -> Decoded {
    let raw = text.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut origin = Vec::with_capacity(raw.len() + 1);
    let mut i = 0;
    while i < raw.len() {
        origin.push(i);
        let escaped = match raw.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(hi, lo)| (hi << 4) | lo),
            _ => None,
        };
        if let Some(byte) = escaped {
            bytes.push(byte);
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    origin.push(raw.len());
    Decoded { bytes, origin }
}

fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .get(..needle.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(needle))
}

/// Whether position `at` starts a word (is not preceded by a name character).
fn at_word_start(bytes: &[u8], at: usize) -> bool {
    at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_')
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|c| *c == b' ' || *c == b'\t') {
        at += 1;
    }
    at
}

/// The value after a credential name at `name_end`: `=value` (form) or `":"value"` (JSON).
fn named_value(bytes: &[u8], name_end: usize) -> Option<Range<usize>> {
    let mut at = name_end;
    let quoted_name = bytes.get(at) == Some(&b'"');
    if quoted_name {
        at += 1;
    }
    at = skip_spaces(bytes, at);
    let separator = bytes.get(at).copied();
    at = skip_spaces(bytes, at + 1);
    // `name=value`, `"name": value` or `name: "value"`; prose such as `invalid code: expired`
    // is left alone.
    let json_like = quoted_name || bytes.get(at) == Some(&b'"');
    if !(separator == Some(b'=') || (separator == Some(b':') && json_like)) {
        return None;
    }
    if bytes.get(at) == Some(&b'"') {
        // A JSON string: up to the closing, unescaped quote.
        let start = at + 1;
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        let end = end.min(bytes.len());
        return (end > start).then_some(start..end);
    }
    let end = bytes[at..]
        .iter()
        .position(|c| {
            c.is_ascii_whitespace()
                || matches!(
                    c,
                    b'&' | b'"' | b'\'' | b',' | b';' | b'<' | b'>' | b')' | b']' | b'}'
                )
        })
        .map_or(bytes.len(), |len| at + len);
    (end > at).then_some(at..end)
}

/// The parameter after an authorization scheme at `scheme_end` (`Basic <base64>`).
fn scheme_value(bytes: &[u8], scheme_end: usize) -> Option<Range<usize>> {
    if !matches!(bytes.get(scheme_end), Some(b' ' | b'\t')) {
        return None;
    }
    let start = skip_spaces(bytes, scheme_end);
    let end = bytes[start..]
        .iter()
        .position(|c| !(is_token_byte(*c) || *c == b'='))
        .map_or(bytes.len(), |len| start + len);
    (end > start).then_some(start..end)
}

/// The encoded forms of a known secret to look for in decoded text: raw (which covers its
/// percent-encoded form, decoded before the search), form-encoded (spaces as `+`) and
/// JSON-escaped.
fn known_forms(secret: &str) -> Vec<Vec<u8>> {
    let mut forms = vec![secret.as_bytes().to_vec()];
    let form = secret.replace(' ', "+");
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_default()
        .replace('/', "\\/");
    let json_plain = serde_json::to_string(secret).unwrap_or_default();
    let json_plain = json_plain
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned();
    for extra in [form, json, json_plain] {
        if !extra.is_empty() && !forms.iter().any(|f| f == extra.as_bytes()) {
            forms.push(extra.into_bytes());
        }
    }
    forms
}

/// The ranges of `bytes` (decoded) to redact.
fn find_secrets(bytes: &[u8], known: &[&str]) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    // Runs of token characters that look like credentials.
    let mut at = 0;
    while at < bytes.len() {
        if !is_token_byte(bytes[at]) {
            at += 1;
            continue;
        }
        let end = bytes[at..]
            .iter()
            .position(|c| !is_token_byte(*c))
            .map_or(bytes.len(), |len| at + len);
        if looks_like_credential(&bytes[at..end]) {
            found.push(at..end);
        }
        at = end;
    }
    // Values after credential names and authorization schemes.
    for at in 0..bytes.len() {
        if !at_word_start(bytes, at) {
            continue;
        }
        for name in SECRET_NAMES {
            if starts_with_ignore_case(&bytes[at..], name)
                && let Some(value) = named_value(bytes, at + name.len())
            {
                found.push(value);
            }
        }
        for scheme in SCHEMES {
            if starts_with_ignore_case(&bytes[at..], scheme)
                && let Some(value) = scheme_value(bytes, at + scheme.len())
            {
                found.push(value);
            }
        }
    }
    // The exact secrets of the request in hand.
    for secret in known.iter().filter(|s| s.len() >= MIN_KNOWN_LEN) {
        for form in known_forms(secret) {
            let mut from = 0;
            while let Some(pos) = bytes[from..]
                .windows(form.len())
                .position(|window| window == form.as_slice())
            {
                found.push(from + pos..from + pos + form.len());
                from += pos + form.len();
            }
        }
    }
    found.sort_by_key(|range| range.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(found.len());
    for range in found {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

fn redact_with<'a>(text: &'a str, known: &[&str]) -> Cow<'a, str> {
    let decoded = decode(text);
    let found = find_secrets(&decoded.bytes, known);
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for range in found {
        // Back to the original text. Decoded bytes only ever start at a character boundary
        // or inside a percent escape, which is ASCII, so these are character boundaries…
        // except for a range edge inside a multi-byte character, widened here to be safe.
        let mut start = decoded.origin[range.start];
        let mut end = decoded.origin[range.end];
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if start < copied {
            start = copied;
        }
        if end <= start {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(REDACTED);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Replaces anything that looks like a credential with `[redacted]`.
///
/// A credential is the value after a credential name (`access_token=`, `"refresh_token":`,
/// `client_secret=`, `code=`, `code_verifier=`, `id_token=`, in any case) or after `Basic ` or
/// `Bearer `, a JWT (`eyJ...`), a Frame.io Developer Token (`fio-u-...`), or any run of 24 or
/// more base64/URL-safe characters. The text is percent-decoded before it is scanned, and
/// the original (encoded) text of each credential is replaced. Meant for server error text
/// and body excerpts, which may echo a token back; ordinary words and short identifiers pass
/// unchanged.
///
/// ```
/// use frameio_auth_core::redact_tokens;
/// let text = "bad token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here";
/// assert_eq!(redact_tokens(text), "bad token [redacted] here");
/// assert_eq!(redact_tokens("invalid code"), "invalid code");
/// assert_eq!(redact_tokens("refresh_token=9fQx%2BLm&x=1"), "refresh_token=[redacted]&x=1");
/// assert_eq!(redact_tokens("Authorization: Basic Y2lkOnM="), "Authorization: Basic [redacted]");
/// ```
pub fn redact_tokens(text: &str) -> Cow<'_, str> {
    redact_with(text, &[])
}

/// [`redact_tokens`], and also every occurrence of the given secrets (the ones the request in
/// hand sent: client secret, refresh token, code, verifier, the Basic credentials…) in their
/// raw, percent-encoded, form-encoded (`+` for a space) and JSON-escaped forms. Values shorter
/// than 4 characters are not searched for (they would match by chance).
///
/// ```
/// use frameio_auth_core::redact_known;
/// assert_eq!(redact_known("echo: s3cr3t!x", &["s3cr3t!x"]), "echo: [redacted]");
/// assert_eq!(redact_known("echo: s3cr3t%21x", &["s3cr3t!x"]), "echo: [redacted]");
/// ```
pub fn redact_known<'a>(text: &'a str, secrets: &[&str]) -> Cow<'a, str> {
    redact_with(text, secrets)
}

/// A short excerpt of `text` for an error message: [`redact_tokens`] applied, then cut to
/// `max_chars` characters (with `…` when cut).
///
/// ```
/// use frameio_auth_core::redacted_excerpt;
/// assert_eq!(redacted_excerpt("<html>Bad Gateway</html>", 10), "<html>Bad …");
/// ```
pub fn redacted_excerpt(text: &str, max_chars: usize) -> String {
    redacted_excerpt_known(text, max_chars, &[])
}

/// [`redacted_excerpt`] with [`redact_known`]: the given secrets are removed as well.
pub fn redacted_excerpt_known(text: &str, max_chars: usize, secrets: &[&str]) -> String {
    let redacted = redact_known(text, secrets);
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

    // Issue 14, case 5: each of these passed through unchanged before.

    #[test]
    fn percent_encoded_token_in_an_echoed_form_is_redacted() {
        let page = "<html>502 Bad Gateway: grant_type=refresh_token&refresh_token=9fQx7Yk2%2BLmN4pQr%2FzW8&client_id=cid</html>";
        let out = redact_tokens(page);
        assert_eq!(
            out,
            "<html>502 Bad Gateway: grant_type=refresh_token&refresh_token=[redacted]&client_id=cid</html>"
        );
        // A long encoded token with no name before it: decoded, it is one 24+ run.
        assert_eq!(
            redact_tokens("echo 9fQx7Yk2%2BLmN4pQr%2FzW8aB3c end"),
            "echo [redacted] end"
        );
        // A name that is itself encoded (a double-encoded body).
        assert_eq!(
            redact_tokens("body=code%3Dabc12345%26state%3Dxyz"),
            "body=code%3D[redacted]%26state%3Dxyz"
        );
    }

    #[test]
    fn basic_and_bearer_credentials_are_redacted_in_any_case() {
        assert_eq!(
            redact_tokens("Authorization: Basic Y2lkOnNob3J0LXNlY3JldA=="),
            "Authorization: Basic [redacted]"
        );
        assert_eq!(
            redact_tokens("authorization: BEARER abc123; x"),
            "authorization: BEARER [redacted]; x"
        );
        // Always the next word, even in prose: safer than guessing.
        assert_eq!(
            redact_tokens("basic auth failed"),
            "basic [redacted] failed"
        );
        assert_eq!(redact_tokens("scheme: basic."), "scheme: basic.");
    }

    #[test]
    fn short_values_after_credential_names_are_redacted() {
        // A 22-character client secret, in form and JSON form, any case.
        assert_eq!(
            redact_tokens("client_secret=Abcdefghij0123456789xy&x=1"),
            "client_secret=[redacted]&x=1"
        );
        assert_eq!(
            redact_tokens(r#"{"Client_Secret": "Abcdefghij0123456789xy", "a":1}"#),
            r#"{"Client_Secret": "[redacted]", "a":1}"#
        );
        assert_eq!(
            redact_tokens(r#"{"access_token":"sh0rt\"tok","code_verifier":"v3r"}"#),
            r#"{"access_token":"[redacted]","code_verifier":"[redacted]"}"#
        );
        assert_eq!(
            redact_tokens("ACCESS_TOKEN=abcd&Code=xy9"),
            "ACCESS_TOKEN=[redacted]&Code=[redacted]"
        );
        // Names inside other words, and names without a value, are left alone.
        assert_eq!(redact_tokens("error_code=invalid"), "error_code=invalid");
        assert_eq!(
            redact_tokens("invalid code: expired"),
            "invalid code: expired"
        );
    }

    #[test]
    fn known_secrets_are_redacted_in_every_encoding() {
        let secret = "s3c/r+t !x\"y";
        let percent = "s3c%2Fr%2Bt%20%21x%22y";
        let form = "s3c%2Fr%2Bt+%21x%22y";
        let json = r#"s3c\/r+t !x\"y"#;
        for echoed in [secret, percent, form, json, "s3c/r+t !x\\\"y"] {
            let text = format!("echo <{echoed}> end");
            assert_eq!(
                redact_known(&text, &[secret]),
                "echo <[redacted]> end",
                "form {echoed}"
            );
        }
        assert_eq!(redact_known("abc", &["ab"]), "abc");
        assert_eq!(
            redacted_excerpt_known("x hunter22 y", 100, &["hunter22"]),
            "x [redacted] y"
        );
    }

    #[test]
    fn multibyte_text_around_redactions_survives() {
        assert_eq!(redact_tokens("é code=ü€ é"), "é code=[redacted] é");
        assert_eq!(
            redact_tokens("%C3%A9 code=%E2%82%AC"),
            "%C3%A9 code=[redacted]"
        );
    }
}
