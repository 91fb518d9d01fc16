//! End-to-end tests of the built `frameio-auth` binary against the fake servers.
//!
//! Each test has its own config file and token directory in a temporary directory, and runs
//! the binary with a cleared environment (only the variables it sets), so the user's own
//! configuration, proxies and keyring are never touched. A login test plays the browser: it
//! reads the authorization URL the command prints on stderr, opens it on the fake IMS (already
//! signed in, consenting at once) and delivers the redirect to the command's loopback receiver,
//! or pastes it for `login --paste`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a panic is how a test fails

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command as StdCommand, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::Command;
use frameio_auth::model::TokenStore as _;
use frameio_auth::store_file::FileStore;
use frameio_auth_testkit::ims::{FakeClient, FakeImsConfig, demo};
use frameio_auth_testkit::tracing_capture::token_secrets;
use frameio_auth_testkit::v2::FakeFrameioV2Config;
use frameio_auth_testkit::{FakeFrameioV2, FakeFrameioV4, FakeIms};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_frameio-auth");
/// A Native App of the fake IMS that accepts loopback redirects on any port.
const NATIVE_LOOPBACK: &str = "demo-native-loopback";
const DEVELOPER_TOKEN: &str = "fio-u-e2e-developer-token-abcdef0123456789";
/// The longest a command may take before the test fails instead of hanging.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// The fakes, a temporary home, and how to run the binary in it.
struct World {
    ims: FakeIms,
    v2: FakeFrameioV2,
    v4: FakeFrameioV4,
    home: tempfile::TempDir,
}

impl World {
    async fn start() -> Self {
        let ims = FakeIms::start(FakeImsConfig::with_demo_clients().client(
            FakeClient::native_app(
                NATIVE_LOOPBACK,
                "http://127.0.0.1:*/callback",
                demo::USER_SCOPES,
            ),
        ))
        .await
        .unwrap();
        let v4 = FakeFrameioV4::start(&ims).await.unwrap();
        let v2 = FakeFrameioV2::start(FakeFrameioV2Config::with_demo_apps())
            .await
            .unwrap();
        v2.register_developer_token(DEVELOPER_TOKEN, "account.read");
        Self {
            ims,
            v2,
            v4,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn config(&self) -> PathBuf {
        self.home.path().join("config.toml")
    }

    fn tokens(&self) -> PathBuf {
        self.home.path().join("tokens")
    }

    /// The binary with a clean environment: the config file, the secrets' variables, a
    /// private HOME.
    fn std_command(&self, args: &[&str]) -> StdCommand {
        let mut command = StdCommand::new(BIN);
        command
            .args(args)
            .env_clear()
            .env("HOME", self.home.path())
            .env("FRAMEIO_AUTH_CONFIG", self.config())
            .env("E2E_S2S_SECRET", demo::S2S_SECRET)
            .env("E2E_V2_TOKEN", DEVELOPER_TOKEN)
            .env("E2E_WEB_SECRET", demo::WEB_SECRET)
            .env(
                "E2E_V2_SECRET",
                frameio_auth_testkit::v2::demo::CONFIDENTIAL_SECRET,
            );
        command
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut command = Command::from_std(self.std_command(args));
        command.timeout(COMMAND_LIMIT);
        command
    }

    /// Runs the binary without blocking the fakes' runtime.
    async fn run(&self, args: &[&str]) -> Output {
        self.run_without(&[], args).await
    }

    /// [`run`](Self::run) with some of the test's variables unset.
    async fn run_without(&self, unset: &[&str], args: &[&str]) -> Output {
        let mut command = self.cmd(args);
        for var in unset {
            command.env_remove(var);
        }
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    }

    /// Adds the test's profiles with `profiles add` (flags only): one of each kind.
    async fn add_profiles(&self, global: &[&str]) {
        let ims = self.ims.base_url().to_owned();
        let v4 = self.v4.base_url().to_owned();
        let v2 = self.v2.base_url().to_owned();
        let dir = self.tokens().display().to_string();
        let loopback = "http://127.0.0.1/callback";
        let https = "https://localhost/callback";
        let user = demo::USER_SCOPES;
        let v2_app = frameio_auth_testkit::v2::demo::CONFIDENTIAL_CLIENT_ID;
        #[rustfmt::skip]
        let profiles: [&[&str]; 7] = [
            &["s2s", "--preset", "frameio-v4-s2s", "--client-id", demo::S2S_CLIENT_ID,
              "--secret-env", "E2E_S2S_SECRET", "--ims-env", &ims, "--api-base-url", &v4,
              "--default"],
            &["native", "--kind", "ims-native", "--client-id", NATIVE_LOOPBACK, "--scopes", user,
              "--redirect-uri", loopback, "--ims-env", &ims],
            &["pasted", "--kind", "ims-native", "--client-id", demo::NATIVE_CLIENT_ID,
              "--scopes", user, "--redirect-uri", demo::NATIVE_REDIRECT, "--ims-env", &ims],
            &["v2", "--kind", "v2-developer-token", "--secret-env", "E2E_V2_TOKEN",
              "--api-base-url", &v2],
            &["web", "--kind", "ims-web", "--client-id", demo::WEB_CLIENT_ID, "--secret-env",
              "E2E_WEB_SECRET", "--scopes", user, "--redirect-uri", https, "--ims-env", &ims],
            &["spa", "--kind", "ims-spa", "--client-id", demo::SPA_CLIENT_ID, "--scopes", user,
              "--redirect-uri", https, "--ims-env", &ims],
            &["v2-app", "--kind", "v2-oauth", "--client-id", v2_app, "--secret-env",
              "E2E_V2_SECRET", "--scopes", "account.read offline", "--redirect-uri", loopback,
              "--v2-oauth-base-url", &v2, "--api-base-url", &v2],
        ];
        for profile in profiles {
            let mut args = global.to_vec();
            args.extend(["profiles", "add"]);
            args.extend(profile);
            args.extend(["--no-input", "--store-dir", dir.as_str()]);
            let out = self.run(&args).await;
            assert_success(&out, &args.join(" "));
        }
    }

    /// `profiles add` of a Server-to-Server profile: the V4 preset, or `scopes` of its own.
    async fn add_s2s(
        &self,
        name: &str,
        client_id: &str,
        secret_env: &str,
        ims: &str,
        scopes: Option<&str>,
    ) -> Output {
        let dir = self.tokens().display().to_string();
        let mut args = vec!["profiles", "add", name, "--client-id", client_id];
        args.extend([
            "--secret-env",
            secret_env,
            "--ims-env",
            ims,
            "--store-dir",
            &dir,
        ]);
        match scopes {
            Some(scopes) => args.extend(["--kind", "ims-s2s", "--scopes", scopes]),
            None => args.extend(["--preset", "frameio-v4-s2s"]),
        }
        args.push("--no-input");
        self.run(&args).await
    }

    /// Every token value in the token directory (access, refresh and ID tokens).
    async fn stored_secrets(&self) -> Vec<String> {
        let store = FileStore::new(self.tokens());
        let mut secrets = Vec::new();
        for key in store.keys().await.unwrap() {
            if let Some(tokens) = store.load(&key).await.unwrap() {
                token_secrets(&tokens, &mut secrets);
            }
        }
        secrets
    }

    /// `login` for a user profile, playing the browser: follows the URL the command prints to
    /// the fake IMS and delivers the redirect to the command's loopback receiver.
    /// The URL line it printed is kept at the front of the returned stderr; the authorization
    /// code the fake issued comes back too.
    async fn login_with_browser(&self, global: &[&str], profile: &str) -> (Output, String) {
        let mut args = global.to_vec();
        args.extend(["login", "--no-browser", "--profile", profile]);
        let mut child = self
            .std_command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let (url, rest) = printed_url(&mut child).await;
        let location = authorize(&url).await;
        let code = code_of(&location);
        let response = https_browser().get(location).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "the receiver's page");
        let mut out = finish(child, rest).await;
        let mut stderr = url.into_bytes();
        stderr.push(b'\n');
        stderr.extend(out.stderr);
        out.stderr = stderr;
        (out, code)
    }
}

impl World {
    /// `login --paste`, playing the browser and pasting where it lands, which comes back too.
    async fn paste_login(&self, global: &[&str], profile: &str) -> (Output, String) {
        let mut args = global.to_vec();
        args.extend(["login", "--paste", "--no-browser", "--profile", profile]);
        let mut child = self
            .std_command(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (url, rest) = printed_url(&mut child).await;
        let location = authorize(&url).await;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{location}").unwrap();
        drop(stdin);
        (finish(child, rest).await, location)
    }
}

/// A client that shows redirects instead of following them, and never uses a proxy.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// The browser for an HTTPS loopback redirect: the receiver's certificate is made for the
/// login, so (like a user clicking through the warning) it is accepted.
fn https_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap()
}

/// Opens the authorization URL on the fake IMS and returns where it redirects.
async fn authorize(url: &str) -> String {
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302, "the fake IMS's answer");
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The `code` of a redirect URL.
fn code_of(location: &str) -> String {
    let url = reqwest::Url::parse(location).unwrap();
    url.query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, code)| code.into_owned())
        .expect("a code in the redirect")
}

/// Reads the child's stderr until the authorization URL; the rest of stderr keeps coming
/// through the returned channel.
async fn printed_url(child: &mut Child) -> (String, mpsc::Receiver<String>) {
    let stderr = child.stderr.take().unwrap();
    let (lines, rest) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    tokio::task::spawn_blocking(move || {
        loop {
            let line = rest
                .recv_timeout(COMMAND_LIMIT)
                .expect("the command printed no URL");
            if line.starts_with("http") {
                return (line, rest);
            }
        }
    })
    .await
    .unwrap()
}

/// Waits for the child; its stderr is what came after the URL.
async fn finish(child: Child, rest: mpsc::Receiver<String>) -> Output {
    let mut output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr: Vec<String> = rest.try_iter().collect();
    output.stderr = stderr.join("\n").into_bytes();
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[track_caller]
fn assert_exit(out: &Output, code: i32, stderr_has: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    for expected in stderr_has {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_add_by_flags_writes_a_private_file_that_list_and_show_read_back() {
    let world = World::start().await;
    world.add_profiles(&[]).await;

    let list = json(&world.run(&["profiles", "list", "--json"]).await);
    let names: Vec<&str> = list["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["s2s", "native", "pasted", "v2", "web", "spa", "v2-app"]
    );
    assert_eq!(list["profiles"][0]["default"], true);
    assert_eq!(list["profiles"][0]["kind"], "ims-s2s");

    let show = world.run(&["profiles", "show", "s2s"]).await;
    assert_success(&show, "show");
    let shown = text(&show.stdout);
    assert!(shown.contains("secret: env E2E_S2S_SECRET"), "{shown}");
    assert!(!shown.contains(demo::S2S_SECRET), "{shown}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(world.config())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "config.toml is private");
    }

    let removed = world.run(&["profiles", "remove", "pasted"]).await;
    assert_success(&removed, "remove");
    let list = json(&world.run(&["profiles", "list", "--json"]).await);
    assert_eq!(list["profiles"].as_array().unwrap().len(), 6);

    // Without a terminal and without the flag, `add` says what is missing (exit 2).
    let incomplete = world
        .run(&["profiles", "add", "half", "--kind", "ims-s2s"])
        .await;
    assert_exit(&incomplete, 2, &["--client-id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_to_server_login_token_status_refresh_whoami_decode_and_logout() {
    let world = World::start().await;
    world.add_profiles(&[]).await;

    // Before any login: needs login, and the message names the command to run.
    let before = world.run(&["token", "--profile", "native"]).await;
    assert_exit(&before, 3, &["frameio-auth login --profile native"]);
    assert!(before.stdout.is_empty(), "nothing on stdout");

    let login = world.run(&["login"]).await;
    assert_success(&login, "login s2s");
    assert!(text(&login.stdout).contains("logged in to `s2s`"));
    assert_eq!(world.ims.grant_count("client_credentials"), 1);

    // `token`: exactly the stored token and a newline, answered from the token file.
    let token = world.run(&["token"]).await;
    assert_success(&token, "token");
    let stored = world.stored_secrets().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(text(&token.stdout), format!("{}\n", stored[0]));
    assert!(token.stderr.is_empty(), "{}", text(&token.stderr));
    assert_eq!(
        world.ims.grant_count("client_credentials"),
        1,
        "no new request"
    );
    assert!(world.ims.is_access_token_active(&stored[0]));

    let as_json = json(&world.run(&["token", "--json"]).await);
    assert_eq!(as_json["access_token"], stored[0].as_str());
    assert!(as_json["expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(
        as_json["scopes"]
            .as_array()
            .unwrap()
            .contains(&"frame.s2s.all".into())
    );

    let status = world.run(&["status", "--json"]).await;
    assert_success(&status, "status");
    let status = json(&status);
    let s2s = &status["profiles"][0];
    assert_eq!(s2s["name"], "s2s");
    assert_eq!(s2s["kind"], "ims-s2s");
    assert_eq!(s2s["store"], "file");
    assert_eq!(s2s["logged_in"], true);
    assert_eq!(s2s["expired"], false);
    assert_eq!(s2s["has_refresh_token"], false);
    assert_eq!(status["profiles"][1]["logged_in"], false);
    assert!(!status.to_string().contains(&stored[0]));
    // `status` sends no request, so it shows the login even where the secret is not set.
    let without = json(
        &world
            .run_without(&["E2E_S2S_SECRET"], &["status", "--json"])
            .await,
    );
    assert_eq!(without["profiles"][0]["logged_in"], true, "{without}");

    let refresh = world.run(&["refresh"]).await;
    assert_success(&refresh, "refresh");
    assert_eq!(world.ims.grant_count("client_credentials"), 2);
    let renewed = world.stored_secrets().await;
    assert_ne!(renewed, stored, "a new token is stored");

    let whoami = json(&world.run(&["whoami", "--json"]).await);
    assert_eq!(whoami["source"], "v4-me");
    assert!(
        whoami["id"].as_str().unwrap().contains("techacct"),
        "{whoami}"
    );

    let decode = world.run(&["decode", "--json"]).await;
    assert_success(&decode, "decode");
    let decoded = json(&decode);
    assert!(decoded["header"]["alg"].is_string(), "{decoded}");
    assert!(decoded["claims"]["client_id"].is_string(), "{decoded}");
    assert!(
        decoded["times"]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(
        decoded["times"]["expires_in"]
            .as_str()
            .unwrap()
            .contains('h')
    );
    let signature = renewed[0].rsplit('.').next().unwrap();
    assert!(!text(&decode.stdout).contains(signature), "no signature");
    assert!(!text(&decode.stdout).contains(&renewed[0]), "no token");

    let logout = world.run(&["logout"]).await;
    assert_success(&logout, "logout");
    assert!(!world.ims.is_access_token_active(&renewed[0]), "revoked");
    assert!(world.stored_secrets().await.is_empty(), "deleted locally");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_login_through_the_loopback_receiver_then_refresh_rotates_and_logout_revokes() {
    let world = World::start().await;
    world.add_profiles(&[]).await;

    let (login, _) = world.login_with_browser(&[], "native").await;
    assert_success(&login, "login native");
    let said = text(&login.stdout);
    assert!(
        said.contains("logged in to `native` as 4F3A2B1C0D9E8F7A6B5C4D3E@AdobeID"),
        "{said}"
    );
    assert!(said.contains("refresh token: held"), "{said}");
    let first = world.stored_secrets().await;
    assert_eq!(first.len(), 3, "access, refresh and ID token");

    let whoami = json(
        &world
            .run(&["whoami", "--json", "--profile", "native"])
            .await,
    );
    assert_eq!(whoami["source"], "ims-userinfo");
    assert_eq!(whoami["email"], "ada@example.com");

    let refresh = world.run(&["refresh", "--profile", "native"]).await;
    assert_success(&refresh, "refresh");
    let second = world.stored_secrets().await;
    assert_ne!(first[1], second[1], "the refresh token rotated");
    assert!(!world.ims.is_refresh_token_active(&first[1]));

    let status = json(
        &world
            .run(&["status", "--json", "--profile", "native"])
            .await,
    );
    assert_eq!(status["profiles"][0]["has_refresh_token"], true);
    assert_eq!(
        status["profiles"][0]["subject"],
        "4F3A2B1C0D9E8F7A6B5C4D3E@AdobeID"
    );

    let logout = world.run(&["logout", "--all"]).await;
    assert_success(&logout, "logout --all");
    assert!(!world.ims.is_refresh_token_active(&second[1]));
    let after = world.run(&["token", "--profile", "native"]).await;
    assert_exit(&after, 3, &["frameio-auth login --profile native"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_kind_signs_in_web_and_spa_over_https_loopback_v2_oauth_over_http() {
    let world = World::start().await;
    world.add_profiles(&[]).await;
    for (profile, who) in [
        ("web", "4F3A2B1C0D9E8F7A6B5C4D3E@AdobeID"),
        ("spa", "4F3A2B1C0D9E8F7A6B5C4D3E@AdobeID"),
        ("v2-app", ""),
    ] {
        let (login, _) = world.login_with_browser(&[], profile).await;
        assert_success(&login, profile);
        let said = text(&login.stdout);
        assert!(
            said.contains(&format!("logged in to `{profile}`")),
            "{said}"
        );
        assert!(said.contains(who), "{said}");
        assert!(said.contains("refresh token: held"), "{said}");
        let me = world.run(&["whoami", "--profile", profile]).await;
        assert_success(&me, profile);
    }
    assert!(
        world
            .ims
            .requests_to(frameio_auth_testkit::ims::paths::TOKEN)
            >= 2
    );
    assert_eq!(world.v2.grant_count("authorization_code"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_paste_checks_state_and_exchanges_the_code_of_a_custom_scheme_redirect() {
    let world = World::start().await;
    world.add_profiles(&[]).await;

    // The pasted URL of the right login is accepted.
    let (out, location) = world.paste_login(&[], "pasted").await;
    assert!(location.starts_with(demo::NATIVE_REDIRECT), "{location}");
    assert_success(&out, "login --paste");
    assert_eq!(
        world.stored_secrets().await.len(),
        3,
        "access, refresh and ID token"
    );

    // A URL with another login's state is refused, and nothing is exchanged.
    let codes = world.ims.grant_count("authorization_code");
    let mut child = world
        .std_command(&["login", "--paste", "--no-browser", "--profile", "pasted"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, rest) = printed_url(&mut child).await;
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{location}").unwrap(); // the first login's redirect: wrong state
    drop(stdin);
    let out = finish(child, rest).await;
    assert_exit(
        &out,
        1,
        &["state", "paste the URL of the login you just started"],
    );
    assert_eq!(world.ims.grant_count("authorization_code"), codes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_what_to_do_with_documented_exit_codes() {
    let world = World::start().await;

    // No config file at all: configuration (5), and how to add a profile.
    let none = world.run(&["status"]).await;
    assert_exit(&none, 5, &["no config file", "frameio-auth profiles add"]);

    // A bad config file: 5, with the file, line, column and field.
    std::fs::write(
        world.config(),
        "[profiles.work]\nkind = \"ims-s2s\"\nclinet_id = \"x\"\n",
    )
    .unwrap();
    let bad = world.run(&["token", "--profile", "work"]).await;
    assert_exit(
        &bad,
        5,
        &[
            "config.toml:3:1",
            "profiles.work.clinet_id",
            "did you mean `client_id`",
        ],
    );
    let bad_json = world.run(&["token", "--profile", "work", "--json"]).await;
    let error = json(&bad_json);
    assert_eq!(error["error"]["code"], "configuration");
    assert_eq!(error["error"]["exit_code"], 5);

    // An unreachable provider: 4, and to check the network.
    std::fs::remove_file(world.config()).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let add = world
        .add_s2s("down", "x", "E2E_S2S_SECRET", &dead, None)
        .await;
    assert_success(&add, "add");
    let down = world.run(&["token", "--profile", "down"]).await;
    assert_exit(&down, 4, &["check the network"]);

    // A wrong client secret: 5, and where to check it.
    let ims = world.ims.base_url().to_owned();
    let add = world
        .add_s2s("wrong", demo::S2S_CLIENT_ID, "E2E_V2_TOKEN", &ims, None)
        .await;
    assert_success(&add, "add");
    let wrong = world.run(&["login", "--profile", "wrong"]).await;
    assert_exit(&wrong, 5, &["Adobe Developer Console"]);

    // A scope the credential lacks: 5, and to add the API to the credential.
    let not_granted = Some("openid,AdobeID,not_granted_to_this_client");
    let add = world
        .add_s2s(
            "scoped",
            demo::S2S_CLIENT_ID,
            "E2E_S2S_SECRET",
            &ims,
            not_granted,
        )
        .await;
    assert_success(&add, "add");
    let scoped = world.run(&["login", "--profile", "scoped"]).await;
    assert_exit(&scoped, 5, &["invalid_scope", "add the API"]);

    // A usage error: 2.
    let usage = world.run(&["token", "--no-such-flag"]).await;
    assert_exit(&usage, 2, &["--no-such-flag"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_shows_a_secret_even_with_verbose_tracing() {
    let world = World::start().await;
    let mut everything = String::new();
    // Every secret that existed at some point: the configured ones, each authorization code,
    // and the tokens in the store after every command (refreshes replace them).
    let mut secrets: BTreeSet<String> = [
        demo::S2S_SECRET,
        demo::WEB_SECRET,
        DEVELOPER_TOKEN,
        frameio_auth_testkit::v2::demo::CONFIDENTIAL_SECRET,
    ]
    .map(str::to_owned)
    .into();
    let v = "--verbose";

    world.add_profiles(&[v]).await;
    for profile in ["native", "web", "spa", "v2-app"] {
        let (login, code) = world.login_with_browser(&[v], profile).await;
        assert_success(&login, profile);
        everything.push_str(&text(&login.stdout));
        everything.push_str(&text(&login.stderr));
        secrets.insert(code);
        secrets.extend(world.stored_secrets().await);
    }
    let (pasted, location) = world.paste_login(&[v], "pasted").await;
    assert_success(&pasted, "login --paste");
    everything.push_str(&text(&pasted.stdout));
    everything.push_str(&text(&pasted.stderr));
    secrets.insert(code_of(&location));

    #[rustfmt::skip]
    let commands: &[&[&str]] = &[
        &["login"], &["login", "--profile", "v2"], &["status"], &["status", "--json"],
        &["refresh"], &["refresh", "--profile", "native"], &["refresh", "--profile", "web"],
        &["refresh", "--profile", "v2-app"], &["whoami"], &["whoami", "--profile", "native"],
        &["whoami", "--profile", "v2"], &["whoami", "--profile", "v2-app"], &["decode"],
        &["decode", "--profile", "spa", "--json"], &["profiles", "list", "--json"],
        &["profiles", "show", "web"], &["completions", "bash"], &["logout", "--profile", "spa"],
        &["profiles", "remove", "pasted"], &["logout", "--all"], &["demo"],
    ];
    for command in commands {
        secrets.extend(world.stored_secrets().await);
        // `token`, with its stdout (the token) left out: stderr only.
        let token = world.run(&[v, "token", "--profile", "native"]).await;
        everything.push_str(&text(&token.stderr));
        let mut args = vec![v];
        args.extend(*command);
        let out = world.run(&args).await;
        assert_success(&out, &args.join(" "));
        everything.push_str(&text(&out.stdout));
        everything.push_str(&text(&out.stderr));
    }
    assert!(everything.contains("DEBUG"), "tracing was on");
    assert!(secrets.len() > 20, "{} secrets to look for", secrets.len());
    for secret in &secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret ({} bytes) appears in the output",
            secret.len()
        );
    }
}

#[test]
fn the_demo_passes_offline_even_with_proxies_in_the_environment() {
    // Corporate machines set these; loopback must never go through them.
    let out = Command::new(BIN)
        .arg("demo")
        .env_clear()
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .timeout(COMMAND_LIMIT)
        .output()
        .unwrap();
    assert_success(&out, "demo");
    let said = text(&out.stdout);
    assert!(said.contains("9 of 9 steps passed."), "{said}");
    assert!(said.contains("Nothing left this machine"), "{said}");
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .env_clear()
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(text(&out.stdout).contains("frameio-auth"));
        // clap-rs/clap#6421: bash states spelt two ways complete nothing after the first word.
        assert!(
            !text(&out.stdout).contains("frameio__subcmd__auth"),
            "{shell}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_remove_work_without_the_secret_and_say_what_the_provider_was_told() {
    let world = World::start().await;
    world.add_profiles(&[]).await;
    assert_success(&world.run(&["login"]).await, "login s2s");
    assert_success(&world.run(&["login", "--profile", "v2"]).await, "login v2");
    let (login, _) = world.login_with_browser(&[], "native").await;
    assert_success(&login, "login native");
    let s2s_token = text(&world.run(&["token"]).await.stdout).trim().to_owned();

    // `status` of an unknown profile is a configuration error, as everywhere.
    let unknown = world.run(&["status", "--profile", "nope"]).await;
    assert_exit(&unknown, 5, &["no profile `nope`"]);

    // Without the S2S secret: `status` still shows the login and says the secret is missing.
    let status = world
        .run_without(&["E2E_S2S_SECRET"], &["status", "--profile", "s2s"])
        .await;
    assert_success(&status, "status");
    assert!(
        text(&status.stdout).contains("E2E_S2S_SECRET is not set"),
        "{}",
        text(&status.stdout)
    );

    // ... and `logout` deletes it locally, says the provider was not told (exit 5), and prints
    // one JSON document with the error inside.
    let logout = world
        .run_without(
            &["E2E_S2S_SECRET"],
            &["logout", "--profile", "s2s", "--json"],
        )
        .await;
    assert_eq!(logout.status.code(), Some(5), "{}", text(&logout.stderr));
    let result = json(&logout);
    assert_eq!(result["logouts"][0]["local"], "deleted");
    assert_eq!(result["error"]["code"], "configuration");
    assert!(
        world.ims.is_access_token_active(&s2s_token),
        "IMS was not asked"
    );
    let after = world.run(&["status", "--json", "--profile", "s2s"]).await;
    assert_eq!(json(&after)["profiles"][0]["logged_in"], false);

    // A Developer Token's login is found and deleted without its variable too.
    let v2 = world
        .run_without(&["E2E_V2_TOKEN"], &["logout", "--profile", "v2"])
        .await;
    assert_success(&v2, "logout v2 without its variable");
    assert!(
        text(&v2.stdout).contains("cannot revoke (only deleted locally); local: deleted"),
        "{}",
        text(&v2.stdout)
    );

    // `profiles remove` logs out first: the refresh token is revoked at IMS.
    let stored = world.stored_secrets().await;
    assert_eq!(stored.len(), 3, "the Native App login is left");
    let removed = world.run(&["profiles", "remove", "native"]).await;
    assert_success(&removed, "remove");
    assert!(!world.ims.is_refresh_token_active(&stored[1]), "revoked");
    assert!(world.stored_secrets().await.is_empty());
    let list = json(&world.run(&["profiles", "list", "--json"]).await);
    assert!(!list.to_string().contains("\"native\""), "{list}");
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_that_cannot_be_written_fails_and_usage_errors_answer_json() {
    let world = World::start().await;
    world.add_profiles(&[]).await;
    assert_success(&world.run(&["login"]).await, "login");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut command = world.std_command(&["token"]);
    command.stdout(full).stderr(Stdio::piped());
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert_exit(&out, 1, &["cannot write the result to stdout"]);

    let usage = world.run(&["token", "--json", "--no-such-flag"]).await;
    assert_eq!(usage.status.code(), Some(2));
    assert_eq!(json(&usage)["error"]["code"], "usage");
}
