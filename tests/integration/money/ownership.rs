//! Whose payment counts: only the order's own PaymentIntent, in the key's mode and the order's
//! currency, for what it owes, once.

use serde_json::json;

use super::{Bridge, PAID, T0, both_backends, id, kentico_order, last_intent, order, paid_writes};

async fn a_foreign_payment_naming_an_order_is_dead_lettered_and_never_marks_it_paid(
    bridge: &dyn Bridge,
) {
    bridge
        .kentico_says("ecommerce.order.created", &order(101, "USD", "129.90", T0))
        .await;
    bridge.drain().await;
    let ours = id(&last_intent(bridge));
    // A Payment Link, a Dashboard payment or another integration on the same account: 0.50 EUR
    // whose metadata names the order.
    let foreign = json!({"id": "pi_3ForeignPaymentLink", "object": "payment_intent", "amount": 50,
        "amount_received": 50, "currency": "eur", "status": "succeeded", "livemode": false,
        "metadata": {"kentico_order_id": "101"}, "created": T0});
    let unrelated = json!({"id": "pi_3SomebodyElses", "object": "payment_intent", "amount": 900,
        "amount_received": 900, "currency": "usd", "status": "succeeded", "livemode": false,
        "metadata": {}, "created": T0});

    bridge
        .stripe_says("payment_intent.succeeded", &foreign)
        .await;
    bridge
        .stripe_says("payment_intent.succeeded", &unrelated)
        .await;
    bridge.drain().await;

    assert_ne!(kentico_order(bridge, 101)["OrderStatusID"], PAID);
    assert_eq!(paid_writes(bridge), 0, "nothing was ever written as paid");
    let dead = bridge.dead_of_kind("payment_not_ours").await;
    assert_eq!(
        dead.len(),
        1,
        "only the one naming a real order is parked: {dead:?}"
    );
    assert_eq!(dead[0]["failure_payment"], "pi_3ForeignPaymentLink");
    assert_eq!(bridge.metric("ForeignPayments").await, 2);
    // The order's own PaymentIntent is still the one a cancellation reaches.
    bridge
        .kentico_says(
            "ecommerce.order.updated",
            &super::changed(
                &order(101, "USD", "129.90", T0),
                T0 + 60,
                json!({"OrderStatusName": "Canceled"}),
            ),
        )
        .await;
    bridge.drain().await;
    assert_eq!(
        bridge.stripe().payment_intent(&ours).unwrap()["status"],
        "canceled"
    );
    // trace shows the parked payment with its reason.
    let trace = bridge.trace(101).await;
    let parked = trace["dead_letters"].as_array().unwrap();
    assert_eq!(parked.len(), 1, "{trace}");
    assert_eq!(parked[0]["attributes"]["failure_kind"], "payment_not_ours");
    let outcomes: Vec<&str> = (trace["events"].as_array().unwrap().iter())
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert!(outcomes.contains(&"dead_lettered"), "{trace}");
}
both_backends!(
    a_foreign_payment_naming_an_order_is_dead_lettered_and_never_marks_it_paid,
    &[]
);

async fn a_payment_for_less_than_the_order_owes_is_dead_lettered_as_underpaid(bridge: &dyn Bridge) {
    bridge
        .kentico_says("ecommerce.order.created", &order(102, "USD", "129.90", T0))
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));
    // A partial capture: 50.00 of 129.90.
    bridge.stripe().set_payment_intent(
        &intent,
        json!({"status": "succeeded", "amount_received": 5000}),
    );
    let event = bridge.stripe().payment_intent(&intent).unwrap();

    bridge.stripe_says("payment_intent.succeeded", &event).await;
    bridge.drain().await;

    assert_ne!(kentico_order(bridge, 102)["OrderStatusID"], PAID);
    assert_eq!(paid_writes(bridge), 0);
    let dead = bridge.dead_of_kind("underpaid").await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0]["failure_reason"].contains("received 5000 but order 102 owes 12990"));
    assert_eq!(bridge.metric("UnderpaidPayments").await, 1);
}
both_backends!(
    a_payment_for_less_than_the_order_owes_is_dead_lettered_as_underpaid,
    &[]
);

async fn a_live_mode_event_for_a_test_mode_integration_is_not_applied(bridge: &dyn Bridge) {
    bridge
        .kentico_says("ecommerce.order.created", &order(103, "EUR", "25.00", T0))
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));
    let paid = bridge.stripe().succeed_payment_intent(&intent);

    // A live-mode endpoint secret left in the rotation list delivers a live event. The
    // ingress knows the deployment's mode (STRIPE_MODE, or serve's key): it acknowledges the
    // event (Stripe stops retrying) and does not enqueue it. The worker's own check behind it
    // is the next test's.
    let status = bridge
        .stripe_says_in_mode("payment_intent.succeeded", &paid, true)
        .await;
    assert_eq!(status, 200);
    bridge.drain().await;

    assert_ne!(kentico_order(bridge, 103)["OrderStatusID"], PAID);
    assert!(bridge.dead_letters().await.is_empty());
}
both_backends!(
    a_live_mode_event_for_a_test_mode_integration_is_not_applied,
    &[]
);

async fn a_live_mode_payment_behind_a_test_mode_event_is_dead_lettered_by_the_worker(
    bridge: &dyn Bridge,
) {
    bridge
        .kentico_says("ecommerce.order.created", &order(107, "EUR", "25.00", T0))
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));
    let mut paid = bridge.stripe().succeed_payment_intent(&intent);
    // The event passes the ingress's mode check; its object does not pass the worker's.
    paid["livemode"] = true.into();
    bridge.stripe_says("payment_intent.succeeded", &paid).await;
    bridge.drain().await;

    assert_ne!(kentico_order(bridge, 107)["OrderStatusID"], PAID);
    let dead = bridge.dead_of_kind("payment_not_ours").await;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]["failure_reason"].contains("live-mode payment"),
        "{dead:?}"
    );
    assert_eq!(bridge.metric("ForeignPayments").await, 1);
}
both_backends!(
    a_live_mode_payment_behind_a_test_mode_event_is_dead_lettered_by_the_worker,
    &[]
);

async fn a_payment_in_another_currency_than_the_orders_is_not_applied(bridge: &dyn Bridge) {
    bridge
        .kentico_says("ecommerce.order.created", &order(104, "USD", "90.00", T0))
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));
    // Someone changed the PaymentIntent outside paybridge (Dashboard, API) and it was paid.
    bridge
        .stripe()
        .set_payment_intent(&intent, json!({"currency": "jpy", "amount": 9000}));
    let paid = bridge.stripe().succeed_payment_intent(&intent);

    bridge.stripe_says("payment_intent.succeeded", &paid).await;
    bridge.drain().await;

    assert_ne!(kentico_order(bridge, 104)["OrderStatusID"], PAID);
    let dead = bridge.dead_of_kind("currency_mismatch").await;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]["failure_reason"].contains("order 104 is in usd"),
        "{dead:?}"
    );
}
both_backends!(
    a_payment_in_another_currency_than_the_orders_is_not_applied,
    &[]
);

/// An order paid by its second PaymentIntent (after a currency change) whose first one also
/// succeeds: the first payment is dead-lettered, never written as paid again.
async fn double_payment(bridge: &dyn Bridge) -> String {
    let first = order(105, "USD", "25.00", T0);
    bridge.kentico_says("ecommerce.order.created", &first).await;
    bridge.drain().await;
    let usd = id(&last_intent(bridge));
    bridge
        .kentico_says(
            "ecommerce.order.updated",
            &super::changed(&first, T0 + 60, json!({"OrderCurrencyCode": "EUR"})),
        )
        .await;
    bridge.drain().await;
    let eur = id(&last_intent(bridge));
    assert_ne!(usd, eur);
    let paid = bridge.stripe().succeed_payment_intent(&eur);
    bridge.stripe_says("payment_intent.succeeded", &paid).await;
    bridge.drain().await;
    assert_eq!(kentico_order(bridge, 105)["OrderStatusID"], PAID);
    assert_eq!(paid_writes(bridge), 1);

    // The customer's confirmation of the first one raced its cancellation at Stripe.
    let again = bridge.stripe().succeed_payment_intent(&usd);
    bridge.stripe_says("payment_intent.succeeded", &again).await;
    bridge.drain().await;

    assert_eq!(paid_writes(bridge), 1, "never written as paid again");
    let dead = bridge.dead_of_kind("double_payment").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["failure_payment"], usd);
    assert!(dead[0]["failure_reason"].contains(&format!("already paid by {eur}")));
    assert_eq!(bridge.metric("DoublePayments").await, 1);
    usd
}

async fn a_second_success_for_a_paid_order_is_a_double_payment_not_refunded_by_default(
    bridge: &dyn Bridge,
) {
    double_payment(bridge).await;
    assert!(bridge.stripe().refunds().is_empty());
    let dead = bridge.dead_of_kind("double_payment").await;
    assert!(dead[0]["failure_reason"].contains("not refunded"));
}
both_backends!(
    a_second_success_for_a_paid_order_is_a_double_payment_not_refunded_by_default,
    &[]
);

async fn a_double_payment_is_refunded_once_when_enabled(bridge: &dyn Bridge) {
    let usd = double_payment(bridge).await;
    let refunds = bridge.stripe().refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["payment_intent"], usd.as_str());
    assert_eq!(refunds[0]["reason"], "duplicate");
    assert_eq!(refunds[0]["amount"], 2500);
    let dead = bridge.dead_of_kind("double_payment").await;
    assert_eq!(
        dead[0]["failure_refund"],
        refunds[0]["id"].as_str().unwrap()
    );
    let refund_keys: Vec<_> = (bridge.stripe().requests().into_iter())
        .filter(|r| r.path == "/v1/refunds")
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(
        refund_keys,
        [Some(format!("paybridge-refund-double-{usd}"))]
    );
}
both_backends!(
    a_double_payment_is_refunded_once_when_enabled,
    &[("REFUND_DOUBLE_PAYMENTS", "true")]
);
