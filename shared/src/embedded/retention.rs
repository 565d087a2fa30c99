//! What the embedded store keeps only for a while: the event journal (its entries and sealed
//! envelopes) for `JOURNAL_RETENTION_DAYS`, idempotency records until they expire. `serve`
//! purges once a day; `secure_delete` overwrites what is deleted, and the write-ahead log is
//! truncated every few seconds ([`super::SqliteDatabase::truncate_wal`]).

use rusqlite::params;

use super::SqliteDatabase;
use crate::store::StoreError;

/// How many rows one purge deleted, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// `journal_entries`.
    pub journal_entries: usize,
    /// `journal_envelopes`.
    pub journal_envelopes: usize,
    /// `idempotency_records` past their expiration.
    pub idempotency_records: usize,
}

impl Purged {
    /// Rows deleted in all.
    pub fn total(&self) -> usize {
        self.journal_entries + self.journal_envelopes + self.idempotency_records
    }
}

/// Deletes journal rows last written more than `retention_days` before `now_ms`,
/// and idempotency records that expired before it, in one transaction.
pub async fn purge(
    db: &SqliteDatabase,
    now_ms: i64,
    retention_days: u32,
) -> Result<Purged, StoreError> {
    let cutoff_ms = now_ms - i64::from(retention_days) * 86_400_000;
    let now_s = now_ms / 1000;
    db.write(move |tx| {
        Ok(Purged {
            journal_entries: tx.execute(
                "DELETE FROM journal_entries WHERE recorded_at_ms < ?1",
                params![cutoff_ms],
            )?,
            journal_envelopes: tx.execute(
                "DELETE FROM journal_envelopes WHERE recorded_at_ms < ?1",
                params![cutoff_ms],
            )?,
            // A record still in progress keeps its row until its own deadline passed too.
            idempotency_records: tx.execute(
                "DELETE FROM idempotency_records WHERE expiration < ?1
                   AND (status <> 'INPROGRESS' OR COALESCE(in_progress_expiration, 0) < ?2)",
                params![now_s, now_ms],
            )?,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::temp_database;

    async fn count(db: &SqliteDatabase, table: &'static str) -> i64 {
        db.read(move |c| c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn keeps_the_journal_only_for_its_retention_and_idempotency_records_until_they_expire() {
        let (_dir, db) = temp_database();
        let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        let (old, new) = (now_ms - 31 * 86_400_000, now_ms - 2 * 86_400_000);
        db.write(move |tx| {
            for (key, event, at) in [("order:1", "evt_old", old), ("order:2", "evt_new", new)] {
                tx.execute(
                    "INSERT INTO journal_entries (business_key, entry, recorded_at_ms) VALUES (?1, '{}', ?2)",
                    params![key, at],
                )?;
                tx.execute(
                    "INSERT INTO journal_envelopes (source, event_id, envelope, recorded_at_ms)
                     VALUES ('stripe', ?1, '{}', ?2)",
                    params![event, at],
                )?;
            }
            tx.execute(
                "INSERT INTO idempotency_records (key, status, expiration, in_progress_expiration) VALUES
                 ('w#stripe#evt_old', 'COMPLETED', ?1, NULL),
                 ('w#stripe#evt_new', 'COMPLETED', ?2, NULL),
                 ('w#stripe#evt_busy', 'INPROGRESS', ?1, ?3)",
                params![now_ms / 1000 - 3600, now_ms / 1000 + 3600, now_ms + 60_000],
            )?;
            Ok(())
        })
        .await
        .unwrap();

        let purged = purge(&db, now_ms, 30).await.unwrap();
        assert_eq!(
            purged,
            Purged {
                journal_entries: 1,
                journal_envelopes: 1,
                idempotency_records: 1
            }
        );
        for table in ["journal_entries", "journal_envelopes"] {
            assert_eq!(count(&db, table).await, 1, "{table}: the recent row stays");
        }
        assert_eq!(
            count(&db, "idempotency_records").await,
            2,
            "a live record and one still in progress stay"
        );
        assert_eq!(purge(&db, now_ms, 30).await.unwrap().total(), 0, "once");
        assert_eq!(
            purge(&db, now_ms, 1).await.unwrap().journal_entries,
            1,
            "a shorter retention"
        );
    }
}
