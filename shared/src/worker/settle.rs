//! Settling failed messages: a later retry (visibility timeout) or the dead-letter queue.

use std::sync::Mutex;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::MessageAttributeValue;

use super::QueueMessage;
use crate::queue::QueueError;

/// Why a message is dead-lettered: written as message attributes next to the original body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// What is wrong and how to fix it.
    pub reason: String,
    /// A stable error kind (`mapping_mismatch`, `undecodable_message`, …).
    pub kind: String,
    /// When it failed, RFC 3339.
    pub failed_at: String,
    /// Extra facts (name without the `failure_` prefix, value), at most two are kept.
    pub details: Vec<(String, String)>,
}

/// Dead-letter attribute: the reason.
pub const ATTRIBUTE_FAILURE_REASON: &str = "failure_reason";
/// Dead-letter attribute: the error kind.
pub const ATTRIBUTE_FAILURE_KIND: &str = "failure_kind";
/// Dead-letter attribute: the receive count when it failed.
pub const ATTRIBUTE_FAILURE_RECEIVE_COUNT: &str = "failure_receive_count";
/// Dead-letter attribute: when it failed.
pub const ATTRIBUTE_FAILED_AT: &str = "failed_at";
/// Dead-letter attribute: the message id on the source queue.
pub const ATTRIBUTE_ORIGINAL_MESSAGE_ID: &str = "original_message_id";

/// Whether an attribute was added by dead-lettering: replaced when a message fails again,
/// dropped when it is redriven.
pub fn is_failure_attribute(name: &str) -> bool {
    name.starts_with("failure_")
        || name == ATTRIBUTE_FAILED_AT
        || name == ATTRIBUTE_ORIGINAL_MESSAGE_ID
}

/// SQS allows 10 attributes and 256 KiB for a value; a reason this long is already unreadable.
const MAX_REASON_CHARS: usize = 4_000;
/// SQS allows at most 10 message attributes.
const MAX_ATTRIBUTES: usize = 10;
/// Detail attributes kept, so the original source/type/id attributes always fit beside them.
const MAX_DETAILS: usize = 2;

impl DeadLetter {
    /// The attributes of the dead-lettered copy: the original's, then the failure's.
    pub fn attributes(&self, message: &QueueMessage) -> Vec<(String, String)> {
        let failure = [
            ATTRIBUTE_FAILURE_REASON,
            ATTRIBUTE_FAILURE_KIND,
            ATTRIBUTE_FAILURE_RECEIVE_COUNT,
            ATTRIBUTE_FAILED_AT,
            ATTRIBUTE_ORIGINAL_MESSAGE_ID,
        ];
        let details: Vec<(String, String)> = self
            .details
            .iter()
            .take(MAX_DETAILS)
            .map(|(name, value)| {
                (
                    format!("failure_{name}"),
                    value.chars().take(MAX_REASON_CHARS).collect(),
                )
            })
            .collect();
        let mut attributes: Vec<(String, String)> = message
            .attributes
            .iter()
            .filter(|(name, _)| !is_failure_attribute(name))
            .take(MAX_ATTRIBUTES - failure.len() - details.len())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        attributes.extend([
            (
                ATTRIBUTE_FAILURE_REASON.into(),
                self.reason.chars().take(MAX_REASON_CHARS).collect(),
            ),
            (ATTRIBUTE_FAILURE_KIND.into(), self.kind.clone()),
            (
                ATTRIBUTE_FAILURE_RECEIVE_COUNT.into(),
                message.receive_count.to_string(),
            ),
            (ATTRIBUTE_FAILED_AT.into(), self.failed_at.clone()),
            (
                ATTRIBUTE_ORIGINAL_MESSAGE_ID.into(),
                message.message_id.clone(),
            ),
        ]);
        attributes.extend(details);
        attributes
    }
}

/// What the processor does with messages that did not end well.
#[async_trait::async_trait]
pub trait MessageSettler: Send + Sync {
    /// Makes the message visible again only after `seconds`.
    async fn retry_after(&self, message: &QueueMessage, seconds: u32) -> Result<(), QueueError>;
    /// Puts a copy of the message on the dead-letter queue with the failure's attributes.
    async fn dead_letter(
        &self,
        message: &QueueMessage,
        failure: &DeadLetter,
    ) -> Result<(), QueueError>;
}

/// Settles on SQS: `ChangeMessageVisibility` on the source queue, `SendMessage` to its DLQ.
#[derive(Debug, Clone)]
pub struct SqsMessageSettler {
    client: Client,
    queue_url: String,
    dlq_url: String,
}

impl SqsMessageSettler {
    /// A settler for messages of `queue_url`, dead-lettering to `dlq_url`.
    pub fn new(client: Client, queue_url: impl Into<String>, dlq_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            dlq_url: dlq_url.into(),
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
            .map_err(|e| QueueError::Unavailable(DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }

    async fn dead_letter(
        &self,
        message: &QueueMessage,
        failure: &DeadLetter,
    ) -> Result<(), QueueError> {
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.dlq_url)
            .message_body(&message.body);
        for (name, value) in failure.attributes(message) {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| QueueError::Unavailable(e.to_string()))?;
            request = request.message_attributes(name, value);
        }
        request
            .send()
            .await
            .map_err(|e| QueueError::Unavailable(DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }
}

/// Records settlements in memory, for unit tests; can fail dead-lettering on demand.
#[derive(Debug, Default)]
pub struct InMemorySettler {
    /// (message id, seconds) per retry.
    pub retries: Mutex<Vec<(String, u32)>>,
    /// (message id, failure) per dead letter.
    pub dead_letters: Mutex<Vec<(String, DeadLetter)>>,
    /// When true, `dead_letter` fails.
    pub fail_dead_letters: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl MessageSettler for InMemorySettler {
    async fn retry_after(&self, message: &QueueMessage, seconds: u32) -> Result<(), QueueError> {
        self.retries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((message.message_id.clone(), seconds));
        Ok(())
    }

    async fn dead_letter(
        &self,
        message: &QueueMessage,
        failure: &DeadLetter,
    ) -> Result<(), QueueError> {
        if self
            .fail_dead_letters
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(QueueError::Unavailable("in-memory DLQ set to fail".into()));
        }
        self.dead_letters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((message.message_id.clone(), failure.clone()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn dead_letter_attributes_keep_the_originals_and_fit_the_sqs_limit() {
        let message = QueueMessage {
            message_id: "m-1".into(),
            receipt_handle: "r".into(),
            body: "{}".into(),
            receive_count: 3,
            attributes: BTreeMap::from([
                ("event_id".to_string(), "evt_1".to_string()),
                ("event_type".to_string(), "x.y".to_string()),
                ("source".to_string(), "stripe".to_string()),
                (
                    "failure_kind".to_string(),
                    "stale from an earlier failure".to_string(),
                ),
            ]),
        };
        let failure = DeadLetter {
            reason: "r".repeat(10_000),
            kind: "mapping_mismatch".into(),
            failed_at: "2026-11-29T12:00:00.000Z".into(),
            details: vec![
                ("field".into(), "OrderCurrencyCode".into()),
                ("suggestion".into(), "USD".into()),
                ("ignored".into(), "a third detail does not fit".into()),
            ],
        };
        let attributes: BTreeMap<String, String> =
            failure.attributes(&message).into_iter().collect();
        assert_eq!(attributes.len(), 10);
        assert_eq!(attributes["source"], "stripe");
        assert_eq!(attributes["failure_kind"], "mapping_mismatch");
        assert_eq!(attributes["failure_field"], "OrderCurrencyCode");
        assert_eq!(attributes["failure_suggestion"], "USD");
        assert_eq!(attributes["failure_receive_count"], "3");
        assert_eq!(
            attributes["failure_reason"].chars().count(),
            MAX_REASON_CHARS
        );
    }
}
