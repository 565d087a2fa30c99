//! Ingress outcomes: the refusal reasons, their HTTP statuses and the short JSON bodies.

use serde_json::json;

use crate::queue::QueueError;
use crate::webhook::{EventEnvelopeError, SignatureError};

/// Why ingress did not accept a request. Every variant maps to one status and reason code.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Anything but POST.
    #[error("method {0} is not allowed; webhooks are POSTed")]
    MethodNotAllowed(String),
    /// The body, or the envelope made from it, exceeds the queue's message size limit.
    #[error(
        "the event is {size} bytes, over the limit of {limit} bytes (the queue's maximum, less what a dead-letter copy adds)"
    )]
    TooLarge {
        /// The size that was measured.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The signature is missing, malformed, stale, from the future or does not match.
    #[error(transparent)]
    Signature(SignatureError),
    /// The verified body is not an event.
    #[error(transparent)]
    Envelope(EventEnvelopeError),
    /// The queue did not take it: the sender must retry.
    #[error(transparent)]
    Queue(QueueError),
}

impl Refusal {
    /// The HTTP status: 4xx for what can never succeed, 5xx for what a retry may fix.
    pub fn status(&self) -> u16 {
        match self {
            Self::MethodNotAllowed(_) => 405,
            Self::TooLarge { .. } => 413,
            Self::Signature(SignatureError::Malformed(_)) => 400,
            Self::Signature(_) => 401,
            Self::Envelope(_) => 400,
            Self::Queue(_) => 503,
        }
    }

    /// The stable reason code for responses, logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::TooLarge { .. } => "payload_too_large",
            Self::Signature(e) => e.reason_code(),
            Self::Envelope(e) => e.reason_code(),
            Self::Queue(_) => "queue_unavailable",
        }
    }

    /// The message shown to the sender: for a queue failure, no internal detail.
    fn public_message(&self) -> String {
        match self {
            Self::Queue(_) => "the event could not be queued; retry later".to_string(),
            other => other.to_string(),
        }
    }
}

/// An HTTP answer: status and a short JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct IngressResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body.
    pub body: serde_json::Value,
    /// `accepted` or the refusal's reason code: the metric's outcome dimension.
    pub outcome: &'static str,
}

impl IngressResponse {
    pub(super) fn accepted(event_id: &str, message_id: &str) -> Self {
        Self {
            status: 202,
            body: json!({"status": "accepted", "event_id": event_id, "message_id": message_id}),
            outcome: "accepted",
        }
    }

    pub(super) fn ignored(event_id: &str, outcome: &'static str, message: &str) -> Self {
        Self {
            status: 200,
            body: json!({"status": "ignored", "event_id": event_id, "reason": outcome, "message": message}),
            outcome,
        }
    }

    pub(super) fn refused(refusal: &Refusal) -> Self {
        Self {
            status: refusal.status(),
            body: json!({"error": {"code": refusal.code(), "message": refusal.public_message()}}),
            outcome: refusal.code(),
        }
    }
}
