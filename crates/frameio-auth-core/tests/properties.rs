//! Property tests: round trips and parsers that must never panic or lose data.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

use std::time::Duration;

use frameio_auth_core::{
    AccessToken, IdToken, Lifetime, PkceVerifier, RefreshToken, Scope, Scopes, Timestamp, TokenKey,
    TokenSet, TokenType, parse_error_response, parse_token_response,
    parse_token_response_with_warnings,
};
use proptest::prelude::*;

/// One valid scope token: printable ASCII without space, `"`, `\` and `,`.
fn scope() -> impl Strategy<Value = String> {
    "[!#-+\\--\\[\\]-~]{1,24}"
}

fn scopes() -> impl Strategy<Value = Scopes> {
    prop::collection::vec(scope(), 0..12)
        .prop_map(|items| Scopes::try_from_iter(items).expect("strategy yields valid scopes"))
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        any::<u64>().prop_map(Timestamp::from_unix_millis),
        (1_500_000_000_000_u64..2_500_000_000_000).prop_map(Timestamp::from_unix_millis),
    ]
}

prop_compose! {
    fn token_set()(
        access in any::<String>().prop_filter("non-blank", |s| !s.trim().is_empty()),
        issued in timestamp(),
        lifetime in prop::option::of(any::<u64>()),
        refresh in prop::option::of((any::<String>(), prop::option::of(timestamp()))),
        id in prop::option::of(any::<String>()),
        scopes in scopes(),
        subject in prop::option::of(any::<String>()),
        token_type in prop_oneof![Just(TokenType::Bearer), "[a-zA-Z-]{1,12}".prop_map(|t| TokenType::parse(&t))],
    ) -> TokenSet {
        let lifetime = lifetime.map_or(Lifetime::Never, |ms| Lifetime::ExpiresIn(Duration::from_millis(ms)));
        let mut set = TokenSet::new(AccessToken::new(access), issued, lifetime)
            .with_scopes(scopes)
            .with_token_type(token_type);
        if let Some((refresh, expires)) = refresh {
            set = set.with_refresh_token(RefreshToken::new(refresh), expires);
        }
        if let Some(id) = id {
            set = set.with_id_token(IdToken::new(id));
        }
        if let Some(subject) = subject {
            set = set.with_subject(subject);
        }
        set
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn scopes_round_trip_in_both_forms(scopes in scopes()) {
        let spaced = scopes.to_space_separated();
        let commas = scopes.to_comma_separated();
        prop_assert_eq!(Scopes::parse(&spaced).unwrap(), scopes.clone());
        prop_assert_eq!(Scopes::parse(&commas).unwrap(), scopes.clone());
        // Canonical: rendering the parse gives the same text back.
        prop_assert_eq!(Scopes::parse(&commas).unwrap().to_comma_separated(), commas);
    }

    #[test]
    fn scopes_parse_is_order_and_duplicate_insensitive(mut items in prop::collection::vec(scope(), 1..10), dup in any::<prop::sample::Index>()) {
        let forward = Scopes::try_from_iter(&items).unwrap();
        items.push(items[dup.index(items.len())].clone());
        items.reverse();
        let backward = Scopes::parse(&items.join(" , ")).unwrap();
        prop_assert_eq!(forward, backward);
    }

    #[test]
    fn scopes_parse_never_panics(text in any::<String>()) {
        if let Ok(scopes) = Scopes::parse(&text) {
            for scope in &scopes {
                prop_assert!(Scope::new(scope.as_str()).is_ok());
            }
        }
    }

    #[test]
    fn token_set_round_trips_through_stored_form(tokens in token_set()) {
        let bytes = tokens.to_stored_json().unwrap();
        let back = TokenSet::from_stored_json(&bytes).unwrap();
        prop_assert_eq!(back.access_token().expose_secret(), tokens.access_token().expose_secret());
        prop_assert_eq!(&back, &tokens);
    }

    #[test]
    fn stored_form_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = TokenSet::from_stored_json(&bytes);
    }

    #[test]
    fn token_response_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024), at in timestamp()) {
        if let Ok(tokens) = parse_token_response(&bytes, at) {
            prop_assert!(tokens.expires_at().is_none_or(|e| e >= tokens.issued_at()));
        }
        let _ = parse_error_response(&bytes);
    }

    #[test]
    fn token_response_parser_never_panics_on_json(json in arbitrary_json(), at in timestamp()) {
        let body = serde_json::to_vec(&json).unwrap();
        if let Ok(tokens) = parse_token_response(&body, at) {
            prop_assert!(tokens.expires_at().is_some_and(|e| e >= tokens.issued_at()));
            prop_assert_eq!(tokens.issued_at(), at);
        }
    }

    #[test]
    fn token_response_with_any_expires_in_keeps_time_order(access in "[A-Za-z0-9._-]{1,64}", expires_in in any_expires_in(), at in timestamp()) {
        let body = serde_json::json!({"access_token": access, "token_type": "bearer", "expires_in": expires_in});
        match parse_token_response(body.to_string().as_bytes(), at) {
            Ok(tokens) => {
                let expires = tokens.expires_at().unwrap();
                prop_assert!(expires >= tokens.issued_at());
                prop_assert!(tokens.lifetime().unwrap() <= frameio_auth_core::MAX_EXPIRES_IN);
            }
            Err(err) => prop_assert!(!err.to_string().contains(&access) || access.len() < 3),
        }
    }

    /// Issue 14, case 4: any response with a non-blank access token and refresh token yields
    /// a set holding that refresh token, whatever the other fields hold (wrong types, out of
    /// range values), and never one whose access token outlives a bad `expires_in`.
    #[test]
    fn a_response_with_both_tokens_always_keeps_the_refresh_token(
        access in any::<String>().prop_filter("non-blank", |s| !s.trim().is_empty()),
        refresh in any::<String>().prop_filter("non-blank", |s| !s.trim().is_empty()),
        others in prop::collection::btree_map(optional_field(), field_value(), 0..9),
        at in timestamp(),
    ) {
        let mut body: serde_json::Map<String, serde_json::Value> = others.into_iter().collect();
        body.insert("access_token".to_owned(), access.clone().into());
        body.insert("refresh_token".to_owned(), refresh.clone().into());
        let bytes = serde_json::to_vec(&serde_json::Value::Object(body)).unwrap();
        let parsed = parse_token_response_with_warnings(&bytes, at);
        prop_assert!(parsed.is_ok(), "{:?}", parsed.err());
        let parsed = parsed.unwrap();
        let tokens = &parsed.tokens;
        prop_assert_eq!(tokens.refresh_token().unwrap().expose_secret(), refresh.as_str());
        prop_assert_eq!(tokens.access_token().expose_secret(), access.as_str());
        prop_assert_eq!(tokens.issued_at(), at);
        prop_assert!(tokens.expires_at().is_some_and(|e| e >= at));
        if parsed.warnings.iter().any(|w| w.field == "expires_in") {
            prop_assert!(tokens.is_expired(at));
        }
        // The stored form keeps it too.
        let back = TokenSet::from_stored_json(&tokens.to_stored_json().unwrap()).unwrap();
        prop_assert_eq!(back.refresh_token().unwrap().expose_secret(), refresh.as_str());
    }

    #[test]
    fn pkce_verifiers_are_valid(len in 0_usize..300) {
        let verifier = PkceVerifier::generate_with_len(len).unwrap();
        let text = verifier.expose_secret();
        prop_assert!((43..=128).contains(&text.len()));
        prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        prop_assert!(PkceVerifier::parse(text).is_ok());
        let challenge = verifier.challenge();
        prop_assert_eq!(challenge.as_str().len(), 43);
    }

    #[test]
    fn token_key_string_form_round_trips(
        environment in any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        client in any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        profile in any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        scopes in scopes(),
    ) {
        let key = TokenKey::builder("ims", environment, client).profile(profile).scopes(scopes).build().unwrap();
        let text = key.as_str();
        prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.%~,".contains(&b)), "{}", text);
        prop_assert_eq!(TokenKey::parse(text).unwrap(), key);
    }

    #[test]
    fn token_key_parse_never_panics(text in any::<String>()) {
        if let Ok(key) = TokenKey::parse(&text) {
            prop_assert_eq!(key.as_str(), text.as_str());
        }
    }
}

fn any_expires_in() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<i64>().prop_map(|n| Value::from(n.to_string())),
        any::<String>().prop_map(Value::from),
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    // Objects that look like token responses, with fields of any type.
    let field_names = prop_oneof![
        Just("access_token"),
        Just("expires_in"),
        Just("refresh_token"),
        Just("token_type"),
        Just("scope"),
        Just("id_token"),
        Just("sub"),
        Just("refresh_token_expires_in"),
        Just("error"),
    ];
    let shaped =
        prop::collection::btree_map(field_names.prop_map(str::to_owned), value.clone(), 0..9)
            .prop_map(|m| Value::Object(m.into_iter().collect()));
    prop_oneof![value, shaped]
}

/// The optional fields of a token response, and one unknown field.
fn optional_field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("token_type"),
        Just("expires_in"),
        Just("refresh_token_expires_in"),
        Just("id_token"),
        Just("scope"),
        Just("sub"),
        Just("error"),
        Just("unknown"),
    ]
    .prop_map(str::to_owned)
}

/// Any value an optional field could hold: numbers in and out of range, numeric and other
/// text, scope-like lists with invalid characters, and any JSON.
fn field_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    prop_oneof![
        any_expires_in(),
        (-5_i64..5).prop_map(Value::from),
        Just(Value::from("")),
        Just(Value::from("  ")),
        "[ -~]{0,40}".prop_map(Value::from),
        arbitrary_json(),
    ]
}
