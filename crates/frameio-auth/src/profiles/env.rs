//! Applying the environment: `FRAMEIO_AUTH_*` variables, then the provider variables, then
//! the file, then the preset (`docs/profiles.md` has the table).

use std::path::{Path, PathBuf};

use frameio_auth_core::{ClientSecret, Scopes};
use frameio_auth_ims::{ImsEnvironment, presets};

use super::error::ProfileError;
use super::model::{Preset, Profile, ProfileKind, RedisKeyRef, RedisUrlRef, SecretRef, StoreKind};

/// `FRAMEIO_AUTH_CONFIG`: the path of `config.toml` (default: the platform config directory).
pub const FRAMEIO_AUTH_CONFIG: &str = "FRAMEIO_AUTH_CONFIG";
/// `FRAMEIO_AUTH_PROFILE`: the profile used when the program names none (over `default`).
pub const FRAMEIO_AUTH_PROFILE: &str = "FRAMEIO_AUTH_PROFILE";
/// `FRAMEIO_AUTH_CLIENT_ID`: overrides `client_id`.
pub const FRAMEIO_AUTH_CLIENT_ID: &str = "FRAMEIO_AUTH_CLIENT_ID";
/// `FRAMEIO_AUTH_CLIENT_SECRET`: overrides the secret (client secret or Developer Token).
pub const FRAMEIO_AUTH_CLIENT_SECRET: &str = "FRAMEIO_AUTH_CLIENT_SECRET";
/// `FRAMEIO_AUTH_SCOPES`: overrides `scopes`.
pub const FRAMEIO_AUTH_SCOPES: &str = "FRAMEIO_AUTH_SCOPES";
/// `FRAMEIO_AUTH_IMS_ENV`: overrides `ims_env` (`prod`, `stage` or a base URL).
pub const FRAMEIO_AUTH_IMS_ENV: &str = "FRAMEIO_AUTH_IMS_ENV";
/// `FRAMEIO_AUTH_REDIRECT_URI`: overrides `redirect_uri`.
pub const FRAMEIO_AUTH_REDIRECT_URI: &str = "FRAMEIO_AUTH_REDIRECT_URI";
/// `FRAMEIO_AUTH_V2_OAUTH_BASE_URL`: overrides `v2_oauth_base_url`.
pub const FRAMEIO_AUTH_V2_OAUTH_BASE_URL: &str = "FRAMEIO_AUTH_V2_OAUTH_BASE_URL";
/// `FRAMEIO_AUTH_API_BASE_URL`: overrides `api_base_url`.
pub const FRAMEIO_AUTH_API_BASE_URL: &str = "FRAMEIO_AUTH_API_BASE_URL";
/// `FRAMEIO_AUTH_STORE`: overrides `store` (`file`, `keyring`, `memory`).
pub const FRAMEIO_AUTH_STORE: &str = "FRAMEIO_AUTH_STORE";
/// `FRAMEIO_AUTH_STORE_DIR`: overrides `store_dir`.
pub const FRAMEIO_AUTH_STORE_DIR: &str = "FRAMEIO_AUTH_STORE_DIR";
/// `FRAMEIO_AUTH_REDIS_URL`: overrides `redis_url` and `redis_url_env` (the URL may hold the
/// password).
pub const FRAMEIO_AUTH_REDIS_URL: &str = "FRAMEIO_AUTH_REDIS_URL";
/// `FRAMEIO_AUTH_REDIS_NAMESPACE`: overrides `redis_namespace`.
pub const FRAMEIO_AUTH_REDIS_NAMESPACE: &str = "FRAMEIO_AUTH_REDIS_NAMESPACE";
/// `FRAMEIO_AUTH_HOME`: the file store's home (tokens in `$FRAMEIO_AUTH_HOME/tokens`), a
/// provider variable of the file store, under `store_dir` in precedence.
pub const FRAMEIO_AUTH_HOME: &str = "FRAMEIO_AUTH_HOME";

/// A profile with the environment, preset and defaults applied: everything needed to build
/// its credential and store. Its `Debug` never shows the secret.
#[derive(Clone, Debug)]
pub struct ResolvedProfile {
    /// The profile's name (also the profile part of its token key).
    pub name: String,
    /// The credential kind.
    pub kind: ProfileKind,
    /// The client id (none for a Developer Token).
    pub client_id: Option<String>,
    /// The secret: a client secret, or the Developer Token.
    pub secret: Option<ClientSecret>,
    /// The scopes, comma-separated as given.
    pub scopes: Option<String>,
    /// The IMS environment (IMS kinds).
    pub ims_env: ImsEnvironment,
    /// The Frame.io V2 OAuth base URL (kind `v2-oauth`).
    pub v2_oauth_base_url: Option<String>,
    /// The Frame.io API base URL (else `https://api.frame.io`).
    pub api_base_url: Option<String>,
    /// The redirect URI (kinds that have one).
    pub redirect_uri: Option<String>,
    /// The store.
    pub store: StoreKind,
    /// The file store's directory (else the platform default).
    pub store_dir: Option<PathBuf>,
    /// The keyring store's service name (else its default).
    pub keyring_service: Option<String>,
    /// The `redis` store's settings (store `redis` only).
    pub redis: Option<ResolvedRedis>,
}

/// The `redis` store's settings, resolved. Its `Debug` shows neither the URL (it may hold
/// the password) nor the key.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ResolvedRedis {
    /// The URL, password included (kept as a secret).
    pub url: ClientSecret,
    /// The namespace (else the store's default).
    pub namespace: Option<String>,
    /// The encryption key's id and its base64 (kept as a secret); `None`: plaintext, an
    /// explicit opt-out.
    pub key: Option<(String, ClientSecret)>,
}

/// The key id of a profile's Redis encryption key unless `redis_key_id` says otherwise.
pub const DEFAULT_REDIS_KEY_ID: &str = "default";

/// The keyring service of secrets (and tokens) unless `keyring_service` says otherwise.
pub(super) const DEFAULT_KEYRING_SERVICE: &str = "frameio-auth";

/// Reads a `secret_keyring` entry (account) for a profile: `None` when there is none.
pub(super) type KeyringSecrets<'a> =
    dyn Fn(&str, &Profile) -> Result<Option<ClientSecret>, ProfileError> + 'a;

fn var(lookup: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    frameio_auth_ims::presets::optional_var(&lookup, name)
}

/// Turns a message into the error of profile `name`.
fn problem_of(name: &str) -> impl Fn(String) -> ProfileError + Copy + '_ {
    move |message| ProfileError::Profile {
        profile: name.to_owned(),
        message,
    }
}

/// Whether resolving fails when the secret is not available.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SecretNeed {
    /// The profile is used to get tokens: a missing secret is an error.
    Required,
    /// Only the stored login is wanted: a missing secret's variable leaves `secret` empty.
    NotNeeded,
}

/// Applies the precedence to `profile` (named `name`, from `path`).
pub(super) fn resolve(
    path: &Path,
    name: &str,
    profile: &Profile,
    lookup: &dyn Fn(&str) -> Option<String>,
    keyring: &KeyringSecrets<'_>,
    need: SecretNeed,
) -> Result<ResolvedProfile, ProfileError> {
    let problem = problem_of(name);
    let preset = profile.preset;
    let kind = resolve_kind(path, profile).map_err(problem)?;
    let cloud = preset == Some(Preset::CloudStorageS2s);

    // Provider variables: the ones the IMS and V2 crates already read.
    let (provider_id, provider_secret): (Option<&str>, Option<&str>) = match kind {
        _ if cloud => (
            Some(presets::CLOUD_STORAGE_CLIENT_ID),
            Some(presets::CLOUD_STORAGE_CLIENT_SECRET),
        ),
        ProfileKind::ImsS2s | ProfileKind::ImsWeb => (
            Some(presets::IMS_CLIENT_ID),
            Some(presets::IMS_CLIENT_SECRET),
        ),
        ProfileKind::ImsSpa | ProfileKind::ImsNative => (Some(presets::IMS_CLIENT_ID), None),
        ProfileKind::V2DeveloperToken => (None, Some(frameio_auth_v2::FRAMEIO_TOKEN_ENV)),
        ProfileKind::V2OAuth => (None, None),
    };

    let client_id = var(lookup, FRAMEIO_AUTH_CLIENT_ID)
        .or_else(|| provider_id.and_then(|v| var(lookup, v)))
        .or_else(|| profile.client_id.clone());
    if client_id.is_none() && kind != ProfileKind::V2DeveloperToken {
        let mut names = vec![FRAMEIO_AUTH_CLIENT_ID];
        names.extend(provider_id);
        return Err(problem(format!(
            "no client id: set `client_id` in {} or export {}",
            path.display(),
            names.join(" or ")
        )));
    }

    let secret = resolve_kind_secret(
        path,
        name,
        kind,
        profile,
        provider_secret,
        lookup,
        keyring,
        need,
    )?;

    let scopes = var(lookup, FRAMEIO_AUTH_SCOPES)
        .or_else(|| {
            kind.is_ims()
                .then(|| var(lookup, presets::IMS_SCOPES))
                .flatten()
        })
        .or_else(|| profile.scopes.clone())
        .or_else(|| preset.map(|p| p.scopes().to_owned()));
    if let Some(list) = scopes.as_ref().filter(|_| kind.is_ims()) {
        Scopes::parse(list).map_err(|e| problem(format!("invalid scopes: {e}")))?;
    }

    let ims_env = resolve_ims_env(profile, lookup).map_err(problem)?;

    let redirect_uri =
        var(lookup, FRAMEIO_AUTH_REDIRECT_URI).or_else(|| profile.redirect_uri.clone());
    if kind.has_redirect_uri() && redirect_uri.is_none() {
        return Err(problem(format!(
            "kind `{kind}` needs a redirect URI: set `redirect_uri` in {} or export {FRAMEIO_AUTH_REDIRECT_URI}",
            path.display()
        )));
    }

    let store = resolve_store(profile, lookup).map_err(problem)?;
    let store_dir = var(lookup, FRAMEIO_AUTH_STORE_DIR)
        .map(PathBuf::from)
        .or_else(|| var(lookup, FRAMEIO_AUTH_HOME).map(|home| PathBuf::from(home).join("tokens")))
        .or_else(|| profile.store_dir.as_ref().map(PathBuf::from));

    Ok(ResolvedProfile {
        name: name.to_owned(),
        kind,
        client_id,
        secret,
        scopes,
        ims_env,
        v2_oauth_base_url: var(lookup, FRAMEIO_AUTH_V2_OAUTH_BASE_URL)
            .or_else(|| profile.v2_oauth_base_url.clone()),
        api_base_url: var(lookup, FRAMEIO_AUTH_API_BASE_URL)
            .or_else(|| profile.api_base_url.clone()),
        redirect_uri: if kind.has_redirect_uri() {
            redirect_uri
        } else {
            None
        },
        store,
        store_dir,
        keyring_service: profile.keyring_service.clone(),
        redis: (store == StoreKind::Redis)
            .then(|| resolve_redis(path, name, profile, lookup, keyring))
            .transpose()?,
    })
}

/// The `redis` store's URL, namespace and key: `FRAMEIO_AUTH_REDIS_*`, then the file.
fn resolve_redis(
    path: &Path,
    name: &str,
    profile: &Profile,
    lookup: &dyn Fn(&str) -> Option<String>,
    keyring: &KeyringSecrets<'_>,
) -> Result<ResolvedRedis, ProfileError> {
    let problem = problem_of(name);
    let from_variable = |variable: &String| {
        var(lookup, variable).ok_or_else(|| ProfileError::MissingSecretVariable {
            profile: name.to_owned(),
            variable: variable.clone(),
        })
    };
    let url = match (var(lookup, FRAMEIO_AUTH_REDIS_URL), &profile.redis_url) {
        (Some(url), _) => url,
        (None, Some(RedisUrlRef::Url(url))) => url.clone(),
        (None, Some(RedisUrlRef::Env(variable))) => from_variable(variable)?,
        (None, None) => {
            return Err(problem(format!(
                "store `redis` needs a URL: export it and name its variable with \
                 `redis_url_env` in {}, or export {FRAMEIO_AUTH_REDIS_URL}",
                path.display()
            )));
        }
    };
    let key_id = profile
        .redis_key_id
        .clone()
        .unwrap_or_else(|| DEFAULT_REDIS_KEY_ID.to_owned());
    let key = match &profile.redis_key {
        Some(RedisKeyRef::Env(variable)) => {
            Some((key_id, ClientSecret::new(from_variable(variable)?)))
        }
        Some(RedisKeyRef::Keyring(account)) => match keyring(account, profile)? {
            Some(secret) => Some((key_id, secret)),
            None => {
                return Err(problem(format!(
                    "the keyring has no Redis encryption key `{account}` (service `{}`): store \
                     its base64 there, or export it and name its variable with `redis_key_env`",
                    profile
                        .keyring_service
                        .as_deref()
                        .unwrap_or(DEFAULT_KEYRING_SERVICE)
                )));
            }
        },
        Some(RedisKeyRef::Plaintext) => None,
        None => {
            return Err(problem(format!(
                "store `redis` needs an encryption key: export 32 random bytes in base64 \
                 (`head -c 32 /dev/urandom | base64`) and name the variable with \
                 `redis_key_env` in {}, or opt out with `redis_plaintext = true`",
                path.display()
            )));
        }
    };
    Ok(ResolvedRedis {
        url: ClientSecret::new(url),
        namespace: var(lookup, FRAMEIO_AUTH_REDIS_NAMESPACE)
            .or_else(|| profile.redis_namespace.clone()),
        key,
    })
}

/// The secret of a profile of `kind`, when that kind has one; a kind that needs one gets an
/// error without it, unless only the stored login is wanted.
#[allow(clippy::too_many_arguments)]
fn resolve_kind_secret(
    path: &Path,
    name: &str,
    kind: ProfileKind,
    profile: &Profile,
    provider_secret: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
    keyring: &KeyringSecrets<'_>,
    need: SecretNeed,
) -> Result<Option<ClientSecret>, ProfileError> {
    let needs_secret = matches!(
        kind,
        ProfileKind::ImsS2s | ProfileKind::ImsWeb | ProfileKind::V2DeveloperToken
    );
    // Public clients (ims-spa, ims-native) have no secret: none is looked up.
    let secret = if needs_secret || kind == ProfileKind::V2OAuth {
        match resolve_secret(path, name, profile, provider_secret, lookup, keyring) {
            Err(ProfileError::MissingSecretVariable { .. }) if need == SecretNeed::NotNeeded => {
                None
            }
            found => found?,
        }
    } else {
        None
    };
    if secret.is_none() && needs_secret && need == SecretNeed::Required {
        let mut names = vec![FRAMEIO_AUTH_CLIENT_SECRET];
        names.extend(provider_secret);
        return Err(ProfileError::Profile {
            profile: name.to_owned(),
            message: format!(
                "no secret: set `secret_env` to the name of the variable that holds it in {}, or \
                 export {}",
                path.display(),
                names.join(" or ")
            ),
        });
    }

    Ok(secret)
}

/// The secret: `FRAMEIO_AUTH_CLIENT_SECRET`, the provider variable, then the file.
fn resolve_secret(
    path: &Path,
    name: &str,
    profile: &Profile,
    provider_secret: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
    keyring: &KeyringSecrets<'_>,
) -> Result<Option<ClientSecret>, ProfileError> {
    let secret = match var(lookup, FRAMEIO_AUTH_CLIENT_SECRET)
        .or_else(|| provider_secret.and_then(|v| var(lookup, v)))
    {
        Some(value) => Some(ClientSecret::new(value)),
        None => match &profile.secret {
            None => None,
            Some(SecretRef::Env(variable)) => match var(lookup, variable) {
                Some(value) => Some(ClientSecret::new(value)),
                None => {
                    return Err(ProfileError::MissingSecretVariable {
                        profile: name.to_owned(),
                        variable: variable.clone(),
                    });
                }
            },
            Some(SecretRef::Keyring(account)) => match keyring(account, profile)? {
                Some(secret) => Some(secret),
                None => {
                    return Err(ProfileError::Profile {
                        profile: name.to_owned(),
                        message: format!(
                            "the keyring has no secret `{account}` (service `{}`): store it \
                             there, or export it and name its variable with `secret_env`",
                            profile
                                .keyring_service
                                .as_deref()
                                .unwrap_or(DEFAULT_KEYRING_SERVICE)
                        ),
                    });
                }
            },
            Some(SecretRef::Inline(secret)) => {
                tracing::warn!(
                    file = %path.display(),
                    profile = name,
                    "an inline secret is read from the config file; prefer `secret_env`"
                );
                Some(secret.clone())
            }
        },
    };
    Ok(secret)
}

/// The IMS environment: `FRAMEIO_AUTH_IMS_ENV`, `IMS_BASE_URL`, `IMS_ENV`, the file, prod.
fn resolve_ims_env(
    profile: &Profile,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<ImsEnvironment, String> {
    let env = if let Some(value) = var(lookup, FRAMEIO_AUTH_IMS_ENV) {
        ImsEnvironment::parse(&value)
            .map_err(|e| format!("{FRAMEIO_AUTH_IMS_ENV}: {}", e.message()))?
    } else if let Some(base) = var(lookup, presets::IMS_BASE_URL) {
        ImsEnvironment::custom(&base)
            .map_err(|e| format!("{}: {}", presets::IMS_BASE_URL, e.message()))?
    } else if let Some(value) = var(lookup, presets::IMS_ENV) {
        ImsEnvironment::parse(&value)
            .map_err(|e| format!("{}: {}", presets::IMS_ENV, e.message()))?
    } else if let Some(value) = &profile.ims_env {
        ImsEnvironment::parse(value).map_err(|e| format!("ims_env: {}", e.message()))?
    } else {
        ImsEnvironment::Production
    };
    Ok(env)
}

/// The kind: the file's, else the preset's; it must fit the preset.
fn resolve_kind(path: &Path, profile: &Profile) -> Result<ProfileKind, String> {
    let preset = profile.preset;
    let kind = profile
        .kind
        .or_else(|| preset.map(Preset::kind))
        .ok_or_else(|| {
            format!(
                "no kind: set `kind` (or a `preset`) in {}; expected one of: {}",
                path.display(),
                ProfileKind::ALL.map(ProfileKind::as_str).join(", ")
            )
        })?;
    let fits = match preset {
        None => true,
        Some(Preset::FrameioV4User) => matches!(
            kind,
            ProfileKind::ImsWeb | ProfileKind::ImsSpa | ProfileKind::ImsNative
        ),
        Some(_) => kind == ProfileKind::ImsS2s,
    };
    if let (false, Some(preset)) = (fits, preset) {
        return Err(format!(
            "the preset `{preset}` does not fit kind `{kind}`: expected kind `{}`",
            if preset == Preset::FrameioV4User {
                "ims-web`, `ims-spa` or `ims-native"
            } else {
                "ims-s2s"
            }
        ));
    }
    Ok(kind)
}

/// The store: `FRAMEIO_AUTH_STORE`, the file, `file`.
fn resolve_store(
    profile: &Profile,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<StoreKind, String> {
    let store = match var(lookup, FRAMEIO_AUTH_STORE) {
        Some(value) => StoreKind::parse(&value).ok_or_else(|| {
            format!(
                "{FRAMEIO_AUTH_STORE}: unknown store `{value}`; expected one of: {}",
                StoreKind::ALL.map(StoreKind::as_str).join(", ")
            )
        })?,
        None => profile.store.unwrap_or(StoreKind::File),
    };
    Ok(store)
}
