//! Token sets the checks store, and a description of how two sets differ that names fields,
//! lengths and fingerprints, never values.

use std::fmt::Write as _;
use std::time::Duration;

use frameio_auth_core::{
    AccessToken, Fingerprint, IdToken, Lifetime, RefreshToken, Scope, Scopes, Timestamp, TokenSet,
    TokenType,
};

/// 2023-11-14T22:13:20.123Z: a realistic time with a millisecond part, which a store that
/// keeps only seconds would lose.
const ISSUED_MS: u64 = 1_700_000_000_123;

pub(super) fn scopes(list: &str) -> Result<Scopes, String> {
    Scopes::parse(list).map_err(|e| format!("test scopes are invalid: {e}"))
}

/// A set with every field set. `tag` makes every secret and the subject unique.
pub(super) fn full(tag: &str, token_type: TokenType) -> Result<TokenSet, String> {
    let issued = Timestamp::from_unix_millis(ISSUED_MS);
    Ok(TokenSet::new(
        AccessToken::new(format!(
            "eyJhbGciOiJSUzI1NiIsIng1dSI6Imltc19uYTEta2V5LWF0LTEifQ.{tag}.c2lnbmF0dXJl-_"
        )),
        issued,
        Lifetime::ExpiresIn(Duration::from_millis(86_399_456)),
    )
    .with_token_type(token_type)
    .with_refresh_token(
        RefreshToken::new(format!("eyJyZWZyZXNoIjp0cnVlfQ.{tag}.cmVmcmVzaA")),
        Some(issued.saturating_add(Duration::from_millis(14 * 86_400_000 + 7))),
    )
    .with_id_token(IdToken::new(format!("eyJpZF90b2tlbiI6dHJ1ZX0.{tag}.aWQ")))
    .with_scopes(scopes(
        "openid AdobeID offline_access additional_info.roles email profile",
    )?)
    .with_subject(format!("{tag}-0123456789ABCDEF@AdobeID")))
}

/// A set with no optional field: never expires, issued at the epoch.
pub(super) fn minimal(tag: &str) -> TokenSet {
    TokenSet::new(
        AccessToken::new(format!("fio-u-{tag}")),
        Timestamp::UNIX_EPOCH,
        Lifetime::Never,
    )
}

/// Exactly `len` bytes of mixed ASCII, 2-, 3- and 4-byte characters.
fn long_unicode(len: usize, tag: &str) -> String {
    const PATTERN: &[char] = &[
        'a', 'Z', '0', '-', '_', '.', '~', 'é', 'ß', '漢', '字', '😀', '𝄞', '/', '+', '=',
    ];
    let mut text = String::with_capacity(len);
    text.push_str(tag);
    for &c in PATTERN.iter().cycle() {
        if text.len() + c.len_utf8() > len {
            break;
        }
        text.push(c);
    }
    while text.len() < len {
        text.push('x');
    }
    text
}

/// Hundreds of distinct scopes using every punctuation character OAuth allows in a scope.
fn many_scopes(count: usize) -> Result<Scopes, String> {
    (0..count)
        .map(|i| Scope::new(&format!("scope{i}.read:all!#$%&'()*+-/;<=>?@[]^_`{{|}}~")))
        .collect::<Result<Scopes, _>>()
        .map_err(|e| format!("test scopes are invalid: {e}"))
}

/// A set full of unicode, control characters and long values.
pub(super) fn unicode_and_long(tag: &str) -> Result<TokenSet, String> {
    let issued = Timestamp::from_unix_millis(ISSUED_MS + 1);
    Ok(TokenSet::new(
        AccessToken::new(long_unicode(64 * 1024, tag)),
        issued,
        Lifetime::ExpiresIn(Duration::from_secs(3600)),
    )
    .with_refresh_token(
        RefreshToken::new(format!(
            "rt-{tag}-😀👩‍💻🇯🇵-漢字かなカナ-한국어-\u{0}\u{1}\u{7}\t\n\r\u{1b}\u{7f}\u{85}\u{200b}\u{feff}\
             -é-e\u{301}-\"\\/'<>&%00+ "
        )),
        Some(Timestamp::MAX),
    )
    .with_id_token(IdToken::new(format!("{tag}-{}", "漢".repeat(6000))))
    .with_scopes(many_scopes(300)?)
    .with_subject(format!("ユーザー 👩‍💻 {tag} Ωmega e\u{301} é \u{0}\n\u{202e}tfel-ot-thgir")))
}

/// A slightly different set for writer `i` of the raced key: every field depends on `i`, so
/// a mixture of two writes equals neither.
pub(super) fn raced(i: usize) -> Result<TokenSet, String> {
    let issued = Timestamp::from_unix_millis(ISSUED_MS + i as u64);
    let mut tokens = TokenSet::new(
        AccessToken::new(format!("at-raced-{i}")),
        issued,
        Lifetime::ExpiresIn(Duration::from_secs(3600 + i as u64)),
    );
    if i.is_multiple_of(2) {
        tokens = tokens
            .with_refresh_token(RefreshToken::new(format!("rt-raced-{i}")), None)
            .with_subject(format!("subject-{i}"))
            .with_scopes(scopes(&format!("openid raced{i}"))?);
    } else {
        tokens = tokens
            .with_token_type(TokenType::parse("DPoP"))
            .with_id_token(IdToken::new(format!("id-raced-{i}")));
    }
    Ok(tokens)
}

/// How a secret-like value is shown: presence, byte length and fingerprint.
fn show_secret(value: Option<&str>) -> String {
    value.map_or_else(
        || "absent".to_owned(),
        |v| format!("{} bytes, {}", v.len(), Fingerprint::of(v.as_bytes())),
    )
}

fn show_time(value: Option<Timestamp>) -> String {
    value.map_or_else(
        || "none".to_owned(),
        |t| format!("{} ms", t.as_unix_millis()),
    )
}

fn show_scopes(expected: &Scopes, found: &Scopes) -> String {
    let first_missing = expected.iter().find(|s| !found.contains(s.as_str()));
    let first_extra = found.iter().find(|s| !expected.contains(s.as_str()));
    let mut text = format!("expected {} scopes, found {}", expected.len(), found.len());
    if let Some(scope) = first_missing {
        let _ = write!(text, "; `{}` is missing", scope.as_str());
    }
    if let Some(scope) = first_extra {
        let _ = write!(text, "; `{}` is extra", scope.as_str());
    }
    text
}

/// The fields in which `found` differs from `expected`, one entry per field.
pub(super) fn differences(expected: &TokenSet, found: &TokenSet) -> Vec<String> {
    let mut out = Vec::new();
    let mut secret = |field: &str, e: Option<&str>, f: Option<&str>| {
        if e != f {
            out.push(format!(
                "{field}: expected {}, found {}",
                show_secret(e),
                show_secret(f)
            ));
        }
    };
    secret(
        "access_token",
        Some(expected.access_token().expose_secret()),
        Some(found.access_token().expose_secret()),
    );
    secret(
        "refresh_token",
        expected.refresh_token().map(RefreshToken::expose_secret),
        found.refresh_token().map(RefreshToken::expose_secret),
    );
    secret(
        "id_token",
        expected.id_token().map(IdToken::expose_secret),
        found.id_token().map(IdToken::expose_secret),
    );
    secret("subject", expected.subject(), found.subject());
    if expected.token_type() != found.token_type() {
        out.push(format!(
            "token_type: expected {:?}, found {:?}",
            expected.token_type().as_str(),
            found.token_type().as_str()
        ));
    }
    let mut time = |field: &str, e: Option<Timestamp>, f: Option<Timestamp>| {
        if e != f {
            out.push(format!(
                "{field}: expected {}, found {}",
                show_time(e),
                show_time(f)
            ));
        }
    };
    time(
        "issued_at",
        Some(expected.issued_at()),
        Some(found.issued_at()),
    );
    time("expires_at", expected.expires_at(), found.expires_at());
    time(
        "refresh_token_expires_at",
        expected.refresh_token_expires_at(),
        found.refresh_token_expires_at(),
    );
    if expected.scopes() != found.scopes() {
        out.push(format!(
            "scopes: {}",
            show_scopes(expected.scopes(), found.scopes())
        ));
    }
    if out.is_empty() && expected != found {
        out.push("the sets differ, but in no field this suite knows about".to_owned());
    }
    out
}

/// Checks that `found` is exactly `expected`, or says how it differs.
pub(super) fn expect_set(
    what: &str,
    expected: &TokenSet,
    found: Option<&TokenSet>,
) -> Result<(), String> {
    match found {
        None => Err(format!("{what}: expected the saved set, found None")),
        Some(found) if found == expected => Ok(()),
        Some(found) => Err(format!(
            "{what}: the loaded set differs from the saved one: {}",
            differences(expected, found).join("; ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_are_valid_and_distinct() {
        let sets = [
            full("a", TokenType::Bearer).unwrap(),
            full("b", TokenType::parse("DPoP")).unwrap(),
            minimal("c"),
            unicode_and_long("d").unwrap(),
            raced(0).unwrap(),
            raced(1).unwrap(),
        ];
        for (i, a) in sets.iter().enumerate() {
            for b in &sets[i + 1..] {
                assert_ne!(a, b);
                assert!(!differences(a, b).is_empty());
            }
            assert!(differences(a, a).is_empty());
        }
        assert_eq!(sets[3].access_token().expose_secret().len(), 64 * 1024);
        assert_eq!(sets[3].scopes().len(), 300);
    }

    #[test]
    fn differences_name_fields_never_values() {
        let a = full("first", TokenType::Bearer).unwrap();
        let b = minimal("second");
        let text = differences(&a, &b).join("; ");
        for field in [
            "access_token",
            "refresh_token",
            "id_token",
            "subject",
            "expires_at",
            "scopes",
        ] {
            assert!(text.contains(field), "{text}");
        }
        assert!(
            !text.contains("first") && !text.contains("second") && !text.contains("eyJ"),
            "{text}"
        );
    }
}
