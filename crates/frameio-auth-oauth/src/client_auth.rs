//! How the client proves who it is to the token endpoint (RFC 6749 §2.3).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use frameio_auth_core::{ClientSecret, ConfigError};
use reqwest::header::HeaderValue;
use url::form_urlencoded;
use zeroize::Zeroizing;

use crate::form::Form;

/// Where a public client puts its `client_id`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientIdPlacement {
    /// In the form body (Frame.io V2 with PKCE, IMS).
    #[default]
    Body,
    /// In the query string of the token URL (`?client_id=...`, accepted by IMS).
    Query,
}

/// Client authentication for token requests.
///
/// Secret-bearing variants hold a [`ClientSecret`], which never prints itself, so a
/// `ClientAuth` is safe to `Debug`.
///
/// ```
/// use frameio_auth_core::ClientSecret;
/// use frameio_auth_oauth::ClientAuth;
///
/// // Confidential client, `Authorization: Basic ...` (RFC 6749 §2.3.1, IMS docs).
/// let basic = ClientAuth::basic("my-client", ClientSecret::new("s3cr3t"));
/// // Confidential client, `client_id` and `client_secret` in the form body.
/// let post = ClientAuth::request_body("my-client", ClientSecret::new("s3cr3t"));
/// // Public client (PKCE), `client_id` only.
/// let public = ClientAuth::public("my-spa");
/// assert_eq!(public.client_id(), "my-spa");
/// assert!(!format!("{basic:?}{post:?}").contains("s3cr3t"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic authentication (`client_secret_basic`): `Authorization: Basic
    /// base64(urlencode(id) ":" urlencode(secret))`.
    Basic {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: ClientSecret,
    },
    /// `client_id` and `client_secret` in the request body (`client_secret_post`).
    RequestBody {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: ClientSecret,
    },
    /// A public client: `client_id` only, no secret (SPA and native apps, with PKCE).
    Public {
        /// The client id.
        client_id: String,
        /// Where the `client_id` goes.
        placement: ClientIdPlacement,
    },
}

impl ClientAuth {
    /// HTTP Basic authentication.
    pub fn basic(client_id: impl Into<String>, client_secret: ClientSecret) -> Self {
        Self::Basic {
            client_id: client_id.into(),
            client_secret,
        }
    }

    /// `client_id` and `client_secret` in the form body.
    pub fn request_body(client_id: impl Into<String>, client_secret: ClientSecret) -> Self {
        Self::RequestBody {
            client_id: client_id.into(),
            client_secret,
        }
    }

    /// A public client sending its `client_id` in the form body.
    pub fn public(client_id: impl Into<String>) -> Self {
        Self::Public {
            client_id: client_id.into(),
            placement: ClientIdPlacement::Body,
        }
    }

    /// A public client sending its `client_id` in the query string of the token URL.
    pub fn public_in_query(client_id: impl Into<String>) -> Self {
        Self::Public {
            client_id: client_id.into(),
            placement: ClientIdPlacement::Query,
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::RequestBody { client_id, .. }
            | Self::Public { client_id, .. } => client_id,
        }
    }

    /// The client secret, for confidential clients.
    pub fn client_secret(&self) -> Option<&ClientSecret> {
        match self {
            Self::Basic { client_secret, .. } | Self::RequestBody { client_secret, .. } => {
                Some(client_secret)
            }
            Self::Public { .. } => None,
        }
    }

    /// Checks that the id (and secret) are usable.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.client_id().trim().is_empty() {
            return Err(ConfigError::new("the client id is empty"));
        }
        if self.client_secret().is_some_and(ClientSecret::is_blank) {
            return Err(ConfigError::new(
                "the client secret is empty; use ClientAuth::public for a public client",
            ));
        }
        Ok(())
    }

    /// The `Authorization` header value, for Basic authentication.
    pub(crate) fn authorization_header(&self) -> Result<Option<HeaderValue>, ConfigError> {
        match self {
            Self::Basic {
                client_id,
                client_secret,
            } => basic_authorization(client_id, client_secret).map(Some),
            Self::RequestBody { .. } | Self::Public { .. } => Ok(None),
        }
    }

    /// The query parameter, for public clients that send their id in the query.
    pub(crate) fn query_client_id(&self) -> Option<&str> {
        match self {
            Self::Public {
                client_id,
                placement: ClientIdPlacement::Query,
            } => Some(client_id),
            _ => None,
        }
    }

    /// Adds the body fields of this authentication mode.
    pub(crate) fn write_form(&self, form: &mut Form) {
        match self {
            Self::Basic { .. }
            | Self::Public {
                placement: ClientIdPlacement::Query,
                ..
            } => {}
            Self::RequestBody {
                client_id,
                client_secret,
            } => {
                form.push("client_id", client_id);
                form.push("client_secret", client_secret.expose_secret());
            }
            Self::Public {
                client_id,
                placement: ClientIdPlacement::Body,
            } => form.push("client_id", client_id),
        }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, as RFC 6749 §2.3.1 requires: both parts
/// are form-urlencoded first, so a `:` in the id or non-ASCII in the secret survive.
pub(crate) fn basic_authorization(
    client_id: &str,
    client_secret: &ClientSecret,
) -> Result<HeaderValue, ConfigError> {
    let mut credentials = Zeroizing::new(String::new());
    credentials.extend(form_urlencoded::byte_serialize(client_id.as_bytes()));
    credentials.push(':');
    credentials.extend(form_urlencoded::byte_serialize(
        client_secret.expose_secret().as_bytes(),
    ));
    let mut header = Zeroizing::new(String::from("Basic "));
    STANDARD.encode_string(credentials.as_bytes(), &mut header);
    let mut value = HeaderValue::from_str(&header)
        .map_err(|_| ConfigError::new("the client credentials cannot form a Basic header"))?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(header: &HeaderValue) -> String {
        let text = header.to_str().unwrap();
        let encoded = text.strip_prefix("Basic ").unwrap();
        String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap()
    }

    #[test]
    fn basic_encodes_each_part_before_base64() {
        let header = basic_authorization("plain", &ClientSecret::new("secret")).unwrap();
        assert_eq!(header.to_str().unwrap(), "Basic cGxhaW46c2VjcmV0");
        assert!(header.is_sensitive());

        let header =
            basic_authorization("id:with colon", &ClientSecret::new("p@ss w/rd+é=%")).unwrap();
        assert_eq!(
            decode(&header),
            "id%3Awith+colon:p%40ss+w%2Frd%2B%C3%A9%3D%25"
        );
        let (id, secret) = decode(&header)
            .split_once(':')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .unwrap();
        let id: String = form_urlencoded::parse(format!("x={id}").as_bytes())
            .next()
            .unwrap()
            .1
            .into();
        let secret: String = form_urlencoded::parse(format!("x={secret}").as_bytes())
            .next()
            .unwrap()
            .1
            .into();
        assert_eq!(id, "id:with colon");
        assert_eq!(secret, "p@ss w/rd+é=%");
        assert!(!format!("{header:?}").contains("cGxh"));
    }

    #[test]
    fn forms_per_mode() {
        let names = |auth: &ClientAuth| {
            let mut form = Form::new();
            auth.write_form(&mut form);
            form.encode().to_string()
        };
        let secret = ClientSecret::new("s e");
        assert_eq!(names(&ClientAuth::basic("id", secret.clone())), "");
        assert_eq!(
            names(&ClientAuth::request_body("id", secret)),
            "client_id=id&client_secret=s+e"
        );
        assert_eq!(names(&ClientAuth::public("id")), "client_id=id");
        assert_eq!(names(&ClientAuth::public_in_query("id")), "");
        assert_eq!(
            ClientAuth::public_in_query("id").query_client_id(),
            Some("id")
        );
        assert_eq!(ClientAuth::public("id").query_client_id(), None);
    }

    #[test]
    fn validation() {
        assert!(ClientAuth::public(" ").validate().is_err());
        assert!(
            ClientAuth::basic("id", ClientSecret::new(""))
                .validate()
                .is_err()
        );
        assert!(
            ClientAuth::request_body("id", ClientSecret::new("x"))
                .validate()
                .is_ok()
        );
    }
}
