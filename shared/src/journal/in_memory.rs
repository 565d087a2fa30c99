//! The journal in memory, for tests.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{EventJournal, JournalEntry, RecentEntry};
use crate::store::StoreError;

/// The journal in memory, for tests.
#[derive(Debug, Default)]
pub struct InMemoryEventJournal {
    entries: Mutex<HashMap<String, Vec<JournalEntry>>>,
    envelopes: Mutex<HashMap<(String, String), String>>,
    /// Every entry with its key and the time it was recorded (unix ms), in recording order.
    log: Mutex<Vec<(i64, RecentEntry)>>,
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
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((
                crate::clock::unix_millis(time::OffsetDateTime::now_utc()),
                RecentEntry {
                    business_key: business_key.to_string(),
                    entry: entry.clone(),
                },
            ));
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

    async fn recent(&self, since_ms: i64, limit: usize) -> Result<Vec<RecentEntry>, StoreError> {
        let log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok((log.iter().rev())
            .take_while(|(at, _)| *at >= since_ms)
            .take(limit)
            .map(|(_, entry)| entry.clone())
            .collect())
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
