//! `FakeIms`: an in-process Adobe IMS on `127.0.0.1`, for integration tests of IMS clients.
//!
//! It implements the endpoints and quirks described in the project's `PROTOCOL.md` and imports
//! none of the client crates: it is an independent check of them.
//!
//! | endpoint | what the fake does |
//! |---|---|
//! | `GET /ims/authorize/v2` | validates `client_id`, `redirect_uri` (against the client's [`RedirectPattern`]), `response_type=code`, every scope (space or comma separated) and PKCE (required for public clients; `S256` only), then answers `302` with `code` and `state`, or with `error` per the [`AuthorizeDecision`]. The user who signs in is the one `login_hint` names, else the default one ([`FakeImsConfig::add_user`]). An unknown client or a bad redirect URI gives a `400` HTML page (never a redirect). |
//! | `POST /ims/token/v3` | `authorization_code` (single-use code bound to client, `redirect_uri` and PKCE challenge), `refresh_token` (rotating: the old one is spent; presenting a spent one is `invalid_grant` and revokes the whole grant, see [`FakeImsConfig::refresh_token_reuse_detection`]), `client_credentials` (S2S only, comma-separated `scope`). Client authentication by HTTP Basic (id and secret form-urlencoded, RFC 6749 §2.3.1) or `client_id` + `client_secret` in the body; public clients send `client_id` only (body or query). Wrong secret: `401 invalid_client`. |
//! | `POST /ims/revoke` | `token` in the body; the client authenticates as above; revoking a refresh token also revokes the access tokens of its grant; `200` with an empty body. |
//! | `POST /ims/invalidate_token/v2` | `token_type`, `token`, `client_id` (or `X-IMS-ClientId`), `client_secret` for `service_token`, `cascading=all` to also kill the access tokens of a refresh token's grant. |
//! | `POST /ims/validate_token/v1` | `type`, `client_id`, `token` → `{"valid":true,"expires_at":ms}` or `{"valid":false,"reason":"bad_token"/"expired"/"revoked"/"used"/"client_id_mismatch"}`. |
//! | `GET /ims/userinfo/v2?client_id=` | Bearer; `sub`, plus `name`, `given_name`, `family_name`, `account_type` with `profile`, `email`, `email_verified` with `email`. |
//! | `GET /ims/profile/v1`, `GET /ims/organizations/v5` | Bearer; the token's [`FakeUser`]'s profile, two organizations. |
//! | `GET /ims/.well-known/openid-configuration`, `GET /ims/keys` | discovery with this server's URLs; an empty key set. |
//!
//! Token responses carry `access_token`, `token_type: "bearer"`, `expires_in` (seconds),
//! `refresh_token` only when `offline_access` was granted in a user flow, `id_token` only with
//! `openid` in a user flow, and `sub` in user flows. Access tokens are JWT-shaped (not really
//! signed); their payload (see [`decode_jwt_payload`]) holds `created_at` and `expires_in` as
//! strings of milliseconds, `rtea` (refresh token expiry, ms) when a refresh token was issued,
//! `user_id`, `client_id`, `scope` (comma separated), `as: "ims-na1"`, `type: "access_token"`.
//! Every response has a unique `x-debug-id` header. Errors are `{"error", "error_description"}`.
//!
//! Faults ([`Fault`]) are injected with [`FakeIms::inject`] / [`FakeIms::inject_on`], and what
//! the fake received is visible through [`FakeIms::requests_to`], [`FakeIms::grant_count`],
//! [`FakeIms::refresh_grants_served`], [`FakeIms::refresh_token_reuses_detected`],
//! [`FakeIms::last_form`], [`FakeIms::last_request`] and friends.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use frameio_auth_testkit::ims::{paths, Fault, FakeIms, FakeImsConfig, Times};
//!
//! let ims = FakeIms::start(FakeImsConfig::with_demo_clients()).await?;
//! assert!(ims.token_url().starts_with("http://127.0.0.1:"));
//! ims.inject_on(paths::TOKEN, Fault::Status503, Times(2));
//! // ... run the client under test against ims.base_url() ...
//! assert_eq!(ims.token_requests(), 0);
//! ims.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod config;
mod endpoints;
mod state;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::http::Server;

pub use crate::http::{Fault, RecordedRequest, Schedule, Times};
pub use config::{
    AuthorizeDecision, ClientKind, DEFAULT_ACCESS_TOKEN_LIFETIME, DEFAULT_CODE_LIFETIME,
    DEFAULT_REFRESH_TOKEN_LIFETIME, FakeClient, FakeImsConfig, FakeUser, RedirectPattern, demo,
};
pub use state::decode_jwt_payload;

pub(crate) use state::Shared;

/// The paths the fake serves.
pub mod paths {
    /// `GET`: the authorization endpoint.
    pub const AUTHORIZE: &str = "/ims/authorize/v2";
    /// `POST`: the token endpoint.
    pub const TOKEN: &str = "/ims/token/v3";
    /// `POST`: token revocation (RFC 7009 style).
    pub const REVOKE: &str = "/ims/revoke";
    /// `POST`: token invalidation (aio-lib-ims style, with `cascading`).
    pub const INVALIDATE: &str = "/ims/invalidate_token/v2";
    /// `POST`: token validation.
    pub const VALIDATE: &str = "/ims/validate_token/v1";
    /// `GET`: OpenID Connect user info.
    pub const USERINFO: &str = "/ims/userinfo/v2";
    /// `GET`: the IMS profile.
    pub const PROFILE: &str = "/ims/profile/v1";
    /// `GET`: the user's organizations.
    pub const ORGANIZATIONS: &str = "/ims/organizations/v5";
    /// `GET`: OpenID Connect discovery.
    pub const DISCOVERY: &str = "/ims/.well-known/openid-configuration";
    /// `GET`: the (empty) JSON Web Key Set.
    pub const KEYS: &str = "/ims/keys";
}

/// A running fake Adobe IMS on `127.0.0.1` (never any other address), on a port the OS chose.
///
/// Stops on [`shutdown`](Self::shutdown) (gracefully: in-flight requests get up to a second)
/// or when dropped (at once: the server task is aborted). Needs a tokio runtime; the server
/// runs as tasks on it, so a current-thread runtime works as long as the client under test is
/// async too.
pub struct FakeIms {
    shared: Arc<Shared>,
    server: Server,
}

impl FakeIms {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(config: FakeImsConfig) -> io::Result<Self> {
        let (server, shared) = Server::start(|base_url| Shared::new(config, base_url)).await?;
        Ok(Self { shared, server })
    }

    /// [`start`](Self::start) with [`FakeImsConfig::with_demo_clients`].
    pub async fn start_demo() -> io::Result<Self> {
        Self::start(FakeImsConfig::with_demo_clients()).await
    }

    /// Stops accepting connections, lets in-flight requests finish (up to a second), and waits
    /// for the server task.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    /// The socket address (always `127.0.0.1:<port>`).
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The full URL of `path` (one of [`paths`]).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base_url)
    }

    /// `…/ims/authorize/v2`.
    pub fn authorize_url(&self) -> String {
        self.url(paths::AUTHORIZE)
    }

    /// `…/ims/token/v3`.
    pub fn token_url(&self) -> String {
        self.url(paths::TOKEN)
    }

    /// `…/ims/revoke`.
    pub fn revoke_url(&self) -> String {
        self.url(paths::REVOKE)
    }

    /// `…/ims/invalidate_token/v2`.
    pub fn invalidate_url(&self) -> String {
        self.url(paths::INVALIDATE)
    }

    /// `…/ims/validate_token/v1`.
    pub fn validate_url(&self) -> String {
        self.url(paths::VALIDATE)
    }

    /// `…/ims/userinfo/v2`.
    pub fn userinfo_url(&self) -> String {
        self.url(paths::USERINFO)
    }

    /// `…/ims/profile/v1`.
    pub fn profile_url(&self) -> String {
        self.url(paths::PROFILE)
    }

    /// `…/ims/organizations/v5`.
    pub fn organizations_url(&self) -> String {
        self.url(paths::ORGANIZATIONS)
    }

    /// `…/ims/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        self.url(paths::DISCOVERY)
    }

    /// The configuration the fake was started with.
    pub fn config(&self) -> &FakeImsConfig {
        &self.shared.config
    }

    // --- behaviour -----------------------------------------------------------------------

    /// Changes what the authorize endpoint does with valid requests from now on.
    pub fn set_authorize_decision(&self, decision: AuthorizeDecision) {
        self.shared.lock().authorize_decision = decision;
    }

    /// Injects `fault` on requests to any path, per `schedule` (`Times(n)`, a plain `n`, or a
    /// [`Schedule`]). Faults are tried in injection order; the first one due wins.
    pub fn inject(&self, fault: Fault, schedule: impl Into<Schedule>) {
        self.shared.lock().faults.add(None, fault, schedule.into());
    }

    /// Injects `fault` on requests to `path` only (such as [`paths::TOKEN`]).
    pub fn inject_on(&self, path: &str, fault: Fault, schedule: impl Into<Schedule>) {
        self.shared
            .lock()
            .faults
            .add(Some(path.to_owned()), fault, schedule.into());
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Injected faults that may still fire.
    pub fn pending_faults(&self) -> usize {
        self.shared.lock().faults.pending()
    }

    /// How many requests got a fault so far.
    pub fn faults_fired(&self) -> u64 {
        self.shared.lock().faults.fired()
    }

    // --- observation ---------------------------------------------------------------------

    /// All requests received (faulted ones included).
    pub fn total_requests(&self) -> u64 {
        self.shared.lock().total_requests
    }

    /// Requests received on `path` (faulted ones included).
    pub fn requests_to(&self, path: &str) -> u64 {
        self.shared.lock().requests.get(path).copied().unwrap_or(0)
    }

    /// Requests received on the token endpoint.
    pub fn token_requests(&self) -> u64 {
        self.requests_to(paths::TOKEN)
    }

    /// Token requests with this `grant_type` (faulted ones included).
    pub fn grant_count(&self, grant_type: &str) -> u64 {
        self.shared
            .lock()
            .grants
            .get(grant_type)
            .copied()
            .unwrap_or(0)
    }

    /// `refresh_token` grants answered with new tokens. Unlike
    /// [`grant_count("refresh_token")`](Self::grant_count), refused and faulted requests do
    /// not count.
    pub fn refresh_grants_served(&self) -> u64 {
        self.shared.lock().refresh_grants_served
    }

    /// How often a spent refresh token was presented and its grant revoked (each
    /// presentation counts, also of a grant already revoked). Stays 0 while
    /// [reuse detection](FakeImsConfig::refresh_token_reuse_detection) is off.
    pub fn refresh_token_reuses_detected(&self) -> u64 {
        self.shared.lock().refresh_token_reuses_detected
    }

    /// The last request received on `path`.
    pub fn last_request(&self, path: &str) -> Option<RecordedRequest> {
        self.shared.lock().last.get(path).cloned()
    }

    /// The form parameters of the last request on `path`.
    pub fn last_form(&self, path: &str) -> Option<Vec<(String, String)>> {
        self.shared.lock().last.get(path).map(|r| r.form.clone())
    }

    /// The query parameters of the last request on `path`.
    pub fn last_query(&self, path: &str) -> Option<Vec<(String, String)>> {
        self.shared.lock().last.get(path).map(|r| r.query.clone())
    }

    /// The `Authorization` header of the last request on `path`, if it had one.
    pub fn last_authorization_header(&self, path: &str) -> Option<String> {
        self.shared
            .lock()
            .last
            .get(path)
            .and_then(|r| r.header("authorization").map(str::to_owned))
    }

    /// Access tokens issued so far.
    pub fn issued_access_tokens(&self) -> usize {
        self.shared.lock().access.len()
    }

    /// Refresh tokens issued so far.
    pub fn issued_refresh_tokens(&self) -> usize {
        self.shared.lock().refresh.len()
    }

    /// Authorization codes issued so far.
    pub fn issued_codes(&self) -> usize {
        self.shared.lock().codes.len()
    }

    /// Whether `token` is an access token that the fake issued and that is neither revoked nor
    /// expired (per the fake's clock).
    pub fn is_access_token_active(&self, token: &str) -> bool {
        let now = self.shared.now();
        self.shared.lock().access_status(token, now).is_ok()
    }

    /// The shared state, for the other fakes that accept this fake's tokens.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Whether `token` is a refresh token that can still be used (issued, not spent by
    /// rotation, not revoked, not expired).
    pub fn is_refresh_token_active(&self, token: &str) -> bool {
        let now = self.shared.now();
        self.shared.lock().refresh_status(token, now).is_ok()
    }
}

impl std::fmt::Debug for FakeIms {
    /// The address and counters only: never the tokens the fake holds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeIms")
            .field("base_url", &self.shared.base_url)
            .field("total_requests", &self.total_requests())
            .field("running", &self.server.is_running())
            .finish_non_exhaustive()
    }
}
