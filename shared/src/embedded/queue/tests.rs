//! The embedded queue behaves like an SQS standard queue: visibility, receive counts, receipts.

use std::sync::Arc;

use super::*;
use crate::clock::FixedClock;
use crate::embedded::temp_database;
use crate::queue::{ATTRIBUTE_EVENT_ID, ATTRIBUTE_EVENT_TYPE, ATTRIBUTE_SOURCE};

pub(crate) const NOW: i64 = 1_700_000_000;

/// A queue named `orders` with `maxReceiveCount` 3 on a clock stopped at [`NOW`].
pub(crate) fn orders_queue(db: SqliteDatabase) -> (SqliteQueue, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::at_unix(NOW));
    (
        SqliteQueue::new(db, "orders", 3).with_clock(clock.clone()),
        clock,
    )
}

/// A message as ingress sends it: an envelope body with source, type and id attributes.
pub(crate) fn event(event_id: &str) -> OutgoingMessage {
    OutgoingMessage {
        body: format!(
            r#"{{"source":"stripe","event_id":"{event_id}","event_type":"test.event","received_at":"2023-11-14T22:13:20.000Z","payload":{{}}}}"#
        ),
        attributes: vec![
            (ATTRIBUTE_SOURCE.into(), "stripe".into()),
            (ATTRIBUTE_EVENT_TYPE.into(), "test.event".into()),
            (ATTRIBUTE_EVENT_ID.into(), event_id.into()),
        ],
    }
}

#[tokio::test]
async fn publishes_and_receives_oldest_first_with_attributes_and_a_first_receive_count() {
    let (_dir, db) = temp_database();
    let (queue, _) = orders_queue(db);
    let first = queue.publish(event("evt_1")).await.unwrap();
    let second = queue.publish(event("evt_2")).await.unwrap();

    let received = queue.receive(10, 30).await.unwrap();

    let ids: Vec<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);
    assert_eq!(first.len(), 36);
    assert_ne!(first, second);
    assert_eq!(received[0].receive_count, 1);
    assert_eq!(received[0].attributes["event_id"], "evt_1");
    assert_eq!(received[0].body, event("evt_1").body);
    assert_ne!(received[0].receipt_handle, received[1].receipt_handle);
}

#[tokio::test]
async fn a_received_message_stays_hidden_until_its_visibility_timeout_ends() {
    let (_dir, db) = temp_database();
    let (queue, clock) = orders_queue(db);
    queue.publish(event("evt_1")).await.unwrap();
    let first = queue.receive(10, 30).await.unwrap();

    let hidden = queue.receive(10, 30).await.unwrap();
    let depth_while_hidden = queue.depth().await.unwrap();
    clock.set_unix(NOW + 30);
    let again = queue.receive(10, 30).await.unwrap();

    assert!(hidden.is_empty());
    assert_eq!(depth_while_hidden, (0, 1));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message_id, first[0].message_id);
    assert_eq!(again[0].receive_count, 2);
    assert_ne!(again[0].receipt_handle, first[0].receipt_handle);
}

#[tokio::test]
async fn a_stale_receipt_handle_deletes_nothing_and_the_current_one_deletes() {
    let (_dir, db) = temp_database();
    let (queue, clock) = orders_queue(db);
    queue.publish(event("evt_1")).await.unwrap();
    let stale = queue.receive(1, 30).await.unwrap().remove(0);
    clock.set_unix(NOW + 31);
    let current = queue.receive(1, 30).await.unwrap().remove(0);

    queue.delete(&stale.receipt_handle).await.unwrap();
    let after_stale = queue.depth().await.unwrap();
    queue.delete(&current.receipt_handle).await.unwrap();

    assert_eq!(after_stale, (0, 1));
    assert_eq!(queue.depth().await.unwrap(), (0, 0));
}

#[tokio::test]
async fn changing_the_visibility_moves_the_next_delivery_and_ignores_stale_receipts() {
    let (_dir, db) = temp_database();
    let (queue, clock) = orders_queue(db);
    queue.publish(event("evt_1")).await.unwrap();
    let message = queue.receive(1, 30).await.unwrap().remove(0);

    assert!(
        queue
            .change_visibility(&message.receipt_handle, 120)
            .await
            .unwrap()
    );
    clock.set_unix(NOW + 119);
    assert!(queue.receive(1, 30).await.unwrap().is_empty());
    clock.set_unix(NOW + 120);
    assert_eq!(queue.receive(1, 30).await.unwrap().len(), 1);
    assert!(
        !queue
            .change_visibility(&message.receipt_handle, 0)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_zero_visibility_timeout_still_returns_each_message_once_per_receive() {
    let (_dir, db) = temp_database();
    let (queue, _) = orders_queue(db);
    queue.publish(event("evt_1")).await.unwrap();
    queue.publish(event("evt_2")).await.unwrap();

    let received = queue.receive(10, 0).await.unwrap();

    assert_eq!(received.len(), 2);
    assert_eq!(queue.depth().await.unwrap(), (2, 0));
}

/// The embedded queue seen as the suite sees every queue: what a worker receives.
struct Published(SqliteQueue);

#[async_trait::async_trait]
impl crate::queue::contract::PublishedQueue for Published {
    fn publisher(&self) -> &dyn QueuePublisher {
        &self.0
    }

    async fn read_back(&self) -> Vec<(String, std::collections::BTreeMap<String, String>)> {
        let received = self.0.receive(100, 60).await.unwrap();
        received
            .into_iter()
            .map(|m| (m.body, m.attributes))
            .collect()
    }
}

#[tokio::test]
async fn keeps_the_queue_publisher_contract() {
    let (_dir, db) = temp_database();
    let (queue, _) = orders_queue(db);
    crate::queue::contract::run_all(&Published(queue)).await;
}
