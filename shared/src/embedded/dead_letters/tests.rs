//! The redrive policy fills the DLQ, and `redrive_all` empties it (the operator's list, redrive
//! and purge are the dead-letter contract's, in `dead_letters::contract`).

use super::*;
use crate::clock::Clock;
use crate::embedded::queue::tests::{event, orders_queue};
use crate::embedded::temp_database;
use crate::queue::QueuePublisher;

/// Receives the only message of `queue` until the redrive policy moves it (3 receives).
async fn exhaust(queue: &SqliteQueue, clock: &crate::clock::FixedClock) -> String {
    let start = clock.now().unix_timestamp();
    let id = queue.publish(event("evt_1")).await.unwrap();
    for round in 0..3 {
        clock.set_unix(start + round * 60);
        assert_eq!(queue.receive(10, 30).await.unwrap().len(), 1);
    }
    clock.set_unix(start + 600);
    assert!(queue.receive(10, 30).await.unwrap().is_empty());
    id
}

#[tokio::test]
async fn a_message_received_max_receive_count_times_moves_to_the_dlq_with_its_attributes() {
    let (_dir, db) = temp_database();
    let (queue, clock) = orders_queue(db);

    let original_id = exhaust(&queue, &clock).await;

    assert_eq!(queue.depth().await.unwrap(), (0, 0));
    let entries = queue.dead_letters(10).await.unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.original_message_id, original_id);
    assert_eq!(entry.body, event("evt_1").body);
    assert_eq!(entry.failed_at, "2023-11-14T22:23:20.000Z");
    assert_eq!(entry.sent_at, "2023-11-14T22:13:20.000Z");
    assert_eq!(
        entry.attributes["failure_kind"],
        "max_receive_count_exceeded"
    );
    assert_eq!(entry.attributes["failure_receive_count"], "3");
    assert_eq!(entry.attributes["original_message_id"], original_id);
    assert_eq!(entry.attributes["event_id"], "evt_1");
    assert_eq!(
        queue.dead_letter(&entry.id).await.unwrap().as_ref(),
        Some(entry)
    );
    assert_eq!(queue.dead_letter_count().await.unwrap(), 1);
}

#[tokio::test]
async fn redrive_all_moves_every_dead_letter_back_to_the_queue() {
    let (_dir, db) = temp_database();
    let (queue, clock) = orders_queue(db);
    exhaust(&queue, &clock).await;
    exhaust(&queue, &clock).await;

    let redriven = queue.redrive_all().await.unwrap();

    assert_eq!(redriven, 2);
    assert_eq!(queue.dead_letter_count().await.unwrap(), 0);
    assert_eq!(queue.depth().await.unwrap(), (2, 0));
}
