//! OAuth request helpers shared by the fakes' authorization and token endpoints.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hyper::StatusCode;
use percent_encoding::percent_decode_str;

use super::{FakeResponse, Req, oauth_error};

/// `400 invalid_request` with `description`.
pub(crate) fn bad_request(description: &str) -> FakeResponse {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// Appends `params` to `uri`'s query.
pub(crate) fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        serializer.append_pair(k, v);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", serializer.finish())
}

pub(crate) fn form_decode(component: &str) -> Option<String> {
    let plus_as_space = component.replace('+', " ");
    percent_decode_str(&plus_as_space)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

/// `Some(Ok((id, secret)))` for a well-formed Basic header, `Some(Err)` for a malformed one,
/// `None` when there is no Basic header.
pub(crate) fn basic_credentials(req: &Req) -> Option<Result<(String, String), ()>> {
    let value = req.header("authorization")?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let parsed = STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| {
            let (id, secret) = text.split_once(':')?;
            Some((form_decode(id)?, form_decode(secret)?))
        });
    Some(parsed.ok_or(()))
}

/// The body must be a form, with no parameter repeated.
pub(crate) fn check_form(req: &Req) -> Result<(), FakeResponse> {
    if !req.is_form {
        return Err(bad_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let mut seen = BTreeSet::new();
    for (name, _) in &req.form {
        if !seen.insert(name.as_str()) {
            return Err(bad_request(&format!("parameter {name} is repeated")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_query_appends() {
        assert_eq!(
            with_query("https://a/cb", &[("code", "x y")]),
            "https://a/cb?code=x+y"
        );
        assert_eq!(
            with_query("https://a/cb?k=1", &[("code", "c")]),
            "https://a/cb?k=1&code=c"
        );
    }

    #[test]
    fn form_decoding_of_basic_parts() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("%FF"), None);
    }
}
