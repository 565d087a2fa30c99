//! Dead letters: how a worker settles a message that did not end well (a later retry, or a copy
//! on the dead-letter queue with its reason), and what an operator does with the dead-letter
//! queues afterwards (list, redrive, purge). Two ports, one adapter file per technology.

pub mod in_memory;
#[cfg(feature = "embedded")]
pub mod sqlite;
pub mod sqs;

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;

use std::collections::BTreeMap;

use crate::queue::{DeadLetter, QueueError, QueueMessage};
use crate::webhook::Source;

pub use in_memory::InMemorySettler;
#[cfg(feature = "embedded")]
pub use sqlite::{SqliteDeadLetters, SqliteMessageSettler};
pub use sqs::{SqsDeadLetters, SqsMessageSettler};

/// What the processor does with messages that did not end well.
#[async_trait::async_trait]
pub trait MessageSettler: Send + Sync {
    /// Makes the message visible again only after `seconds`.
    async fn retry_after(&self, message: &QueueMessage, seconds: u32) -> Result<(), QueueError>;
    /// Puts a copy of the message on the dead-letter queue with the failure's attributes.
    async fn dead_letter(
        &self,
        message: &QueueMessage,
        failure: &DeadLetter,
    ) -> Result<(), QueueError>;
}

/// One dead-lettered event, whichever backend holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetterEntry {
    /// The DLQ message id.
    pub id: String,
    /// Whose queue it came from (`stripe`, `kentico`).
    pub queue: Source,
    /// The queue envelope.
    pub body: String,
    /// Its attributes, the `failure_*` ones included.
    pub attributes: BTreeMap<String, String>,
}

impl DeadLetterEntry {
    /// The attribute `name`, or "".
    pub fn attribute(&self, name: &str) -> &str {
        self.attributes.get(name).map(String::as_str).unwrap_or("")
    }
}

/// `source`'s queue among `queues`.
fn queue_of<Q>(queues: &[(Source, Q)], source: Source) -> Option<&Q> {
    queues
        .iter()
        .find(|(queue_source, _)| *queue_source == source)
        .map(|(_, queue)| queue)
}

/// What an operator does with the dead-letter queues of both sources.
#[async_trait::async_trait]
pub trait DeadLetters: Send + Sync {
    /// At most `limit` entries of `source`'s dead-letter queue, oldest first (none when this
    /// view has no queue of `source`).
    async fn list_queue(
        &self,
        source: Source,
        limit: usize,
    ) -> Result<Vec<DeadLetterEntry>, QueueError>;

    /// At most `limit` entries per queue (of `source` only, when given), oldest first.
    async fn list(
        &self,
        source: Option<Source>,
        limit: usize,
    ) -> Result<Vec<DeadLetterEntry>, QueueError> {
        let mut entries = Vec::new();
        for queue in Source::ALL {
            if source.is_none_or(|wanted| wanted == queue) {
                entries.extend(self.list_queue(queue, limit).await?);
            }
        }
        Ok(entries)
    }
    /// Puts the named entries back on their source queue without their failure attributes;
    /// returns how many were found and moved.
    async fn redrive(&self, ids: &[String]) -> Result<usize, QueueError>;
    /// Deletes the named entries for good; returns how many were found.
    async fn purge(&self, ids: &[String]) -> Result<usize, QueueError>;
}
