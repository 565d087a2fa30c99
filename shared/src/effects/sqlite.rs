//! Business-key effects in SQLite, with the DynamoDB adapter's conditional write.

use rusqlite::{OptionalExtension, params};

use super::{EffectKey, EffectStore, Recorded};
use crate::embedded::SqliteDatabase;
use crate::store::StoreError;

/// Business-key effects in the `effects` table: permanent, first value wins.
#[derive(Debug, Clone)]
pub struct SqliteEffectStore {
    db: SqliteDatabase,
}

impl SqliteEffectStore {
    /// A store on `db`.
    pub fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl EffectStore for SqliteEffectStore {
    async fn get(&self, key: &EffectKey) -> Result<Option<String>, StoreError> {
        let key = key.storage_key();
        self.db
            .read(move |c| {
                c.query_row("SELECT value FROM effects WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()
            })
            .await
    }

    async fn record(&self, key: &EffectKey, value: &str) -> Result<Recorded, StoreError> {
        let (key, value) = (key.storage_key(), value.to_string());
        let now_ms = crate::clock::unix_millis(time::OffsetDateTime::now_utc());
        self.db
            .write(move |tx| {
                let inserted = tx.execute(
                    "INSERT INTO effects (key, value, recorded_at_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key) DO NOTHING",
                    params![key, value, now_ms],
                )?;
                if inserted > 0 {
                    return Ok(Recorded::New(value));
                }
                tx.query_row("SELECT value FROM effects WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .map(Recorded::Existing)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::temp_database;

    #[tokio::test]
    async fn keeps_the_effect_store_contract() {
        let (_dir, db) = temp_database();
        crate::effects::contract::run_all(&SqliteEffectStore::new(db)).await;
    }
}
