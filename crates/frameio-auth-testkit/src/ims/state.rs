//! The fake's mutable state: codes, tokens, counters, recorded requests, faults.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use frameio_auth_core::{CsrfState, Timestamp};
use serde_json::{Value, json};

use super::config::{AuthorizeDecision, FakeClient, FakeImsConfig};
use super::endpoints;
use super::paths;
use crate::http::{
    self, FakeApp, FakeResponse, Fault, FaultPlan, RecordedRequest, Req, find, oauth_error,
};
use hyper::StatusCode;
use hyper::header::{HeaderName, HeaderValue};

/// How a grant was obtained, for what the token may do later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `client_credentials`: a service token.
    Service,
    /// A user flow (`authorization_code` or `refresh_token`).
    User,
}

#[derive(Debug)]
pub(crate) struct CodeRecord {
    pub(crate) client_id: String,
    /// The user who signed in (by `login_hint`, else the default user).
    pub(crate) user_id: String,
    /// The `redirect_uri` of the authorization request, if it carried one.
    pub(crate) redirect_uri: Option<String>,
    pub(crate) challenge: Option<String>,
    pub(crate) scopes: BTreeSet<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) expires_at: Timestamp,
    pub(crate) used: bool,
}

#[derive(Debug)]
pub(crate) struct AccessRecord {
    pub(crate) client_id: String,
    pub(crate) user_id: String,
    pub(crate) scopes: BTreeSet<String>,
    pub(crate) expires_at: Timestamp,
    pub(crate) revoked: bool,
    pub(crate) origin: Origin,
    /// The grant (authorization code exchange and its refreshes) this token belongs to.
    pub(crate) family: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshStatus {
    Active,
    /// Used once: rotation replaced it.
    Spent,
    Revoked,
}

#[derive(Debug)]
pub(crate) struct RefreshRecord {
    pub(crate) client_id: String,
    pub(crate) user_id: String,
    pub(crate) scopes: BTreeSet<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) expires_at: Timestamp,
    pub(crate) status: RefreshStatus,
    pub(crate) family: u64,
}

/// Why a token is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Unknown,
    Expired,
    Revoked,
    Spent,
}

impl TokenProblem {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Unknown => "bad_token",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Spent => "used",
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) authorize_decision: AuthorizeDecision,
    pub(crate) faults: FaultPlan,
    pub(crate) total_requests: u64,
    pub(crate) requests: HashMap<String, u64>,
    pub(crate) grants: HashMap<String, u64>,
    pub(crate) last: HashMap<String, RecordedRequest>,
    pub(crate) codes: HashMap<String, CodeRecord>,
    pub(crate) access: HashMap<String, AccessRecord>,
    pub(crate) refresh: HashMap<String, RefreshRecord>,
    pub(crate) next_family: u64,
    /// `refresh_token` grants answered with new tokens.
    pub(crate) refresh_grants_served: u64,
    /// Spent refresh tokens presented while reuse detection was on.
    pub(crate) refresh_token_reuses_detected: u64,
}

impl State {
    pub(crate) fn record(&mut self, request: RecordedRequest, grant_type: Option<&str>) {
        self.total_requests += 1;
        *self.requests.entry(request.path.clone()).or_default() += 1;
        if let Some(grant) = grant_type {
            *self.grants.entry(grant.to_owned()).or_default() += 1;
        }
        self.last.insert(request.path.clone(), request);
    }

    pub(crate) fn access_status(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<&AccessRecord, TokenProblem> {
        let record = self.access.get(token).ok_or(TokenProblem::Unknown)?;
        if record.revoked {
            Err(TokenProblem::Revoked)
        } else if now >= record.expires_at {
            Err(TokenProblem::Expired)
        } else {
            Ok(record)
        }
    }

    pub(crate) fn refresh_status(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<&RefreshRecord, TokenProblem> {
        let record = self.refresh.get(token).ok_or(TokenProblem::Unknown)?;
        match record.status {
            RefreshStatus::Revoked => Err(TokenProblem::Revoked),
            RefreshStatus::Spent => Err(TokenProblem::Spent),
            RefreshStatus::Active if now >= record.expires_at => Err(TokenProblem::Expired),
            RefreshStatus::Active => Ok(record),
        }
    }

    /// Revokes every access token of a grant family.
    pub(crate) fn revoke_family_access(&mut self, family: u64) {
        for record in self.access.values_mut() {
            if record.family == Some(family) {
                record.revoked = true;
            }
        }
    }

    /// Revokes a whole grant family: its live refresh token and every access token. Spent
    /// refresh tokens stay spent (validation keeps saying `used` for them).
    pub(crate) fn revoke_family(&mut self, family: u64) {
        for record in self.refresh.values_mut() {
            if record.family == family && record.status == RefreshStatus::Active {
                record.status = RefreshStatus::Revoked;
            }
        }
        self.revoke_family_access(family);
    }

    pub(crate) fn new_family(&mut self) -> u64 {
        self.next_family += 1;
        self.next_family
    }
}

/// Everything the server tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: FakeImsConfig,
    pub(crate) base_url: String,
    state: Mutex<State>,
    instance: String,
    counter: AtomicU64,
}

/// What a grant asks to issue.
#[derive(Debug)]
pub(crate) struct Issue<'a> {
    pub(crate) client: &'a FakeClient,
    pub(crate) user_id: String,
    pub(crate) scopes: BTreeSet<String>,
    pub(crate) origin: Origin,
    /// The grant family, for user flows.
    pub(crate) family: Option<u64>,
    pub(crate) nonce: Option<String>,
}

impl Shared {
    pub(crate) fn new(config: FakeImsConfig, base_url: String) -> Arc<Self> {
        let state = State {
            authorize_decision: config.authorize_decision.clone(),
            ..State::default()
        };
        let instance = CsrfState::generate().map_or_else(
            |_| format!("{:08x}", std::process::id()),
            |s| s.expose_secret().chars().take(8).collect::<String>(),
        );
        Arc::new(Self {
            config,
            base_url,
            state: Mutex::new(state),
            instance,
            counter: AtomicU64::new(0),
        })
    }

    /// The state, recovering from a poisoned lock (a panicking test thread must not take the
    /// fake down with it). Never held across an `.await`.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.config.clock.now()
    }

    pub(crate) fn client(&self, id: &str) -> Option<&FakeClient> {
        self.config.clients.iter().find(|c| c.id == id)
    }

    /// A unique, unguessable value (random, with a counter fallback if the OS RNG fails).
    pub(crate) fn fresh_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        match CsrfState::generate() {
            Ok(random) => format!("{}{n:x}", random.expose_secret()),
            Err(_) => format!("{}-{n:x}", self.instance),
        }
    }

    /// A unique `x-debug-id` value.
    pub(crate) fn debug_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("fake-ims-{}-{n:06}", self.instance)
    }

    /// Mints the tokens of a successful grant and builds the token response body.
    pub(crate) fn issue(&self, state: &mut State, issue: &Issue<'_>) -> Value {
        let now = self.now();
        let access_lifetime = self.config.access_token_lifetime;
        let client_id = issue.client.id.clone();
        let scope_list = issue.scopes.iter().cloned().collect::<Vec<_>>().join(",");
        let offline = issue.origin == Origin::User && issue.scopes.contains("offline_access");
        let openid = issue.origin == Origin::User && issue.scopes.contains("openid");

        let refresh = if offline {
            let family = issue.family.unwrap_or_else(|| state.new_family());
            let lifetime = self.config.refresh_token_lifetime;
            let expires_at = now.saturating_add(lifetime);
            let token = self.jwt(
                &json!({"alg": "RS256", "x5u": "ims_na1-key-at-1.cer", "kid": "ims_na1-key-at-1", "itt": "rt"}),
                &json!({
                    "id": self.fresh_id(),
                    "type": "refresh_token",
                    "as": "ims-na1",
                    "client_id": client_id,
                    "user_id": issue.user_id,
                    "scope": scope_list,
                    "created_at": now.as_unix_millis().to_string(),
                    "expires_in": millis(lifetime).to_string(),
                }),
            );
            state.refresh.insert(
                token.clone(),
                RefreshRecord {
                    client_id: client_id.clone(),
                    user_id: issue.user_id.clone(),
                    scopes: issue.scopes.clone(),
                    nonce: issue.nonce.clone(),
                    expires_at,
                    status: RefreshStatus::Active,
                    family,
                },
            );
            Some((token, expires_at, family))
        } else {
            None
        };
        let family = refresh.as_ref().map(|r| r.2).or(issue.family);

        let mut payload = json!({
            "id": self.fresh_id(),
            "type": "access_token",
            "as": "ims-na1",
            "client_id": client_id,
            "user_id": issue.user_id,
            "scope": scope_list,
            "created_at": now.as_unix_millis().to_string(),
            "expires_in": millis(access_lifetime).to_string(),
        });
        if let (Some((_, rtea, _)), Some(map)) = (&refresh, payload.as_object_mut()) {
            map.insert(
                "rtea".into(),
                Value::String(rtea.as_unix_millis().to_string()),
            );
        }
        let access = self.jwt(
            &json!({"alg": "RS256", "x5u": "ims_na1-key-at-1.cer", "kid": "ims_na1-key-at-1", "itt": "at"}),
            &payload,
        );
        state.access.insert(
            access.clone(),
            AccessRecord {
                client_id: client_id.clone(),
                user_id: issue.user_id.clone(),
                scopes: issue.scopes.clone(),
                expires_at: now.saturating_add(access_lifetime),
                revoked: false,
                origin: issue.origin,
                family,
            },
        );

        let mut body = json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": access_lifetime.as_secs(),
        });
        if let Some(map) = body.as_object_mut() {
            if let Some((token, _, _)) = refresh {
                map.insert("refresh_token".into(), Value::String(token));
            }
            if openid {
                map.insert("id_token".into(), Value::String(self.id_token(issue, now)));
            }
            if issue.origin == Origin::User {
                map.insert("sub".into(), Value::String(issue.user_id.clone()));
            }
        }
        body
    }

    fn id_token(&self, issue: &Issue<'_>, now: Timestamp) -> String {
        let user = self.config.user_by_id(&issue.user_id);
        let mut payload = json!({
            "iss": self.base_url,
            "sub": issue.user_id,
            "aud": issue.client.id,
            "iat": now.as_unix_secs(),
            "exp": now.saturating_add(self.config.access_token_lifetime).as_unix_secs(),
            "as": "ims-na1",
            "type": "id_token",
        });
        if let Some(map) = payload.as_object_mut() {
            if let Some(nonce) = &issue.nonce {
                map.insert("nonce".into(), Value::String(nonce.clone()));
            }
            if issue.scopes.contains("profile") {
                map.insert("name".into(), Value::String(user.name.clone()));
                map.insert("given_name".into(), Value::String(user.given_name.clone()));
                map.insert(
                    "family_name".into(),
                    Value::String(user.family_name.clone()),
                );
            }
            if issue.scopes.contains("email") {
                map.insert("email".into(), Value::String(user.email.clone()));
                map.insert("email_verified".into(), Value::Bool(user.email_verified));
            }
        }
        self.jwt(&json!({"alg": "RS256", "kid": "ims_na1-key-1"}), &payload)
    }

    /// `base64url(header).base64url(payload).base64url(fake signature)`.
    fn jwt(&self, header: &Value, payload: &Value) -> String {
        let signature = format!("fake-signature-{}", self.fresh_id());
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }
}

impl FakeApp for Shared {
    fn record(&self, request: RecordedRequest) -> Option<Fault> {
        let grant_type = (request.path == paths::TOKEN)
            .then(|| find(&request.form, "grant_type"))
            .flatten()
            .map(str::to_owned);
        let path = request.path.clone();
        let mut state = self.lock();
        state.record(request, grant_type.as_deref());
        state.faults.next_fault(&path)
    }

    fn route(&self, req: &Req) -> FakeResponse {
        if req.too_large {
            return oauth_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "request body too large",
            );
        }
        endpoints::route(self, req)
    }

    fn fault_response(&self, _req: &Req, fault: &Fault) -> FakeResponse {
        http::fault_response(fault, self.now(), oauth_error)
    }

    fn finish(&self, response: &mut FakeResponse) {
        if let Ok(value) = HeaderValue::from_str(&self.debug_id()) {
            response
                .headers_mut()
                .insert(HeaderName::from_static("x-debug-id"), value);
        }
    }
}

/// Whole milliseconds of `d`, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Decodes the payload (middle part) of a JWT-shaped token, without checking anything else.
///
/// ```
/// use frameio_auth_testkit::ims::decode_jwt_payload;
/// // {"a":"1"}
/// let payload = decode_jwt_payload("e30.eyJhIjoiMSJ9.c2ln").unwrap();
/// assert_eq!(payload["a"], "1");
/// assert!(decode_jwt_payload("not a jwt").is_none());
/// ```
pub fn decode_jwt_payload(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A stable technical-account user id for a Server-to-Server client.
pub(crate) fn tech_account(client_id: &str) -> String {
    // FNV-1a: stable across runs, no dependency.
    let hash = client_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016X}@techacct.adobe.com")
}
