//! The Frame.io V2 endpoints. Every handler is synchronous.

use frameio_auth_core::{PkceChallenge, PkceVerifier};
use hyper::{Method, StatusCode};
use serde_json::json;

use super::config::{FakeV2App, Rotation, split};
use super::paths;
use super::state::{Code, RefreshIssue, Shared, v2_error};
use crate::http::oauth::{bad_request, basic_credentials, check_form, with_query};
use crate::http::{
    FakeResponse, Req, html_response, json_response, oauth_error, redirect_response,
};
use crate::ims::AuthorizeDecision;

pub(crate) fn route(shared: &Shared, req: &Req) -> FakeResponse {
    let allowed = |method: &Method| req.method == *method;
    match req.path.as_str() {
        paths::AUTHORIZE if allowed(&Method::GET) => authorize(shared, req),
        paths::TOKEN if allowed(&Method::POST) => token(shared, req),
        paths::ME if allowed(&Method::GET) => me(shared, req),
        paths::AUTHORIZE | paths::TOKEN | paths::ME => v2_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed",
        ),
        _ => v2_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
    }
}

fn page_error(text: &str) -> FakeResponse {
    html_response(
        StatusCode::BAD_REQUEST,
        "Frame.io: bad authorization request",
        text,
    )
}

fn authorize(shared: &Shared, req: &Req) -> FakeResponse {
    let Some(app) = req
        .query_value("client_id")
        .and_then(|id| shared.config.apps.iter().find(|a| a.id == id))
    else {
        return page_error("client_id is missing or unknown.");
    };
    let Some(redirect_uri) = req.query_value("redirect_uri") else {
        return page_error("redirect_uri is missing.");
    };
    if redirect_uri.contains('#') || !app.redirect.matches(redirect_uri) {
        return page_error("redirect_uri does not match the app's redirect URI.");
    }
    let state = req.query_value("state");
    let fail = |error: &str, description: &str| {
        let mut params = vec![("error", error), ("error_description", description)];
        if let Some(state) = state {
            params.push(("state", state));
        }
        redirect_response(&with_query(redirect_uri, &params))
    };
    if req.query_value("response_type") != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    if state.is_none_or(str::is_empty) {
        return fail("invalid_request", "state is required");
    }
    let list = req.query_value("scope").unwrap_or_default();
    if list.contains(',') {
        return fail("invalid_scope", "scopes are space separated");
    }
    let scopes = split(list);
    if scopes.is_empty() {
        return fail("invalid_scope", "scope is missing");
    }
    if let Some(bad) = scopes.iter().find(|s| !app.scopes.contains(*s)) {
        return fail(
            "invalid_scope",
            &format!("scope {bad} is unknown or not allowed for this app"),
        );
    }
    let scopes = app.grant(scopes);
    if scopes.is_empty() {
        return fail(
            "invalid_scope",
            "none of the requested scopes can be granted",
        );
    }
    let challenge = req.query_value("code_challenge");
    match (challenge, req.query_value("code_challenge_method")) {
        (None, _) if app.is_public() => {
            return fail("invalid_request", "code_challenge is required (PKCE)");
        }
        (Some(_), Some("S256")) | (None, _) => {}
        (Some(_), _) => return fail("invalid_request", "code_challenge_method must be S256"),
    }
    let mut st = shared.lock();
    if let AuthorizeDecision::Deny { error, description } = &st.authorize_decision {
        let error = error.clone();
        let description = description.clone().unwrap_or_default();
        drop(st);
        return fail(&error, &description);
    }
    let code = shared.fresh("fake-v2-code-");
    st.codes.insert(
        code.clone(),
        Code {
            client_id: app.id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            challenge: challenge.map(str::to_owned),
            scopes,
            expires_at: shared.now().saturating_add(shared.config.code_lifetime),
            used: false,
        },
    );
    drop(st);
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect_response(&with_query(redirect_uri, &params))
}

fn invalid_client(description: &str) -> FakeResponse {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description)
}

fn invalid_grant(description: &str) -> FakeResponse {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// Confidential apps: HTTP Basic only. Public (PKCE) apps: `client_id` in the body, no secret.
fn authenticate<'s>(shared: &'s Shared, req: &Req) -> Result<&'s FakeV2App, FakeResponse> {
    if req.form_value("client_secret").is_some() {
        return Err(bad_request(
            "client_secret in the body is not accepted; use HTTP Basic",
        ));
    }
    let find = |id: &str| shared.config.apps.iter().find(|a| a.id == id);
    match basic_credentials(req) {
        Some(Err(())) => Err(invalid_client("malformed Basic credentials")),
        Some(Ok((id, secret))) => {
            let app = find(&id).ok_or_else(|| invalid_client("unknown client"))?;
            match &app.secret {
                Some(expected) if *expected == secret => Ok(app),
                Some(_) => Err(invalid_client("invalid client credentials")),
                None => Err(invalid_client("a PKCE app has no secret")),
            }
        }
        None => {
            let id = req
                .form_value("client_id")
                .ok_or_else(|| invalid_client("client authentication required"))?;
            let app = find(id).ok_or_else(|| invalid_client("unknown client"))?;
            if app.is_public() {
                Ok(app)
            } else {
                Err(invalid_client("this app must authenticate with HTTP Basic"))
            }
        }
    }
}

fn token(shared: &Shared, req: &Req) -> FakeResponse {
    if let Err(response) = check_form(req) {
        return response;
    }
    let grant_type = req.form_value("grant_type");
    if !matches!(grant_type, Some("authorization_code" | "refresh_token")) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        );
    }
    let app = match authenticate(shared, req) {
        Ok(app) => app,
        Err(response) => return response,
    };
    let result = if grant_type == Some("authorization_code") {
        exchange(shared, req, app)
    } else {
        refresh(shared, req, app)
    };
    result.unwrap_or_else(|response| response)
}

fn exchange(shared: &Shared, req: &Req, app: &FakeV2App) -> Result<FakeResponse, FakeResponse> {
    let code = req
        .form_value("code")
        .ok_or_else(|| bad_request("code is missing"))?;
    let now = shared.now();
    let mut st = shared.lock();
    let record = st
        .codes
        .get_mut(code)
        .ok_or_else(|| invalid_grant("unknown authorization code"))?;
    if record.used {
        return Err(invalid_grant("authorization code already used"));
    }
    if record.client_id != app.id {
        return Err(invalid_grant(
            "authorization code was issued to another app",
        ));
    }
    record.used = true;
    if now >= record.expires_at {
        return Err(invalid_grant("authorization code expired"));
    }
    if req.form_value("redirect_uri") != Some(record.redirect_uri.as_str()) {
        return Err(invalid_grant("redirect_uri does not match"));
    }
    match (&record.challenge, req.form_value("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let ok = PkceVerifier::parse(verifier)
                .is_ok_and(|v| PkceChallenge::s256(&v).as_str() == challenge);
            if !ok {
                return Err(invalid_grant("code_verifier does not match code_challenge"));
            }
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is missing")),
        (None, Some(_)) => return Err(invalid_grant("no code_challenge was sent")),
        (None, None) => {}
    }
    let scopes = record.scopes.clone();
    let body = shared.issue(&mut st, &app.id, &scopes, RefreshIssue::New);
    Ok(json_response(StatusCode::OK, &body))
}

fn refresh(shared: &Shared, req: &Req, app: &FakeV2App) -> Result<FakeResponse, FakeResponse> {
    let token = req
        .form_value("refresh_token")
        .ok_or_else(|| bad_request("refresh_token is missing"))?;
    let now = shared.now();
    let mut st = shared.lock();
    let record = st
        .refresh
        .get(token)
        .ok_or_else(|| invalid_grant("unknown refresh token"))?;
    if record.spent {
        return Err(invalid_grant("refresh token already used"));
    }
    if now >= record.expires_at {
        return Err(invalid_grant("refresh token expired"));
    }
    if record.client_id != app.id {
        return Err(invalid_grant("refresh token was issued to another app"));
    }
    let scopes = match req.form_value("scope") {
        Some(list) if list.contains(',') => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "scopes are space separated",
            ));
        }
        Some(list) => {
            let asked = split(list);
            // RFC 6749 §6: a refresh may narrow the grant, never widen it.
            if !asked.is_subset(&record.scopes) {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "refresh token missing requested scope",
                ));
            }
            asked
        }
        None => record.scopes.clone(),
    };
    let issue = match st.rotation {
        Rotation::Rotate => {
            if let Some(old) = st.refresh.get_mut(token) {
                old.spent = true;
            }
            RefreshIssue::New
        }
        Rotation::OmitRefreshToken => RefreshIssue::None,
        Rotation::ReturnSame => RefreshIssue::Same(token.to_owned()),
    };
    let body = shared.issue(&mut st, &app.id, &scopes, issue);
    Ok(json_response(StatusCode::OK, &body))
}

fn me(shared: &Shared, req: &Req) -> FakeResponse {
    let Some(token) = req.bearer_token() else {
        return v2_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a Bearer token is required",
        );
    };
    let now = shared.now();
    let st = shared.lock();
    let Some(record) = st.access.get(token) else {
        return v2_error(StatusCode::UNAUTHORIZED, "unauthorized", "invalid token");
    };
    if record.expires_at.is_some_and(|at| now >= at) {
        return v2_error(StatusCode::UNAUTHORIZED, "unauthorized", "token expired");
    }
    if let Some(scope) = &shared.config.me_scope
        && !record.scopes.contains(scope)
    {
        return v2_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            &format!("the token lacks the scope {scope}"),
        );
    }
    let user = &shared.config.user;
    json_response(
        StatusCode::OK,
        &json!({
            "_type": "user",
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "account_id": user.account_id,
            "timezone": "Etc/UTC",
            "inserted_at": "2020-01-01T00:00:00.000000Z",
            "upload_url": null,
            "roles": {"admin": false},
        }),
    )
}
