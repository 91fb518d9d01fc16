//! The pending authorization and the check of the redirect that ends it.

use std::fmt;

use frameio_auth_core::{
    AuthError, AuthorizationCode, CsrfState, OAuthErrorResponse, PkceVerifier, ProtocolError,
};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::{Url, form_urlencoded};
use zeroize::Zeroizing;

use crate::Grant;

/// The version written into serialized [`PendingAuthorization`]s.
const PENDING_FORMAT_VERSION: u32 = 1;

/// The query parameters of an authorization redirect (RFC 6749 §4.1.2, §4.1.2.1).
///
/// ```
/// use frameio_auth_oauth::CallbackParams;
///
/// let params = CallbackParams::from_query("code=abc&state=xyz");
/// assert!(params.has_code());
/// assert!(CallbackParams::from_query("error=access_denied&state=xyz").error().is_some());
/// ```
#[derive(Clone, Default)]
pub struct CallbackParams {
    code: Option<AuthorizationCode>,
    state: Option<CsrfState>,
    error: Option<String>,
    error_description: Option<String>,
    error_uri: Option<String>,
    duplicate: Option<&'static str>,
}

impl CallbackParams {
    /// Reads the parameters from a query string (without the leading `?`).
    pub fn from_query(query: &str) -> Self {
        let mut params = Self::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = Zeroizing::new(value.into_owned());
            let (field, seen): (&'static str, bool) = match name.as_ref() {
                "code" => (
                    "code",
                    replace(&mut params.code, AuthorizationCode::new(value.as_str())),
                ),
                "state" => (
                    "state",
                    replace(&mut params.state, CsrfState::new(value.as_str())),
                ),
                "error" => ("error", replace(&mut params.error, value.to_string())),
                "error_description" => (
                    "error_description",
                    replace(&mut params.error_description, value.to_string()),
                ),
                "error_uri" => (
                    "error_uri",
                    replace(&mut params.error_uri, value.to_string()),
                ),
                _ => continue,
            };
            if seen && params.duplicate.is_none() {
                params.duplicate = Some(field);
            }
        }
        params
    }

    /// Reads the parameters from a redirect URL.
    pub fn from_url(url: &Url) -> Self {
        Self::from_query(url.query().unwrap_or_default())
    }

    /// Whether the redirect carries a `code`.
    pub fn has_code(&self) -> bool {
        self.code.is_some()
    }

    /// The `error` code, if the provider reported one.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// Stores `value` in `slot`, returning whether the slot was already filled.
fn replace<T>(slot: &mut Option<T>, value: T) -> bool {
    slot.replace(value).is_some()
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &self.code)
            .field("state", &self.state)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// Why a redirect was not accepted.
#[derive(Debug)]
pub(crate) enum CallbackRejection {
    /// `state` missing or not ours: not a response to this request (a stray or stale tab, or
    /// a forgery). A receiver ignores it and keeps waiting.
    WrongState,
    /// A response to this request that failed (`error=`, no code, repeated parameters).
    Failed(AuthError),
}

/// Checks `params` against the expected `state` (in constant time, via [`CsrfState`]'s `==`)
/// and returns the code.
pub(crate) fn check_callback(
    expected: &CsrfState,
    params: &CallbackParams,
) -> Result<AuthorizationCode, CallbackRejection> {
    match &params.state {
        Some(state) if state == expected => {}
        _ => return Err(CallbackRejection::WrongState),
    }
    if let Some(field) = params.duplicate {
        return Err(CallbackRejection::Failed(
            ProtocolError::InvalidField {
                field,
                reason: "appears more than once in the redirect".to_owned(),
            }
            .into(),
        ));
    }
    if let Some(error) = &params.error {
        let error = OAuthErrorResponse::from_parts(
            error,
            params.error_description.as_deref(),
            params.error_uri.as_deref(),
        );
        return Err(CallbackRejection::Failed(AuthError::from_oauth(
            error, None, None, None,
        )));
    }
    match &params.code {
        Some(code) if !code.is_blank() => Ok(code.clone()),
        Some(_) => Err(CallbackRejection::Failed(
            ProtocolError::InvalidField {
                field: "code",
                reason: "is empty".to_owned(),
            }
            .into(),
        )),
        None => Err(CallbackRejection::Failed(
            ProtocolError::MissingField { field: "code" }.into(),
        )),
    }
}

/// An authorization request in flight: what is needed to check its redirect and to exchange
/// the code. Made by [`AuthorizationRequest::build`](crate::AuthorizationRequest::build).
///
/// # Security warning
///
/// It holds the PKCE verifier and the `state`, which together let whoever holds them (and
/// intercepts the code) finish the login. It is serializable so that a web server can keep it
/// between the redirect and the callback: store it **only server-side** (or encrypted and
/// authenticated, e.g. an encrypted session cookie), bind it to the user's session, and delete
/// it after use. Never put the serialized form in a URL, a log or a plain cookie. `Debug` shows
/// fingerprints only.
///
/// ```
/// use frameio_auth_oauth::url::Url;
/// use frameio_auth_oauth::{AuthorizationRequest, SecureUrl};
///
/// let (_url, pending) = AuthorizationRequest::new(
///     SecureUrl::parse("https://ims-na1.adobelogin.com/ims/authorize/v2")?,
///     "my-client-id",
///     "https://app.example/callback",
/// )
/// .build()?;
///
/// // ... the browser comes back to https://app.example/callback?code=...&state=...
/// let callback = format!(
///     "https://app.example/callback?code=the-code&state={}",
///     pending.state().expose_secret()
/// );
/// let code = pending.verify_callback(&Url::parse(&callback)?)?;
/// let grant = pending.token_grant(code); // send it with a TokenClient
/// assert_eq!(grant.grant_type(), "authorization_code");
///
/// let forged = "https://app.example/callback?code=evil&state=guess";
/// assert!(pending.verify_callback(&Url::parse(forged)?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    client_id: String,
    redirect_uri: String,
    state: CsrfState,
    verifier: PkceVerifier,
    nonce: Option<String>,
}

impl PendingAuthorization {
    pub(crate) fn new(
        client_id: String,
        redirect_uri: String,
        state: CsrfState,
        verifier: PkceVerifier,
        nonce: Option<String>,
    ) -> Self {
        Self {
            client_id,
            redirect_uri,
            state,
            verifier,
            nonce,
        }
    }

    /// The client id the request was made for.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The redirect URI sent in the request (the token request must repeat it).
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Checks that this request was started by the credential with `client_id` and
    /// `redirect_uri`, before its code is exchanged there: a pending authorization kept by one
    /// credential (a session, a file) must not be finished by another. A mismatch is a
    /// [`ConfigError`](frameio_auth_core::ConfigError).
    ///
    /// ```
    /// use frameio_auth_oauth::{AuthorizationRequest, SecureUrl};
    ///
    /// let (_url, pending) = AuthorizationRequest::new(
    ///     SecureUrl::parse("https://auth.example/authorize")?,
    ///     "my-client-id",
    ///     "https://app.example/callback",
    /// )
    /// .build()?;
    /// assert!(pending.check_issued_for("my-client-id", "https://app.example/callback").is_ok());
    /// assert!(pending.check_issued_for("other-client", "https://app.example/callback").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_issued_for(&self, client_id: &str, redirect_uri: &str) -> Result<(), AuthError> {
        if self.client_id != client_id || self.redirect_uri != redirect_uri {
            return Err(frameio_auth_core::ConfigError::new(
                "this pending authorization was started by another credential (client id or redirect URI differ)",
            )
            .into());
        }
        Ok(())
    }

    /// The `state` sent in the request.
    pub fn state(&self) -> &CsrfState {
        &self.state
    }

    /// The PKCE verifier whose challenge was sent in the request.
    pub fn code_verifier(&self) -> &PkceVerifier {
        &self.verifier
    }

    /// The OpenID Connect `nonce` sent in the request, if any.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// Checks a redirect URL: its `state` must be this request's (compared in constant time).
    /// Returns the authorization code, or a typed error: [`ProtocolError::StateMismatch`] for a
    /// missing or foreign `state`, and for an `error=` redirect the provider's error through
    /// [`AuthError::from_oauth`] (`access_denied`, `invalid_scope`, `login_required`... are
    /// [`Rejected`](AuthError::Rejected), with no HTTP status).
    pub fn verify_callback(&self, callback: &Url) -> Result<AuthorizationCode, AuthError> {
        self.verify(&CallbackParams::from_url(callback))
    }

    /// Like [`verify_callback`](Self::verify_callback), for a web framework that already
    /// split the query into `code` and `state`.
    pub fn verify_code_and_state(
        &self,
        code: &str,
        state: &str,
    ) -> Result<AuthorizationCode, AuthError> {
        self.verify(&CallbackParams {
            code: Some(AuthorizationCode::new(code)),
            state: Some(CsrfState::new(state)),
            ..CallbackParams::default()
        })
    }

    /// Like [`verify_callback`](Self::verify_callback), for parameters already parsed.
    pub fn verify(&self, params: &CallbackParams) -> Result<AuthorizationCode, AuthError> {
        check_callback(&self.state, params).map_err(|rejection| match rejection {
            CallbackRejection::WrongState => ProtocolError::StateMismatch.into(),
            CallbackRejection::Failed(error) => error,
        })
    }

    /// The `authorization_code` grant for `code`, with this request's redirect URI and PKCE
    /// verifier.
    pub fn token_grant(&self, code: AuthorizationCode) -> Grant {
        Grant::authorization_code(code, self.redirect_uri.clone(), Some(self.verifier.clone()))
    }
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("state", &self.state)
            .field("verifier", &self.verifier)
            .field("nonce", &self.nonce.as_ref().map(|_| "..."))
            .finish()
    }
}

/// The serialized form: versioned, with the secrets exposed (see the security warning).
#[derive(Serialize)]
struct WireOut<'a> {
    version: u32,
    client_id: &'a str,
    redirect_uri: &'a str,
    state: &'a str,
    code_verifier: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

#[derive(Deserialize)]
struct WireIn {
    version: u32,
    client_id: String,
    redirect_uri: String,
    state: CsrfState,
    code_verifier: String,
    #[serde(default)]
    nonce: Option<String>,
}

impl Serialize for PendingAuthorization {
    /// Writes the state and verifier **in clear**: see the security warning on the type.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            version: PENDING_FORMAT_VERSION,
            client_id: &self.client_id,
            redirect_uri: &self.redirect_uri,
            state: self.state.expose_secret(),
            code_verifier: self.verifier.expose_secret(),
            nonce: self.nonce.as_deref(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PendingAuthorization {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::deserialize(deserializer)?;
        if wire.version != PENDING_FORMAT_VERSION {
            return Err(D::Error::custom(format!(
                "unsupported pending authorization version {} (expected {PENDING_FORMAT_VERSION})",
                wire.version
            )));
        }
        if wire.state.is_blank() {
            return Err(D::Error::custom(
                "the pending authorization has an empty state",
            ));
        }
        let verifier = PkceVerifier::parse(wire.code_verifier).map_err(|_| {
            D::Error::custom("the pending authorization has an invalid PKCE verifier")
        })?;
        crate::authorize::check_redirect_uri(&wire.redirect_uri).map_err(D::Error::custom)?;
        Ok(Self {
            client_id: wire.client_id,
            redirect_uri: wire.redirect_uri,
            state: wire.state,
            verifier,
            nonce: wire.nonce,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frameio_auth_core::{ErrorKind, OAuthErrorCode};

    fn pending() -> PendingAuthorization {
        PendingAuthorization::new(
            "cid".into(),
            "http://127.0.0.1:1/cb".into(),
            CsrfState::new("the-state"),
            PkceVerifier::parse("v".repeat(43)).unwrap(),
            Some("n".into()),
        )
    }

    fn verify(query: &str) -> Result<AuthorizationCode, AuthError> {
        pending().verify(&CallbackParams::from_query(query))
    }

    #[test]
    fn right_state_gives_the_code() {
        let code = verify("code=c%20d&state=the-state&extra=1").unwrap();
        assert_eq!(code.expose_secret(), "c d");
        assert_eq!(
            pending()
                .verify_code_and_state("x", "the-state")
                .unwrap()
                .expose_secret(),
            "x"
        );
    }

    #[test]
    fn wrong_or_missing_state_is_a_mismatch() {
        for query in [
            "code=c&state=other",
            "code=c",
            "code=c&state=",
            "error=access_denied",
        ] {
            let err = verify(query).unwrap_err();
            assert!(
                matches!(
                    err,
                    AuthError::Protocol {
                        source: ProtocolError::StateMismatch,
                        ..
                    }
                ),
                "{query}: {err}"
            );
        }
    }

    #[test]
    fn ownership_is_client_id_and_redirect_uri() {
        let pending = pending();
        assert!(
            pending
                .check_issued_for("cid", "http://127.0.0.1:1/cb")
                .is_ok()
        );
        for (client_id, redirect_uri) in [
            ("other", "http://127.0.0.1:1/cb"),
            ("cid", "http://127.0.0.1:2/cb"),
        ] {
            let err = pending
                .check_issued_for(client_id, redirect_uri)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
        }
    }

    #[test]
    fn error_redirects_are_typed() {
        let err = verify("error=access_denied&error_description=user+said+no&state=the-state")
            .unwrap_err();
        match err {
            AuthError::Rejected { error, status, .. } => {
                assert_eq!(error.error, OAuthErrorCode::AccessDenied);
                assert_eq!(error.description.as_deref(), Some("user said no"));
                assert_eq!(status, None);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            verify("error=invalid_scope&state=the-state")
                .unwrap_err()
                .kind(),
            ErrorKind::Rejected
        );
        assert_eq!(
            verify("state=the-state").unwrap_err().kind(),
            ErrorKind::Protocol
        );
        assert_eq!(
            verify("code=&state=the-state").unwrap_err().kind(),
            ErrorKind::Protocol
        );
        assert_eq!(
            verify("code=a&code=b&state=the-state").unwrap_err().kind(),
            ErrorKind::Protocol
        );
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let original = pending();
        let json = serde_json::to_string(&original).unwrap();
        assert!(
            json.contains("\"version\":1") && json.contains("the-state"),
            "{json}"
        );
        let back: PendingAuthorization = serde_json::from_str(&json).unwrap();
        assert_eq!(back, original);
        for bad in [
            json.replace("\"version\":1", "\"version\":2"),
            json.replace(&"v".repeat(43), "short"),
            json.replace("the-state", ""),
            json.replace("http://127.0.0.1:1/cb", "http://evil.example/cb"),
        ] {
            assert!(
                serde_json::from_str::<PendingAuthorization>(&bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_is_redacted() {
        let shown = format!(
            "{:?}{:?}",
            pending(),
            CallbackParams::from_query("code=secretcode&state=the-state")
        );
        assert!(
            !shown.contains("the-state")
                && !shown.contains("vvvv")
                && !shown.contains("secretcode"),
            "{shown}"
        );
    }
}
