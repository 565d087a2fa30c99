//! The queue envelope and messages (docs/CONTRACTS.md#queue-envelope), the dead-letter
//! attributes, and the port every queue adapter implements.

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;
mod dead_letter;
pub mod in_memory;
pub mod sqs;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::webhook::{EventEnvelope, Source};

pub use dead_letter::{
    ATTRIBUTE_FAILED_AT, ATTRIBUTE_FAILURE_KIND, ATTRIBUTE_FAILURE_REASON,
    ATTRIBUTE_FAILURE_RECEIVE_COUNT, ATTRIBUTE_ORIGINAL_MESSAGE_ID, DEAD_LETTER_ATTRIBUTE_RESERVE,
    DeadLetter, TruncatedBody, dead_letter_copy, is_failure_attribute,
};
pub use in_memory::InMemoryQueue;
pub use sqs::SqsQueuePublisher;

/// The message body on every queue: identical on SQS and in `serve`.
///
/// `payload` is the verified event exactly as the sender's body held it (outer whitespace
/// aside): it is embedded as raw JSON, never re-serialized.
#[derive(Debug, Serialize, Deserialize)]
pub struct QueueEnvelope {
    /// Who sent the event.
    pub source: Source,
    /// The sender's event id (`evt_…`, a Kentico event GUID).
    pub event_id: String,
    /// The sender's event type.
    pub event_type: String,
    /// When ingress accepted it, RFC 3339 UTC.
    pub received_at: String,
    /// The verified event JSON, verbatim.
    pub payload: Box<RawValue>,
}

impl QueueEnvelope {
    /// Wraps a verified event body; `payload` must already be known to be valid JSON.
    pub fn wrap(
        source: Source,
        event: &EventEnvelope,
        received_at: String,
        payload: &str,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            source,
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            received_at,
            payload: RawValue::from_string(payload.trim().to_owned())?,
        })
    }

    /// The message to send: the envelope as body, source/type/id as message attributes.
    pub fn to_message(&self) -> Result<OutgoingMessage, serde_json::Error> {
        Ok(OutgoingMessage {
            body: serde_json::to_string(self)?,
            attributes: vec![
                (
                    ATTRIBUTE_SOURCE.to_string(),
                    self.source.as_str().to_string(),
                ),
                (ATTRIBUTE_EVENT_TYPE.to_string(), self.event_type.clone()),
                (ATTRIBUTE_EVENT_ID.to_string(), self.event_id.clone()),
            ],
        })
    }
}

/// Message attribute naming the source.
pub const ATTRIBUTE_SOURCE: &str = "source";
/// Message attribute naming the event type.
pub const ATTRIBUTE_EVENT_TYPE: &str = "event_type";
/// Message attribute carrying the event id.
pub const ATTRIBUTE_EVENT_ID: &str = "event_id";

/// A message ready for a queue: a body and string attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The message body (a [`QueueEnvelope`] as JSON).
    pub body: String,
    /// String message attributes, name and value.
    pub attributes: Vec<(String, String)>,
}

impl OutgoingMessage {
    /// The size SQS charges against `MaximumMessageSize`: the body plus, for each attribute,
    /// its name, its data type (`String`) and its value.
    pub fn sqs_size(&self) -> usize {
        dead_letter::sqs_size(&self.body, &self.attributes)
    }
}

/// SQS caps a message's visibility timeout at 12 hours.
pub const MAX_VISIBILITY_SECONDS: u32 = 43_200;

/// A message as the worker receives it, whichever queue it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// The queue's message id (what `batchItemFailures` names).
    pub message_id: String,
    /// The handle to change its visibility or delete it.
    pub receipt_handle: String,
    /// The body: a queue envelope.
    pub body: String,
    /// How many times the queue has delivered it, this time included.
    pub receive_count: u32,
    /// String message attributes.
    pub attributes: BTreeMap<String, String>,
}

/// Where one source's queue and its dead-letter queue are (SQS URLs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    /// The queue URL.
    pub url: String,
    /// Its dead-letter queue's URL.
    pub dlq_url: String,
}

/// A queue refused or failed to take a message.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue is unreachable or failed: transient, the sender should retry.
    #[error("the queue did not accept the message: {0}")]
    Unavailable(String),
}

/// Sends messages to one queue.
#[async_trait::async_trait]
pub trait QueuePublisher: Send + Sync {
    /// Sends `message`; returns the queue's message id once the queue has durably accepted it.
    async fn publish(&self, message: OutgoingMessage) -> Result<String, QueueError>;
}
