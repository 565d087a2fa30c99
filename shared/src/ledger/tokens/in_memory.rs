//! A refresh token in memory, for tests.

use std::sync::Mutex;

use super::{RefreshTokenStore, TokenStoreError};
use crate::secret::SecretString;

/// The in-memory adapter.
#[derive(Debug, Default)]
pub struct InMemoryRefreshTokens {
    token: Mutex<Option<SecretString>>,
}

impl InMemoryRefreshTokens {
    /// Holding `token`, if any.
    pub fn new(token: Option<SecretString>) -> Self {
        Self {
            token: Mutex::new(token),
        }
    }
}

#[async_trait::async_trait]
impl RefreshTokenStore for InMemoryRefreshTokens {
    async fn load(&self) -> Result<SecretString, TokenStoreError> {
        let token = self
            .token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        token.clone().ok_or(TokenStoreError::Missing)
    }

    async fn save(&self, token: &SecretString) -> Result<(), TokenStoreError> {
        *self
            .token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(token.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_refresh_token_store_contract() {
        let store = InMemoryRefreshTokens::new(Some(SecretString::new("seed-token")));
        super::super::contract::run_all(&store, "seed-token").await;
    }
}
