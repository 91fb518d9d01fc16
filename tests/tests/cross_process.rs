//! One login, several OS processes, one shared store, one rotating IMS: `TokenManager`
//! across processes, end to end, over the file store (4 processes x 50 forced refreshes) and
//! over the Redis store (8 processes x 25, then 2 namespaces side by side with 8 each).
//!
//! The parent test starts a `FakeIms` on 127.0.0.1 port 0 (refresh tokens rotate, a spent one
//! presented again revokes the whole grant, tokens live minutes instead of a day), logs in
//! once with the authorization code flow of the demo Web App, and imports the login into a
//! file store in a temporary directory. Then it starts four children, which wait at a
//! barrier (a line on stdin) so that they run at the same time. Each child builds its own
//! Web App credential and `TokenManager` over the shared store, calls `force_refresh()` 50
//! times, then `access_token()`, checks that token on the fake's userinfo endpoint, and
//! reports what happened as one line on stdout. The parent parses the reports and checks the
//! fake's counters: one refresh grant per successful call, not one more, and no refresh token
//! ever presented twice.
//!
//! The children are this test binary itself, re-executed with `CHILD_STORE_ENV` set: the
//! `child_entry` test then does the child's work instead of nothing (the technique of
//! `frameio-auth-store-file`'s `tests/processes.rs`).
//!
//! The Redis tests start their own redis-server on a free loopback port (no persistence);
//! without one installed they print a note and pass, unless `FRAMEIO_AUTH_REQUIRE_REDIS=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use frameio_auth::{TokenError, TokenManager};
use frameio_auth_core::{ClientSecret, ErrorKind, Scopes, TokenSet, TokenSource, TokenStore};
use frameio_auth_ims::{ImsEnvironment, WebApp};
use frameio_auth_oauth::{RetryPolicy, TransportSettings};
use frameio_auth_store_file::FileStore;
use frameio_auth_store_redis::{EncryptionKey, RedisStore};
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeImsConfig, FakeUser, Fault, Schedule, demo, paths};
use frameio_auth_testkit::redis_server::{RedisServer, RedisServerConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

const PROCESSES: usize = 4;
/// `force_refresh()` calls per process.
const CALLS: u32 = 50;
/// Over Redis: more processes, fewer calls each, the same 200 refreshes.
const REDIS_PROCESSES: usize = 8;
const REDIS_CALLS: u32 = 25;

/// Set in a child: the shared store (`file:<dir>` or `redis:<namespace>@<url>`).
const CHILD_STORE_ENV: &str = "FRAMEIO_AUTH_TESTS_XPROC_STORE";
/// Set in a child: its number of `force_refresh()` calls.
const CHILD_CALLS_ENV: &str = "FRAMEIO_AUTH_TESTS_XPROC_CALLS";
/// Set in a child: the fake IMS's base URL.
const CHILD_IMS_ENV: &str = "FRAMEIO_AUTH_TESTS_XPROC_IMS";
/// Replays a run of the faulty test: its fault seed (printed by every run).
const SEED_ENV: &str = "FRAMEIO_AUTH_TESTS_XPROC_SEED";
/// What a child prints when it is ready to start (the test harness prints its own text
/// first, on the same line).
const READY: &str = "xproc-ready";
/// What starts a child's report line.
const REPORT: &str = "xproc-report";

/// Short lifetimes (IMS's are a day and 14 days), yet longer than the run: a child's last
/// token is at most `CHILD_DEADLINE` old when it asks for one, and the refresh-ahead window
/// of a 3-minute token opens after 162 s at the earliest. So no refresh happens but the
/// forced ones, and the grant count is exact.
const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3 * 60);
const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Hang guards, never reached by a healthy run.
const CHILD_DEADLINE: Duration = Duration::from_secs(120);
const PARENT_DEADLINE: Duration = Duration::from_secs(150);
/// The demo Web App's redirect (its pattern is `https://localhost*`).
const REDIRECT_URI: &str = "https://localhost/callback";

// ---------------------------------------------------------------------------------------------
// Shared by the parent and the children
// ---------------------------------------------------------------------------------------------

/// Fast retries: two attempts, millisecond backoffs, and a server's `Retry-After` shortened to
/// a few milliseconds. Never a proxy: everything is on loopback.
fn transport() -> TransportSettings {
    TransportSettings::new()
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(4))
                .with_max_retry_after(Duration::from_millis(4)),
        )
        .no_proxy()
}

/// The demo Web App of the fake at `base_url`.
fn web_app(base_url: &str) -> WebApp {
    WebApp::builder(
        ImsEnvironment::custom(base_url).unwrap(),
        demo::WEB_CLIENT_ID,
        ClientSecret::new(demo::WEB_SECRET),
        REDIRECT_URI,
    )
    .scopes(Scopes::parse(demo::USER_SCOPES).unwrap())
    .transport(transport())
    .build()
    .unwrap()
}

/// The store every process shares.
#[derive(Clone, Debug)]
enum Shared {
    File(PathBuf),
    Redis { url: String, namespace: String },
}

impl Shared {
    fn to_env(&self) -> String {
        match self {
            Self::File(dir) => format!("file:{}", dir.display()),
            Self::Redis { url, namespace } => format!("redis:{namespace}@{url}"),
        }
    }

    fn from_env(value: &str) -> Self {
        if let Some(dir) = value.strip_prefix("file:") {
            return Self::File(PathBuf::from(dir));
        }
        let (namespace, url) = value
            .strip_prefix("redis:")
            .and_then(|rest| rest.split_once('@'))
            .unwrap();
        Self::Redis {
            url: url.to_owned(),
            namespace: namespace.to_owned(),
        }
    }

    fn open(&self) -> Arc<dyn TokenStore> {
        match self {
            Self::File(dir) => Arc::new(
                FileStore::builder()
                    .dir(dir)
                    .lock_timeout(CHILD_DEADLINE)
                    .build()
                    .unwrap(),
            ),
            Self::Redis { url, namespace } => Arc::new(
                RedisStore::builder()
                    .url(url)
                    .namespace(namespace)
                    .key(EncryptionKey::from_bytes("xproc", [0x42; 32]).unwrap())
                    .lock_timeout(CHILD_DEADLINE)
                    .build()
                    .unwrap(),
            ),
        }
    }
}

/// A manager of the demo Web App's login in the shared store, with short backoffs.
fn manager(base_url: &str, shared: &Shared) -> TokenManager {
    TokenManager::builder(web_app(base_url))
        .shared_store(shared.open())
        .refresh_backoff(Duration::from_millis(1), Duration::from_millis(10))
        .max_retry_after(Duration::from_millis(10))
        .build()
}

/// What a child saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Report {
    /// `force_refresh()` calls that returned a token.
    refreshed: u32,
    /// ... that returned a transient error.
    transient: u32,
    /// ... that returned a needs-login error (`invalid_grant` among them).
    needs_login: u32,
    /// ... that returned any other error.
    other: u32,
    /// Whether `access_token()` afterwards gave a token the fake's userinfo accepts.
    token_works: bool,
}

impl Report {
    fn count(&mut self, error: &TokenError) {
        match error.kind() {
            ErrorKind::Transient => self.transient += 1,
            kind => {
                if kind == ErrorKind::NeedsLogin {
                    self.needs_login += 1;
                } else {
                    self.other += 1;
                }
                // Error messages carry no secret.
                eprintln!("child {}: force_refresh: {error}", std::process::id());
            }
        }
    }

    fn line(&self) -> String {
        format!(
            "{REPORT} refreshed={} transient={} needs_login={} other={} token_works={}",
            self.refreshed, self.transient, self.needs_login, self.other, self.token_works
        )
    }

    /// The report in a child's stdout, if it printed one.
    fn parse(stdout: &str) -> Option<Self> {
        let (_, fields) = stdout.split_once(REPORT)?;
        let fields = fields.lines().next()?;
        let mut report = Self::default();
        for field in fields.split_whitespace() {
            let (name, value) = field.split_once('=')?;
            match name {
                "refreshed" => report.refreshed = value.parse().ok()?,
                "transient" => report.transient = value.parse().ok()?,
                "needs_login" => report.needs_login = value.parse().ok()?,
                "other" => report.other = value.parse().ok()?,
                "token_works" => report.token_works = value.parse().ok()?,
                _ => return None,
            }
        }
        Some(report)
    }
}

// ---------------------------------------------------------------------------------------------
// The child
// ---------------------------------------------------------------------------------------------

/// The child side. A no-op test unless started by `spawn_child`.
#[test]
fn child_entry() {
    let Ok(shared) = std::env::var(CHILD_STORE_ENV) else {
        return;
    };
    let base_url = std::env::var(CHILD_IMS_ENV).unwrap();
    let shared = Shared::from_env(&shared);
    let calls: u32 = std::env::var(CHILD_CALLS_ENV).unwrap().parse().unwrap();

    // The barrier: say ready, wait for the parent's go (or its end: stdin closes).
    println!("{READY}");
    let mut go = String::new();
    std::io::stdin().read_line(&mut go).unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = runtime
        .block_on(async {
            tokio::time::timeout(CHILD_DEADLINE, child(&base_url, &shared, calls)).await
        })
        .expect("hang guard: the child did not finish in time");
    println!("{}", report.line());
    std::process::exit(0);
}

async fn child(base_url: &str, shared: &Shared, calls: u32) -> Report {
    let manager = manager(base_url, shared);
    let mut report = Report::default();
    for _ in 0..calls {
        match manager.force_refresh().await {
            Ok(_) => report.refreshed += 1,
            Err(error) => report.count(&error),
        }
    }
    match manager.access_token().await {
        Ok(token) => match web_app(base_url).userinfo(token.access_token()).await {
            Ok(info) => report.token_works = info.sub == FakeUser::default().user_id,
            Err(error) => eprintln!("child {}: userinfo: {error}", std::process::id()),
        },
        Err(error) => eprintln!("child {}: access_token: {error}", std::process::id()),
    }
    report
}

// ---------------------------------------------------------------------------------------------
// The parent
// ---------------------------------------------------------------------------------------------

/// Plays the browser on the fake (which approves at once): opens `url` without following
/// redirects and returns where IMS sends the browser back to.
async fn browser(url: &reqwest::Url) -> reqwest::Url {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let response = browser.get(url.clone()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302, "IMS should redirect back");
    let location = response.headers()["location"].to_str().unwrap();
    reqwest::Url::parse(location).unwrap()
}

/// The fake IMS: refresh tokens rotate, and a spent one presented again revokes the grant.
async fn fake_ims() -> FakeIms {
    let ims = FakeIms::start(
        FakeImsConfig::with_demo_clients()
            .access_token_lifetime(ACCESS_TOKEN_LIFETIME)
            .refresh_token_lifetime(REFRESH_TOKEN_LIFETIME),
    )
    .await
    .unwrap();
    assert!(ims.config().detects_refresh_token_reuse());
    ims
}

/// A new login (authorization code flow) imported into `shared`.
async fn log_in(ims: &FakeIms, shared: &Shared) {
    let web = web_app(ims.base_url());
    let (url, pending) = web.begin().unwrap();
    let login = web.complete(&pending, &browser(&url).await).await.unwrap();
    assert!(
        login.refresh_token().is_some(),
        "offline_access was granted"
    );
    manager(ims.base_url(), shared).import(login).await.unwrap();
}

/// The fake IMS, and one login saved in a new file store: (fake, temporary directory, the
/// store).
async fn fake_ims_with_one_login() -> (FakeIms, tempfile::TempDir, Shared) {
    let ims = fake_ims().await;
    let temp = tempfile::tempdir().unwrap();
    let shared = Shared::File(temp.path().join("tokens"));
    log_in(&ims, &shared).await;
    assert_eq!(ims.grant_count("authorization_code"), 1);
    assert_eq!(ims.grant_count("refresh_token"), 0);
    (ims, temp, shared)
}

struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

fn spawn_child(ims: &FakeIms, shared: &Shared, calls: u32) -> Running {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_STORE_ENV, shared.to_env())
        .env(CHILD_CALLS_ENV, calls.to_string())
        .env(CHILD_IMS_ENV, ims.base_url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        // A test that fails (or hits its hang guard) leaves no child behind.
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    Running { child, stdout }
}

/// Starts `processes` children on each of the `shared` stores, lets them all go at once,
/// and returns their reports (in order: the first store's children first), after checking
/// that every one exited with success.
async fn run_children(
    ims: &FakeIms,
    shared: &[&Shared],
    processes: usize,
    calls: u32,
) -> Vec<Report> {
    let mut children: Vec<Running> = shared
        .iter()
        .flat_map(|shared| (0..processes).map(|_| spawn_child(ims, shared, calls)))
        .collect();
    let all = async {
        for (i, running) in children.iter_mut().enumerate() {
            let mut line = String::new();
            while !line.trim_end().ends_with(READY) {
                line.clear();
                let read = running.stdout.read_line(&mut line).await.unwrap();
                assert_ne!(read, 0, "child {i} ended before it was ready");
            }
        }
        for running in &mut children {
            let mut stdin = running.child.stdin.take().unwrap();
            stdin.write_all(b"go\n").await.unwrap();
        }
        let mut reports = Vec::new();
        for (i, running) in children.iter_mut().enumerate() {
            let mut rest = String::new();
            running.stdout.read_to_string(&mut rest).await.unwrap();
            let status = running.child.wait().await.unwrap();
            assert!(status.success(), "child {i} failed ({status}): {rest}");
            let report = Report::parse(&rest)
                .unwrap_or_else(|| panic!("child {i} reported nothing: {rest}"));
            reports.push(report);
        }
        reports
    };
    tokio::time::timeout(PARENT_DEADLINE, all)
        .await
        .expect("hang guard: the children did not finish in time")
}

/// What is stored at the end is the live login: its refresh token is the one the fake would
/// accept next, and a new manager adopts it without a token request.
async fn assert_the_stored_login_is_live(ims: &FakeIms, shared: &Shared) -> TokenSet {
    let key = web_app(ims.base_url()).key();
    let stored = shared.open().load(&key).await.unwrap().unwrap();
    let refresh = stored.refresh_token().unwrap().expose_secret();
    assert!(
        ims.is_refresh_token_active(refresh),
        "the stored refresh token is spent or revoked: a rotation was lost"
    );
    let requests = ims.token_requests();
    let manager = manager(ims.base_url(), shared);
    let token = manager.access_token().await.unwrap();
    assert_eq!(manager.export().await.unwrap().as_ref(), Some(&stored));
    assert!(ims.is_access_token_active(token.expose_secret()));
    assert_eq!(ims.token_requests(), requests, "adopted, not refreshed");
    stored
}

fn total(reports: &[Report], field: impl Fn(&Report) -> u32) -> u64 {
    reports.iter().map(|r| u64::from(field(r))).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_force_200_refreshes_of_one_login_and_lose_no_rotation() {
    let (ims, _temp, shared) = fake_ims_with_one_login().await;

    let started = Instant::now();
    let reports = run_children(&ims, &[&shared], PROCESSES, CALLS).await;
    eprintln!(
        "{PROCESSES} processes x {CALLS} forced refreshes: {:?}",
        started.elapsed()
    );

    assert_all_refreshed(&reports, CALLS);
    assert_eq!(ims.refresh_grants_served(), 200);
    assert_eq!(
        ims.grant_count("refresh_token"),
        200,
        "no refresh request was refused"
    );
    assert_eq!(ims.refresh_token_reuses_detected(), 0);
    assert_the_stored_login_is_live(&ims, &shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_force_refreshes_while_30_percent_of_token_requests_fail() {
    let (ims, _temp, shared) = fake_ims_with_one_login().await;
    let seed = std::env::var(SEED_ENV).map_or_else(
        |_| {
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            u64::from(nanos.subsec_nanos()) ^ nanos.as_secs()
        },
        |seed| seed.parse().unwrap(),
    );
    eprintln!("fault seed {seed} (replay with {SEED_ENV}={seed})");
    // A 500, a 429 with `Retry-After: 1`, a reset connection, in turn, on 30 % of the token
    // requests. A faulted request changes nothing at the fake: the refresh token stays live.
    ims.inject_on(
        paths::TOKEN,
        Fault::Cycle(vec![
            Fault::Status500,
            Fault::RetryAfter { secs: 1 },
            Fault::ResetConnection,
        ]),
        Schedule::Random { percent: 30, seed },
    );

    let started = Instant::now();
    let reports = run_children(&ims, &[&shared], PROCESSES, CALLS).await;
    eprintln!(
        "{PROCESSES} processes x {CALLS} forced refreshes, 30 % faults: {:?}, {} faults, reports {reports:?}",
        started.elapsed(),
        ims.faults_fired()
    );

    for (i, report) in reports.iter().enumerate() {
        assert_eq!(
            (report.needs_login, report.other),
            (0, 0),
            "child {i}: every call gives a token or a transient error: {report:?}"
        );
        assert_eq!(
            report.refreshed + report.transient,
            CALLS,
            "child {i}: {report:?}"
        );
        assert!(report.token_works, "child {i}: {report:?}");
    }
    let refreshed = total(&reports, |r| r.refreshed);
    assert_eq!(ims.refresh_grants_served(), refreshed);
    assert_eq!(ims.refresh_token_reuses_detected(), 0);
    assert_eq!(
        ims.grant_count("refresh_token"),
        refreshed + ims.faults_fired(),
        "every refresh request was served or faulted: none was refused"
    );
    // The test saw what it is about. A call fails only when both its attempts are faulted
    // (9 %), so all 200 calls succeeding has a probability of about 1e-8.
    assert!(ims.faults_fired() >= 3, "each kind of fault fired");
    assert!(
        total(&reports, |r| r.transient) > 0,
        "some calls failed for good"
    );

    ims.clear_faults();
    assert_the_stored_login_is_live(&ims, &shared).await;
}

/// Every child of a clean run refreshed each time and ends with a working token.
fn assert_all_refreshed(reports: &[Report], calls: u32) {
    for (i, report) in reports.iter().enumerate() {
        assert_eq!(
            *report,
            Report {
                refreshed: calls,
                transient: 0,
                needs_login: 0,
                other: 0,
                token_works: true,
            },
            "child {i}"
        );
    }
}

fn redis_server() -> Option<RedisServer> {
    RedisServer::start_or_skip(RedisServerConfig::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_force_200_refreshes_of_one_login_over_redis_and_lose_no_rotation() {
    let Some(server) = redis_server() else {
        return;
    };
    let ims = fake_ims().await;
    let shared = Shared::Redis {
        url: server.url(),
        namespace: "xproc".to_owned(),
    };
    log_in(&ims, &shared).await;

    let started = Instant::now();
    let reports = run_children(&ims, &[&shared], REDIS_PROCESSES, REDIS_CALLS).await;
    eprintln!(
        "{REDIS_PROCESSES} processes x {REDIS_CALLS} forced refreshes over Redis: {:?}",
        started.elapsed()
    );
    assert_all_refreshed(&reports, REDIS_CALLS);
    // Exactly one refresh grant per call, none refused (no invalid_grant), no reuse.
    assert_eq!(ims.refresh_grants_served(), 200);
    assert_eq!(ims.grant_count("refresh_token"), 200);
    assert_eq!(ims.refresh_token_reuses_detected(), 0);
    assert_the_stored_login_is_live(&ims, &shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_redis_namespaces_side_by_side_do_not_interfere() {
    let Some(server) = redis_server() else {
        return;
    };
    let ims = fake_ims().await;
    // Two logins of the same app, under the same key, in two namespaces of one Redis: if
    // the namespaces shared an entry or a lock, the two logins' rotations would collide.
    let (blue, green) = (
        Shared::Redis {
            url: server.url(),
            namespace: "blue".to_owned(),
        },
        Shared::Redis {
            url: server.url(),
            namespace: "green".to_owned(),
        },
    );
    log_in(&ims, &blue).await;
    log_in(&ims, &green).await;
    assert_eq!(ims.grant_count("authorization_code"), 2);

    let reports = run_children(&ims, &[&blue, &green], REDIS_PROCESSES, REDIS_CALLS).await;
    assert_all_refreshed(&reports, REDIS_CALLS);
    assert_eq!(ims.refresh_grants_served(), 400);
    assert_eq!(ims.grant_count("refresh_token"), 400);
    assert_eq!(ims.refresh_token_reuses_detected(), 0);
    let blue_login = assert_the_stored_login_is_live(&ims, &blue).await;
    let green_login = assert_the_stored_login_is_live(&ims, &green).await;
    assert_ne!(
        blue_login.refresh_token(),
        green_login.refresh_token(),
        "each namespace keeps its own login"
    );
}
