//! Where an accounting system's OAuth2 refresh token is kept. Intuit rotates refresh tokens:
//! each refresh may return a new one, and only the newest keeps working, so the token is read
//! before each refresh and the new one saved before its access token is used. Adapters: AWS
//! Secrets Manager (`app::secrets::SecretsManagerRefreshTokens`, the Lambdas), SQLite (`serve`),
//! in memory (tests).

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;
pub mod in_memory;
#[cfg(feature = "embedded")]
pub mod sqlite;

use crate::secret::SecretString;

pub use in_memory::InMemoryRefreshTokens;
#[cfg(feature = "embedded")]
pub use sqlite::SqliteRefreshTokens;

/// Why the refresh token could not be read or kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenStoreError {
    /// No token was ever given: the integration must be authorized first.
    #[error(
        "no refresh token is stored: authorize paybridge in the accounting system and set the token"
    )]
    Missing,
    /// The store failed (network, permissions): retried.
    #[error("the refresh token store failed: {0}")]
    Unavailable(String),
}

/// Keeps one refresh token.
#[async_trait::async_trait]
pub trait RefreshTokenStore: Send + Sync {
    /// The newest refresh token.
    async fn load(&self) -> Result<SecretString, TokenStoreError>;
    /// Replaces it with `token` (what the last refresh returned).
    async fn save(&self, token: &SecretString) -> Result<(), TokenStoreError>;
}
