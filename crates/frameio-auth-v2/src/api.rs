//! Checking a token: `GET /v2/me` and `GET /v4/me`.

use std::collections::BTreeMap;

use frameio_auth_core::{AccessToken, ConfigError};
use frameio_auth_oauth::{
    EndpointClient, EndpointResponse, RetryPolicy, SecureUrl, TransportSettings,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{ApiError, RateLimit};

/// The production API: `https://api.frame.io`.
pub const DEFAULT_API_BASE_URL: &str = "https://api.frame.io";

/// The user a V2 token belongs to, from `GET /v2/me`.
///
/// Only `id` is required; fields Frame.io adds later are kept in [`other`](Self::other).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct V2User {
    /// The user id.
    pub id: String,
    /// The display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// The user's account id.
    #[serde(default)]
    pub account_id: Option<String>,
    /// The time zone, such as `Europe/Berlin`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// When the user was created (ISO 8601, as sent).
    #[serde(default)]
    pub inserted_at: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// The user a V4 (IMS) token belongs to, from `GET /v4/me` (`{"data": {...}}`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct V4User {
    /// The user id.
    pub id: String,
    /// The display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// The avatar URL.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

/// A successful API answer with the rate-limit headers that came with it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Checked<T> {
    /// The parsed body.
    pub value: T,
    /// The `x-ratelimit-*` headers of the response.
    pub rate_limit: RateLimit,
}

/// A small Frame.io API client for token checks.
///
/// `GET {base}/v2/me` ([`whoami`](Self::whoami)) for V2 tokens (Developer Tokens and V2 OAuth
/// tokens) and `GET {base}/v4/me` ([`v4_me`](Self::v4_me)) for IMS tokens on V4 accounts.
/// Statuses map to typed [`ApiError`]s (401, 402, 403, 429 with its rate limits). There are
/// no automatic retries: one attempt per call, and a 429 comes back at once, with what the
/// caller needs to wait. Requests go through the oauth crate's
/// [`EndpointClient`] in raw mode ([`send_raw`](frameio_auth_oauth::EndpointRequest::send_raw)),
/// traced as `oauth.endpoint_request` spans (`endpoint` `/v2/me` or `/v4/me`).
///
/// ```no_run
/// use frameio_auth_core::DeveloperToken;
/// use frameio_auth_v2::{DeveloperTokenSource, FrameioApi};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let source = DeveloperTokenSource::from_env()?;
/// let api = FrameioApi::new()?;
/// let me = api.whoami(&source.access_token()).await?;
/// println!("signed in as {}", me.name.as_deref().unwrap_or(&me.id));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct FrameioApi {
    v2_me: SecureUrl,
    v4_me: SecureUrl,
    client: EndpointClient,
}

impl FrameioApi {
    /// The client for `https://api.frame.io`.
    pub fn new() -> Result<Self, ConfigError> {
        Self::builder().build()
    }

    /// Starts building a client.
    pub fn builder() -> FrameioApiBuilder {
        FrameioApiBuilder {
            base_url: DEFAULT_API_BASE_URL.to_owned(),
            transport: TransportSettings::default(),
        }
    }

    /// `GET /v2/me`: the user of a V2 token.
    pub async fn whoami(&self, token: &AccessToken) -> Result<V2User, ApiError> {
        self.whoami_checked(token).await.map(|c| c.value)
    }

    /// [`whoami`](Self::whoami), with the rate-limit headers of the answer.
    pub async fn whoami_checked(&self, token: &AccessToken) -> Result<Checked<V2User>, ApiError> {
        let response = self
            .client
            .get("/v2/me", &self.v2_me)
            .bearer(token)
            .send_raw()
            .await?;
        self.parse(&response, |body| serde_json::from_slice::<V2User>(body))
    }

    /// `GET /v4/me`: the user of an IMS token on a V4 account.
    pub async fn v4_me(&self, token: &AccessToken) -> Result<V4User, ApiError> {
        self.v4_me_checked(token).await.map(|c| c.value)
    }

    /// [`v4_me`](Self::v4_me), with the rate-limit headers of the answer.
    pub async fn v4_me_checked(&self, token: &AccessToken) -> Result<Checked<V4User>, ApiError> {
        let response = self
            .client
            .get("/v4/me", &self.v4_me)
            .bearer(token)
            .send_raw()
            .await?;
        self.parse(&response, |body| {
            serde_json::from_slice::<Data<V4User>>(body).map(|d| d.data)
        })
    }

    fn parse<T: DeserializeOwned>(
        &self,
        response: &EndpointResponse,
        parse: impl FnOnce(&[u8]) -> Result<T, serde_json::Error>,
    ) -> Result<Checked<T>, ApiError> {
        if !response.is_success() {
            let error = ApiError::from_response(response, self.client.clock().now());
            tracing::debug!(status = response.status(), "Frame.io API error");
            return Err(error);
        }
        let value = parse(response.body()).map_err(|e| ApiError::UnexpectedBody {
            status: response.status(),
            // serde_json's messages may quote values: keep category and position only.
            reason: format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ),
        })?;
        Ok(Checked {
            value,
            rate_limit: RateLimit::from_headers(|name| response.header(name)),
        })
    }
}

/// Builds a [`FrameioApi`].
#[derive(Debug)]
pub struct FrameioApiBuilder {
    base_url: String,
    transport: TransportSettings,
}

impl FrameioApiBuilder {
    /// The API base URL (default [`DEFAULT_API_BASE_URL`]); `https`, or plain `http` on a
    /// loopback host (a fake).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// How the client talks HTTP: timeouts, extra root certificates, proxy, user agent, and
    /// the clock (for HTTP-date `Retry-After` values). Default: [`TransportSettings::default`].
    ///
    /// The retry policy of `settings` is not used: every call is one attempt, and what to do
    /// after a failure (a 429's wait, a 5xx) is the caller's decision. Give the attempt
    /// timeout and the overall deadline the same value, the time limit of a call.
    #[must_use]
    pub fn transport(mut self, settings: TransportSettings) -> Self {
        self.transport = settings;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<FrameioApi, ConfigError> {
        let base = self.base_url.trim_end_matches('/');
        // One attempt, no retries (not even of transport failures): the caller decides.
        let client = EndpointClient::builder()
            .transport(self.transport.retry_policy(RetryPolicy::no_retries()))
            .build()?;
        Ok(FrameioApi {
            v2_me: SecureUrl::parse(&format!("{base}/v2/me"))?,
            v4_me: SecureUrl::parse(&format!("{base}/v4/me"))?,
            client,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_tolerate_unknown_fields() {
        let user: V2User = serde_json::from_slice(
            br#"{"id":"u1","name":"Ada","email":"a@b.c","account_id":"acc","roles":{"admin":true},"_type":"user"}"#,
        )
        .unwrap();
        assert_eq!(user.account_id.as_deref(), Some("acc"));
        assert_eq!(user.other["_type"], "user");
        let v4: Data<V4User> =
            serde_json::from_slice(br#"{"data":{"id":"u2","email":"x@y.z","new_field":1}}"#)
                .unwrap();
        assert_eq!(v4.data.id, "u2");
        assert_eq!(v4.data.other["new_field"], 1);
    }

    #[test]
    fn base_urls_must_be_secure() {
        assert!(
            FrameioApi::builder()
                .base_url("http://api.frame.io")
                .build()
                .is_err()
        );
        assert!(
            FrameioApi::builder()
                .base_url("http://127.0.0.1:9/")
                .build()
                .is_ok()
        );
        assert!(FrameioApi::new().is_ok());
    }
}
