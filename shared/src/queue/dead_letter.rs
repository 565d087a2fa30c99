//! Why a message was dead-lettered: the failure attributes written next to its original body
//! (the same on SQS and on the embedded queues; docs/CONTRACTS.md#dead-letter-attributes).

use super::QueueMessage;

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

/// A reason this long (in bytes) is already unreadable.
const MAX_REASON_BYTES: usize = 4_000;
/// A detail is a field name, an id or a suggestion.
const MAX_DETAIL_BYTES: usize = 1_000;
/// The kind, the receive count, the time and the original message id are short; capped anyway.
const MAX_SHORT_VALUE_BYTES: usize = 200;
/// What the dead-letter copy's failure attributes add to a message at most, in SQS's measure
/// (name, `String` and value of each): ingress keeps this much of the queue's limit free, so
/// every accepted event can be dead-lettered with its reason.
pub const DEAD_LETTER_ATTRIBUTE_RESERVE: usize = 8 * 1024;
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
                    truncate(&format!("failure_{name}"), MAX_SHORT_VALUE_BYTES),
                    truncate(value, MAX_DETAIL_BYTES),
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
                truncate(&self.reason, MAX_REASON_BYTES),
            ),
            (
                ATTRIBUTE_FAILURE_KIND.into(),
                truncate(&self.kind, MAX_SHORT_VALUE_BYTES),
            ),
            (
                ATTRIBUTE_FAILURE_RECEIVE_COUNT.into(),
                message.receive_count.to_string(),
            ),
            (
                ATTRIBUTE_FAILED_AT.into(),
                truncate(&self.failed_at, MAX_SHORT_VALUE_BYTES),
            ),
            (
                ATTRIBUTE_ORIGINAL_MESSAGE_ID.into(),
                truncate(&message.message_id, MAX_SHORT_VALUE_BYTES),
            ),
        ]);
        attributes.extend(details);
        attributes
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
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
        assert_eq!(attributes["failure_reason"].len(), MAX_REASON_BYTES);
    }

    #[test]
    fn the_failure_attributes_fit_the_reserve_ingress_keeps_even_at_their_largest() {
        let message = QueueMessage {
            message_id: "m".repeat(500),
            receipt_handle: "r".into(),
            body: "{}".into(),
            receive_count: u32::MAX,
            attributes: BTreeMap::from([("source".to_string(), "stripe".to_string())]),
        };
        // Multi-byte characters everywhere: caps are in bytes, cut at a character boundary.
        let long = "é€𝄞".repeat(5_000);
        let failure = DeadLetter {
            reason: long.clone(),
            kind: long.clone(),
            failed_at: long.clone(),
            details: vec![(long.clone(), long.clone()), (long.clone(), long)],
        };
        let added: usize = failure
            .attributes(&message)
            .iter()
            .filter(|(name, _)| is_failure_attribute(name))
            .map(|(name, value)| name.len() + "String".len() + value.len())
            .sum();
        assert!(
            added <= DEAD_LETTER_ATTRIBUTE_RESERVE,
            "{added} bytes of failure attributes"
        );
    }
}
