//! Order updates apply in version order and exactly: each amount once, a stale one never, a
//! currency change by a new PaymentIntent, bad numbers parked on their first delivery.

use serde_json::json;

use super::{Bridge, T0, both_backends, changed, id, kentico_order, last_intent, order};

fn amount_updates(bridge: &dyn Bridge, intent: &str) -> Vec<(String, Option<String>)> {
    (bridge.stripe().requests().into_iter())
        .filter(|r| r.method == "POST" && r.path == format!("/v1/payment_intents/{intent}"))
        .map(|r| {
            let amount = r.form_value("amount").unwrap_or_default().to_string();
            (amount, r.idempotency_key)
        })
        .collect()
}

async fn totals_100_120_100_120_end_at_120_each_applied_once(bridge: &dyn Bridge) {
    let placed = order(301, "USD", "100.00", T0);
    bridge
        .kentico_says("ecommerce.order.created", &placed)
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));

    for (minute, total) in [(1, "120.00"), (2, "100.00"), (3, "120.00")] {
        let update = changed(&placed, T0 + 60 * minute, json!({"OrderGrandTotal": total}));
        bridge
            .kentico_says("ecommerce.order.updated", &update)
            .await;
        bridge.drain().await;
    }

    assert_eq!(
        bridge.stripe().payment_intent(&intent).unwrap()["amount"],
        12_000
    );
    let updates = amount_updates(bridge, &intent);
    let amounts: Vec<&str> = updates.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(amounts, ["12000", "10000", "12000"]);
    let mut keys: Vec<_> = updates.iter().map(|(_, k)| k.clone()).collect();
    keys.dedup();
    assert_eq!(
        keys.len(),
        3,
        "one Idempotency-Key per applied version: {keys:?}"
    );
    assert!(bridge.dead_letters().await.is_empty());
    assert_eq!(bridge.stripe().payment_intents().len(), 1);
}
both_backends!(totals_100_120_100_120_end_at_120_each_applied_once, &[]);

async fn an_update_older_than_one_applied_is_ignored_and_counted(bridge: &dyn Bridge) {
    let placed = order(302, "USD", "100.00", T0);
    bridge
        .kentico_says("ecommerce.order.created", &placed)
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));
    let older = changed(&placed, T0 + 60, json!({"OrderGrandTotal": "120.00"}));
    let newer = changed(&placed, T0 + 120, json!({"OrderGrandTotal": "130.00"}));

    // The Kentico outbox retried the older update; it arrives after the newer one.
    bridge.kentico_says("ecommerce.order.updated", &newer).await;
    bridge.drain().await;
    bridge.kentico_says("ecommerce.order.updated", &older).await;
    bridge.drain().await;

    assert_eq!(
        bridge.stripe().payment_intent(&intent).unwrap()["amount"],
        13_000
    );
    assert_eq!(amount_updates(bridge, &intent).len(), 1);
    assert_eq!(bridge.metric("StaleOrderUpdates").await, 1);
    let trace = bridge.trace(302).await;
    let details: Vec<&str> = (trace["events"].as_array().unwrap().iter())
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("is older than the one applied")),
        "{trace}"
    );
}
both_backends!(an_update_older_than_one_applied_is_ignored_and_counted, &[]);

async fn a_currency_change_cancels_the_payment_intent_and_makes_one_in_the_new_currency(
    bridge: &dyn Bridge,
) {
    let placed = order(303, "USD", "90.00", T0);
    bridge
        .kentico_says("ecommerce.order.created", &placed)
        .await;
    bridge.drain().await;
    let usd = id(&last_intent(bridge));

    let yen = changed(
        &placed,
        T0 + 60,
        json!({"OrderCurrencyCode": "JPY", "OrderGrandTotal": "9000"}),
    );
    bridge.kentico_says("ecommerce.order.updated", &yen).await;
    bridge.drain().await;

    let intents = bridge.stripe().payment_intents();
    assert_eq!(intents.len(), 2);
    assert_eq!(intents[0]["status"], "canceled");
    let jpy = &intents[1];
    assert_eq!(
        (jpy["amount"].as_i64(), jpy["currency"].as_str()),
        (Some(9000), Some("jpy"))
    );
    assert_eq!(bridge.stripe().payable_objects(), [id(jpy)]);
    let create = (bridge.stripe().requests().into_iter())
        .rfind(|r| r.path == "/v1/payment_intents")
        .unwrap();
    let key = create.idempotency_key.unwrap();
    assert!(
        key.starts_with("paybridge-payment_intent-00000000-0000-4000-8000-000000000303-jpy-"),
        "{key}"
    );
    let written = kentico_order(bridge, 303)["OrderCustomData"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(written.contains(&format!(
        "<StripePaymentIntent>{}</StripePaymentIntent>",
        id(jpy)
    )));
    assert!(!written.contains(&usd));
    let trace = bridge.trace(303).await;
    assert_eq!(trace["link"]["payment_intent"], id(jpy).as_str());
}
both_backends!(
    a_currency_change_cancels_the_payment_intent_and_makes_one_in_the_new_currency,
    &[]
);

async fn a_currency_change_while_the_payment_is_processing_is_parked(bridge: &dyn Bridge) {
    let placed = order(304, "USD", "90.00", T0);
    bridge
        .kentico_says("ecommerce.order.created", &placed)
        .await;
    bridge.drain().await;
    let usd = id(&last_intent(bridge));
    bridge
        .stripe()
        .set_payment_intent(&usd, json!({"status": "processing"}));

    let euro = changed(&placed, T0 + 60, json!({"OrderCurrencyCode": "EUR"}));
    bridge.kentico_says("ecommerce.order.updated", &euro).await;
    bridge.drain().await;

    assert_eq!(
        bridge.stripe().payment_intents().len(),
        1,
        "no second payable object"
    );
    let dead = bridge.dead_of_kind("payment_under_way").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["failure_payment"], usd);
}
both_backends!(
    a_currency_change_while_the_payment_is_processing_is_parked,
    &[]
);

async fn an_order_whose_shipping_and_tax_overflow_is_parked_on_its_first_delivery(
    bridge: &dyn Bridge,
) {
    let huge = "79228162514264337593543950335";
    let mut placed = order(305, "USD", "25.00", T0);
    placed["OrderTotalPrice"] = json!("30.00");
    placed["OrderTotalShipping"] = json!(huge);
    placed["OrderTotalTax"] = json!(huge);
    placed["OrderItems"][0]["OrderItemTotalPrice"] = json!("25.00");

    bridge
        .kentico_says("ecommerce.order.created", &placed)
        .await;
    bridge.drain().await;

    assert!(bridge.stripe().payment_intents().is_empty());
    let dead = bridge.dead_of_kind("mapping_mismatch").await;
    assert_eq!(dead.len(), 1, "{:?}", bridge.dead_letters().await);
    assert_eq!(dead[0]["failure_receive_count"], "1");
    assert_eq!(dead[0]["failure_field"], "OrderItems");
}
both_backends!(
    an_order_whose_shipping_and_tax_overflow_is_parked_on_its_first_delivery,
    &[]
);

async fn an_update_after_the_payment_intent_was_canceled_at_stripe_makes_a_new_one(
    bridge: &dyn Bridge,
) {
    let placed = order(306, "USD", "40.00", T0);
    bridge
        .kentico_says("ecommerce.order.created", &placed)
        .await;
    bridge.drain().await;
    let first = id(&last_intent(bridge));
    // Someone canceled it in the Dashboard; then the customer adds an item.
    bridge
        .stripe()
        .set_payment_intent(&first, json!({"status": "canceled"}));

    let bigger = changed(&placed, T0 + 60, json!({"OrderGrandTotal": "55.00"}));
    bridge
        .kentico_says("ecommerce.order.updated", &bigger)
        .await;
    bridge.drain().await;

    let second = last_intent(bridge);
    assert_ne!(id(&second), first);
    assert_eq!(second["amount"], 5500);
    assert_eq!(bridge.stripe().payable_objects(), [id(&second)]);
    assert!(bridge.dead_letters().await.is_empty());
}
both_backends!(
    an_update_after_the_payment_intent_was_canceled_at_stripe_makes_a_new_one,
    &[]
);
