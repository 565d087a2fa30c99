//! The happy path, in four currencies with different minor-unit rules, and events out of order.

use serde_json::json;

use super::harness::{PAID, System, custom_data, order};

#[tokio::test]
async fn a_kentico_order_becomes_one_payment_intent_and_a_stripe_success_marks_it_paid() {
    let system = System::start(&[]).await;
    // (currency, unit prices, grand total, expected minor units): Stripe's exponent rules.
    let cases = [
        ("USD", ("49.95", "20.00"), "129.90", 12_990),
        ("JPY", ("600", "300"), "1500", 1_500),
        ("KWD", ("5.000", "2.345"), "12.345", 12_340),
        ("ISK", ("600.25", "300.00"), "1500.50", 150_000),
    ];
    for (n, (currency, prices, total, minor)) in cases.into_iter().enumerate() {
        let order_id = 2000 + n as i64;
        let order = order(order_id, currency, prices, total);
        let guid = order["OrderGUID"].as_str().unwrap().to_string();

        assert_eq!(
            system
                .kentico_order_event("ecommerce.order.created", &order)
                .await,
            202
        );
        system.drain().await;

        let intents = system.created_intents();
        assert_eq!(
            intents.len(),
            n + 1,
            "{currency}: exactly one PaymentIntent per order"
        );
        let intent = intents.last().unwrap();
        assert_eq!(intent["amount"], minor, "{currency}");
        assert_eq!(intent["currency"], currency.to_lowercase());
        assert_eq!(intent["metadata"]["kentico_order_id"], order_id.to_string());
        assert_eq!(intent["metadata"]["kentico_order_guid"], guid);
        assert_eq!(intent["metadata"]["kentico_site"], "DancingGoat");
        assert_eq!(intent["metadata"]["kentico_customer_id"], "77");
        assert_eq!(intent["metadata"]["kentico_skus"], "EG-100,FP-20");
        assert_eq!(intent["description"], "2× Espresso Grinder, 1× Filter Pack");
        let create = system
            .stripe
            .requests()
            .into_iter()
            .rfind(|r| r.path == "/v1/payment_intents")
            .unwrap();
        assert_eq!(
            create.idempotency_key.as_deref(),
            Some(format!("paybridge-payment_intent-{guid}").as_str())
        );
        assert_eq!(create.form_value("shipping[name]"), Some("Ada Lovelace"));
        assert_eq!(create.form_value("shipping[address][country]"), Some("GB"));
        assert_eq!(
            create.form_value("shipping[address][postal_code]"),
            Some("SW1Y 4JH")
        );
        assert_eq!(
            create.form_value("automatic_payment_methods[enabled]"),
            Some("true")
        );
        assert_eq!(
            create.headers["authorization"],
            "Bearer sk_test_paybridge_e2e"
        );
        let intent_id = intent["id"].as_str().unwrap().to_string();
        let written = custom_data(&system.kentico, order_id);
        assert!(
            written.contains(&format!(
                "<StripePaymentIntent>{intent_id}</StripePaymentIntent>"
            )),
            "{written}"
        );
        assert!(
            !written.contains("StripeClientSecret") && !written.contains("_secret_"),
            "the client secret never reaches Kentico: {written}"
        );

        let succeeded = system.intent_with(
            &intent_id,
            json!({"status": "succeeded", "amount_received": minor}),
        );
        assert_eq!(
            system
                .stripe_event("payment_intent.succeeded", &succeeded)
                .await,
            202
        );
        system.drain().await;

        let kentico_order = system.kentico.order(order_id).unwrap();
        assert_eq!(
            kentico_order["OrderStatusID"], PAID,
            "{currency}: {kentico_order}"
        );
        assert_eq!(kentico_order["OrderIsPaid"], true);
    }
}

#[tokio::test]
async fn a_late_processing_after_succeeded_leaves_the_order_paid() {
    let system = System::start(&[]).await;
    let order = order(3001, "EUR", ("10.00", "5.00"), "25.00");
    system
        .kentico_order_event("ecommerce.order.created", &order)
        .await;
    system.drain().await;
    let id = system.created_intents()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let succeeded = system.intent_with(&id, json!({"status": "succeeded"}));
    system
        .stripe_event("payment_intent.succeeded", &succeeded)
        .await;
    system.drain().await;
    let processing = system.intent_with(&id, json!({"status": "processing"}));
    system
        .stripe_event("payment_intent.processing", &processing)
        .await;
    system.drain().await;

    assert_eq!(system.kentico.order(3001).unwrap()["OrderStatusID"], PAID);
    assert_eq!(
        system.worker_count("payment-worker", "payment_intent.processing", "ignored"),
        1
    );
    let status_writes = system
        .kentico
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "PUT"
                && r.body
                    .as_ref()
                    .is_some_and(|b| b["ecommerce.order"].get("OrderStatusID").is_some())
        })
        .count();
    assert_eq!(status_writes, 1, "the late processing event wrote nothing");
}

#[tokio::test]
async fn a_failure_then_a_success_ends_paid_and_a_failure_after_success_changes_nothing() {
    let system = System::start(&[]).await;
    let order = order(3002, "USD", ("10.00", "5.00"), "25.00");
    system
        .kentico_order_event("ecommerce.order.created", &order)
        .await;
    system.drain().await;
    let id = system.created_intents()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let failed = system.intent_with(&id, json!({"status": "requires_payment_method",
        "last_payment_error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined."}}));
    system
        .stripe_event("payment_intent.payment_failed", &failed)
        .await;
    system.drain().await;
    let succeeded = system.intent_with(
        &id,
        json!({"status": "succeeded", "last_payment_error": null}),
    );
    system
        .stripe_event("payment_intent.succeeded", &succeeded)
        .await;
    system
        .stripe_event("payment_intent.payment_failed", &failed)
        .await;
    system.drain().await;

    let kentico_order = system.kentico.order(3002).unwrap();
    assert_eq!(kentico_order["OrderStatusID"], PAID);
    assert_eq!(kentico_order["OrderIsPaid"], true);
}

#[tokio::test]
async fn duplicate_deliveries_of_the_same_webhooks_create_nothing_twice() {
    let system = System::start(&[]).await;
    let order = order(3003, "GBP", ("10.00", "5.00"), "25.00");
    for _ in 0..3 {
        system
            .kentico_order_event("ecommerce.order.created", &order)
            .await;
    }
    system.drain().await;
    assert_eq!(system.created_intents().len(), 1);
    // Kentico also reports the order updated by paybridge's own write-back: nothing to do.
    system
        .kentico_order_event("ecommerce.order.updated", &order)
        .await;
    system.drain().await;
    assert_eq!(system.created_intents().len(), 1);
    assert_eq!(
        system.worker_count("order-worker", "ecommerce.order.updated", "ignored"),
        1
    );
}

#[tokio::test]
async fn a_changed_total_updates_the_amount_and_a_kentico_cancellation_cancels_the_intent() {
    let system = System::start(&[]).await;
    let mut order = order(3004, "USD", ("10.00", "5.00"), "25.00");
    system
        .kentico_order_event("ecommerce.order.created", &order)
        .await;
    system.drain().await;
    let id = system.created_intents()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    order["OrderGrandTotal"] = json!("30.00");
    order["OrderItems"][1]["OrderItemUnitPrice"] = json!("10.00");
    system
        .kentico_order_event("ecommerce.order.updated", &order)
        .await;
    system.drain().await;
    assert_eq!(system.stripe.payment_intent(&id).unwrap()["amount"], 3000);

    order["OrderStatusName"] = json!("Canceled");
    system
        .kentico_order_event("ecommerce.order.updated", &order)
        .await;
    system.drain().await;
    assert_eq!(
        system.stripe.payment_intent(&id).unwrap()["status"],
        "canceled"
    );
    assert_eq!(system.created_intents().len(), 1);
}
