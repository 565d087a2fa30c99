//! Polls an SQS queue the way Lambda's event source mapping does: receive a batch, process it,
//! delete what succeeded, leave the failures to their visibility timeout. Used by `serve` with
//! the AWS backend and by the tests.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};

use super::{BatchProcessor, BatchReport};
use crate::queue::QueueError;
use crate::queue::QueueMessage;

/// One queue, one processor.
pub struct SqsPoller {
    client: Client,
    queue_url: String,
    processor: Arc<BatchProcessor>,
    /// Messages per receive (1–10).
    pub batch_size: i32,
    /// Long-poll wait (0–20 s).
    pub wait_seconds: i32,
    /// How long one batch may take: the deadline handed to the idempotency guard.
    pub invocation_timeout: Duration,
}

impl SqsPoller {
    /// A poller with Lambda-like defaults: 10 messages, 20 s long polls, 60 s per batch.
    pub fn new(
        client: Client,
        queue_url: impl Into<String>,
        processor: Arc<BatchProcessor>,
    ) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            processor,
            batch_size: 10,
            wait_seconds: 20,
            invocation_timeout: Duration::from_secs(60),
        }
    }

    /// Receives one batch, processes it and deletes the messages that did not fail.
    pub async fn poll_once(&self) -> Result<BatchReport, QueueError> {
        let unavailable = |e: String| QueueError::Unavailable(e);
        let received = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(self.wait_seconds)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| unavailable(DisplayErrorContext(&e).to_string()))?;
        let messages: Vec<QueueMessage> = received
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| QueueMessage {
                receive_count: m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1),
                attributes: m
                    .message_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(k, v)| v.string_value.map(|s| (k, s)))
                    .collect(),
                message_id: m.message_id.unwrap_or_default(),
                receipt_handle: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            })
            .collect();
        if messages.is_empty() {
            return Ok(BatchReport {
                outcomes: Vec::new(),
            });
        }
        let receipts: Vec<(String, String)> = messages
            .iter()
            .map(|m| (m.message_id.clone(), m.receipt_handle.clone()))
            .collect();
        let deadline = time::OffsetDateTime::now_utc() + self.invocation_timeout;
        let deadline_ms = crate::clock::unix_millis(deadline);
        let report = self.processor.process(messages, deadline_ms).await;
        let entries: Vec<DeleteMessageBatchRequestEntry> = report
            .receipts_to_delete(receipts)
            .iter()
            .enumerate()
            .filter_map(|(i, receipt)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(receipt)
                    .build()
                    .ok()
            })
            .collect();
        if !entries.is_empty() {
            // A message whose delete fails comes back and is answered from its idempotency record.
            self.client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| unavailable(DisplayErrorContext(&e).to_string()))?;
        }
        Ok(report)
    }
}

#[async_trait::async_trait]
impl super::Poller for SqsPoller {
    async fn poll_once(&self) -> Result<BatchReport, QueueError> {
        SqsPoller::poll_once(self).await
    }
}
