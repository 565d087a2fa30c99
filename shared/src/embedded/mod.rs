//! The embedded durable store behind `paybridge serve`: what exists only in SQLite — the database
//! file and its migrations, the queues (with their dead-letter queues, the semantics of SQS
//! standard queues) and the poller that drains them. The SQLite adapters of the other ports sit
//! in their port's folder (`links/sqlite.rs`, `idempotency/sqlite.rs`, …) over this database;
//! see docs/ARCHITECTURE.md.

mod database;
mod dead_letters;
pub(crate) mod queue;
pub mod retention;

pub use database::SqliteDatabase;
#[cfg(test)]
pub(crate) use database::temp_database;
pub use dead_letters::StoredDeadLetter;
pub use queue::{KIND_MAX_RECEIVE_COUNT_EXCEEDED, SqliteQueue};

#[cfg(test)]
mod tests;
