//! Profiles: named credentials in `config.toml` (feature `profiles`).
//!
//! `config.toml` lives in the platform config directory (`~/.config/frameio-auth/config.toml`
//! on Linux, `~/Library/Application Support/frameio-auth/config.toml` on macOS,
//! `%APPDATA%\frameio-auth\config\config.toml` on Windows); `FRAMEIO_AUTH_CONFIG` overrides
//! its path. `docs/profiles.md` describes every field, the environment variables and their
//! precedence.
//!
//! ```toml
//! default = "work"
//!
//! [profiles.work]            # Frame.io V4, Server-to-Server
//! preset = "frameio-v4-s2s"
//! client_id = "0123abcd"
//! secret_env = "WORK_IMS_SECRET"   # the secret stays in the environment
//! ```
//!
//! ```
//! use frameio_auth::profiles::{Profiles, ProfileKind};
//!
//! let text = r#"
//! default = "work"
//! [profiles.work]
//! preset = "frameio-v4-s2s"
//! client_id = "0123abcd"
//! secret_env = "WORK_IMS_SECRET"
//! "#;
//! let profiles = Profiles::parse("config.toml", text)?;
//! let vars = |name: &str| (name == "WORK_IMS_SECRET").then(|| "s3cr3t".to_owned());
//! let work = profiles.resolve(None, &vars)?;
//! assert_eq!(work.kind, ProfileKind::ImsS2s);
//! assert_eq!(work.scopes.as_deref(), Some("openid,AdobeID,frame.s2s.all"));
//!
//! let err = Profiles::parse("config.toml", "[profiles.work]\nclinet_id = \"x\"\n").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "config.toml:2:1: `profiles.work.clinet_id`: unknown field (did you mean `client_id`?); \
//!      expected one of: preset, kind, client_id, scopes, ims_env, v2_oauth_base_url, \
//!      api_base_url, redirect_uri, store, store_dir, keyring_service, redis_url, \
//!      redis_url_env, redis_namespace, redis_key_id, redis_key_env, redis_key_keyring, \
//!      redis_plaintext, secret_env, secret_keyring, secret",
//! );
//! # Ok::<(), frameio_auth::profiles::ProfileError>(())
//! ```

mod build;
mod env;
mod error;
mod model;
mod parse;
mod session;
mod stored;
mod write;

use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

pub use env::{
    DEFAULT_REDIS_KEY_ID, FRAMEIO_AUTH_API_BASE_URL, FRAMEIO_AUTH_CLIENT_ID,
    FRAMEIO_AUTH_CLIENT_SECRET, FRAMEIO_AUTH_CONFIG, FRAMEIO_AUTH_HOME, FRAMEIO_AUTH_IMS_ENV,
    FRAMEIO_AUTH_PROFILE, FRAMEIO_AUTH_REDIRECT_URI, FRAMEIO_AUTH_REDIS_NAMESPACE,
    FRAMEIO_AUTH_REDIS_URL, FRAMEIO_AUTH_SCOPES, FRAMEIO_AUTH_STORE, FRAMEIO_AUTH_STORE_DIR,
    FRAMEIO_AUTH_V2_OAUTH_BASE_URL, ResolvedProfile, ResolvedRedis,
};
pub use error::ProfileError;
pub use model::{Preset, Profile, ProfileKind, RedisKeyRef, RedisUrlRef, SecretRef, StoreKind};
pub use session::{Identity, IdentitySource, ProfileSession, WhoamiError};

use crate::TokenManager;
use env::SecretNeed;

/// The profiles of one `config.toml`: read, resolved against the environment, changed and
/// written back.
///
/// `Debug` shows the path, the default and the profile names, never the file's text (which
/// may hold an inline secret).
#[derive(Clone)]
pub struct Profiles {
    path: PathBuf,
    doc: DocumentMut,
    default: Option<String>,
    entries: Vec<(String, Profile)>,
    /// Where `secret_keyring` entries are read (default: the OS keyring, on first use).
    #[cfg(feature = "store-keyring")]
    keyring: Option<frameio_auth_store_keyring::KeyringStore>,
}

impl std::fmt::Debug for Profiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiles")
            .field("path", &self.path)
            .field("default", &self.default)
            .field("names", &self.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The process environment, as a lookup function.
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Profiles {
    /// Where `config.toml` is: `FRAMEIO_AUTH_CONFIG` if set, else the platform config
    /// directory of `frameio-auth`.
    pub fn default_path() -> Result<PathBuf, ProfileError> {
        Self::default_path_with(&process_env)
    }

    /// [`default_path`](Self::default_path) with variables from `lookup`.
    pub fn default_path_with(
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PathBuf, ProfileError> {
        if let Some(path) = lookup(FRAMEIO_AUTH_CONFIG).filter(|p| !p.trim().is_empty()) {
            return Ok(PathBuf::from(path));
        }
        directories::ProjectDirs::from("", "", "frameio-auth")
            .map(|dirs| dirs.config_dir().join("config.toml"))
            .ok_or(ProfileError::NoConfigDir)
    }

    /// Reads `config.toml` from [`default_path`](Self::default_path).
    pub fn load() -> Result<Self, ProfileError> {
        Self::load_with(&process_env)
    }

    /// [`load`](Self::load) with variables from `lookup` (tests, other configuration sources).
    pub fn load_with(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ProfileError> {
        Self::load_from(Self::default_path_with(lookup)?)
    }

    /// Reads the profiles of the file at `path`.
    pub fn load_from(path: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let path = path.as_ref();
        let read = |source| ProfileError::Read {
            path: path.to_path_buf(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(read)?;
        let private = is_private(path).map_err(read)?;
        Self::parse_checked(path, &text, private)
    }

    /// Parses `text` as the content of `path` (nothing is read). Inline secrets are refused,
    /// as for a file others can read.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Self, ProfileError> {
        Self::parse_checked(path.as_ref(), text, false)
    }

    fn parse_checked(path: &Path, text: &str, private: bool) -> Result<Self, ProfileError> {
        let parsed = parse::parse(path, text, private)?;
        // Parsing succeeded, so this parse does too; the error branch is for safety only.
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| ProfileError::Invalid {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                field: None,
                message: format!("invalid TOML: {}", e.message()),
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            doc,
            default: parsed.default,
            entries: parsed.profiles,
            #[cfg(feature = "store-keyring")]
            keyring: None,
        })
    }

    /// No profiles yet, to be [saved](Self::save) at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            doc: DocumentMut::new(),
            default: None,
            entries: Vec::new(),
            #[cfg(feature = "store-keyring")]
            keyring: None,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The profile names, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(name, _)| name.as_str())
    }

    /// The profile named `name`, as the file gives it.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, profile)| profile)
    }

    /// The file's `default`.
    pub fn default_name(&self) -> Option<&str> {
        self.default.as_deref()
    }

    /// The profile named `name`, or when `None`, the one `FRAMEIO_AUTH_PROFILE` names, else
    /// the file's `default`; with the environment (`lookup`) and preset applied.
    pub fn resolve(
        &self,
        name: Option<&str>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ResolvedProfile, ProfileError> {
        self.resolve_with(name, lookup, SecretNeed::Required)
    }

    /// [`resolve`](Self::resolve) for what needs only the profile's stored login (showing
    /// it, deleting it locally: [`ResolvedProfile::stored_logins`]), so that it works where
    /// the secret's variable is not set. `secret` is then `None`, and
    /// [`session`](ResolvedProfile::session) refuses the kinds that need one.
    pub fn resolve_without_secret(
        &self,
        name: Option<&str>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ResolvedProfile, ProfileError> {
        self.resolve_with(name, lookup, SecretNeed::NotNeeded)
    }

    fn resolve_with(
        &self,
        name: Option<&str>,
        lookup: &dyn Fn(&str) -> Option<String>,
        need: SecretNeed,
    ) -> Result<ResolvedProfile, ProfileError> {
        let from_env = lookup(FRAMEIO_AUTH_PROFILE).filter(|n| !n.trim().is_empty());
        let name = name
            .map(str::to_owned)
            .or(from_env.map(|n| n.trim().to_owned()))
            .or_else(|| self.default.clone())
            .ok_or_else(|| ProfileError::NoDefault {
                path: self.path.clone(),
            })?;
        let profile = self
            .get(&name)
            .ok_or_else(|| ProfileError::UnknownProfile {
                name: name.clone(),
                path: self.path.clone(),
                known: self.names().map(str::to_owned).collect(),
            })?;
        let keyring =
            |account: &str, profile: &Profile| self.keyring_secret(&name, account, profile);
        env::resolve(&self.path, &name, profile, lookup, &keyring, need)
    }

    /// Reads `secret_keyring` entries from `store` instead of the OS keyring (tests, or a
    /// keyring configured in code).
    #[cfg(feature = "store-keyring")]
    #[cfg_attr(docsrs, doc(cfg(feature = "store-keyring")))]
    #[must_use]
    pub fn with_keyring(mut self, store: frameio_auth_store_keyring::KeyringStore) -> Self {
        self.keyring = Some(store);
        self
    }

    #[cfg(feature = "store-keyring")]
    fn keyring_secret(
        &self,
        name: &str,
        account: &str,
        profile: &Profile,
    ) -> Result<Option<frameio_auth_core::ClientSecret>, ProfileError> {
        let store_error = |source| ProfileError::Store {
            profile: name.to_owned(),
            source,
        };
        let store = match &self.keyring {
            Some(store) => store.clone(),
            None => frameio_auth_store_keyring::KeyringStore::builder()
                .service(
                    profile
                        .keyring_service
                        .as_deref()
                        .unwrap_or(env::DEFAULT_KEYRING_SERVICE),
                )
                .build()
                .map_err(store_error)?,
        };
        store.read_secret(account).map_err(store_error)
    }

    #[cfg(not(feature = "store-keyring"))]
    #[allow(clippy::unused_self)]
    fn keyring_secret(
        &self,
        name: &str,
        _account: &str,
        _profile: &Profile,
    ) -> Result<Option<frameio_auth_core::ClientSecret>, ProfileError> {
        Err(ProfileError::Profile {
            profile: name.to_owned(),
            message: "`secret_keyring` needs the `store-keyring` feature of frameio-auth: \
                      enable it, or export the secret and name its variable with `secret_env`"
                .to_owned(),
        })
    }

    /// A manager for the profile `name` (see [`resolve`](Self::resolve)), with variables from
    /// `lookup`.
    pub fn manager(
        &self,
        name: Option<&str>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<TokenManager, ProfileError> {
        self.resolve(name, lookup)?.manager()
    }

    /// Adds the profile `name`, or changes it: its fields are replaced in place, so the
    /// file's comments and order survive. Call [`save`](Self::save) to write the file.
    pub fn set(&mut self, name: &str, profile: Profile) -> Result<(), ProfileError> {
        parse::check_name(name).map_err(|message| ProfileError::Profile {
            profile: name.to_owned(),
            message,
        })?;
        let table = write::profiles_table(&mut self.doc).ok_or_else(|| ProfileError::Profile {
            profile: name.to_owned(),
            message: format!("`profiles` in {} is not a table", self.path.display()),
        })?;
        if !table.contains_key(name) {
            table.insert(name, toml_edit::Item::Table(toml_edit::Table::new()));
        }
        if let Some(entry) = table.get_mut(name).and_then(write::as_table) {
            write::fill(entry, &profile);
        }
        match self.entries.iter_mut().find(|(n, _)| n == name) {
            Some((_, old)) => *old = profile,
            None => self.entries.push((name.to_owned(), profile)),
        }
        Ok(())
    }

    /// Removes the profile `name` (and the `default` naming it); whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(index) = self.entries.iter().position(|(n, _)| n == name) else {
            return false;
        };
        self.entries.remove(index);
        if let Some(table) = self
            .doc
            .get_mut("profiles")
            .and_then(toml_edit::Item::as_table_like_mut)
        {
            table.remove(name);
        }
        if self.default.as_deref() == Some(name) {
            self.set_default(None);
        }
        true
    }

    /// Sets (or with `None`, removes) the default profile.
    pub fn set_default(&mut self, name: Option<&str>) {
        let Some(name) = name else {
            self.default = None;
            self.doc.remove("default");
            return;
        };
        self.default = Some(name.to_owned());
        if let Some(old) = self
            .doc
            .get_mut("default")
            .and_then(toml_edit::Item::as_value_mut)
        {
            let decor = old.decor().clone();
            *old = name.into();
            *old.decor_mut() = decor;
            return;
        }
        // A new `default` goes at the top, before the tables.
        let root = self.doc.as_table_mut();
        let keys: Vec<String> = root.iter().map(|(k, _)| k.to_owned()).collect();
        let items: Vec<(String, toml_edit::Item)> = keys
            .into_iter()
            .filter_map(|key| root.remove(&key).map(|item| (key, item)))
            .collect();
        root.insert("default", toml_edit::value(name));
        for (key, item) in items {
            root.insert(&key, item);
        }
    }

    /// Writes the file back atomically (temp file, fsync, rename), readable by its owner
    /// only (0600), with the user's comments and order.
    pub fn save(&self) -> Result<(), ProfileError> {
        // Never write a file this crate would refuse to load (a default naming no profile, an
        // empty field): check the new text the way `load` will, before anything is written.
        let text = self.doc.to_string();
        parse::parse(&self.path, &text, true)?;
        write::write_atomically(&self.path, &text).map_err(|source| ProfileError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

#[cfg(unix)]
fn is_private(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt as _;
    Ok(std::fs::metadata(path)?
        .permissions()
        .mode()
        .trailing_zeros()
        >= 6)
}

#[cfg(not(unix))]
fn is_private(_path: &Path) -> std::io::Result<bool> {
    // Windows: a file in the user's profile directory is private by its ACL.
    Ok(true)
}

impl TokenManager {
    /// A manager for the profile `name` of `config.toml` ([`Profiles::load`]), with the
    /// environment applied (`docs/profiles.md`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let token = frameio_auth::TokenManager::from_profile("work")?.access_token().await?;
    /// # Ok(()) }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "profiles")))]
    pub fn from_profile(name: &str) -> Result<Self, ProfileError> {
        Self::from_profile_with(Some(name), &process_env)
    }

    /// A manager for the profile `FRAMEIO_AUTH_PROFILE` names, else the file's `default`.
    #[cfg_attr(docsrs, doc(cfg(feature = "profiles")))]
    pub fn from_default_profile() -> Result<Self, ProfileError> {
        Self::from_profile_with(None, &process_env)
    }

    /// [`from_profile`](Self::from_profile) with every variable (`FRAMEIO_AUTH_CONFIG`
    /// included) from `lookup` instead of the process environment.
    #[cfg_attr(docsrs, doc(cfg(feature = "profiles")))]
    pub fn from_profile_with(
        name: Option<&str>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ProfileError> {
        Profiles::load_with(lookup)?.manager(name, lookup)
    }
}
