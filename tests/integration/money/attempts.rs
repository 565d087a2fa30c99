//! One payable object per order at a time: declines reuse it, a cancellation closes everything,
//! events of a superseded attempt are recorded but not applied.

use serde_json::{Value, json};

use super::{
    Bridge, PAID, PAYMENT_AUTHORIZED, PAYMENT_FAILED, PAYMENT_PENDING, T0, both_backends, changed,
    declined, id, kentico_order, last_intent, order, paid_writes,
};

const RETRY_URL: &str = "https://shop.example/pay?order={order_guid}";

fn custom_data(bridge: &dyn Bridge, order_id: i64) -> String {
    kentico_order(bridge, order_id)["OrderCustomData"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn two_declines_then_a_success_reuse_the_one_payment_intent(bridge: &dyn Bridge) {
    bridge
        .kentico_says("ecommerce.order.created", &order(201, "USD", "129.90", T0))
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));

    for _ in 0..2 {
        bridge.stripe().set_payment_intent(&intent, declined());
        let failed = bridge.stripe().payment_intent(&intent).unwrap();
        bridge
            .stripe_says("payment_intent.payment_failed", &failed)
            .await;
        bridge.drain().await;
        assert_eq!(kentico_order(bridge, 201)["OrderStatusID"], PAYMENT_FAILED);
        assert_eq!(
            bridge.stripe().payable_objects(),
            std::slice::from_ref(&intent),
            "the order's PaymentIntent is its only payable object"
        );
    }
    let written = custom_data(bridge, 201);
    assert!(
        written.contains("<StripeRetryUrl>https://shop.example/pay?order=00000000-0000-4000-8000-000000000201</StripeRetryUrl>"),
        "{written}"
    );
    assert!(
        written.contains("card_declined (generic_decline)"),
        "{written}"
    );
    assert!(bridge.stripe().checkout_sessions().is_empty());

    let paid = bridge.stripe().succeed_payment_intent(&intent);
    bridge.stripe_says("payment_intent.succeeded", &paid).await;
    bridge.drain().await;

    assert_eq!(kentico_order(bridge, 201)["OrderStatusID"], PAID);
    assert_eq!(kentico_order(bridge, 201)["OrderIsPaid"], true);
    assert!(bridge.stripe().payable_objects().is_empty());
    assert_eq!(bridge.stripe().payment_intents().len(), 1);
}
both_backends!(
    two_declines_then_a_success_reuse_the_one_payment_intent,
    &[("PAYMENT_RETRY_URL", RETRY_URL)]
);

async fn two_declines_then_a_success_in_checkout_reuse_the_open_session(bridge: &dyn Bridge) {
    bridge
        .kentico_says("ecommerce.order.created", &order(202, "EUR", "42.00", T0))
        .await;
    bridge.drain().await;
    let sessions = bridge.stripe().checkout_sessions();
    assert_eq!(sessions.len(), 1);
    let session = id(&sessions[0]);
    let url = sessions[0]["url"].as_str().unwrap().to_string();
    assert!(custom_data(bridge, 202).contains(&url));

    for _ in 0..2 {
        let failed = bridge.stripe().pay_checkout_session(&session, declined());
        bridge
            .stripe_says("payment_intent.payment_failed", &failed)
            .await;
        bridge.drain().await;
        assert_eq!(kentico_order(bridge, 202)["OrderStatusID"], PAYMENT_FAILED);
        assert_eq!(
            bridge.stripe().checkout_sessions().len(),
            1,
            "no second session"
        );
    }
    assert!(
        custom_data(bridge, 202).contains(&format!("<StripeRetryUrl>{url}</StripeRetryUrl>")),
        "the retry link is the order's open session"
    );

    let paid = bridge.stripe().pay_checkout_session(
        &session,
        json!({"status": "succeeded", "last_payment_error": null}),
    );
    bridge.stripe_says("payment_intent.succeeded", &paid).await;
    bridge.drain().await;

    assert_eq!(kentico_order(bridge, 202)["OrderStatusID"], PAID);
    assert!(bridge.stripe().payable_objects().is_empty());
    assert!(bridge.dead_letters().await.is_empty());
}
both_backends!(
    two_declines_then_a_success_in_checkout_reuse_the_open_session,
    &[("PAYMENT_MODE", "checkout")]
);

async fn a_kentico_cancel_after_a_decline_closes_everything(bridge: &dyn Bridge) {
    let placed = order(203, "USD", "25.00", T0);
    bridge
        .kentico_says("ecommerce.order.created", &placed)
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));
    bridge.stripe().set_payment_intent(&intent, declined());
    let failed = bridge.stripe().payment_intent(&intent).unwrap();
    bridge
        .stripe_says("payment_intent.payment_failed", &failed)
        .await;
    bridge.drain().await;

    let canceled = changed(&placed, T0 + 60, json!({"OrderStatusName": "Canceled"}));
    bridge
        .kentico_says("ecommerce.order.updated", &canceled)
        .await;
    bridge.drain().await;

    assert!(bridge.stripe().payable_objects().is_empty());
    assert_eq!(
        bridge.stripe().payment_intent(&intent).unwrap()["status"],
        "canceled"
    );

    // Reinstated in Kentico in another currency: the canceled order stays closed at Stripe.
    let reinstated = changed(
        &placed,
        T0 + 120,
        json!({"OrderStatusName": "New", "OrderCurrencyCode": "EUR"}),
    );
    bridge
        .kentico_says("ecommerce.order.updated", &reinstated)
        .await;
    bridge.drain().await;
    assert!(bridge.stripe().payable_objects().is_empty());
    assert_eq!(bridge.stripe().payment_intents().len(), 1);
}
both_backends!(
    a_kentico_cancel_after_a_decline_closes_everything,
    &[("PAYMENT_RETRY_URL", RETRY_URL)]
);

/// A Checkout-mode order whose customer was declined once in its session: the order, the
/// session's id and the session's PaymentIntent.
async fn declined_in_checkout(bridge: &dyn Bridge, placed: &Value) -> (String, Value) {
    bridge.kentico_says("ecommerce.order.created", placed).await;
    bridge.drain().await;
    let session = id(bridge.stripe().checkout_sessions().last().unwrap());
    let failed = bridge.stripe().pay_checkout_session(&session, declined());
    bridge
        .stripe_says("payment_intent.payment_failed", &failed)
        .await;
    bridge.drain().await;
    (session, failed)
}

async fn a_kentico_cancel_after_a_decline_in_checkout_expires_the_session(bridge: &dyn Bridge) {
    let placed = order(204, "USD", "25.00", T0);
    let (session, _) = declined_in_checkout(bridge, &placed).await;

    let canceled = changed(&placed, T0 + 60, json!({"OrderStatusName": "Canceled"}));
    bridge
        .kentico_says("ecommerce.order.updated", &canceled)
        .await;
    bridge.drain().await;

    assert!(
        bridge.stripe().payable_objects().is_empty(),
        "{:?}",
        bridge.stripe().payable_objects()
    );
    assert_eq!(
        bridge.stripe().checkout_session(&session).unwrap()["status"],
        "expired"
    );
    let expire = (bridge.stripe().requests().into_iter())
        .find(|r| r.path.ends_with("/expire"))
        .expect("the session was expired");
    assert_eq!(
        expire.path,
        format!("/v1/checkout/sessions/{session}/expire")
    );
}
both_backends!(
    a_kentico_cancel_after_a_decline_in_checkout_expires_the_session,
    &[("PAYMENT_MODE", "checkout")]
);

async fn a_cancel_releases_an_authorization_and_a_payment_that_succeeds_anyway_is_parked(
    bridge: &dyn Bridge,
) {
    // Two orders with manual capture: one authorized, one whose bank debit is processing.
    let authorized = order(205, "EUR", "60.00", T0);
    let processing = order(206, "EUR", "70.00", T0);
    for placed in [&authorized, &processing] {
        bridge.kentico_says("ecommerce.order.created", placed).await;
    }
    bridge.drain().await;
    let of_order = |order_id: &str| {
        let intents = bridge.stripe().payment_intents();
        let found = intents
            .iter()
            .find(|p| p["metadata"]["kentico_order_id"] == order_id);
        id(found.expect("the order's PaymentIntent"))
    };
    let (held, moving) = (of_order("205"), of_order("206"));
    bridge
        .stripe()
        .set_payment_intent(&held, json!({"status": "requires_capture"}));
    let event = bridge.stripe().payment_intent(&held).unwrap();
    bridge
        .stripe_says("payment_intent.amount_capturable_updated", &event)
        .await;
    bridge
        .stripe()
        .set_payment_intent(&moving, json!({"status": "processing"}));
    let event = bridge.stripe().payment_intent(&moving).unwrap();
    bridge
        .stripe_says("payment_intent.processing", &event)
        .await;
    bridge.drain().await;
    assert_eq!(
        kentico_order(bridge, 205)["OrderStatusID"],
        PAYMENT_AUTHORIZED
    );
    assert_eq!(kentico_order(bridge, 206)["OrderStatusID"], PAYMENT_PENDING);

    for placed in [&authorized, &processing] {
        let canceled = changed(placed, T0 + 60, json!({"OrderStatusName": "Canceled"}));
        bridge
            .kentico_says("ecommerce.order.updated", &canceled)
            .await;
    }
    bridge.drain().await;
    assert_eq!(
        bridge.stripe().payment_intent(&held).unwrap()["status"],
        "canceled",
        "the authorization is released"
    );
    assert_eq!(
        bridge.stripe().payment_intent(&moving).unwrap()["status"],
        "processing"
    );

    let paid = bridge.stripe().succeed_payment_intent(&moving);
    bridge.stripe_says("payment_intent.succeeded", &paid).await;
    bridge.drain().await;

    assert_eq!(paid_writes(bridge), 0);
    assert_ne!(kentico_order(bridge, 206)["OrderStatusID"], PAID);
    let dead = bridge.dead_of_kind("paid_after_cancel").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["failure_payment"], moving);
    assert_eq!(bridge.metric("PaidAfterCancel").await, 1);
}
both_backends!(
    a_cancel_releases_an_authorization_and_a_payment_that_succeeds_anyway_is_parked,
    &[("CAPTURE_METHOD", "manual")]
);

async fn a_canceled_superseded_attempt_does_not_overrule_a_processing_payment(bridge: &dyn Bridge) {
    let placed = order(207, "EUR", "42.00", T0);
    let (_, abandoned) = declined_in_checkout(bridge, &placed).await;
    // The total changes: the first session is expired (its PaymentIntent canceled), a new one opens.
    let bigger = changed(&placed, T0 + 60, json!({"OrderGrandTotal": "50.00"}));
    bridge
        .kentico_says("ecommerce.order.updated", &bigger)
        .await;
    bridge.drain().await;
    let sessions = bridge.stripe().checkout_sessions();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["status"], "expired");
    assert_eq!(sessions[1]["amount_total"], 5000);
    assert_eq!(bridge.stripe().payable_objects(), [id(&sessions[1])]);

    let second = bridge
        .stripe()
        .pay_checkout_session(&id(&sessions[1]), json!({"status": "processing"}));
    bridge
        .stripe_says("payment_intent.processing", &second)
        .await;
    bridge.drain().await;
    let canceled = bridge.stripe().payment_intent(&id(&abandoned)).unwrap();
    assert_eq!(canceled["status"], "canceled");
    bridge
        .stripe_says("payment_intent.canceled", &canceled)
        .await;
    bridge.drain().await;

    assert_eq!(kentico_order(bridge, 207)["OrderStatusID"], PAYMENT_PENDING);
    assert_eq!(bridge.metric("SupersededPaymentEvents").await, 1);
    let paid = bridge.stripe().succeed_payment_intent(&id(&second));
    bridge.stripe_says("payment_intent.succeeded", &paid).await;
    bridge.drain().await;
    assert_eq!(kentico_order(bridge, 207)["OrderStatusID"], PAID);
}
both_backends!(
    a_canceled_superseded_attempt_does_not_overrule_a_processing_payment,
    &[("PAYMENT_MODE", "checkout")]
);
