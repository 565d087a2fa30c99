//! When things go wrong: declined cards, rate limits, outages, refusals and unmappable orders.

use paybridge::webhook::Source;
use serde_json::json;

use super::harness::{PAID, PAYMENT_FAILED, System, custom_data, order};

#[tokio::test]
async fn a_declined_card_sets_payment_failed_with_the_reason_and_no_second_payable_object() {
    // Without PAYMENT_RETRY_URL there is no link to offer: the shop's own checkout page still
    // holds the order's PaymentIntent, which the customer can confirm again.
    let system = System::start(&[]).await;
    system
        .kentico_order_event(
            "ecommerce.order.created",
            &order(4001, "USD", ("49.95", "20.00"), "129.90"),
        )
        .await;
    system.drain().await;
    let id = system.created_intents()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let declined = system.intent_with(&id, json!({"status": "requires_payment_method", "amount_received": 0,
        "last_payment_error": {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds."}}));
    system
        .stripe_event("payment_intent.payment_failed", &declined)
        .await;
    system.drain().await;

    let kentico_order = system.kentico.order(4001).unwrap();
    assert_eq!(kentico_order["OrderStatusID"], PAYMENT_FAILED);
    assert!(
        system.stripe.checkout_sessions().is_empty(),
        "never a second payable object"
    );
    let written = custom_data(&system.kentico, 4001);
    assert!(!written.contains("<StripeRetryUrl>"), "{written}");
    assert!(
        written.contains("card_declined (insufficient_funds): Your card has insufficient funds."),
        "{written}"
    );

    // The customer pays the same PaymentIntent again.
    let paid = system.stripe.succeed_payment_intent(&id);
    system.stripe_event("payment_intent.succeeded", &paid).await;
    system.drain().await;
    assert_eq!(system.kentico.order(4001).unwrap()["OrderStatusID"], PAID);
}

#[tokio::test]
async fn stripe_rate_limits_and_a_kentico_outage_are_retried_without_a_second_payment_intent() {
    let system = System::start(&[]).await;
    // Three 429s outlast the client's own two retries: the message itself is retried.
    system.stripe.fail_next(
        3,
        429,
        json!({"error": {"type": "rate_limit_error", "message": "Too many requests"}}),
        None,
    );
    system.kentico.fail_next(2, 503, "Service Unavailable");
    system
        .kentico_order_event(
            "ecommerce.order.created",
            &order(4002, "EUR", ("10.00", "5.00"), "25.00"),
        )
        .await;
    system.drain().await;

    assert_eq!(
        system.created_intents().len(),
        1,
        "no duplicate PaymentIntent"
    );
    // The order's customer is linked first (its Stripe Customer created), then the order paid.
    let creations = ["/v1/customers", "/v1/payment_intents"].map(|path| {
        let keys: Vec<Option<String>> = (system.stripe.requests().into_iter())
            .filter(|r| r.method == "POST" && r.path == path)
            .map(|r| r.idempotency_key)
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] == w[1]),
            "every attempt at {path} used the same Idempotency-Key: {keys:?}"
        );
        keys.len()
    });
    assert!(creations[0] + creations[1] >= 5, "{creations:?}");
    assert_eq!(system.stripe.customers().len(), 1);
    let id = system.created_intents()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        custom_data(&system.kentico, 4002).contains(&id),
        "the write-back landed after the outage"
    );
    assert!(system.dead_letters(Source::Kentico).await.is_empty());
    assert!(system.worker_count("order-worker", "ecommerce.order.created", "retried") >= 1);
}

#[tokio::test]
async fn a_kentico_400_dead_letters_the_event_with_kenticos_message() {
    let system = System::start(&[]).await;
    system
        .kentico_order_event(
            "ecommerce.order.created",
            &order(4003, "USD", ("10.00", "5.00"), "25.00"),
        )
        .await;
    system.drain().await;
    let id = system.created_intents()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    system
        .kentico
        .fail_next(20, 400, "Column 'OrderStatusID' does not accept the value.");

    let succeeded = system.intent_with(&id, json!({"status": "succeeded"}));
    system
        .stripe_event("payment_intent.succeeded", &succeeded)
        .await;
    system.drain().await;

    let dead = system.dead_letters(Source::Stripe).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attributes["failure_kind"], "kentico_rejected");
    assert!(
        dead[0].attributes["failure_reason"].contains("does not accept the value"),
        "{:?}",
        dead[0].attributes
    );
    assert_eq!(dead[0].attributes["event_type"], "payment_intent.succeeded");
}

#[tokio::test]
async fn an_unmappable_order_is_dead_lettered_with_the_field_and_a_suggestion() {
    let system = System::start(&[]).await;
    let mut bad = order(4004, "USD", ("10.00", "5.00"), "25.00");
    bad["OrderCurrencyCode"] = json!("US Dollar");

    system
        .kentico_order_event("ecommerce.order.created", &bad)
        .await;
    system.drain().await;

    assert!(system.created_intents().is_empty(), "never guess silently");
    let dead = system.dead_letters(Source::Kentico).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attributes["failure_kind"], "mapping_mismatch");
    assert_eq!(
        dead[0].attributes.get("failure_field").map(String::as_str),
        Some("OrderCurrencyCode"),
        "{:?}",
        dead[0].attributes
    );
    assert_eq!(dead[0].attributes["failure_suggestion"], "USD");
    assert!(
        dead[0].attributes["failure_reason"].contains("did you mean USD?"),
        "{:?}",
        dead[0].attributes
    );
}

#[tokio::test]
async fn events_for_payment_intents_paybridge_did_not_create_are_ignored_and_counted() {
    let system = System::start(&[]).await;
    let foreign = json!({"id": "pi_foreign", "object": "payment_intent", "amount": 500, "currency": "usd",
        "status": "succeeded", "metadata": {}, "created": 1764417600, "livemode": false});

    assert_eq!(
        system
            .stripe_event("payment_intent.succeeded", &foreign)
            .await,
        202
    );
    system.stripe_event("charge.refund.updated", &foreign).await;
    system.drain().await;

    assert_eq!(
        system.worker_count("payment-worker", "payment_intent.succeeded", "ignored"),
        1
    );
    assert_eq!(
        system.worker_count("payment-worker", "charge.refund.updated", "ignored"),
        1
    );
    assert!(system.kentico.requests().is_empty());
    assert!(system.dead_letters(Source::Stripe).await.is_empty());
    assert_eq!(system.metrics.count("ForeignPayments", &[]), 1);
}
