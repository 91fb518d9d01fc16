//! What a [`FakeIms`](super::FakeIms) knows before it starts: clients, user, lifetimes, clock.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use frameio_auth_core::{Clock, SystemClock};

/// The kind of an IMS credential, which decides how a client authenticates and which grants
/// it may use (see `PROTOCOL.md`, "Credential types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKind {
    /// OAuth Server-to-Server: confidential, `client_credentials` only, up to two secrets.
    ServerToServer,
    /// OAuth Web App: confidential (a secret), authorization code flow, PKCE optional.
    WebApp,
    /// OAuth Single Page App: public (no secret), authorization code flow, PKCE required.
    SinglePageApp,
    /// OAuth Native App: public (no secret), authorization code flow, PKCE required.
    NativeApp,
}

impl ClientKind {
    /// Whether the client has no secret (Single Page App, Native App).
    pub fn is_public(self) -> bool {
        matches!(self, Self::SinglePageApp | Self::NativeApp)
    }

    /// Whether the client uses the authorization code flow (every kind but Server-to-Server).
    pub fn is_user_flow(self) -> bool {
        !matches!(self, Self::ServerToServer)
    }
}

/// A registered redirect URI pattern.
///
/// The pattern is compared with the whole `redirect_uri`, character for character, except that
/// each `*` matches any run of characters (including none). Without a `*` it is an exact match.
///
/// | pattern | matches |
/// |---|---|
/// | `https://localhost/callback` | exactly that URI |
/// | `https://localhost/*` | any URI starting with `https://localhost/` |
/// | `http://127.0.0.1:*/callback` | a loopback redirect on any port (RFC 8252 §7.3) |
/// | `adobe+0123abcd://callback` | a Native App's custom scheme, exactly |
///
/// ```
/// use frameio_auth_testkit::ims::RedirectPattern;
/// let loopback = RedirectPattern::new("http://127.0.0.1:*/callback");
/// assert!(loopback.matches("http://127.0.0.1:49152/callback"));
/// assert!(!loopback.matches("http://127.0.0.1:49152/other"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedirectPattern(String);

impl RedirectPattern {
    /// A pattern; `*` is the only special character.
    pub fn new(pattern: impl Into<String>) -> Self {
        Self(pattern.into())
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern is a single exact URI (it has no `*`).
    pub fn is_exact(&self) -> bool {
        !self.0.contains('*')
    }

    /// Whether `uri` matches the pattern.
    pub fn matches(&self, uri: &str) -> bool {
        glob_match(self.0.as_bytes(), uri.as_bytes())
    }
}

impl fmt::Debug for RedirectPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedirectPattern({:?})", self.0)
    }
}

/// `*` matches any run of bytes; everything else matches itself. Iterative, with one
/// backtracking point, so it is linear-ish and cannot blow the stack.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0_usize, 0_usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// Splits a scope list on commas and whitespace, dropping empty items.
pub(crate) fn split_scopes(list: &str) -> BTreeSet<String> {
    list.split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A client registered with the fake: an id, its kind, its secrets, its redirect URI pattern and
/// the scopes it may be granted.
///
/// Secrets are fixed test values and are kept in plain text: this is a fake.
///
/// ```
/// use frameio_auth_testkit::ims::{ClientKind, FakeClient};
/// let s2s = FakeClient::server_to_server("s2s-id", ["old-secret", "new-secret"], "openid,AdobeID");
/// assert_eq!(s2s.kind(), ClientKind::ServerToServer);
/// assert!(s2s.allows_scope("AdobeID"));
/// let spa = FakeClient::single_page_app("spa-id", "https://app.example/cb", "openid offline_access");
/// assert!(spa.kind().is_public());
/// ```
#[derive(Clone)]
pub struct FakeClient {
    pub(crate) id: String,
    pub(crate) kind: ClientKind,
    pub(crate) secrets: Vec<String>,
    pub(crate) redirect: Option<RedirectPattern>,
    pub(crate) scopes: BTreeSet<String>,
}

impl FakeClient {
    fn new(
        id: impl Into<String>,
        kind: ClientKind,
        secrets: Vec<String>,
        redirect: Option<RedirectPattern>,
        scopes: &str,
    ) -> Self {
        Self {
            id: id.into(),
            kind,
            secrets,
            redirect,
            scopes: split_scopes(scopes),
        }
    }

    /// An OAuth Server-to-Server credential. IMS lets such a credential have two secrets at once
    /// (for rotation); either one works. `scopes` is the allowed list, comma or space separated.
    pub fn server_to_server<I, S>(id: impl Into<String>, secrets: I, scopes: &str) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let secrets = secrets.into_iter().map(Into::into).collect();
        Self::new(id, ClientKind::ServerToServer, secrets, None, scopes)
    }

    /// An OAuth Web App credential: one secret, a redirect URI pattern (see [`RedirectPattern`]).
    pub fn web_app(
        id: impl Into<String>,
        secret: impl Into<String>,
        redirect: impl Into<String>,
        scopes: &str,
    ) -> Self {
        Self::new(
            id,
            ClientKind::WebApp,
            vec![secret.into()],
            Some(RedirectPattern::new(redirect)),
            scopes,
        )
    }

    /// An OAuth Single Page App credential: public, PKCE required.
    pub fn single_page_app(
        id: impl Into<String>,
        redirect: impl Into<String>,
        scopes: &str,
    ) -> Self {
        Self::new(
            id,
            ClientKind::SinglePageApp,
            Vec::new(),
            Some(RedirectPattern::new(redirect)),
            scopes,
        )
    }

    /// An OAuth Native App credential: public, PKCE required, a redirect such as
    /// `adobe+<hash>://callback` or a loopback pattern like `http://127.0.0.1:*/callback`.
    pub fn native_app(id: impl Into<String>, redirect: impl Into<String>, scopes: &str) -> Self {
        Self::new(
            id,
            ClientKind::NativeApp,
            Vec::new(),
            Some(RedirectPattern::new(redirect)),
            scopes,
        )
    }

    /// Adds another accepted secret (for example the second secret of a rotation).
    #[must_use]
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// The client id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The credential kind.
    pub fn kind(&self) -> ClientKind {
        self.kind
    }

    /// The accepted secrets (fake, fixed test values; empty for public clients).
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.secrets.iter().map(String::as_str)
    }

    /// The registered redirect URI pattern, if the kind has one.
    pub fn redirect_pattern(&self) -> Option<&RedirectPattern> {
        self.redirect.as_ref()
    }

    /// Whether `scope` may be granted to this client.
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// The allowed scopes, in sorted order.
    pub fn allowed_scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.iter().map(String::as_str)
    }

    pub(crate) fn secret_matches(&self, secret: &str) -> bool {
        // Compare every registered secret so timing does not depend on which one matched.
        self.secrets.iter().fold(false, |found, s| {
            found | constant_time_eq(s.as_bytes(), secret.as_bytes())
        })
    }
}

impl fmt::Debug for FakeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeClient")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field("redirect", &self.redirect)
            .field("scopes", &self.scopes)
            .finish()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A user of the fake. One user signs in by default ([`FakeImsConfig::user`]); more can be
/// registered with [`FakeImsConfig::add_user`] and picked per authorization request with
/// `login_hint` (see there).
///
/// The default is a plausible Adobe ID user; change fields to test what a client shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    /// The IMS user id (`sub`, `user_id`), such as `1A2B...@AdobeID`.
    pub user_id: String,
    /// Full name (`name`, with the `profile` scope).
    pub name: String,
    /// Given name (`given_name`, with `profile`).
    pub given_name: String,
    /// Family name (`family_name`, with `profile`).
    pub family_name: String,
    /// E-mail address (`email`, with the `email` scope).
    pub email: String,
    /// Whether the address is verified (`email_verified`, with `email`).
    pub email_verified: bool,
    /// `account_type` (`type1` for a personal Adobe ID, `type2`/`type3` for enterprise).
    pub account_type: String,
}

impl Default for FakeUser {
    fn default() -> Self {
        Self {
            user_id: "4F3A2B1C0D9E8F7A6B5C4D3E@AdobeID".to_owned(),
            name: "Ada Lovelace".to_owned(),
            given_name: "Ada".to_owned(),
            family_name: "Lovelace".to_owned(),
            email: "ada@example.com".to_owned(),
            email_verified: true,
            account_type: "type1".to_owned(),
        }
    }
}

impl FakeUser {
    /// A second user, unlike the default one in every field (Grace Hopper, a `type3`
    /// account), for tests where two people sign in (see [`FakeImsConfig::add_user`]).
    pub fn second() -> Self {
        Self {
            user_id: "0C0B0A090807060504030201@AdobeID".to_owned(),
            name: "Grace Hopper".to_owned(),
            given_name: "Grace".to_owned(),
            family_name: "Hopper".to_owned(),
            email: "grace@example.com".to_owned(),
            email_verified: false,
            account_type: "type3".to_owned(),
        }
    }
}

/// What `GET /ims/authorize/v2` does with a request that passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuthorizeDecision {
    /// The user "consents" at once: redirect with `code` and `state`. The default.
    #[default]
    Approve,
    /// Redirect with `error` (and `error_description`, `state`), as IMS does when the user
    /// cancels (`access_denied`), a scope is not enabled (`invalid_scope`), or `prompt=none`
    /// cannot be honoured (`login_required`, `consent_required`, `interaction_required`).
    Deny {
        /// The `error` code.
        error: String,
        /// An optional `error_description`.
        description: Option<String>,
    },
}

impl AuthorizeDecision {
    /// A denial with `error` and no description.
    pub fn deny(error: impl Into<String>) -> Self {
        Self::Deny {
            error: error.into(),
            description: None,
        }
    }
}

/// Fixed ids and secrets for the demo clients of [`FakeImsConfig::with_demo_clients`] (and the
/// `fake_ims` example). Fake values, safe to print.
pub mod demo {
    /// Server-to-Server client id.
    pub const S2S_CLIENT_ID: &str = "demo-s2s-client";
    /// Server-to-Server first secret.
    pub const S2S_SECRET: &str = "demo-s2s-secret-1";
    /// Server-to-Server second secret (rotation).
    pub const S2S_SECRET_2: &str = "demo-s2s-secret-2";
    /// Server-to-Server allowed scopes.
    pub const S2S_SCOPES: &str = "openid,AdobeID,frame.s2s.all,offline_access,creative_sdk";
    /// Web App client id.
    pub const WEB_CLIENT_ID: &str = "demo-web-client";
    /// Web App secret.
    pub const WEB_SECRET: &str = "demo-web-secret";
    /// Web App redirect pattern: anything starting with `https://localhost` (any port, any
    /// path; IMS wants HTTPS even on localhost).
    pub const WEB_REDIRECT: &str = "https://localhost*";
    /// Scopes allowed to the user-flow demo clients.
    pub const USER_SCOPES: &str =
        "openid,AdobeID,profile,email,offline_access,additional_info.roles";
    /// Single Page App client id.
    pub const SPA_CLIENT_ID: &str = "demo-spa-client";
    /// Single Page App redirect pattern.
    pub const SPA_REDIRECT: &str = "https://localhost*";
    /// Native App client id.
    pub const NATIVE_CLIENT_ID: &str = "demo-native-client";
    /// Native App redirect: a custom scheme, as Adobe assigns.
    pub const NATIVE_REDIRECT: &str = "adobe+0a1b2c3d4e5f://callback";
}

/// Default access token lifetime: 86 399 s, what IMS reports in `expires_in`.
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(86_399);
/// Default refresh token lifetime: 14 days.
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 24 * 3600);
/// Default authorization code lifetime: 10 minutes.
pub const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(600);

/// Configuration of a [`FakeIms`](super::FakeIms): a builder.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_core::ManualClock;
/// use frameio_auth_testkit::ims::{FakeClient, FakeImsConfig};
///
/// let clock = ManualClock::default();
/// let config = FakeImsConfig::new()
///     .client(FakeClient::server_to_server("id", ["secret"], "openid,AdobeID"))
///     .access_token_lifetime(Duration::from_secs(3600))
///     .clock(clock.clone());
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct FakeImsConfig {
    pub(crate) clients: Vec<FakeClient>,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) refresh_token_lifetime: Duration,
    pub(crate) code_lifetime: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) user: FakeUser,
    /// Users besides [`user`](Self::user), signed in by `login_hint`.
    pub(crate) other_users: Vec<FakeUser>,
    pub(crate) authorize_decision: AuthorizeDecision,
    pub(crate) refresh_token_reuse_detection: bool,
}

impl Default for FakeImsConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeImsConfig {
    /// No clients, default lifetimes, the system clock, the default user, auto-approve,
    /// refresh-token reuse detection on.
    pub fn new() -> Self {
        Self {
            clients: Vec::new(),
            access_token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            refresh_token_lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
            code_lifetime: DEFAULT_CODE_LIFETIME,
            clock: Arc::new(SystemClock),
            user: FakeUser::default(),
            other_users: Vec::new(),
            authorize_decision: AuthorizeDecision::Approve,
            refresh_token_reuse_detection: true,
        }
    }

    /// [`new`](Self::new) plus one client of each kind, with the ids and secrets of [`demo`].
    pub fn with_demo_clients() -> Self {
        Self::new()
            .client(FakeClient::server_to_server(
                demo::S2S_CLIENT_ID,
                [demo::S2S_SECRET, demo::S2S_SECRET_2],
                demo::S2S_SCOPES,
            ))
            .client(FakeClient::web_app(
                demo::WEB_CLIENT_ID,
                demo::WEB_SECRET,
                demo::WEB_REDIRECT,
                demo::USER_SCOPES,
            ))
            .client(FakeClient::single_page_app(
                demo::SPA_CLIENT_ID,
                demo::SPA_REDIRECT,
                demo::USER_SCOPES,
            ))
            .client(FakeClient::native_app(
                demo::NATIVE_CLIENT_ID,
                demo::NATIVE_REDIRECT,
                demo::USER_SCOPES,
            ))
    }

    /// Registers a client. A later client with the same id replaces the earlier one.
    #[must_use]
    pub fn client(mut self, client: FakeClient) -> Self {
        self.clients.retain(|c| c.id != client.id);
        self.clients.push(client);
        self
    }

    /// Lifetime of access tokens (`expires_in` in responses; default 86 399 s).
    #[must_use]
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// Lifetime of refresh tokens (default 14 days).
    #[must_use]
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_token_lifetime = lifetime;
        self
    }

    /// Lifetime of authorization codes (default 10 minutes).
    #[must_use]
    pub fn code_lifetime(mut self, lifetime: Duration) -> Self {
        self.code_lifetime = lifetime;
        self
    }

    /// The clock for `created_at`, expiry checks and `Retry-After` dates (default: the system
    /// clock). Pass a `ManualClock` clone to move the fake's time from a test.
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The user who signs in when an authorization request names no other one (the default
    /// user; every service token's profile answers are this user's too).
    #[must_use]
    pub fn user(mut self, user: FakeUser) -> Self {
        self.user = user;
        self
    }

    /// Registers another user, for tests with several people signing in (a web server's
    /// users). An authorization request signs in the user whose e-mail address (ignoring
    /// case) or user id equals its `login_hint`, as if that person typed their address on the
    /// login page; without a `login_hint`, or with one that names nobody, the default
    /// [`user`](Self::user) signs in. Tokens, user info, profile and ID tokens then carry
    /// that user's id, name and address. A later user with the same id replaces the earlier
    /// one.
    ///
    /// ```
    /// use frameio_auth_testkit::ims::{FakeImsConfig, FakeUser};
    ///
    /// let config = FakeImsConfig::with_demo_clients().add_user(FakeUser::second());
    /// assert_eq!(config.user_for_hint(Some("Grace@Example.com")).name, "Grace Hopper");
    /// assert_eq!(config.user_for_hint(None).name, "Ada Lovelace");
    /// assert_eq!(config.user_for_hint(Some("nobody@example.com")).name, "Ada Lovelace");
    /// ```
    #[must_use]
    pub fn add_user(mut self, user: FakeUser) -> Self {
        self.other_users.retain(|u| u.user_id != user.user_id);
        self.other_users.push(user);
        self
    }

    /// The user an authorization request with `login_hint` signs in (see
    /// [`add_user`](Self::add_user)).
    pub fn user_for_hint(&self, login_hint: Option<&str>) -> &FakeUser {
        login_hint
            .and_then(|hint| {
                self.users()
                    .find(|u| u.user_id == hint || u.email.eq_ignore_ascii_case(hint))
            })
            .unwrap_or(&self.user)
    }

    /// The user with `user_id`, else the default user (a service token's technical account
    /// has no user of its own).
    pub(crate) fn user_by_id(&self, user_id: &str) -> &FakeUser {
        self.users()
            .find(|u| u.user_id == user_id)
            .unwrap_or(&self.user)
    }

    /// Every user: the default one first.
    fn users(&self) -> impl Iterator<Item = &FakeUser> {
        std::iter::once(&self.user).chain(&self.other_users)
    }

    /// The initial authorize decision (can be changed later with
    /// [`FakeIms::set_authorize_decision`](super::FakeIms::set_authorize_decision)).
    #[must_use]
    pub fn authorize_decision(mut self, decision: AuthorizeDecision) -> Self {
        self.authorize_decision = decision;
        self
    }

    /// Whether presenting a spent refresh token revokes its whole grant (default: `true`).
    ///
    /// Refresh tokens rotate: each refresh spends the token it presents and issues a new
    /// one. A spent token that comes back means two parties hold the grant (a leak, or a
    /// client that lost track of its newest token), and the server cannot tell which one is
    /// legitimate. Strict servers therefore revoke the grant (RFC 9700 §4.14.2): the newest
    /// refresh token and every access token of the grant stop working (`invalid_grant` on
    /// refresh; inactive on validate, userinfo, profile and organizations), and the reuse
    /// itself is answered `invalid_grant`. The fake does so unless this is `false`; then a
    /// spent token is refused (`invalid_grant`) and the grant lives on.
    ///
    /// Turn it off only in a test that replays a spent token on purpose and then goes on
    /// with the newest one, and say why.
    /// [`FakeIms::refresh_token_reuses_detected`](super::FakeIms::refresh_token_reuses_detected)
    /// counts the detections.
    ///
    /// ```
    /// use frameio_auth_testkit::ims::FakeImsConfig;
    /// assert!(FakeImsConfig::new().detects_refresh_token_reuse());
    /// let lenient = FakeImsConfig::new().refresh_token_reuse_detection(false);
    /// assert!(!lenient.detects_refresh_token_reuse());
    /// ```
    #[must_use]
    pub fn refresh_token_reuse_detection(mut self, detect: bool) -> Self {
        self.refresh_token_reuse_detection = detect;
        self
    }

    /// Whether a spent refresh token revokes its grant; see
    /// [`refresh_token_reuse_detection`](Self::refresh_token_reuse_detection).
    pub fn detects_refresh_token_reuse(&self) -> bool {
        self.refresh_token_reuse_detection
    }

    /// The registered clients.
    pub fn clients(&self) -> &[FakeClient] {
        &self.clients
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        let exact = RedirectPattern::new("https://localhost/cb");
        assert!(exact.is_exact());
        assert!(exact.matches("https://localhost/cb"));
        assert!(!exact.matches("https://localhost/cb2"));
        assert!(!exact.matches("https://localhost/c"));
        let prefix = RedirectPattern::new("https://localhost/*");
        assert!(prefix.matches("https://localhost/"));
        assert!(prefix.matches("https://localhost/a/b?c=d"));
        assert!(!prefix.matches("https://evil.example/https://localhost/"));
        let port = RedirectPattern::new("http://127.0.0.1:*/callback");
        assert!(port.matches("http://127.0.0.1:1/callback"));
        assert!(port.matches("http://127.0.0.1:1/x/callback"));
        assert!(!port.matches("http://127.0.0.1:1/callbackx"));
        assert!(RedirectPattern::new("*").matches(""));
        assert!(RedirectPattern::new("a**b").matches("axxb"));
        assert!(!RedirectPattern::new("").matches("a"));
    }

    #[test]
    fn secrets_and_scopes() {
        let c = FakeClient::server_to_server("id", ["a", "b"], "openid, AdobeID");
        assert!(c.secret_matches("a"));
        assert!(c.secret_matches("b"));
        assert!(!c.secret_matches("c"));
        assert!(!c.secret_matches(""));
        assert!(c.allows_scope("AdobeID"));
        assert!(!format!("{c:?}").contains("\"a\""));
    }
}
