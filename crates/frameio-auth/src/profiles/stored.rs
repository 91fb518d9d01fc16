//! A profile's logins in its store, found without its secret: by provider and profile name.

use frameio_auth_core::{TokenKey, TokenSet};

use super::env::ResolvedProfile;
use super::error::ProfileError;
use super::model::ProfileKind;

impl ResolvedProfile {
    /// The logins its store holds for this profile, newest first: entries of the profile's
    /// provider and name (and client id, for the kinds that have one), whatever scopes they
    /// were granted. Needs no secret and sends no request (`status`, a local logout).
    pub async fn stored_logins(&self) -> Result<Vec<(TokenKey, TokenSet)>, ProfileError> {
        let store = self.open_store()?;
        let failed = |source| ProfileError::Store {
            profile: self.name.clone(),
            source,
        };
        let mut found = Vec::new();
        for key in store.keys().await.map_err(failed)? {
            if !self.owns(&key) {
                continue;
            }
            if let Some(tokens) = store.load(&key).await.map_err(failed)? {
                found.push((key, tokens));
            }
        }
        found.sort_by_key(|(_, tokens)| std::cmp::Reverse(tokens.issued_at()));
        Ok(found)
    }

    /// Deletes [`stored_logins`](Self::stored_logins) without telling the provider (for
    /// that, [`TokenManager::logout`](crate::TokenManager::logout)); how many there were.
    pub async fn forget_stored_logins(&self) -> Result<usize, ProfileError> {
        let store = self.open_store()?;
        let logins = self.stored_logins().await?;
        for (key, _) in &logins {
            store
                .delete(key)
                .await
                .map_err(|source| ProfileError::Store {
                    profile: self.name.clone(),
                    source,
                })?;
        }
        Ok(logins.len())
    }

    /// Whether `key` names a login of this profile.
    fn owns(&self, key: &TokenKey) -> bool {
        let provider = if self.kind.is_ims() {
            frameio_auth_ims::PROVIDER
        } else {
            frameio_auth_v2::PROVIDER
        };
        // A Developer Token's key names the token's fingerprint in place of a client id.
        let client_matches = self.kind == ProfileKind::V2DeveloperToken
            || self.client_id.as_deref() == Some(key.client_id());
        key.provider() == provider && key.profile() == self.name && client_matches
    }
}
