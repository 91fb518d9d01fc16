//! Frame.io V2 OAuth scopes.

use std::fmt;
use std::str::FromStr;

use frameio_auth_core::{ConfigError, Scopes};

macro_rules! v2_scopes {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, )*) => {
        /// A Frame.io V2 OAuth scope.
        ///
        /// Every scope Frame.io V2 documents has a variant; anything else parses to
        /// [`Other`](Self::Other), so a scope this crate does not know yet still works.
        /// Scopes are written space-separated in requests (see [`render`]).
        ///
        /// ```
        /// use frameio_auth_v2::V2Scope;
        ///
        /// assert_eq!("asset.read".parse::<V2Scope>().unwrap(), V2Scope::AssetRead);
        /// assert_eq!(V2Scope::Offline.as_str(), "offline");
        /// assert_eq!(
        ///     "share.read".parse::<V2Scope>().unwrap(),
        ///     V2Scope::Other("share.read".into())
        /// );
        /// ```
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum V2Scope {
            $( $(#[$doc])* $variant, )*
            /// A scope this crate has no variant for, kept as written.
            Other(String),
        }

        impl V2Scope {
            /// Every scope with a variant, in documentation order.
            pub const KNOWN: &'static [V2Scope] = &[$( V2Scope::$variant, )*];

            /// The scope as Frame.io writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Other(text) => text,
                }
            }

            /// The scope for `text`: a known variant, or [`Other`](Self::Other).
            pub fn parse(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }
    };
}

v2_scopes! {
    /// `account.read`: read the account.
    AccountRead => "account.read",
    /// `team.read`.
    TeamRead => "team.read",
    /// `team.create`.
    TeamCreate => "team.create",
    /// `team.update`.
    TeamUpdate => "team.update",
    /// `project.read`.
    ProjectRead => "project.read",
    /// `project.create`.
    ProjectCreate => "project.create",
    /// `project.update`.
    ProjectUpdate => "project.update",
    /// `project.delete`.
    ProjectDelete => "project.delete",
    /// `asset.read`.
    AssetRead => "asset.read",
    /// `asset.create`.
    AssetCreate => "asset.create",
    /// `asset.update`.
    AssetUpdate => "asset.update",
    /// `asset.delete`.
    AssetDelete => "asset.delete",
    /// `comment.read`.
    CommentRead => "comment.read",
    /// `comment.create`.
    CommentCreate => "comment.create",
    /// `comment.update`.
    CommentUpdate => "comment.update",
    /// `comment.delete`.
    CommentDelete => "comment.delete",
    /// `reviewlink.read`.
    ReviewLinkRead => "reviewlink.read",
    /// `reviewlink.create`.
    ReviewLinkCreate => "reviewlink.create",
    /// `reviewlink.update`.
    ReviewLinkUpdate => "reviewlink.update",
    /// `reviewlink.delete`.
    ReviewLinkDelete => "reviewlink.delete",
    /// `presentation.read`.
    PresentationRead => "presentation.read",
    /// `presentation.create`.
    PresentationCreate => "presentation.create",
    /// `presentation.update`.
    PresentationUpdate => "presentation.update",
    /// `presentation.delete`.
    PresentationDelete => "presentation.delete",
    /// `action.read` (custom actions).
    ActionRead => "action.read",
    /// `action.create`.
    ActionCreate => "action.create",
    /// `action.update`.
    ActionUpdate => "action.update",
    /// `action.delete`.
    ActionDelete => "action.delete",
    /// `webhook.read`.
    WebhookRead => "webhook.read",
    /// `webhook.create`.
    WebhookCreate => "webhook.create",
    /// `webhook.update`.
    WebhookUpdate => "webhook.update",
    /// `webhook.delete`.
    WebhookDelete => "webhook.delete",
    /// `auditlog.read`.
    AuditLogRead => "auditlog.read",
    /// `offline`: asks for a refresh token (which lives 30 days). Without it the login ends
    /// when the 1-hour access token expires.
    Offline => "offline",
}

impl fmt::Display for V2Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for V2Scope {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

impl From<&str> for V2Scope {
    fn from(text: &str) -> Self {
        Self::parse(text)
    }
}

/// Writes `scopes` space-separated, as Frame.io V2 wants them, in the order given and without
/// repeats.
///
/// ```
/// use frameio_auth_v2::{V2Scope, render};
/// assert_eq!(
///     render(&[V2Scope::AccountRead, V2Scope::AssetRead, V2Scope::Offline, V2Scope::AssetRead]),
///     "account.read asset.read offline"
/// );
/// ```
pub fn render(scopes: &[V2Scope]) -> String {
    let mut seen: Vec<&str> = Vec::with_capacity(scopes.len());
    for scope in scopes {
        if !seen.contains(&scope.as_str()) {
            seen.push(scope.as_str());
        }
    }
    seen.join(" ")
}

/// Parses a scope list (space- or comma-separated) into scopes.
///
/// ```
/// use frameio_auth_v2::{V2Scope, parse_list};
/// assert_eq!(parse_list("account.read, offline"), [V2Scope::AccountRead, V2Scope::Offline]);
/// ```
pub fn parse_list(list: &str) -> Vec<V2Scope> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(V2Scope::parse)
        .collect()
}

/// The core [`Scopes`] set for `scopes` (for token sets and keys). Fails on a scope with
/// characters OAuth does not allow (such as a space or a quote inside [`V2Scope::Other`]).
pub(crate) fn to_core(scopes: &[V2Scope]) -> Result<Scopes, ConfigError> {
    Scopes::try_from_iter(scopes.iter().map(V2Scope::as_str))
        .map_err(|e| ConfigError::new(format!("invalid Frame.io V2 scope: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_scope_round_trips() {
        // 1 account + 3 team + 4 project + 6 families of 4 + auditlog + offline.
        assert_eq!(V2Scope::KNOWN.len(), 1 + 3 + 4 + 6 * 4 + 1 + 1);
        for scope in V2Scope::KNOWN {
            assert_eq!(&V2Scope::parse(scope.as_str()), scope);
            assert_eq!(scope.to_string(), scope.as_str());
            assert!(!matches!(scope, V2Scope::Other(_)));
        }
        for family in [
            "asset",
            "comment",
            "reviewlink",
            "presentation",
            "action",
            "webhook",
        ] {
            for verb in ["read", "create", "update", "delete"] {
                let text = format!("{family}.{verb}");
                assert!(
                    !matches!(V2Scope::parse(&text), V2Scope::Other(_)),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn unknown_scopes_are_kept() {
        let scope = V2Scope::parse("Asset.Read");
        assert_eq!(scope, V2Scope::Other("Asset.Read".into()));
        assert_eq!(scope.as_str(), "Asset.Read");
    }

    #[test]
    fn core_conversion_checks_characters() {
        let ok = to_core(&[V2Scope::Offline, V2Scope::AccountRead]).unwrap();
        assert_eq!(ok.to_space_separated(), "account.read offline");
        assert!(to_core(&[V2Scope::Other("a\"b".into())]).is_err());
    }
}
