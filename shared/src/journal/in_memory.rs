//! The journal in memory, for tests.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{EventJournal, JournalEntry};
use crate::store::StoreError;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_event_journal_contract() {
        crate::journal::contract::run_all(&InMemoryEventJournal::default()).await;
        crate::journal::contract::long_history(&InMemoryEventJournal::default()).await;
    }
}
