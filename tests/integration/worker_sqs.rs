//! The worker core on real (moto) SQS and DynamoDB: outcomes, visibility, DLQ, redrive, duplicates.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use integration_tests::{dynamodb, moto, sqs};
use paybridge::clock::SystemClock;
use paybridge::dead_letters::SqsMessageSettler;
use paybridge::idempotency::dynamodb::DynamoDbIdempotencyStore;
use paybridge::idempotency::{Idempotency, IdempotencyConfig};
use paybridge::metrics::InMemoryMetrics;

use paybridge::worker::{
    Backoff, BatchProcessor, Delivery, EventHandler, Handled, HandlerError, ProcessorConfig,
    ReceivedEvent, Router, SqsPoller,
};

/// Acts as each payload's `behaviour` says and counts the effects it performs per event.
#[derive(Default)]
struct CountingEffect {
    effects: Mutex<HashMap<String, u32>>,
}

#[async_trait::async_trait]
impl EventHandler for CountingEffect {
    async fn handle(
        &self,
        event: &ReceivedEvent,
        _delivery: &Delivery,
    ) -> Result<Handled, HandlerError> {
        let payload = &event.payload;
        match payload["behaviour"].as_str().unwrap_or("ok") {
            "transient" => Err(HandlerError::transient("Kentico answered 503")),
            "permanent" => Err(HandlerError::permanent(
                "kentico_rejected",
                "Kentico answered 400: OrderStatusID 99 does not exist",
            )),
            "panic" => panic!("handler bug"),
            _ => {
                // Widen the race window a duplicate would need to slip through.
                tokio::time::sleep(Duration::from_millis(20)).await;
                *self
                    .effects
                    .lock()
                    .unwrap()
                    .entry(event.event_id().to_string())
                    .or_default() += 1;
                Ok(Handled::Done("effect".into()))
            }
        }
    }
}

struct Worker {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    dlq_url: String,
    handler: Arc<CountingEffect>,
    processor: Arc<BatchProcessor>,
}

async fn worker(
    max_receive_count: u32,
    visibility_timeout: u32,
    backoff: Backoff,
    processor_max: Option<u32>,
) -> Worker {
    let sdk = moto::sdk_config().await;
    let sqs_client = aws_sdk_sqs::Client::new(&sdk);
    let (queue_url, dlq_url) =
        sqs::create_queue_with_dlq(&sqs_client, "worker", max_receive_count, visibility_timeout)
            .await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let table = dynamodb::create_idempotency_table(&ddb).await;
    let handler = Arc::new(CountingEffect::default());
    let processor = Arc::new(BatchProcessor::new(
        Router::new().route("test.effect", handler.clone()),
        Idempotency::new(
            Arc::new(DynamoDbIdempotencyStore::new(ddb, table)),
            IdempotencyConfig::default(),
            Arc::new(SystemClock),
        ),
        Arc::new(SqsMessageSettler::new(
            sqs_client.clone(),
            &queue_url,
            &dlq_url,
            paybridge::config::ingress::SQS_MAX_MESSAGE_BYTES,
        )),
        Arc::new(InMemoryMetrics::new()),
        Arc::new(SystemClock),
        ProcessorConfig {
            worker: "test-worker".into(),
            concurrency: 4,
            backoff,
            max_receive_count: processor_max,
        },
    ));
    Worker {
        sqs: sqs_client,
        queue_url,
        dlq_url,
        handler,
        processor,
    }
}

fn envelope(event_id: &str, event_type: &str, behaviour: &str) -> String {
    format!(
        r#"{{"source":"kentico","event_id":"{event_id}","event_type":"{event_type}","received_at":"2026-11-29T12:00:00.000Z","payload":{{"behaviour":"{behaviour}"}}}}"#
    )
}

fn no_jitter(base_seconds: u32) -> Backoff {
    Backoff {
        base_seconds,
        jitter: 0.0,
        ..Backoff::default()
    }
}

/// Receives up to 10 messages as Lambda's event source mapping hands them to the function.
async fn lambda_batch(w: &Worker) -> SqsEvent {
    let received = w
        .sqs
        .receive_message()
        .queue_url(&w.queue_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let records: Vec<serde_json::Value> = received
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let attributes: HashMap<String, String> =
                m.attributes.unwrap_or_default().into_iter().map(|(k, v)| (k.as_str().to_string(), v)).collect();
            let message_attributes: HashMap<String, serde_json::Value> = m
                .message_attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, serde_json::json!({"stringValue": v.string_value, "dataType": "String"})))
                .collect();
            serde_json::json!({
                "messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
                "attributes": attributes, "messageAttributes": message_attributes,
                "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:worker", "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).expect("a valid SQS event")
}

#[tokio::test]
async fn a_mixed_batch_reports_exactly_the_failures_and_dead_letters_with_reasons() {
    let w = worker(5, 1, no_jitter(60), None).await;
    for (id, event_type, behaviour) in [
        ("e-ok", "test.effect", "ok"),
        ("e-transient", "test.effect", "transient"),
        ("e-permanent", "test.effect", "permanent"),
        ("e-panic", "test.effect", "panic"),
        ("e-unknown", "test.unrouted", "ok"),
    ] {
        sqs::send(
            &w.sqs,
            &w.queue_url,
            &envelope(id, event_type, behaviour),
            &[
                ("source", "kentico"),
                ("event_type", event_type),
                ("event_id", id),
            ],
        )
        .await;
    }
    let event = lambda_batch(&w).await;
    assert_eq!(event.records.len(), 5);
    let ids: HashMap<String, String> = event
        .records
        .iter()
        .map(|r| {
            (
                r.message_attributes["event_id"]
                    .string_value
                    .clone()
                    .unwrap(),
                r.message_id.clone().unwrap(),
            )
        })
        .collect();
    let mut context = lambda_runtime::Context::default();
    context.deadline = (time::OffsetDateTime::now_utc().unix_timestamp() as u64 + 60) * 1000;

    let response = paybridge::worker::lambda::handle(
        &w.processor,
        lambda_runtime::LambdaEvent::new(event, context),
    )
    .await;

    let mut failures: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    failures.sort();
    assert_eq!(failures, [ids["e-transient"].clone()]);
    // The queue's own visibility timeout is 1 s; the processor set 60 s on the failure.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let visible_again: Vec<String> = sqs::receive_all(&w.sqs, &w.queue_url)
        .await
        .iter()
        .map(|m| m.attributes["event_id"].clone())
        .collect();
    let mut visible_again = visible_again;
    visible_again.sort();
    assert_eq!(
        visible_again,
        ["e-ok", "e-panic", "e-permanent", "e-unknown"],
        "only the settled ones (the test deletes nothing) reappear"
    );
    let mut dead = sqs::receive_all(&w.sqs, &w.dlq_url).await;
    dead.sort_by_key(|m| m.attributes["event_id"].clone());
    assert_eq!(dead.len(), 2, "the panic and the permanent failure");
    assert_eq!(dead[0].attributes["failure_kind"], "handler_panic");
    assert!(dead[0].attributes["failure_reason"].contains("handler bug"));
    let dead = &dead[1..];
    assert_eq!(
        dead[0].body,
        envelope("e-permanent", "test.effect", "permanent")
    );
    assert_eq!(dead[0].attributes["failure_kind"], "kentico_rejected");
    assert!(dead[0].attributes["failure_reason"].contains("OrderStatusID 99"));
    assert_eq!(dead[0].attributes["failure_receive_count"], "1");
    assert_eq!(dead[0].attributes["event_id"], "e-permanent");
    assert_eq!(
        dead[0].attributes["original_message_id"],
        ids["e-permanent"]
    );
    assert_eq!(w.handler.effects.lock().unwrap().get("e-ok"), Some(&1));
}

#[tokio::test]
async fn a_transient_message_retried_past_max_receive_count_ends_in_the_dlq_by_redrive() {
    let w = worker(2, 30, no_jitter(0), None).await;
    sqs::send(
        &w.sqs,
        &w.queue_url,
        &envelope("e-flaky", "test.effect", "transient"),
        &[("event_id", "e-flaky")],
    )
    .await;
    let mut poller = SqsPoller::new(w.sqs.clone(), &w.queue_url, w.processor.clone());
    poller.wait_seconds = 0;

    let mut retried = 0;
    for _ in 0..5 {
        retried += poller
            .poll_once()
            .await
            .unwrap()
            .batch_item_failures()
            .len();
    }

    assert_eq!(
        retried, 2,
        "two deliveries, then the redrive policy takes it"
    );
    assert!(sqs::receive_all(&w.sqs, &w.queue_url).await.is_empty());
    let dead = sqs::receive_all(&w.sqs, &w.dlq_url).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attributes["event_id"], "e-flaky");
}

#[tokio::test]
async fn the_processor_dead_letters_an_exhausted_message_itself_with_its_last_reason() {
    let w = worker(5, 30, no_jitter(0), Some(2)).await;
    sqs::send(
        &w.sqs,
        &w.queue_url,
        &envelope("e-flaky", "test.effect", "transient"),
        &[("event_id", "e-flaky")],
    )
    .await;
    let mut poller = SqsPoller::new(w.sqs.clone(), &w.queue_url, w.processor.clone());
    poller.wait_seconds = 0;

    for _ in 0..3 {
        poller.poll_once().await.unwrap();
    }

    let dead = sqs::receive_all(&w.sqs, &w.dlq_url).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attributes["failure_kind"], "retries_exhausted");
    assert!(dead[0].attributes["failure_reason"].contains("Kentico answered 503"));
    assert!(sqs::receive_all(&w.sqs, &w.queue_url).await.is_empty());
}

#[tokio::test]
async fn a_duplicate_storm_of_fifty_events_delivered_ten_times_produces_fifty_effects() {
    let w = worker(25, 30, no_jitter(1), None).await;
    let mut bodies = Vec::new();
    for copy in 0..10 {
        for event in 0..50 {
            bodies.push((format!("evt-{event:02}"), copy));
        }
    }
    fastrand::shuffle(&mut bodies);
    for chunk in bodies.chunks(10) {
        let entries = chunk.iter().enumerate().map(|(i, (id, _))| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(envelope(id, "test.effect", "ok"))
                .build()
                .unwrap()
        });
        w.sqs
            .send_message_batch()
            .queue_url(&w.queue_url)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .unwrap();
    }

    let pollers = (0..4).map(|_| {
        let mut poller = SqsPoller::new(w.sqs.clone(), &w.queue_url, w.processor.clone());
        poller.wait_seconds = 0;
        tokio::spawn(async move {
            let mut empty_polls = 0;
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while empty_polls < 8 && std::time::Instant::now() < deadline {
                let report = poller.poll_once().await.unwrap();
                if report.outcomes.is_empty() {
                    empty_polls += 1;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                } else {
                    empty_polls = 0;
                }
            }
        })
    });
    futures::future::join_all(pollers).await;

    let effects = w.handler.effects.lock().unwrap().clone();
    assert_eq!(effects.len(), 50, "every event had its effect");
    assert!(
        effects.values().all(|&n| n == 1),
        "an event had its effect twice: {effects:?}"
    );
    assert!(sqs::receive_all(&w.sqs, &w.queue_url).await.is_empty());
    assert!(sqs::receive_all(&w.sqs, &w.dlq_url).await.is_empty());
}
