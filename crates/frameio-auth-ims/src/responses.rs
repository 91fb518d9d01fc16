//! What the IMS information endpoints return. Every type keeps fields it does not know in
//! `extra`, so new IMS fields never break parsing.

use frameio_auth_core::Timestamp;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// `GET /ims/userinfo/v2`: OpenID Connect user info. Every field but `sub` depends on the
/// granted scopes (`profile`, `email`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct UserInfo {
    /// The user id.
    pub sub: String,
    /// Full name (`profile`).
    #[serde(default)]
    pub name: Option<String>,
    /// Given name (`profile`).
    #[serde(default)]
    pub given_name: Option<String>,
    /// Family name (`profile`).
    #[serde(default)]
    pub family_name: Option<String>,
    /// E-mail address (`email`).
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the e-mail address is verified (`email`); IMS may send a boolean or a string.
    #[serde(default, deserialize_with = "loose_bool")]
    pub email_verified: Option<bool>,
    /// `type1`, `type2`, `type3`... (`profile`).
    #[serde(default)]
    pub account_type: Option<String>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /ims/profile/v1`: the IMS profile (field names as IMS writes them).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// `userId`.
    #[serde(default, rename = "userId")]
    pub user_id: Option<String>,
    /// `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// `displayName`.
    #[serde(default, rename = "displayName")]
    pub display_name: Option<String>,
    /// `first_name`.
    #[serde(default)]
    pub first_name: Option<String>,
    /// `last_name`.
    #[serde(default)]
    pub last_name: Option<String>,
    /// `email`.
    #[serde(default)]
    pub email: Option<String>,
    /// `emailVerified` (IMS sends `"true"`/`"false"` strings; booleans are accepted too).
    #[serde(default, rename = "emailVerified", deserialize_with = "loose_bool")]
    pub email_verified: Option<bool>,
    /// `account_type`.
    #[serde(default)]
    pub account_type: Option<String>,
    /// `countryCode`.
    #[serde(default, rename = "countryCode")]
    pub country_code: Option<String>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `GET /ims/organizations/v5`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// `orgName`.
    #[serde(default, rename = "orgName")]
    pub name: Option<String>,
    /// `orgRef`: the organization's id.
    #[serde(default, rename = "orgRef")]
    pub org_ref: Option<OrgRef>,
    /// `orgType`.
    #[serde(default, rename = "orgType")]
    pub org_type: Option<String>,
    /// `countryCode`.
    #[serde(default, rename = "countryCode")]
    pub country_code: Option<String>,
    /// `groups` (product profiles and roles).
    #[serde(default)]
    pub groups: Vec<Value>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Organization {
    /// The organization id (`orgRef.ident@orgRef.authSrc`, for example
    /// `ABC123@AdobeOrg`), when both parts are present.
    pub fn id(&self) -> Option<String> {
        let org = self.org_ref.as_ref()?;
        Some(format!(
            "{}@{}",
            org.ident.as_deref()?,
            org.auth_src.as_deref()?
        ))
    }
}

/// An organization reference.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct OrgRef {
    /// `ident`.
    #[serde(default)]
    pub ident: Option<String>,
    /// `authSrc` (`AdobeOrg`).
    #[serde(default, rename = "authSrc")]
    pub auth_src: Option<String>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /ims/validate_token/v1`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct TokenValidation {
    /// Whether IMS considers the token valid.
    pub valid: bool,
    /// Why not (`expired`, `revoked`, `bad_token`...), when it is not.
    #[serde(default)]
    pub reason: Option<String>,
    /// When the token expires (IMS writes milliseconds), when given.
    #[serde(default, deserialize_with = "millis_timestamp")]
    pub expires_at: Option<Timestamp>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Which kind of token to validate or invalidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImsTokenType {
    /// A user access token.
    AccessToken,
    /// A refresh token.
    RefreshToken,
    /// A Server-to-Server access token (invalidation needs the client secret).
    ServiceToken,
}

impl ImsTokenType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
            Self::ServiceToken => "service_token",
        }
    }
}

fn loose_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

fn millis_timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Timestamp>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Number(n)) => n.as_u64().map(Timestamp::from_unix_millis),
        Some(Value::String(s)) => s.trim().parse().ok().map(Timestamp::from_unix_millis),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_kept_and_loose_values_accepted() {
        let info: UserInfo = serde_json::from_str(
            r#"{"sub":"u","email_verified":"true","new_field":[1],"name":null}"#,
        )
        .unwrap();
        assert_eq!(info.email_verified, Some(true));
        assert_eq!(info.name, None);
        assert!(info.extra.contains_key("new_field"));

        let profile: Profile =
            serde_json::from_str(r#"{"userId":"u","emailVerified":"false","x":1}"#).unwrap();
        assert_eq!(profile.email_verified, Some(false));
        assert_eq!(profile.user_id.as_deref(), Some("u"));

        let orgs: Vec<Organization> = serde_json::from_str(
            r#"[{"orgName":"O","orgRef":{"ident":"ID","authSrc":"AdobeOrg"},"z":true},{}]"#,
        )
        .unwrap();
        assert_eq!(orgs[0].id().as_deref(), Some("ID@AdobeOrg"));
        assert_eq!(orgs[1].id(), None);

        let valid: TokenValidation =
            serde_json::from_str(r#"{"valid":true,"expires_at":"1700000000000"}"#).unwrap();
        assert_eq!(
            valid.expires_at,
            Some(Timestamp::from_unix_secs(1_700_000_000))
        );
        let invalid: TokenValidation =
            serde_json::from_str(r#"{"valid":false,"reason":"revoked","expires_at":{}}"#).unwrap();
        assert_eq!(
            (invalid.valid, invalid.reason.as_deref()),
            (false, Some("revoked"))
        );
    }
}
