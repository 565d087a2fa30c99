//! A refresh token in SQLite (`oauth_refresh_tokens`), seeded from the configured one. A new
//! configured token (the shop authorized paybridge again) replaces whatever rotated before it.

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{RefreshTokenStore, TokenStoreError};
use crate::embedded::SqliteDatabase;
use crate::secret::SecretString;

/// The SQLite adapter for the token named `name` (e.g. `quickbooks`).
#[derive(Debug, Clone)]
pub struct SqliteRefreshTokens {
    db: SqliteDatabase,
    name: String,
    seed: Option<SecretString>,
}

impl SqliteRefreshTokens {
    /// The token `name` on `db`; `seed` is the configured token (used until it rotates, and
    /// again whenever it changes).
    pub fn new(db: SqliteDatabase, name: impl Into<String>, seed: Option<SecretString>) -> Self {
        Self {
            db,
            name: name.into(),
            seed,
        }
    }

    fn seed_hash(&self) -> Option<String> {
        let seed = self.seed.as_ref()?;
        Some(hex::encode(Sha256::digest(seed.expose().as_bytes())))
    }
}

fn unavailable(error: crate::store::StoreError) -> TokenStoreError {
    TokenStoreError::Unavailable(error.to_string())
}

#[async_trait::async_trait]
impl RefreshTokenStore for SqliteRefreshTokens {
    async fn load(&self) -> Result<SecretString, TokenStoreError> {
        let name = self.name.clone();
        let stored: Option<(String, String)> = self
            .db
            .read(move |c| {
                c.query_row(
                    "SELECT token, seed_hash FROM oauth_refresh_tokens WHERE name = ?1",
                    params![name],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
            })
            .await
            .map_err(unavailable)?;
        match (stored, &self.seed) {
            (Some((token, seeded_by)), _) if Some(&seeded_by) == self.seed_hash().as_ref() => {
                Ok(SecretString::new(token))
            }
            (_, Some(seed)) => Ok(seed.clone()),
            (Some((token, _)), None) => Ok(SecretString::new(token)),
            (None, None) => Err(TokenStoreError::Missing),
        }
    }

    async fn save(&self, token: &SecretString) -> Result<(), TokenStoreError> {
        let (name, token) = (self.name.clone(), token.expose().to_string());
        let seed_hash = self.seed_hash().unwrap_or_default();
        self.db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO oauth_refresh_tokens (name, token, seed_hash) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET token = ?2, seed_hash = ?3",
                    params![name, token, seed_hash],
                )
            })
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::temp_database;

    #[tokio::test]
    async fn keeps_the_refresh_token_store_contract() {
        let (_dir, db) = temp_database();
        let store = SqliteRefreshTokens::new(db, "quickbooks", Some(SecretString::new("seed")));
        super::super::contract::run_all(&store, "seed").await;
    }

    #[tokio::test]
    async fn a_rotated_token_survives_a_restart_and_a_new_seed_replaces_it() {
        let (_dir, db) = temp_database();
        let seeded = |seed: &str| {
            SqliteRefreshTokens::new(db.clone(), "quickbooks", Some(SecretString::new(seed)))
        };
        seeded("first-seed")
            .save(&SecretString::new("rotated"))
            .await
            .unwrap();
        assert_eq!(
            seeded("first-seed").load().await.unwrap().expose(),
            "rotated"
        );
        assert_eq!(
            seeded("re-authorized").load().await.unwrap().expose(),
            "re-authorized",
            "the shop authorized again: its new token wins"
        );
        let unseeded = SqliteRefreshTokens::new(db.clone(), "quickbooks", None);
        assert_eq!(unseeded.load().await.unwrap().expose(), "rotated");
        let (_dir2, empty) = temp_database();
        let nothing = SqliteRefreshTokens::new(empty, "quickbooks", None);
        assert_eq!(nothing.load().await, Err(TokenStoreError::Missing));
    }
}
