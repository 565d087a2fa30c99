//! Posted entries in memory, for tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{LedgerEntry, LedgerStore, Posted};
use crate::store::StoreError;

/// The in-memory adapter.
#[derive(Debug, Default)]
pub struct InMemoryLedgerStore {
    entries: Mutex<BTreeMap<String, LedgerEntry>>,
}

impl InMemoryLedgerStore {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl LedgerStore for InMemoryLedgerStore {
    async fn post(&self, entry: &LedgerEntry) -> Result<Posted, StoreError> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.contains_key(&entry.id) {
            return Ok(Posted::AlreadyPosted);
        }
        entries.insert(entry.id.clone(), entry.clone());
        Ok(Posted::New)
    }

    async fn between(&self, from: &str, to: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        super::days(from, to)?;
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut found: Vec<LedgerEntry> = entries
            .values()
            .filter(|entry| entry.day() >= from && entry.day() < to)
            .cloned()
            .collect();
        found.sort_by(|a, b| (&a.occurred_at, &a.id).cmp(&(&b.occurred_at, &b.id)));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_ledger_store_contract() {
        super::super::contract::run_all(&InMemoryLedgerStore::new()).await;
    }
}
