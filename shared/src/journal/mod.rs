//! The event journal: every envelope a worker saw, and what became of it, by business key —
//! what `paybridge replay` re-enqueues and `paybridge trace` shows. Best effort: a journal
//! failure is logged and never fails a message.

pub mod dynamodb;
pub mod in_memory;
pub mod sealed;
#[cfg(feature = "embedded")]
pub mod sqlite;

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;

use serde::{Deserialize, Serialize};

use crate::store::StoreError;

pub use dynamodb::DynamoDbEventJournal;
pub use in_memory::InMemoryEventJournal;
pub use sealed::SealedEventJournal;
#[cfg(feature = "embedded")]
pub use sqlite::SqliteEventJournal;

/// One outcome of one delivery of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// When it ended, RFC 3339.
    pub at: String,
    /// `stripe` or `kentico`.
    pub source: String,
    /// The sender's event id.
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The worker that handled it.
    pub worker: String,
    /// `done`, `duplicate`, `ignored`, `retried`, `dead_lettered`, …
    pub outcome: String,
    /// The reason, for anything but done.
    pub detail: String,
    /// Which delivery this was.
    pub receive_count: u32,
}

/// Persistence of the journal.
#[async_trait::async_trait]
pub trait EventJournal: Send + Sync {
    /// Appends `entry` under `business_key` (e.g. `order:1042`) and keeps `envelope`
    /// (first copy per source and event id).
    async fn record(
        &self,
        business_key: &str,
        entry: &JournalEntry,
        envelope: &str,
    ) -> Result<(), StoreError>;
    /// The stored envelope of an event.
    async fn envelope(&self, source: &str, event_id: &str) -> Result<Option<String>, StoreError>;
    /// Everything recorded under a business key, oldest first.
    async fn entries(&self, business_key: &str) -> Result<Vec<JournalEntry>, StoreError>;
    /// Entries recorded at or after `since_ms` (unix ms) under any key, with their business
    /// keys, newest first, at most `limit` — what the console counts per source and searches by
    /// event id. On DynamoDB this is a filtered scan of the table: for an operator's page, not a
    /// hot path.
    async fn recent(&self, since_ms: i64, limit: usize) -> Result<Vec<RecentEntry>, StoreError>;
}

/// One entry of [`EventJournal::recent`] and the business key it was recorded under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecentEntry {
    /// `order:1042`, `customer:7`, …
    pub business_key: String,
    /// The entry.
    pub entry: JournalEntry,
}
