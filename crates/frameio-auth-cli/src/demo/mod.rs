//! `frameio-auth demo`: every flow of the product against fake servers in this process.
//!
//! It starts the testkit's fake Adobe IMS, Frame.io V2 and Frame.io V4 on 127.0.0.1, writes
//! tokens to a temporary directory, and walks through: Server-to-Server into the file store,
//! a second call served from memory (with its cost), a Native App login through the loopback
//! receiver driven by a simulated browser, a refresh that rotates the refresh token, two
//! managers over one store refreshing one login without a conflict, `whoami`, a V2 Developer
//! Token, the V2 OAuth flow, and a logout. It needs no network and no configuration, prints
//! fingerprints instead of tokens, and leaves nothing behind.

mod browser;
mod fakes;

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use frameio_auth::model::Revocation;
use frameio_auth::oauth::LoopbackReceiver;
use frameio_auth::profiles::{ProfileSession, ResolvedProfile};
use frameio_auth::{CachedToken, ProviderLogout};

use crate::exit::{CliError, Exit};
use fakes::World;

/// How many cached calls the cache-cost step times.
const CACHED_CALLS: u32 = 100_000;
/// How long a simulated login may take before the demo gives up.
const LOGIN_DEADLINE: Duration = Duration::from_secs(30);

/// One step of the demo and how it went.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Step {
    /// What the step shows.
    pub name: &'static str,
    /// Whether it did what it should.
    pub ok: bool,
    /// How long it took.
    pub took: Duration,
    /// What happened, in one line (never a secret).
    pub detail: String,
}

/// Every step of a demo run.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Summary {
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// Why the demo could not run at all (a failed step is in the [`Summary`] instead).
#[derive(Debug)]
pub struct DemoError(String);

impl DemoError {
    /// Whether the reader of the output went away (`demo | head`): not worth an error.
    fn is_closed_output(&self) -> bool {
        self.0 == CLOSED_OUTPUT
    }
}

const CLOSED_OUTPUT: &str = "the output was closed";

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DemoError {}

impl From<io::Error> for DemoError {
    fn from(error: io::Error) -> Self {
        Self(format!("the demo could not start: {error}"))
    }
}

/// Runs the demo on a runtime of its own, writing to `out`.
pub fn run_to(out: &mut dyn Write) -> Result<Summary, DemoError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(out))
}

/// Runs the demo, writing to `out`; the summary says how each step went.
pub async fn run(out: &mut dyn Write) -> Result<Summary, DemoError> {
    let world = World::start().await?;
    let mut demo = Demo {
        out,
        world: &world,
        summary: Summary::default(),
    };
    demo.say(&format!(
        "frameio-auth demo: fake Adobe IMS at {}, Frame.io V4 at {}, Frame.io V2 at {}\n\
         tokens go to {} (deleted at the end); tokens are shown as fingerprints only\n",
        world.ims.base_url(),
        world.v4.base_url(),
        world.v2.base_url(),
        world.dir.path().join("tokens").display()
    ))?;
    demo.all_steps().await?;
    let summary = std::mem::take(&mut demo.summary);
    demo.say(&table(&summary))?;
    world.shutdown().await;
    Ok(summary)
}

/// `frameio-auth demo`: the demo on stdout; exit 1 when a step failed.
pub(crate) async fn run_stdout() -> Result<(), CliError> {
    let mut stdout = io::stdout();
    let summary = match run(&mut stdout).await {
        Ok(summary) => summary,
        Err(error) if error.is_closed_output() => return Ok(()),
        Err(error) => return Err(CliError::new(Exit::Other, error.to_string())),
    };
    let failed = summary.steps.iter().filter(|s| !s.ok).count();
    if failed > 0 {
        return Err(
            CliError::new(Exit::Other, format!("{failed} demo step(s) failed"))
                .hint("run `frameio-auth --verbose demo` to see the libraries' tracing"),
        );
    }
    Ok(())
}

struct Demo<'a> {
    out: &'a mut dyn Write,
    world: &'a World,
    summary: Summary,
}

/// A step's outcome before it is timed: its detail line, or why it failed.
type Outcome = Result<String, String>;

impl Demo<'_> {
    fn say(&mut self, text: &str) -> Result<(), DemoError> {
        writeln!(self.out, "{text}").map_err(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                DemoError(CLOSED_OUTPUT.to_owned())
            } else {
                DemoError(format!("cannot write: {e}"))
            }
        })
    }

    async fn step(
        &mut self,
        name: &'static str,
        outcome: impl Future<Output = Outcome>,
    ) -> Result<(), DemoError> {
        let number = self.summary.steps.len() + 1;
        self.say(&format!("[{number}] {name}"))?;
        let started = Instant::now();
        let result = outcome.await;
        let took = started.elapsed();
        let (ok, detail) = match result {
            Ok(detail) => (true, detail),
            Err(why) => (false, why),
        };
        let mark = if ok { "ok" } else { "FAILED" };
        self.say(&format!("    {mark} in {}: {detail}\n", millis(took)))?;
        self.summary.steps.push(Step {
            name,
            ok,
            took,
            detail,
        });
        Ok(())
    }

    fn profile(&self, name: &str) -> Result<ResolvedProfile, String> {
        self.world.profile(name).map_err(|e| e.to_string())
    }

    async fn all_steps(&mut self) -> Result<(), DemoError> {
        let world = self.world;
        let s2s = self
            .profile("s2s")
            .and_then(|p| p.session().map_err(|e| e.to_string()));
        let s2s = match s2s {
            Ok(session) => session,
            Err(why) => return Err(DemoError(format!("the demo's S2S profile: {why}"))),
        };

        self.step("Server-to-Server token into a file store", async {
            let token = s2s
                .manager()
                .access_token()
                .await
                .map_err(|e| e.to_string())?;
            let path = world.dir.path().join("tokens");
            Ok(format!(
                "client_credentials grant #{} -> access token {}, {}; saved under {}",
                world.ims.grant_count("client_credentials"),
                token.access_token().fingerprint(),
                expires(&token),
                path.display()
            ))
        })
        .await?;

        self.step("Second call, served from the cache", async {
            let requests = world.ims.token_requests();
            let started = Instant::now();
            for _ in 0..CACHED_CALLS {
                s2s.manager()
                    .access_token()
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let per_call = started.elapsed() / CACHED_CALLS;
            let extra = world.ims.token_requests() - requests;
            if extra != 0 {
                return Err(format!("{extra} token requests for cached calls"));
            }
            Ok(format!(
                "{CACHED_CALLS} calls, no request to IMS, {} ns per call",
                per_call.as_nanos()
            ))
        })
        .await?;

        // A failed login skips only the steps that need it.
        let native = self.native_login().await?;
        match &native {
            Some(native) => {
                self.rotation_and_two_managers(native).await?;
                self.whoami_step(native, &s2s).await?;
            }
            None => {
                self.skip(&[
                    "Refresh with rotation",
                    "Two managers over one store refresh one login",
                    "whoami (IMS user info and Frame.io /v4/me)",
                ])
                .await?;
            }
        }
        self.v2_steps().await?;
        match &native {
            Some(native) => self.logout_step(native).await,
            None => self.skip(&["Logout: revoke at IMS, delete locally"]).await,
        }
    }

    async fn whoami_step(
        &mut self,
        native: &ProfileSession,
        s2s: &ProfileSession,
    ) -> Result<(), DemoError> {
        self.step("whoami (IMS user info and Frame.io /v4/me)", async {
            let user = native.whoami().await.map_err(|e| e.to_string())?;
            let account = s2s.whoami().await.map_err(|e| e.to_string())?;
            Ok(format!(
                "user {} <{}> from {}; technical account {} from {}",
                user.id,
                user.email.unwrap_or_default(),
                user.source,
                account.id,
                account.source
            ))
        })
        .await?;
        Ok(())
    }

    async fn logout_step(&mut self, native: &ProfileSession) -> Result<(), DemoError> {
        let world = self.world;
        self.step("Logout: revoke at IMS, delete locally", async {
            let before = native.manager().export().await.map_err(|e| e.to_string())?;
            let report = native.manager().logout().await;
            let provider = match &report.provider {
                ProviderLogout::Done(Revocation::Revoked) => "revoked".to_owned(),
                ProviderLogout::Done(_) => "cannot revoke".to_owned(),
                ProviderLogout::Failed(error) => return Err(error.to_string()),
                ProviderLogout::NothingStored => return Err("nothing was stored".to_owned()),
                _ => "unknown".to_owned(),
            };
            report.local.map_err(|e| e.to_string())?;
            let still_active = before
                .as_ref()
                .and_then(|t| t.refresh_token())
                .is_some_and(|rt| world.ims.is_refresh_token_active(rt.expose_secret()));
            let stored = native.manager().export().await.map_err(|e| e.to_string())?;
            if still_active || stored.is_some() {
                return Err("the login survived the logout".to_owned());
            }
            Ok(format!(
                "provider: {provider}; refresh token inactive at IMS; nothing stored"
            ))
        })
        .await?;
        Ok(())
    }

    /// The Native App login through the loopback receiver; `None` when it failed.
    async fn native_login(&mut self) -> Result<Option<ProfileSession>, DemoError> {
        let native = self.profile("native");
        let mut session = None;
        self.step(
            "Native App login: browser -> loopback receiver (PKCE)",
            async {
                let (signed_in, token) = login(native?).await?;
                let detail = format!(
                    "signed in as {} -> access token {}, refresh token held: {}",
                    token.subject().unwrap_or("(unknown)"),
                    token.access_token().fingerprint(),
                    token.has_refresh_token()
                );
                session = Some(signed_in);
                Ok(detail)
            },
        )
        .await?;
        Ok(session)
    }

    async fn rotation_and_two_managers(
        &mut self,
        native: &ProfileSession,
    ) -> Result<(), DemoError> {
        let world = self.world;
        self.step("Refresh with rotation", async {
            refresh_with_rotation(native).await
        })
        .await?;
        self.step("Two managers over one store refresh one login", async {
            two_managers(world, native).await
        })
        .await
    }

    async fn v2_steps(&mut self) -> Result<(), DemoError> {
        let v2_token = self.profile("v2-token");
        self.step("V2 Developer Token, checked with GET /v2/me", async {
            let session = v2_token?.session().map_err(|e| e.to_string())?;
            let token = session
                .manager()
                .access_token()
                .await
                .map_err(|e| e.to_string())?;
            let me = session.whoami().await.map_err(|e| e.to_string())?;
            Ok(format!(
                "token {} belongs to {} ({})",
                token.access_token().fingerprint(),
                me.id,
                me.name.unwrap_or_default()
            ))
        })
        .await?;

        let v2_oauth = self.profile("v2-oauth");
        self.step(
            "V2 OAuth app: authorization code + refresh (offline)",
            async {
                let (session, token) = login(v2_oauth?).await?;
                let renewed = session
                    .manager()
                    .force_refresh()
                    .await
                    .map_err(|e| e.to_string())?;
                let me = session.whoami().await.map_err(|e| e.to_string())?;
                Ok(format!(
                    "access token {} -> refreshed {}; GET /v2/me: {}",
                    token.access_token().fingerprint(),
                    renewed.access_token().fingerprint(),
                    me.id
                ))
            },
        )
        .await?;

        Ok(())
    }

    /// Steps that need the Native App login, reported as not run when it failed.
    async fn skip(&mut self, names: &[&'static str]) -> Result<(), DemoError> {
        for name in names {
            self.step(name, async { Err("not run: the login failed".to_owned()) })
                .await?;
        }
        Ok(())
    }
}

/// A user login through the loopback receiver, with the simulated browser.
async fn login(mut profile: ResolvedProfile) -> Result<(ProfileSession, CachedToken), String> {
    let receiver = LoopbackReceiver::builder()
        .deadline(LOGIN_DEADLINE)
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    profile.redirect_uri = Some(receiver.redirect_uri().to_owned());
    let session = profile.session().map_err(|e| e.to_string())?;
    let login = session
        .user_login()
        .ok_or_else(|| "the profile has no user login".to_owned())?;
    let token = session
        .manager()
        .login(login.as_ref(), receiver, browser::simulated())
        .await
        .map_err(|e| e.to_string())?;
    Ok((session, token))
}

async fn refresh_with_rotation(native: &ProfileSession) -> Outcome {
    let before = native
        .manager()
        .export()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no stored login")?;
    let token = native
        .manager()
        .force_refresh()
        .await
        .map_err(|e| e.to_string())?;
    let after = native
        .manager()
        .export()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no stored login")?;
    let (Some(old), Some(new)) = (before.refresh_token(), after.refresh_token()) else {
        return Err("no refresh token".to_owned());
    };
    if old.fingerprint() == new.fingerprint() {
        return Err("the refresh token did not rotate".to_owned());
    }
    Ok(format!(
        "refresh_token grant -> access token {}; refresh token rotated {} -> {} (the old one is spent)",
        token.access_token().fingerprint(),
        old.fingerprint(),
        new.fingerprint()
    ))
}

/// Two managers (as two processes would) over one token directory both see the same token
/// rejected and ask for a refresh at once: one refreshes under the store's lock, the other
/// finds the new set there and adopts it. One grant, no spent refresh token presented.
async fn two_managers(world: &World, native: &ProfileSession) -> Outcome {
    let first = native.manager();
    let second_session = native.profile().session().map_err(|e| e.to_string())?;
    let second = second_session.manager();
    let current = first.access_token().await.map_err(|e| e.to_string())?;
    second.access_token().await.map_err(|e| e.to_string())?;
    let grants = world.ims.grant_count("refresh_token");
    let rejected = current.access_token().clone();
    let (a, b) = tokio::join!(
        first.refresh_if_current(&rejected),
        second.refresh_if_current(&rejected)
    );
    let (a, b) = (a.map_err(|e| e.to_string())?, b.map_err(|e| e.to_string())?);
    let new_grants = world.ims.grant_count("refresh_token") - grants;
    let reuses = world.ims.refresh_token_reuses_detected();
    if new_grants != 1 || reuses != 0 || a.expose_secret() != b.expose_secret() {
        return Err(format!(
            "{new_grants} refresh grants, {reuses} refresh tokens reused, same token: {}",
            a.expose_secret() == b.expose_secret()
        ));
    }
    Ok(format!(
        "1 refresh grant for both, 0 spent refresh tokens presented; both now use {}",
        a.access_token().fingerprint()
    ))
}

fn expires(token: &CachedToken) -> String {
    token.expires_at().map_or_else(
        || "no expiry".to_owned(),
        |at| {
            format!(
                "expires in {}",
                crate::human::rounded(at.saturating_duration_since(crate::human::now()))
            )
        },
    )
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// The summary table and where to go next.
fn table(summary: &Summary) -> String {
    let width = summary
        .steps
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4);
    let mut text = String::from("Summary\n");
    let _ = writeln!(
        text,
        "  {:<3} {:<width$}  {:<6}  {:>10}",
        "#", "step", "result", "time"
    );
    for (i, step) in summary.steps.iter().enumerate() {
        let _ = writeln!(
            text,
            "  {:<3} {:<width$}  {:<6}  {:>10}",
            i + 1,
            step.name,
            if step.ok { "ok" } else { "FAILED" },
            millis(step.took)
        );
    }
    let passed = summary.steps.iter().filter(|s| s.ok).count();
    let _ = writeln!(text, "\n{passed} of {} steps passed.", summary.steps.len());
    if passed == summary.steps.len() {
        text.push_str("Nothing left this machine, and the token directory is gone.\n");
    } else {
        text.push_str("The token directory is gone. Run with --verbose to see what failed.\n");
    }
    text.push_str(
        "Next: the quickstart in README.md (library and CLI), the guides in docs/guides/, and \
         `frameio-auth profiles add` to set up a real credential.",
    );
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_step_passes_offline_shows_no_secret_and_leaves_nothing_behind() {
        let mut out = Vec::new();
        let summary = run(&mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(summary.steps.len(), 9, "{text}");
        for step in &summary.steps {
            assert!(step.ok, "{}: {}\n{text}", step.name, step.detail);
        }
        for secret in World::known_secrets() {
            assert!(!text.contains(secret), "a secret in the demo's output");
        }
        // IMS access tokens are JWTs: base64 of `{"` starts every one of them.
        assert!(!text.contains("eyJ"), "a token in the demo's output");
        assert!(
            text.contains("Summary") && text.contains("README.md"),
            "{text}"
        );
        // The token directory it named is gone.
        let dir = text
            .lines()
            .find_map(|line| line.strip_prefix("tokens go to "))
            .and_then(|rest| rest.split(" (deleted").next())
            .expect("the demo names its token directory");
        assert!(!std::path::Path::new(dir).exists(), "{dir} was left behind");
    }
}
