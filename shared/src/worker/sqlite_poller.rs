//! The worker loop of `serve`: receive from a [`SqliteQueue`], process, settle, delete — like `SqsPoller`.

use std::sync::Arc;

use crate::embedded::SqliteQueue;
use crate::queue::QueueError;
use crate::worker::{BatchProcessor, BatchReport};

/// One embedded queue, one processor: what Lambda's SQS event source mapping does, in process.
pub struct SqlitePoller {
    queue: SqliteQueue,
    processor: Arc<BatchProcessor>,
    /// Messages per receive.
    pub batch_size: usize,
    /// How long a received message stays hidden; also the batch's deadline for the
    /// idempotency guard, so a crashed batch's records and messages free up together.
    pub visibility_timeout_seconds: u32,
}

impl SqlitePoller {
    /// A poller with Lambda-like defaults: 10 messages, 60 s per batch. The processor should
    /// settle with a [`SqliteMessageSettler`](crate::dead_letters::SqliteMessageSettler) on the same queue.
    pub fn new(queue: SqliteQueue, processor: Arc<BatchProcessor>) -> Self {
        Self {
            queue,
            processor,
            batch_size: 10,
            visibility_timeout_seconds: 60,
        }
    }

    /// Receives one batch, processes it and deletes the messages that did not fail. Returns
    /// at once when nothing is visible: the caller sleeps between empty polls.
    pub async fn poll_once(&self) -> Result<BatchReport, QueueError> {
        let messages = self
            .queue
            .receive(self.batch_size, self.visibility_timeout_seconds)
            .await?;
        if messages.is_empty() {
            return Ok(BatchReport {
                outcomes: Vec::new(),
            });
        }
        let receipts: Vec<(String, String)> = messages
            .iter()
            .map(|m| (m.message_id.clone(), m.receipt_handle.clone()))
            .collect();
        let deadline_ms = self.queue.now_ms() + i64::from(self.visibility_timeout_seconds) * 1000;
        let report = self.processor.process(messages, deadline_ms).await;
        let done = report.receipts_to_delete(receipts);
        // A message whose delete fails comes back and is answered from its idempotency record.
        self.queue.delete_many(done).await?;
        Ok(report)
    }
}

#[async_trait::async_trait]
impl super::Poller for SqlitePoller {
    async fn poll_once(&self) -> Result<BatchReport, QueueError> {
        SqlitePoller::poll_once(self).await
    }
}

#[cfg(test)]
mod tests;
