//! The IMS endpoints besides authorize and token: revoke, invalidate, validate, userinfo,
//! profile, organizations. Shared by every credential kind.

use frameio_auth_core::{AccessToken, AuthError, ClientSecret, ConfigError};
use frameio_auth_oauth::{ClientAuth, EndpointClient, SecureUrl, TransportSettings};

use crate::ImsEnvironment;
use crate::environment::paths;
use crate::responses::{ImsTokenType, Organization, Profile, TokenValidation, UserInfo};

/// The header aio-lib-ims sends the client id in on `invalidate_token`.
const CLIENT_ID_HEADER: &str = "X-IMS-ClientId";

/// How one credential talks to the non-token endpoints.
#[derive(Clone, Debug)]
pub(crate) struct ImsApi {
    client_id: String,
    endpoints: EndpointClient,
    /// How the client authenticates on `/ims/revoke`: Basic for confidential clients,
    /// `?client_id=` for public ones (IMS docs).
    revoke_auth: ClientAuth,
    revoke_url: SecureUrl,
    invalidate_url: SecureUrl,
    validate_url: SecureUrl,
    userinfo_url: SecureUrl,
    profile_url: SecureUrl,
    organizations_url: SecureUrl,
}

impl ImsApi {
    pub(crate) fn new(
        env: &ImsEnvironment,
        client_id: &str,
        secret: Option<&ClientSecret>,
        transport: &TransportSettings,
    ) -> Result<Self, ConfigError> {
        let revoke_auth = match secret {
            Some(secret) => ClientAuth::basic(client_id, secret.clone()),
            None => ClientAuth::public_in_query(client_id),
        };
        Ok(Self {
            client_id: client_id.to_owned(),
            endpoints: EndpointClient::builder()
                .transport(transport.clone())
                .build()?,
            revoke_auth,
            revoke_url: env.endpoint(paths::REVOKE)?,
            invalidate_url: env.endpoint(paths::INVALIDATE)?,
            validate_url: env.endpoint(paths::VALIDATE)?,
            userinfo_url: env.endpoint(paths::USERINFO)?,
            profile_url: env.endpoint(paths::PROFILE)?,
            organizations_url: env.endpoint(paths::ORGANIZATIONS)?,
        })
    }

    /// `POST /ims/revoke` with `token=`; 200 and no body on success.
    pub(crate) async fn revoke(&self, token: &str) -> Result<(), AuthError> {
        self.revoke_as(token, &self.revoke_auth).await
    }

    /// `POST /ims/revoke`, authenticating with `auth` (an S2S client's current secret).
    pub(crate) async fn revoke_as(&self, token: &str, auth: &ClientAuth) -> Result<(), AuthError> {
        self.endpoints
            .post_form("revoke", &self.revoke_url)
            .client_auth(auth)
            .param("token", token)
            .send()
            .await
            .map(drop)
    }

    /// `POST /ims/invalidate_token/v2`. `secret` is sent only for service tokens.
    pub(crate) async fn invalidate(
        &self,
        token: &str,
        kind: ImsTokenType,
        cascading: bool,
        secret: Option<&ClientSecret>,
    ) -> Result<(), AuthError> {
        let mut request = self
            .endpoints
            .post_form("invalidate_token", &self.invalidate_url)
            .header(CLIENT_ID_HEADER, &self.client_id)
            .param("token_type", kind.as_str())
            .param("token", token)
            .param("client_id", &self.client_id);
        if cascading {
            request = request.param("cascading", "all");
        }
        if kind == ImsTokenType::ServiceToken
            && let Some(secret) = secret
        {
            request = request.param("client_secret", secret.expose_secret());
        }
        request.send().await.map(drop)
    }

    /// `POST /ims/validate_token/v1`.
    pub(crate) async fn validate(
        &self,
        token: &str,
        kind: ImsTokenType,
    ) -> Result<TokenValidation, AuthError> {
        let kind = match kind {
            ImsTokenType::RefreshToken => "refresh_token",
            ImsTokenType::AccessToken | ImsTokenType::ServiceToken => "access_token",
        };
        self.endpoints
            .post_form("validate_token", &self.validate_url)
            .param("type", kind)
            .param("client_id", &self.client_id)
            .param("token", token)
            .send()
            .await?
            .json()
    }

    /// `GET /ims/userinfo/v2?client_id=`.
    pub(crate) async fn userinfo(&self, token: &AccessToken) -> Result<UserInfo, AuthError> {
        self.endpoints
            .get("userinfo", &self.userinfo_url)
            .param("client_id", &self.client_id)
            .bearer(token)
            .send()
            .await?
            .json()
    }

    /// `GET /ims/profile/v1`.
    pub(crate) async fn profile(&self, token: &AccessToken) -> Result<Profile, AuthError> {
        self.endpoints
            .get("profile", &self.profile_url)
            .bearer(token)
            .send()
            .await?
            .json()
    }

    /// `GET /ims/organizations/v5`.
    pub(crate) async fn organizations(
        &self,
        token: &AccessToken,
    ) -> Result<Vec<Organization>, AuthError> {
        self.endpoints
            .get("organizations", &self.organizations_url)
            .bearer(token)
            .send()
            .await?
            .json()
    }
}
