//! The IMS endpoints. Every handler is synchronous: the state lock is never held across an
//! `.await`.

use std::collections::BTreeSet;

use frameio_auth_core::{PkceChallenge, PkceVerifier};
use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::config::{AuthorizeDecision, ClientKind, FakeClient, split_scopes};
use super::paths;
use super::state::{
    CodeRecord, Issue, Origin, RefreshStatus, Shared, State, TokenProblem, tech_account,
};
use crate::http::oauth::{bad_request, basic_credentials, check_form, with_query};
use crate::http::{
    FakeResponse, Req, empty_response, html_response, json_response, oauth_error, redirect_response,
};

/// The longest `state` IMS accepts.
const MAX_STATE_LEN: usize = 4096;

pub(crate) fn route(shared: &Shared, req: &Req) -> FakeResponse {
    match req.path.as_str() {
        paths::AUTHORIZE => only(req, &Method::GET, || authorize(shared, req)),
        paths::TOKEN => only(req, &Method::POST, || token(shared, req)),
        paths::REVOKE => only(req, &Method::POST, || revoke(shared, req)),
        paths::INVALIDATE => only(req, &Method::POST, || invalidate(shared, req)),
        paths::VALIDATE => only(req, &Method::POST, || validate(shared, req)),
        paths::USERINFO => only(req, &Method::GET, || userinfo(shared, req)),
        paths::PROFILE => only(req, &Method::GET, || profile(shared, req)),
        paths::ORGANIZATIONS => only(req, &Method::GET, || organizations(shared, req)),
        paths::DISCOVERY => only(req, &Method::GET, || discovery(shared)),
        paths::KEYS => only(req, &Method::GET, || {
            json_response(StatusCode::OK, &json!({"keys": []}))
        }),
        _ => oauth_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
    }
}

fn only(req: &Req, method: &Method, handler: impl FnOnce() -> FakeResponse) -> FakeResponse {
    if req.method == *method {
        return handler();
    }
    let mut response = oauth_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        &format!("use {method}"),
    );
    if let Ok(value) = HeaderValue::from_str(method.as_str()) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

fn invalid_grant(description: &str) -> FakeResponse {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

// ---------------------------------------------------------------------------------------------
// GET /ims/authorize/v2
// ---------------------------------------------------------------------------------------------

fn authorize_page_error(text: &str) -> FakeResponse {
    html_response(
        StatusCode::BAD_REQUEST,
        "Adobe IMS: bad authorization request",
        text,
    )
}

fn redirect_error(
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: Option<&str>,
) -> FakeResponse {
    let mut params = vec![("error", error)];
    if let Some(description) = description {
        params.push(("error_description", description));
    }
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect_response(&with_query(redirect_uri, &params))
}

fn authorize(shared: &Shared, req: &Req) -> FakeResponse {
    // Errors before the redirect URI is trusted are shown to the user, never redirected
    // (RFC 6749 §4.1.2.1): an open redirector is worse than an error page.
    let Some(client_id) = req.query_value("client_id") else {
        return authorize_page_error("client_id is missing.");
    };
    let Some(client) = shared.client(client_id) else {
        return authorize_page_error("client_id is not a registered client.");
    };
    let Some(pattern) = client
        .redirect_pattern()
        .filter(|_| client.kind.is_user_flow())
    else {
        return authorize_page_error("This client cannot use the authorization code flow.");
    };
    let redirect_uri = match req.query_value("redirect_uri") {
        Some(uri) => uri.to_owned(),
        None if pattern.is_exact() => pattern.as_str().to_owned(),
        None => return authorize_page_error("redirect_uri is missing."),
    };
    if redirect_uri.contains('#') || !pattern.matches(&redirect_uri) {
        return authorize_page_error(
            "redirect_uri does not match the client's registered redirect URI pattern.",
        );
    }

    let state = req.query_value("state");
    if state.is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return authorize_page_error("state is longer than 4096 characters.");
    }
    let fail = |error: &str, description: &str| {
        redirect_error(&redirect_uri, state, error, Some(description))
    };
    match req.query_value("response_type") {
        Some("code") => {}
        None => return fail("invalid_request", "response_type is missing"),
        Some(_) => {
            return fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
    }
    let requested = split_scopes(req.query_value("scope").unwrap_or_default());
    if requested.is_empty() {
        return fail("invalid_scope", "scope is missing");
    }
    if let Some(missing) = requested.iter().find(|s| !client.allows_scope(s)) {
        return fail(
            "invalid_scope",
            &format!("scope {missing} is not enabled for this client"),
        );
    }
    let challenge = req.query_value("code_challenge");
    match (challenge, req.query_value("code_challenge_method")) {
        (None, _) if client.kind.is_public() => {
            return fail(
                "invalid_request",
                "code_challenge is required for public clients",
            );
        }
        (None, _) | (Some(_), Some("S256")) => {}
        (Some(_), _) => {
            // IMS defaults to `plain` when the method is absent; this fake refuses `plain`.
            return fail("invalid_request", "code_challenge_method must be S256");
        }
    }
    if let Some(challenge) = challenge {
        let well_formed = challenge.len() == 43
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return fail(
                "invalid_request",
                "code_challenge is not a base64url SHA-256 value",
            );
        }
    }

    let mut st = shared.lock();
    if let AuthorizeDecision::Deny { error, description } = &st.authorize_decision {
        return redirect_error(&redirect_uri, state, error, description.as_deref());
    }
    let code = shared.fresh_id();
    let user = shared.config.user_for_hint(req.query_value("login_hint"));
    st.codes.insert(
        code.clone(),
        CodeRecord {
            client_id: client.id.clone(),
            user_id: user.user_id.clone(),
            redirect_uri: req.query_value("redirect_uri").map(str::to_owned),
            challenge: challenge.map(str::to_owned),
            scopes: requested,
            nonce: req.query_value("nonce").map(str::to_owned),
            expires_at: shared.now().saturating_add(shared.config.code_lifetime),
            used: false,
        },
    );
    drop(st);
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect_response(&with_query(&redirect_uri, &params))
}

// ---------------------------------------------------------------------------------------------
// Client authentication (RFC 6749 §2.3.1)
// ---------------------------------------------------------------------------------------------

fn invalid_client(description: &str, basic: bool) -> FakeResponse {
    let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    if basic {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"ims\""),
        );
    }
    response
}

/// Identifies and authenticates the client of a token-style request: HTTP Basic, or
/// `client_id` + `client_secret` in the body, or (public clients) `client_id` alone in the body
/// or the query.
fn authenticate<'s>(shared: &'s Shared, req: &Req) -> Result<&'s FakeClient, FakeResponse> {
    let basic = match basic_credentials(req) {
        Some(Ok(credentials)) => Some(credentials),
        Some(Err(())) => return Err(invalid_client("malformed Basic credentials", true)),
        None => None,
    };
    let body_id = req.form_value("client_id");
    let body_secret = req.form_value("client_secret");
    let query_id = req.query_value("client_id");
    if basic.is_some() && body_secret.is_some() {
        return Err(bad_request("more than one client authentication method"));
    }
    let id = match &basic {
        Some((id, _)) => id.as_str(),
        None => match body_id.or(query_id) {
            Some(id) => id,
            None => return Err(invalid_client("client_id is missing", false)),
        },
    };
    if [body_id, query_id]
        .iter()
        .flatten()
        .any(|other| *other != id)
    {
        return Err(bad_request("conflicting client_id values"));
    }
    let Some(client) = shared.client(id) else {
        return Err(invalid_client("unknown client", basic.is_some()));
    };
    let secret = match &basic {
        Some((_, secret)) => Some(secret.as_str()),
        None => body_secret,
    };
    if client.kind.is_public() {
        return match secret {
            Some(_) => Err(invalid_client(
                "a public client has no secret",
                basic.is_some(),
            )),
            None => Ok(client),
        };
    }
    match secret {
        None => Err(invalid_client("client authentication required", false)),
        Some(secret) if client.secret_matches(secret) => Ok(client),
        Some(_) => Err(invalid_client(
            "invalid client credentials",
            basic.is_some(),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// POST /ims/token/v3
// ---------------------------------------------------------------------------------------------

fn token(shared: &Shared, req: &Req) -> FakeResponse {
    if let Err(response) = check_form(req) {
        return response;
    }
    let Some(grant_type) = req.form_value("grant_type") else {
        return bad_request("grant_type is missing");
    };
    if !matches!(
        grant_type,
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code, refresh_token or client_credentials",
        );
    }
    let client = match authenticate(shared, req) {
        Ok(client) => client,
        Err(response) => return response,
    };
    let result = match grant_type {
        "authorization_code" => authorization_code(shared, req, client),
        "refresh_token" => refresh_token(shared, req, client),
        _ => client_credentials(shared, req, client),
    };
    match result {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(response) => response,
    }
}

fn unauthorized_client(description: &str) -> FakeResponse {
    oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client", description)
}

fn authorization_code(
    shared: &Shared,
    req: &Req,
    client: &FakeClient,
) -> Result<Value, FakeResponse> {
    if !client.kind.is_user_flow() {
        return Err(unauthorized_client(
            "a Server-to-Server client cannot use authorization_code",
        ));
    }
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
    if record.client_id != client.id {
        return Err(invalid_grant(
            "authorization code was issued to another client",
        ));
    }
    // Any presentation by its own client consumes the code, even a failed one.
    record.used = true;
    if now >= record.expires_at {
        return Err(invalid_grant("authorization code expired"));
    }
    if let Some(expected) = &record.redirect_uri
        && req.form_value("redirect_uri") != Some(expected.as_str())
    {
        return Err(invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&record.challenge, req.form_value("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let verifier = PkceVerifier::parse(verifier)
                .map_err(|_| invalid_grant("code_verifier is malformed"))?;
            if PkceChallenge::s256(&verifier).as_str() != challenge {
                return Err(invalid_grant("code_verifier does not match code_challenge"));
            }
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is missing")),
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier sent but the authorization request had no code_challenge",
            ));
        }
        (None, None) => {}
    }
    let scopes = record.scopes.clone();
    let nonce = record.nonce.clone();
    let user_id = record.user_id.clone();
    let family = st.new_family();
    Ok(shared.issue(
        &mut st,
        &Issue {
            client,
            user_id,
            scopes,
            origin: Origin::User,
            family: Some(family),
            nonce,
        },
    ))
}

fn refresh_token(shared: &Shared, req: &Req, client: &FakeClient) -> Result<Value, FakeResponse> {
    if !client.kind.is_user_flow() {
        return Err(unauthorized_client(
            "a Server-to-Server client has no refresh tokens",
        ));
    }
    let token = req
        .form_value("refresh_token")
        .ok_or_else(|| bad_request("refresh_token is missing"))?;
    let now = shared.now();
    let mut st = shared.lock();
    let record = match st.refresh_status(token, now) {
        Ok(record) => record,
        Err(TokenProblem::Spent) if shared.config.refresh_token_reuse_detection => {
            return Err(reuse_detected(&mut st, token, client));
        }
        Err(problem) => {
            return Err(invalid_grant(match problem {
                TokenProblem::Unknown => "unknown refresh token",
                TokenProblem::Expired => "refresh token expired",
                TokenProblem::Revoked => "refresh token revoked",
                TokenProblem::Spent => "refresh token already used; use the newest one",
            }));
        }
    };
    if record.client_id != client.id {
        return Err(invalid_grant("refresh token was issued to another client"));
    }
    let scopes = match req.form_value("scope") {
        Some(list) => {
            let requested = split_scopes(list);
            if !requested.is_subset(&record.scopes) {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "a refresh cannot add scopes",
                ));
            }
            requested
        }
        None => record.scopes.clone(),
    };
    let (user_id, nonce, family) = (record.user_id.clone(), record.nonce.clone(), record.family);
    if let Some(old) = st.refresh.get_mut(token) {
        old.status = RefreshStatus::Spent;
    }
    st.refresh_grants_served += 1;
    Ok(shared.issue(
        &mut st,
        &Issue {
            client,
            user_id,
            scopes,
            origin: Origin::User,
            family: Some(family),
            nonce,
        },
    ))
}

/// A spent refresh token came back (RFC 9700 §4.14.2): two parties hold the grant and the
/// server cannot tell the legitimate client from a thief, so the whole grant is revoked.
/// A token presented by another client proves nothing about its owner's grant and is only
/// refused.
fn reuse_detected(st: &mut State, token: &str, client: &FakeClient) -> FakeResponse {
    let Some(record) = st.refresh.get(token) else {
        return invalid_grant("unknown refresh token");
    };
    if record.client_id != client.id {
        return invalid_grant("refresh token was issued to another client");
    }
    let family = record.family;
    st.revoke_family(family);
    st.refresh_token_reuses_detected += 1;
    invalid_grant("refresh token already used; reuse revoked the grant, sign in again")
}

fn client_credentials(
    shared: &Shared,
    req: &Req,
    client: &FakeClient,
) -> Result<Value, FakeResponse> {
    if client.kind != ClientKind::ServerToServer {
        return Err(unauthorized_client(
            "client_credentials is for Server-to-Server clients",
        ));
    }
    let list = req
        .form_value("scope")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| bad_request("scope is missing"))?;
    // IMS wants commas here; spaces around them are tolerated, spaces inside an item are not.
    let mut scopes = BTreeSet::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item.contains(char::is_whitespace) {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "client_credentials scopes are comma separated",
            ));
        }
        if !client.allows_scope(item) {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                &format!("scope {item} is not enabled for this client"),
            ));
        }
        scopes.insert(item.to_owned());
    }
    let mut st = shared.lock();
    Ok(shared.issue(
        &mut st,
        &Issue {
            client,
            user_id: tech_account(&client.id),
            scopes,
            origin: Origin::Service,
            family: None,
            nonce: None,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// POST /ims/revoke, /ims/invalidate_token/v2, /ims/validate_token/v1
// ---------------------------------------------------------------------------------------------

fn revoke(shared: &Shared, req: &Req) -> FakeResponse {
    if let Err(response) = check_form(req) {
        return response;
    }
    let client = match authenticate(shared, req) {
        Ok(client) => client,
        Err(response) => return response,
    };
    let Some(token) = req.form_value("token") else {
        return bad_request("token is missing");
    };
    let mut st = shared.lock();
    if let Some(record) = st.access.get_mut(token) {
        if record.client_id != client.id {
            return unauthorized_client("the token was issued to another client");
        }
        record.revoked = true;
    } else if let Some(record) = st.refresh.get_mut(token) {
        if record.client_id != client.id {
            return unauthorized_client("the token was issued to another client");
        }
        record.status = RefreshStatus::Revoked;
        // RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of its grant.
        let family = record.family;
        st.revoke_family_access(family);
    }
    // Unknown tokens get 200 too (RFC 7009 §2.2).
    empty_response(StatusCode::OK)
}

fn invalidate(shared: &Shared, req: &Req) -> FakeResponse {
    if let Err(response) = check_form(req) {
        return response;
    }
    let Some(token_type) = req.form_value("token_type") else {
        return bad_request("token_type is missing");
    };
    if !matches!(
        token_type,
        "access_token" | "refresh_token" | "service_token"
    ) {
        return bad_request("token_type must be access_token, refresh_token or service_token");
    }
    let Some(token) = req.form_value("token") else {
        return bad_request("token is missing");
    };
    let Some(client_id) = req
        .form_value("client_id")
        .or_else(|| req.header("x-ims-clientid"))
    else {
        return bad_request("client_id is missing");
    };
    let Some(client) = shared.client(client_id) else {
        return invalid_client("unknown client", false);
    };
    match req.form_value("client_secret") {
        Some(secret) if !client.secret_matches(secret) => {
            return invalid_client("invalid client credentials", false);
        }
        None if token_type == "service_token" => {
            return invalid_client("client_secret is required for service_token", false);
        }
        _ => {}
    }
    let cascading = req.form_value("cascading") == Some("all");
    let mut st = shared.lock();
    if token_type == "refresh_token" {
        if let Some(record) = st.refresh.get_mut(token) {
            if record.client_id != client.id {
                return unauthorized_client("the token was issued to another client");
            }
            record.status = RefreshStatus::Revoked;
            let family = record.family;
            if cascading {
                st.revoke_family_access(family);
            }
        }
    } else if let Some(record) = st.access.get_mut(token) {
        if record.client_id != client.id {
            return unauthorized_client("the token was issued to another client");
        }
        if token_type == "service_token" && record.origin != Origin::Service {
            return bad_request("the token is not a service token");
        }
        record.revoked = true;
    }
    empty_response(StatusCode::OK)
}

fn validate(shared: &Shared, req: &Req) -> FakeResponse {
    // aio-lib-ims posts a form; accept the query too.
    let value = |name| req.form_value(name).or_else(|| req.query_value(name));
    let (Some(kind), Some(client_id), Some(token)) =
        (value("type"), value("client_id"), value("token"))
    else {
        return bad_request("type, client_id and token are required");
    };
    let now = shared.now();
    let st = shared.lock();
    let outcome = match kind {
        "access_token" => st
            .access_status(token, now)
            .map(|r| (r.client_id.clone(), r.expires_at)),
        "refresh_token" => st
            .refresh_status(token, now)
            .map(|r| (r.client_id.clone(), r.expires_at)),
        _ => return bad_request("type must be access_token or refresh_token"),
    };
    let body = match outcome {
        Ok((owner, expires_at)) if owner == client_id => {
            json!({"valid": true, "expires_at": expires_at.as_unix_millis()})
        }
        Ok(_) => json!({"valid": false, "reason": "client_id_mismatch"}),
        Err(problem) => json!({"valid": false, "reason": problem.reason()}),
    };
    json_response(StatusCode::OK, &body)
}

// ---------------------------------------------------------------------------------------------
// Bearer endpoints
// ---------------------------------------------------------------------------------------------

/// The scopes and user of a valid bearer token, or a 401.
fn bearer(shared: &Shared, req: &Req) -> Result<(String, BTreeSet<String>, String), FakeResponse> {
    let unauthorized = |description: &str| {
        let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", description);
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        response
    };
    let token = req
        .bearer_token()
        .ok_or_else(|| unauthorized("a Bearer token is required"))?;
    let st = shared.lock();
    let record = st
        .access_status(token, shared.now())
        .map_err(|problem| unauthorized(problem.reason()))?;
    Ok((
        record.user_id.clone(),
        record.scopes.clone(),
        record.client_id.clone(),
    ))
}

fn userinfo(shared: &Shared, req: &Req) -> FakeResponse {
    let Some(client_id) = req.query_value("client_id") else {
        return bad_request("client_id is missing");
    };
    let (user_id, scopes, owner) = match bearer(shared, req) {
        Ok(found) => found,
        Err(response) => return response,
    };
    if owner != client_id {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the token was issued to another client",
        );
    }
    let user = shared.config.user_by_id(&user_id);
    let mut body = json!({"sub": user_id});
    if let Some(map) = body.as_object_mut() {
        if scopes.contains("profile") {
            map.insert("name".into(), json!(user.name));
            map.insert("given_name".into(), json!(user.given_name));
            map.insert("family_name".into(), json!(user.family_name));
            map.insert("account_type".into(), json!(user.account_type));
        }
        if scopes.contains("email") {
            map.insert("email".into(), json!(user.email));
            map.insert("email_verified".into(), json!(user.email_verified));
        }
    }
    json_response(StatusCode::OK, &body)
}

fn profile(shared: &Shared, req: &Req) -> FakeResponse {
    let (user_id, _scopes, _client) = match bearer(shared, req) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let user = shared.config.user_by_id(&user_id);
    json_response(
        StatusCode::OK,
        &json!({
            "userId": user_id,
            "authId": user_id,
            "name": user.name,
            "first_name": user.given_name,
            "last_name": user.family_name,
            "displayName": user.name,
            "email": user.email,
            "emailVerified": user.email_verified.to_string(),
            "account_type": user.account_type,
            "countryCode": "US",
            "preferred_languages": ["en-us"],
        }),
    )
}

fn organizations(shared: &Shared, req: &Req) -> FakeResponse {
    if let Err(response) = bearer(shared, req) {
        return response;
    }
    json_response(
        StatusCode::OK,
        &json!([
            {
                "orgName": "Fake Studio",
                "orgRef": {"ident": "F4KE0RG0000000000000000A", "authSrc": "AdobeOrg"},
                "orgType": "Enterprise",
                "countryCode": "US",
                "groups": [{"groupName": "Frame.io users", "role": "USER", "userVisible": true}],
            },
            {
                "orgName": "Fake Agency",
                "orgRef": {"ident": "F4KE0RG0000000000000000B", "authSrc": "AdobeOrg"},
                "orgType": "Enterprise",
                "countryCode": "DE",
                "groups": [],
            },
        ]),
    )
}

fn discovery(shared: &Shared) -> FakeResponse {
    let base = &shared.base_url;
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}{}", paths::AUTHORIZE),
            "token_endpoint": format!("{base}{}", paths::TOKEN),
            "userinfo_endpoint": format!("{base}{}", paths::USERINFO),
            "revocation_endpoint": format!("{base}{}", paths::REVOKE),
            "jwks_uri": format!("{base}{}", paths::KEYS),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "AdobeID", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }),
    )
}
