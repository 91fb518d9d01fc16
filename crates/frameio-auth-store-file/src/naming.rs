//! File names for entries: readable and reversible when short, a hash when long, and never two
//! keys on one name on a case-insensitive file system.

use frameio_auth_core::TokenKey;
use sha2::{Digest, Sha256};

/// The extension of entry files. Only `*.token` files are entries.
pub(crate) const ENTRY_SUFFIX: &str = ".token";
/// The extension of lock files (one per key, left in place).
pub(crate) const LOCK_SUFFIX: &str = ".lock";
/// The prefix of hashed names. A readable name always contains `~` (a key has five parts),
/// a hashed one never does, so the two cannot collide.
pub(crate) const HASHED_PREFIX: &str = "sha256-";
/// The longest readable stem. With the longest suffix (`.corrupt-` and a 20-digit time) the
/// name stays well under the 255-byte limit of common file systems.
pub(crate) const MAX_READABLE_STEM: usize = 200;
/// Marks an upper-case letter in a readable name: `A` is written `^a`.
const UPPER_MARK: char = '^';

/// The stem (name without extension) used for `key`'s entry and lock files.
///
/// The key's string form is already file-name safe (`A-Z a-z 0-9 - _ . % ~ ,`), but case
/// matters in it and not on every file system. So each upper-case letter `X` is written
/// `^x`: the stem is all lower case, reversible, and unique however the file system folds
/// case. A stem longer than [`MAX_READABLE_STEM`] is replaced by `sha256-` and the SHA-256
/// of the key string in lower-case hex; the key itself is kept inside the file (`"key"`).
pub(crate) fn stem(key: &TokenKey) -> String {
    let text = key.as_str();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_ascii_uppercase() {
            out.push(UPPER_MARK);
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    if out.len() <= MAX_READABLE_STEM {
        out
    } else {
        hashed_stem(text)
    }
}

fn hashed_stem(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(HASHED_PREFIX.len() + 64);
    out.push_str(HASHED_PREFIX);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// What an entry file name says about its key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NameKind {
    /// A readable name: the key, decoded from the name.
    Readable(TokenKey),
    /// A hashed name: the key must be read from the file.
    Hashed,
}

/// Classifies a directory entry's name: `None` for anything that is not an entry file
/// (temporary files, lock files, quarantined files, files of other programs).
pub(crate) fn parse_entry_name(name: &str) -> Option<NameKind> {
    let stem = name.strip_suffix(ENTRY_SUFFIX)?;
    if stem.starts_with('.') {
        return None;
    }
    if let Some(hex) = stem.strip_prefix(HASHED_PREFIX) {
        let valid = hex.len() == 64 && hex.bytes().all(|b| HEX.contains(&b));
        return valid.then_some(NameKind::Hashed);
    }
    let mut text = String::with_capacity(stem.len());
    let mut chars = stem.chars();
    while let Some(c) = chars.next() {
        match c {
            UPPER_MARK => match chars.next() {
                Some(lower) if lower.is_ascii_lowercase() => text.push(lower.to_ascii_uppercase()),
                _ => return None,
            },
            c if c.is_ascii_uppercase() => return None,
            c => text.push(c),
        }
    }
    TokenKey::parse(&text).ok().map(NameKind::Readable)
}

#[cfg(test)]
mod tests {
    use frameio_auth_core::Scopes;

    use super::*;

    fn key(profile: &str, scopes: &str) -> TokenKey {
        TokenKey::builder("ims", "prod", "Client")
            .profile(profile)
            .scopes(Scopes::parse(scopes).unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn readable_names_round_trip_and_are_case_safe() {
        let upper = key("Alice", "AdobeID,openid");
        let lower = key("alice", "AdobeID,openid");
        let (a, b) = (stem(&upper), stem(&lower));
        assert_eq!(a, "ims~prod~^client~^alice~^adobe^i^d,openid");
        assert_ne!(a.to_lowercase(), b.to_lowercase());
        assert_eq!(a, a.to_lowercase());
        for k in [upper, lower] {
            let name = format!("{}{ENTRY_SUFFIX}", stem(&k));
            assert_eq!(parse_entry_name(&name), Some(NameKind::Readable(k)));
        }
    }

    #[test]
    fn long_keys_get_a_hashed_name_under_the_limit() {
        let scopes: Vec<String> = (0..40).map(|i| format!("Scope{i}")).collect();
        let long = key("bob", &scopes.join(","));
        let name = stem(&long);
        assert!(name.starts_with(HASHED_PREFIX), "{name}");
        assert_eq!(name.len(), HASHED_PREFIX.len() + 64);
        assert_eq!(
            parse_entry_name(&format!("{name}{ENTRY_SUFFIX}")),
            Some(NameKind::Hashed)
        );
        // Another long key differing only in case gets another name.
        let other = key("Bob", &scopes.join(","));
        assert_ne!(stem(&other), name);
    }

    #[test]
    fn other_files_are_not_entries() {
        for name in [
            "notes.txt",
            ".ims~prod~c~d~.token.1234.tmp",
            ".hidden.token",
            "ims~prod~c~d~.lock",
            "ims~prod~c~d~.corrupt-1700000000000",
            "IMS~prod~c~d~.token",
            "ims~prod~c~d~^.token",
            "sha256-xyz.token",
            "random.token",
        ] {
            assert_eq!(parse_entry_name(name), None, "{name}");
        }
    }
}
