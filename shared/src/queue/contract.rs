//! The behaviour every [`QueuePublisher`] adapter must have, as one suite run against each of
//! them (in memory, SQLite, SQS on moto) through a [`PublishedQueue`]. Panics on the first
//! broken promise.

use std::collections::BTreeMap;

use super::{
    ATTRIBUTE_EVENT_ID, ATTRIBUTE_EVENT_TYPE, ATTRIBUTE_SOURCE, OutgoingMessage, QueuePublisher,
};

/// One empty queue under test: its publisher, and what a worker would read from it.
#[async_trait::async_trait]
pub trait PublishedQueue: Send + Sync {
    /// The publisher of the queue.
    fn publisher(&self) -> &dyn QueuePublisher;
    /// Every message on the queue now, oldest first where the queue keeps an order: body and
    /// string attributes.
    async fn read_back(&self) -> Vec<(String, BTreeMap<String, String>)>;
}

fn message(event_id: &str, body_extra: &str) -> OutgoingMessage {
    OutgoingMessage {
        body: format!(
            r#"{{"source":"stripe","event_id":"{event_id}","event_type":"payment_intent.succeeded","received_at":"2026-11-29T12:00:00.000Z","payload":{{ "id" : "{event_id}", "note": "{body_extra}" }}}}"#
        ),
        attributes: vec![
            (ATTRIBUTE_SOURCE.into(), "stripe".into()),
            (
                ATTRIBUTE_EVENT_TYPE.into(),
                "payment_intent.succeeded".into(),
            ),
            (ATTRIBUTE_EVENT_ID.into(), event_id.into()),
            ("replay".into(), "1764417600000".into()),
        ],
    }
}

/// Runs every check against `queue` (which must be empty).
pub async fn run_all(queue: &dyn PublishedQueue) {
    assert!(queue.read_back().await.is_empty(), "the queue is not empty");
    let first = message("evt_contract_1", "Zürich — 東京 \\u00e9 \\\"quoted\\\"");
    let second = message("evt_contract_2", &"x".repeat(10_000));

    let first_id = queue.publisher().publish(first.clone()).await.unwrap();
    let second_id = queue.publisher().publish(second.clone()).await.unwrap();

    assert!(
        !first_id.is_empty(),
        "a publish answers the queue's message id"
    );
    assert_ne!(first_id, second_id, "each message gets its own id");
    let mut read = queue.read_back().await;
    read.sort_by(|a, b| a.0.cmp(&b.0));
    let expected: Vec<(String, BTreeMap<String, String>)> = [first, second]
        .into_iter()
        .map(|m| (m.body, m.attributes.into_iter().collect()))
        .collect();
    assert_eq!(
        read, expected,
        "every message arrives once, its body byte for byte and its attributes whole"
    );
}
