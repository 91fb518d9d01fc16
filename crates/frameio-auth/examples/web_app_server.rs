//! A web server that signs Frame.io users in with the IMS OAuth Web App flow and keeps every
//! user's login in one shared token store.
//!
//! What it shows:
//!
//! - `GET /login`: a new session (a random cookie, `HttpOnly`, `SameSite=Lax`, `Secure`) that
//!   keeps the pending login (`PendingAuthorization`: its `state` and PKCE verifier) on the
//!   server, and a redirect to the IMS authorization URL;
//! - `GET /callback`: `complete` checks the `state` and exchanges the code; the login is
//!   imported into the signed-in user's own `TokenManager`, which saves it in the shared store
//!   under the user's own key (the credential's key with the IMS user id as its profile); the
//!   session gets a new id that names the user;
//! - `GET /me`: Frame.io `GET /v4/me` with the user's token (the manager refreshes it when
//!   needed; a `401` gets one refresh and one retry);
//! - `POST /logout`: `TokenManager::logout` (revokes the login at IMS and deletes it from the
//!   store). A POST, so that another site cannot sign the user out with a link: `SameSite=Lax`
//!   cookies are not sent with cross-site POSTs.
//!
//! Run it with an OAuth Web App credential from the Adobe Developer Console whose redirect URI
//! pattern allows `IMS_REDIRECT_URI`:
//!
//! ```sh
//! IMS_CLIENT_ID=... IMS_CLIENT_SECRET=... IMS_REDIRECT_URI=https://localhost:8443/callback \
//!     cargo run -p frameio-auth --example web_app_server
//! ```
//!
//! HTTPS: IMS accepts only `https` redirect URIs, even for localhost, and the session cookie
//! is `Secure`. The server itself speaks plain HTTP on `WEB_BIND_ADDRESS` (default
//! `127.0.0.1:3000`), for a TLS-terminating reverse proxy (a load balancer, nginx, Caddy...)
//! that serves the origin of `IMS_REDIRECT_URI` and forwards to it, as web apps are usually
//! deployed. Then open `<that origin>/login`, here `https://localhost:8443/login`. The tests
//! put such a proxy, with a certificate made for the test, in front of this server.
//!
//! Optional: `IMS_SCOPES` (default: the Frame.io V4 user scopes, `offline_access` included,
//! so logins can be refreshed), `IMS_ENV` (`prod`, the default, or `stage`), `IMS_BASE_URL`
//! and `FRAMEIO_API_BASE_URL` (another IMS or Frame.io API, such as a fake), and
//! `FRAMEIO_AUTH_HOME` (logins are saved in `$FRAMEIO_AUTH_HOME/tokens`, default the
//! platform's data directory: they survive a restart of the server). Without
//! `IMS_CLIENT_SECRET` the credential is taken to be a Single Page App one (a public client:
//! PKCE, no secret) and the same code runs as the server side of a single page app.
//!
//! Nothing secret leaves the server: the browser only ever holds its session id, and the log
//! names users and stored keys, never tokens. Sessions live in memory (a real app keeps them
//! in its session store); logins live in the token store.
//!
//! The logic is in `run` and `router`, so the crate's tests run this file against a fake IMS
//! and a fake Frame.io V4 API, with two users signing in through simulated browsers.

use std::collections::HashMap;
use std::error::Error;
use std::fmt::{Display, Write as _};
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use axum::{Router, serve};
use frameio_auth::ims::{SinglePageApp, WebApp, presets};
use frameio_auth::model::{AuthError, ClientSecret, ErrorKind, Scopes, TokenKey, TokenStore};
use frameio_auth::oauth::PendingAuthorization;
use frameio_auth::oauth::url::Url;
use frameio_auth::oauth::user_login::UserLogin;
use frameio_auth::store_file::FileStore;
use frameio_auth::v2::{ApiError, DEFAULT_API_BASE_URL, FrameioApi};
use frameio_auth::{TokenError, TokenManager, TokenManagerBuilder};

/// The redirect URI registered on the credential (`https://...`, required).
pub const IMS_REDIRECT_URI: &str = "IMS_REDIRECT_URI";
/// Where the server listens (default `127.0.0.1:3000`; port 0: any free port).
pub const WEB_BIND_ADDRESS: &str = "WEB_BIND_ADDRESS";
/// The Frame.io API base URL (default [`DEFAULT_API_BASE_URL`]).
pub const FRAMEIO_API_BASE_URL: &str = "FRAMEIO_API_BASE_URL";
/// The session cookie. `__Host-`: browsers accept it only `Secure`, for `/`, without `Domain`.
pub const SESSION_COOKIE: &str = "__Host-session";
/// How long a started login may take to come back to `/callback`.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs the server with variables from `vars`, logging to `log`, until `shutdown` completes.
pub async fn run(
    vars: &(dyn Fn(&str) -> Option<String> + Sync),
    log: impl Write + Send + 'static,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let client_id = presets::required_var(&vars, presets::IMS_CLIENT_ID)?;
    let redirect_uri = presets::required_var(&vars, IMS_REDIRECT_URI)?;
    let scopes = match presets::optional_var(&vars, presets::IMS_SCOPES) {
        Some(list) => Scopes::parse(&list)?,
        None => presets::frameio_v4_user(),
    };
    let env = presets::environment_from(&vars, false)?;
    // ANCHOR: credential
    // A Web App is a confidential client: its secret never leaves this server. Without a
    // secret, a Single Page App credential: a public client, PKCE only.
    let login: Arc<dyn UserLogin> = match presets::optional_var(&vars, presets::IMS_CLIENT_SECRET) {
        Some(secret) => Arc::new(
            WebApp::builder(env, client_id, ClientSecret::new(secret), &redirect_uri)
                .scopes(scopes)
                .build()?,
        ),
        None => Arc::new(
            SinglePageApp::builder(env, client_id, &redirect_uri)
                .scopes(scopes)
                .build()?,
        ),
    };
    // ANCHOR_END: credential
    let store = match presets::optional_var(&vars, FileStore::HOME_ENV) {
        Some(home) => FileStore::new(PathBuf::from(home).join("tokens")),
        None => FileStore::open_default()?,
    };
    let api = FrameioApi::builder()
        .base_url(
            presets::optional_var(&vars, FRAMEIO_API_BASE_URL)
                .unwrap_or_else(|| DEFAULT_API_BASE_URL.to_owned()),
        )
        .build()?;
    let bind = presets::optional_var(&vars, WEB_BIND_ADDRESS)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&bind).await?;

    let app = App::new(login, Arc::new(store), api, log);
    let mut sign_in = Url::parse(&redirect_uri)?;
    sign_in.set_path("/login");
    sign_in.set_query(None);
    app.log(format_args!(
        "listening on http://{}; sign in at {sign_in}",
        listener.local_addr()?
    ));
    serve(listener, router(Arc::clone(&app)))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// The routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/me", get(me))
        .route("/logout", post(logout))
        .with_state(app)
}

/// What every request shares: the credential, the store, the sessions and one manager per
/// signed-in user.
pub struct App {
    /// The credential (its `TokenSource` side renews every user's login).
    login: Arc<dyn UserLogin>,
    /// Every user's login, each under its own key.
    store: Arc<dyn TokenStore>,
    api: FrameioApi,
    /// Session id (the cookie) to session.
    sessions: Mutex<HashMap<String, Session>>,
    /// IMS user id to that user's manager.
    managers: Mutex<HashMap<String, TokenManager>>,
    log: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("credential", &self.login.key())
            .field("sessions", &lock(&self.sessions).len())
            .field("signed_in_users", &lock(&self.managers).len())
            .finish_non_exhaustive()
    }
}

/// One browser's session: a login under way, or a signed-in user. No token in here.
#[derive(Default)]
struct Session {
    pending: Option<(PendingAuthorization, Instant)>,
    user_id: Option<String>,
}

impl App {
    /// The shared state, with the credential, store and API client to use.
    pub fn new(
        login: Arc<dyn UserLogin>,
        store: Arc<dyn TokenStore>,
        api: FrameioApi,
        log: impl Write + Send + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            login,
            store,
            api,
            sessions: Mutex::default(),
            managers: Mutex::default(),
            log: Mutex::new(Box::new(log)),
        })
    }

    // ANCHOR: manager
    /// The user's manager: one per user, all over the same credential and store, each with
    /// the user's own key. A manager built anew starts from the login in the store.
    fn manager(&self, user_id: &str) -> Result<TokenManager, AppError> {
        let mut managers = lock(&self.managers);
        if let Some(manager) = managers.get(user_id) {
            return Ok(manager.clone());
        }
        let shared = self.login.key();
        let key = TokenKey::builder(shared.provider(), shared.environment(), shared.client_id())
            .profile(user_id)
            .scopes(shared.scopes().clone())
            .build()
            .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
        let manager = TokenManagerBuilder::shared(self.login.clone())
            .shared_store(Arc::clone(&self.store))
            .key(key)
            .build();
        managers.insert(user_id.to_owned(), manager.clone());
        Ok(manager)
    }
    // ANCHOR_END: manager

    /// The user the request's session is signed in as.
    fn user(&self, headers: &HeaderMap) -> Result<String, AppError> {
        session_id(headers)
            .and_then(|id| lock(&self.sessions).get(id)?.user_id.clone())
            .ok_or_else(|| AppError::new(StatusCode::UNAUTHORIZED, "not signed in"))
    }

    fn log(&self, line: impl Display) {
        // A failed log write must not fail the request.
        let _ = writeln!(lock(&self.log), "{line}");
    }
}

async fn index() -> Html<&'static str> {
    Html(
        r#"<a href="/login">Sign in</a> | <a href="/me">Who am I?</a>
<form method="post" action="/logout"><button>Sign out</button></form>"#,
    )
}

async fn login(State(app): State<Arc<App>>) -> Result<Response, AppError> {
    let (url, pending) = app.login.begin()?;
    let id = new_session_id()?;
    let mut sessions = lock(&app.sessions);
    // Forget logins that were started and never finished.
    sessions.retain(|_, s| {
        s.pending
            .as_ref()
            .is_none_or(|(_, at)| at.elapsed() < LOGIN_TIMEOUT)
    });
    let session = Session {
        pending: Some((pending, Instant::now())),
        user_id: None,
    };
    sessions.insert(id.clone(), session);
    Ok(with_session(Redirect::to(url.as_str()), &id))
}

// ANCHOR: callback
async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let not_started = || {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "no sign-in under way: go to /login",
        )
    };
    let old_id = session_id(&headers).ok_or_else(not_started)?;
    let (pending, started) = lock(&app.sessions)
        .get_mut(old_id)
        .and_then(|s| s.pending.take())
        .ok_or_else(not_started)?;
    if started.elapsed() >= LOGIN_TIMEOUT {
        return Err(not_started());
    }
    // The URL the browser came back to: `complete` checks its `state` (and turns an `error`
    // redirect into a typed error), then exchanges its code.
    let mut callback_url = Url::parse(app.login.redirect_uri())
        .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    callback_url.set_query(query.as_deref());
    let tokens = app.login.complete(&pending, &callback_url).await?;
    let user_id = tokens.subject().map(str::to_owned).ok_or_else(|| {
        AppError::new(
            StatusCode::BAD_GATEWAY,
            "IMS named no user (`sub`) for this login",
        )
    })?;
    let manager = app.manager(&user_id)?;
    manager.import(tokens).await?;
    app.log(format_args!(
        "signed in: {user_id}, login saved as {}",
        manager.key()
    ));

    // A new session id for the signed-in session, never the one that started the login.
    let new_id = new_session_id()?;
    let mut sessions = lock(&app.sessions);
    sessions.remove(old_id);
    let session = Session {
        pending: None,
        user_id: Some(user_id),
    };
    sessions.insert(new_id.clone(), session);
    Ok(with_session(Redirect::to("/me"), &new_id))
}
// ANCHOR_END: callback

async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, AppError> {
    let manager = app.manager(&app.user(&headers)?)?;
    let token = manager.access_token().await?;
    let me = match app.api.v4_me(token.access_token()).await {
        Ok(me) => me,
        // Revoked before it expired: one new token (however many requests saw the 401).
        Err(ApiError::InvalidToken { .. }) => {
            let renewed = manager.refresh_if_current(token.access_token()).await?;
            app.api.v4_me(renewed.access_token()).await?
        }
        Err(other) => return Err(other.into()),
    };
    let body = serde_json::json!({"id": me.id, "name": me.name, "email": me.email});
    Ok(Json(body).into_response())
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, AppError> {
    let session = session_id(&headers).and_then(|id| lock(&app.sessions).remove(id));
    if let Some(user_id) = session.and_then(|s| s.user_id) {
        let manager = app.manager(&user_id)?;
        lock(&app.managers).remove(&user_id);
        // The user's other sessions find no login any more, and are sent to /login.
        let report = manager.logout().await;
        app.log(format_args!(
            "signed out: {user_id}, complete: {}",
            report.is_complete()
        ));
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure");
    Ok(([(header::SET_COOKIE, clear)], "signed out\n").into_response())
}

/// The session id from the request's cookies.
fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .find_map(|cookie| {
            cookie
                .trim()
                .strip_prefix(SESSION_COOKIE)?
                .strip_prefix('=')
        })
}

/// 32 random bytes from the OS, in hex.
fn new_session_id() -> Result<String, AppError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(bytes.iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}"); // writing to a String cannot fail
        hex
    }))
}

/// `response` with the session cookie set to `id`.
fn with_session(response: impl IntoResponse, id: &str) -> Response {
    let cookie = format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Secure");
    ([(header::SET_COOKIE, cookie)], response).into_response()
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An error page: a status and a message. Messages of this workspace's errors carry no
/// secret, so they can be shown.
#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    message: String,
}

impl AppError {
    fn new(status: StatusCode, message: impl Display) -> Self {
        Self {
            status,
            message: message.to_string(),
        }
    }

    /// A status for what the caller can do about an error.
    fn from_kind(kind: ErrorKind, message: impl Display) -> Self {
        let status = match kind {
            // Sign in again: a dead or absent login.
            ErrorKind::NeedsLogin => StatusCode::UNAUTHORIZED,
            // The user or the browser sent something wrong (a foreign `state`, a denial).
            ErrorKind::Rejected | ErrorKind::Protocol => StatusCode::BAD_REQUEST,
            ErrorKind::Transient => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, message)
    }
}

impl From<AuthError> for AppError {
    fn from(error: AuthError) -> Self {
        Self::from_kind(error.kind(), error)
    }
}

impl From<TokenError> for AppError {
    fn from(error: TokenError) -> Self {
        Self::from_kind(error.kind(), error)
    }
}

impl From<ApiError> for AppError {
    fn from(error: ApiError) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let hint = if self.status == StatusCode::UNAUTHORIZED {
            " (sign in at /login)"
        } else {
            ""
        };
        (self.status, format!("{}{hint}\n", self.message)).into_response()
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let shutdown = async {
        // Ctrl-C stops the server; an error here means no signal handling: run until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    match run(&presets::process_env, std::io::stdout(), shutdown).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Display, not Debug: the message is for a person (and carries no secret).
            let _ = writeln!(std::io::stderr(), "error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
