//! The grants a token request can carry (RFC 6749 §4.1.3, §4.4.2, §6).

use std::fmt;

use frameio_auth_core::{AuthorizationCode, ConfigError, PkceVerifier, RefreshToken, Scopes};

use crate::form::Form;

/// How a provider wants a list of scopes written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ScopeFormat {
    /// `openid profile email`: RFC 6749, Frame.io V2, IMS authorize requests.
    #[default]
    SpaceSeparated,
    /// `openid,AdobeID,frame.s2s.all`: what IMS expects for `client_credentials`.
    CommaSeparated,
}

impl ScopeFormat {
    /// Writes `scopes` in this format.
    ///
    /// ```
    /// use frameio_auth_core::Scopes;
    /// use frameio_auth_oauth::ScopeFormat;
    ///
    /// let scopes = Scopes::parse("openid AdobeID").unwrap();
    /// assert_eq!(ScopeFormat::CommaSeparated.format(&scopes), "AdobeID,openid");
    /// ```
    pub fn format(self, scopes: &Scopes) -> String {
        match self {
            Self::SpaceSeparated => scopes.to_space_separated(),
            Self::CommaSeparated => scopes.to_comma_separated(),
        }
    }
}

/// Form fields that a grant or client authentication sets itself; extra parameters may not
/// override them.
const RESERVED: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
];

#[derive(Clone)]
enum Kind {
    AuthorizationCode {
        code: AuthorizationCode,
        redirect_uri: String,
        code_verifier: Option<PkceVerifier>,
    },
    RefreshToken {
        refresh_token: RefreshToken,
        scope: Option<String>,
    },
    ClientCredentials {
        scope: Option<String>,
    },
}

/// What a token request asks for. Build one with a constructor per grant type.
///
/// ```
/// use frameio_auth_core::{AuthorizationCode, PkceVerifier, RefreshToken, Scopes};
/// use frameio_auth_oauth::{Grant, ScopeFormat};
///
/// let verifier = PkceVerifier::generate()?;
/// let code = Grant::authorization_code(
///     AuthorizationCode::new("code-from-redirect"),
///     "https://localhost:8443/callback",
///     Some(verifier),
/// );
/// let refresh = Grant::refresh_token(RefreshToken::new("rt"));
/// let s2s = Grant::client_credentials(
///     &Scopes::parse("openid AdobeID frame.s2s.all")?,
///     ScopeFormat::CommaSeparated,
/// );
/// assert_eq!(code.grant_type(), "authorization_code");
/// assert_eq!(refresh.grant_type(), "refresh_token");
/// assert_eq!(s2s.grant_type(), "client_credentials");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Grant {
    kind: Kind,
    extra: Vec<(String, String)>,
}

impl Grant {
    /// `grant_type=authorization_code`: exchanges the code from the redirect. `redirect_uri`
    /// must be the one sent in the authorization request; `code_verifier` is the PKCE verifier
    /// (required for public clients, recommended for all).
    pub fn authorization_code(
        code: AuthorizationCode,
        redirect_uri: impl Into<String>,
        code_verifier: Option<PkceVerifier>,
    ) -> Self {
        Self::from_kind(Kind::AuthorizationCode {
            code,
            redirect_uri: redirect_uri.into(),
            code_verifier,
        })
    }

    /// `grant_type=refresh_token`, keeping the scopes of the original grant.
    pub fn refresh_token(refresh_token: RefreshToken) -> Self {
        Self::from_kind(Kind::RefreshToken {
            refresh_token,
            scope: None,
        })
    }

    /// `grant_type=refresh_token` asking for `scopes` (a subset of the original grant's, or
    /// what Frame.io V2 expects to be repeated).
    pub fn refresh_token_with_scopes(
        refresh_token: RefreshToken,
        scopes: &Scopes,
        format: ScopeFormat,
    ) -> Self {
        Self::from_kind(Kind::RefreshToken {
            refresh_token,
            scope: non_empty(format.format(scopes)),
        })
    }

    /// `grant_type=client_credentials` (IMS Server-to-Server): pass
    /// [`ScopeFormat::CommaSeparated`] for IMS.
    pub fn client_credentials(scopes: &Scopes, format: ScopeFormat) -> Self {
        Self::from_kind(Kind::ClientCredentials {
            scope: non_empty(format.format(scopes)),
        })
    }

    fn from_kind(kind: Kind) -> Self {
        Self {
            kind,
            extra: Vec::new(),
        }
    }

    /// Adds a provider-specific form parameter. Parameters the grant or the client
    /// authentication set themselves (`grant_type`, `code`, `scope`, `client_id`...) are
    /// refused, so an extra parameter can never override them.
    pub fn with_extra_param(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let name = name.into();
        if name.is_empty() || RESERVED.contains(&name.as_str()) {
            return Err(ConfigError::new(format!(
                "`{name}` cannot be an extra token request parameter: it is empty or set by the grant itself"
            )));
        }
        self.extra.push((name, value.into()));
        Ok(self)
    }

    /// The `grant_type` value.
    pub fn grant_type(&self) -> &'static str {
        match self.kind {
            Kind::AuthorizationCode { .. } => "authorization_code",
            Kind::RefreshToken { .. } => "refresh_token",
            Kind::ClientCredentials { .. } => "client_credentials",
        }
    }

    /// Writes the grant's form fields.
    pub(crate) fn write_form(&self, form: &mut Form) {
        form.push("grant_type", self.grant_type());
        match &self.kind {
            Kind::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                form.push("code", code.expose_secret());
                form.push("redirect_uri", redirect_uri);
                if let Some(verifier) = code_verifier {
                    form.push("code_verifier", verifier.expose_secret());
                }
            }
            Kind::RefreshToken {
                refresh_token,
                scope,
            } => {
                form.push("refresh_token", refresh_token.expose_secret());
                if let Some(scope) = scope {
                    form.push("scope", scope);
                }
            }
            Kind::ClientCredentials { scope } => {
                if let Some(scope) = scope {
                    form.push("scope", scope);
                }
            }
        }
        for (name, value) in &self.extra {
            form.push(name.clone(), value);
        }
    }
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

impl fmt::Debug for Grant {
    /// Shows the grant type and the parameter names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut form = Form::new();
        self.write_form(&mut form);
        f.debug_struct("Grant")
            .field("grant_type", &self.grant_type())
            .field("fields", &form.names().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::form_urlencoded;

    fn fields(grant: &Grant) -> Vec<(String, String)> {
        let mut form = Form::new();
        grant.write_form(&mut form);
        form_urlencoded::parse(form.encode().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn authorization_code_fields() {
        let verifier = PkceVerifier::parse("a".repeat(43)).unwrap();
        let grant = Grant::authorization_code(
            AuthorizationCode::new("c0de"),
            "https://localhost/cb",
            Some(verifier),
        );
        assert_eq!(
            fields(&grant),
            pairs(&[
                ("grant_type", "authorization_code"),
                ("code", "c0de"),
                ("redirect_uri", "https://localhost/cb"),
                ("code_verifier", &"a".repeat(43)),
            ])
        );
        let shown = format!("{grant:?}");
        assert!(
            !shown.contains("c0de") && shown.contains("code_verifier"),
            "{shown}"
        );
    }

    #[test]
    fn refresh_and_client_credentials_fields() {
        let scopes = Scopes::parse("openid AdobeID").unwrap();
        assert_eq!(
            fields(&Grant::refresh_token(RefreshToken::new("rt"))),
            pairs(&[("grant_type", "refresh_token"), ("refresh_token", "rt")])
        );
        assert_eq!(
            fields(&Grant::refresh_token_with_scopes(
                RefreshToken::new("rt"),
                &scopes,
                ScopeFormat::SpaceSeparated
            )),
            pairs(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "rt"),
                ("scope", "AdobeID openid")
            ])
        );
        assert_eq!(
            fields(&Grant::client_credentials(
                &scopes,
                ScopeFormat::CommaSeparated
            )),
            pairs(&[
                ("grant_type", "client_credentials"),
                ("scope", "AdobeID,openid")
            ])
        );
        assert_eq!(
            fields(&Grant::client_credentials(
                &Scopes::new(),
                ScopeFormat::CommaSeparated
            )),
            pairs(&[("grant_type", "client_credentials")])
        );
    }

    #[test]
    fn extra_params_cannot_override() {
        let grant = Grant::refresh_token(RefreshToken::new("rt"));
        assert!(grant.clone().with_extra_param("scope", "x").is_err());
        assert!(
            grant
                .clone()
                .with_extra_param("client_secret", "x")
                .is_err()
        );
        assert!(grant.clone().with_extra_param("", "x").is_err());
        let grant = grant.with_extra_param("audience", "a b").unwrap();
        assert_eq!(
            fields(&grant).last().unwrap(),
            &("audience".to_owned(), "a b".to_owned())
        );
    }
}
