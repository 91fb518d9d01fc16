//! Runs the `web_app_server` example against `FakeIms` and `FakeFrameioV4`, with two people
//! signing in through simulated browsers. Never the internet.
//!
//! As in production, the server speaks plain HTTP behind a TLS-terminating proxy: IMS accepts
//! only `https` redirect URIs, and the session cookie is `Secure`. The test runs such a proxy
//! on 127.0.0.1 with a certificate made for the test, and each browser (a reqwest client that
//! trusts that certificate, follows no redirect and keeps its own cookies) talks to
//! `https://localhost:<proxy port>`. At the fake IMS each person "types their address" by
//! adding `login_hint` to the authorization URL, which is how `FakeIms` tells users apart.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails
#![allow(clippy::too_many_lines)] // one story of two users reads best whole

#[path = "support/examples.rs"]
mod support;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/web_app_server.rs"]
mod web_app_server;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use frameio_auth_core::{AccessToken, ClientSecret, TokenKey, TokenStore as _};
use frameio_auth_ims::{ImsEnvironment, WebApp, presets};
use frameio_auth_store_file::FileStore;
use frameio_auth_testkit::FakeIms;
use frameio_auth_testkit::ims::{FakeImsConfig, FakeUser, demo, paths};
use frameio_auth_testkit::v2::FakeFrameioV4;
use reqwest::{Method, StatusCode, Url};
use support::{RUN_LIMIT, assert_no_secret, env_vars, output, stored_tokens};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// A TLS-terminating proxy on 127.0.0.1 for `localhost`, forwarding to the server once its
/// address is known.
struct TlsProxy {
    port: u16,
    certificate: Vec<u8>,
    backend: Arc<OnceLock<SocketAddr>>,
}

impl TlsProxy {
    async fn start() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let backend = Arc::new(OnceLock::new());
        let target = Arc::clone(&backend);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (acceptor, target) = (acceptor.clone(), Arc::clone(&target));
                tokio::spawn(async move {
                    let Ok(mut client) = acceptor.accept(client).await else {
                        return;
                    };
                    let server: Option<&SocketAddr> = target.get();
                    let Ok(mut server) = TcpStream::connect(*server.unwrap()).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        Self {
            port,
            certificate: certified.cert.der().to_vec(),
            backend,
        }
    }

    /// The public origin: `https://localhost:<port>`.
    fn origin(&self) -> String {
        format!("https://localhost:{}", self.port)
    }
}

/// One person's browser: trusts the proxy's certificate, follows no redirect, and keeps the
/// cookies the server sets (for the server's origin only). Every answer the server gives it
/// is written down, to look for secrets in.
struct Browser {
    client: reqwest::Client,
    origin: String,
    cookies: HashMap<String, String>,
    transcript: String,
    /// Every `Set-Cookie` the server sent, as sent.
    set_cookies: Vec<String>,
}

/// An answer: status, `Location`, body.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Browser {
    fn new(proxy: &TlsProxy) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tls_certs_merge([reqwest::Certificate::from_der(&proxy.certificate).unwrap()])
            .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], proxy.port)))
            .no_proxy()
            .build()
            .unwrap();
        Self {
            client,
            origin: proxy.origin(),
            cookies: HashMap::new(),
            transcript: String::new(),
            set_cookies: Vec::new(),
        }
    }

    async fn get(&mut self, url: &str) -> Answer {
        self.send(Method::GET, url).await
    }

    async fn send(&mut self, method: Method, url: &str) -> Answer {
        let url = if url.starts_with('/') {
            format!("{}{url}", self.origin)
        } else {
            url.to_owned()
        };
        let ours = url.starts_with(&self.origin);
        let mut request = self.client.request(method, &url);
        if ours && !self.cookies.is_empty() {
            let cookies: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header("cookie", cookies.join("; "));
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let mut head = format!("{status}\n");
        for (name, value) in response.headers() {
            let _ = writeln!(head, "{name}: {}", value.to_str().unwrap_or("?"));
            if ours && name == "set-cookie" {
                self.remember(value.to_str().unwrap());
            }
        }
        let body = response.text().await.unwrap();
        if ours {
            self.transcript.push_str(&head);
            self.transcript.push_str(&body);
        }
        Answer {
            status,
            location,
            body,
        }
    }

    fn remember(&mut self, set_cookie: &str) {
        self.set_cookies.push(set_cookie.to_owned());
        let pair = set_cookie.split(';').next().unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        if set_cookie.contains("Max-Age=0") {
            self.cookies.remove(name);
        } else {
            self.cookies.insert(name.to_owned(), value.to_owned());
        }
    }

    fn session(&self) -> Option<&String> {
        self.cookies.get(web_app_server::SESSION_COOKIE)
    }

    /// Signs in as the person whose address is `email`: `/login`, the IMS login page (where
    /// they type their address), the callback. Returns the authorization code IMS gave.
    async fn sign_in(&mut self, email: &str) -> String {
        let login = self.get("/login").await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
        let started = self.session().cloned().expect("a session cookie");
        let mut authorize = Url::parse(&login.location.unwrap()).unwrap();
        assert_eq!(authorize.path(), paths::AUTHORIZE);
        authorize.query_pairs_mut().append_pair("login_hint", email);
        let ims = self.get(authorize.as_str()).await;
        assert_eq!(ims.status, StatusCode::FOUND, "the fake IMS's answer");
        let callback = ims.location.unwrap();
        assert!(callback.starts_with(&format!("{}/callback?", self.origin)));
        let code = Url::parse(&callback)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        let back = self.get(&callback).await;
        assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
        assert_eq!(back.location.as_deref(), Some("/me"));
        // Signed in under a new session id, never the one that started the login.
        assert_ne!(self.session(), Some(&started));
        code
    }

    /// `/me` as JSON.
    async fn me(&mut self) -> serde_json::Value {
        let me = self.get("/me").await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        serde_json::from_str(&me.body).unwrap()
    }
}

/// The fakes, a token directory and the proxy the server runs behind.
struct Fixture {
    ims: FakeIms,
    v4: FakeFrameioV4,
    home: tempfile::TempDir,
    proxy: TlsProxy,
}

impl Fixture {
    async fn start(config: FakeImsConfig) -> Self {
        let ims = FakeIms::start(config).await.unwrap();
        let v4 = FakeFrameioV4::start(&ims).await.unwrap();
        Self {
            ims,
            v4,
            home: tempfile::tempdir().unwrap(),
            proxy: TlsProxy::start().await,
        }
    }

    /// The redirect URI registered on the credential: the callback behind the proxy.
    fn redirect_uri(&self) -> String {
        format!("{}/callback", self.proxy.origin())
    }

    fn browser(&self) -> Browser {
        Browser::new(&self.proxy)
    }

    /// Runs the example for the credential `client_id` (with `secret`, a Web App; without,
    /// a Single Page App) on a free port, waits until it listens, points the proxy at it,
    /// runs `test` and stops the server. Returns what the server logged.
    async fn with_server(
        &self,
        client_id: &str,
        secret: Option<&str>,
        test: impl AsyncFnOnce(),
    ) -> String {
        let redirect_uri = self.redirect_uri();
        let mut vars = vec![
            ("IMS_CLIENT_ID", client_id),
            ("IMS_REDIRECT_URI", redirect_uri.as_str()),
            ("IMS_BASE_URL", self.ims.base_url()),
            ("FRAMEIO_API_BASE_URL", self.v4.base_url()),
            ("FRAMEIO_AUTH_HOME", self.home.path().to_str().unwrap()),
            ("WEB_BIND_ADDRESS", "127.0.0.1:0"),
        ];
        vars.extend(secret.map(|secret| ("IMS_CLIENT_SECRET", secret)));
        let vars = env_vars(&vars);
        let (log, mut lines, all) = output();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = web_app_server::run(&vars, log, async {
            let _ = stopped.await;
        });
        let drive = async {
            let line = lines.recv().await.expect("the server logged nothing");
            let addr = line
                .strip_prefix("listening on http://")
                .and_then(|rest| rest.split(';').next())
                .expect("the first line names the address");
            self.proxy.backend.set(addr.parse().unwrap()).unwrap();
            test().await;
            stop.send(()).unwrap();
        };
        let (result, ()) = tokio::time::timeout(RUN_LIMIT, async { tokio::join!(server, drive) })
            .await
            .expect("the test took too long");
        result.unwrap();
        drain(&mut lines);
        all.lock().unwrap().clone()
    }

    /// The keys in the token store.
    async fn stored_keys(&self) -> Vec<TokenKey> {
        let mut keys = self.store().keys().await.unwrap();
        keys.sort();
        keys
    }

    fn store(&self) -> FileStore {
        FileStore::new(self.home.path().join("tokens"))
    }
}

fn drain(lines: &mut mpsc::UnboundedReceiver<String>) {
    while lines.try_recv().is_ok() {}
}

#[tokio::test]
async fn two_users_sign_in_each_sees_their_own_identity_and_logins_stay_apart() {
    let fixture =
        Fixture::start(FakeImsConfig::with_demo_clients().add_user(FakeUser::second())).await;
    let Fixture { ims, v4, .. } = &fixture;
    let (ada, grace) = (FakeUser::default(), FakeUser::second());
    let mut alice = fixture.browser();
    let mut bob = fixture.browser();
    let mut codes = Vec::new();
    let mut secrets = Vec::new();

    let log = fixture
        .with_server(demo::WEB_CLIENT_ID, Some(demo::WEB_SECRET), async || {
            // Not signed in yet.
            assert_eq!(alice.get("/me").await.status, StatusCode::UNAUTHORIZED);

            // Two people sign in, one after the other, each in their own browser.
            codes.push(alice.sign_in(&ada.email).await);
            codes.push(bob.sign_in(&grace.email).await);
            assert_eq!(ims.grant_count("authorization_code"), 2);
            // The session cookie: random, HttpOnly, SameSite=Lax, Secure, host-only.
            for cookie in alice.set_cookies.iter().chain(&bob.set_cookies) {
                for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
                    assert!(cookie.contains(attribute), "{attribute}: {cookie}");
                }
                assert!(!cookie.contains("Domain"), "{cookie}");
            }
            assert_ne!(alice.session(), bob.session());
            assert_eq!(alice.session().unwrap().len(), 64);

            // Each one's /me answers with their own identity.
            let me = alice.me().await;
            assert_eq!(me["id"], ada.user_id.as_str());
            assert_eq!(me["email"], ada.email.as_str());
            let me = bob.me().await;
            assert_eq!(me["id"], grace.user_id.as_str());
            assert_eq!(me["email"], "grace@example.com");
            assert_eq!(me["name"], "Grace Hopper");
            assert_eq!(v4.me_requests(), 2);
            // A second /me is answered with the token the manager keeps: no token request.
            alice.me().await;
            assert_eq!(ims.token_requests(), 2);

            // Both logins are in the one store, under distinct keys of the same credential,
            // each named by its user.
            let keys = fixture.stored_keys().await;
            let profiles: Vec<&str> = keys.iter().map(TokenKey::profile).collect();
            let mut expected = vec![ada.user_id.as_str(), grace.user_id.as_str()];
            expected.sort_unstable();
            assert_eq!(profiles, expected);
            assert!(keys.iter().all(|k| k.client_id() == demo::WEB_CLIENT_ID));
            let store = fixture.store();
            for key in &keys {
                let login = store.load(key).await.unwrap().unwrap();
                assert_eq!(login.subject(), Some(key.profile()));
                assert!(login.refresh_token().is_some());
            }
            secrets.extend(stored_tokens(fixture.home.path()).await);

            // Grace's token is revoked at IMS before it expires: her /me gets a 401 from
            // Frame.io, her manager refreshes once, and the retry answers.
            let web = WebApp::builder(
                ImsEnvironment::custom(ims.base_url()).unwrap(),
                demo::WEB_CLIENT_ID,
                ClientSecret::new(demo::WEB_SECRET),
                fixture.redirect_uri(),
            )
            .scopes(presets::frameio_v4_user())
            .build()
            .unwrap();
            let grace_key = keys.iter().find(|k| k.profile() == grace.user_id).unwrap();
            let before = store.load(grace_key).await.unwrap().unwrap();
            web.revoke_access_token(&AccessToken::new(before.access_token().expose_secret()))
                .await
                .unwrap();
            assert_eq!(bob.me().await["id"], grace.user_id.as_str());
            assert_eq!(ims.grant_count("refresh_token"), 1);
            let after = store.load(grace_key).await.unwrap().unwrap();
            assert_ne!(
                after.access_token(),
                before.access_token(),
                "the new login is saved"
            );
            secrets.extend(stored_tokens(fixture.home.path()).await);

            // A callback that does not carry this session's `state` is refused, and saves
            // nothing.
            let mut mallory = fixture.browser();
            assert_eq!(mallory.get("/login").await.status, StatusCode::SEE_OTHER);
            let forged = mallory.get("/callback?code=stolen&state=forged").await;
            assert_eq!(forged.status, StatusCode::BAD_REQUEST, "{}", forged.body);
            assert_eq!(fixture.stored_keys().await.len(), 2);
            // And a callback without any login under way.
            let stray = fixture.browser().get("/callback?code=x&state=y").await;
            assert_eq!(stray.status, StatusCode::BAD_REQUEST);

            // Ada signs out: her login is revoked at IMS and deleted from the store; Grace
            // stays signed in.
            let revokes = ims.requests_to(paths::REVOKE);
            let out = alice.send(Method::POST, "/logout").await;
            assert_eq!(out.status, StatusCode::OK);
            assert!(alice.session().is_none(), "the cookie is cleared");
            assert_eq!(ims.requests_to(paths::REVOKE), revokes + 1);
            let keys = fixture.stored_keys().await;
            assert_eq!(keys.len(), 1);
            assert_eq!(keys[0].profile(), grace.user_id);
            assert_eq!(alice.get("/me").await.status, StatusCode::UNAUTHORIZED);
            assert_eq!(bob.me().await["email"], "grace@example.com");

            secrets.push(demo::WEB_SECRET.to_owned());
            secrets.extend(codes.iter().cloned());
            for browser in [&alice, &bob, &mallory] {
                assert_no_secret(&browser.transcript, &secrets);
            }
        })
        .await;

    // The log names users and keys, never a token, a code or the client secret.
    for expected in [
        format!("signed in: {}", ada.user_id),
        format!("signed in: {}", grace.user_id),
        format!("signed out: {}, complete: true", ada.user_id),
    ] {
        assert!(log.contains(&expected), "{expected}: {log}");
    }
    assert_no_secret(&log, &secrets);
}

#[tokio::test]
async fn without_a_secret_it_serves_a_single_page_app_credential_with_pkce() {
    let fixture = Fixture::start(FakeImsConfig::with_demo_clients()).await;
    let mut browser = fixture.browser();
    let log = fixture
        .with_server(demo::SPA_CLIENT_ID, None, async || {
            let code = browser.sign_in("ada@example.com").await;
            assert_eq!(browser.me().await["email"], "ada@example.com");
            // A public client: the code exchange proves PKCE, and no secret is sent.
            let exchange = fixture.ims.last_request(paths::TOKEN).unwrap();
            assert_eq!(
                exchange.form_value("grant_type"),
                Some("authorization_code")
            );
            assert!(exchange.form_value("code_verifier").is_some());
            assert!(exchange.form_value("client_secret").is_none());
            assert!(exchange.header("authorization").is_none());
            let mut secrets = stored_tokens(fixture.home.path()).await;
            secrets.push(code);
            assert_no_secret(&browser.transcript, &secrets);
        })
        .await;
    assert!(log.contains("signed in: "), "{log}");

    // Configuration errors name the variable, before anything listens.
    let (log, _lines, _all) = output();
    let err = web_app_server::run(&|_| None, log, async {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("IMS_CLIENT_ID"), "{err}");
}
