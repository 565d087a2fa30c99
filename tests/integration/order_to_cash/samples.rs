//! The SQS sample events of `events/` (the ones `cargo lambda invoke` uses) fed to their workers.

use aws_lambda_events::event::sqs::SqsEvent;
use integration_tests::repo_root;
use lambda_runtime::{Context, LambdaEvent};
use paybridge::worker::lambda::handle;
use serde_json::json;

use super::harness::{PAID, System};

fn sample(name: &str) -> LambdaEvent<SqsEvent> {
    let text =
        std::fs::read_to_string(repo_root().join("events").join(name)).expect("the sample exists");
    let event: SqsEvent = serde_json::from_str(&text).expect("a valid SQS event");
    let mut context = Context::default();
    context.deadline = (integration_tests::now_unix() as u64 + 60) * 1000;
    LambdaEvent::new(event, context)
}

#[tokio::test]
async fn the_sqs_sample_events_run_through_their_workers() {
    let system = System::start(&[]).await;
    system
        .kentico
        .add_order(json!({"OrderID": 1042, "OrderStatusID": 1}));

    // The sample payment event is for the PaymentIntent the order sample makes.
    system
        .stripe
        .preset_next_payment_intent_id("pi_3QpaybridgeDemo0001");

    let created = handle(&system.order_processor, sample("order-worker-sqs.json")).await;
    system.stripe.set_payment_intent(
        "pi_3QpaybridgeDemo0001",
        json!({"status": "succeeded", "latest_charge": "ch_3QpaybridgeDemo0001"}),
    );
    let paid = handle(&system.payment_processor, sample("payment-worker-sqs.json")).await;

    assert!(created.batch_item_failures.is_empty(), "{created:?}");
    assert!(paid.batch_item_failures.is_empty(), "{paid:?}");
    let intents = system.created_intents();
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0]["amount"], 12_990);
    assert_eq!(
        intents[0]["metadata"]["kentico_order_guid"],
        "6f1c2a1e-5d1b-4a53-9a0e-2f7c1d9b8e41"
    );
    let order = system.kentico.order(1042).unwrap();
    assert_eq!(order["OrderStatusID"], PAID);
    assert_eq!(order["OrderIsPaid"], true);
}

#[tokio::test]
async fn the_xbyk_sqs_sample_event_runs_through_the_order_worker_on_xbyk() {
    let system = System::start_xbyk(&[]).await;
    let guid = "7a2d9c4e-1b3f-4e5a-8c6d-9e0f1a2b3c4d";
    (system.package()).add_order(integration_tests::fakes::xbyk::sample_order(2051, guid));

    let created = handle(
        &system.order_processor,
        sample("order-worker-sqs-xbyk.json"),
    )
    .await;

    assert!(created.batch_item_failures.is_empty(), "{created:?}");
    let intents = system.created_intents();
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0]["amount"], 12_990);
    assert_eq!(
        intents[0]["currency"], "eur",
        "KENTICO_CURRENCY: the order carries none"
    );
    assert_eq!(intents[0]["metadata"]["kentico_order_guid"], guid);
    let writes = system.package().writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0]["payment_reference"], intents[0]["id"]);
}
