//! The event journal: every envelope a worker saw, and what became of it, by business key —
//! what `paybridge replay` re-enqueues and `paybridge trace` shows. Best effort: a journal
//! failure is logged and never fails a message.

pub mod dynamodb;

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::idempotency::StoreError;

pub use dynamodb::DynamoDbEventJournal;

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
}

/// The journal in memory, for tests.
#[derive(Debug, Default)]
pub struct InMemoryEventJournal {
    entries: Mutex<HashMap<String, Vec<JournalEntry>>>,
    envelopes: Mutex<HashMap<(String, String), String>>,
}

#[async_trait::async_trait]
impl EventJournal for InMemoryEventJournal {
    async fn record(
        &self,
        business_key: &str,
        entry: &JournalEntry,
        envelope: &str,
    ) -> Result<(), StoreError> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(business_key.to_string())
            .or_default()
            .push(entry.clone());
        self.envelopes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((entry.source.clone(), entry.event_id.clone()))
            .or_insert_with(|| envelope.to_string());
        Ok(())
    }

    async fn envelope(&self, source: &str, event_id: &str) -> Result<Option<String>, StoreError> {
        let envelopes = self
            .envelopes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(envelopes
            .get(&(source.to_string(), event_id.to_string()))
            .cloned())
    }

    async fn entries(&self, business_key: &str) -> Result<Vec<JournalEntry>, StoreError> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(entries.get(business_key).cloned().unwrap_or_default())
    }
}
