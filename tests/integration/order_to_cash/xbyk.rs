//! The order-to-cash path on Xperience by Kentico (`KENTICO_PLATFORM=xbyk`): the package's
//! signed events in, the package's signed status endpoint out (its fake checks every request
//! against the contract: signature, headers, body, status code names).

use integration_tests::fakes::xbyk::sample_order;
use paybridge::webhook::Source;
use serde_json::{Value, json};

use super::harness::{System, uuid_like};

/// Places an XbyK order and drains; returns (its GUID, its one PaymentIntent).
async fn placed(system: &System, order_id: i64) -> (String, Value) {
    let guid = uuid_like();
    let order = sample_order(order_id, &guid);
    assert_eq!(
        system
            .xbyk_order_event("ecommerce.order.created", &order)
            .await,
        202
    );
    system.drain().await;
    let intents: Vec<Value> = (system.created_intents().into_iter())
        .filter(|i| i["metadata"]["kentico_order_guid"] == guid.as_str())
        .collect();
    assert_eq!(intents.len(), 1, "one PaymentIntent for order {order_id}");
    (guid, intents[0].clone())
}

/// Nothing went to Kentico 13's REST service, and the package refused nothing.
fn only_the_package_was_called(system: &System) {
    assert!(
        system.kentico.requests().is_empty(),
        "Kentico 13's REST service was called: {:?}",
        system.kentico.requests()
    );
    assert_eq!(
        system.package().refused(),
        0,
        "{:?}",
        system.package().requests()
    );
}

#[tokio::test]
async fn an_xbyk_order_becomes_one_payment_intent_and_a_success_writes_paid_through_the_package() {
    let system = System::start_xbyk(&[]).await;
    let (guid, intent) = placed(&system, 5101).await;

    // The configured currency (XbyK orders carry none), the order's number, its addresses.
    assert_eq!(intent["amount"], 12_990);
    assert_eq!(intent["currency"], "eur");
    assert_eq!(intent["metadata"]["kentico_order_id"], "5101");
    assert_eq!(intent["metadata"]["kentico_customer_id"], "77");
    assert_eq!(intent["metadata"]["kentico_skus"], "EG-100,FP-20");
    assert_eq!(intent["receipt_email"], "ada@example.com");
    assert_eq!(intent["shipping"]["address"]["state"], "VA");
    let pi = intent["id"].as_str().unwrap().to_string();
    // The PaymentIntent was published to the order (no status yet).
    let writes = system.package().writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0]["status"], Value::Null);
    assert_eq!(writes[0]["payment_reference"], pi.as_str());
    assert_eq!(writes[0]["details"]["StripePaymentIntent"], pi.as_str());

    let succeeded = system.intent_with(
        &pi,
        json!({"status": "succeeded", "amount_received": 12_990}),
    );
    assert_eq!(
        system
            .stripe_event("payment_intent.succeeded", &succeeded)
            .await,
        202
    );
    system.drain().await;

    let order = system.package().order(&guid).unwrap();
    assert_eq!(order["OrderStatusName"], "Paid", "{order}");
    assert_eq!(system.package().status_changes(&guid), vec!["Paid"]);
    let paid = system.package().writes().pop().unwrap();
    assert_eq!(paid["paid"], true);
    assert_eq!(paid["payment_reference"], pi.as_str());
    assert_eq!(paid["details"]["StripePaymentStatus"], "succeeded");
    assert!(
        !paid.to_string().contains("_secret_"),
        "the client secret never reaches the shop: {paid}"
    );
    assert_eq!(order["PaybridgeData"]["paid"], true, "{order}");
    only_the_package_was_called(&system);
}

#[tokio::test]
async fn a_decline_writes_the_failed_status_and_a_later_success_paid() {
    let system = System::start_xbyk(&[]).await;
    let (guid, intent) = placed(&system, 5102).await;
    let pi = intent["id"].as_str().unwrap().to_string();

    let failed = system.intent_with(
        &pi,
        json!({"status": "requires_payment_method",
        "last_payment_error": {"type": "card_error", "code": "card_declined",
            "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}}),
    );
    system
        .stripe_event("payment_intent.payment_failed", &failed)
        .await;
    system.drain().await;

    // "Payment Failed" is found by the shop's display name; the code name is what is set.
    assert_eq!(
        system.package().status_changes(&guid),
        vec!["PaymentFailed"]
    );
    let write = system.package().writes().pop().unwrap();
    assert_eq!(write["status"], "Payment Failed");
    assert_eq!(
        write["details"]["StripeDeclineReason"],
        "card_declined (insufficient_funds): Your card has insufficient funds."
    );

    let succeeded = system.intent_with(
        &pi,
        json!({"status": "succeeded", "last_payment_error": null}),
    );
    system
        .stripe_event("payment_intent.succeeded", &succeeded)
        .await;
    system
        .stripe_event("payment_intent.payment_failed", &failed)
        .await;
    system.drain().await;
    assert_eq!(
        system.package().status_changes(&guid),
        vec!["PaymentFailed", "Paid"],
        "a decline after the success changes nothing"
    );
    only_the_package_was_called(&system);
}

#[tokio::test]
async fn duplicate_and_stale_xbyk_events_change_nothing_twice() {
    let system = System::start_xbyk(&[]).await;
    let guid = uuid_like();
    let order = sample_order(5103, &guid);
    for _ in 0..3 {
        system
            .xbyk_order_event("ecommerce.order.created", &order)
            .await;
    }
    system.drain().await;
    assert_eq!(system.created_intents().len(), 1);
    let pi = system.created_intents()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // An older state of the order arrives late: ignored, not applied.
    let mut stale = order.clone();
    stale["OrderModifiedWhen"] = json!("2020-01-01T00:00:00Z");
    stale["OrderGrandTotal"] = json!("99.00");
    system
        .xbyk_order_event("ecommerce.order.updated", &stale)
        .await;
    system.drain().await;
    assert_eq!(system.stripe.payment_intent(&pi).unwrap()["amount"], 12_990);
    assert_eq!(system.metrics.count("StaleOrderUpdates", &[]), 1);

    // The same Stripe event delivered twice, and the same success in a second event.
    let succeeded = system.intent_with(
        &pi,
        json!({"status": "succeeded", "amount_received": 12_990}),
    );
    let body = integration_tests::fakes::stripe::FakeStripe::event_body(
        "evt_xbyk_dup_1",
        "payment_intent.succeeded",
        &succeeded,
    );
    system.post_stripe(&body).await;
    system.post_stripe(&body).await;
    system
        .stripe_event("payment_intent.succeeded", &succeeded)
        .await;
    system.drain().await;

    assert_eq!(system.package().status_changes(&guid), vec!["Paid"]);
    assert_eq!(system.created_intents().len(), 1);
    only_the_package_was_called(&system);
}

#[tokio::test]
async fn a_package_that_is_down_is_retried_and_the_write_lands_once() {
    let system = System::start_xbyk(&[]).await;
    let (guid, intent) = placed(&system, 5104).await;
    let pi = intent["id"].as_str().unwrap().to_string();

    system.package().fail_next(3, 503, "Service Unavailable");
    let succeeded = system.intent_with(
        &pi,
        json!({"status": "succeeded", "amount_received": 12_990}),
    );
    system
        .stripe_event("payment_intent.succeeded", &succeeded)
        .await;
    system.drain().await;

    assert_eq!(system.package().status_changes(&guid), vec!["Paid"]);
    assert!(system.dead_letters(Source::Stripe).await.is_empty());
}

#[tokio::test]
async fn an_unknown_status_and_a_refused_signature_are_dead_lettered_with_their_reasons() {
    // The mapped status for a success does not exist in the shop.
    let system = System::start_xbyk(&[("KENTICO_STATUS_MAP", "succeeded=Paidd")]).await;
    let (guid, intent) = placed(&system, 5105).await;
    let pi = intent["id"].as_str().unwrap().to_string();
    let succeeded = system.intent_with(
        &pi,
        json!({"status": "succeeded", "amount_received": 12_990}),
    );
    system
        .stripe_event("payment_intent.succeeded", &succeeded)
        .await;
    system.drain().await;

    let dead = system.dead_letters(Source::Stripe).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].attributes["failure_kind"], "kentico_status_unknown");
    assert!(
        dead[0].attributes["failure_reason"].contains("Paidd"),
        "{:?}",
        dead[0].attributes
    );
    assert_eq!(
        dead[0]
            .attributes
            .get("failure_suggestion")
            .map(String::as_str),
        Some("Paid")
    );
    assert!(system.package().status_changes(&guid).is_empty());

    // The package holds another secret than paybridge signs with.
    let system = System::start_xbyk(&[]).await;
    system
        .package()
        .set_secrets(&["another_secret_of_the_package"]);
    let order = sample_order(5106, &uuid_like());
    system
        .xbyk_order_event("ecommerce.order.created", &order)
        .await;
    system.drain().await;
    let dead = system.dead_letters(Source::Kentico).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].attributes["failure_kind"], "kentico_unauthorized");
    assert!(
        dead[0].attributes["failure_reason"].contains("KENTICO_WEBHOOK_SECRETS"),
        "{:?}",
        dead[0].attributes
    );
}

#[tokio::test]
async fn a_separate_api_secret_signs_the_requests_when_the_package_keeps_one() {
    let api_secret = "the_package_api_secret_for_paybridge";
    let system = System::start_xbyk(&[("KENTICO_API_SECRET", api_secret)]).await;
    // Paybridge:ApiSecrets set: the package checks requests against it alone.
    system.package().set_secrets(&[api_secret]);
    let (guid, intent) = placed(&system, 5109).await;
    let pi = intent["id"].as_str().unwrap().to_string();
    let succeeded = system.intent_with(
        &pi,
        json!({"status": "succeeded", "amount_received": 12_990}),
    );
    system
        .stripe_event("payment_intent.succeeded", &succeeded)
        .await;
    system.drain().await;

    assert_eq!(system.package().status_changes(&guid), vec!["Paid"]);
    only_the_package_was_called(&system);
}

#[tokio::test]
async fn an_event_of_the_other_platform_is_refused_by_name() {
    // A Kentico 13 order sent to an XbyK deployment, and an XbyK order to a Kentico 13 one.
    let xbyk = System::start_xbyk(&[]).await;
    let k13_order = super::harness::order(5107, "USD", ("10.00", "5.00"), "25.00");
    xbyk.kentico_order_event("ecommerce.order.created", &k13_order)
        .await;
    xbyk.drain().await;
    let k13 = System::start(&[]).await;
    let body = json!({"id": uuid_like(), "type": "ecommerce.order.created",
        "created": integration_tests::now_unix(), "site": "DancingGoat", "platform": "xbyk",
        "data": {"object": sample_order(5108, &uuid_like())}});
    k13.post_kentico(&body.to_string()).await;
    k13.drain().await;

    for (system, configured) in [
        (&xbyk, "Xperience by Kentico"),
        (&k13, "Kentico Xperience 13"),
    ] {
        let dead = system.dead_letters(Source::Kentico).await;
        assert_eq!(dead.len(), 1, "{dead:?}");
        assert_eq!(dead[0].attributes["failure_kind"], "mapping_mismatch");
        assert_eq!(dead[0].attributes["failure_field"], "platform");
        assert!(
            dead[0].attributes["failure_reason"]
                .contains(&format!("KENTICO_PLATFORM is {configured}")),
            "{:?}",
            dead[0].attributes
        );
        assert!(system.created_intents().is_empty());
    }
}

/// The reconciliation on Xperience by Kentico: the package's list and order routes are read, a
/// payment whose webhook was missed is found (the order shows no `paid` in `PaybridgeData`)
/// and healed through the package; a paid order is not reported.
#[tokio::test]
async fn the_reconciliation_reads_the_package_and_heals_a_missed_payment() {
    let system = System::start_xbyk(&[]).await;
    let (missed_guid, missed) = placed(&system, 5201).await;
    let (paid_guid, paid) = placed(&system, 5202).await;
    for intent in [&missed, &paid] {
        let id = intent["id"].as_str().unwrap();
        system.intent_with(
            id,
            json!({"status": "succeeded", "amount_received": 12_990}),
        );
    }
    let succeeded = system
        .stripe
        .payment_intent(paid["id"].as_str().unwrap())
        .unwrap();
    system
        .stripe_event("payment_intent.succeeded", &succeeded)
        .await;
    system.drain().await;
    assert_eq!(system.package().status_changes(&paid_guid), vec!["Paid"]);

    let env = system.env.clone();
    let get = move |name: &str| env.get(name).cloned();
    let lambda = paybridge::app::LambdaEnv {
        env: &get,
        sdk: integration_tests::moto::sdk_config().await,
        metrics: system.metrics.clone(),
        clock: std::sync::Arc::new(paybridge::clock::SystemClock),
    };
    let (sweep, _) = paybridge::app::lambda::reconciler_with(&lambda)
        .await
        .expect("the reconciler starts on xbyk");
    let since = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let paid_not_marked = |report: &paybridge::reconcile::reports::Report| {
        (report.findings.iter())
            .filter(|f| f.discrepancy.kind() == "paid_not_marked")
            .filter_map(|f| f.discrepancy.order_id())
            .collect::<Vec<_>>()
    };

    let report = sweep.run(since, true).await.expect("the sweep runs");
    assert_eq!(paid_not_marked(&report), vec![5201], "{report:?}");
    assert_eq!(report.checked.orders, 2, "{report:?}");
    assert!(
        (system.package().requests().iter())
            .any(|r| r.path == "/paybridge/orders" && r.query.contains("modified_since=")),
        "the orders were listed through the package"
    );
    system.drain().await;
    assert_eq!(system.package().status_changes(&missed_guid), vec!["Paid"]);

    let report = sweep.run(since, false).await.expect("the sweep runs again");
    assert!(paid_not_marked(&report).is_empty(), "{report:?}");
    only_the_package_was_called(&system);
}

/// XbyK customers reach Stripe as Kentico 13 ones do; a change made at Stripe is not written
/// back (the package has no customer endpoint): ignored on purpose, not dead-lettered.
#[tokio::test]
async fn customers_reach_stripe_and_stripe_changes_are_ignored_on_xbyk() {
    let system = System::start_xbyk(&[("CUSTOMER_FIELD_OWNERS", "name=stripe")]).await;
    let created = json!({"id": uuid_like(), "type": "ecommerce.customer.created",
        "created": integration_tests::now_unix(), "site": "DancingGoat", "platform": "xbyk",
        "data": {"object": {"CustomerID": 77, "CustomerGUID": "0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10",
            "CustomerEmail": "ada@example.com", "CustomerFirstName": "Ada",
            "CustomerLastName": "Lovelace", "CustomerPhone": "+44 20 7946 0000"}}});
    assert_eq!(system.post_kentico(&created.to_string()).await, 202);
    system.drain().await;
    let customers = system.stripe.customers();
    assert_eq!(customers.len(), 1, "{customers:?}");
    assert_eq!(customers[0]["email"], "ada@example.com");

    let mut renamed = customers[0].clone();
    renamed["name"] = json!("Ada King");
    let id = format!("evt_{}", uuid_like().replace('-', ""));
    let mut event: Value =
        serde_json::from_str(&integration_tests::fakes::stripe::FakeStripe::event_body(
            &id,
            "customer.updated",
            &renamed,
        ))
        .unwrap();
    event["data"]["previous_attributes"] = json!({"name": "Ada Lovelace"});
    assert_eq!(system.post_stripe(&event.to_string()).await, 202);
    system.drain().await;

    assert_eq!(
        system.worker_count("payment-worker", "customer.updated", "ignored"),
        1
    );
    assert!(system.dead_letters(Source::Stripe).await.is_empty());
    assert!(system.dead_letters(Source::Kentico).await.is_empty());
    only_the_package_was_called(&system);
}
