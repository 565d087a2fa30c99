//! Publishes queue envelopes to Amazon SQS with `SendMessage`.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::MessageAttributeValue;

use super::{OutgoingMessage, QueueError, QueuePublisher};

/// Sends to one SQS queue, named by URL.
#[derive(Debug, Clone)]
pub struct SqsQueuePublisher {
    client: Client,
    queue_url: String,
}

impl SqsQueuePublisher {
    /// A publisher for `queue_url` using an already configured client.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait::async_trait]
impl QueuePublisher for SqsQueuePublisher {
    async fn publish(&self, message: OutgoingMessage) -> Result<String, QueueError> {
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(message.body);
        for (name, value) in message.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| QueueError::Unavailable(e.to_string()))?;
            request = request.message_attributes(name, attribute);
        }
        let output = request
            .send()
            .await
            .map_err(|e| QueueError::Unavailable(DisplayErrorContext(&e).to_string()))?;
        Ok(output.message_id.unwrap_or_default())
    }
}
