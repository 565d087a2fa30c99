//! Dead letters on SQS: the settler changes visibility and sends copies to the DLQ; the operator
//! finds DLQ messages by receiving them (made visible again when untouched).

use std::collections::BTreeMap;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{Message, MessageAttributeValue, QueueAttributeName};

use std::sync::Arc;

use super::{DeadLetterEntry, DeadLetters, MessageSettler};
use crate::journal::EventJournal;
use crate::queue::{
    DeadLetter, QueueError, QueueMessage, QueueUrls, TruncatedBody, dead_letter_copy,
    is_failure_attribute,
};
use crate::webhook::Source;

fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: aws_sdk_sqs::error::SdkError<E, R>,
) -> QueueError {
    QueueError::Unavailable(DisplayErrorContext(&error).to_string())
}

fn string_value(value: String) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| QueueError::Unavailable(e.to_string()))
}

/// Settles on SQS: `ChangeMessageVisibility` on the source queue, `SendMessage` to its DLQ.
#[derive(Debug, Clone)]
pub struct SqsMessageSettler {
    client: Client,
    queue_url: String,
    dlq_url: String,
    dlq_max_bytes: usize,
}

impl SqsMessageSettler {
    /// A settler for messages of `queue_url`, dead-lettering to `dlq_url`, which takes messages
    /// of at most `dlq_max_bytes` (its `MaximumMessageSize`).
    pub fn new(
        client: Client,
        queue_url: impl Into<String>,
        dlq_url: impl Into<String>,
        dlq_max_bytes: usize,
    ) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            dlq_url: dlq_url.into(),
            dlq_max_bytes,
        }
    }
}

#[async_trait::async_trait]
impl MessageSettler for SqsMessageSettler {
    async fn retry_after(&self, message: &QueueMessage, seconds: u32) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(&message.receipt_handle)
            .visibility_timeout(seconds as i32)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn dead_letter(
        &self,
        message: &QueueMessage,
        failure: &DeadLetter,
    ) -> Result<(), QueueError> {
        let (body, attributes) = dead_letter_copy(message, failure, self.dlq_max_bytes);
        if body != message.body {
            tracing::warn!(
                message_id = %message.message_id,
                bytes = message.body.len(),
                "the dead-lettered copy carries a marker instead of its body (too large beside its reason)"
            );
        }
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.dlq_url)
            .message_body(body);
        for (name, value) in attributes {
            request = request.message_attributes(name, string_value(value)?);
        }
        request.send().await.map_err(unavailable)?;
        Ok(())
    }
}

/// Both sources' DLQs on SQS.
#[derive(Clone)]
pub struct SqsDeadLetters {
    sqs: Client,
    queues: Vec<(Source, QueueUrls)>,
    /// Where a dead letter whose body was replaced by a marker finds it again.
    journal: Option<Arc<dyn EventJournal>>,
}

/// How long the operator's commands hold each dead letter while they list, redrive or purge:
/// long enough for a large DLQ, so none comes back (and is redriven twice) mid-operation.
const HOLD_SECONDS: i32 = 300;
/// Long polls after an empty receive while SQS still reports visible messages.
const MAX_EMPTY_ROUNDS: u32 = 5;

impl std::fmt::Debug for SqsDeadLetters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqsDeadLetters")
            .field("queues", &self.queues)
            .field("journal", &self.journal.is_some())
            .finish_non_exhaustive()
    }
}

impl SqsDeadLetters {
    /// The DLQs of `queues` (each source's queue and its DLQ).
    pub fn new(sqs: Client, queues: Vec<(Source, QueueUrls)>) -> Self {
        Self {
            sqs,
            queues,
            journal: None,
        }
    }

    /// Redrives restore a body replaced by a [`TruncatedBody`] marker from `journal`.
    pub fn with_journal(mut self, journal: Arc<dyn EventJournal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The body to redrive for `body`: itself, or the full body a marker stands for (from the
    /// journal, checked against the marker's digest); why not, when it cannot be restored.
    async fn body_to_redrive(&self, body: &str) -> Result<String, String> {
        let Some(marker) = TruncatedBody::from_body(body) else {
            return Ok(body.to_string());
        };
        let (Some(source), Some(event_id)) = (&marker.source, &marker.event_id) else {
            return Err("its body was replaced by a marker naming no event".into());
        };
        let Some(journal) = &self.journal else {
            return Err("its body was replaced by a marker and no journal is at hand".into());
        };
        match journal.envelope(source, event_id).await {
            Ok(Some(full)) if marker.matches(&full) => Ok(full),
            Ok(Some(_)) => Err(format!(
                "the journal's copy of {source} {event_id} is not the body the marker stands for"
            )),
            Ok(None) => Err(format!(
                "the journal no longer holds {source} {event_id} (past its retention?)"
            )),
            Err(e) => Err(format!("reading {source} {event_id} from the journal: {e}")),
        }
    }

    /// Every message on `dlq_url`, each held invisible for [`HOLD_SECONDS`] while we look, each
    /// once. An empty receive alone proves nothing (a short poll samples only some of SQS's
    /// servers): the queue counts as drained when it also reports no visible message, else it
    /// is long-polled again, a few times at most.
    async fn receive_all(&self, dlq_url: &str) -> Result<Vec<Message>, QueueError> {
        let mut messages: Vec<Message> = Vec::new();
        let mut empty_rounds = 0;
        loop {
            let batch = self
                .sqs
                .receive_message()
                .queue_url(dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(HOLD_SECONDS)
                .wait_time_seconds(if empty_rounds == 0 { 0 } else { 1 })
                .message_attribute_names("All")
                .send()
                .await
                .map_err(unavailable)?
                .messages
                .unwrap_or_default();
            if batch.is_empty() {
                if empty_rounds >= MAX_EMPTY_ROUNDS || self.visible(dlq_url).await? == 0 {
                    return Ok(messages);
                }
                empty_rounds += 1;
                continue;
            }
            empty_rounds = 0;
            for message in batch {
                // Received again (its hold ran out): one entry, with the newest receipt.
                match (messages.iter_mut()).find(|m| m.message_id() == message.message_id()) {
                    Some(earlier) => *earlier = message,
                    None => messages.push(message),
                }
            }
        }
    }

    /// The queue's count of visible messages (approximate, as SQS reports it).
    async fn visible(&self, queue_url: &str) -> Result<u64, QueueError> {
        let answer = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(unavailable)?;
        Ok((answer.attributes())
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
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

    /// Redrives (or only deletes) the named messages and releases the others; returns how
    /// many were found.
    async fn each_named(&self, ids: &[String], redrive: bool) -> Result<usize, QueueError> {
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
                    let body = match self
                        .body_to_redrive(message.body().unwrap_or_default())
                        .await
                    {
                        Ok(body) => body,
                        Err(why) => {
                            tracing::error!(
                                message_id = message.message_id().unwrap_or_default(),
                                why = %why,
                                "a dead letter cannot be redriven: left in the DLQ"
                            );
                            self.release(&queue.dlq_url, &message).await;
                            continue;
                        }
                    };
                    let mut send = self
                        .sqs
                        .send_message()
                        .queue_url(&queue.url)
                        .message_body(body);
                    for (name, value) in attributes(&message) {
                        if !is_failure_attribute(&name) {
                            send = send.message_attributes(name, string_value(value)?);
                        }
                    }
                    send.send().await.map_err(unavailable)?;
                }
                if let Some(receipt) = message.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(&queue.dlq_url)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .map_err(unavailable)?;
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
    async fn list_queue(
        &self,
        source: Source,
        limit: usize,
    ) -> Result<Vec<DeadLetterEntry>, QueueError> {
        let Some(queue) = super::queue_of(&self.queues, source) else {
            return Ok(Vec::new());
        };
        let mut entries = Vec::new();
        // Every message is received (and released) so the listing is complete; `limit` caps
        // what is shown.
        for message in self.receive_all(&queue.dlq_url).await? {
            if entries.len() < limit {
                entries.push(DeadLetterEntry {
                    id: message.message_id().unwrap_or_default().to_string(),
                    queue: source,
                    body: message.body().unwrap_or_default().to_string(),
                    attributes: attributes(&message),
                });
            }
            self.release(&queue.dlq_url, &message).await;
        }
        Ok(entries)
    }

    async fn redrive(&self, ids: &[String]) -> Result<usize, QueueError> {
        self.each_named(ids, true).await
    }

    async fn purge(&self, ids: &[String]) -> Result<usize, QueueError> {
        self.each_named(ids, false).await
    }
}
