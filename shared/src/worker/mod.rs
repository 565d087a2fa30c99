//! The SQS batch processor every worker Lambda runs: route, guard, settle.
//!
//! Each message ends one way, on purpose: done, a duplicate of something done, ignored (counted),
//! retried later with exponential backoff, or sent to the dead-letter queue with its reason.

pub mod backoff;
pub mod budget;
pub mod lambda;
pub mod outcome;
pub mod processor;
pub mod router;
#[cfg(feature = "embedded")]
pub mod sqlite_poller;
pub mod sqs_poller;

pub use backoff::Backoff;
pub use outcome::{BatchReport, MessageOutcome};
pub use processor::{BatchProcessor, ProcessorConfig};
pub use router::{EventHandler, Router};

use crate::queue::QueueEnvelope;
#[cfg(feature = "embedded")]
pub use sqlite_poller::SqlitePoller;
pub use sqs_poller::SqsPoller;

/// A message's event, decoded once by the processor: the queue envelope and its payload parsed.
/// Grouping, routing and the handler all read this one copy.
#[derive(Debug)]
pub struct ReceivedEvent {
    /// The queue envelope (source, event id and type, the verbatim payload).
    pub envelope: QueueEnvelope,
    /// The payload as JSON.
    pub payload: serde_json::Value,
}

impl ReceivedEvent {
    /// Decodes a message body: a queue envelope whose payload is JSON.
    pub fn decode(body: &str) -> Result<Self, String> {
        let envelope: QueueEnvelope = serde_json::from_str(body)
            .map_err(|e| format!("the message body is not a queue envelope: {e}"))?;
        let payload = serde_json::from_str(envelope.payload.get())
            .map_err(|e| format!("the envelope's payload is not JSON: {e}"))?;
        Ok(Self { envelope, payload })
    }

    /// The sender's event id.
    pub fn event_id(&self) -> &str {
        &self.envelope.event_id
    }

    /// The sender's event type.
    pub fn event_type(&self) -> &str {
        &self.envelope.event_type
    }
}

/// Receives one batch from a queue, processes it and settles it: what Lambda's SQS event source
/// mapping does, in process (`serve`).
#[async_trait::async_trait]
pub trait Poller: Send + Sync {
    /// One receive → process → delete round; an empty report when the queue had nothing.
    async fn poll_once(&self) -> Result<BatchReport, crate::queue::QueueError>;
}

/// This delivery of a message, as the handler may need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// When this invocation certainly ends (unix ms): what the handler holds (an order's lease)
    /// may be held until then, and a crashed holder's message comes back no earlier.
    pub deadline_ms: i64,
    /// An operator replayed the event (`paybridge replay`): redo what it does, e.g. write the
    /// Kentico order again, where a plain redelivery would find nothing to do.
    pub replay: bool,
}

/// What a handler made of an event: recorded with the event's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handled {
    /// The side effects happened; the string is a short result kept for duplicates.
    Done(String),
    /// Deliberately nothing to do (e.g. an order this integration did not create): counted.
    Ignored(String),
}

/// Why a handler failed, split by what the processor must do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// May succeed later (a timeout, a 5xx, a 429, a lock): retried with backoff.
    #[error("transient: {0}")]
    Transient(String),
    /// Can never succeed as it is (bad data, a 4xx): dead-lettered with its reason.
    #[error("permanent ({kind}): {reason}")]
    Permanent {
        /// A stable error kind, e.g. `mapping_mismatch`, `kentico_rejected`.
        kind: String,
        /// What is wrong and, where possible, how to fix it.
        reason: String,
        /// Extra facts for the dead-letter attributes (e.g. `field`, `suggestion`), at most two.
        details: Vec<(String, String)>,
    },
}

impl HandlerError {
    /// A permanent failure of `kind`.
    pub fn permanent(kind: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Permanent {
            kind: kind.into(),
            reason: reason.into(),
            details: Vec::new(),
        }
    }

    /// Adds a fact to a permanent failure, dead-lettered as attribute `failure_<name>`.
    pub fn with_detail(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let Self::Permanent { details, .. } = &mut self {
            details.push((name.into(), value.into()));
        }
        self
    }

    /// A transient failure.
    pub fn transient(reason: impl Into<String>) -> Self {
        Self::Transient(reason.into())
    }
}

/// The metric counting worker messages by worker, event type and outcome.
pub const METRIC_WORKER_MESSAGES: &str = "WorkerMessages";
