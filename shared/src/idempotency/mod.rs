//! Exactly-once on at-least-once delivery: AWS Powertools' idempotency semantics, in Rust.
//!
//! The state machine lives once, in [`guard`]; stores implement four small hooks
//! ([`IdempotencyStore`]): put-in-progress (conditional), complete, delete, get.

pub mod dynamodb;
pub mod guard;
pub mod in_memory;
mod record;
#[cfg(feature = "embedded")]
pub mod sqlite;

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;

pub use guard::{Guarded, Idempotency, IdempotencyConfig, IdempotencyError};
pub use record::{IdempotencyRecord, RecordStatus};

pub use crate::store::StoreError;
pub use dynamodb::DynamoDbIdempotencyStore;
pub use in_memory::InMemoryIdempotencyStore;
#[cfg(feature = "embedded")]
pub use sqlite::SqliteIdempotencyStore;

/// Why an in-progress record could not be put.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PutError {
    /// A live record holds the key (completed, or in progress and not expired).
    #[error("a live record exists for this key")]
    Exists(IdempotencyRecord),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Persistence of idempotency records.
#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Puts `record` (INPROGRESS) unless a live record holds its key: one conditional write,
    /// `attribute_not_exists(pk) OR expiration < now OR (status = INPROGRESS AND
    /// in_progress_expiration < now_ms)`. On conflict, returns the existing record.
    async fn put_in_progress(
        &self,
        record: &IdempotencyRecord,
        now_ms: i64,
    ) -> Result<(), PutError>;
    /// Marks the record COMPLETED with its result and expiry.
    async fn complete(&self, record: &IdempotencyRecord) -> Result<(), StoreError>;
    /// Deletes the record so a retry can run.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Reads the record, expired or not.
    async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
}
