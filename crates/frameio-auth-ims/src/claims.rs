//! Reading (not verifying) the payload of an IMS access token.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use frameio_auth_core::{AccessToken, Timestamp, TokenSet};
use serde_json::{Map, Value};

/// The longest JWT payload decoded, in bytes of base64: far above any IMS token.
const MAX_PAYLOAD_CHARS: usize = 64 * 1024;

/// What an IMS access token says about itself, decoded from its JWT payload.
///
/// **Informational only**: the signature is not checked, so nothing here may be used for an
/// authorization decision. IMS writes `created_at`, `expires_in` and `rtea` as strings of
/// **milliseconds** (numbers are accepted too); they are converted here and must never be
/// confused with the **seconds** of the token response's `expires_in`, which alone decides
/// [`TokenSet::expires_at`].
///
/// ```
/// use std::time::Duration;
/// use base64::Engine as _;
/// use frameio_auth_core::{AccessToken, Timestamp};
/// use frameio_auth_ims::AccessTokenClaims;
///
/// let payload = r#"{"created_at":"1700000000000","expires_in":"86399000","rtea":"1701209600000",
///                   "user_id":"U@AdobeID","client_id":"cid","scope":"openid,AdobeID","as":"ims-na1"}"#;
/// let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// let token = format!("{}.{}.sig", b64.encode("{}"), b64.encode(payload));
/// let claims = AccessTokenClaims::decode(&AccessToken::new(token)).unwrap();
/// assert_eq!(claims.created_at, Some(Timestamp::from_unix_secs(1_700_000_000)));
/// assert_eq!(claims.expires_in, Some(Duration::from_secs(86_399)));
/// assert_eq!(claims.refresh_token_expires_at, Some(Timestamp::from_unix_secs(1_701_209_600)));
/// assert_eq!(claims.auth_server.as_deref(), Some("ims-na1"));
/// // Not a JWT: nothing to decode, and that is fine.
/// assert!(AccessTokenClaims::decode(&AccessToken::new("opaque-token")).is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessTokenClaims {
    /// `created_at` (ms since the epoch).
    pub created_at: Option<Timestamp>,
    /// `expires_in` (ms), as a duration.
    pub expires_in: Option<Duration>,
    /// `rtea`: when the refresh token of this grant expires (ms since the epoch).
    pub refresh_token_expires_at: Option<Timestamp>,
    /// `user_id`: the user or technical account.
    pub user_id: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `scope`, as written (IMS uses commas).
    pub scope: Option<String>,
    /// `as`: the IMS region that issued the token (`ims-na1`).
    pub auth_server: Option<String>,
    /// `type` (`access_token`).
    pub token_type: Option<String>,
}

impl AccessTokenClaims {
    /// Decodes the payload of `token`; `None` when it is not a JWT with a JSON object payload.
    pub fn decode(token: &AccessToken) -> Option<Self> {
        Self::decode_str(token.expose_secret())
    }

    fn decode_str(token: &str) -> Option<Self> {
        let (_header, payload) = jwt_parts(token)?;
        let map = json_object(payload)?;
        let text = |name: &str| map.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            created_at: millis(map.get("created_at")).map(Timestamp::from_unix_millis),
            expires_in: millis(map.get("expires_in")).map(Duration::from_millis),
            refresh_token_expires_at: millis(map.get("rtea")).map(Timestamp::from_unix_millis),
            user_id: text("user_id"),
            client_id: text("client_id"),
            scope: text("scope"),
            auth_server: text("as"),
            token_type: text("type"),
        })
    }

    /// `created_at + expires_in` from the token itself: informational. The expiry that counts
    /// is [`TokenSet::expires_at`], computed from the response's `expires_in` seconds.
    pub fn expires_at(&self) -> Option<Timestamp> {
        Some(self.created_at?.saturating_add(self.expires_in?))
    }
}

/// The readable parts of a JWT: its header and its claims, decoded but **not verified**.
/// The signature is never kept, so nothing here can be turned back into the token.
///
/// ```
/// use base64::Engine as _;
/// use frameio_auth_core::AccessToken;
/// use frameio_auth_ims::JwtParts;
///
/// let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// let token = format!("{}.{}.c2ln", b64.encode(r#"{"alg":"RS256"}"#), b64.encode(r#"{"user_id":"U"}"#));
/// let parts = JwtParts::decode(&AccessToken::new(token)).unwrap();
/// assert_eq!(parts.header["alg"], "RS256");
/// assert_eq!(parts.claims["user_id"], "U");
/// assert!(JwtParts::decode(&AccessToken::new("opaque")).is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct JwtParts {
    /// The JOSE header (`alg`, `kid`, `x5u`...).
    pub header: Map<String, Value>,
    /// The claims, as written (IMS writes its times as strings of milliseconds; see
    /// [`AccessTokenClaims`] for them converted).
    pub claims: Map<String, Value>,
}

impl JwtParts {
    /// Decodes the header and claims of `token`; `None` when it is not a JWT whose header
    /// and claims are JSON objects (a V2 Developer Token, an opaque token).
    pub fn decode(token: &AccessToken) -> Option<Self> {
        let (header, payload) = jwt_parts(token.expose_secret())?;
        Some(Self {
            header: json_object(header)?,
            claims: json_object(payload)?,
        })
    }
}

/// The header and payload of a signed JWT (exactly three parts, payload within bounds).
fn jwt_parts(token: &str) -> Option<(&str, &str)> {
    let mut parts = token.split('.');
    let (header, payload) = (parts.next()?, parts.next()?);
    parts.next()?;
    if parts.next().is_some()
        || payload.len() > MAX_PAYLOAD_CHARS
        || header.len() > MAX_PAYLOAD_CHARS
    {
        return None;
    }
    Some((header, payload))
}

/// One base64url part of a JWT, as a JSON object.
fn json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A millisecond value: a string of digits or a non-negative integer.
fn millis(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::String(text) => {
            let text = text.trim();
            (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
                .then(|| text.parse().ok())
                .flatten()
        }
        Value::Number(number) => number.as_u64(),
        _ => None,
    }
}

/// Adds what the access token says to a token set fresh from the token endpoint: the refresh
/// token's expiry from `rtea` (when the response did not give one) and the subject from
/// `user_id` (when the response had no `sub`). Every IMS flow of this crate applies it.
///
/// The access token's own expiry is never touched: it stays `issued_at` plus the response's
/// `expires_in` **seconds**. Tokens that are not JWTs pass through unchanged.
pub fn enrich_token_set(tokens: TokenSet) -> TokenSet {
    let Some(claims) = AccessTokenClaims::decode(tokens.access_token()) else {
        return tokens;
    };
    let mut tokens = tokens;
    if let (Some(refresh), None, Some(rtea)) = (
        tokens.refresh_token().cloned(),
        tokens.refresh_token_expires_at(),
        claims.refresh_token_expires_at,
    ) {
        tokens = tokens.with_refresh_token(refresh, Some(rtea));
    }
    if tokens.subject().is_none()
        && let Some(user) = claims.user_id.filter(|u| !u.is_empty())
    {
        tokens = tokens.with_subject(user);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use frameio_auth_core::{Lifetime, RefreshToken};

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode("{}"),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn milliseconds_as_strings_or_numbers() {
        let claims = AccessTokenClaims::decode_str(&jwt(
            r#"{"created_at":1000,"expires_in":" 2500 ","rtea":"x","type":"access_token"}"#,
        ))
        .unwrap();
        assert_eq!(claims.created_at, Some(Timestamp::from_unix_millis(1000)));
        assert_eq!(claims.expires_in, Some(Duration::from_millis(2500)));
        assert_eq!(claims.refresh_token_expires_at, None);
        assert_eq!(claims.expires_at(), Some(Timestamp::from_unix_millis(3500)));
        assert_eq!(claims.token_type.as_deref(), Some("access_token"));
    }

    #[test]
    fn non_jwts_are_not_claims() {
        for token in [
            "",
            "abc",
            "a.b",
            "a.!!!.c",
            "a.e30.c.d",
            &jwt("[1]"),
            &jwt("nope"),
        ] {
            assert!(AccessTokenClaims::decode_str(token).is_none(), "{token}");
        }
        assert!(AccessTokenClaims::decode_str(&jwt("{}")).is_some());
    }

    #[test]
    fn enrich_fills_rtea_and_subject_but_never_expiry() {
        let issued = Timestamp::from_unix_secs(1_000);
        let token = jwt(r#"{"created_at":"5","expires_in":"1","rtea":"9000000","user_id":"u1"}"#);
        let tokens = TokenSet::new(
            AccessToken::new(token),
            issued,
            Lifetime::ExpiresIn(Duration::from_secs(60)),
        )
        .with_refresh_token(RefreshToken::new("rt"), None);
        let enriched = enrich_token_set(tokens);
        assert_eq!(
            enriched.refresh_token_expires_at(),
            Some(Timestamp::from_unix_millis(9_000_000))
        );
        assert_eq!(enriched.subject(), Some("u1"));
        assert_eq!(
            enriched.expires_at(),
            Some(Timestamp::from_unix_secs(1_060))
        );

        let opaque = TokenSet::new(AccessToken::new("opaque"), issued, Lifetime::Never);
        assert_eq!(enrich_token_set(opaque.clone()), opaque);
    }

    mod jwt_parts {
        use super::*;
        use proptest::prelude::*;

        fn jwt(header: &str, claims: &str, signature: &str) -> String {
            format!(
                "{}.{}.{signature}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims)
            )
        }

        proptest! {
            /// Any text: an answer or `None`, never a panic.
            #[test]
            fn any_text_decodes_or_is_refused_without_a_panic(text in ".{0,300}") {
                let _ = JwtParts::decode(&AccessToken::new(text.clone()));
                let _ = AccessTokenClaims::decode(&AccessToken::new(text));
            }

            /// Header and claims come back as written; the signature is nowhere in them.
            #[test]
            fn header_and_claims_round_trip_without_the_signature(
                alg in "[A-Z]{2}[0-9]{3}",
                user in "[A-Za-z0-9@.]{1,40}",
                signature in "[A-Za-z0-9_-]{16,64}",
            ) {
                let header = format!(r#"{{"alg":"{alg}"}}"#);
                let claims = format!(r#"{{"user_id":"{user}","created_at":"1700000000000"}}"#);
                let parts = JwtParts::decode(&AccessToken::new(jwt(&header, &claims, &signature)))
                    .expect("a well-formed JWT");
                prop_assert_eq!(parts.header["alg"].as_str(), Some(alg.as_str()));
                prop_assert_eq!(parts.claims["user_id"].as_str(), Some(user.as_str()));
                let shown = format!("{parts:?}");
                prop_assert!(!shown.contains(&signature));
            }
        }

        #[test]
        fn parts_that_are_not_json_objects_are_refused() {
            for token in [
                jwt("[1]", "{}", "sig"),
                jwt("{}", "\"text\"", "sig"),
                jwt("{}", "{}", "sig") + ".extra",
                "only.two".to_owned(),
            ] {
                assert!(JwtParts::decode(&AccessToken::new(token)).is_none());
            }
            assert!(JwtParts::decode(&AccessToken::new(jwt("{}", "{}", "sig"))).is_some());
        }
    }
}
