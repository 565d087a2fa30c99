//! The embedded durable store behind `paybridge serve`: SQLite adapters of the queue, idempotency and link ports.
//!
//! One database file holds every queue (with its dead-letter queue), the published envelopes,
//! idempotency records, effects and order links, with the semantics of SQS standard queues and
//! DynamoDB's conditional writes (DESIGN.md §1, §4).

mod database;
mod dead_letters;
mod idempotency;
mod journal;
mod links;
mod poller;
mod queue;

pub use database::SqliteDatabase;
pub use dead_letters::DeadLetterEntry;
pub use idempotency::{SqliteEffectStore, SqliteIdempotencyStore};
pub use journal::SqliteEventJournal;
pub use links::SqliteOrderLinkStore;
pub use poller::{EmbeddedPoller, SqliteMessageSettler};
pub use queue::{KIND_MAX_RECEIVE_COUNT_EXCEEDED, SqliteQueue};

#[cfg(test)]
mod tests;
