//! The self-signed `localhost` certificate for the HTTPS mode.

use std::net::Ipv4Addr;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use super::LoopbackError;

/// A freshly generated certificate and the TLS acceptor that serves it.
pub(super) struct SelfSigned {
    pub(super) acceptor: TlsAcceptor,
    pub(super) cert_der: CertificateDer<'static>,
    pub(super) cert_pem: String,
}

/// Generates a key pair and a self-signed certificate for `localhost` and `ip` (valid for
/// this process only: a browser shows a warning once, a client can trust it explicitly).
///
/// The crypto provider is passed explicitly (aws-lc-rs, the one reqwest uses), so nothing
/// depends on a process-wide default provider being installed.
pub(super) fn self_signed(ip: Ipv4Addr) -> Result<SelfSigned, LoopbackError> {
    let tls_error = |message: String| LoopbackError::Tls { message };
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), ip.to_string()])
            .map_err(|e| tls_error(e.to_string()))?;
    let cert_der = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key)
        .map_err(|e| tls_error(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(SelfSigned {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        cert_der,
        cert_pem: certified.cert.pem(),
    })
}
