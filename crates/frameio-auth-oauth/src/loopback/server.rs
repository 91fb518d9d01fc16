//! Serving the redirect: one hyper connection per browser request, one decision per request.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use frameio_auth_core::{AuthError, AuthorizationCode, CsrfState};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use super::{LoopbackError, pages};
use crate::callback::{CallbackParams, CallbackRejection, check_callback};

/// How long a browser may take to send its request headers (or finish the TLS handshake).
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What every connection of one wait shares.
pub(super) struct Shared {
    pub(super) path: String,
    pub(super) expected_state: CsrfState,
    pub(super) tls: Option<TlsAcceptor>,
    pub(super) done: AtomicBool,
    pub(super) outcome: mpsc::Sender<Result<AuthorizationCode, LoopbackError>>,
}

/// Serves one accepted connection (one request: keep-alive is off, so a browser cannot hold
/// it open after the answer).
pub(super) async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let mut builder = http1::Builder::new();
    builder
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(REQUEST_READ_TIMEOUT);
    let service = {
        let shared = Arc::clone(&shared);
        service_fn(move |request: Request<hyper::body::Incoming>| {
            let response = shared.handle(&request);
            async move { Ok::<_, Infallible>(response) }
        })
    };
    let result = match &shared.tls {
        None => {
            builder
                .serve_connection(TokioIo::new(stream), service)
                .await
        }
        Some(acceptor) => {
            match tokio::time::timeout(REQUEST_READ_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => builder.serve_connection(TokioIo::new(tls), service).await,
                Ok(Err(error)) => {
                    // Typically a browser that does not trust the self-signed certificate yet.
                    tracing::debug!(%error, "TLS handshake with the browser failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!("TLS handshake with the browser timed out");
                    return;
                }
            }
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "loopback connection ended with an error");
    }
}

impl Shared {
    /// Decides what one request means and which page it gets.
    ///
    /// Only a request to the callback path carrying *our* `state` can end the wait. Anything
    /// else is answered with a small page and ignored, and the receiver keeps waiting:
    /// - browsers send stray requests on their own (`/favicon.ico`, prefetches, a reload);
    /// - a stale tab from an earlier login attempt may deliver an old redirect, whose `state`
    ///   is not the current one;
    /// - any local process or web page can make the browser request a loopback URL, so a
    ///   forged callback (wrong or missing `state`) must neither be accepted (CSRF / code
    ///   injection) nor be able to abort the user's real login (denial of service).
    ///
    /// The `state` comparison is constant time (`CsrfState`'s `==`). Nothing from the request
    /// beyond its path is logged: its query holds the authorization code.
    fn handle(&self, request: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let uri = request.uri();
        if uri.path() != self.path {
            tracing::debug!(
                path = uri.path(),
                "ignored a request outside the callback path"
            );
            return pages::not_found();
        }
        if request.method() != Method::GET {
            tracing::debug!(method = %request.method(), "ignored a non-GET callback request");
            return pages::method_not_allowed();
        }
        let params = CallbackParams::from_query(uri.query().unwrap_or_default());
        match check_callback(&self.expected_state, &params) {
            Err(CallbackRejection::WrongState) => {
                tracing::warn!(
                    "refused a callback whose state is missing or not this login's; still waiting"
                );
                pages::wrong_state()
            }
            Ok(code) => {
                if self.finish(Ok(code)) {
                    tracing::info!("received the authorization code");
                    pages::success()
                } else {
                    pages::already_done()
                }
            }
            Err(CallbackRejection::Failed(error)) => {
                let reason = failure_reason(&error);
                if self.finish(Err(LoopbackError::Authorization(error))) {
                    tracing::info!(
                        reason = reason.as_str(),
                        "the authorization server reported a failure"
                    );
                    pages::failure(&reason)
                } else {
                    pages::already_done()
                }
            }
        }
    }

    /// Delivers the outcome if none was delivered yet; returns whether this one was.
    fn finish(&self, outcome: Result<AuthorizationCode, LoopbackError>) -> bool {
        if self.done.swap(true, Ordering::SeqCst) {
            return false;
        }
        // Capacity 1 and a single sender use: this cannot be full. If the waiter is gone
        // (deadline passed), there is nobody left to tell.
        let _ = self.outcome.try_send(outcome);
        true
    }
}

/// A short reason for the failure page: the OAuth error code, or the kind of problem.
fn failure_reason(error: &AuthError) -> String {
    match error {
        AuthError::Rejected { error, .. } | AuthError::InvalidClient { error, .. } => {
            error.error.as_str().to_owned()
        }
        AuthError::NeedsLogin { .. } => "invalid_grant".to_owned(),
        AuthError::Transient { .. } => "the server is temporarily unavailable".to_owned(),
        _ => "the response could not be understood".to_owned(),
    }
}
