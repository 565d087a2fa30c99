//! The mapping document's versions in SQLite (`mapping_versions`, `mapping_active`,
//! `mapping_audit`): each change is one `BEGIN IMMEDIATE` transaction, so two changes on the
//! same expected version run one after the other and the second sees the first.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use time::OffsetDateTime;

use super::{MappingAction, MappingAudit, MappingChange, MappingStore, MappingVersion, too_large};
use crate::clock::rfc3339_millis;
use crate::embedded::SqliteDatabase;
use crate::store::StoreError;

/// The SQLite adapter.
#[derive(Debug, Clone)]
pub struct SqliteMappingStore {
    db: SqliteDatabase,
}

impl SqliteMappingStore {
    /// The mapping document's versions on `db`.
    pub fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }
}

const VERSION_COLUMNS: &str = "version, document, author, comment, created_at";

fn version_from(row: &Row<'_>) -> rusqlite::Result<MappingVersion> {
    Ok(MappingVersion {
        version: row.get(0)?,
        document: row.get(1)?,
        author: row.get(2)?,
        comment: row.get(3)?,
        created_at: row.get(4)?,
    })
}

fn audit_from(row: &Row<'_>) -> rusqlite::Result<MappingAudit> {
    let action: String = row.get(2)?;
    let action = MappingAction::parse(&action).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Text,
            format!("an unknown mapping audit action {action:?}").into(),
        )
    })?;
    Ok(MappingAudit {
        at: row.get(0)?,
        author: row.get(1)?,
        action,
        version: row.get(3)?,
        previous: row.get(4)?,
        comment: row.get(5)?,
    })
}

fn active_version(c: &Connection) -> rusqlite::Result<u32> {
    Ok(c.query_row(
        "SELECT active FROM mapping_active WHERE id = 1",
        [],
        |row| row.get(0),
    )
    .optional()?
    .unwrap_or(0))
}

fn get_version(c: &Connection, version: u32) -> rusqlite::Result<Option<MappingVersion>> {
    c.query_row(
        &format!("SELECT {VERSION_COLUMNS} FROM mapping_versions WHERE version = ?1"),
        [version],
        version_from,
    )
    .optional()
}

/// Points at `version` and writes the audit line, in `tx`.
fn point_at(tx: &Transaction<'_>, version: u32, line: &MappingAudit) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO mapping_active (id, active) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET active = ?1",
        [version],
    )?;
    tx.execute(
        "INSERT INTO mapping_audit (at, author, action, version, previous, comment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            line.at,
            line.author,
            line.action.as_str(),
            line.version,
            line.previous,
            line.comment
        ],
    )?;
    Ok(())
}

/// `limit` as an SQLite `LIMIT` (which takes a signed 64-bit number).
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait::async_trait]
impl MappingStore for SqliteMappingStore {
    async fn publish(
        &self,
        document: &str,
        author: &str,
        comment: &str,
        expected_active: u32,
        now: OffsetDateTime,
    ) -> Result<MappingChange, StoreError> {
        if let Some(refused) = too_large(document, author, comment) {
            return Ok(refused);
        }
        let (document, author, comment) = (
            document.to_string(),
            author.to_string(),
            comment.to_string(),
        );
        let at = rfc3339_millis(now);
        self.db
            .write(move |tx| {
                let active = active_version(tx)?;
                if active != expected_active {
                    return Ok(MappingChange::Conflict { active });
                }
                let highest: u32 = tx.query_row(
                    "SELECT COALESCE(MAX(version), 0) FROM mapping_versions",
                    [],
                    |row| row.get(0),
                )?;
                let version = highest.saturating_add(1);
                tx.execute(
                    &format!("INSERT INTO mapping_versions ({VERSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
                    params![version, document, author, comment, at],
                )?;
                let line = MappingAudit {
                    at,
                    author,
                    action: MappingAction::Published,
                    version,
                    previous: active,
                    comment,
                };
                point_at(tx, version, &line)?;
                Ok(MappingChange::Done(version))
            })
            .await
    }

    async fn activate(
        &self,
        version: u32,
        author: &str,
        comment: &str,
        expected_active: u32,
        now: OffsetDateTime,
    ) -> Result<MappingChange, StoreError> {
        if let Some(refused) = too_large("", author, comment) {
            return Ok(refused);
        }
        let (author, comment) = (author.to_string(), comment.to_string());
        let at = rfc3339_millis(now);
        self.db
            .write(move |tx| {
                let active = active_version(tx)?;
                if active != expected_active {
                    return Ok(MappingChange::Conflict { active });
                }
                if version != 0 {
                    let exists: Option<u32> = tx
                        .query_row(
                            "SELECT version FROM mapping_versions WHERE version = ?1",
                            [version],
                            |row| row.get(0),
                        )
                        .optional()?;
                    if exists.is_none() {
                        return Ok(MappingChange::Unknown(version));
                    }
                }
                let line = MappingAudit {
                    at,
                    author,
                    action: MappingAction::Activated,
                    version,
                    previous: active,
                    comment,
                };
                point_at(tx, version, &line)?;
                Ok(MappingChange::Done(version))
            })
            .await
    }

    async fn active(&self) -> Result<(u32, Option<MappingVersion>), StoreError> {
        self.db
            .read(|c| {
                // One statement, so the pointer and the version are read together.
                let row = c
                    .query_row(
                        "SELECT a.active, v.version, v.document, v.author, v.comment, v.created_at
                         FROM mapping_active a
                         LEFT JOIN mapping_versions v ON v.version = a.active
                         WHERE a.id = 1",
                        [],
                        |row| {
                            let active: u32 = row.get(0)?;
                            let stored: Option<u32> = row.get(1)?;
                            let version = match stored {
                                Some(version) => Some(MappingVersion {
                                    version,
                                    document: row.get(2)?,
                                    author: row.get(3)?,
                                    comment: row.get(4)?,
                                    created_at: row.get(5)?,
                                }),
                                None => None,
                            };
                            Ok((active, version))
                        },
                    )
                    .optional()?;
                Ok(row.unwrap_or((0, None)))
            })
            .await
    }

    async fn get(&self, version: u32) -> Result<Option<MappingVersion>, StoreError> {
        self.db.read(move |c| get_version(c, version)).await
    }

    async fn versions(&self, limit: usize) -> Result<Vec<MappingVersion>, StoreError> {
        self.db
            .read(move |c| {
                let mut statement = c.prepare(&format!(
                    "SELECT {VERSION_COLUMNS} FROM mapping_versions ORDER BY version DESC LIMIT ?1"
                ))?;
                let rows = statement.query_map([sql_limit(limit)], version_from)?;
                rows.collect()
            })
            .await
    }

    async fn audit(&self, limit: usize) -> Result<Vec<MappingAudit>, StoreError> {
        self.db
            .read(move |c| {
                let mut statement = c.prepare(
                    "SELECT at, author, action, version, previous, comment FROM mapping_audit
                     ORDER BY seq DESC LIMIT ?1",
                )?;
                let rows = statement.query_map([sql_limit(limit)], audit_from)?;
                rows.collect()
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::temp_database;

    #[tokio::test]
    async fn keeps_the_mapping_store_contract() {
        let (_dir, db) = temp_database();
        super::super::contract::run_all(&SqliteMappingStore::new(db)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_connections_on_one_file_cannot_both_publish_on_the_same_version() {
        // `serve` and an operator's command, each with its own connection.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("paybridge.sqlite3");
        let serve = SqliteMappingStore::new(SqliteDatabase::open(&path).unwrap());
        let operator = SqliteMappingStore::new(SqliteDatabase::open(&path).unwrap());
        let now = OffsetDateTime::from_unix_timestamp(1_796_119_200).unwrap();
        for round in 0..10u32 {
            let (a, b) = tokio::join!(
                serve.publish("{\"a\":1}", "serve", "", round, now),
                operator.publish("{\"b\":1}", "operator", "", round, now),
            );
            let won = [a.unwrap(), b.unwrap()]
                .iter()
                .filter(|c| **c == MappingChange::Done(round + 1))
                .count();
            assert_eq!(won, 1, "round {round}");
        }
        assert_eq!(serve.versions(100).await.unwrap().len(), 10);
        assert_eq!(operator.audit(100).await.unwrap().len(), 10);
    }

    #[tokio::test]
    async fn a_version_outlives_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("paybridge.sqlite3");
        let now = OffsetDateTime::from_unix_timestamp(1_796_119_200).unwrap();
        {
            let store = SqliteMappingStore::new(SqliteDatabase::open(&path).unwrap());
            assert_eq!(
                store.publish("{}", "alice", "kept", 0, now).await.unwrap(),
                MappingChange::Done(1)
            );
        }
        let store = SqliteMappingStore::new(SqliteDatabase::open(&path).unwrap());
        let (active, version) = store.active().await.unwrap();
        assert_eq!(active, 1);
        assert_eq!(version.map(|v| v.comment), Some("kept".to_string()));
    }
}
