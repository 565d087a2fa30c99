//! The mapping document reaches running workers: a published version changes the next order's
//! PaymentIntent, switches a flow off, fixes a spelling with an alias, and a rollback undoes it
//! all — no restart, no redeploy (`MAPPING_REFRESH_SECONDS=0`: read at every event).

use paybridge::mapping_doc::store::{DynamoDbMappingStore, MappingChange, MappingStore};
use paybridge::webhook::Source;
use serde_json::json;
use time::OffsetDateTime;

use super::harness::{System, intent_of, order};

async fn store(system: &System) -> DynamoDbMappingStore {
    let sdk = integration_tests::moto::sdk_config().await;
    DynamoDbMappingStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &system.env["IDEMPOTENCY_TABLE_NAME"],
    )
}

async fn publish(store: &DynamoDbMappingStore, document: serde_json::Value, expected: u32) {
    let text = document.to_string();
    let now = OffsetDateTime::now_utc();
    let change = store.publish(&text, "test", "test", expected, now).await;
    assert_eq!(change.unwrap(), MappingChange::Done(expected + 1));
}

#[tokio::test]
async fn a_published_version_reaches_the_next_order_and_a_rollback_undoes_it() {
    let system = System::start(&[("MAPPING_REFRESH_SECONDS", "0")]).await;
    let store = store(&system).await;
    let place = |id: i64, currency: &'static str| {
        let system = &system;
        async move {
            let order = order(id, currency, ("10.00", "5.00"), "25.00");
            let status = system
                .kentico_order_event("ecommerce.order.created", &order)
                .await;
            assert_eq!(status, 202);
            system.drain().await;
        }
    };

    place(5001, "USD").await;
    let before = intent_of(&system, 5001);
    assert_eq!(before["metadata"].get("buyer"), None);
    assert_eq!(before["description"], "2× Espresso Grinder, 1× Filter Pack");

    publish(
        &store,
        json!({"schema": 1,
            "payment_intent": {
                "metadata": [{"key": "buyer", "from": ["Customer.CustomerEmail"], "transform": [{"op": "upper"}]}],
                "description": {"template": "Order {order_id}: {items}", "item": "{name} ×{quantity}", "separator": " + "},
                "statement_descriptor_suffix": {"from": ["OrderID"], "transform": [{"op": "template", "template": "ORDER {0}"}]}},
            "aliases": {"currencies": {"US Dollar": "USD"}}}),
        0,
    )
    .await;
    place(5002, "US Dollar").await;
    let after = intent_of(&system, 5002);
    assert_eq!(after["currency"], "usd", "the alias made it USD");
    assert_eq!(after["metadata"]["buyer"], "ADA@EXAMPLE.COM");
    assert_eq!(after["metadata"]["kentico_order_id"], "5002");
    assert_eq!(
        after["description"],
        "Order 5002: Espresso Grinder ×2 + Filter Pack ×1"
    );
    assert_eq!(after["statement_descriptor_suffix"], "ORDER 5002");

    publish(
        &store,
        json!({"schema": 1, "flows": {"order_to_cash": false}}),
        1,
    )
    .await;
    place(5003, "USD").await;
    assert!(
        !(system.created_intents().iter()).any(|i| i["metadata"]["kentico_order_id"] == "5003"),
        "the flow is off"
    );
    assert_eq!(
        system.worker_count("order-worker", "ecommerce.order.created", "ignored"),
        1
    );

    let now = OffsetDateTime::now_utc();
    let back = store.activate(0, "test", "back to the environment", 2, now);
    assert_eq!(back.await.unwrap(), MappingChange::Done(0));
    place(5004, "US Dollar").await;
    let dead = system.dead_letters(Source::Kentico).await;
    assert_eq!(
        dead.len(),
        1,
        "without the alias the spelling is refused again"
    );
    assert_eq!(dead[0].attributes["failure_kind"], "mapping_mismatch");
    assert_eq!(dead[0].attributes["failure_field"], "OrderCurrencyCode");
}

#[tokio::test]
async fn a_rule_that_cannot_make_its_value_dead_letters_the_order_naming_the_rule() {
    let system = System::start(&[("MAPPING_REFRESH_SECONDS", "0")]).await;
    let store = store(&system).await;
    publish(
        &store,
        json!({"schema": 1, "payment_intent": {
            "statement_descriptor_suffix": {"from": ["OrderID"]}}}),
        0,
    )
    .await;
    let order = order(5101, "USD", ("10.00", "5.00"), "25.00");
    system
        .kentico_order_event("ecommerce.order.created", &order)
        .await;
    system.drain().await;
    assert!(
        system.created_intents().is_empty(),
        "nothing half-mapped is charged"
    );
    let dead = system.dead_letters(Source::Kentico).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].attributes["failure_field"],
        "payment_intent.statement_descriptor_suffix"
    );
    assert!(
        dead[0].attributes["failure_reason"].contains("'5101' has no letter"),
        "{:?}",
        dead[0].attributes
    );
}
