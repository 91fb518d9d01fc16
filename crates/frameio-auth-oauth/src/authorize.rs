//! Authorization request URLs (RFC 6749 §4.1.1) with PKCE S256 and a random `state`, always.

use frameio_auth_core::{AuthError, ConfigError, CsrfState, PkceChallenge, PkceVerifier, Scopes};
use url::Url;

use crate::{PendingAuthorization, ScopeFormat, SecureUrl, is_loopback_host};

/// Query parameters the builder sets itself; extra parameters may not override them.
const RESERVED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "prompt",
    "login_hint",
];

/// Builds the URL that sends the user's browser to the provider's authorization endpoint.
///
/// Every URL carries `response_type=code`, a fresh random `state` and a PKCE S256 challenge
/// (`code_challenge`, `code_challenge_method=S256`: IMS would default to `plain` otherwise).
/// [`build`](Self::build) returns the URL and the [`PendingAuthorization`] needed to check the
/// redirect and to exchange the code.
///
/// ```
/// use frameio_auth_core::Scopes;
/// use frameio_auth_oauth::{AuthorizationRequest, ScopeFormat, SecureUrl};
///
/// let (url, pending) = AuthorizationRequest::new(
///     SecureUrl::parse("https://ims-na1.adobelogin.com/ims/authorize/v2")?,
///     "my-client-id",
///     "https://localhost:8443/callback",
/// )
/// .scopes(&Scopes::parse("openid AdobeID offline_access")?, ScopeFormat::SpaceSeparated)
/// .prompt("login")
/// .build()?;
///
/// assert!(url.as_str().contains("code_challenge_method=S256"));
/// assert!(url.query_pairs().any(|(k, v)| k == "state" && v == pending.state().expose_secret()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    endpoint: SecureUrl,
    client_id: String,
    redirect_uri: String,
    scope: Option<String>,
    nonce: Option<String>,
    prompt: Option<String>,
    login_hint: Option<String>,
    extra: Vec<(String, String)>,
}

impl AuthorizationRequest {
    /// A request to `endpoint` for `client_id`, redirecting back to `redirect_uri`.
    ///
    /// The redirect URI may be `https`, plain `http` on a loopback host (RFC 8252 §7.3), or a
    /// private-use scheme such as IMS's `adobe+<hash>://callback` (RFC 8252 §7.1).
    pub fn new(
        endpoint: SecureUrl,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            endpoint,
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scope: None,
            nonce: None,
            prompt: None,
            login_hint: None,
            extra: Vec::new(),
        }
    }

    /// The scopes to ask for, written as the provider wants them.
    #[must_use]
    pub fn scopes(mut self, scopes: &Scopes, format: ScopeFormat) -> Self {
        let text = format.format(scopes);
        self.scope = (!text.is_empty()).then_some(text);
        self
    }

    /// An OpenID Connect `nonce`, echoed in the ID token. It is kept in the pending
    /// authorization so the caller can check it.
    #[must_use]
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// `prompt` (`none` or `login` for IMS).
    #[must_use]
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }

    /// `login_hint`: the account to preselect.
    #[must_use]
    pub fn login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }

    /// Any other parameter (`response_mode`, a provider's own...). Parameters the builder sets
    /// itself are refused by [`build`](Self::build).
    #[must_use]
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Generates the `state` and PKCE verifier and returns the URL to open together with the
    /// [`PendingAuthorization`] to keep until the redirect comes back.
    pub fn build(&self) -> Result<(Url, PendingAuthorization), AuthError> {
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::new("the client id is empty").into());
        }
        check_redirect_uri(&self.redirect_uri)?;
        if let Some((name, _)) = self
            .extra
            .iter()
            .find(|(name, _)| name.is_empty() || RESERVED.contains(&name.as_str()))
        {
            return Err(ConfigError::new(format!(
                "`{name}` cannot be an extra authorization parameter: it is empty or set by the builder"
            ))
            .into());
        }
        let randomness = |e: frameio_auth_core::RandomnessError| ConfigError::new(e.to_string());
        let state = CsrfState::generate().map_err(randomness)?;
        let verifier = PkceVerifier::generate().map_err(randomness)?;
        let challenge = verifier.challenge();

        let mut url = self.endpoint.as_url().clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", &self.redirect_uri);
            if let Some(scope) = &self.scope {
                query.append_pair("scope", scope);
            }
            query
                .append_pair("state", state.expose_secret())
                .append_pair("code_challenge", challenge.as_str())
                .append_pair("code_challenge_method", PkceChallenge::METHOD);
            for (name, value) in [
                ("nonce", &self.nonce),
                ("prompt", &self.prompt),
                ("login_hint", &self.login_hint),
            ] {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
            for (name, value) in &self.extra {
                query.append_pair(name, value);
            }
        }
        let pending = PendingAuthorization::new(
            self.client_id.clone(),
            self.redirect_uri.clone(),
            state,
            verifier,
            self.nonce.clone(),
        );
        Ok((url, pending))
    }
}

/// `https`, `http` on loopback only, or a private-use scheme; never a fragment.
pub(crate) fn check_redirect_uri(redirect_uri: &str) -> Result<(), ConfigError> {
    let url = Url::parse(redirect_uri)
        .map_err(|e| ConfigError::new(format!("the redirect URI is not a valid URL: {e}")))?;
    if url.fragment().is_some() {
        return Err(ConfigError::new(
            "the redirect URI must not have a fragment (`#...`)",
        ));
    }
    if url.scheme() == "http" && !url.host().is_some_and(|h| is_loopback_host(&h)) {
        return Err(ConfigError::new(
            "a plain-http redirect URI must point to a loopback host (127.0.0.1, [::1], localhost); use https",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(redirect: &str) -> AuthorizationRequest {
        AuthorizationRequest::new(
            SecureUrl::parse("https://ims.example/ims/authorize/v2?locale=fr").unwrap(),
            "cid",
            redirect,
        )
    }

    #[test]
    fn url_carries_every_parameter() {
        let (url, pending) = request("http://127.0.0.1:9999/cb")
            .scopes(
                &Scopes::parse("openid AdobeID").unwrap(),
                ScopeFormat::CommaSeparated,
            )
            .nonce("n1")
            .prompt("login")
            .login_hint("a@b.c")
            .extra_param("response_mode", "query")
            .build()
            .unwrap();
        let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap()
        };
        assert_eq!(get("locale"), "fr");
        assert_eq!(get("response_type"), "code");
        assert_eq!(get("client_id"), "cid");
        assert_eq!(get("redirect_uri"), "http://127.0.0.1:9999/cb");
        assert_eq!(get("scope"), "AdobeID,openid");
        assert_eq!(get("state"), pending.state().expose_secret());
        assert_eq!(
            get("code_challenge"),
            pending.code_verifier().challenge().as_str()
        );
        assert_eq!(get("code_challenge_method"), "S256");
        assert_eq!(get("nonce"), "n1");
        assert_eq!(get("prompt"), "login");
        assert_eq!(get("login_hint"), "a@b.c");
        assert_eq!(get("response_mode"), "query");
        assert_eq!(pending.nonce(), Some("n1"));
        assert!(
            !url.as_str()
                .contains(pending.code_verifier().expose_secret())
        );
    }

    #[test]
    fn each_build_is_fresh() {
        let req = request("https://localhost/cb");
        let (_, a) = req.build().unwrap();
        let (_, b) = req.build().unwrap();
        assert_ne!(a.state(), b.state());
        assert_ne!(a.code_verifier(), b.code_verifier());
    }

    #[test]
    fn refuses_bad_input() {
        assert!(request("http://example.com/cb").build().is_err());
        assert!(request("not a url").build().is_err());
        assert!(request("https://localhost/cb#x").build().is_err());
        assert!(request("adobe+abc123://callback").build().is_ok());
        assert!(
            request("https://localhost/cb")
                .extra_param("state", "x")
                .build()
                .is_err()
        );
        assert!(
            request("https://localhost/cb")
                .extra_param("code_challenge_method", "plain")
                .build()
                .is_err()
        );
        let blank = AuthorizationRequest::new(
            SecureUrl::parse("https://ims.example/a").unwrap(),
            " ",
            "https://localhost/cb",
        );
        assert!(blank.build().is_err());
    }
}
