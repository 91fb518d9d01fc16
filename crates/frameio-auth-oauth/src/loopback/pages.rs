//! The small HTML pages the browser sees.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

/// A page: the status and a message. No scripts, no external resources, no referrer.
pub(super) fn page(status: StatusCode, title: &str, message: &str) -> Response<Full<Bytes>> {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\">\
         <h1>{title}</h1><p>{message}</p></body></html>",
        title = escape(title),
        message = escape(message),
    );
    let mut response = Response::new(Full::new(Bytes::from(html)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The page's own URL holds the authorization code: never send it anywhere.
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub(super) fn success() -> Response<Full<Bytes>> {
    page(
        StatusCode::OK,
        "Signed in",
        "You are signed in. You can close this tab and return to the application.",
    )
}

pub(super) fn failure(reason: &str) -> Response<Full<Bytes>> {
    page(
        StatusCode::BAD_REQUEST,
        "Sign-in failed",
        &format!(
            "Sign-in failed ({reason}). You can close this tab; the application shows what to do next."
        ),
    )
}

pub(super) fn wrong_state() -> Response<Full<Bytes>> {
    page(
        StatusCode::BAD_REQUEST,
        "Not the current sign-in",
        "This response does not belong to the sign-in in progress (an old tab, or a link from \
         elsewhere). It was ignored; finish signing in from the newest tab.",
    )
}

pub(super) fn already_done() -> Response<Full<Bytes>> {
    page(
        StatusCode::CONFLICT,
        "Already handled",
        "This sign-in has already been handled. You can close this tab.",
    )
}

pub(super) fn not_found() -> Response<Full<Bytes>> {
    page(StatusCode::NOT_FOUND, "Not found", "Nothing here.")
}

pub(super) fn method_not_allowed() -> Response<Full<Bytes>> {
    let mut response = page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "Only GET is accepted here.",
    );
    response
        .headers_mut()
        .insert("allow", HeaderValue::from_static("GET"));
    response
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        let response = failure("<script>");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    }
}
