//! HTTP plumbing: the accept loop, the per-request service, response bodies and faults.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::endpoints;
use super::fault::Fault;
use super::paths;
use super::state::{RecordedRequest, Shared, find};

/// Request bodies above this size get `413 Payload Too Large`.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// How long [`FakeIms::shutdown`](super::FakeIms::shutdown) lets in-flight requests finish.
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
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
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

async fn serve_connection(
    stream: tokio::net::TcpStream,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = service_fn(move |req| handle(Arc::clone(&shared), req));
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

/// One request: read and record it, apply a fault if one is due, else route it.
async fn handle(
    shared: Arc<Shared>,
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
    let grant_type = (path == paths::TOKEN)
        .then(|| find(&form, "grant_type"))
        .flatten()
        .map(str::to_owned);
    let fault = {
        let mut state = shared.lock();
        state.record(recorded, grant_type.as_deref());
        state.faults.next_fault(&path)
    };
    let req = Req {
        method: parts.method,
        path,
        query,
        headers: parts.headers,
        form,
        is_form,
    };

    let mut response = match fault {
        Some(Fault::DropConnection) => {
            // An error from the service makes hyper close the connection without writing.
            return Err(io::Error::other("fault injection: connection dropped"));
        }
        Some(Fault::Slow { delay }) => {
            tokio::time::sleep(delay).await;
            route(&shared, &req, too_large)
        }
        Some(fault) => fault_response(&shared, &fault),
        None => route(&shared, &req, too_large),
    };
    if let Ok(value) = HeaderValue::from_str(&shared.debug_id()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-debug-id"), value);
    }
    Ok(response)
}

fn route(shared: &Shared, req: &Req, too_large: bool) -> FakeResponse {
    if too_large {
        return oauth_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "request body too large",
        );
    }
    endpoints::route(shared, req)
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

/// The response for every fault except `DropConnection` and `Slow` (handled by the caller).
fn fault_response(shared: &Shared, fault: &Fault) -> FakeResponse {
    match fault {
        Fault::RetryAfter { secs } => too_many_requests(&secs.to_string()),
        Fault::RetryAfterDate { secs } => {
            let now = shared.now();
            let at = now.saturating_add(Duration::from_secs(*secs));
            // Round up to a whole second: HTTP dates have no fractions.
            let at_secs = at.as_unix_millis().div_ceil(1000);
            let date = SystemTime::UNIX_EPOCH
                .checked_add(Duration::from_secs(at_secs))
                .unwrap_or(SystemTime::UNIX_EPOCH);
            too_many_requests(&httpdate::fmt_http_date(date))
        }
        Fault::Status500 => status_fault(StatusCode::INTERNAL_SERVER_ERROR, true),
        Fault::Status503 => status_fault(StatusCode::SERVICE_UNAVAILABLE, true),
        Fault::Status { status, json_body } => status_fault(status_or_500(*status), *json_body),
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
        Fault::DropConnection | Fault::Slow { .. } => {
            status_fault(StatusCode::INTERNAL_SERVER_ERROR, true)
        }
    }
}

fn too_many_requests(retry_after: &str) -> FakeResponse {
    let mut response = oauth_error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "too many requests; retry later",
    );
    if let Ok(value) = HeaderValue::from_str(retry_after) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn status_fault(status: StatusCode, json_body: bool) -> FakeResponse {
    if json_body {
        oauth_error(
            status,
            error_code_for(status),
            "fault injected by the fake IMS",
        )
    } else {
        empty_response(status)
    }
}
