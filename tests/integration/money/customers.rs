//! Customers both ways: one Stripe Customer per Kentico customer however often and concurrently
//! its events (and its orders) come; an update that changes a field Stripe shows is written
//! once, one that changes nothing makes no call; Stripe-owned fields go back to Kentico; echoes
//! of paybridge's own writes stop. Subscriptions and invoices are recorded; an order's invoice
//! follows the order path.

use serde_json::{Value, json};

use super::{
    Bridge, PAID, PAYMENT_FAILED, T0, both_backends, id, kentico_order, last_intent, order,
    paid_writes,
};
use crate::order_to_cash::harness::{kentico_event_body, uuid_like};
use integration_tests::fakes::stripe::FakeStripe;

fn customer(name: &str) -> Value {
    json!({"CustomerID": 77, "CustomerGUID": "0b1c2d3e-0000-4000-8000-000000000077",
        "CustomerEmail": "zoe@example.com", "CustomerFirstName": "Zoë", "CustomerLastName": name,
        "CustomerPhone": "+49 30 1234567"})
}

fn event(event_type: &str, object: &Value) -> String {
    json!({"id": uuid_like(), "type": event_type, "created": integration_tests::now_unix(),
        "site": "DancingGoat", "data": {"object": object}})
    .to_string()
}

fn customer_calls(bridge: &dyn Bridge) -> Vec<String> {
    (bridge.stripe().requests().into_iter())
        .filter(|r| r.path.starts_with("/v1/customers"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

async fn a_kentico_customer_has_one_stripe_customer_kept_in_step(bridge: &dyn Bridge) {
    let created = event("ecommerce.customer.created", &customer("Müller"));
    let bodies: Vec<String> = (0..4).map(|_| created.clone()).collect();
    let posts = bodies.iter().map(|body| bridge.post_kentico(body));
    for status in futures::future::join_all(posts).await {
        assert_eq!(status, 202);
    }
    // A second, distinct event saying the same: nothing to write.
    assert_eq!(
        bridge
            .post_kentico(&event("ecommerce.customer.updated", &customer("Müller")))
            .await,
        202
    );
    bridge.drain().await;

    let customers = bridge.stripe().customers();
    assert_eq!(customers.len(), 1, "one Stripe Customer: {customers:?}");
    assert_eq!(customers[0]["name"], "Zoë Müller");
    assert_eq!(customers[0]["metadata"]["kentico_customer_id"], "77");
    assert_eq!(customers[0]["metadata"]["kentico_site"], "DancingGoat");
    assert_eq!(
        customer_calls(bridge),
        ["POST /v1/customers"],
        "created once, nothing else"
    );

    let renamed = event("ecommerce.customer.updated", &customer("Schmidt"));
    assert_eq!(bridge.post_kentico(&renamed).await, 202);
    assert_eq!(bridge.post_kentico(&renamed).await, 202);
    bridge.drain().await;
    let id = customers[0]["id"].as_str().unwrap();
    assert_eq!(
        customer_calls(bridge),
        [
            "POST /v1/customers".to_string(),
            format!("POST /v1/customers/{id}")
        ],
        "the rename is written once"
    );
    assert_eq!(bridge.stripe().customers()[0]["name"], "Zoë Schmidt");
    assert!(bridge.dead_letters().await.is_empty());
}

both_backends!(a_kentico_customer_has_one_stripe_customer_kept_in_step, &[]);

/// A Stripe customer event, `previous_attributes` naming what changed.
fn stripe_event(event_type: &str, object: &Value, previous: Value) -> String {
    let id = format!("evt_{}", uuid_like().replace('-', ""));
    let mut body: Value = serde_json::from_str(
        &integration_tests::fakes::stripe::FakeStripe::event_body(&id, event_type, object),
    )
    .unwrap();
    body["data"]["previous_attributes"] = previous;
    body.to_string()
}

fn kentico_customer_writes(bridge: &dyn Bridge) -> usize {
    (bridge.kentico().requests().into_iter())
        .filter(|r| r.method == "PUT" && r.path == "/rest/ecommerce.customer/77")
        .count()
}

async fn stripe_owned_fields_reach_kentico_and_echoes_stop_both_ways(bridge: &dyn Bridge) {
    let created = event("ecommerce.customer.created", &customer("Müller"));
    assert_eq!(bridge.post_kentico(&created).await, 202);
    bridge.drain().await;
    let mut stripe_customer = bridge.stripe().customers()[0].clone();
    assert_eq!(
        stripe_customer["name"],
        Value::Null,
        "Stripe owns the name: not sent"
    );
    assert_eq!(stripe_customer["email"], "zoe@example.com");

    // Someone renames the customer in the Stripe Dashboard, and changes the e-mail there too.
    let stripe_id = id(&stripe_customer);
    let edit = json!({"name": "Zoë Schmidt", "email": "zoe@elsewhere.example"});
    bridge.stripe().edit_customer(&stripe_id, edit);
    bridge.kentico().add_customer(customer("Müller"));
    stripe_customer = bridge.stripe().customers()[0].clone();
    let renamed = stripe_event(
        "customer.updated",
        &stripe_customer,
        json!({"name": null, "email": "zoe@example.com"}),
    );
    assert_eq!(bridge.post_stripe(&renamed).await, 202);
    bridge.drain().await;
    assert_eq!(kentico_customer_writes(bridge), 1);
    let kentico = bridge.kentico().customer(77).unwrap();
    assert_eq!(kentico["CustomerFirstName"], "Zoë");
    assert_eq!(kentico["CustomerLastName"], "Schmidt");
    assert_eq!(
        kentico["CustomerEmail"], "zoe@example.com",
        "Kentico owns the e-mail"
    );
    assert_eq!(
        bridge.stripe().customers()[0]["email"],
        "zoe@example.com",
        "and its value is restored at Stripe"
    );

    // The same change told again by Stripe, and Kentico's event for paybridge's own write:
    // both are echoes, nothing is written anywhere.
    let again = stripe_event("customer.updated", &stripe_customer, json!({"name": null}));
    assert_eq!(bridge.post_stripe(&again).await, 202);
    let echo = event("ecommerce.customer.updated", &customer("Schmidt"));
    assert_eq!(bridge.post_kentico(&echo).await, 202);
    bridge.drain().await;
    assert_eq!(
        kentico_customer_writes(bridge),
        1,
        "no second Kentico write"
    );
    assert_eq!(
        customer_calls(bridge),
        [
            "POST /v1/customers".to_string(),
            format!("GET /v1/customers/{stripe_id}"),
            format!("POST /v1/customers/{stripe_id}"),
        ],
        "one restoring write, nothing for the echoes"
    );

    // Somebody else's Stripe customer: ignored on purpose.
    let stranger = json!({"id": "cus_stranger", "object": "customer", "name": "X", "metadata": {}});
    let foreign = stripe_event("customer.updated", &stranger, json!({"name": "Y"}));
    assert_eq!(bridge.post_stripe(&foreign).await, 202);
    // Not linked, but its metadata names a Kentico customer without a Stripe Customer: linked.
    let named = json!({"id": "cus_named", "object": "customer", "name": "Ada Byron",
        "email": null, "phone": null, "metadata": {"kentico_customer_id": "88"}});
    let adopted = stripe_event("customer.updated", &named, json!({"name": "Ada"}));
    assert_eq!(bridge.post_stripe(&adopted).await, 202);
    // Deleted at Stripe: unlinked, never deleted in Kentico.
    let deleted = stripe_event("customer.deleted", &stripe_customer, json!(null));
    assert_eq!(bridge.post_stripe(&deleted).await, 202);
    bridge.drain().await;
    assert!(bridge.kentico().customer(77).is_some());
    assert_eq!(
        bridge.kentico().customer(88).unwrap()["CustomerLastName"],
        "Byron"
    );
    assert_eq!(bridge.metric("UnlinkedCustomerEvents").await, 1);
    assert!(bridge.dead_letters().await.is_empty());
}

both_backends!(
    stripe_owned_fields_reach_kentico_and_echoes_stop_both_ways,
    &[("CUSTOMER_FIELD_OWNERS", "name=stripe")]
);

/// The `customer.updated` Stripe sends after paybridge's own write: the fake's customer as it is
/// now, `previous` naming what the write changed.
fn echo_of_stripe_write(bridge: &dyn Bridge, previous: Value) -> String {
    let now = bridge.stripe().customers()[0].clone();
    stripe_event("customer.updated", &now, previous)
}

async fn a_round_trip_from_kentico_ends_in_an_echo(bridge: &dyn Bridge) {
    let created = event("ecommerce.customer.created", &customer("Müller"));
    assert_eq!(bridge.post_kentico(&created).await, 202);
    bridge.drain().await;
    let first = echo_of_stripe_write(bridge, json!(null));
    let first = first.replace("customer.updated", "customer.created");
    assert_eq!(bridge.post_stripe(&first).await, 202);
    bridge.drain().await;
    let renamed = event("ecommerce.customer.updated", &customer("Schmidt"));
    assert_eq!(bridge.post_kentico(&renamed).await, 202);
    bridge.drain().await;
    let echo = echo_of_stripe_write(bridge, json!({"name": "Zoë Müller"}));
    assert_eq!(bridge.post_stripe(&echo).await, 202);
    bridge.drain().await;

    let id = id(&bridge.stripe().customers()[0]);
    assert_eq!(
        customer_calls(bridge),
        [
            "POST /v1/customers".to_string(),
            format!("POST /v1/customers/{id}")
        ],
        "one creation, one update, nothing more"
    );
    assert_eq!(kentico_customer_writes(bridge), 0, "nothing written back");
    assert_eq!(bridge.metric("CustomerEchoes").await, 2);
    assert!(bridge.dead_letters().await.is_empty());
}

both_backends!(a_round_trip_from_kentico_ends_in_an_echo, &[]);

async fn an_order_and_its_customer_racing_make_one_stripe_customer(bridge: &dyn Bridge) {
    let mut placed = order(301, "EUR", "42.00", T0);
    placed["Customer"] = customer("Müller");
    let order_event = kentico_event_body(bridge.kentico(), "ecommerce.order.created", &placed);
    let created = event("ecommerce.customer.created", &customer("Müller"));
    let mut bodies = vec![order_event];
    bodies.extend((0..10).map(|_| created.clone()));
    let posts = bodies.iter().map(|body| bridge.post_kentico(body));
    for status in futures::future::join_all(posts).await {
        assert_eq!(status, 202);
    }
    bridge.drain().await;

    let customers = bridge.stripe().customers();
    assert_eq!(customers.len(), 1, "one Stripe Customer: {customers:?}");
    let intent = last_intent(bridge);
    assert_eq!(intent["customer"], customers[0]["id"], "{intent}");
    assert_eq!(intent["metadata"]["kentico_customer_id"], "77");
    assert!(bridge.dead_letters().await.is_empty());

    // A second order of the linked customer: the same Customer, no new one.
    let mut next = order(302, "EUR", "18.00", T0);
    next["Customer"] = customer("Müller");
    bridge.kentico_says("ecommerce.order.created", &next).await;
    bridge.drain().await;
    assert_eq!(bridge.stripe().customers().len(), 1);
    assert_eq!(last_intent(bridge)["customer"], customers[0]["id"]);
}

both_backends!(
    an_order_and_its_customer_racing_make_one_stripe_customer,
    &[]
);

async fn a_checkout_session_of_a_linked_customer_carries_the_customer(bridge: &dyn Bridge) {
    let mut placed = order(303, "USD", "25.00", T0);
    placed["Customer"] = customer("Müller");
    bridge
        .kentico_says("ecommerce.order.created", &placed)
        .await;
    bridge.drain().await;
    let sessions = bridge.stripe().checkout_sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        sessions[0]["customer"],
        bridge.stripe().customers()[0]["id"]
    );
    assert_eq!(
        sessions[0]["customer_email"],
        Value::Null,
        "Stripe takes customer or customer_email, not both"
    );
    assert!(bridge.dead_letters().await.is_empty());
}

both_backends!(
    a_checkout_session_of_a_linked_customer_carries_the_customer,
    &[("PAYMENT_MODE", "checkout")]
);

/// An invoice of `customer` for order `order_id`; `paid_by` the PaymentIntent that paid it.
fn invoice(id: &str, customer: &str, order_id: i64, status: &str, paid_by: Option<&str>) -> Value {
    let payments: Vec<Value> = paid_by
        .map(|pi| {
            json!({"id": format!("inpay_{pi}"), "object": "invoice_payment", "status": "paid",
                "amount_paid": 4200, "currency": "eur", "invoice": id, "is_default": true,
                "payment": {"type": "payment_intent", "payment_intent": pi}})
        })
        .into_iter()
        .collect();
    json!({"id": id, "object": "invoice", "customer": customer, "status": status,
        "currency": "eur", "amount_due": 4200, "amount_paid": if paid_by.is_some() { 4200 } else { 0 },
        "hosted_invoice_url": format!("https://invoice.stripe.com/i/{id}"), "livemode": false,
        "metadata": {"kentico_order_id": order_id.to_string()},
        "parent": {"type": "subscription_details",
            "subscription_details": {"subscription": "sub_1", "metadata": null}},
        "payments": {"object": "list", "data": payments, "has_more": false}})
}

async fn an_invoice_of_an_order_follows_the_order_path(bridge: &dyn Bridge) {
    bridge
        .kentico_says("ecommerce.order.created", &order(311, "EUR", "42.00", T0))
        .await;
    bridge
        .kentico_says("ecommerce.order.created", &order(312, "EUR", "42.00", T0))
        .await;
    bridge.drain().await;
    let intents = bridge.stripe().payment_intents();
    let of = |order: &str| {
        let found = intents
            .iter()
            .find(|pi| pi["metadata"]["kentico_order_id"] == order);
        id(found.expect("the order's PaymentIntent"))
    };
    let (ours, other_order) = (of("311"), of("312"));

    // The invoice's payment failed: the order shows it, with the invoice's page to pay again.
    let open = invoice("in_311", "cus_billing", 311, "open", None);
    bridge.stripe().put_invoice(open.clone());
    bridge.stripe_says("invoice.payment_failed", &open).await;
    bridge.drain().await;
    let order = kentico_order(bridge, 311);
    assert_eq!(order["OrderStatusID"], PAYMENT_FAILED);
    let custom = order["OrderCustomData"].as_str().unwrap_or_default();
    assert!(
        custom.contains("<StripeRetryUrl>https://invoice.stripe.com/i/in_311</StripeRetryUrl>"),
        "{custom}"
    );

    // Paid by the order's own PaymentIntent: paid, once.
    let paid = invoice("in_311", "cus_billing", 311, "paid", Some(&ours));
    bridge.stripe().succeed_payment_intent(&ours);
    bridge.stripe().put_invoice(paid.clone());
    let body = FakeStripe::event_body("evt_invoice_paid_311", "invoice.paid", &paid);
    for _ in 0..2 {
        assert_eq!(bridge.post_stripe(&body).await, 202, "delivered twice");
    }
    bridge.drain().await;
    let dead = bridge.dead_letters().await;
    assert!(dead.is_empty(), "{dead:?}");
    assert_eq!(kentico_order(bridge, 311)["OrderStatusID"], PAID);
    assert_eq!(kentico_order(bridge, 311)["OrderIsPaid"], true);
    assert_eq!(paid_writes(bridge), 1);

    // An invoice naming order 312 but paid by another order's PaymentIntent, and one paid by
    // nothing of paybridge's: neither marks 312 paid; both wait in the dead-letter queue.
    let wrong = invoice("in_312a", "cus_billing", 312, "paid", Some(&ours));
    bridge.stripe().put_invoice(wrong.clone());
    bridge.stripe_says("invoice.paid", &wrong).await;
    let stranger = invoice("in_312b", "cus_billing", 312, "paid", None);
    bridge.stripe().put_invoice(stranger.clone());
    bridge.stripe_says("invoice.paid", &stranger).await;
    bridge.drain().await;
    assert_eq!(kentico_order(bridge, 312)["OrderIsPaid"], false);
    let reasons: Vec<String> = (bridge.dead_letters().await.into_iter())
        .map(|attrs| attrs.get("failure_kind").cloned().unwrap_or_default())
        .collect();
    assert_eq!(
        reasons,
        ["payment_not_ours", "payment_not_ours"],
        "{reasons:?}"
    );
    assert_eq!(
        bridge.stripe().payment_intent(&other_order).unwrap()["status"],
        "requires_payment_method",
        "order 312's own PaymentIntent is untouched"
    );
}

both_backends!(an_invoice_of_an_order_follows_the_order_path, &[]);

/// `paybridge customer show … --json`, which must succeed.
fn customer_show(bridge: &dyn Bridge, lookup: &[&str]) -> Value {
    let mut args = vec!["customer", "show", "--json"];
    args.extend(lookup);
    let output = bridge.operator(&args);
    assert!(
        output.status.success(),
        "{lookup:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

async fn subscriptions_and_invoices_show_in_one_view_of_the_customer(bridge: &dyn Bridge) {
    let mut kentico_customer = customer("Müller");
    kentico_customer["CustomerEmail"] = "zoe@example.com".into();
    bridge.kentico().add_customer(kentico_customer.clone());
    let mut placed = order(321, "EUR", "42.00", T0);
    placed["OrderDate"] = json!(super::at(T0));
    placed["Customer"] = kentico_customer;
    bridge
        .kentico_says("ecommerce.order.created", &placed)
        .await;
    bridge.drain().await;
    let stripe_id = id(&bridge.stripe().customers()[0]);
    let intent = id(&last_intent(bridge));
    let paid = bridge.stripe().succeed_payment_intent(&intent);
    bridge.stripe_says("payment_intent.succeeded", &paid).await;

    let subscription = |status: &str, created_offset: i64| {
        let object = json!({"id": "sub_1", "object": "subscription", "customer": stripe_id,
            "status": status, "latest_invoice": "in_9",
            "items": {"object": "list", "data": [{"id": "si_1", "object": "subscription_item",
                "current_period_start": T0, "current_period_end": T0 + 30 * 86_400}]}});
        let mut body: Value = serde_json::from_str(&FakeStripe::event_body(
            &format!("evt_sub_{status}"),
            &format!(
                "customer.subscription.{}",
                if status == "active" {
                    "created"
                } else {
                    "updated"
                }
            ),
            &object,
        ))
        .unwrap();
        body["created"] = json!(T0 + created_offset);
        body.to_string()
    };
    // Delivered out of order: the newer state stays.
    assert_eq!(bridge.post_stripe(&subscription("past_due", 20)).await, 202);
    assert_eq!(bridge.post_stripe(&subscription("active", 10)).await, 202);
    let open = invoice("in_9", &stripe_id, 0, "open", None);
    bridge.stripe_says("invoice.finalized", &open).await;
    bridge.drain().await;

    for lookup in [
        ["--kentico-id", "77"],
        ["--stripe-id", stripe_id.as_str()],
        ["--email", "zoe@example.com"],
    ] {
        let views = customer_show(bridge, &lookup);
        assert_eq!(
            views.as_array().map(Vec::len),
            Some(1),
            "{lookup:?}: {views}"
        );
        let view = &views[0];
        assert_eq!(view["kentico_customer_id"], 77);
        assert_eq!(view["stripe_customer_id"], stripe_id.as_str());
        assert_eq!(view["kentico"]["CustomerLastName"], "Müller", "read live");
        assert_eq!(view["stripe"]["name"], "Zoë Müller", "read live");
        let orders = view["orders"].as_array().unwrap();
        assert_eq!(orders.len(), 1, "{view}");
        assert_eq!(orders[0]["order_id"], 321);
        assert_eq!(orders[0]["paid_by"], intent.as_str());
        assert_eq!(orders[0]["payments"][0]["status"], "succeeded");
        let billing: Vec<(&str, &str)> = (view["billing"].as_array().unwrap().iter())
            .map(|b| (b["id"].as_str().unwrap(), b["status"].as_str().unwrap()))
            .collect();
        assert_eq!(billing, [("sub_1", "past_due"), ("in_9", "open")]);
        let events: Vec<&str> = (view["events"].as_array().unwrap().iter())
            .map(|e| e["event_type"].as_str().unwrap())
            .collect();
        for wanted in [
            "ecommerce.order.created",
            "payment_intent.succeeded",
            "customer.subscription.updated",
            "invoice.finalized",
        ] {
            assert!(events.contains(&wanted), "{wanted} in {events:?}");
        }
    }
    let nobody = bridge.operator(&["customer", "show", "--kentico-id", "999"]);
    assert_eq!(nobody.status.code(), Some(3), "nobody: exit 3");
    let text = bridge.operator(&["customer", "show", "--kentico-id", "77"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("sub_1") && text.contains("past_due"),
        "{text}"
    );
    assert!(bridge.dead_letters().await.is_empty());
}

both_backends!(
    subscriptions_and_invoices_show_in_one_view_of_the_customer,
    &[]
);

async fn an_edit_at_stripe_of_a_field_kentico_owns_is_overruled_once(bridge: &dyn Bridge) {
    bridge.kentico().add_customer(customer("Müller"));
    let created = event("ecommerce.customer.created", &customer("Müller"));
    assert_eq!(bridge.post_kentico(&created).await, 202);
    bridge.drain().await;
    let stripe_id = id(&bridge.stripe().customers()[0]);

    // Somebody changes the e-mail in the Stripe Dashboard; Kentico owns it (the default).
    (bridge.stripe()).edit_customer(&stripe_id, json!({"email": "dashboard@example.com"}));
    let edited = echo_of_stripe_write(bridge, json!({"email": "zoe@example.com"}));
    assert_eq!(bridge.post_stripe(&edited).await, 202);
    bridge.drain().await;
    assert_eq!(
        bridge.stripe().customers()[0]["email"],
        "zoe@example.com",
        "Kentico's value restored"
    );
    // Stripe's event for the restoring write, and the Dashboard edit's event told again.
    let restored = echo_of_stripe_write(bridge, json!({"email": "dashboard@example.com"}));
    assert_eq!(bridge.post_stripe(&restored).await, 202);
    assert_eq!(
        bridge
            .post_stripe(&edited.replace("evt_", "evt_again"))
            .await,
        202
    );
    bridge.drain().await;

    assert_eq!(
        customer_calls(bridge),
        [
            "POST /v1/customers".to_string(),
            format!("GET /v1/customers/{stripe_id}"),
            format!("POST /v1/customers/{stripe_id}"),
            format!("GET /v1/customers/{stripe_id}"),
        ],
        "restored once; the late event only reads"
    );
    assert_eq!(
        kentico_customer_writes(bridge),
        0,
        "nothing written to Kentico"
    );
    assert_eq!(bridge.metric("CustomerEchoes").await, 1);
    assert!(bridge.dead_letters().await.is_empty());
}

both_backends!(
    an_edit_at_stripe_of_a_field_kentico_owns_is_overruled_once,
    &[]
);
