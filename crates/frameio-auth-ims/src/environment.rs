//! Which IMS to talk to, and the URL of each endpoint on it.

use std::fmt;

use frameio_auth_core::ConfigError;
use frameio_auth_oauth::SecureUrl;

/// Production IMS: `https://ims-na1.adobelogin.com`.
pub const PRODUCTION_BASE_URL: &str = "https://ims-na1.adobelogin.com";
/// Stage IMS (reserved for Adobe's own use): `https://ims-na1-stg1.adobelogin.com`.
pub const STAGE_BASE_URL: &str = "https://ims-na1-stg1.adobelogin.com";

/// The IMS endpoint paths (from IMS's OpenID discovery document and Adobe's libraries).
pub mod paths {
    /// `GET`: the authorization endpoint.
    pub const AUTHORIZE: &str = "/ims/authorize/v2";
    /// `POST`: the token endpoint.
    pub const TOKEN: &str = "/ims/token/v3";
    /// `POST`: token revocation.
    pub const REVOKE: &str = "/ims/revoke";
    /// `POST`: token invalidation, optionally cascading.
    pub const INVALIDATE: &str = "/ims/invalidate_token/v2";
    /// `POST`: token validation.
    pub const VALIDATE: &str = "/ims/validate_token/v1";
    /// `GET`: OpenID Connect user info.
    pub const USERINFO: &str = "/ims/userinfo/v2";
    /// `GET`: the IMS profile.
    pub const PROFILE: &str = "/ims/profile/v1";
    /// `GET`: the user's organizations.
    pub const ORGANIZATIONS: &str = "/ims/organizations/v5";
}

/// An Adobe IMS deployment.
///
/// `Custom` points at any other base URL (a fake in tests, a proxy): it is a [`SecureUrl`], so
/// plain `http` is accepted only on loopback hosts.
///
/// ```
/// use frameio_auth_ims::ImsEnvironment;
///
/// let prod = ImsEnvironment::Production;
/// assert_eq!(prod.token_url()?.as_str(), "https://ims-na1.adobelogin.com/ims/token/v3");
/// let fake = ImsEnvironment::parse("http://127.0.0.1:8080")?;
/// assert_eq!(fake.token_url()?.as_str(), "http://127.0.0.1:8080/ims/token/v3");
/// assert!(ImsEnvironment::parse("http://ims.example.com").is_err());
/// assert_eq!(ImsEnvironment::parse("stage")?, ImsEnvironment::Stage);
/// # Ok::<(), frameio_auth_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum ImsEnvironment {
    /// `https://ims-na1.adobelogin.com`.
    #[default]
    Production,
    /// `https://ims-na1-stg1.adobelogin.com` (reserved for Adobe's use).
    Stage,
    /// Any other base URL, such as a fake IMS on `http://127.0.0.1:<port>`.
    Custom(SecureUrl),
}

impl ImsEnvironment {
    /// Parses `prod`/`production`, `stage`/`stg`, or a base URL (`https://...`, or `http://`
    /// on loopback).
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let value = value.trim();
        match value.to_ascii_lowercase().as_str() {
            "prod" | "production" => Ok(Self::Production),
            "stage" | "stg" | "stg1" => Ok(Self::Stage),
            _ if value.contains("://") => Self::custom(value),
            _ => Err(ConfigError::new(format!(
                "unknown IMS environment `{value}`: use `prod`, `stage` or a base URL"
            ))),
        }
    }

    /// A custom base URL. A trailing `/` is ignored; a query or fragment is refused.
    pub fn custom(base_url: &str) -> Result<Self, ConfigError> {
        let url = SecureUrl::parse(base_url.trim_end_matches('/'))?;
        if url.as_url().query().is_some() {
            return Err(ConfigError::new(
                "the IMS base URL must not have a query string",
            ));
        }
        Ok(Self::Custom(url))
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Self::Production => PRODUCTION_BASE_URL,
            Self::Stage => STAGE_BASE_URL,
            Self::Custom(url) => url.as_str().trim_end_matches('/'),
        }
    }

    /// The name used in [`TokenKey`](frameio_auth_core::TokenKey)s: `prod`, `stage`, or the
    /// custom base URL, so that tokens of different deployments are never mixed up.
    pub fn key_name(&self) -> String {
        match self {
            Self::Production => "prod".to_owned(),
            Self::Stage => "stage".to_owned(),
            Self::Custom(_) => self.base_url().to_owned(),
        }
    }

    /// The URL of `path` (one of [`paths`]) on this deployment. A custom base URL may carry a
    /// path prefix (a proxy's `https://proxy.example/adobe-ims`), which is kept.
    pub fn endpoint(&self, path: &str) -> Result<SecureUrl, ConfigError> {
        SecureUrl::parse(&format!("{}{path}", self.base_url()))
    }

    /// `…/ims/authorize/v2`.
    pub fn authorize_url(&self) -> Result<SecureUrl, ConfigError> {
        self.endpoint(paths::AUTHORIZE)
    }

    /// `…/ims/token/v3`.
    pub fn token_url(&self) -> Result<SecureUrl, ConfigError> {
        self.endpoint(paths::TOKEN)
    }
}

impl fmt::Display for ImsEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key_name())
    }
}
