//! The DLQs on SQS: messages are found by receiving them (made visible again when untouched).

use std::collections::BTreeMap;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{Message, MessageAttributeValue};
use paybridge::webhook::Source;
use paybridge::worker::settle::is_failure_attribute;

use super::{DeadLetters, Entry};
use crate::serve::backend::AwsQueue;

/// Both SQS queues' DLQs.
pub struct SqsDeadLetters {
    sqs: Client,
    queues: [(Source, AwsQueue); 2],
}

impl SqsDeadLetters {
    pub fn new(sdk: &aws_config::SdkConfig, stripe: AwsQueue, kentico: AwsQueue) -> Self {
        Self {
            sqs: Client::new(sdk),
            queues: [(Source::Stripe, stripe), (Source::Kentico, kentico)],
        }
    }

    /// Every message on `dlq_url`, each held invisible for a minute while we look.
    async fn receive_all(&self, dlq_url: &str) -> Result<Vec<Message>, String> {
        let mut messages = Vec::new();
        loop {
            let batch = self
                .sqs
                .receive_message()
                .queue_url(dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(60)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| DisplayErrorContext(&e).to_string())?
                .messages
                .unwrap_or_default();
            if batch.is_empty() {
                return Ok(messages);
            }
            messages.extend(batch);
        }
    }

    async fn release(&self, dlq_url: &str, message: &Message) {
        if let Some(receipt) = message.receipt_handle() {
            let _ = self
                .sqs
                .change_message_visibility()
                .queue_url(dlq_url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await;
        }
    }

    /// Applies `act` to the named messages and releases the others; returns how many were acted on.
    async fn each_named(&self, ids: &[String], redrive: bool) -> Result<usize, String> {
        let mut done = 0;
        for (_, queue) in &self.queues {
            for message in self.receive_all(&queue.dlq_url).await? {
                if !ids
                    .iter()
                    .any(|id| Some(id.as_str()) == message.message_id())
                {
                    self.release(&queue.dlq_url, &message).await;
                    continue;
                }
                if redrive {
                    let mut send = self
                        .sqs
                        .send_message()
                        .queue_url(&queue.url)
                        .message_body(message.body().unwrap_or_default());
                    for (name, value) in attributes(&message) {
                        if is_failure_attribute(&name) {
                            continue;
                        }
                        let value = MessageAttributeValue::builder()
                            .data_type("String")
                            .string_value(value)
                            .build()
                            .map_err(|e| e.to_string())?;
                        send = send.message_attributes(name, value);
                    }
                    send.send()
                        .await
                        .map_err(|e| DisplayErrorContext(&e).to_string())?;
                }
                if let Some(receipt) = message.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(&queue.dlq_url)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .map_err(|e| DisplayErrorContext(&e).to_string())?;
                }
                done += 1;
            }
        }
        Ok(done)
    }
}

fn attributes(message: &Message) -> BTreeMap<String, String> {
    message
        .message_attributes()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.string_value().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait::async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn list(&self, source: Option<Source>, limit: usize) -> Result<Vec<Entry>, String> {
        let mut entries = Vec::new();
        for (queue_source, queue) in &self.queues {
            if source.is_some_and(|s| s != *queue_source) {
                continue;
            }
            for message in self.receive_all(&queue.dlq_url).await? {
                if entries
                    .iter()
                    .filter(|e: &&Entry| e.queue == queue_source.as_str())
                    .count()
                    < limit
                {
                    entries.push(Entry {
                        id: message.message_id().unwrap_or_default().to_string(),
                        queue: queue_source.to_string(),
                        body: message.body().unwrap_or_default().to_string(),
                        attributes: attributes(&message),
                    });
                }
                self.release(&queue.dlq_url, &message).await;
            }
        }
        Ok(entries)
    }

    async fn redrive(&self, ids: &[String]) -> Result<usize, String> {
        self.each_named(ids, true).await
    }

    async fn purge(&self, ids: &[String]) -> Result<usize, String> {
        self.each_named(ids, false).await
    }
}
