//! Kentico → Stripe customers (work in progress, issue 11): one Stripe Customer per Kentico
//! customer however often and concurrently its events come; an update that changes a field
//! Stripe shows is written once, one that changes nothing makes no call.

use serde_json::{Value, json};

use super::{Bridge, both_backends};
use crate::order_to_cash::harness::uuid_like;

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
    stripe_customer["name"] = "Zoë Schmidt".into();
    stripe_customer["email"] = "zoe@elsewhere.example".into();
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
    assert!(
        kentico.get("CustomerEmail").is_none(),
        "Kentico owns the e-mail"
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
        ["POST /v1/customers"],
        "no Stripe write"
    );

    // Somebody else's Stripe customer: ignored on purpose.
    let stranger = json!({"id": "cus_stranger", "object": "customer", "name": "X", "metadata": {}});
    let foreign = stripe_event("customer.updated", &stranger, json!({"name": "Y"}));
    assert_eq!(bridge.post_stripe(&foreign).await, 202);
    // Deleted at Stripe: unlinked, never deleted in Kentico.
    let deleted = stripe_event("customer.deleted", &stripe_customer, json!(null));
    assert_eq!(bridge.post_stripe(&deleted).await, 202);
    bridge.drain().await;
    assert!(bridge.kentico().customer(77).is_some());
    assert_eq!(bridge.metric("UnlinkedCustomerEvents").await, 1);
    assert!(bridge.dead_letters().await.is_empty());
}

both_backends!(
    stripe_owned_fields_reach_kentico_and_echoes_stop_both_ways,
    &[("CUSTOMER_FIELD_OWNERS", "name=stripe")]
);
