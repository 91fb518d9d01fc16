//! Property tests: every authorization URL carries S256 and a `state` that round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

use frameio_auth_core::{AuthError, PkceVerifier, ProtocolError, Scopes};
use frameio_auth_oauth::{AuthorizationRequest, PendingAuthorization, ScopeFormat, SecureUrl};
use proptest::prelude::*;

fn scope_list() -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(
        vec![
            "openid",
            "AdobeID",
            "offline_access",
            "profile",
            "email",
            "frame.s2s.all",
            "asset.read",
        ],
        0..=7,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn authorization_url_always_has_s256_and_a_round_tripping_state(
        client_id in "[A-Za-z0-9_-]{1,40}",
        path in "(/[A-Za-z0-9._~-]{1,12}){0,3}",
        port in 1_u16..,
        scopes in scope_list(),
        comma in any::<bool>(),
        extra_value in any::<String>(),
        code in "[A-Za-z0-9._~+/=-]{1,200}",
    ) {
        let redirect = format!("http://127.0.0.1:{port}{path}");
        let format = if comma { ScopeFormat::CommaSeparated } else { ScopeFormat::SpaceSeparated };
        let (url, pending) = AuthorizationRequest::new(
            SecureUrl::parse("https://ims-na1.adobelogin.com/ims/authorize/v2").unwrap(),
            client_id.clone(),
            redirect.clone(),
        )
        .scopes(&Scopes::try_from_iter(scopes.iter().copied()).unwrap(), format)
        .extra_param("x_custom", extra_value.clone())
        .build()
        .unwrap();

        let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let all = |name: &str| params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
        prop_assert_eq!(all("code_challenge_method"), vec!["S256".to_owned()]);
        prop_assert_eq!(all("response_type"), vec!["code".to_owned()]);
        prop_assert_eq!(all("client_id"), vec![client_id]);
        prop_assert_eq!(all("redirect_uri"), vec![redirect.clone()]);
        prop_assert_eq!(all("x_custom"), vec![extra_value]);
        prop_assert_eq!(all("code_challenge"), vec![pending.code_verifier().challenge().as_str().to_owned()]);
        let states = all("state");
        prop_assert_eq!(states.len(), 1);
        let state = &states[0];
        prop_assert!(state.len() >= 43);

        // The state read back from the URL, sent on a redirect, is accepted...
        let callback_query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", &code)
            .append_pair("state", state)
            .finish();
        let callback = url::Url::parse(&format!("{redirect}?{callback_query}")).unwrap();
        let received = pending.verify_callback(&callback).unwrap();
        prop_assert_eq!(received.expose_secret(), code.as_str());

        // ...also after the pending authorization went through a session store...
        let stored: PendingAuthorization =
            serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();
        prop_assert!(stored.verify_callback(&callback).is_ok());
        prop_assert!(PkceVerifier::parse(stored.code_verifier().expose_secret()).is_ok());

        // ...and any other state is refused.
        let mut other = state.clone();
        other.pop();
        let err = pending.verify_code_and_state(&code, &other).unwrap_err();
        let mismatch = matches!(err, AuthError::Protocol { source: ProtocolError::StateMismatch, .. });
        prop_assert!(mismatch, "{err:?}");
    }
}
