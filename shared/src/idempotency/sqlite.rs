//! Idempotency records in SQLite, with the DynamoDB adapter's conditional writes.

use rusqlite::{OptionalExtension, Row, params};

use super::{IdempotencyRecord, IdempotencyStore, PutError, RecordStatus};
use crate::embedded::SqliteDatabase;
use crate::store::StoreError;

/// Idempotency records in the `idempotency_records` table.
#[derive(Debug, Clone)]
pub struct SqliteIdempotencyStore {
    db: SqliteDatabase,
}

impl SqliteIdempotencyStore {
    /// A store on `db`.
    pub fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }
}

const RECORD_COLUMNS: &str =
    "key, status, expiration, in_progress_expiration, payload_hash, result, owner";

fn record_from(row: &Row<'_>) -> rusqlite::Result<IdempotencyRecord> {
    let status: String = row.get(1)?;
    let status = RecordStatus::parse(&status).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Text,
            format!("unknown record status {status:?}").into(),
        )
    })?;
    Ok(IdempotencyRecord {
        key: row.get(0)?,
        status,
        expiration: row.get(2)?,
        in_progress_expiration: row.get(3)?,
        payload_hash: row.get(4)?,
        result: row.get(5)?,
        owner: row.get(6)?,
    })
}

fn select_record(
    connection: &rusqlite::Connection,
    key: &str,
) -> rusqlite::Result<Option<IdempotencyRecord>> {
    connection
        .prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM idempotency_records WHERE key = ?1"
        ))?
        .query_row([key], record_from)
        .optional()
}

/// Inserts or replaces; with `condition_now_ms`, replaces only what DynamoDB's condition
/// `attribute_not_exists(pk) OR expired OR in-progress-expired` would.
const UPSERT: &str = "INSERT INTO idempotency_records
      (key, status, expiration, in_progress_expiration, payload_hash, result, owner)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
    ON CONFLICT (key) DO UPDATE SET
      status = excluded.status, expiration = excluded.expiration,
      in_progress_expiration = excluded.in_progress_expiration,
      payload_hash = excluded.payload_hash, result = excluded.result, owner = excluded.owner";

fn upsert(
    tx: &rusqlite::Transaction<'_>,
    record: &IdempotencyRecord,
    condition_now_ms: Option<i64>,
) -> rusqlite::Result<usize> {
    let values = params![
        record.key,
        record.status.as_str(),
        record.expiration,
        record.in_progress_expiration,
        record.payload_hash,
        record.result,
        record.owner
    ];
    match condition_now_ms {
        None => tx.prepare_cached(UPSERT)?.execute(values),
        Some(now_ms) => {
            let conditional = format!(
                "{UPSERT} WHERE idempotency_records.expiration * 1000 < ?8
                   OR (idempotency_records.status = 'INPROGRESS'
                       AND idempotency_records.in_progress_expiration < ?8)"
            );
            let mut values = values.to_vec();
            values.push(&now_ms);
            tx.prepare_cached(&conditional)?.execute(values.as_slice())
        }
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for SqliteIdempotencyStore {
    async fn put_in_progress(
        &self,
        record: &IdempotencyRecord,
        now_ms: i64,
    ) -> Result<(), PutError> {
        let record = record.clone();
        let conflict = self
            .db
            .write(move |tx| {
                if upsert(tx, &record, Some(now_ms))? > 0 {
                    return Ok(None);
                }
                select_record(tx, &record.key)
            })
            .await?;
        match conflict {
            None => Ok(()),
            Some(existing) => Err(PutError::Exists(existing)),
        }
    }

    async fn complete(&self, record: &IdempotencyRecord) -> Result<(), StoreError> {
        let record = record.clone();
        self.db
            .write(move |tx| upsert(tx, &record, None).map(drop))
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_string();
        self.db
            .write(move |tx| {
                tx.execute("DELETE FROM idempotency_records WHERE key = ?1", [key])
                    .map(drop)
            })
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let key = key.to_string();
        self.db.read(move |c| select_record(c, &key)).await
    }
}

#[cfg(test)]
mod tests;
