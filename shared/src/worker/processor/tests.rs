//! Processor decisions with in-memory stores: routing, outcomes, ordering, settlement.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::*;
use crate::clock::FixedClock;
use crate::dead_letters::InMemorySettler;
use crate::idempotency::IdempotencyConfig;
use crate::idempotency::in_memory::InMemoryIdempotencyStore;
use crate::metrics::InMemoryMetrics;
use crate::worker::{Delivery, EventHandler, ReceivedEvent};

const NOW: i64 = 1_700_000_000;

/// Behaves as the payload's `behaviour` says and records the events it ran, in order.
#[derive(Default)]
struct Scripted {
    ran: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl EventHandler for Scripted {
    fn business_key(&self, event: &ReceivedEvent) -> Option<String> {
        event.payload["order"].as_str().map(str::to_string)
    }

    async fn handle(
        &self,
        event: &ReceivedEvent,
        _delivery: &Delivery,
    ) -> Result<Handled, HandlerError> {
        let payload = &event.payload;
        self.ran.lock().unwrap().push(event.event_id().to_string());
        if payload["behaviour"] == "time_left" {
            let left = crate::clock::time_left().map(|d| d.as_secs());
            self.ran.lock().unwrap().push(format!("time_left:{left:?}"));
        }
        match payload["behaviour"].as_str().unwrap_or("ok") {
            "transient" => Err(HandlerError::transient("Stripe answered 503")),
            "permanent" => Err(HandlerError::permanent(
                "mapping_mismatch",
                "currency 'US Dollar' is not ISO 4217 — did you mean USD?",
            )),
            "panic" => panic!("bug in handler"),
            "ignore" => Ok(Handled::Ignored("not our order".into())),
            _ => Ok(Handled::Done("ok".into())),
        }
    }
}

fn message(id: &str, event_type: &str, payload: &str, receive_count: u32) -> QueueMessage {
    QueueMessage {
        message_id: format!("m-{id}"),
        receipt_handle: format!("r-{id}"),
        body: format!(
            r#"{{"source":"stripe","event_id":"{id}","event_type":"{event_type}","received_at":"2023-11-14T22:13:20.000Z","payload":{payload}}}"#
        ),
        receive_count,
        attributes: BTreeMap::from([("source".to_string(), "stripe".to_string())]),
    }
}

struct Harness {
    processor: BatchProcessor,
    handler: Arc<Scripted>,
    settler: Arc<InMemorySettler>,
    metrics: Arc<InMemoryMetrics>,
}

fn harness(max_receive_count: Option<u32>) -> Harness {
    let handler = Arc::new(Scripted::default());
    let settler = Arc::new(InMemorySettler::default());
    let metrics = Arc::new(InMemoryMetrics::new());
    let clock = Arc::new(FixedClock::at_unix(NOW));
    let processor = BatchProcessor::new(
        Router::new().route("test.event", handler.clone()),
        Idempotency::new(
            Arc::new(InMemoryIdempotencyStore::new()),
            IdempotencyConfig::default(),
            clock.clone(),
        ),
        settler.clone(),
        metrics.clone(),
        clock,
        ProcessorConfig {
            worker: "test-worker".into(),
            concurrency: 4,
            backoff: Backoff {
                jitter: 0.0,
                ..Backoff::default()
            },
            max_receive_count,
        },
    );
    Harness {
        processor,
        handler,
        settler,
        metrics,
    }
}

#[tokio::test]
async fn each_message_ends_the_way_its_outcome_demands() {
    let h = harness(None);
    let batch = vec![
        message("ok", "test.event", r#"{"behaviour":"ok"}"#, 1),
        message("transient", "test.event", r#"{"behaviour":"transient"}"#, 3),
        message("permanent", "test.event", r#"{"behaviour":"permanent"}"#, 1),
        message("panic", "test.event", r#"{"behaviour":"panic"}"#, 1),
        message("unknown", "other.event", "{}", 1),
        message("ignore", "test.event", r#"{"behaviour":"ignore"}"#, 1),
        QueueMessage {
            body: "not an envelope".into(),
            ..message("garbage", "x", "{}", 1)
        },
    ];

    let report = h.processor.process(batch, NOW * 1000 + 60_000).await;

    assert_eq!(report.batch_item_failures(), ["m-transient"]);
    let labels: Vec<&str> = report.outcomes.iter().map(|(_, o)| o.label()).collect();
    assert_eq!(
        labels,
        [
            "done",
            "retried",
            "dead_lettered",
            "dead_lettered",
            "ignored",
            "ignored",
            "dead_lettered"
        ]
    );
    assert_eq!(
        *h.settler.retries.lock().unwrap(),
        [("m-transient".to_string(), 240)]
    );
    let dead: Vec<(String, String)> = h
        .settler
        .dead_letters
        .lock()
        .unwrap()
        .iter()
        .map(|(id, d)| (id.clone(), d.kind.clone()))
        .collect();
    assert_eq!(
        dead,
        [
            ("m-permanent".to_string(), "mapping_mismatch".to_string()),
            ("m-panic".to_string(), "handler_panic".to_string()),
            ("m-garbage".to_string(), "undecodable_message".to_string())
        ]
    );
    assert_eq!(
        h.metrics.count(
            "WorkerMessages",
            &[
                ("Worker", "test-worker"),
                ("EventType", "other.event"),
                ("Outcome", "ignored")
            ]
        ),
        1
    );
}

#[tokio::test]
async fn a_duplicate_delivery_does_not_run_the_handler_again() {
    let h = harness(None);
    let first = h
        .processor
        .process(vec![message("e1", "test.event", "{}", 1)], NOW * 1000)
        .await;
    let again = h
        .processor
        .process(vec![message("e1", "test.event", "{}", 2)], NOW * 1000)
        .await;
    assert_eq!(first.outcomes[0].1, MessageOutcome::Done);
    assert_eq!(again.outcomes[0].1, MessageOutcome::Duplicate);
    assert_eq!(h.handler.ran.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn messages_of_one_business_key_run_in_order_and_wait_for_a_failed_one() {
    let h = harness(None);
    let batch = vec![
        message("a1", "test.event", r#"{"order":"A"}"#, 1),
        message(
            "b1",
            "test.event",
            r#"{"order":"B","behaviour":"transient"}"#,
            1,
        ),
        message("a2", "test.event", r#"{"order":"A"}"#, 1),
        message("b2", "test.event", r#"{"order":"B"}"#, 1),
        message("a3", "test.event", r#"{"order":"A"}"#, 1),
    ];

    let report = h.processor.process(batch, NOW * 1000).await;

    assert_eq!(report.batch_item_failures(), ["m-b1", "m-b2"]);
    let ran = h.handler.ran.lock().unwrap().clone();
    let a: Vec<&String> = ran.iter().filter(|id| id.starts_with('a')).collect();
    assert_eq!(a, ["a1", "a2", "a3"]);
    assert!(
        !ran.contains(&"b2".to_string()),
        "b2 ran before the failed b1"
    );
}

#[tokio::test]
async fn a_message_out_of_deliveries_is_dead_lettered_with_its_last_reason() {
    let h = harness(Some(5));
    let report = h
        .processor
        .process(
            vec![message(
                "t",
                "test.event",
                r#"{"behaviour":"transient"}"#,
                5,
            )],
            NOW * 1000,
        )
        .await;
    assert!(report.batch_item_failures().is_empty());
    let dead = h.settler.dead_letters.lock().unwrap().clone();
    assert_eq!(dead[0].1.kind, "retries_exhausted");
    assert!(
        dead[0].1.reason.contains("Stripe answered 503"),
        "{}",
        dead[0].1.reason
    );
}

#[tokio::test]
async fn a_permanent_failure_the_dlq_refuses_stays_on_the_queue() {
    let h = harness(None);
    h.settler.fail_dead_letters.store(true, Ordering::SeqCst);
    let report = h
        .processor
        .process(
            vec![message(
                "p",
                "test.event",
                r#"{"behaviour":"permanent"}"#,
                1,
            )],
            NOW * 1000,
        )
        .await;
    assert_eq!(report.batch_item_failures(), ["m-p"]);
    assert_eq!(report.outcomes[0].1.label(), "dead_letter_failed");
}

#[tokio::test]
async fn a_replayed_message_runs_again_under_a_fresh_idempotency_key() {
    let h = harness(None);
    h.processor
        .process(vec![message("e1", "test.event", "{}", 1)], NOW * 1000)
        .await;
    let mut replayed = message("e1", "test.event", "{}", 1);
    replayed
        .attributes
        .insert(ATTRIBUTE_REPLAY.to_string(), "1700000000000".to_string());
    let report = h
        .processor
        .process(vec![replayed.clone()], NOW * 1000)
        .await;
    let again = h.processor.process(vec![replayed], NOW * 1000).await;
    assert_eq!(report.outcomes[0].1, MessageOutcome::Done);
    assert_eq!(
        again.outcomes[0].1,
        MessageOutcome::Duplicate,
        "the same replay is itself idempotent"
    );
    assert_eq!(h.handler.ran.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn messages_are_handed_back_unstarted_when_the_invocation_is_nearly_over() {
    let mut h = harness(None);
    h.processor = h
        .processor
        .with_invocation_deadline(std::time::Duration::from_secs(35));
    let batch = || {
        vec![
            message("a", "test.event", r#"{"behaviour":"ok"}"#, 1),
            message("b", "test.event", r#"{"behaviour":"ok"}"#, 1),
        ]
    };

    // 20 s left: less than the 35 s a message may take.
    let late = h.processor.process(batch(), NOW * 1000 + 20_000).await;

    assert_eq!(late.batch_item_failures(), ["m-a", "m-b"]);
    assert!(h.handler.ran.lock().unwrap().is_empty(), "nothing started");
    assert_eq!(
        *h.settler.retries.lock().unwrap(),
        [("m-a".to_string(), 0), ("m-b".to_string(), 0)],
        "visible again at once, not after a backoff"
    );
    assert!(
        matches!(&late.outcomes[0].1, MessageOutcome::Retry { reason, after_seconds: 0 } if reason.contains("20000 ms of the invocation remained")),
        "{:?}",
        late.outcomes[0]
    );

    // A minute left: both run.
    let early = h.processor.process(batch(), NOW * 1000 + 60_000).await;
    assert!(early.batch_item_failures().is_empty());
}

#[tokio::test]
async fn in_a_lambda_a_handlers_calls_must_end_two_seconds_before_the_invocation() {
    let mut h = harness(None);
    let batch = || {
        vec![message(
            "t",
            "test.event",
            r#"{"behaviour":"time_left"}"#,
            1,
        )]
    };
    // serve: the deadline is a lease, calls keep their own timeouts.
    h.processor.process(batch(), NOW * 1000 + 30_000).await;
    assert_eq!(*h.handler.ran.lock().unwrap(), ["t", "time_left:None"]);
    h.handler.ran.lock().unwrap().clear();

    h.processor = h
        .processor
        .with_invocation_deadline(std::time::Duration::ZERO);
    let mut replayed = batch();
    replayed[0]
        .attributes
        .insert(ATTRIBUTE_REPLAY.into(), "1".into());
    h.processor.process(replayed, NOW * 1000 + 30_000).await;

    let ran = h.handler.ran.lock().unwrap().clone();
    // 30 s left, minus the 2 s kept to settle the message (some time has passed since).
    let seen = (ran.iter())
        .find_map(|r| r.strip_prefix("time_left:Some("))
        .and_then(|r| r.trim_end_matches(')').parse::<u64>().ok());
    assert!(seen.is_some_and(|s| (24..28).contains(&s)), "{ran:?}");
}
