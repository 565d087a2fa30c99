//! The operator's `trace` and `replay` against the AWS backend (moto), on a flow the workers ran.

use std::process::Command;

use serde_json::{Value, json};

use paybridge::webhook::Source;

use super::harness::{PAID, System, order, pay_orders, place_orders, status_writes};
use crate::serve_process::paybridge_binary;

fn paybridge(system: &System, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(paybridge_binary());
    command.args(args).args(["--backend", "aws"]);
    for (k, v) in &system.env {
        command.env(k, v);
    }
    command
        .env("AWS_ENDPOINT_URL", integration_tests::moto::endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("paybridge runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_and_replay_work_on_sqs_and_dynamodb() {
    let system = System::start(&[]).await;
    system
        .kentico_order_event(
            "ecommerce.order.created",
            &order(5001, "USD", ("10.00", "5.00"), "25.00"),
        )
        .await;
    system.drain().await;
    let id = system.created_intents()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let paid = system.intent_with(&id, json!({"status": "succeeded"}));
    system.stripe_event("payment_intent.succeeded", &paid).await;
    system.drain().await;
    assert_eq!(system.kentico.order(5001).unwrap()["OrderStatusID"], PAID);

    let trace = paybridge(&system, &["trace", "--order-id", "5001", "--json"]);
    assert!(
        trace.status.success(),
        "{}",
        String::from_utf8_lossy(&trace.stderr)
    );
    let traced: Value = serde_json::from_slice(&trace.stdout).unwrap();
    assert_eq!(traced["link"]["payment_intent"], id.as_str());
    assert_eq!(traced["link"]["status"], "Paid");
    assert_eq!(traced["events"].as_array().unwrap().len(), 2);

    let puts = || {
        (system.kentico.requests().iter())
            .filter(|r| r.method == "PUT")
            .count()
    };
    // A replay of an order Kentico already shows as paid writes nothing: the write would only
    // send the customer's "paid" notification again.
    let writes_before = puts();
    let replay = paybridge(&system, &["replay", "--order-id", "5001"]);
    assert!(replay.status.success());
    system.drain().await;
    assert_eq!(puts(), writes_before, "nothing to write again");
    assert_eq!(
        system.worker_count("payment-worker", "payment_intent.succeeded", "done"),
        2,
        "the payment event ran again"
    );

    // Someone reset the order in Kentico: a replay writes the paid status again.
    let mut reset = system.kentico.order(5001).unwrap();
    reset["OrderStatusID"] = json!(1);
    reset["OrderIsPaid"] = json!(false);
    system.kentico.add_order(reset);
    let writes_before = puts();
    let replay = paybridge(&system, &["replay", "--order-id", "5001"]);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    system.drain().await;
    let writes_after = puts();
    // The order event ran again and left the paid order alone; the payment event wrote the
    // paid status again.
    assert!(
        writes_after > writes_before,
        "the payment event ran again ({writes_before} → {writes_after})"
    );
    assert_eq!(
        system.worker_count("order-worker", "ecommerce.order.created", "ignored"),
        2
    );
    assert_eq!(system.created_intents().len(), 1, "and charged nothing new");
    assert_eq!(system.kentico.order(5001).unwrap()["OrderStatusID"], PAID);
}

/// A 900 KB event and an order with a thousand deliveries in its history, on DynamoDB: both
/// journaled (the event sealed, compressed and, still too large for one item, in parts),
/// traceable whole, and the event replayable byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_900_kb_event_and_a_thousand_deliveries_are_journaled_traceable_and_replayable() {
    use paybridge::journal::{DynamoDbEventJournal, EventJournal, JournalEntry};

    let system = System::start(&[]).await;
    let mut big = order(5002, "EUR", ("10.00", "5.00"), "25.00");
    let mut rng = fastrand::Rng::with_seed(900);
    let note: String = (0..900_000).map(|_| rng.alphanumeric()).collect();
    big["OrderNote"] = json!(note);
    assert_eq!(
        system
            .kentico_order_event("ecommerce.order.created", &big)
            .await,
        202
    );
    system.drain().await;
    assert_eq!(system.created_intents().len(), 1);

    let trace = |system: &System| -> Value {
        let output = paybridge(system, &["trace", "--order-id", "5002", "--json"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let traced = trace(&system);
    let events = traced["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{traced}");
    let event_id = events[0]["event_id"].as_str().unwrap().to_string();

    // A thousand more deliveries of it (a poison message, say), journaled as the worker does.
    let sdk = integration_tests::moto::sdk_config().await;
    let journal = DynamoDbEventJournal::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &system.env["IDEMPOTENCY_TABLE_NAME"],
        30,
    );
    let record = |n: u32| {
        let entry = JournalEntry {
            at: "2026-12-01T00:00:00.000Z".into(),
            source: "kentico".into(),
            event_id: event_id.clone(),
            event_type: "ecommerce.order.created".into(),
            worker: "order-worker".into(),
            outcome: "retried".into(),
            detail: "Kentico answered 503".into(),
            receive_count: n,
        };
        let journal = &journal;
        async move { journal.record("order:5002", &entry, "{}").await.unwrap() }
    };
    futures::StreamExt::for_each_concurrent(futures::stream::iter(2..=1_001), 16, record).await;
    let traced = trace(&system);
    assert_eq!(traced["events"].as_array().unwrap().len(), 1_001);

    // The replay re-enqueues the first copy, whole: the order event runs again and charges
    // nothing new.
    let replay = paybridge(&system, &["replay", "--order-id", "5002"]);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    system.drain().await;
    assert_eq!(system.created_intents().len(), 1, "nothing charged again");
    let replayed = trace(&system);
    let last = replayed["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["event_id"], event_id.as_str(), "{last}");
    assert_eq!(last["outcome"], "done", "the order is unchanged: {last}");
    assert_ne!(
        last["at"], "2026-12-01T00:00:00.000Z",
        "the replay's own entry: {last}"
    );
}

/// Issue 13's scenario 6: permanent failures — a status name Kentico does not know, a Kentico 400
/// — wait in the dead-letter queue with their reason and charge or write nothing more; once the
/// cause is fixed (the status created in Kentico, Kentico accepting the write again)
/// `paybridge dlq redrive --all` completes each, once, and a second redrive finds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_wait_in_the_dlq_with_their_reason_and_one_redrive_completes_them_once()
{
    const RECEIVED: i64 = 10;
    let system = System::start(&[("KENTICO_STATUS_MAP", "succeeded=Payment received")]).await;
    let (unknown_status, rejected) = ([6101, 6102, 6103], [6104, 6105, 6106]);
    let all: Vec<i64> = unknown_status.iter().chain(&rejected).copied().collect();
    place_orders(&system, &all).await;
    system.drain().await;
    assert_eq!(system.created_intents().len(), 6);

    // The mapped status does not exist in Kentico.
    pay_orders(&system, &unknown_status).await;
    system.drain().await;
    // Kentico refuses the write.
    system.kentico.fail_next(
        1_000,
        400,
        "Column 'OrderStatusID' does not accept the value.",
    );
    pay_orders(&system, &rejected).await;
    system.drain().await;

    let dead = system.dead_letters(Source::Stripe).await;
    let kinds = |kind: &str| {
        (dead.iter())
            .filter(|d| d.attributes["failure_kind"] == kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(dead.len(), 6, "{dead:?}");
    assert_eq!(kinds("kentico_status_unknown").len(), 3);
    assert!(
        (kinds("kentico_status_unknown").iter())
            .all(|d| d.attributes["failure_reason"].contains("Payment received")),
        "the reason names the missing status"
    );
    assert_eq!(kinds("kentico_rejected").len(), 3);
    assert!(
        (kinds("kentico_rejected").iter())
            .all(|d| d.attributes["failure_reason"].contains("does not accept the value")),
        "the reason quotes Kentico"
    );
    let written = |order_id: i64| {
        (status_writes(&system, RECEIVED).get(&order_id))
            .copied()
            .unwrap_or(0)
    };
    assert!(all.iter().all(|id| written(*id) == 0));

    // The causes are fixed: the status is created, Kentico accepts writes again.
    system.kentico.set_statuses(vec![
        (1, "New"),
        (3, "Pending Payment"),
        (4, "Payment pending"),
        (6, "Paid"),
        (7, "Payment Failed"),
        (8, "Canceled"),
        (RECEIVED, "Payment received"),
    ]);
    system.kentico.clear_failures();

    let redrive = paybridge(&system, &["dlq", "redrive", "--all"]);
    assert!(
        redrive.status.success(),
        "{}",
        String::from_utf8_lossy(&redrive.stderr)
    );
    assert!(String::from_utf8_lossy(&redrive.stdout).contains("redrove 6 of 6 event(s)"));
    system.drain().await;
    assert!(system.dead_letters(Source::Stripe).await.is_empty());
    for &id in &all {
        assert_eq!(
            system.kentico.order(id).unwrap()["OrderStatusID"],
            RECEIVED,
            "order {id}"
        );
        assert_eq!(written(id), 1, "order {id} written once");
    }

    // A second redrive finds nothing to do, and nothing is written again.
    let again = paybridge(&system, &["dlq", "redrive", "--all"]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("redrove 0 of 0 event(s)"));
    system.drain().await;
    assert!(all.iter().all(|id| written(*id) == 1));
    assert_eq!(system.created_intents().len(), 6, "nothing charged again");
    eprintln!(
        "| dead-lettered | kentico_status_unknown | kentico_rejected | redriven and done | written once | PaymentIntents |\n\
         | {} | 3 | 3 | {} | {} | {} |",
        dead.len(),
        system.worker_count("payment-worker", "payment_intent.succeeded", "done"),
        all.iter().filter(|id| written(**id) == 1).count(),
        system.created_intents().len(),
    );
}
