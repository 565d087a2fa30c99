//! Settlements recorded in memory, for unit tests.

use std::sync::Mutex;

use super::MessageSettler;
use crate::queue::{DeadLetter, QueueError, QueueMessage};

/// Records settlements in memory, for unit tests; can fail dead-lettering on demand.
#[derive(Debug, Default)]
pub struct InMemorySettler {
    /// (message id, seconds) per retry.
    pub retries: Mutex<Vec<(String, u32)>>,
    /// (message id, failure) per dead letter.
    pub dead_letters: Mutex<Vec<(String, DeadLetter)>>,
    /// When true, `dead_letter` fails.
    pub fail_dead_letters: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl MessageSettler for InMemorySettler {
    async fn retry_after(&self, message: &QueueMessage, seconds: u32) -> Result<(), QueueError> {
        self.retries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((message.message_id.clone(), seconds));
        Ok(())
    }

    async fn dead_letter(
        &self,
        message: &QueueMessage,
        failure: &DeadLetter,
    ) -> Result<(), QueueError> {
        if self
            .fail_dead_letters
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(QueueError::Unavailable("in-memory DLQ set to fail".into()));
        }
        self.dead_letters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((message.message_id.clone(), failure.clone()));
        Ok(())
    }
}
