//! HTTPS everywhere except loopback.

use std::fmt;
use std::str::FromStr;

use frameio_auth_core::ConfigError;
use url::{Host, Url};

/// The `User-Agent` sent with every request: `frameio-auth/<version>`.
pub const USER_AGENT: &str = concat!("frameio-auth/", env!("CARGO_PKG_VERSION"));

/// A URL that is safe to send credentials to: `https`, or plain `http` on a loopback host
/// (`127.0.0.0/8`, `[::1]`, `localhost`) for tests and local fakes.
///
/// Checked once, when it is made, so a client built from it cannot be pointed at a plain-HTTP
/// server by accident. URLs with embedded credentials (`user:pass@`) or a fragment are refused.
///
/// ```
/// use frameio_auth_oauth::SecureUrl;
///
/// assert!(SecureUrl::parse("https://ims-na1.adobelogin.com/ims/token/v3").is_ok());
/// assert!(SecureUrl::parse("http://127.0.0.1:8080/ims/token/v3").is_ok());
/// assert!(SecureUrl::parse("http://ims-na1.adobelogin.com/ims/token/v3").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecureUrl(Url);

impl SecureUrl {
    /// Parses and checks `url`.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let parsed = Url::parse(url)
            .map_err(|e| ConfigError::new(format!("`{}` is not a valid URL: {e}", shorten(url))))?;
        Self::from_url(parsed)
    }

    /// Checks an already parsed URL.
    pub fn from_url(url: Url) -> Result<Self, ConfigError> {
        let host = url
            .host()
            .ok_or_else(|| ConfigError::new(format!("the URL `{}` has no host", url.as_str())))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            "http" => {
                return Err(ConfigError::new(format!(
                    "the URL `{}` must use https: plain http is only allowed for loopback hosts \
                     (127.0.0.0/8, [::1], localhost)",
                    without_query(&url)
                )));
            }
            other => {
                return Err(ConfigError::new(format!(
                    "the URL `{}` has the scheme `{other}`; only https (or http on loopback) is allowed",
                    without_query(&url)
                )));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConfigError::new(
                "the URL must not contain credentials (`user:password@`); configure client \
                 authentication instead",
            ));
        }
        if url.fragment().is_some() {
            return Err(ConfigError::new(format!(
                "the URL `{}` must not have a fragment (`#...`)",
                without_query(&url)
            )));
        }
        Ok(Self(url))
    }

    /// The URL.
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The URL, unwrapped.
    pub fn into_url(self) -> Url {
        self.0
    }

    /// Whether the host is a loopback host (and plain http is therefore allowed).
    pub fn is_loopback(&self) -> bool {
        self.0.host().is_some_and(|h| is_loopback_host(&h))
    }

    /// `host[:port]`, the only part of the URL that goes into logs and traces.
    pub(crate) fn host_for_logs(&self) -> String {
        let host = self.0.host_str().unwrap_or_default();
        match self.0.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }
}

/// Whether `host` is a loopback host: `localhost`, an address in `127.0.0.0/8`, or `::1`.
///
/// ```
/// use frameio_auth_oauth::is_loopback_host;
/// use frameio_auth_oauth::url::Host;
///
/// assert!(is_loopback_host(&Host::Domain("localhost")));
/// assert!(is_loopback_host(&Host::<&str>::Ipv4([127, 1, 2, 3].into())));
/// assert!(!is_loopback_host(&Host::Domain("localhost.example.com")));
/// ```
pub fn is_loopback_host<S: AsRef<str>>(host: &Host<S>) -> bool {
    match host {
        Host::Domain(name) => {
            let name = name.as_ref();
            name.eq_ignore_ascii_case("localhost") || name.eq_ignore_ascii_case("localhost.")
        }
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

impl fmt::Debug for SecureUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SecureUrl")
            .field(&without_query(&self.0))
            .finish()
    }
}

impl fmt::Display for SecureUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl FromStr for SecureUrl {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<Url> for SecureUrl {
    type Error = ConfigError;

    fn try_from(url: Url) -> Result<Self, Self::Error> {
        Self::from_url(url)
    }
}

impl AsRef<Url> for SecureUrl {
    fn as_ref(&self) -> &Url {
        &self.0
    }
}

/// The URL without its query (which may carry a client id or other parameters).
pub(crate) fn without_query(url: &Url) -> String {
    let mut copy = url.clone();
    copy.set_query(None);
    copy.set_fragment(None);
    copy.into()
}

fn shorten(text: &str) -> String {
    const MAX: usize = 100;
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_required_except_loopback() {
        for ok in [
            "https://ims-na1.adobelogin.com/ims/token/v3",
            "http://127.0.0.1:1234/token",
            "http://127.9.9.9/token",
            "http://[::1]:80/token",
            "http://localhost/token",
            "http://LOCALHOST:99/token?client_id=x",
        ] {
            assert!(SecureUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://ims-na1.adobelogin.com/ims/token/v3",
            "http://128.0.0.1/token",
            "http://10.0.0.1/token",
            "http://localhost.evil.com/token",
            "http://[::2]/token",
            "ftp://localhost/token",
            "https://user:pw@example.com/token",
            "https://example.com/token#frag",
            "not a url",
            "file:///etc/passwd",
        ] {
            let err = SecureUrl::parse(bad).unwrap_err();
            assert!(!err.message().is_empty(), "{bad}");
        }
        let err = SecureUrl::parse("http://example.com/t").unwrap_err();
        assert!(err.message().contains("must use https"), "{err}");
    }

    #[test]
    fn logs_show_host_only() {
        let url = SecureUrl::parse("https://example.com:8443/token?client_id=abc").unwrap();
        assert_eq!(url.host_for_logs(), "example.com:8443");
        assert!(!format!("{url:?}").contains("client_id"));
        assert!(!url.is_loopback());
        assert!(SecureUrl::parse("http://[::1]/t").unwrap().is_loopback());
    }

    #[test]
    fn user_agent_names_the_crate_version() {
        assert!(USER_AGENT.starts_with("frameio-auth/0."));
    }
}
