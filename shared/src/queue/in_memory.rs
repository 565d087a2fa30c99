//! An in-memory queue for unit tests: records what was published, fails on demand.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{OutgoingMessage, QueueError, QueuePublisher};

/// Keeps published messages in memory, in order.
#[derive(Debug, Default)]
pub struct InMemoryQueue {
    messages: Mutex<Vec<OutgoingMessage>>,
    failing: AtomicBool,
}

impl InMemoryQueue {
    /// An empty, working queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every later publish fail (or work again).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Everything published so far.
    pub fn messages(&self) -> Vec<OutgoingMessage> {
        self.messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[async_trait::async_trait]
impl QueuePublisher for InMemoryQueue {
    async fn publish(&self, message: OutgoingMessage) -> Result<String, QueueError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(QueueError::Unavailable(
                "in-memory queue set to fail".into(),
            ));
        }
        let mut messages = self
            .messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        messages.push(message);
        Ok(format!("mem-{}", messages.len()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::queue::contract::{self, PublishedQueue};

    #[async_trait::async_trait]
    impl PublishedQueue for InMemoryQueue {
        fn publisher(&self) -> &dyn QueuePublisher {
            self
        }

        async fn read_back(&self) -> Vec<(String, BTreeMap<String, String>)> {
            self.messages()
                .into_iter()
                .map(|m| (m.body, m.attributes.into_iter().collect()))
                .collect()
        }
    }

    #[tokio::test]
    async fn keeps_the_queue_publisher_contract() {
        contract::run_all(&InMemoryQueue::new()).await;
    }
}
