//! Ready-made configurations: Frame.io V4 and Adobe Cloud Storage & Collaboration API scopes,
//! and configuration from environment variables.

use frameio_auth_core::{ClientSecret, ConfigError, Scopes};

use crate::{ImsEnvironment, ServerToServer, ServerToServerBuilder};

/// Frame.io V4 Server-to-Server scopes (Frame.io's SDK).
pub const FRAMEIO_V4_SERVER_TO_SERVER_SCOPES: &str = "openid,AdobeID,frame.s2s.all";
/// Frame.io V4 user scopes (Frame.io's SDK); `offline_access` gives a refresh token.
pub const FRAMEIO_V4_USER_SCOPES: &str =
    "openid,profile,email,offline_access,additional_info.roles";
/// Adobe Cloud Storage & Collaboration API Server-to-Server scopes (that API's guide).
pub const CLOUD_STORAGE_SERVER_TO_SERVER_SCOPES: &str =
    "openid,AdobeID,offline_access,creative_sdk";

/// `IMS_CLIENT_ID`: the client id, for [`from_env`].
pub const IMS_CLIENT_ID: &str = "IMS_CLIENT_ID";
/// `IMS_CLIENT_SECRET`: the client secret, for [`from_env`].
pub const IMS_CLIENT_SECRET: &str = "IMS_CLIENT_SECRET";
/// `IMS_CLIENT_SECRET_2`: an optional second secret (rotation), for [`from_env`].
pub const IMS_CLIENT_SECRET_2: &str = "IMS_CLIENT_SECRET_2";
/// `IMS_SCOPES`: space- or comma-separated scopes, for [`from_env`].
pub const IMS_SCOPES: &str = "IMS_SCOPES";
/// `IMS_ENV`: `prod`, `stage` or a base URL, for [`from_env`].
pub const IMS_ENV: &str = "IMS_ENV";
/// `IMS_BASE_URL`: when set, overrides the environment with this base URL (a proxy, or a
/// fake IMS in tests).
pub const IMS_BASE_URL: &str = "IMS_BASE_URL";
/// `CLOUD_STORAGE_CLIENT_ID`, as the Cloud Storage guide tells users to export it.
pub const CLOUD_STORAGE_CLIENT_ID: &str = "CLOUD_STORAGE_CLIENT_ID";
/// `CLOUD_STORAGE_CLIENT_SECRET`, as the Cloud Storage guide tells users to export it.
pub const CLOUD_STORAGE_CLIENT_SECRET: &str = "CLOUD_STORAGE_CLIENT_SECRET";

fn scopes(list: &str) -> Scopes {
    // The constants above are valid scope lists; an empty set would fail at build().
    Scopes::parse(list).unwrap_or_default()
}

/// Frame.io V4 Server-to-Server: [`FRAMEIO_V4_SERVER_TO_SERVER_SCOPES`].
///
/// ```
/// use frameio_auth_core::ClientSecret;
/// use frameio_auth_ims::{presets, ImsEnvironment};
///
/// let s2s = presets::frameio_v4_server_to_server(
///     ImsEnvironment::Production, "my-client-id", ClientSecret::new("my-secret"),
/// ).build()?;
/// assert!(s2s.scopes().contains("frame.s2s.all"));
/// # Ok::<(), frameio_auth_core::ConfigError>(())
/// ```
pub fn frameio_v4_server_to_server(
    env: ImsEnvironment,
    client_id: impl Into<String>,
    client_secret: ClientSecret,
) -> ServerToServerBuilder {
    ServerToServer::builder(env, client_id, client_secret)
        .scopes(scopes(FRAMEIO_V4_SERVER_TO_SERVER_SCOPES))
}

/// Frame.io V4 user scopes ([`FRAMEIO_V4_USER_SCOPES`]), for any user credential kind.
///
/// ```
/// use frameio_auth_ims::{presets, ImsEnvironment, WebApp};
/// # use frameio_auth_core::ClientSecret;
///
/// let web = WebApp::builder(
///     ImsEnvironment::Production, "id", ClientSecret::new("s"), "https://localhost:8443/callback",
/// )
/// .scopes(presets::frameio_v4_user())
/// .build()?;
/// assert!(web.scopes().contains("offline_access"));
/// # Ok::<(), frameio_auth_core::ConfigError>(())
/// ```
pub fn frameio_v4_user() -> Scopes {
    scopes(FRAMEIO_V4_USER_SCOPES)
}

/// Adobe Cloud Storage & Collaboration API Server-to-Server, from `CLOUD_STORAGE_CLIENT_ID`
/// and `CLOUD_STORAGE_CLIENT_SECRET` (the environment is `IMS_BASE_URL`, else `IMS_ENV`, else
/// production). A missing or empty variable is an error that names it.
pub fn cloud_storage_server_to_server() -> Result<ServerToServerBuilder, ConfigError> {
    cloud_storage_server_to_server_from(process_env)
}

/// [`cloud_storage_server_to_server`] with variables from `lookup` instead of the process
/// environment (for tests and other configuration sources).
///
/// ```
/// use frameio_auth_ims::presets;
///
/// let vars = |name: &str| match name {
///     "CLOUD_STORAGE_CLIENT_ID" => Some("cid".to_owned()),
///     "CLOUD_STORAGE_CLIENT_SECRET" => Some("secret".to_owned()),
///     _ => None,
/// };
/// let s2s = presets::cloud_storage_server_to_server_from(vars)?.build()?;
/// assert!(s2s.scopes().contains("creative_sdk"));
///
/// let err = presets::cloud_storage_server_to_server_from(|_| None).unwrap_err();
/// assert!(err.message().contains("CLOUD_STORAGE_CLIENT_ID"));
/// # Ok::<(), frameio_auth_core::ConfigError>(())
/// ```
pub fn cloud_storage_server_to_server_from(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<ServerToServerBuilder, ConfigError> {
    let client_id = required_var(&lookup, CLOUD_STORAGE_CLIENT_ID)?;
    let secret = required_var(&lookup, CLOUD_STORAGE_CLIENT_SECRET)?;
    let env = environment_from(&lookup, false)?;
    Ok(
        ServerToServer::builder(env, client_id, ClientSecret::new(secret))
            .scopes(scopes(CLOUD_STORAGE_SERVER_TO_SERVER_SCOPES)),
    )
}

/// A Server-to-Server credential from `IMS_CLIENT_ID`, `IMS_CLIENT_SECRET`, `IMS_SCOPES` and
/// `IMS_ENV` (all required; `IMS_CLIENT_SECRET_2` adds a second secret, `IMS_BASE_URL`
/// overrides `IMS_ENV`). A missing or empty variable is an error that names it.
pub fn from_env() -> Result<ServerToServerBuilder, ConfigError> {
    from_lookup(process_env)
}

/// [`from_env`] with variables from `lookup`.
///
/// ```
/// use frameio_auth_ims::presets;
///
/// let vars = |name: &str| match name {
///     "IMS_CLIENT_ID" => Some("cid".to_owned()),
///     "IMS_CLIENT_SECRET" => Some("secret".to_owned()),
///     "IMS_SCOPES" => Some("openid,AdobeID".to_owned()),
///     "IMS_ENV" => Some("  ".to_owned()),
///     _ => None,
/// };
/// let err = presets::from_lookup(vars).unwrap_err();
/// assert!(err.message().contains("IMS_ENV"));
/// ```
pub fn from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<ServerToServerBuilder, ConfigError> {
    let client_id = required_var(&lookup, IMS_CLIENT_ID)?;
    let secret = required_var(&lookup, IMS_CLIENT_SECRET)?;
    let scope_list = required_var(&lookup, IMS_SCOPES)?;
    let scopes = Scopes::parse(&scope_list)
        .map_err(|e| ConfigError::new(format!("{IMS_SCOPES} is not a valid scope list: {e}")))?;
    let env = environment_from(&lookup, true)?;
    let mut builder =
        ServerToServer::builder(env, client_id, ClientSecret::new(secret)).scopes(scopes);
    if let Some(second) = optional_var(&lookup, IMS_CLIENT_SECRET_2) {
        builder = builder.second_client_secret(ClientSecret::new(second));
    }
    Ok(builder)
}

/// The environment: `IMS_BASE_URL` if set, else `IMS_ENV` (required when `env_required`),
/// else production.
pub fn environment_from(
    lookup: &impl Fn(&str) -> Option<String>,
    env_required: bool,
) -> Result<ImsEnvironment, ConfigError> {
    let env = if env_required {
        Some(required_var(lookup, IMS_ENV)?)
    } else {
        optional_var(lookup, IMS_ENV)
    };
    let env = match env {
        Some(value) => ImsEnvironment::parse(&value)
            .map_err(|e| ConfigError::new(format!("{IMS_ENV}: {}", e.message())))?,
        None => ImsEnvironment::Production,
    };
    match optional_var(lookup, IMS_BASE_URL) {
        Some(base) => ImsEnvironment::custom(&base)
            .map_err(|e| ConfigError::new(format!("{IMS_BASE_URL}: {}", e.message()))),
        None => Ok(env),
    }
}

/// The process environment, as a lookup function.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The trimmed value of the variable `name`, or an error naming it when it is unset or empty.
///
/// ```
/// use frameio_auth_ims::presets::required_var;
///
/// let vars = |name: &str| (name == "IMS_CLIENT_ID").then(|| " cid ".to_owned());
/// assert_eq!(required_var(&vars, "IMS_CLIENT_ID")?, "cid");
/// assert_eq!(
///     required_var(&vars, "IMS_SCOPES").unwrap_err().to_string(),
///     "invalid configuration: the environment variable IMS_SCOPES is not set"
/// );
/// # Ok::<(), frameio_auth_core::ConfigError>(())
/// ```
pub fn required_var(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<String, ConfigError> {
    match lookup(name) {
        None => Err(ConfigError::new(format!(
            "the environment variable {name} is not set"
        ))),
        Some(value) if value.trim().is_empty() => Err(ConfigError::new(format!(
            "the environment variable {name} is empty"
        ))),
        Some(value) => Ok(value.trim().to_owned()),
    }
}

/// The trimmed value of the variable `name`; `None` when it is unset or empty.
pub fn optional_var(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn from_lookup_names_each_missing_or_empty_variable() {
        let all = [
            (IMS_CLIENT_ID, "cid"),
            (IMS_CLIENT_SECRET, "sec"),
            (IMS_SCOPES, "openid AdobeID"),
            (IMS_ENV, "stage"),
        ];
        for missing in 0..all.len() {
            for empty in [false, true] {
                let pairs: Vec<(&str, &str)> = all
                    .iter()
                    .enumerate()
                    .filter_map(|(i, &(k, v))| match (i == missing, empty) {
                        (false, _) => Some((k, v)),
                        (true, true) => Some((k, "")),
                        (true, false) => None,
                    })
                    .collect();
                let lookup = |name: &str| {
                    pairs
                        .iter()
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| (*v).to_owned())
                };
                let err = from_lookup(lookup).unwrap_err();
                assert!(err.message().contains(all[missing].0), "{err}");
            }
        }
        let s2s = from_lookup(vars(&[
            (IMS_CLIENT_ID, "cid"),
            (IMS_CLIENT_SECRET, "sec"),
            (IMS_CLIENT_SECRET_2, "sec2"),
            (IMS_SCOPES, "openid AdobeID"),
            (IMS_ENV, "stage"),
        ]))
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(s2s.environment(), &ImsEnvironment::Stage);
        assert_eq!(s2s.secret_count(), 2);
    }

    #[test]
    fn base_url_overrides_the_environment() {
        let env = environment_from(
            &vars(&[(IMS_ENV, "prod"), (IMS_BASE_URL, "http://127.0.0.1:9/")]),
            true,
        )
        .unwrap();
        assert_eq!(env.base_url(), "http://127.0.0.1:9");
        let err =
            environment_from(&vars(&[(IMS_BASE_URL, "http://evil.example")]), false).unwrap_err();
        assert!(err.message().contains(IMS_BASE_URL), "{err}");
        assert_eq!(
            environment_from(&vars(&[]), false).unwrap(),
            ImsEnvironment::Production
        );
    }
}
