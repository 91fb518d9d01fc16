//! From a registered redirect URI to the loopback receiver that serves it.

use std::fmt;
use std::time::Duration;

use url::{Host, Url};

use super::{LoopbackError, LoopbackReceiver, RedirectHost};
use crate::is_loopback_host;

/// A registered redirect URI that a [`LoopbackReceiver`] on this machine can serve:
/// `http` or `https` on `127.0.0.1` (or another IPv4 loopback address) or `localhost` (then
/// the receiver holds the port on `127.0.0.1` and `[::1]`). Not an `[::1]` literal.
///
/// Without a port (or with port 0) the receiver listens on any free port, and the login uses
/// the port it got, as RFC 8252 §7.3 has authorization servers allow for loopback redirects.
///
/// ```
/// use frameio_auth_oauth::LoopbackRedirect;
///
/// let any_port = LoopbackRedirect::parse("http://127.0.0.1/callback")?;
/// assert_eq!((any_port.port(), any_port.path(), any_port.is_https()), (0, "/callback", false));
/// let ims = LoopbackRedirect::parse("https://localhost:8443/ims")?;
/// assert_eq!((ims.port(), ims.is_https()), (8443, true));
///
/// let custom = LoopbackRedirect::parse("adobe+0a1b2c://callback").unwrap_err();
/// assert!(custom.to_string().contains("custom scheme"));
/// # Ok::<(), frameio_auth_oauth::NotLoopback>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopbackRedirect {
    https: bool,
    host: RedirectHost,
    port: u16,
    path: String,
}

/// Why a redirect URI cannot be received on this machine's loopback: the app must take the
/// redirect another way (the user pastes the final URL, or the OS hands a custom scheme to
/// the app).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the redirect URI `{uri}` {reason}")]
pub struct NotLoopback {
    uri: String,
    reason: &'static str,
}

impl LoopbackRedirect {
    /// Reads `redirect_uri`; an error says why no loopback receiver can serve it.
    pub fn parse(redirect_uri: &str) -> Result<Self, NotLoopback> {
        let refuse = |reason| NotLoopback {
            uri: redirect_uri.to_owned(),
            reason,
        };
        let uri = Url::parse(redirect_uri).map_err(|_| refuse("is not a URL"))?;
        let https = match uri.scheme() {
            "http" => false,
            "https" => true,
            _ => {
                return Err(refuse(
                    "has a custom scheme, which only the app it names receives",
                ));
            }
        };
        let host = uri.host().ok_or_else(|| refuse("has no host"))?;
        if !is_loopback_host(&host) {
            return Err(refuse("names another machine"));
        }
        let host = match host {
            Host::Domain(_) => RedirectHost::Localhost,
            Host::Ipv4(_) => RedirectHost::Ip,
            // The receiver binds an IPv4 loopback address, and holds `[::1]` only behind a
            // `localhost` redirect (where a browser may go to `::1` first): an `[::1]` literal
            // is not served. `127.0.0.1` is the one to register (RFC 8252 §8.3).
            Host::Ipv6(_) => {
                return Err(refuse(
                    "names IPv6 loopback literally; the receiver serves `127.0.0.1` or `localhost` (which it also holds on `[::1]`)",
                ));
            }
        };
        if uri.query().is_some() || uri.fragment().is_some() {
            return Err(refuse(
                "has a query or fragment, which the receiver does not match",
            ));
        }
        Ok(Self {
            https,
            host,
            port: uri.port().unwrap_or(0),
            path: uri.path().to_owned(),
        })
    }

    /// Whether the redirect comes back over HTTPS (a certificate made at bind time).
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The port to listen on; 0: any free one.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The callback path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Binds the receiver, waiting at most `deadline` for the redirect. Its
    /// [`redirect_uri`](LoopbackReceiver::redirect_uri) is the one to log in with (the port
    /// it got, when any was allowed).
    pub async fn bind(&self, deadline: Duration) -> Result<LoopbackReceiver, LoopbackError> {
        let builder = LoopbackReceiver::builder()
            .port(self.port)
            .path(self.path.clone())
            .redirect_host(self.host)
            .deadline(deadline);
        if self.https {
            Ok(builder.https().bind().await?.into_receiver())
        } else {
            builder.bind().await
        }
    }
}

impl fmt::Display for LoopbackRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        let host = match self.host {
            RedirectHost::Localhost => "localhost",
            _ => "127.0.0.1",
        };
        match self.port {
            0 => write!(f, "{scheme}://{host}{} (any port)", self.path),
            port => write!(f, "{scheme}://{host}:{port}{}", self.path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_uris_are_served_and_others_are_refused_with_the_reason() {
        let ok = LoopbackRedirect::parse("http://localhost:9000/cb").unwrap();
        assert_eq!(
            (ok.port(), ok.path(), ok.host),
            (9000, "/cb", RedirectHost::Localhost)
        );
        assert_eq!(ok.to_string(), "http://localhost:9000/cb");
        assert_eq!(
            LoopbackRedirect::parse("http://127.0.0.1/callback")
                .unwrap()
                .to_string(),
            "http://127.0.0.1/callback (any port)"
        );
        for (uri, reason) in [
            ("myapp://callback", "custom scheme"),
            ("https://example.com/callback", "another machine"),
            ("http://[::1]:8000/callback", "IPv6"),
            ("https://[::1]/callback", "IPv6"),
            ("http://127.0.0.1/callback?x=1", "query"),
            ("not a url", "not a URL"),
        ] {
            let error = LoopbackRedirect::parse(uri).unwrap_err().to_string();
            assert!(error.contains(reason), "{uri}: {error}");
        }
    }

    #[tokio::test]
    async fn binding_an_any_port_redirect_gives_the_port_it_got() {
        let receiver = LoopbackRedirect::parse("http://127.0.0.1/callback")
            .unwrap()
            .bind(Duration::from_secs(1))
            .await
            .unwrap();
        let uri = Url::parse(receiver.redirect_uri()).unwrap();
        assert_ne!(uri.port(), Some(0));
        assert_eq!(uri.path(), "/callback");
    }

    #[tokio::test]
    #[allow(clippy::print_stderr)] // the note says why a check was skipped
    async fn binding_a_localhost_redirect_holds_ipv6_loopback_too() {
        let receiver = LoopbackRedirect::parse("http://localhost/callback")
            .unwrap()
            .bind(Duration::from_secs(1))
            .await
            .unwrap();
        let port = receiver.local_addr().port();
        if std::net::TcpListener::bind("[::1]:0").is_err() {
            eprintln!("note: no IPv6 loopback here; skipping the [::1] check");
            return;
        }
        let error = std::net::TcpListener::bind(("::1", port)).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse, "{error}");
    }
}
