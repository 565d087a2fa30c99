//! An in-memory idempotency store with the DynamoDB adapter's semantics, for unit tests.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{IdempotencyRecord, IdempotencyStore, PutError, RecordStatus, StoreError};

/// Records in a map behind a mutex: the conditional put is atomic.
#[derive(Debug, Default)]
pub struct InMemoryIdempotencyStore {
    records: Mutex<HashMap<String, IdempotencyRecord>>,
}

impl InMemoryIdempotencyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, IdempotencyRecord>> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for InMemoryIdempotencyStore {
    async fn put_in_progress(
        &self,
        record: &IdempotencyRecord,
        now_ms: i64,
    ) -> Result<(), PutError> {
        let mut records = self.lock();
        if let Some(existing) = records.get(&record.key)
            && !existing.is_replaceable(now_ms)
        {
            return Err(PutError::Exists(existing.clone()));
        }
        records.insert(record.key.clone(), record.clone());
        Ok(())
    }

    async fn complete(&self, record: &IdempotencyRecord) -> Result<(), StoreError> {
        debug_assert_eq!(record.status, RecordStatus::Completed);
        self.lock().insert(record.key.clone(), record.clone());
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self.lock().get(key).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::contract;

    #[tokio::test]
    async fn keeps_the_idempotency_store_contract() {
        contract::run_all(&InMemoryIdempotencyStore::new()).await;
    }
}
