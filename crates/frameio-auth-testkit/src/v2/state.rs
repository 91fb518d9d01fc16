//! State of the Frame.io fakes: codes, tokens, counters, rate-limit windows.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use frameio_auth_core::{CsrfState, Timestamp};
use hyper::StatusCode;
use hyper::header::HeaderValue;
use serde_json::{Value, json};

use super::config::{FakeFrameioV2Config, Rotation};
use crate::http::{FakeResponse, FaultPlan, RecordedRequest, json_response};
use crate::ims::AuthorizeDecision;

/// A leaky-bucket-ish counter that produces Frame.io's rate-limit headers.
#[derive(Debug)]
pub(crate) struct RateWindow {
    limit: u64,
    window: Duration,
    started: Timestamp,
    used: u64,
}

impl RateWindow {
    pub(crate) fn new(limit: u64, window: Duration, now: Timestamp) -> Self {
        Self {
            limit,
            window,
            started: now,
            used: 0,
        }
    }

    /// Counts one response and writes `x-ratelimit-limit`, `-remaining` and `-window` (ms).
    /// A 429 always reports 0 remaining.
    pub(crate) fn stamp(&mut self, now: Timestamp, response: &mut FakeResponse) {
        if now >= self.started.saturating_add(self.window) {
            self.started = now;
            self.used = 0;
        }
        self.used = self.used.saturating_add(1);
        let remaining = if response.status() == StatusCode::TOO_MANY_REQUESTS {
            0
        } else {
            self.limit.saturating_sub(self.used)
        };
        let window_ms = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX);
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        headers.insert("x-ratelimit-window", HeaderValue::from(window_ms));
    }
}

/// Frame.io V2's error body: `{"code", "message", "errors": [{"code","detail","status","title"}]}`.
pub(crate) fn v2_error(status: StatusCode, code: &str, detail: &str) -> FakeResponse {
    let title = status.canonical_reason().unwrap_or("Error");
    json_response(
        status,
        &json!({
            "code": status.as_u16(),
            "message": title,
            "errors": [{
                "code": code,
                "detail": detail,
                "status": status.as_u16(),
                "title": title,
            }],
        }),
    )
}

/// Frame.io V4's error body: `{"errors": [{"detail", "source", "title"}]}`.
pub(crate) fn v4_error(status: StatusCode, _code: &str, detail: &str) -> FakeResponse {
    let title = status.canonical_reason().unwrap_or("Error");
    json_response(
        status,
        &json!({"errors": [{"detail": detail, "source": {"pointer": ""}, "title": title}]}),
    )
}

/// Request counters, the last request per path, and the fault plan.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pub(crate) faults: FaultPlan,
    pub(crate) total: u64,
    pub(crate) per_path: HashMap<String, u64>,
    pub(crate) grants: HashMap<String, u64>,
    pub(crate) last: HashMap<String, RecordedRequest>,
}

impl Traffic {
    /// Records a request and returns the fault due.
    pub(crate) fn record(
        &mut self,
        request: RecordedRequest,
        grant_type: Option<&str>,
    ) -> Option<crate::http::Fault> {
        self.total += 1;
        *self.per_path.entry(request.path.clone()).or_default() += 1;
        if let Some(grant) = grant_type {
            *self.grants.entry(grant.to_owned()).or_default() += 1;
        }
        let path = request.path.clone();
        self.last.insert(path.clone(), request);
        self.faults.next_fault(&path)
    }
}

#[derive(Debug)]
pub(crate) struct Code {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) challenge: Option<String>,
    pub(crate) scopes: BTreeSet<String>,
    pub(crate) expires_at: Timestamp,
    pub(crate) used: bool,
}

#[derive(Debug)]
pub(crate) struct Access {
    pub(crate) scopes: BTreeSet<String>,
    /// `None`: never expires (a developer token).
    pub(crate) expires_at: Option<Timestamp>,
}

#[derive(Debug)]
pub(crate) struct Refresh {
    pub(crate) client_id: String,
    pub(crate) scopes: BTreeSet<String>,
    pub(crate) expires_at: Timestamp,
    pub(crate) spent: bool,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) traffic: Traffic,
    pub(crate) rate: RateWindow,
    pub(crate) rotation: Rotation,
    pub(crate) authorize_decision: AuthorizeDecision,
    pub(crate) codes: HashMap<String, Code>,
    pub(crate) access: HashMap<String, Access>,
    pub(crate) refresh: HashMap<String, Refresh>,
}

/// Everything the server tasks of a `FakeFrameioV2` share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: FakeFrameioV2Config,
    pub(crate) base_url: String,
    state: Mutex<State>,
    counter: AtomicU64,
}

impl Shared {
    pub(crate) fn new(config: FakeFrameioV2Config, base_url: String) -> Self {
        let now = config.clock.now();
        let state = State {
            traffic: Traffic::default(),
            rate: RateWindow::new(config.rate_limit, config.rate_window, now),
            rotation: config.rotation,
            authorize_decision: config.authorize_decision.clone(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
        };
        Self {
            config,
            base_url,
            state: Mutex::new(state),
            counter: AtomicU64::new(0),
        }
    }

    /// The state, recovering from a poisoned lock. Never held across an `.await`.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.config.clock.now()
    }

    /// A unique, unguessable value with `prefix`.
    pub(crate) fn fresh(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        match CsrfState::generate() {
            Ok(random) => format!("{prefix}{}{n:x}", random.expose_secret()),
            Err(_) => format!("{prefix}{:016x}-{n:x}", std::process::id()),
        }
    }

    /// Mints an access token (and a refresh token when `offline` is granted and `refresh`
    /// says so) and builds the token response.
    pub(crate) fn issue(
        &self,
        state: &mut State,
        client_id: &str,
        scopes: &BTreeSet<String>,
        refresh: RefreshIssue,
    ) -> Value {
        let now = self.now();
        let lifetime = self.config.access_token_lifetime;
        let access = self.fresh("fake-v2-at-");
        state.access.insert(
            access.clone(),
            Access {
                scopes: scopes.clone(),
                expires_at: Some(now.saturating_add(lifetime)),
            },
        );
        let mut body = json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": lifetime.as_secs(),
            "scope": scopes.iter().cloned().collect::<Vec<_>>().join(" "),
        });
        let refresh_token = match refresh {
            RefreshIssue::New if scopes.contains("offline") => {
                let token = self.fresh("fake-v2-rt-");
                state.refresh.insert(
                    token.clone(),
                    Refresh {
                        client_id: client_id.to_owned(),
                        scopes: scopes.clone(),
                        expires_at: now.saturating_add(self.config.refresh_token_lifetime),
                        spent: false,
                    },
                );
                Some(token)
            }
            RefreshIssue::Same(token) => Some(token),
            RefreshIssue::New | RefreshIssue::None => None,
        };
        if let (Some(token), Some(map)) = (refresh_token, body.as_object_mut()) {
            map.insert("refresh_token".into(), Value::String(token));
        }
        body
    }
}

/// Which refresh token a token response carries.
#[derive(Debug)]
pub(crate) enum RefreshIssue {
    /// A new one, if `offline` was granted.
    New,
    /// This one again.
    Same(String),
    /// None.
    None,
}
