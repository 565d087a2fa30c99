//! SQS helpers: create a fresh queue, read everything on it.

use std::collections::BTreeMap;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

/// A message as read back: body and string attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The body, byte for byte.
    pub body: String,
    /// String message attributes.
    pub attributes: BTreeMap<String, String>,
}

/// Creates a queue with a unique name and the 1 MiB message size limit; returns its URL.
pub async fn create_queue(client: &Client, prefix: &str) -> String {
    client
        .create_queue()
        .queue_name(crate::unique_name(prefix))
        .attributes(QueueAttributeName::MaximumMessageSize, "1048576")
        .send()
        .await
        .expect("moto creates the queue")
        .queue_url
        .expect("a queue URL")
}

/// Receives every message currently visible on the queue (deleting none).
pub async fn receive_all(client: &Client, queue_url: &str) -> Vec<ReceivedMessage> {
    let mut messages = Vec::new();
    loop {
        let output = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("moto receives");
        let batch = output.messages.unwrap_or_default();
        if batch.is_empty() {
            return messages;
        }
        for message in batch {
            let attributes = message
                .message_attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.string_value.unwrap_or_default()))
                .collect();
            messages.push(ReceivedMessage {
                body: message.body.unwrap_or_default(),
                attributes,
            });
        }
    }
}
