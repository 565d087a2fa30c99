//! The embedded poller runs the real batch processor over the SQLite queue and stores.

use std::sync::Arc;

use super::*;
use crate::clock::FixedClock;
use crate::dead_letters::SqliteMessageSettler;
use crate::embedded::SqliteDatabase;
use crate::embedded::queue::tests::{NOW, event, orders_queue};
use crate::embedded::temp_database;
use crate::idempotency::SqliteIdempotencyStore;
use crate::idempotency::{Idempotency, IdempotencyConfig};
use crate::metrics::InMemoryMetrics;
use crate::queue::{OutgoingMessage, QueuePublisher};
use crate::worker::{
    Backoff, Delivery, EventHandler, Handled, HandlerError, MessageOutcome, ProcessorConfig,
    ReceivedEvent, Router,
};

/// Fails as the event id says: `evt_transient`, `evt_permanent`; anything else is done.
struct Scripted;

#[async_trait::async_trait]
impl EventHandler for Scripted {
    async fn handle(
        &self,
        event: &ReceivedEvent,
        _delivery: &Delivery,
    ) -> Result<Handled, HandlerError> {
        match event.event_id() {
            "evt_transient" => Err(HandlerError::transient("Stripe answered 503")),
            "evt_permanent" => Err(HandlerError::permanent(
                "mapping_mismatch",
                "currency 'US Dollar' is not ISO 4217",
            )),
            _ => Ok(Handled::Done("ok".into())),
        }
    }
}

fn poller(db: SqliteDatabase) -> (SqlitePoller, SqliteQueue, Arc<FixedClock>) {
    let (queue, clock) = orders_queue(db.clone());
    let processor = BatchProcessor::new(
        Router::new().route("test.event", Arc::new(Scripted)),
        Idempotency::new(
            Arc::new(SqliteIdempotencyStore::new(db)),
            IdempotencyConfig::default(),
            clock.clone(),
        ),
        Arc::new(SqliteMessageSettler::new(queue.clone())),
        Arc::new(InMemoryMetrics::new()),
        clock.clone(),
        ProcessorConfig {
            worker: "test-worker".into(),
            concurrency: 2,
            backoff: Backoff {
                jitter: 0.0,
                ..Backoff::default()
            },
            max_receive_count: None,
        },
    );
    let mut poller = SqlitePoller::new(queue.clone(), Arc::new(processor));
    poller.visibility_timeout_seconds = 30;
    (poller, queue, clock)
}

async fn publish(queue: &SqliteQueue, message: OutgoingMessage) -> String {
    queue.publish(message).await.unwrap()
}

#[tokio::test]
async fn a_poll_deletes_what_is_done_delays_what_is_transient_and_dead_letters_what_is_permanent() {
    let (_dir, db) = temp_database();
    let (poller, queue, clock) = poller(db);
    let done = publish(&queue, event("evt_done")).await;
    let transient = publish(&queue, event("evt_transient")).await;
    let permanent = publish(&queue, event("evt_permanent")).await;

    let report = poller.poll_once().await.unwrap();

    assert_eq!(
        report.batch_item_failures(),
        std::slice::from_ref(&transient)
    );
    assert_eq!(report.outcomes[0], (done, MessageOutcome::Done));
    assert_eq!(queue.depth().await.unwrap(), (0, 1));
    let dead = queue.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].original_message_id, permanent);
    assert_eq!(dead[0].attributes["failure_kind"], "mapping_mismatch");
    assert_eq!(
        dead[0].attributes["failure_reason"],
        "currency 'US Dollar' is not ISO 4217"
    );
    assert_eq!(dead[0].attributes["failure_receive_count"], "1");

    // The retry delay (60 s at the first receive) outlasts the 30 s visibility timeout.
    clock.set_unix(NOW + 59);
    assert!(poller.poll_once().await.unwrap().outcomes.is_empty());
    clock.set_unix(NOW + 60);
    let retried = queue.receive(10, 30).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(
        (retried[0].message_id.as_str(), retried[0].receive_count),
        (transient.as_str(), 2)
    );
}
