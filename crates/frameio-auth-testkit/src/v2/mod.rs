//! Fake Frame.io servers on `127.0.0.1`: [`FakeFrameioV2`] (OAuth 2 and `GET /v2/me`) and
//! [`FakeFrameioV4`] (`GET /v4/me`, accepting the tokens a [`FakeIms`] issued).
//!
//! They share the HTTP plumbing and the [`Fault`] machinery of [`FakeIms`], and import none of
//! the client crates.
//!
//! | endpoint | what `FakeFrameioV2` does |
//! |---|---|
//! | `GET /oauth2/auth` | checks `client_id`, `redirect_uri` (against the app's [`RedirectPattern`](crate::ims::RedirectPattern); a mismatch is a 400 page, never a redirect), `response_type=code`, `state` (required), `scope` (space separated; a comma or a scope the app may not have is `invalid_scope`; an app made with [`FakeV2App::grants_only`] is granted fewer scopes than asked), PKCE (`code_challenge` required for public apps, `S256` only); then `302` with `code` and `state`, or `error` per the [`AuthorizeDecision`]. |
//! | `POST /oauth2/token` | `authorization_code` (single use, bound to the app, `redirect_uri` and PKCE challenge) and `refresh_token` (optional `scope`, a subset of the grant's, else `invalid_scope` "refresh token missing requested scope"; what comes back follows the [`Rotation`]). Confidential apps authenticate with HTTP Basic only; public apps send `client_id` in the body and no secret. Responses: `access_token`, `token_type: bearer`, `expires_in: 3600`, `scope` (space separated), and `refresh_token` only when `offline` was granted. Errors are OAuth `{"error","error_description"}`. |
//! | `GET /v2/me` | a Bearer token that the fake issued and that has not expired (per the fake's clock), or a registered Developer Token; the token must carry the configured scope (default `account.read`, else 403). Errors use Frame.io's body `{"code","message","errors":[{"code","detail","status","title"}]}`: 401 for a missing, unknown or expired token. |
//!
//! Every response carries `x-ratelimit-limit`, `x-ratelimit-remaining` (counting down per
//! window on the fake's clock; 0 on a 429) and `x-ratelimit-window` (milliseconds). A 429 is
//! injected with [`FakeFrameioV2::inject_rate_limit`] (or any [`Fault`] with
//! [`inject_on`](FakeFrameioV2::inject_on)); faults on `/v2/me` use Frame.io's error body,
//! faults on the OAuth endpoints the OAuth one.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use frameio_auth_testkit::v2::{FakeFrameioV2, paths};
//!
//! let fake = FakeFrameioV2::start_default().await?;
//! fake.register_developer_token("fio-u-test-token", "account.read asset.read");
//! fake.inject_rate_limit(1, 2);
//! // ... point the client under test at fake.base_url() ...
//! assert_eq!(fake.requests_to(paths::ME), 0);
//! fake.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod config;
mod endpoints;
mod state;
mod v4;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{
    ALL_SCOPES, DEFAULT_ACCESS_TOKEN_LIFETIME, DEFAULT_CODE_LIFETIME, DEFAULT_ME_SCOPE,
    DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW, DEFAULT_REFRESH_TOKEN_LIFETIME, FakeFrameioV2Config,
    FakeV2App, FakeV2User, Rotation, demo,
};
pub use v4::FakeFrameioV4;

use crate::http::{self, FakeApp, FakeResponse, Req, Server, find, oauth_error};
pub use crate::http::{Fault, RecordedRequest, Schedule, Times};
use crate::ims::AuthorizeDecision;
#[cfg(doc)]
use crate::ims::FakeIms;
use hyper::StatusCode;
use state::{Access, Shared, v2_error};

/// The paths the fakes serve.
pub mod paths {
    /// `GET`: the V2 authorization endpoint.
    pub const AUTHORIZE: &str = "/oauth2/auth";
    /// `POST`: the V2 token endpoint.
    pub const TOKEN: &str = "/oauth2/token";
    /// `GET`: the V2 token check.
    pub const ME: &str = "/v2/me";
    /// `GET`: the V4 token check ([`FakeFrameioV4`](super::FakeFrameioV4)).
    pub const V4_ME: &str = "/v4/me";
}

impl FakeApp for Shared {
    fn record(&self, request: RecordedRequest) -> Option<Fault> {
        let grant_type = (request.path == paths::TOKEN)
            .then(|| find(&request.form, "grant_type"))
            .flatten()
            .map(str::to_owned);
        self.lock().traffic.record(request, grant_type.as_deref())
    }

    fn route(&self, req: &Req) -> FakeResponse {
        if req.too_large {
            return v2_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "request body too large",
            );
        }
        endpoints::route(self, req)
    }

    fn fault_response(&self, req: &Req, fault: &Fault) -> FakeResponse {
        let now = self.now();
        if req.path.starts_with("/oauth2/") {
            http::fault_response(fault, now, oauth_error)
        } else {
            http::fault_response(fault, now, v2_error)
        }
    }

    fn finish(&self, response: &mut FakeResponse) {
        let now = self.now();
        self.lock().rate.stamp(now, response);
    }
}

/// A running fake Frame.io V2 (OAuth at `/oauth2/*`, API at `/v2/me`) on `127.0.0.1`.
///
/// One base URL serves both the OAuth host (`applications.frame.io`) and the API host
/// (`api.frame.io`). Stops on [`shutdown`](Self::shutdown) or when dropped. Needs a Tokio
/// runtime.
pub struct FakeFrameioV2 {
    shared: Arc<Shared>,
    server: Server,
}

impl FakeFrameioV2 {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(config: FakeFrameioV2Config) -> io::Result<Self> {
        let (server, shared) =
            Server::start(|base_url| Arc::new(Shared::new(config, base_url))).await?;
        Ok(Self { shared, server })
    }

    /// [`start`](Self::start) with [`FakeFrameioV2Config::with_demo_apps`].
    pub async fn start_default() -> io::Result<Self> {
        Self::start(FakeFrameioV2Config::with_demo_apps()).await
    }

    /// Stops the server, letting in-flight requests finish (up to a second).
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash: both the OAuth and the API base URL.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base_url)
    }

    /// `…/oauth2/auth`.
    pub fn authorize_url(&self) -> String {
        self.url(paths::AUTHORIZE)
    }

    /// `…/oauth2/token`.
    pub fn token_url(&self) -> String {
        self.url(paths::TOKEN)
    }

    /// `…/v2/me`.
    pub fn me_url(&self) -> String {
        self.url(paths::ME)
    }

    /// The configuration.
    pub fn config(&self) -> &FakeFrameioV2Config {
        &self.shared.config
    }

    // --- behaviour -----------------------------------------------------------------------

    /// Registers a Developer Token with its scopes (space or comma separated). It never
    /// expires. Any text is accepted as a token (`fio-u-...`, a JWT...).
    pub fn register_developer_token(&self, token: impl Into<String>, scopes: &str) {
        self.shared.lock().access.insert(
            token.into(),
            Access {
                scopes: config::split(scopes),
                expires_at: None,
            },
        );
    }

    /// What refreshes return from now on.
    pub fn set_rotation(&self, rotation: Rotation) {
        self.shared.lock().rotation = rotation;
    }

    /// What the authorize endpoint does with valid requests from now on.
    pub fn set_authorize_decision(&self, decision: AuthorizeDecision) {
        self.shared.lock().authorize_decision = decision;
    }

    /// The next `times` requests to `/v2/me` get `429` with `Retry-After: <retry_after_secs>`,
    /// Frame.io's error body and `x-ratelimit-remaining: 0`.
    pub fn inject_rate_limit(&self, times: u32, retry_after_secs: u64) {
        self.inject_on(
            paths::ME,
            Fault::RetryAfter {
                secs: retry_after_secs,
            },
            Times(times),
        );
    }

    /// Injects `fault` on requests to any path, per `schedule`.
    pub fn inject(&self, fault: Fault, schedule: impl Into<Schedule>) {
        self.shared
            .lock()
            .traffic
            .faults
            .add(None, fault, schedule.into());
    }

    /// Injects `fault` on requests to `path` only.
    pub fn inject_on(&self, path: &str, fault: Fault, schedule: impl Into<Schedule>) {
        self.shared
            .lock()
            .traffic
            .faults
            .add(Some(path.to_owned()), fault, schedule.into());
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.shared.lock().traffic.faults.clear();
    }

    // --- observation ---------------------------------------------------------------------

    /// All requests received.
    pub fn total_requests(&self) -> u64 {
        self.shared.lock().traffic.total
    }

    /// Requests received on `path` (faulted ones included).
    pub fn requests_to(&self, path: &str) -> u64 {
        self.shared
            .lock()
            .traffic
            .per_path
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Token requests with this `grant_type`.
    pub fn grant_count(&self, grant_type: &str) -> u64 {
        self.shared
            .lock()
            .traffic
            .grants
            .get(grant_type)
            .copied()
            .unwrap_or(0)
    }

    /// The last request received on `path`.
    pub fn last_request(&self, path: &str) -> Option<RecordedRequest> {
        self.shared.lock().traffic.last.get(path).cloned()
    }

    /// Access tokens issued by the token endpoint so far (Developer Tokens not counted).
    pub fn issued_access_tokens(&self) -> usize {
        self.shared
            .lock()
            .access
            .values()
            .filter(|a| a.expires_at.is_some())
            .count()
    }

    /// Refresh tokens issued so far.
    pub fn issued_refresh_tokens(&self) -> usize {
        self.shared.lock().refresh.len()
    }

    /// Whether `token` is an access token (or Developer Token) that `/v2/me` would accept
    /// (scopes aside).
    pub fn is_access_token_active(&self, token: &str) -> bool {
        let now = self.shared.now();
        self.shared
            .lock()
            .access
            .get(token)
            .is_some_and(|a| a.expires_at.is_none_or(|at| now < at))
    }

    /// Whether `token` is a refresh token that can still be used.
    pub fn is_refresh_token_active(&self, token: &str) -> bool {
        let now = self.shared.now();
        self.shared
            .lock()
            .refresh
            .get(token)
            .is_some_and(|r| !r.spent && now < r.expires_at)
    }
}

impl std::fmt::Debug for FakeFrameioV2 {
    /// The address and counters only, never tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeFrameioV2")
            .field("base_url", &self.shared.base_url)
            .field("total_requests", &self.total_requests())
            .field("running", &self.server.is_running())
            .finish_non_exhaustive()
    }
}
