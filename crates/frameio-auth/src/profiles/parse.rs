//! Reading `config.toml`: every error names the file, line, column and field, and says what is
//! expected. Unknown fields are errors, with a suggestion for near misses.

use std::path::Path;

use frameio_auth_core::ClientSecret;
use toml_edit::{Item, Table, Value};

use super::error::ProfileError;
use super::model::{Preset, Profile, ProfileKind, RedisKeyRef, RedisUrlRef, SecretRef, StoreKind};

/// The top-level fields.
pub(super) const TOP_FIELDS: &[&str] = &["default", "profiles"];
/// The fields of a profile.
pub(super) const PROFILE_FIELDS: &[&str] = &[
    "preset",
    "kind",
    "client_id",
    "scopes",
    "ims_env",
    "v2_oauth_base_url",
    "api_base_url",
    "redirect_uri",
    "store",
    "store_dir",
    "keyring_service",
    "redis_url",
    "redis_url_env",
    "redis_namespace",
    "redis_key_id",
    "redis_key_env",
    "redis_key_keyring",
    "redis_plaintext",
    "secret_env",
    "secret_keyring",
    "secret",
];

/// The file's content, parsed.
#[derive(Debug)]
pub(super) struct Parsed {
    pub(super) default: Option<String>,
    pub(super) profiles: Vec<(String, Profile)>,
}

/// Where an error points.
struct At<'a> {
    path: &'a Path,
    text: &'a str,
}

impl At<'_> {
    fn error(&self, offset: usize, field: Option<String>, message: String) -> ProfileError {
        let (line, column) = line_column(self.text, offset);
        ProfileError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            field,
            message,
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Parses the text of `path`. `private` says whether the file is readable by its owner only
/// (an inline secret is refused otherwise).
pub(super) fn parse(path: &Path, text: &str, private: bool) -> Result<Parsed, ProfileError> {
    let at = At { path, text };
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        at.error(
            offset,
            None,
            format!("invalid TOML: {}", e.message().trim_end()),
        )
    })?;
    let root = doc.as_table();
    check_fields(&at, root, TOP_FIELDS, "")?;
    let default = match root.get("default") {
        None => None,
        Some(item) => Some(string(&at, root, "default", item, "default")?),
    };
    let mut profiles = Vec::new();
    if let Some(item) = root.get("profiles") {
        let Some(table) = item.as_table_like() else {
            return Err(at.error(
                span_start(root, "profiles", item),
                Some("profiles".to_owned()),
                "expected a table of profiles, such as `[profiles.work]`".to_owned(),
            ));
        };
        for (name, item) in table.iter() {
            let field = format!("profiles.{name}");
            let offset = table
                .key(name)
                .and_then(toml_edit::Key::span)
                .map_or(0, |s| s.start);
            check_name(name).map_err(|m| at.error(offset, Some(field.clone()), m))?;
            let inline;
            let fields = match item {
                Item::Table(fields) => fields,
                Item::Value(Value::InlineTable(fields)) => {
                    inline = fields.clone().into_table();
                    &inline
                }
                _ => {
                    return Err(at.error(
                        item.span().map_or(offset, |s| s.start),
                        Some(field),
                        format!("expected a table, such as `[profiles.{name}]`"),
                    ));
                }
            };
            profiles.push((name.to_owned(), parse_profile(&at, name, fields, private)?));
        }
    }
    if let Some(name) = default
        .as_ref()
        .filter(|name| !profiles.iter().any(|(n, _)| n == *name))
    {
        {
            let offset = root
                .get("default")
                .map_or(0, |i| span_start(root, "default", i));
            let known: Vec<&str> = profiles.iter().map(|(n, _)| n.as_str()).collect();
            return Err(at.error(
                offset,
                Some("default".to_owned()),
                format!(
                    "no profile `{name}`: expected the name of a profile ({}){}",
                    if known.is_empty() {
                        "none defined".to_owned()
                    } else {
                        known.join(", ")
                    },
                    suggestion(name, &known)
                ),
            ));
        }
    }
    Ok(Parsed { default, profiles })
}

/// A profile name: letters, digits, `-` and `_`.
/// Whether `name` can be an environment variable's name.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn check_name(name: &str) -> Result<(), String> {
    if !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err("expected a profile name of 1 to 64 ASCII letters, digits, `-` or `_`".to_owned())
    }
}

fn span_start(table: &dyn toml_edit::TableLike, key: &str, item: &Item) -> usize {
    item.span()
        .or_else(|| table.key(key).and_then(toml_edit::Key::span))
        .map_or(0, |s| s.start)
}

fn check_fields(
    at: &At<'_>,
    table: &Table,
    known: &[&str],
    prefix: &str,
) -> Result<(), ProfileError> {
    for (key, _) in table {
        if !known.contains(&key) {
            let offset = table
                .key(key)
                .and_then(toml_edit::Key::span)
                .map_or(0, |s| s.start);
            return Err(at.error(
                offset,
                Some(format!("{prefix}{key}")),
                format!(
                    "unknown field{}; expected one of: {}",
                    suggestion(key, known),
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// `; did you mean `x`?` for a near miss, else nothing.
pub(super) fn suggestion(word: &str, candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) && *d > 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// Levenshtein distance, in characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

fn string(
    at: &At<'_>,
    table: &Table,
    key: &str,
    item: &Item,
    field: &str,
) -> Result<String, ProfileError> {
    match item.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(_) => Err(at.error(
            span_start(table, key, item),
            Some(field.to_owned()),
            "is empty: expected a non-empty string".to_owned(),
        )),
        None => Err(at.error(
            span_start(table, key, item),
            Some(field.to_owned()),
            format!("expected a string, found {}", type_name(item)),
        )),
    }
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) | Item::Value(Value::InlineTable(_)) => "a table",
        Item::ArrayOfTables(_) | Item::Value(Value::Array(_)) => "an array",
        Item::Value(Value::String(_)) => "a string",
        Item::Value(Value::Integer(_)) => "an integer",
        Item::Value(Value::Float(_)) => "a float",
        Item::Value(Value::Boolean(_)) => "a boolean",
        Item::Value(Value::Datetime(_)) => "a date-time",
    }
}

fn one_of<T: Copy>(
    at: &At<'_>,
    table: &Table,
    key: &str,
    item: &Item,
    field: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, ProfileError> {
    let value = string(at, table, key, item, field)?;
    let names: Vec<&str> = all.iter().map(|t| name(*t)).collect();
    all.iter()
        .copied()
        .find(|t| name(*t) == value)
        .ok_or_else(|| {
            at.error(
                span_start(table, key, item),
                Some(field.to_owned()),
                format!(
                    "unknown value `{value}`{}; expected one of: {}",
                    suggestion(&value, &names),
                    names.join(", ")
                ),
            )
        })
}

fn parse_profile(
    at: &At<'_>,
    name: &str,
    table: &Table,
    private: bool,
) -> Result<Profile, ProfileError> {
    let prefix = format!("profiles.{name}.");
    check_fields(at, table, PROFILE_FIELDS, &prefix)?;
    let mut profile = Profile::default();
    let mut secret_key: Option<&str> = None;
    let mut redis_seen = RedisSeen::default();
    for (key, item) in table {
        let field = format!("{prefix}{key}");
        let text = |at: &At<'_>| string(at, table, key, item, &field);
        match key {
            "preset" => {
                profile.preset = Some(one_of(
                    at,
                    table,
                    key,
                    item,
                    &field,
                    &Preset::ALL,
                    Preset::as_str,
                )?);
            }
            "kind" => {
                profile.kind = Some(one_of(
                    at,
                    table,
                    key,
                    item,
                    &field,
                    &ProfileKind::ALL,
                    ProfileKind::as_str,
                )?);
            }
            "store" => {
                profile.store = Some(one_of(
                    at,
                    table,
                    key,
                    item,
                    &field,
                    &StoreKind::ALL,
                    StoreKind::as_str,
                )?);
            }
            "scopes" => profile.scopes = Some(scopes(at, table, key, item, &field)?),
            "client_id" => profile.client_id = Some(text(at)?),
            "ims_env" => profile.ims_env = Some(text(at)?),
            "v2_oauth_base_url" => profile.v2_oauth_base_url = Some(text(at)?),
            "api_base_url" => profile.api_base_url = Some(text(at)?),
            "redirect_uri" => profile.redirect_uri = Some(text(at)?),
            "store_dir" => profile.store_dir = Some(text(at)?),
            "keyring_service" => profile.keyring_service = Some(text(at)?),
            "redis_namespace" => profile.redis_namespace = Some(text(at)?),
            "redis_key_id" => profile.redis_key_id = Some(text(at)?),
            "redis_url" | "redis_url_env" | "redis_key_env" | "redis_key_keyring"
            | "redis_plaintext" => {
                redis_field(at, table, key, item, &field, &mut profile, &mut redis_seen)?;
            }
            "secret_env" | "secret_keyring" | "secret" => {
                if let Some(first) = secret_key {
                    return Err(at.error(
                        span_start(table, key, item),
                        Some(field),
                        format!(
                            "the secret is already given by `{first}`: expected one of \
                             secret_env, secret_keyring or secret"
                        ),
                    ));
                }
                secret_key = Some(key);
                let value = text(at)?;
                if key == "secret_env" {
                    variable_name(at, table, key, item, &field, &value)?;
                }
                profile.secret = Some(match key {
                    "secret_env" => SecretRef::Env(value),
                    "secret_keyring" => SecretRef::Keyring(value),
                    _ => {
                        if !private {
                            return Err(at.error(
                                span_start(table, key, item),
                                Some(field),
                                format!(
                                    "an inline secret is only accepted in a private file: run \
                                     `chmod 600 {}`, or better, export the secret and name \
                                     its variable with `secret_env`",
                                    at.path.display()
                                ),
                            ));
                        }
                        SecretRef::Inline(ClientSecret::new(value))
                    }
                });
            }
            _ => {}
        }
    }
    Ok(profile)
}

/// Which of the exclusive Redis fields a profile gave so far.
#[derive(Default)]
struct RedisSeen<'k> {
    url: Option<&'k str>,
    key: Option<&'k str>,
}

/// One of the `redis` store's URL and key fields.
fn redis_field<'k>(
    at: &At<'_>,
    table: &Table,
    key: &'k str,
    item: &Item,
    field: &str,
    profile: &mut Profile,
    seen: &mut RedisSeen<'k>,
) -> Result<(), ProfileError> {
    let text = |at: &At<'_>| string(at, table, key, item, field);
    let fail = |message: String| {
        at.error(
            span_start(table, key, item),
            Some(field.to_owned()),
            message,
        )
    };
    let is_url = matches!(key, "redis_url" | "redis_url_env");
    let (slot, group) = if is_url {
        (&mut seen.url, &["redis_url", "redis_url_env"][..])
    } else {
        (
            &mut seen.key,
            &["redis_key_env", "redis_key_keyring", "redis_plaintext"][..],
        )
    };
    exclusive(at, table, key, item, field, slot, group)?;
    if is_url {
        let value = text(at)?;
        profile.redis_url = Some(if key == "redis_url" {
            if url_has_password(&value) {
                // Never echo the value: it holds a password.
                return Err(fail(
                    "this URL holds a password: keep it out of the file; export the URL and \
                     name its variable with `redis_url_env`"
                        .to_owned(),
                ));
            }
            RedisUrlRef::Url(value)
        } else {
            variable_name(at, table, key, item, field, &value)?;
            RedisUrlRef::Env(value)
        });
        return Ok(());
    }
    profile.redis_key = match key {
        "redis_plaintext" => match item.as_bool() {
            Some(true) => Some(RedisKeyRef::Plaintext),
            Some(false) => None,
            None => {
                return Err(fail(format!(
                    "expected `true` or `false`, found {}",
                    type_name(item)
                )));
            }
        },
        "redis_key_env" => {
            let value = text(at)?;
            variable_name(at, table, key, item, field, &value)?;
            Some(RedisKeyRef::Env(value))
        }
        _ => Some(RedisKeyRef::Keyring(text(at)?)),
    };
    Ok(())
}

/// `value` must name an environment variable. Never echoes it: a secret pasted there by
/// mistake must not be printed.
fn variable_name(
    at: &At<'_>,
    table: &Table,
    key: &str,
    item: &Item,
    field: &str,
    value: &str,
) -> Result<(), ProfileError> {
    if is_variable_name(value) {
        return Ok(());
    }
    Err(at.error(
        span_start(table, key, item),
        Some(field.to_owned()),
        "expected the name of an environment variable (letters, digits and `_`, not starting \
         with a digit); if this is the secret itself, remove it from the file, export it, and \
         name its variable here"
            .to_owned(),
    ))
}

/// Only one of `group` may be given: `seen` is the one already given.
fn exclusive<'k>(
    at: &At<'_>,
    table: &Table,
    key: &'k str,
    item: &Item,
    field: &str,
    seen: &mut Option<&'k str>,
    group: &[&str],
) -> Result<(), ProfileError> {
    if let Some(first) = seen {
        return Err(at.error(
            span_start(table, key, item),
            Some(field.to_owned()),
            format!(
                "already given by `{first}`: expected one of {}",
                group.join(", ")
            ),
        ));
    }
    *seen = Some(key);
    Ok(())
}

/// Whether a URL carries a password (`scheme://user:password@host`).
fn url_has_password(url: &str) -> bool {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        .and_then(|authority| authority.rsplit_once('@'))
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

fn scopes(
    at: &At<'_>,
    table: &Table,
    key: &str,
    item: &Item,
    field: &str,
) -> Result<String, ProfileError> {
    if let Some(array) = item.as_array() {
        let mut list = Vec::new();
        for value in array {
            match value.as_str() {
                Some(s) if !s.trim().is_empty() => list.push(s.trim().to_owned()),
                _ => {
                    return Err(at.error(
                        value
                            .span()
                            .map_or(span_start(table, key, item), |s| s.start),
                        Some(field.to_owned()),
                        "expected an array of non-empty strings, such as [\"openid\", \"AdobeID\"]"
                            .to_owned(),
                    ));
                }
            }
        }
        return Ok(list.join(","));
    }
    string(at, table, key, item, field).map_err(|_| {
        at.error(
            span_start(table, key, item),
            Some(field.to_owned()),
            format!(
                "expected a string of comma-separated scopes or an array of strings, found {}",
                type_name(item)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("kind", "kind"), 0);
        assert_eq!(edit_distance("clinet_id", "client_id"), 2);
        assert_eq!(edit_distance("défault", "default"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggestions_are_for_near_misses_only() {
        assert_eq!(
            suggestion("scope", PROFILE_FIELDS),
            " (did you mean `scopes`?)"
        );
        assert_eq!(suggestion("colour", PROFILE_FIELDS), "");
        assert_eq!(suggestion("kind", PROFILE_FIELDS), "");
    }

    #[test]
    fn line_and_column_count_characters_and_clamp() {
        let text = "ab\ncé d\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 6), (2, 3)); // after the two-byte é
        assert_eq!(line_column(text, 5), (2, 2)); // inside é: its start
        assert_eq!(line_column(text, 100), (3, 1));
    }
}
