//! `FakeFrameioV4`: `GET /v4/me` for tokens a `FakeIms` issued.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use hyper::{Method, StatusCode};
use serde_json::json;

use super::config::{DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW};
use super::paths;
use super::state::{RateWindow, Traffic, v4_error};
use crate::http::{
    self, FakeApp, FakeResponse, Fault, RecordedRequest, Req, Schedule, Server, Times,
};
use crate::ims::{FakeIms, Shared as ImsShared};

/// A fake Frame.io V4 API on `127.0.0.1` serving `GET /v4/me`.
///
/// It trusts a [`FakeIms`]: a Bearer token is valid when that fake issued it and it is neither
/// expired nor revoked there (user and Server-to-Server tokens alike). The answer is
/// `{"data": {"id", "name", "email", ...}}` for the token's user (the IMS fake's user who
/// signed in; see [`FakeImsConfig::add_user`](crate::ims::FakeImsConfig::add_user)); errors use V4's body
/// `{"errors": [{"detail", "source", "title"}]}` (401 for a missing, unknown, expired or
/// revoked token, V2 tokens included). Every response carries the rate-limit headers, and
/// [`inject_rate_limit`](Self::inject_rate_limit) gives 429s.
///
/// A separate small server rather than a route on `FakeIms`: Frame.io's API and Adobe IMS
/// are different hosts, and `FakeIms` stays a pure IMS.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use frameio_auth_testkit::FakeIms;
/// use frameio_auth_testkit::v2::FakeFrameioV4;
///
/// let ims = FakeIms::start_demo().await?;
/// let v4 = FakeFrameioV4::start(&ims).await?;
/// assert!(v4.me_url().ends_with("/v4/me"));
/// # Ok(())
/// # }
/// ```
pub struct FakeFrameioV4 {
    app: Arc<V4App>,
    server: Server,
}

pub(crate) struct V4App {
    ims: Arc<ImsShared>,
    base_url: String,
    state: Mutex<V4State>,
}

struct V4State {
    traffic: Traffic,
    rate: RateWindow,
}

impl V4App {
    fn lock(&self) -> MutexGuard<'_, V4State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn me(&self, req: &Req) -> FakeResponse {
        let Some(token) = req.bearer_token() else {
            return v4_error(StatusCode::UNAUTHORIZED, "", "a Bearer token is required");
        };
        let now = self.ims.now();
        let user_id = match self.ims.lock().access_status(token, now) {
            Ok(record) => record.user_id.clone(),
            Err(problem) => {
                return v4_error(
                    StatusCode::UNAUTHORIZED,
                    "",
                    &format!("invalid token ({})", problem.reason()),
                );
            }
        };
        let user = self.ims.config.user_by_id(&user_id);
        http::json_response(
            StatusCode::OK,
            &json!({
                "data": {
                    "id": user_id,
                    "name": user.name,
                    "email": user.email,
                    "avatar_url": null,
                    "created_at": "2024-01-01T00:00:00Z",
                    "updated_at": "2024-01-01T00:00:00Z",
                }
            }),
        )
    }
}

impl FakeApp for V4App {
    fn record(&self, request: RecordedRequest) -> Option<Fault> {
        self.lock().traffic.record(request, None)
    }

    fn route(&self, req: &Req) -> FakeResponse {
        match req.path.as_str() {
            paths::V4_ME if req.method == Method::GET => self.me(req),
            paths::V4_ME => v4_error(StatusCode::METHOD_NOT_ALLOWED, "", "method not allowed"),
            _ => v4_error(StatusCode::NOT_FOUND, "", "no such endpoint"),
        }
    }

    fn fault_response(&self, _req: &Req, fault: &Fault) -> FakeResponse {
        http::fault_response(fault, self.ims.now(), v4_error)
    }

    fn finish(&self, response: &mut FakeResponse) {
        let now = self.ims.now();
        self.lock().rate.stamp(now, response);
    }
}

impl FakeFrameioV4 {
    /// Binds `127.0.0.1:0` and serves `/v4/me` for the tokens `ims` issued (on `ims`'s clock).
    pub async fn start(ims: &FakeIms) -> io::Result<Self> {
        let ims = Arc::clone(ims.shared());
        let now = ims.now();
        let (server, app) = Server::start(|base_url| {
            Arc::new(V4App {
                ims,
                base_url,
                state: Mutex::new(V4State {
                    traffic: Traffic::default(),
                    rate: RateWindow::new(DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW, now),
                }),
            })
        })
        .await?;
        Ok(Self { app, server })
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:<port>`: the API base URL.
    pub fn base_url(&self) -> &str {
        &self.app.base_url
    }

    /// `…/v4/me`.
    pub fn me_url(&self) -> String {
        format!("{}{}", self.app.base_url, paths::V4_ME)
    }

    /// The next `times` requests get `429` with `Retry-After: <retry_after_secs>`.
    pub fn inject_rate_limit(&self, times: u32, retry_after_secs: u64) {
        self.inject(
            Fault::RetryAfter {
                secs: retry_after_secs,
            },
            Times(times),
        );
    }

    /// Injects `fault` per `schedule`.
    pub fn inject(&self, fault: Fault, schedule: impl Into<Schedule>) {
        self.app
            .lock()
            .traffic
            .faults
            .add(None, fault, schedule.into());
    }

    /// Requests received on `/v4/me`.
    pub fn me_requests(&self) -> u64 {
        self.app
            .lock()
            .traffic
            .per_path
            .get(paths::V4_ME)
            .copied()
            .unwrap_or(0)
    }
}

impl std::fmt::Debug for FakeFrameioV4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeFrameioV4")
            .field("base_url", &self.app.base_url)
            .field("running", &self.server.is_running())
            .finish_non_exhaustive()
    }
}
