//! The event journal in SQLite (`journal_entries`, `journal_envelopes`).

use rusqlite::{OptionalExtension, params};

use super::{EventJournal, JournalEntry, RecentEntry};
use crate::embedded::SqliteDatabase;
use crate::store::StoreError;

/// The SQLite adapter.
#[derive(Debug, Clone)]
pub struct SqliteEventJournal {
    db: SqliteDatabase,
}

impl SqliteEventJournal {
    /// A journal on `db`.
    pub fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl EventJournal for SqliteEventJournal {
    async fn record(
        &self,
        business_key: &str,
        entry: &JournalEntry,
        envelope: &str,
    ) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(entry).map_err(|e| StoreError::Malformed(e.to_string()))?;
        let (key, source, event_id, envelope) = (
            business_key.to_string(),
            entry.source.clone(),
            entry.event_id.clone(),
            envelope.to_string(),
        );
        let now_ms = crate::clock::unix_millis(time::OffsetDateTime::now_utc());
        self.db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO journal_entries (business_key, entry, recorded_at_ms) VALUES (?1, ?2, ?3)",
                    params![key, json, now_ms],
                )?;
                // The first envelope is kept; each delivery renews its retention, as in DynamoDB.
                tx.execute(
                    "INSERT INTO journal_envelopes (source, event_id, envelope, recorded_at_ms)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (source, event_id) DO UPDATE SET recorded_at_ms = excluded.recorded_at_ms",
                    params![source, event_id, envelope, now_ms],
                )?;
                Ok(())
            })
            .await
    }

    async fn envelope(&self, source: &str, event_id: &str) -> Result<Option<String>, StoreError> {
        let (source, event_id) = (source.to_string(), event_id.to_string());
        self.db
            .read(move |c| {
                c.query_row(
                    "SELECT envelope FROM journal_envelopes WHERE source = ?1 AND event_id = ?2",
                    params![source, event_id],
                    |row| row.get(0),
                )
                .optional()
            })
            .await
    }

    async fn entries(&self, business_key: &str) -> Result<Vec<JournalEntry>, StoreError> {
        let key = business_key.to_string();
        let rows: Vec<String> = self
            .db
            .read(move |c| {
                let mut statement = c.prepare(
                    "SELECT entry FROM journal_entries WHERE business_key = ?1 ORDER BY seq",
                )?;
                let rows = statement.query_map(params![key], |row| row.get(0))?;
                rows.collect()
            })
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| serde_json::from_str(r).ok())
            .collect())
    }

    async fn recent(&self, since_ms: i64, limit: usize) -> Result<Vec<RecentEntry>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(String, String)> = self
            .db
            .read(move |c| {
                let mut statement = c.prepare(
                    "SELECT business_key, entry FROM journal_entries
                     WHERE recorded_at_ms >= ?1 ORDER BY seq DESC LIMIT ?2",
                )?;
                let rows = statement.query_map(params![since_ms, limit], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
                rows.collect()
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(business_key, entry)| {
                let entry = serde_json::from_str(&entry).ok()?;
                Some(RecentEntry {
                    business_key,
                    entry,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::temp_database;

    #[tokio::test]
    async fn keeps_the_event_journal_contract() {
        let (_dir, db) = temp_database();
        crate::journal::contract::run_all(&SqliteEventJournal::new(db.clone())).await;
        crate::journal::contract::long_history(&SqliteEventJournal::new(db)).await;
    }

    #[tokio::test]
    async fn what_was_recorded_survives_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite3");
        let entry = JournalEntry {
            at: "2026-11-29T12:00:00.000Z".into(),
            source: "stripe".into(),
            event_id: "evt_1".into(),
            event_type: "payment_intent.succeeded".into(),
            worker: "payment-worker".into(),
            outcome: "done".into(),
            detail: String::new(),
            receive_count: 1,
        };
        SqliteEventJournal::new(SqliteDatabase::open(&path).unwrap())
            .record("order:1", &entry, "envelope")
            .await
            .unwrap();

        let reopened = SqliteEventJournal::new(SqliteDatabase::open(&path).unwrap());

        assert_eq!(reopened.entries("order:1").await.unwrap(), vec![entry]);
        assert_eq!(
            reopened
                .envelope("stripe", "evt_1")
                .await
                .unwrap()
                .as_deref(),
            Some("envelope")
        );
    }
}
