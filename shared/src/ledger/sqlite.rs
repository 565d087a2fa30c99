//! Posted entries in SQLite (`ledger_entries`), each id once.

use rusqlite::params;

use super::{LedgerEntry, LedgerStore, Posted};
use crate::embedded::SqliteDatabase;
use crate::store::StoreError;

/// The SQLite adapter.
#[derive(Debug, Clone)]
pub struct SqliteLedgerStore {
    db: SqliteDatabase,
}

impl SqliteLedgerStore {
    /// A ledger on `db`.
    pub fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl LedgerStore for SqliteLedgerStore {
    async fn post(&self, entry: &LedgerEntry) -> Result<Posted, StoreError> {
        let json =
            serde_json::to_string(entry).map_err(|e| StoreError::Malformed(e.to_string()))?;
        let (id, day, occurred_at) = (
            entry.id.clone(),
            entry.day().to_string(),
            entry.occurred_at.clone(),
        );
        let inserted = self
            .db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO ledger_entries (id, day, occurred_at, entry) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO NOTHING",
                    params![id, day, occurred_at, json],
                )
            })
            .await?;
        Ok(if inserted > 0 {
            Posted::New
        } else {
            Posted::AlreadyPosted
        })
    }

    async fn between(&self, from: &str, to: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        super::days(from, to)?;
        let (from, to) = (from.to_string(), to.to_string());
        let rows: Vec<String> = self
            .db
            .read(move |c| {
                c.prepare_cached(
                    "SELECT entry FROM ledger_entries WHERE day >= ?1 AND day < ?2
                     ORDER BY occurred_at, id",
                )?
                .query_map(params![from, to], |row| row.get(0))?
                .collect()
            })
            .await?;
        rows.iter()
            .map(|json| {
                serde_json::from_str(json).map_err(|e| StoreError::Malformed(e.to_string()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::temp_database;

    #[tokio::test]
    async fn keeps_the_ledger_store_contract() {
        let (_dir, db) = temp_database();
        super::super::contract::run_all(&SqliteLedgerStore::new(db)).await;
    }
}
