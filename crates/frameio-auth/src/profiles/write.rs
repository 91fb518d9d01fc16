//! Changing profiles and writing `config.toml` back: atomically (temp file, fsync, rename,
//! fsync of the directory), 0600, keeping the user's comments and order (`toml_edit`).

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, value};

use super::model::{Profile, RedisKeyRef, RedisUrlRef, SecretRef};

/// Writes `profile` into `table`, field by field: a field kept keeps its place and comments,
/// a new one goes to the end, a field the profile no longer has is removed.
pub(super) fn fill(table: &mut Table, profile: &Profile) {
    let secret = profile.secret.as_ref();
    let url = profile.redis_url.as_ref();
    let key = profile.redis_key.as_ref();
    let fields: [(&str, Option<String>); 20] = [
        ("preset", profile.preset.map(|p| p.as_str().to_owned())),
        ("kind", profile.kind.map(|k| k.as_str().to_owned())),
        ("client_id", profile.client_id.clone()),
        ("scopes", profile.scopes.clone()),
        ("ims_env", profile.ims_env.clone()),
        ("v2_oauth_base_url", profile.v2_oauth_base_url.clone()),
        ("api_base_url", profile.api_base_url.clone()),
        ("redirect_uri", profile.redirect_uri.clone()),
        ("store", profile.store.map(|s| s.as_str().to_owned())),
        ("store_dir", profile.store_dir.clone()),
        ("keyring_service", profile.keyring_service.clone()),
        (
            "redis_url",
            match url {
                Some(RedisUrlRef::Url(url)) => Some(url.clone()),
                _ => None,
            },
        ),
        (
            "redis_url_env",
            match url {
                Some(RedisUrlRef::Env(name)) => Some(name.clone()),
                _ => None,
            },
        ),
        ("redis_namespace", profile.redis_namespace.clone()),
        ("redis_key_id", profile.redis_key_id.clone()),
        (
            "redis_key_env",
            match key {
                Some(RedisKeyRef::Env(name)) => Some(name.clone()),
                _ => None,
            },
        ),
        (
            "redis_key_keyring",
            match key {
                Some(RedisKeyRef::Keyring(name)) => Some(name.clone()),
                _ => None,
            },
        ),
        (
            "secret_env",
            match secret {
                Some(SecretRef::Env(name)) => Some(name.clone()),
                _ => None,
            },
        ),
        (
            "secret_keyring",
            match secret {
                Some(SecretRef::Keyring(name)) => Some(name.clone()),
                _ => None,
            },
        ),
        (
            "secret",
            match secret {
                Some(SecretRef::Inline(secret)) => Some(secret.expose_secret().to_owned()),
                _ => None,
            },
        ),
    ];
    // The one boolean field.
    if matches!(key, Some(RedisKeyRef::Plaintext)) {
        if table.get("redis_plaintext").and_then(Item::as_bool) != Some(true) {
            table.insert("redis_plaintext", value(true));
        }
    } else {
        table.remove("redis_plaintext");
    }
    for (key, new) in fields {
        match new {
            None => {
                table.remove(key);
            }
            Some(new) => {
                let same = table.get(key).and_then(Item::as_str) == Some(new.as_str());
                if same {
                    continue;
                }
                match table.get_mut(key).and_then(Item::as_value_mut) {
                    Some(old) => {
                        // Keep the comments around the old value.
                        let decor = old.decor().clone();
                        *old = new.into();
                        *old.decor_mut() = decor;
                    }
                    None => {
                        table.insert(key, value(new));
                    }
                }
            }
        }
    }
}

/// The `[profiles]` table of `doc`, created (implicit, so no empty header) when missing.
pub(super) fn profiles_table(doc: &mut DocumentMut) -> Option<&mut Table> {
    if !doc.contains_key("profiles") {
        let mut table = Table::new();
        table.set_implicit(true);
        doc.insert("profiles", Item::Table(table));
    }
    let item = doc.get_mut("profiles")?;
    as_table(item)
}

/// `item` as a table: an inline table (`{ ... }`) becomes a standard one, to be edited.
pub(super) fn as_table(item: &mut Item) -> Option<&mut Table> {
    if let Item::Value(toml_edit::Value::InlineTable(inline)) = item {
        let table = std::mem::take(inline).into_table();
        *item = Item::Table(table);
    }
    item.as_table_mut()
}

/// Replaces `path` with `text` atomically, readable by its owner only.
pub(super) fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let file_name = path.file_name().map_or_else(
        || "config.toml".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| std::io::Error::other(e.to_string()))?;
    let suffix: String = suffix
        .iter()
        .fold(String::new(), |acc, b| acc + &format!("{b:02x}"));
    let temp = dir.join(format!(".{file_name}.{suffix}.tmp"));
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)?;
        #[cfg(unix)]
        fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}
