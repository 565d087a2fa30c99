//! Effects in memory, for unit tests.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{EffectKey, EffectStore, Recorded};
use crate::store::StoreError;

/// Effects in memory, for unit tests.
#[derive(Debug, Default)]
pub struct InMemoryEffectStore {
    values: Mutex<HashMap<String, String>>,
}

impl InMemoryEffectStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl EffectStore for InMemoryEffectStore {
    async fn get(&self, key: &EffectKey) -> Result<Option<String>, StoreError> {
        let values = self
            .values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(values.get(&key.storage_key()).cloned())
    }

    async fn record(&self, key: &EffectKey, value: &str) -> Result<Recorded, StoreError> {
        let mut values = self
            .values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match values.get(&key.storage_key()) {
            Some(existing) => Ok(Recorded::Existing(existing.clone())),
            None => {
                values.insert(key.storage_key(), value.to_string());
                Ok(Recorded::New(value.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_effect_store_contract() {
        crate::effects::contract::run_all(&InMemoryEffectStore::new()).await;
    }
}
