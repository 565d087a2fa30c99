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
    receive_all_with_receipts(client, queue_url)
        .await
        .into_iter()
        .map(|(message, _)| message)
        .collect()
}

/// Every message on the queue, left visible for the next reader (an operator's command).
pub async fn peek_all(client: &Client, queue_url: &str) -> Vec<ReceivedMessage> {
    let received = receive_all_with_receipts(client, queue_url).await;
    for (_, receipt) in &received {
        client
            .change_message_visibility()
            .queue_url(queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(0)
            .send()
            .await
            .expect("moto changes the visibility");
    }
    received.into_iter().map(|(message, _)| message).collect()
}

async fn receive_all_with_receipts(
    client: &Client,
    queue_url: &str,
) -> Vec<(ReceivedMessage, String)> {
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
            messages.push((
                ReceivedMessage {
                    body: message.body.unwrap_or_default(),
                    attributes,
                },
                message.receipt_handle.unwrap_or_default(),
            ));
        }
    }
}

/// Creates a queue and its DLQ with a redrive policy; returns (queue URL, DLQ URL).
pub async fn create_queue_with_dlq(
    client: &Client,
    prefix: &str,
    max_receive_count: u32,
    visibility_timeout: u32,
) -> (String, String) {
    let dlq_url = create_queue(client, &format!("{prefix}-dlq")).await;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("moto answers")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("a DLQ ARN");
    let url = client
        .create_queue()
        .queue_name(crate::unique_name(prefix))
        .attributes(QueueAttributeName::MaximumMessageSize, "1048576")
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility_timeout.to_string(),
        )
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(
                r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max_receive_count}"}}"#
            ),
        )
        .send()
        .await
        .expect("moto creates the queue")
        .queue_url
        .expect("a queue URL");
    (url, dlq_url)
}

/// Sends `body` with string `attributes`.
pub async fn send(client: &Client, queue_url: &str, body: &str, attributes: &[(&str, &str)]) {
    let mut request = client
        .send_message()
        .queue_url(queue_url)
        .message_body(body);
    for (name, value) in attributes {
        request = request.message_attributes(
            *name,
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(*value)
                .build()
                .unwrap(),
        );
    }
    request.send().await.expect("moto accepts the message");
}
