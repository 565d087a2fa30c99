//! The SQLite file behind `paybridge serve`: one connection, WAL, fsync on every commit, a versioned schema.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::store::StoreError;

/// How long to wait for the write lock held by another process (an operator's command run next
/// to a live `serve`) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, one migration per version; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    include_str!("schema_v1.sql"),
    include_str!("schema_v2.sql"),
    include_str!("schema_v3.sql"),
    include_str!("schema_v4.sql"),
    include_str!("schema_v5.sql"),
    include_str!("schema_v6.sql"),
    include_str!("schema_v7.sql"),
    include_str!("schema_v8.sql"),
    include_str!("schema_v9.sql"),
    include_str!("schema_v10.sql"),
    include_str!("schema_v11.sql"),
];

/// The embedded durable store: one SQLite connection shared by every adapter.
///
/// Each operation runs on tokio's blocking pool under the mutex (a commit waits for `fsync`,
/// which must not stall the async workers); writes that must be atomic run in one
/// `BEGIN IMMEDIATE` transaction. Its async methods need a tokio runtime.
#[derive(Debug, Clone)]
pub struct SqliteDatabase {
    connection: Arc<Mutex<Connection>>,
    /// The file, for the write-ahead log's truncation on a connection of its own.
    path: Option<Arc<std::path::PathBuf>>,
}

impl SqliteDatabase {
    /// Opens (or creates, with its parent directories) the database at `path` and brings its
    /// schema up to date.
    ///
    /// The store holds event payloads: directories it creates are `0700`, and the database file
    /// is `0600` (SQLite gives its WAL and shared-memory files the same mode), so only the
    /// user running paybridge can read them.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let unavailable = |what: &Path, e: std::io::Error| {
            StoreError::Unavailable(format!("cannot create {}: {e}", what.display()))
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(parent).map_err(|e| unavailable(parent, e))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        drop(options.open(path).map_err(|e| unavailable(path, e))?);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // A file an older version created world-readable is tightened too.
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| unavailable(path, e))?;
        }
        let connection = Connection::open(path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        let mut database = Self::prepare(connection)?;
        database.path = Some(Arc::new(path.to_path_buf()));
        Ok(database)
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::prepare(Connection::open_in_memory().map_err(sqlite_error)?)
    }

    fn prepare(mut connection: Connection) -> Result<Self, StoreError> {
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(sqlite_error)?;
        // WAL keeps readers off the writer's back; synchronous=FULL fsyncs the WAL on every
        // commit, so neither a kill -9 nor a power cut loses a write that was acknowledged.
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(sqlite_error)?;
        if mode != "wal" && mode != "memory" {
            tracing::warn!(journal_mode = %mode, "SQLite could not switch to WAL; commits stay durable but slower");
        }
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(sqlite_error)?;
        connection
            .pragma_update(None, "foreign_keys", true)
            .map_err(sqlite_error)?;
        // Deleted rows (settled messages, purged payloads) are overwritten, not left in free pages.
        connection
            .pragma_update(None, "secure_delete", true)
            .map_err(sqlite_error)?;
        migrate(&mut connection)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            path: None,
        })
    }

    /// Whether the journal holds sealed envelopes (at start-up, before the key file is
    /// created: a missing key file with sealed envelopes is a lost key, not a new store).
    pub fn holds_sealed_envelopes(&self) -> Result<bool, StoreError> {
        let connection = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM journal_envelopes WHERE envelope LIKE 'pbenc1.%')",
                [],
                |row| row.get(0),
            )
            .map_err(sqlite_error)
    }

    /// The schema version (`PRAGMA user_version`).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(|c| c.query_row("PRAGMA user_version", [], |row| row.get(0)))
            .await
    }

    /// Copies the write-ahead log into the database and truncates it to nothing: rows deleted
    /// since (settled messages, purged journal rows), which `secure_delete` overwrote in the
    /// database, then have no copy left in the log either. It runs on a connection of its own
    /// that never waits: the store's connection stays free for webhooks and workers, and when
    /// a reader or writer (this process's, or an operator command's) is in the way it answers
    /// `Ok(false)` at once — the next call catches up.
    pub async fn truncate_wal(&self) -> Result<bool, StoreError> {
        let Some(path) = self.path.clone() else {
            return Ok(true);
        };
        tokio::task::spawn_blocking(move || {
            let connection = Connection::open(path.as_path())?;
            connection.busy_timeout(Duration::ZERO)?;
            match connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                row.get::<_, i64>(0)
            }) {
                Ok(busy) => Ok(busy == 0),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        || e.code == rusqlite::ErrorCode::DatabaseLocked =>
                {
                    Ok(false)
                }
                Err(other) => Err(other),
            }
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("the database task failed: {e}")))?
        .map_err(sqlite_error)
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction, committed when it returns `Ok`.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        self.with_connection(|connection| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = work(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
    }

    /// Runs `work` (reads in one statement) outside an explicit transaction.
    pub(crate) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.with_connection(|connection| work(connection)).await
    }

    async fn with_connection<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic mid-transaction rolled it back when the transaction dropped: the
            // connection is consistent, so a poisoned lock is safe to reuse.
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut connection)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("the database task failed: {e}")))?
        .map_err(sqlite_error)
    }
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite_error)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(sqlite_error)?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::Malformed(format!(
            "the database has schema version {version} but this paybridge knows only up to {known}: upgrade paybridge"
        )));
    }
    for migration in MIGRATIONS.iter().skip(version.max(0) as usize) {
        tx.execute_batch(migration).map_err(sqlite_error)?;
    }
    tx.pragma_update(None, "user_version", known)
        .map_err(sqlite_error)?;
    tx.commit().map_err(sqlite_error)
}

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::sqlite(&e)
}

/// Attributes as stored: a JSON object of strings.
pub(crate) fn attributes_to_json(
    attributes: &BTreeMap<String, String>,
) -> rusqlite::Result<String> {
    serde_json::to_string(attributes).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

/// Attributes read back from their JSON object.
pub(crate) fn attributes_from_json(text: &str) -> rusqlite::Result<BTreeMap<String, String>> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

/// A fresh database in a temporary directory, kept alive by the returned guard.
#[cfg(test)]
pub(crate) fn temp_database() -> (tempfile::TempDir, SqliteDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("paybridge.sqlite3")).unwrap();
    (dir, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_write_ahead_log_is_truncated_and_a_reader_in_the_way_is_not_waited_for() {
        let (dir, db) = temp_database();
        let wal = dir.path().join("paybridge.sqlite3-wal");
        db.write(|tx| {
            tx.execute(
                "INSERT INTO journal_entries (business_key, entry, recorded_at_ms) VALUES ('order:1', 'ada@example.com', 1)",
                [],
            )?;
            tx.execute("DELETE FROM journal_entries", [])
        })
        .await
        .unwrap();
        assert!(std::fs::metadata(&wal).unwrap().len() > 0);

        assert!(db.truncate_wal().await.unwrap());
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);

        // Another process's reader holds a snapshot: the truncation gives way at once.
        db.write(|tx| tx.execute("INSERT INTO journal_entries (business_key, entry, recorded_at_ms) VALUES ('order:2', '{}', 1)", []))
            .await
            .unwrap();
        let reader = Connection::open(dir.path().join("paybridge.sqlite3")).unwrap();
        reader
            .execute_batch("BEGIN; SELECT COUNT(*) FROM journal_entries;")
            .unwrap();
        db.write(|tx| tx.execute("DELETE FROM journal_entries", []))
            .await
            .unwrap();
        let started = std::time::Instant::now();
        assert!(!db.truncate_wal().await.unwrap());
        assert!(
            started.elapsed() < BUSY_TIMEOUT / 2,
            "{:?}",
            started.elapsed()
        );
        reader.execute_batch("COMMIT").unwrap();
        assert!(db.truncate_wal().await.unwrap());
    }

    #[tokio::test]
    async fn opening_creates_the_directories_and_a_durable_wal_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/nested/paybridge.sqlite3");

        let db = SqliteDatabase::open(&path).unwrap();

        assert!(path.exists());
        let (mode, synchronous, foreign_keys) = db
            .read(|c| {
                let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
                let fk: i64 = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
                Ok((mode, sync, fk))
            })
            .await
            .unwrap();
        assert_eq!((mode.as_str(), synchronous, foreign_keys), ("wal", 2, 1));
        assert_eq!(db.schema_version().await.unwrap(), MIGRATIONS.len() as i64);
        let secure_delete: i64 = db
            .read(|c| c.query_row("PRAGMA secure_delete", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(secure_delete, 1);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn only_its_user_can_read_the_store() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/paybridge.sqlite3");
        let db = SqliteDatabase::open(&path).unwrap();
        db.write(|tx| tx.execute("CREATE TABLE t (x)", []).map(|_| ()))
            .await
            .unwrap();
        assert_eq!(mode(&dir.path().join("data")), 0o700);
        assert_eq!(mode(&path), 0o600);
        let wal = dir.path().join("data/paybridge.sqlite3-wal");
        assert_eq!(mode(&wal), 0o600, "the WAL holds payloads too");
        drop(db);

        // A store an older version left readable by everyone is tightened when opened.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(SqliteDatabase::open(&path).unwrap());
        assert_eq!(mode(&path), 0o600);
    }

    #[tokio::test]
    async fn reopening_keeps_the_schema_and_a_newer_schema_is_refused() {
        let (dir, db) = temp_database();
        let path = dir.path().join("paybridge.sqlite3");
        drop(db);
        let db = SqliteDatabase::open(&path).unwrap();
        assert_eq!(db.schema_version().await.unwrap(), MIGRATIONS.len() as i64);
        db.write(|tx| tx.pragma_update(None, "user_version", 99))
            .await
            .unwrap();
        drop(db);

        let refused = SqliteDatabase::open(&path).unwrap_err();

        assert!(
            refused.to_string().contains("upgrade paybridge"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn a_failed_write_commits_nothing() {
        let db = SqliteDatabase::open_in_memory().unwrap();

        let failed = db
            .write(|tx| {
                tx.execute(
                    "INSERT INTO effects (key, value, recorded_at_ms) VALUES ('k', 'v', 0)",
                    [],
                )?;
                tx.execute("INSERT INTO no_such_table VALUES (1)", [])
            })
            .await;

        assert!(failed.is_err());
        let count: i64 = db
            .read(|c| c.query_row("SELECT COUNT(*) FROM effects", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(count, 0);
    }
}
