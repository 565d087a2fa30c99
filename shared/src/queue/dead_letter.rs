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

/// What a dead-lettered copy carries instead of a body too large to fit beside its failure
/// attributes within the queue's limit: which event it was, and how to tell the full body
/// (kept in the journal) is the same one. `paybridge dlq redrive` puts the full body back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TruncatedBody {
    /// The original body's length in bytes.
    pub bytes: usize,
    /// The original body's SHA-256, hex.
    pub sha256: String,
    /// The event's source (`stripe`, `kentico`), from the message's attributes.
    pub source: Option<String>,
    /// The event's id, from the message's attributes.
    pub event_id: Option<String>,
    /// The message's id on the source queue.
    pub message_id: String,
}

/// The one key of a [`TruncatedBody`] marker's JSON object.
pub const TRUNCATED_BODY_KEY: &str = "paybridge_truncated_body";

impl TruncatedBody {
    /// The marker of `message`.
    pub fn of(message: &QueueMessage) -> Self {
        use sha2::Digest;
        Self {
            bytes: message.body.len(),
            sha256: hex::encode(sha2::Sha256::digest(message.body.as_bytes())),
            source: message.attributes.get(super::ATTRIBUTE_SOURCE).cloned(),
            event_id: message.attributes.get(super::ATTRIBUTE_EVENT_ID).cloned(),
            message_id: message.message_id.clone(),
        }
    }

    /// The marker as a message body.
    pub fn to_body(&self) -> String {
        serde_json::json!({ TRUNCATED_BODY_KEY: self }).to_string()
    }

    /// The marker in `body`, if it is one.
    pub fn from_body(body: &str) -> Option<Self> {
        if body.len() > 4_096 || !body.contains(TRUNCATED_BODY_KEY) {
            return None;
        }
        let mut object: std::collections::HashMap<String, Self> =
            serde_json::from_str(body).ok()?;
        object.remove(TRUNCATED_BODY_KEY)
    }

    /// Whether `body` is the body this marker stands for.
    pub fn matches(&self, body: &str) -> bool {
        use sha2::Digest;
        body.len() == self.bytes
            && hex::encode(sha2::Sha256::digest(body.as_bytes())) == self.sha256
    }
}

/// What SQS charges against its limit for `body` with `attributes`: the body plus, for each
/// attribute, its name, its data type (`String`) and its value.
pub fn sqs_size(body: &str, attributes: &[(String, String)]) -> usize {
    body.len()
        + attributes
            .iter()
            .map(|(name, value)| name.len() + "String".len() + value.len())
            .sum::<usize>()
}

/// The body and attributes of the dead-lettered copy of `message` on a queue that takes at most
/// `max_bytes`: the original body, or, when it would not fit beside the failure attributes, a
/// [`TruncatedBody`] marker (the reason says so; the full body is in the journal).
pub fn dead_letter_copy(
    message: &QueueMessage,
    failure: &DeadLetter,
    max_bytes: usize,
) -> (String, Vec<(String, String)>) {
    let attributes = failure.attributes(message);
    if sqs_size(&message.body, &attributes) <= max_bytes {
        return (message.body.clone(), attributes);
    }
    let mut failure = failure.clone();
    failure.reason = format!(
        "{} [the body, {} bytes, did not fit beside this reason: a marker stands in for it; `paybridge dlq redrive` restores it from the journal]",
        failure.reason,
        message.body.len()
    );
    let attributes = failure.attributes(message);
    (TruncatedBody::of(message).to_body(), attributes)
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
