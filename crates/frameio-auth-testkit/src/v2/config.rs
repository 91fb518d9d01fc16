//! What a [`FakeFrameioV2`](super::FakeFrameioV2) knows before it starts.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{Clock, SystemClock};

use crate::ims::{AuthorizeDecision, RedirectPattern};

/// Default access token lifetime: 1 hour (`expires_in: 3600`), as Frame.io V2 issues.
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Default refresh token lifetime: 30 days.
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// Default authorization code lifetime: 10 minutes.
pub const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(600);
/// Default `x-ratelimit-limit`: 100 requests per window.
pub const DEFAULT_RATE_LIMIT: u64 = 100;
/// Default `x-ratelimit-window`: 60 000 ms.
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);
/// The scope `GET /v2/me` requires by default.
pub const DEFAULT_ME_SCOPE: &str = "account.read";

/// Every Frame.io V2 scope, space-separated (what the demo apps may be granted).
pub const ALL_SCOPES: &str = "account.read team.read team.create team.update project.read \
    project.create project.update project.delete asset.read asset.create asset.update \
    asset.delete comment.read comment.create comment.update comment.delete reviewlink.read \
    reviewlink.create reviewlink.update reviewlink.delete presentation.read presentation.create \
    presentation.update presentation.delete action.read action.create action.update \
    action.delete webhook.read webhook.create webhook.update webhook.delete auditlog.read offline";

/// Fixed ids and secrets of the demo apps of [`FakeFrameioV2Config::with_demo_apps`]. Fake
/// values, safe to print.
pub mod demo {
    /// The confidential app (client secret, HTTP Basic).
    pub const CONFIDENTIAL_CLIENT_ID: &str = "demo-v2-confidential";
    /// Its secret.
    pub const CONFIDENTIAL_SECRET: &str = "demo-v2-secret-value";
    /// The public PKCE app (no secret).
    pub const PKCE_CLIENT_ID: &str = "demo-v2-pkce";
    /// The redirect pattern of both demo apps: any loopback HTTP URI on 127.0.0.1 (RFC 8252).
    pub const REDIRECT: &str = "http://127.0.0.1:*";
}

/// What a refresh returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Rotation {
    /// A new refresh token; the old one is spent (reusing it is `invalid_grant`). The default.
    #[default]
    Rotate,
    /// No `refresh_token` in the response; the old one stays valid (Frame.io V2 may do this).
    OmitRefreshToken,
    /// The same refresh token again.
    ReturnSame,
}

/// A registered OAuth app: confidential (a secret, HTTP Basic) or public (PKCE, `client_id` in
/// the body).
#[derive(Clone)]
pub struct FakeV2App {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
    pub(crate) redirect: RedirectPattern,
    pub(crate) scopes: BTreeSet<String>,
    /// With [`grants_only`](Self::grants_only): what a login is granted at most.
    pub(crate) grant_limit: Option<BTreeSet<String>>,
}

impl FakeV2App {
    /// A confidential app with a client secret. `scopes` (space or comma separated) are the
    /// ones it may be granted.
    pub fn confidential(
        id: impl Into<String>,
        secret: impl Into<String>,
        redirect: impl Into<String>,
        scopes: &str,
    ) -> Self {
        Self {
            id: id.into(),
            secret: Some(secret.into()),
            redirect: RedirectPattern::new(redirect),
            scopes: split(scopes),
            grant_limit: None,
        }
    }

    /// A public PKCE app: no secret, `code_challenge` required.
    pub fn pkce(id: impl Into<String>, redirect: impl Into<String>, scopes: &str) -> Self {
        Self {
            id: id.into(),
            secret: None,
            redirect: RedirectPattern::new(redirect),
            scopes: split(scopes),
            grant_limit: None,
        }
    }

    /// Grants a login fewer scopes than it asks for, as a real server may (an account without
    /// a feature, a user who unticks a scope): only the requested scopes that are also in
    /// `scopes` (space or comma separated) are granted, and the token response's `scope`
    /// says which. A login granted none of them is refused with `invalid_scope`. By default
    /// a login is granted what it asks for.
    ///
    /// A refresh that asks for a scope beyond the grant is refused with `invalid_scope`
    /// ("refresh token missing requested scope"), in this mode as in the default one.
    ///
    /// ```
    /// use frameio_auth_testkit::v2::{FakeV2App, demo};
    ///
    /// let stingy = FakeV2App::pkce("stingy", demo::REDIRECT, "account.read asset.read offline")
    ///     .grants_only("account.read offline");
    /// # let _ = stingy;
    /// ```
    #[must_use]
    pub fn grants_only(mut self, scopes: &str) -> Self {
        self.grant_limit = Some(split(scopes));
        self
    }

    /// What a login that asks for `requested` is granted.
    pub(crate) fn grant(&self, requested: BTreeSet<String>) -> BTreeSet<String> {
        match &self.grant_limit {
            Some(limit) => requested.intersection(limit).cloned().collect(),
            None => requested,
        }
    }

    /// The client id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the app is public (PKCE, no secret).
    pub fn is_public(&self) -> bool {
        self.secret.is_none()
    }
}

impl fmt::Debug for FakeV2App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeV2App")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("redirect", &self.redirect)
            .field("scopes", &self.scopes)
            .field("grant_limit", &self.grant_limit)
            .finish()
    }
}

/// Splits a scope list on commas and white space.
pub(crate) fn split(list: &str) -> BTreeSet<String> {
    list.split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The one user every token of the fake belongs to (`GET /v2/me`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeV2User {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `email`.
    pub email: String,
    /// `account_id`.
    pub account_id: String,
}

impl Default for FakeV2User {
    fn default() -> Self {
        Self {
            id: "8c0f3d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f".to_owned(),
            name: "Ada Lovelace".to_owned(),
            email: "ada@example.com".to_owned(),
            account_id: "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e".to_owned(),
        }
    }
}

/// Configuration of a [`FakeFrameioV2`](super::FakeFrameioV2): a builder.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_core::ManualClock;
/// use frameio_auth_testkit::v2::{FakeFrameioV2Config, FakeV2App, Rotation};
///
/// let config = FakeFrameioV2Config::new()
///     .app(FakeV2App::pkce("my-app", "http://127.0.0.1:*", "account.read offline"))
///     .rotation(Rotation::OmitRefreshToken)
///     .rate_limit(10, Duration::from_secs(1))
///     .clock(ManualClock::default());
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct FakeFrameioV2Config {
    pub(crate) apps: Vec<FakeV2App>,
    pub(crate) user: FakeV2User,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rotation: Rotation,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) refresh_token_lifetime: Duration,
    pub(crate) code_lifetime: Duration,
    pub(crate) rate_limit: u64,
    pub(crate) rate_window: Duration,
    pub(crate) me_scope: Option<String>,
    pub(crate) authorize_decision: AuthorizeDecision,
}

impl fmt::Debug for FakeFrameioV2Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeFrameioV2Config")
            .field("apps", &self.apps)
            .field("rotation", &self.rotation)
            .field("rate_limit", &self.rate_limit)
            .field("rate_window", &self.rate_window)
            .finish_non_exhaustive()
    }
}

impl Default for FakeFrameioV2Config {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeFrameioV2Config {
    /// No apps, 1-hour access tokens, rotating refresh tokens, 100 requests per 60 s, `/v2/me`
    /// requiring `account.read`, the system clock, auto-approve.
    pub fn new() -> Self {
        Self {
            apps: Vec::new(),
            user: FakeV2User::default(),
            clock: Arc::new(SystemClock),
            rotation: Rotation::Rotate,
            access_token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            refresh_token_lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
            code_lifetime: DEFAULT_CODE_LIFETIME,
            rate_limit: DEFAULT_RATE_LIMIT,
            rate_window: DEFAULT_RATE_WINDOW,
            me_scope: Some(DEFAULT_ME_SCOPE.to_owned()),
            authorize_decision: AuthorizeDecision::Approve,
        }
    }

    /// [`new`](Self::new) plus the two [`demo`] apps, both allowed every scope.
    pub fn with_demo_apps() -> Self {
        Self::new()
            .app(FakeV2App::confidential(
                demo::CONFIDENTIAL_CLIENT_ID,
                demo::CONFIDENTIAL_SECRET,
                demo::REDIRECT,
                ALL_SCOPES,
            ))
            .app(FakeV2App::pkce(
                demo::PKCE_CLIENT_ID,
                demo::REDIRECT,
                ALL_SCOPES,
            ))
    }

    /// Registers an app (replacing one with the same id).
    #[must_use]
    pub fn app(mut self, app: FakeV2App) -> Self {
        self.apps.retain(|a| a.id != app.id);
        self.apps.push(app);
        self
    }

    /// The user.
    #[must_use]
    pub fn user(mut self, user: FakeV2User) -> Self {
        self.user = user;
        self
    }

    /// The clock for expiry and rate-limit windows. Pass a `ManualClock` clone to move time.
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// What refreshes return (changeable later with
    /// [`FakeFrameioV2::set_rotation`](super::FakeFrameioV2::set_rotation)).
    #[must_use]
    pub fn rotation(mut self, rotation: Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// Access token lifetime (default 1 hour).
    #[must_use]
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// The `x-ratelimit-limit` and `x-ratelimit-window` values (default 100 per 60 s).
    #[must_use]
    pub fn rate_limit(mut self, limit: u64, window: Duration) -> Self {
        self.rate_limit = limit;
        self.rate_window = window;
        self
    }

    /// The scope `GET /v2/me` requires (`None`: any valid token). Default `account.read`.
    #[must_use]
    pub fn me_requires_scope(mut self, scope: Option<&str>) -> Self {
        self.me_scope = scope.map(str::to_owned);
        self
    }

    /// The user every token belongs to.
    pub fn fake_user(&self) -> &FakeV2User {
        &self.user
    }

    /// The registered apps.
    pub fn apps(&self) -> &[FakeV2App] {
        &self.apps
    }

    /// What the authorize endpoint does with valid requests.
    #[must_use]
    pub fn authorize_decision(mut self, decision: AuthorizeDecision) -> Self {
        self.authorize_decision = decision;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "LEAKCHECK-v2-app-secret";

    #[test]
    fn debug_hides_app_secrets() {
        let app = FakeV2App::confidential("conf-id", SECRET, "http://127.0.0.1:*", "offline");
        let public = FakeV2App::pkce("pkce-id", "http://127.0.0.1:*", "offline");
        let config = FakeFrameioV2Config::with_demo_apps()
            .app(app.clone())
            .app(public.clone());
        for text in [
            format!("{app:?}"),
            format!("{app:#?}"),
            format!("{public:?}"),
            format!("{config:?}"),
            format!("{config:#?}"),
        ] {
            assert!(!text.contains(SECRET), "a secret in Debug: {text}");
            assert!(!text.contains(demo::CONFIDENTIAL_SECRET), "{text}");
        }
        assert!(format!("{app:?}").contains("conf-id"));
        assert!(format!("{app:?}").contains("[redacted]"));
        assert!(format!("{config:?}").contains("pkce-id"));
    }
}
