//! Reports in SQLite (`reconcile_reports`).

use rusqlite::{OptionalExtension, params};

use super::{Report, ReportStore, decode, encode};
use crate::embedded::SqliteDatabase;
use crate::store::StoreError;

/// The SQLite adapter.
#[derive(Debug, Clone)]
pub struct SqliteReportStore {
    db: SqliteDatabase,
}

impl SqliteReportStore {
    /// Reports on `db`.
    pub fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl ReportStore for SqliteReportStore {
    async fn save(&self, report: &Report) -> Result<(), StoreError> {
        let json = encode(report)?;
        let (run_id, started_at) = (report.run_id.clone(), report.started_at.clone());
        self.db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO reconcile_reports (run_id, started_at, report) VALUES (?1, ?2, ?3)
                     ON CONFLICT (run_id) DO UPDATE SET started_at = ?2, report = ?3",
                    params![run_id, started_at, json],
                )
            })
            .await?;
        Ok(())
    }

    async fn last(&self) -> Result<Option<Report>, StoreError> {
        let json: Option<String> = self
            .db
            .read(|c| {
                c.query_row(
                    "SELECT report FROM reconcile_reports ORDER BY started_at DESC, run_id DESC LIMIT 1",
                    [],
                    |row| row.get(0),
                )
                .optional()
            })
            .await?;
        json.as_deref().map(decode).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::temp_database;

    #[tokio::test]
    async fn keeps_the_report_store_contract() {
        let (_dir, db) = temp_database();
        super::super::contract::run_all(&SqliteReportStore::new(db)).await;
    }
}
