//! The redrive policy fills the DLQ; the operator lists, redrives and purges it.

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
async fn a_redriven_message_is_receivable_again_without_its_failure_attributes() {
    let (_dir, db) = temp_database();
    let (queue, clock) = orders_queue(db);
    exhaust(&queue, &clock).await;
    let id = queue.dead_letters(10).await.unwrap().remove(0).id;

    let moved = queue
        .redrive(&[id.clone(), "unknown".into()])
        .await
        .unwrap();

    assert_eq!(moved, 1);
    assert_eq!(queue.dead_letter(&id).await.unwrap(), None);
    let received = queue.receive(10, 30).await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].receive_count, 1);
    assert_eq!(received[0].body, event("evt_1").body);
    assert_eq!(
        received[0].attributes.keys().collect::<Vec<_>>(),
        ["event_id", "event_type", "source"]
    );
}

#[tokio::test]
async fn purge_deletes_only_the_named_dead_letters_and_redrive_all_moves_the_rest() {
    let (_dir, db) = temp_database();
    let (queue, clock) = orders_queue(db);
    exhaust(&queue, &clock).await;
    exhaust(&queue, &clock).await;
    let ids: Vec<String> = queue
        .dead_letters(10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();

    let purged = queue.purge(&ids[..1]).await.unwrap();
    let redriven = queue.redrive_all().await.unwrap();

    assert_eq!((purged, redriven), (1, 1));
    assert_eq!(queue.dead_letter_count().await.unwrap(), 0);
    assert_eq!(queue.depth().await.unwrap(), (1, 0));
}
