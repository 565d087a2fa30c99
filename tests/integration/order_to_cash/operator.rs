//! The operator's `trace` and `replay` against the AWS backend (moto), on a flow the workers ran.

use std::process::Command;

use serde_json::{Value, json};

use super::harness::{PAID, System, order};
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
