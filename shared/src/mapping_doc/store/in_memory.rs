//! The mapping document's versions in memory, for tests.

use std::sync::{Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use super::{MappingAction, MappingAudit, MappingChange, MappingStore, MappingVersion, too_large};
use crate::clock::rfc3339_millis;
use crate::store::StoreError;

/// The in-memory adapter.
#[derive(Debug, Default)]
pub struct InMemoryMappingStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Version `n` at index `n - 1`.
    versions: Vec<MappingVersion>,
    active: u32,
    /// Oldest first.
    audit: Vec<MappingAudit>,
}

impl InMemoryMappingStore {
    /// No versions: the environment's mapping is active.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn get(&self, version: u32) -> Option<&MappingVersion> {
        let index = usize::try_from(version).ok()?.checked_sub(1)?;
        self.versions.get(index)
    }

    fn highest(&self) -> u32 {
        u32::try_from(self.versions.len()).unwrap_or(u32::MAX)
    }
}

#[async_trait::async_trait]
impl MappingStore for InMemoryMappingStore {
    async fn publish(
        &self,
        document: &str,
        author: &str,
        comment: &str,
        expected_active: u32,
        now: OffsetDateTime,
    ) -> Result<MappingChange, StoreError> {
        if let Some(refused) = too_large(document, author, comment) {
            return Ok(refused);
        }
        let mut guard = self.state();
        let state = &mut *guard;
        if state.active != expected_active {
            return Ok(MappingChange::Conflict {
                active: state.active,
            });
        }
        let version = state.highest().saturating_add(1);
        let at = rfc3339_millis(now);
        state.versions.push(MappingVersion {
            version,
            document: document.to_string(),
            author: author.to_string(),
            comment: comment.to_string(),
            created_at: at.clone(),
        });
        state.audit.push(MappingAudit {
            at,
            author: author.to_string(),
            action: MappingAction::Published,
            version,
            previous: state.active,
            comment: comment.to_string(),
        });
        state.active = version;
        Ok(MappingChange::Done(version))
    }

    async fn activate(
        &self,
        version: u32,
        author: &str,
        comment: &str,
        expected_active: u32,
        now: OffsetDateTime,
    ) -> Result<MappingChange, StoreError> {
        if let Some(refused) = too_large("", author, comment) {
            return Ok(refused);
        }
        let mut guard = self.state();
        let state = &mut *guard;
        if state.active != expected_active {
            return Ok(MappingChange::Conflict {
                active: state.active,
            });
        }
        if version != 0 && state.get(version).is_none() {
            return Ok(MappingChange::Unknown(version));
        }
        state.audit.push(MappingAudit {
            at: rfc3339_millis(now),
            author: author.to_string(),
            action: MappingAction::Activated,
            version,
            previous: state.active,
            comment: comment.to_string(),
        });
        state.active = version;
        Ok(MappingChange::Done(version))
    }

    async fn active(&self) -> Result<(u32, Option<MappingVersion>), StoreError> {
        let state = self.state();
        Ok((state.active, state.get(state.active).cloned()))
    }

    async fn get(&self, version: u32) -> Result<Option<MappingVersion>, StoreError> {
        Ok(self.state().get(version).cloned())
    }

    async fn versions(&self, limit: usize) -> Result<Vec<MappingVersion>, StoreError> {
        Ok(self
            .state()
            .versions
            .iter()
            .rev()
            .take(limit)
            .cloned()
            .collect())
    }

    async fn audit(&self, limit: usize) -> Result<Vec<MappingAudit>, StoreError> {
        Ok(self
            .state()
            .audit
            .iter()
            .rev()
            .take(limit)
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_mapping_store_contract() {
        super::super::contract::run_all(&InMemoryMappingStore::new()).await;
    }
}
