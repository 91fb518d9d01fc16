//! A throw-away `redis-server` for tests: on a free loopback port, with a temporary directory
//! and no persistence unless asked for, stopped (and its directory removed) when dropped.
//!
//! ```no_run
//! use frameio_auth_testkit::redis_server::{RedisServer, RedisServerConfig};
//!
//! // `None` (after a note on stderr) when redis-server is not installed, unless
//! // FRAMEIO_AUTH_REQUIRE_REDIS=1, which turns that into a panic (CI sets it).
//! let Some(server) = RedisServer::start_or_skip(RedisServerConfig::default()) else {
//!     return;
//! };
//! let url = server.url(); // redis://127.0.0.1:PORT
//! # let _ = url;
//! ```
//!
//! Only loopback addresses are used; nothing here reaches another machine.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that makes a missing `redis-server` a test failure instead of a
/// skip (`.ci/run` sets it to `1`).
pub const REQUIRE_REDIS_ENV: &str = "FRAMEIO_AUTH_REQUIRE_REDIS";

/// How long a starting server may take to answer `PING`: a hang guard, never reached when
/// the server starts.
const STARTUP_LIMIT: Duration = Duration::from_secs(20);

/// How a [`RedisServer`] is started.
#[derive(Clone, Debug, Default)]
pub struct RedisServerConfig {
    appendonly: bool,
    password: Option<String>,
    maxmemory_policy: Option<String>,
    tls: Option<(PathBuf, PathBuf)>,
}

impl RedisServerConfig {
    /// Persistence on: `--appendonly yes --appendfsync always`, so a killed server restarts
    /// with every write it acknowledged. Off by default (`--save "" --appendonly no`).
    #[must_use]
    pub fn appendonly(mut self) -> Self {
        self.appendonly = true;
        self
    }

    /// `--requirepass`: clients must authenticate (as user `default`) with `password`.
    #[must_use]
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Also listens with TLS ([`RedisServer::tls_url`]), with the PEM certificate (chain) and
    /// private key in these files; clients need no certificate of their own.
    #[must_use]
    pub fn tls(mut self, certificate: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls = Some((certificate.into(), key.into()));
        self
    }

    /// `--maxmemory-policy` (Redis's default is `noeviction`).
    #[must_use]
    pub fn maxmemory_policy(mut self, policy: impl Into<String>) -> Self {
        self.maxmemory_policy = Some(policy.into());
        self
    }
}

/// A running `redis-server` of a test. Killed, and its directory removed, when dropped.
#[derive(Debug)]
pub struct RedisServer {
    config: RedisServerConfig,
    port: u16,
    tls_port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// Whether a missing server must fail the test.
pub fn redis_required() -> bool {
    std::env::var(REQUIRE_REDIS_ENV).as_deref() == Ok("1")
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("cannot find a free loopback port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

/// `<prefix>-` and 12 random letters and digits: a namespace (or a name) no other test run
/// uses.
pub fn unique_name(prefix: &str) -> Result<String, String> {
    // The CSRF state generator of core is the one OS-random source the testkit has.
    let random = frameio_auth_core::CsrfState::generate().map_err(|e| e.to_string())?;
    let tail: String = random
        .expose_secret()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    Ok(format!("{prefix}-{tail}"))
}

fn temp_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(unique_name("frameio-auth-redis")?);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

impl RedisServer {
    /// Starts a server, or returns `None` after printing a note when `redis-server` is not
    /// installed.
    ///
    /// # Panics
    ///
    /// When the server is missing and [`REQUIRE_REDIS_ENV`] is `1`, or when it is installed
    /// but does not start.
    #[allow(clippy::print_stderr, clippy::panic)] // a test helper reports and fails this way
    pub fn start_or_skip(config: RedisServerConfig) -> Option<Self> {
        if !Self::installed() {
            assert!(
                !redis_required(),
                "{REQUIRE_REDIS_ENV}=1 but redis-server is not installed \
                 (apt-get install redis-server)"
            );
            eprintln!("note: redis-server is not installed; skipping the Redis tests");
            return None;
        }
        match Self::start(config) {
            Ok(server) => Some(server),
            Err(message) => panic!("{message}"),
        }
    }

    /// Whether `redis-server` can be run.
    pub fn installed() -> bool {
        Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts a server on a free loopback port and waits until it answers `PING`.
    pub fn start(config: RedisServerConfig) -> Result<Self, String> {
        let mut server = Self {
            config,
            port: 0,
            tls_port: 0,
            dir: temp_dir()?,
            child: None,
        };
        // A port found free can be taken before the server binds it: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port()?;
            server.tls_port = free_port()?;
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(message) => last = message,
            }
        }
        Err(last)
    }

    fn spawn(&mut self) -> Result<(), String> {
        let port = self.port.to_string();
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--protected-mode", "no", "--loglevel", "warning"]);
        if self.config.appendonly {
            command.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            command.args(["--appendonly", "no"]);
        }
        if let Some(password) = &self.config.password {
            command.args(["--requirepass", password]);
        }
        if let Some(policy) = &self.config.maxmemory_policy {
            command.args(["--maxmemory-policy", policy]);
        }
        if let Some((certificate, key)) = &self.config.tls {
            command
                .args(["--tls-port", &self.tls_port.to_string()])
                .arg("--tls-cert-file")
                .arg(certificate)
                .arg("--tls-key-file")
                .arg(key)
                .args(["--tls-auth-clients", "no"]);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server: {e}"))?;
        let started = Instant::now();
        loop {
            // A PONG alone may come from another server that holds the port (ours then
            // fails to bind and exits): only ours, still running, counts.
            if self.ping() && matches!(child.try_wait(), Ok(None)) {
                self.child = Some(child);
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "redis-server on port {port} exited at start ({status})"
                ));
            }
            if started.elapsed() > STARTUP_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "redis-server on port {port} did not answer PING within {STARTUP_LIMIT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the server answers `PING` (or asks for authentication, which also proves
    /// it is up).
    fn ping(&self) -> bool {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200))
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        if stream.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut answer = [0u8; 64];
        match stream.read(&mut answer) {
            Ok(n) => answer[..n].starts_with(b"+PONG") || answer[..n].starts_with(b"-NOAUTH"),
            Err(_) => false,
        }
    }

    /// `redis://127.0.0.1:PORT` (without credentials).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `rediss://localhost:TLS_PORT`, when started with [`RedisServerConfig::tls`].
    pub fn tls_url(&self) -> Option<String> {
        self.config
            .tls
            .as_ref()
            .map(|_| format!("rediss://localhost:{}", self.tls_port))
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its working directory (the append-only file lives there).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Kills it at once (`SIGKILL`): no shutdown, no last save.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether it is running (not killed).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts it again on the same port and directory, after [`kill`](Self::kill) (killing
    /// it first if it still runs). With [`RedisServerConfig::appendonly`] it comes back with
    /// its data; without, empty.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        let started = Instant::now();
        loop {
            match self.spawn() {
                Ok(()) => return Ok(()),
                // The old socket may linger a moment.
                Err(message) if started.elapsed() > STARTUP_LIMIT => return Err(message),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
