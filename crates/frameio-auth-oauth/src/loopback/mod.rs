//! The RFC 8252 loopback redirect receiver for native and command-line apps.

mod pages;
mod redirect;
mod server;
mod tls;

pub use redirect::{LoopbackRedirect, NotLoopback};

use std::convert::Infallible;
use std::fmt;
use std::io::ErrorKind;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use frameio_auth_core::{AuthError, AuthorizationCode, Sleeper};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument as _;

use crate::{PendingAuthorization, TokioSleeper};
use server::{Shared, serve_connection};

/// How long [`LoopbackReceiver::wait_for_code`] waits by default: 5 minutes, time enough to
/// sign in (and pass two-factor authentication) without leaving a port open for long.
pub const DEFAULT_LOOPBACK_DEADLINE: Duration = Duration::from_secs(5 * 60);

/// The callback path used unless another is set: `/callback`.
pub const DEFAULT_CALLBACK_PATH: &str = "/callback";

/// Pause after a failed `accept` (for example too many open files) before trying again.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// How many free ports a `localhost` receiver on port 0 tries before giving up, when another
/// process already holds `[::1]` on the port it got for `127.0.0.1`.
const LOCALHOST_PORT_ATTEMPTS: usize = 8;

/// How the host of the redirect URI is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RedirectHost {
    /// The bound address, `127.0.0.1` (RFC 8252 §7.3 recommends the literal). The default in
    /// plain HTTP mode.
    Ip,
    /// `localhost`: what IMS redirect URI patterns use (`https://localhost/...`). The default in
    /// HTTPS mode, where the certificate names `localhost`.
    ///
    /// A browser may resolve `localhost` to `::1` first, so the receiver then holds the port on
    /// both `127.0.0.1` and `[::1]` (another process cannot take the IPv6 side and receive the
    /// redirect); IPv4 alone only where the machine has no IPv6 loopback. Prefer
    /// [`Ip`](Self::Ip) wherever the provider allows it (RFC 8252 §8.3).
    Localhost,
}

/// Why the loopback receiver failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoopbackError {
    /// The address is not an IPv4 loopback address (`127.0.0.0/8`).
    #[error(
        "refusing to listen on {address}: the loopback receiver binds 127.0.0.0/8 only, so no other machine can deliver (or steal) the redirect"
    )]
    NonLoopbackAddress {
        /// The refused address.
        address: IpAddr,
    },
    /// The callback path is unusable.
    #[error("invalid callback path `{path}`: it must start with `/` and have no query or fragment")]
    InvalidPath {
        /// The refused path.
        path: String,
    },
    /// The port could not be bound (in use, or not allowed).
    #[error("cannot listen on {address}: {source}; choose another port or port 0")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The self-signed certificate for HTTPS mode could not be made.
    #[error("cannot set up HTTPS for the loopback receiver: {message}")]
    Tls {
        /// What failed.
        message: String,
    },
    /// The pending authorization was built for a different redirect URI.
    #[error(
        "the pending authorization redirects to `{pending}`, but this receiver listens at `{receiver}`; build the authorization URL with the receiver's redirect_uri()"
    )]
    RedirectUriMismatch {
        /// The pending authorization's redirect URI.
        pending: String,
        /// The receiver's.
        receiver: String,
    },
    /// No usable redirect arrived before the deadline.
    #[error("no sign-in response arrived within {after:?}; start the login again")]
    TimedOut {
        /// The deadline.
        after: Duration,
    },
    /// The redirect reported an error (`error=access_denied`, `invalid_scope`,
    /// `login_required`...) or was malformed.
    #[error(transparent)]
    Authorization(AuthError),
}

impl LoopbackError {
    /// Whether the receiver gave up at its deadline.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::TimedOut { .. })
    }
}

/// Why a login through a [`LoopbackReceiver`] failed: the error of the providers'
/// `login_with_loopback` methods (check the receiver, show the URL, wait for the redirect,
/// exchange the code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The receiver does not listen at the credential's redirect URI, so the browser would be
    /// sent elsewhere; nothing was shown or sent.
    #[error(
        "the credential's redirect URI is `{credential}`, but the loopback receiver listens at `{receiver}`; build the credential with the receiver's redirect_uri(), or bind the receiver to the registered port and path"
    )]
    RedirectUriMismatch {
        /// The credential's redirect URI.
        credential: String,
        /// The receiver's.
        receiver: String,
    },
    /// The receiver failed, for example no redirect arrived before its deadline. Never
    /// [`LoopbackError::Authorization`]: an error redirect is [`Auth`](Self::Auth).
    #[error(transparent)]
    Loopback(LoopbackError),
    /// The authorization server said no: an error redirect (`access_denied`,
    /// `invalid_scope`...), or a failed code exchange. See [`AuthError::kind`].
    #[error(transparent)]
    Auth(AuthError),
}

impl LoginError {
    /// Whether the receiver gave up at its deadline.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Loopback(error) if error.is_timeout())
    }

    /// The authorization server's error, if that is what ended the login.
    pub fn auth_error(&self) -> Option<&AuthError> {
        match self {
            Self::Auth(error) => Some(error),
            _ => None,
        }
    }
}

impl From<LoopbackError> for LoginError {
    /// [`LoopbackError::Authorization`] becomes [`LoginError::Auth`]; the rest
    /// [`LoginError::Loopback`].
    fn from(error: LoopbackError) -> Self {
        match error {
            LoopbackError::Authorization(error) => Self::Auth(error),
            other => Self::Loopback(other),
        }
    }
}

impl From<AuthError> for LoginError {
    fn from(error: AuthError) -> Self {
        Self::Auth(error)
    }
}

/// Receives the authorization redirect on `http(s)://127.0.0.1:<port>/callback` (RFC 8252).
///
/// - It listens on loopback only (by default `127.0.0.1`, on a free port): nothing outside
///   this machine can reach it. With a `localhost` redirect URI ([`RedirectHost::Localhost`])
///   it holds the port on `[::1]` too, where a browser may send the redirect, so no other
///   local process can listen there instead.
/// - Plain HTTP, or HTTPS with a self-signed `localhost` certificate generated at bind time
///   ([`https`](LoopbackReceiverBuilder::https), which binds an [`HttpsLoopbackReceiver`]
///   that hands out the certificate and turns into a `LoopbackReceiver`): IMS requires
///   `https` redirect URIs even for localhost.
/// - It accepts exactly one callback: a request to the callback path carrying the pending
///   authorization's `state` (compared in constant time). Wrong-state, stray and favicon
///   requests get a small page and are ignored; see `server.rs` for why it keeps waiting.
/// - An `error=` redirect ends the wait with a typed error; the browser gets a small success
///   or failure page either way.
/// - It gives up at a deadline ([`DEFAULT_LOOPBACK_DEADLINE`]).
///
/// Binding happens first, so the redirect URI (with its port) is known before the
/// authorization URL is built and opened.
///
/// ```
/// use frameio_auth_oauth::{AuthorizationRequest, LoopbackReceiver, SecureUrl};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let receiver = LoopbackReceiver::builder().bind().await?;
/// let (url, pending) = AuthorizationRequest::new(
///     SecureUrl::parse("https://applications.frame.io/oauth2/auth")?,
///     "my-client-id",
///     receiver.redirect_uri(),
/// )
/// .build()?;
/// // open `url` in the browser, then:
/// # let callback = format!("{}?code=abc&state={}", receiver.redirect_uri(), pending.state().expose_secret());
/// # let browser = tokio::spawn(async move {
/// #     use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// #     let url = url::Url::parse(&callback).unwrap();
/// #     let mut s = tokio::net::TcpStream::connect((url.host_str().unwrap(), url.port().unwrap())).await.unwrap();
/// #     let req = format!("GET {}?{} HTTP/1.1\r\nHost: x\r\n\r\n", url.path(), url.query().unwrap());
/// #     s.write_all(req.as_bytes()).await.unwrap();
/// #     let mut out = Vec::new(); s.read_to_end(&mut out).await.unwrap();
/// # });
/// let code = receiver.wait_for_code(&pending).await?;
/// let grant = pending.token_grant(code); // exchange it with a TokenClient
/// # browser.await?;
/// # let _ = (url, grant);
/// # Ok(()) }
/// ```
pub struct LoopbackReceiver {
    listener: TcpListener,
    /// `[::1]` on the same port, for a `localhost` redirect URI (when the machine has IPv6
    /// loopback).
    listener_v6: Option<TcpListener>,
    local_addr: SocketAddr,
    redirect_uri: String,
    path: String,
    tls: Option<TlsAcceptor>,
    deadline: Duration,
    sleeper: Arc<dyn Sleeper>,
}

impl LoopbackReceiver {
    /// Starts configuring a receiver: `127.0.0.1`, a free port, `/callback`, plain HTTP,
    /// [`DEFAULT_LOOPBACK_DEADLINE`].
    pub fn builder() -> LoopbackReceiverBuilder {
        LoopbackReceiverBuilder {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            path: DEFAULT_CALLBACK_PATH.to_owned(),
            redirect_host: None,
            deadline: DEFAULT_LOOPBACK_DEADLINE,
            sleeper: Arc::new(TokioSleeper),
            mode: PhantomData,
        }
    }

    /// The redirect URI to register and to put in the authorization request, for example
    /// `http://127.0.0.1:49152/callback` or `https://localhost:49152/callback`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Checks, before a login starts, that this receiver listens at `redirect_uri` (the one
    /// the authorization request will carry); otherwise
    /// [`LoginError::RedirectUriMismatch`].
    pub fn check_redirect_uri(&self, redirect_uri: &str) -> Result<(), LoginError> {
        if redirect_uri == self.redirect_uri {
            Ok(())
        } else {
            Err(LoginError::RedirectUriMismatch {
                credential: redirect_uri.to_owned(),
                receiver: self.redirect_uri.clone(),
            })
        }
    }

    /// The bound IPv4 address and port. A `localhost` receiver also holds that port on `[::1]`
    /// when the machine has IPv6 loopback.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether the receiver serves HTTPS.
    pub fn is_https(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until the one valid callback for `pending` arrives, an `error=` callback ends the
    /// login, or the deadline passes. Consumes the receiver: the port is closed afterwards.
    pub async fn wait_for_code(
        self,
        pending: &PendingAuthorization,
    ) -> Result<AuthorizationCode, LoopbackError> {
        if pending.redirect_uri() != self.redirect_uri {
            return Err(LoopbackError::RedirectUriMismatch {
                pending: pending.redirect_uri().to_owned(),
                receiver: self.redirect_uri,
            });
        }
        let span = tracing::info_span!(
            "oauth.loopback_receiver",
            port = self.local_addr.port(),
            https = self.tls.is_some(),
        );
        let (sender, mut outcome) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            path: self.path,
            expected_state: pending.state().clone(),
            tls: self.tls,
            done: AtomicBool::new(false),
            outcome: sender,
        });
        let listener = self.listener;
        let listener_v6 = self.listener_v6;
        let accept_v4 = accept_loop(&listener, &shared);
        let accept_v6 = async {
            match &listener_v6 {
                Some(listener) => accept_loop(listener, &shared).await,
                None => std::future::pending().await,
            }
        };
        let deadline = self.deadline;
        let sleeper = self.sleeper;
        async move {
            tokio::select! {
                biased;
                Some(result) = outcome.recv() => result,
                _ = accept_v4 => unreachable_accept_end(),
                _ = accept_v6 => unreachable_accept_end(),
                () = sleeper.sleep(deadline) => {
                    tracing::warn!(deadline_ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX), "no sign-in response before the deadline");
                    Err(LoopbackError::TimedOut { after: deadline })
                }
            }
        }
        .instrument(span)
        .await
    }
}

/// Accepts connections on `listener` and serves each; ends only by being dropped.
async fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) -> Infallible {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                tokio::spawn(
                    serve_connection(stream, Arc::clone(shared))
                        .instrument(tracing::Span::current()),
                );
            }
            Err(error) => {
                tracing::debug!(%error, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_RETRY_PAUSE).await;
            }
        }
    }
}

/// The accept loop only ends by being dropped.
fn unreachable_accept_end() -> Result<AuthorizationCode, LoopbackError> {
    Err(LoopbackError::TimedOut {
        after: Duration::ZERO,
    })
}

impl fmt::Debug for LoopbackReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackReceiver")
            .field("redirect_uri", &self.redirect_uri)
            .field("https", &self.tls.is_some())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// A [`LoopbackReceiver`] serving HTTPS with a self-signed certificate for `localhost`,
/// generated at bind time: what [`LoopbackReceiverBuilder::https`] binds.
///
/// It always has its certificate ([`certificate_der`](Self::certificate_der),
/// [`certificate_pem`](Self::certificate_pem)), for a client (or a test) to trust. Wherever a
/// plain `LoopbackReceiver` is taken (a credential's `login_with_loopback`), pass
/// [`into_receiver`](Self::into_receiver) or `.into()`; [`receiver`](Self::receiver) reads
/// the rest (`redirect_uri`, `local_addr`).
///
/// ```
/// use frameio_auth_oauth::{HttpsLoopbackReceiver, LoopbackReceiver};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let https: HttpsLoopbackReceiver = LoopbackReceiver::builder().https().bind().await?;
/// assert!(https.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(https.receiver().redirect_uri().starts_with("https://localhost:"));
/// let receiver: LoopbackReceiver = https.into();
/// assert!(receiver.is_https());
/// # Ok(()) }
/// ```
pub struct HttpsLoopbackReceiver {
    receiver: LoopbackReceiver,
    cert_der: Vec<u8>,
    cert_pem: String,
}

impl HttpsLoopbackReceiver {
    /// The self-signed certificate, DER encoded.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The self-signed certificate, PEM encoded.
    pub fn certificate_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The receiver: its [`redirect_uri`](LoopbackReceiver::redirect_uri),
    /// [`local_addr`](LoopbackReceiver::local_addr)...
    pub fn receiver(&self) -> &LoopbackReceiver {
        &self.receiver
    }

    /// The receiver, to wait on or to hand to a credential's `login_with_loopback`.
    pub fn into_receiver(self) -> LoopbackReceiver {
        self.receiver
    }
}

impl From<HttpsLoopbackReceiver> for LoopbackReceiver {
    fn from(https: HttpsLoopbackReceiver) -> Self {
        https.receiver
    }
}

impl AsRef<LoopbackReceiver> for HttpsLoopbackReceiver {
    fn as_ref(&self) -> &LoopbackReceiver {
        &self.receiver
    }
}

impl fmt::Debug for HttpsLoopbackReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsLoopbackReceiver")
            .field("receiver", &self.receiver)
            .finish_non_exhaustive()
    }
}

/// [`LoopbackReceiverBuilder`] mode: plain HTTP (the default).
#[derive(Clone, Copy, Debug)]
pub enum PlainHttp {}

/// [`LoopbackReceiverBuilder`] mode: HTTPS with a self-signed certificate; `bind` gives an
/// [`HttpsLoopbackReceiver`].
#[derive(Clone, Copy, Debug)]
pub enum SelfSignedHttps {}

/// Configures a [`LoopbackReceiver`]. `M` is the mode, [`PlainHttp`] unless
/// [`https`](Self::https) switched it to [`SelfSignedHttps`]: the mode decides what
/// [`bind`](Self::bind) returns, so a certificate is there exactly when HTTPS is.
#[derive(Debug)]
pub struct LoopbackReceiverBuilder<M = PlainHttp> {
    address: IpAddr,
    port: u16,
    path: String,
    redirect_host: Option<RedirectHost>,
    deadline: Duration,
    sleeper: Arc<dyn Sleeper>,
    mode: PhantomData<fn() -> M>,
}

impl<M> LoopbackReceiverBuilder<M> {
    /// The port to listen on; 0 (the default) lets the system pick a free one. A fixed port is
    /// needed when the provider only accepts an exact registered redirect URI.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The address to listen on. Only IPv4 loopback addresses (`127.0.0.0/8`) are accepted;
    /// `bind` refuses anything else with [`LoopbackError::NonLoopbackAddress`].
    /// Default: `127.0.0.1`. With [`RedirectHost::Localhost`] the port is held on `[::1]`
    /// too.
    #[must_use]
    pub fn address(mut self, address: IpAddr) -> Self {
        self.address = address;
        self
    }

    /// The callback path. Default: [`DEFAULT_CALLBACK_PATH`].
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// How the redirect URI names the host. Default: [`RedirectHost::Ip`] for HTTP,
    /// [`RedirectHost::Localhost`] for HTTPS.
    #[must_use]
    pub fn redirect_host(mut self, host: RedirectHost) -> Self {
        self.redirect_host = Some(host);
        self
    }

    /// How long to wait for the callback. Default: [`DEFAULT_LOOPBACK_DEADLINE`].
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// How the deadline is waited for. Default: [`TokioSleeper`].
    #[must_use]
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// The checked listening address.
    fn loopback_ip(&self) -> Result<Ipv4Addr, LoopbackError> {
        match self.address {
            IpAddr::V4(ip) if ip.is_loopback() => Ok(ip),
            address => Err(LoopbackError::NonLoopbackAddress { address }),
        }
    }

    /// Binds the port on `ip`; `tls` makes it an HTTPS receiver. Connections that arrive
    /// before [`wait_for_code`](LoopbackReceiver::wait_for_code) wait in the listen queue.
    async fn listen(
        self,
        ip: Ipv4Addr,
        tls: Option<TlsAcceptor>,
    ) -> Result<LoopbackReceiver, LoopbackError> {
        if !self.path.starts_with('/') || self.path.contains(['?', '#']) {
            return Err(LoopbackError::InvalidPath { path: self.path });
        }
        let https = tls.is_some();
        let default_host = if https {
            RedirectHost::Localhost
        } else {
            RedirectHost::Ip
        };
        let redirect_host = self.redirect_host.unwrap_or(default_host);
        let (listener, listener_v6, local_addr) = match redirect_host {
            RedirectHost::Ip => {
                let (listener, local_addr) =
                    bind_listener(SocketAddr::from((ip, self.port))).await?;
                (listener, None, local_addr)
            }
            RedirectHost::Localhost => bind_localhost(ip, self.port).await?,
        };
        let host = match redirect_host {
            RedirectHost::Localhost => "localhost".to_owned(),
            RedirectHost::Ip => ip.to_string(),
        };
        let scheme = if https { "https" } else { "http" };
        let redirect_uri = format!("{scheme}://{host}:{}{}", local_addr.port(), self.path);
        // The path must survive URL parsing unchanged, or the browser's request would not match.
        match url::Url::parse(&redirect_uri) {
            Ok(url) if url.path() == self.path && url.as_str() == redirect_uri => {}
            _ => return Err(LoopbackError::InvalidPath { path: self.path }),
        }
        tracing::debug!(
            port = local_addr.port(),
            https,
            ipv6 = listener_v6.is_some(),
            "loopback receiver bound"
        );
        Ok(LoopbackReceiver {
            listener,
            listener_v6,
            local_addr,
            redirect_uri,
            path: self.path,
            tls,
            deadline: self.deadline,
            sleeper: self.sleeper,
        })
    }
}

/// Binds one listener; returns it with the address it got.
async fn bind_listener(address: SocketAddr) -> Result<(TcpListener, SocketAddr), LoopbackError> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| LoopbackError::Bind { address, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| LoopbackError::Bind { address, source })?;
    Ok((listener, local_addr))
}

/// Holds `port` on `ip` and on `[::1]`, for a `localhost` redirect URI: a browser may resolve
/// `localhost` to `::1` first, and whoever listens there would get the redirect.
///
/// - Port 0: when `[::1]` is taken on the port the system gave for `ip`, tries another free
///   port, up to [`LOCALHOST_PORT_ATTEMPTS`] times; then the last bind error.
/// - A fixed port: `[::1]` taken is a [`LoopbackError::Bind`] error.
/// - No IPv6 loopback on this machine (`EADDRNOTAVAIL`, or no IPv6 at all): IPv4 alone, since
///   no one can listen where nothing exists.
async fn bind_localhost(
    ip: Ipv4Addr,
    port: u16,
) -> Result<(TcpListener, Option<TcpListener>, SocketAddr), LoopbackError> {
    let attempts = if port == 0 {
        LOCALHOST_PORT_ATTEMPTS
    } else {
        1
    };
    let mut attempt = 1;
    loop {
        let (listener, local_addr) = bind_listener(SocketAddr::from((ip, port))).await?;
        let address_v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, local_addr.port()));
        match TcpListener::bind(address_v6).await {
            Ok(listener_v6) => return Ok((listener, Some(listener_v6), local_addr)),
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::AddrNotAvailable | ErrorKind::Unsupported
                ) =>
            {
                tracing::debug!(%error, "no IPv6 loopback here: the receiver listens on IPv4 only");
                return Ok((listener, None, local_addr));
            }
            Err(source) if attempt < attempts && source.kind() == ErrorKind::AddrInUse => {
                tracing::debug!(
                    port = local_addr.port(),
                    "[::1] is taken on this port; trying another"
                );
                attempt += 1;
            }
            Err(source) => {
                return Err(LoopbackError::Bind {
                    address: address_v6,
                    source,
                });
            }
        }
    }
}

impl LoopbackReceiverBuilder<PlainHttp> {
    /// Serves HTTPS with a self-signed certificate for `localhost` generated at bind time:
    /// `bind` then gives an
    /// [`HttpsLoopbackReceiver`], whose certificate is always there.
    #[must_use]
    pub fn https(self) -> LoopbackReceiverBuilder<SelfSignedHttps> {
        LoopbackReceiverBuilder {
            address: self.address,
            port: self.port,
            path: self.path,
            redirect_host: self.redirect_host,
            deadline: self.deadline,
            sleeper: self.sleeper,
            mode: PhantomData,
        }
    }

    /// Binds the port. Connections that arrive before
    /// [`wait_for_code`](LoopbackReceiver::wait_for_code) wait in the listen queue.
    pub async fn bind(self) -> Result<LoopbackReceiver, LoopbackError> {
        let ip = self.loopback_ip()?;
        self.listen(ip, None).await
    }
}

impl LoopbackReceiverBuilder<SelfSignedHttps> {
    /// Generates the certificate and binds the port. Connections that arrive before
    /// [`wait_for_code`](LoopbackReceiver::wait_for_code) wait in the listen queue.
    pub async fn bind(self) -> Result<HttpsLoopbackReceiver, LoopbackError> {
        let ip = self.loopback_ip()?;
        let certificate = tls::self_signed(ip)?;
        let receiver = self.listen(ip, Some(certificate.acceptor)).await?;
        Ok(HttpsLoopbackReceiver {
            receiver,
            cert_der: certificate.cert_der.to_vec(),
            cert_pem: certificate.cert_pem,
        })
    }
}
