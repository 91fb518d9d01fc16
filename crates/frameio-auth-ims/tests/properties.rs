//! Property test: whatever milliseconds the access token's payload carries, `expires_at` is the
//! time of receipt plus the response's `expires_in` **seconds** (within a second).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use frameio_auth_core::{Timestamp, parse_token_response};
use frameio_auth_ims::{AccessTokenClaims, enrich_token_set};
use proptest::prelude::*;

fn jwt(payload: &serde_json::Value) -> String {
    format!(
        "{}.{}.signature",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

proptest! {
    #[test]
    fn expires_at_follows_http_seconds_not_jwt_millis(
        received_secs in 1_000_000_000_u64..4_000_000_000,
        expires_in in 1_u64..=365 * 24 * 3600,
        as_string in any::<bool>(),
        created_at_ms in any::<u64>(),
        jwt_expires_in_ms in any::<u64>(),
        rtea_ms in proptest::option::of(any::<u64>()),
        with_refresh in any::<bool>(),
    ) {
        let ms = |v: u64| if as_string { serde_json::json!(v.to_string()) } else { serde_json::json!(v) };
        let mut payload = serde_json::json!({
            "created_at": ms(created_at_ms),
            "expires_in": ms(jwt_expires_in_ms),
            "user_id": "u@AdobeID",
            "type": "access_token",
        });
        if let Some(rtea) = rtea_ms {
            payload["rtea"] = ms(rtea);
        }
        let mut body = serde_json::json!({
            "access_token": jwt(&payload),
            "token_type": "bearer",
            "expires_in": expires_in,
        });
        if with_refresh {
            body["refresh_token"] = serde_json::json!("rt-value");
        }
        let received = Timestamp::from_unix_secs(received_secs);
        let tokens = enrich_token_set(
            parse_token_response(body.to_string().as_bytes(), received).unwrap(),
        );
        let expected = received.saturating_add(Duration::from_secs(expires_in));
        let actual = tokens.expires_at().unwrap();
        let gap = if actual > expected {
            actual.saturating_duration_since(expected)
        } else {
            expected.saturating_duration_since(actual)
        };
        prop_assert!(gap <= Duration::from_secs(1), "off by {gap:?}");

        // The JWT's milliseconds are still read, as milliseconds.
        let claims = AccessTokenClaims::decode(tokens.access_token()).unwrap();
        prop_assert_eq!(claims.expires_in, Some(Duration::from_millis(jwt_expires_in_ms)));
        let rt_expiry = tokens.refresh_token_expires_at();
        let expected_rt_expiry = rtea_ms
            .filter(|_| with_refresh)
            .map(Timestamp::from_unix_millis);
        prop_assert_eq!(rt_expiry, expected_rt_expiry);
    }

    #[test]
    fn tokens_that_are_not_jwts_still_work(token in "[A-Za-z0-9._~+/-]{1,200}", expires_in in 1_u64..100_000) {
        let body = serde_json::json!({"access_token": token, "expires_in": expires_in});
        let received = Timestamp::from_unix_secs(1_700_000_000);
        let tokens = enrich_token_set(parse_token_response(body.to_string().as_bytes(), received).unwrap());
        prop_assert_eq!(tokens.expires_at(), Some(received.saturating_add(Duration::from_secs(expires_in))));
    }
}
