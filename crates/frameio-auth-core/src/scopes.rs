//! OAuth scopes: parsed from space- or comma-separated lists, kept canonical.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A scope was not a valid OAuth scope token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The scope was empty.
    #[error("a scope must not be empty")]
    Empty,
    /// The scope held a character that OAuth 2 does not allow in a scope (RFC 6749 §3.3), or
    /// a comma, which frameio-auth treats as a separator.
    #[error(
        "scope {scope:?} contains {character:?}, which is not allowed in an OAuth scope; \
         separate scopes with spaces or commas and use printable ASCII only"
    )]
    InvalidCharacter {
        /// The offending scope.
        scope: String,
        /// The first character that is not allowed.
        character: char,
    },
}

/// One OAuth scope, such as `openid` or `frame.s2s.all`.
///
/// Holds printable ASCII except space, `"`, `\` (RFC 6749 §3.3) and `,` (a separator here).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(Box<str>);

fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x2b' | '\x2d'..='\x5b' | '\x5d'..='\x7e')
}

impl Scope {
    /// Validates one scope.
    ///
    /// ```
    /// use frameio_auth_core::Scope;
    /// assert!(Scope::new("additional_info.roles").is_ok());
    /// assert!(Scope::new("two words").is_err());
    /// ```
    pub fn new(scope: &str) -> Result<Self, ScopeError> {
        if scope.is_empty() {
            return Err(ScopeError::Empty);
        }
        if let Some(character) = scope.chars().find(|c| !is_scope_char(*c)) {
            return Err(ScopeError::InvalidCharacter {
                scope: scope.to_owned(),
                character,
            });
        }
        Ok(Self(scope.into()))
    }

    /// The scope as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// A set of OAuth scopes, deduplicated and in canonical (byte-wise ascending) order.
///
/// Adobe IMS accepts space- or comma-separated lists and wants commas for Server-to-Server;
/// Frame.io V2 uses spaces. `Scopes` parses either (or a mix) and renders either, so the same
/// set always has the same text, which makes it usable in [`TokenKey`](crate::TokenKey)s.
///
/// ```
/// use frameio_auth_core::Scopes;
///
/// let scopes: Scopes = "openid, AdobeID,frame.s2s.all openid".parse()?;
/// assert_eq!(scopes.to_comma_separated(), "AdobeID,frame.s2s.all,openid");
/// assert_eq!(scopes.to_space_separated(), "AdobeID frame.s2s.all openid");
/// assert!(Scopes::parse("openid")?.is_subset(&scopes));
/// # Ok::<(), frameio_auth_core::ScopeError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a list separated by spaces, commas or both; empty items are skipped.
    pub fn parse(list: &str) -> Result<Self, ScopeError> {
        list.split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|item| !item.is_empty())
            .map(Scope::new)
            .collect()
    }

    /// Builds a set from individual scope strings, each validated.
    pub fn try_from_iter<I>(scopes: I) -> Result<Self, ScopeError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        scopes.into_iter().map(|s| Scope::new(s.as_ref())).collect()
    }

    /// Adds a scope; returns whether it was new.
    pub fn insert(&mut self, scope: Scope) -> bool {
        self.0.insert(scope)
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.as_str() == scope)
    }

    /// Whether every scope here is also in `other`.
    pub fn is_subset(&self, other: &Self) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Whether every scope of `other` is also here.
    pub fn is_superset(&self, other: &Self) -> bool {
        self.0.is_superset(&other.0)
    }

    /// The scopes of `other` that are missing here.
    #[must_use]
    pub fn missing_from(&self, other: &Self) -> Self {
        Self(other.0.difference(&self.0).cloned().collect())
    }

    /// Number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no scopes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// Space-separated, as OAuth 2 and Frame.io V2 expect.
    pub fn to_space_separated(&self) -> String {
        self.join(' ')
    }

    /// Comma-separated, as IMS expects for `client_credentials`.
    pub fn to_comma_separated(&self) -> String {
        self.join(',')
    }

    fn join(&self, separator: char) -> String {
        let mut out = String::with_capacity(self.0.iter().map(|s| s.0.len() + 1).sum());
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(separator);
            }
            out.push_str(scope.as_str());
        }
        out
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<T: IntoIterator<Item = Scope>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Scopes {
    type Item = &'a Scope;
    type IntoIter = std::collections::btree_set::Iter<'a, Scope>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromStr for Scopes {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Scopes {
    /// Space-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_space_separated())
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.iter()).finish()
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_space_separated())
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mixed_separators_and_deduplicates() {
        let scopes = Scopes::parse(" openid,,AdobeID  openid\tprofile ,").unwrap();
        assert_eq!(scopes.len(), 3);
        assert_eq!(scopes.to_space_separated(), "AdobeID openid profile");
    }

    #[test]
    fn empty_list_is_empty_set() {
        assert!(Scopes::parse("").unwrap().is_empty());
        assert!(Scopes::parse(" , ").unwrap().is_empty());
        assert_eq!(Scopes::new().to_comma_separated(), "");
    }

    #[test]
    fn rejects_forbidden_characters() {
        assert!(matches!(
            Scopes::parse("open\"id"),
            Err(ScopeError::InvalidCharacter { character: '"', .. })
        ));
        assert!(Scope::new("a\\b").is_err());
        assert!(Scope::new("é").is_err());
        assert!(Scope::new("a,b").is_err());
        assert_eq!(Scope::new(""), Err(ScopeError::Empty));
    }

    #[test]
    fn subset_and_missing() {
        let granted = Scopes::parse("a b c").unwrap();
        let wanted = Scopes::parse("b d").unwrap();
        assert!(!wanted.is_subset(&granted));
        assert_eq!(granted.missing_from(&wanted).to_space_separated(), "d");
        assert!(granted.is_superset(&Scopes::parse("a,c").unwrap()));
        assert!(granted.contains("c"));
    }

    #[test]
    fn serde_uses_space_separated_text() {
        let scopes = Scopes::parse("b,a").unwrap();
        let json = serde_json::to_string(&scopes).unwrap();
        assert_eq!(json, "\"a b\"");
        let back: Scopes = serde_json::from_str(&json).unwrap();
        assert_eq!(back, scopes);
        assert!(serde_json::from_str::<Scopes>("\"a\\\"b\"").is_err());
    }
}
