//! HTTP plumbing shared by the fake servers: the accept loop, the per-request service,
//! request recording, response bodies and helpers, and fault injection.
//!
//! A fake is a [`FakeApp`]: it records each request (and says which fault is due), routes it,
//! renders faults in its own error format and adds its own headers. [`Server`] runs any app
//! on `127.0.0.1:0`.

mod fault;
pub(crate) mod oauth;

pub(crate) use fault::FaultPlan;
pub use fault::{Fault, Schedule, Times};

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use frameio_auth_core::Timestamp;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// Request bodies above this size get `413 Payload Too Large`.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// How long [`Server::shutdown`] lets in-flight requests finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// The pause between the two halves of a truncated body, so the first half is flushed to the
/// socket before the connection is torn down.
const TRUNCATE_PAUSE: Duration = Duration::from_millis(30);

/// A response body: complete, or deliberately cut short.
#[derive(Debug)]
pub(crate) enum FakeBody {
    /// The whole body (`None` once sent).
    Full(Option<Bytes>),
    /// Sends the first part, pauses, then fails, which makes hyper close the connection.
    Truncated {
        first: Option<Bytes>,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

impl FakeBody {
    pub(crate) fn empty() -> Self {
        Self::Full(None)
    }

    pub(crate) fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            Self::Full(None)
        } else {
            Self::Full(Some(bytes))
        }
    }
}

impl Body for FakeBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            Self::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Truncated { first, pause } => {
                if let Some(bytes) = first.take() {
                    *pause = Some(Box::pin(tokio::time::sleep(TRUNCATE_PAUSE)));
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                if let Some(sleep) = pause
                    && sleep.as_mut().poll(cx).is_pending()
                {
                    return Poll::Pending;
                }
                Poll::Ready(Some(Err(io::Error::other(
                    "fault injection: body truncated on purpose",
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(None) => SizeHint::with_exact(0),
            Self::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            Self::Truncated { .. } => SizeHint::default(),
        }
    }
}

pub(crate) type FakeResponse = Response<FakeBody>;

/// A parsed request, as the endpoint handlers see it.
#[derive(Debug)]
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) form: Vec<(String, String)>,
    /// Whether the body was declared `application/x-www-form-urlencoded`.
    pub(crate) is_form: bool,
    /// Whether the body was over the size limit (and was dropped).
    pub(crate) too_large: bool,
}

impl Req {
    pub(crate) fn form_value(&self, name: &str) -> Option<&str> {
        find(&self.form, name)
    }

    pub(crate) fn query_value(&self, name: &str) -> Option<&str> {
        find(&self.query, name)
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The token of an `Authorization: Bearer <token>` header.
    pub(crate) fn bearer_token(&self) -> Option<&str> {
        self.header("authorization")
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
    }
}

/// One request as a fake received it, for assertions in tests.
///
/// Its `Debug` shows the method, path, query keys, header names and form keys, with the values
/// of credential headers and secret-bearing form fields redacted, and only the body's length:
/// a failed assertion that prints a request prints no secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers, names lower case, in order (values that are not UTF-8 are replaced lossily).
    pub headers: Vec<(String, String)>,
    /// The form parameters of a `application/x-www-form-urlencoded` body, decoded, in order
    /// (empty for other bodies).
    pub form: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
}

impl RecordedRequest {
    /// The first form parameter called `name`.
    pub fn form_value(&self, name: &str) -> Option<&str> {
        find(&self.form, name)
    }

    /// The first query parameter called `name`.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        find(&self.query, name)
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Header names whose values `RecordedRequest`'s `Debug` hides.
const SECRET_HEADERS: [&str; 2] = ["authorization", "cookie"];
/// Form fields whose values `RecordedRequest`'s `Debug` hides.
const SECRET_FIELDS: [&str; 8] = [
    "client_secret",
    "code",
    "code_verifier",
    "refresh_token",
    "token",
    "password",
    "access_token",
    "id_token",
];

/// `name: value` pairs for `Debug`, with the values of `hidden` names redacted.
struct Redacted<'a> {
    pairs: &'a [(String, String)],
    hidden: &'a [&'a str],
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.pairs {
            if self.hidden.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                map.entry(name, &format_args!("[redacted]"));
            } else {
                map.entry(name, value);
            }
        }
        map.finish()
    }
}

/// The names of `pairs`, in order.
fn keys(pairs: &[(String, String)]) -> Vec<&str> {
    pairs.iter().map(|(k, _)| k.as_str()).collect()
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Query values can carry codes and states: show their names only.
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_keys", &keys(&self.query))
            .field(
                "headers",
                &Redacted {
                    pairs: &self.headers,
                    hidden: &SECRET_HEADERS,
                },
            )
            .field(
                "form",
                &Redacted {
                    pairs: &self.form,
                    hidden: &SECRET_FIELDS,
                },
            )
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The value of the first pair called `name`.
pub(crate) fn find<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// What makes a fake server: its state and endpoints. Every method is synchronous, so no lock
/// is ever held across an `.await`.
pub(crate) trait FakeApp: Send + Sync + 'static {
    /// Counts and records a request (faulted ones too) and returns the fault due, if any.
    fn record(&self, request: RecordedRequest) -> Option<Fault>;
    /// The normal answer.
    fn route(&self, req: &Req) -> FakeResponse;
    /// The answer to `req` for an injected fault (never `DropConnection`, `ResetConnection`,
    /// `Slow` or `Cycle`).
    fn fault_response(&self, req: &Req, fault: &Fault) -> FakeResponse;
    /// Adds the headers every response of this fake carries.
    fn finish(&self, response: &mut FakeResponse);
}

/// A fake server task on `127.0.0.1`, on a port the OS chose.
#[derive(Debug)]
pub(crate) struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `127.0.0.1:0`; the app is made once the base URL is known.
    pub(crate) async fn start<A: FakeApp>(
        make_app: impl FnOnce(String) -> Arc<A>,
    ) -> io::Result<(Self, Arc<A>)> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let app = make_app(format!("http://{addr}"));
        let (shutdown, receiver) = watch::channel(false);
        let task = tokio::spawn(serve(listener, Arc::clone(&app), receiver));
        Ok((
            Self {
                addr,
                shutdown,
                task: Some(task),
            },
            app,
        ))
    }

    /// The socket address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the server task is still running.
    pub(crate) fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops accepting connections, lets in-flight requests finish (up to a second), and
    /// waits for the server task.
    pub(crate) async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn is_form_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn parse_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Serves connections from `listener` until `shutdown` changes (or its sender is dropped).
async fn serve<A: FakeApp>(
    listener: TcpListener,
    shared: Arc<A>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&shared), shutdown.clone()));
                }
                // Out of file descriptors and the like: pause instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    // Connections saw the same signal and are finishing their in-flight requests.
    let drain = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, drain).await;
    connections.abort_all();
}

/// A connection that a request handler can condemn to end with a TCP reset
/// ([`Fault::ResetConnection`]): once `reset` is set it sends nothing more, not even the
/// `FIN` of an orderly shutdown, and closing it with a zero linger time makes the kernel
/// send an `RST`.
struct ResettableStream {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl ResettableStream {
    fn condemned(&self) -> bool {
        self.reset.load(Ordering::SeqCst)
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.condemned() {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.condemned() {
            // No FIN: the close in `drop` resets the connection instead.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.condemned() {
            // With a zero linger time, closing the socket sends RST and drops unsent data.
            let _ = self.stream.set_zero_linger();
        }
    }
}

async fn serve_connection<A: FakeApp>(
    stream: TcpStream,
    shared: Arc<A>,
    mut shutdown: watch::Receiver<bool>,
) {
    let reset = Arc::new(AtomicBool::new(false));
    let stream = ResettableStream {
        stream,
        reset: Arc::clone(&reset),
    };
    let service = service_fn(move |req| handle(Arc::clone(&shared), Arc::clone(&reset), req));
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new());
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        // Errors here are the client's business (or an injected fault): nothing to report.
        _ = connection.as_mut() => {}
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// One request: read and record it, apply a fault if one is due, else route it. Setting
/// `reset` makes the connection end with a TCP reset.
async fn handle<A: FakeApp>(
    shared: Arc<A>,
    reset: Arc<AtomicBool>,
    request: Request<Incoming>,
) -> Result<FakeResponse, io::Error> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts
        .uri
        .query()
        .map(|q| parse_pairs(q.as_bytes()))
        .unwrap_or_default();
    let (bytes, too_large) = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => (collected.to_bytes(), false),
        Err(error) if error.is::<LengthLimitError>() => (Bytes::new(), true),
        // The client went away mid-body: nobody to answer.
        Err(error) => return Err(io::Error::other(error)),
    };
    let is_form = is_form_content_type(&parts.headers);
    let form = if is_form {
        parse_pairs(&bytes)
    } else {
        Vec::new()
    };
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        query: query.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        form: form.clone(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let fault = shared.record(recorded);
    let req = Req {
        method: parts.method,
        path,
        query,
        headers: parts.headers,
        form,
        is_form,
        too_large,
    };

    let mut response = match fault {
        Some(Fault::DropConnection) => {
            // An error from the service makes hyper close the connection without writing.
            return Err(io::Error::other("fault injection: connection dropped"));
        }
        Some(Fault::ResetConnection) => {
            reset.store(true, Ordering::SeqCst);
            return Err(io::Error::other("fault injection: connection reset"));
        }
        Some(Fault::Slow { delay }) => {
            tokio::time::sleep(delay).await;
            shared.route(&req)
        }
        Some(fault) => shared.fault_response(&req, &fault),
        None => shared.route(&req),
    };
    shared.finish(&mut response);
    Ok(response)
}

/// A JSON response with the headers IMS sends on token responses.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> FakeResponse {
    let mut response = Response::new(FakeBody::from_bytes(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `{"error": error, "error_description": description}` with `status`.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> FakeResponse {
    json_response(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

/// A response with no body.
pub(crate) fn empty_response(status: StatusCode) -> FakeResponse {
    let mut response = Response::new(FakeBody::empty());
    *response.status_mut() = status;
    response
}

/// A small HTML page.
pub(crate) fn html_response(status: StatusCode, title: &str, text: &str) -> FakeResponse {
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>\n",
        title = escape_html(title),
        text = escape_html(text),
    );
    let mut response = Response::new(FakeBody::from_bytes(page));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=utf-8"),
    );
    response
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A `302 Found` to `location`.
pub(crate) fn redirect_response(location: &str) -> FakeResponse {
    let mut response = empty_response(StatusCode::FOUND);
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(_) => html_response(
            StatusCode::BAD_REQUEST,
            "Bad redirect_uri",
            "The redirect URI cannot be used in a Location header.",
        ),
    }
}

/// A plausible token response, the raw material of the body faults.
fn sample_token_json() -> String {
    json!({
        "access_token": "fake-fault-injection-access-token-not-valid-anywhere",
        "token_type": "bearer",
        "expires_in": 86_399,
    })
    .to_string()
}

fn first_half(text: &str) -> Bytes {
    let half = text.len() / 2;
    Bytes::copy_from_slice(&text.as_bytes()[..half])
}

fn status_or_500(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn error_code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_request",
        401 => "invalid_client",
        429 => "too_many_requests",
        503 => "temporarily_unavailable",
        _ => "server_error",
    }
}

fn set_json_type(response: &mut FakeResponse) {
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
}

/// Renders an error in a fake's own format: `(status, error code, description)`.
pub(crate) type ErrorBody = fn(StatusCode, &str, &str) -> FakeResponse;

/// The response for every fault except `DropConnection`, `ResetConnection` and `Slow`
/// (handled by the caller; a `Cycle` was resolved to one of its faults before).
/// `now` is the fake's clock (for HTTP-date `Retry-After`); `error` renders error bodies.
pub(crate) fn fault_response(fault: &Fault, now: Timestamp, error: ErrorBody) -> FakeResponse {
    match fault {
        Fault::RetryAfter { secs } => too_many_requests(&secs.to_string(), error),
        Fault::RetryAfterDate { secs } => {
            let at = now.saturating_add(Duration::from_secs(*secs));
            // Round up to a whole second: HTTP dates have no fractions.
            let at_secs = at.as_unix_millis().div_ceil(1000);
            let date = SystemTime::UNIX_EPOCH
                .checked_add(Duration::from_secs(at_secs))
                .unwrap_or(SystemTime::UNIX_EPOCH);
            too_many_requests(&httpdate::fmt_http_date(date), error)
        }
        Fault::Status500 => status_fault(StatusCode::INTERNAL_SERVER_ERROR, true, error),
        Fault::Status503 => status_fault(StatusCode::SERVICE_UNAVAILABLE, true, error),
        Fault::Status { status, json_body } => {
            status_fault(status_or_500(*status), *json_body, error)
        }
        Fault::MalformedJson => {
            let mut response = Response::new(FakeBody::from_bytes(
                "{\"access_token\": \"fake-malformed\", \"token_type\": bearer, \"expires_in\": 86399,}",
            ));
            set_json_type(&mut response);
            response
        }
        Fault::HalfJson => {
            let mut response =
                Response::new(FakeBody::Full(Some(first_half(&sample_token_json()))));
            set_json_type(&mut response);
            response
        }
        Fault::TruncatedBody => {
            let full = sample_token_json();
            let mut response = Response::new(FakeBody::Truncated {
                first: Some(first_half(&full)),
                pause: None,
            });
            set_json_type(&mut response);
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
            response
        }
        Fault::HtmlBody { status } => {
            let status = status_or_500(*status);
            let reason = status.canonical_reason().unwrap_or("Error");
            let title = format!("{} {reason}", status.as_u16());
            html_response(
                status,
                &title,
                "The proxy server received an invalid response from an upstream server.",
            )
        }
        Fault::Oversized { bytes } => {
            let prefix = "{\"access_token\":\"fake-oversized\",\"token_type\":\"bearer\",\"expires_in\":86399,\"padding\":\"";
            let suffix = "\"}";
            let pad = bytes.saturating_sub(prefix.len() + suffix.len());
            let mut body = Vec::with_capacity(prefix.len() + pad + suffix.len());
            body.extend_from_slice(prefix.as_bytes());
            body.resize(prefix.len() + pad, b'x');
            body.extend_from_slice(suffix.as_bytes());
            let mut response = Response::new(FakeBody::from_bytes(body));
            set_json_type(&mut response);
            response
        }
        // Handled before we get here; answer something sensible anyway.
        Fault::DropConnection | Fault::ResetConnection | Fault::Slow { .. } | Fault::Cycle(_) => {
            status_fault(StatusCode::INTERNAL_SERVER_ERROR, true, error)
        }
    }
}

fn too_many_requests(retry_after: &str, error: ErrorBody) -> FakeResponse {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "too many requests; retry later",
    );
    if let Ok(value) = HeaderValue::from_str(retry_after) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn status_fault(status: StatusCode, json_body: bool, error: ErrorBody) -> FakeResponse {
    if json_body {
        error(
            status,
            error_code_for(status),
            "fault injected by the fake server",
        )
    } else {
        empty_response(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn recorded_request_debug_hides_secrets() {
        let request = RecordedRequest {
            method: "POST".to_owned(),
            path: "/ims/token/v3".to_owned(),
            query: pairs(&[("state", "LEAK-query-state"), ("code", "LEAK-query-code")]),
            headers: pairs(&[
                ("content-type", "application/x-www-form-urlencoded"),
                ("Authorization", "Basic LEAK-basic-credentials"),
                ("cookie", "session=LEAK-cookie"),
            ]),
            form: pairs(&[
                ("grant_type", "authorization_code"),
                ("client_id", "visible-client-id"),
                ("client_secret", "LEAK-client-secret"),
                ("code", "LEAK-code"),
                ("code_verifier", "LEAK-verifier"),
                ("refresh_token", "LEAK-refresh"),
                ("token", "LEAK-token"),
                ("password", "LEAK-password"),
                ("access_token", "LEAK-access"),
                ("id_token", "LEAK-id"),
            ]),
            body: "client_secret=LEAK-body-secret".to_owned(),
        };
        for text in [format!("{request:?}"), format!("{request:#?}")] {
            assert!(!text.contains("LEAK"), "a secret in Debug: {text}");
            for shown in [
                "POST",
                "/ims/token/v3",
                "state",
                "authorization_code",
                "visible-client-id",
                "application/x-www-form-urlencoded",
                "Authorization",
                "client_secret",
                "body_len",
            ] {
                assert!(text.contains(shown), "{shown} is shown: {text}");
            }
        }
        // The accessors still see everything.
        assert_eq!(request.form_value("code"), Some("LEAK-code"));
        assert_eq!(
            request.header("authorization"),
            Some("Basic LEAK-basic-credentials")
        );
    }
}
