//! The Xperience by Kentico package and paybridge agree on the bytes: the package's order event
//! test vector (asserted byte for byte by the package's own tests, infra/kentico/mono-test.sh)
//! is read by paybridge's XbyK mapping, and passes its Kentico webhook signed.

use std::sync::Arc;

use integration_tests::{apigw, repo_root};
use paybridge::clock::FixedClock;
use paybridge::ingress::lambda::handle;
use paybridge::mapping::money::to_minor_units;
use paybridge::mapping::{KenticoOrder, KenticoPlatform, describe_items};
use paybridge::webhook::Source;
use paybridge::webhook::signature::sign_header;
use serde_json::Value;

use crate::support::{KENTICO_SECRET, ingress};

const VECTOR: &str = "infra/kentico/xbyk/order-event-test-vector.json";

fn vector() -> (String, Value) {
    let text = std::fs::read_to_string(repo_root().join(VECTOR)).expect("the vector exists");
    let body = text.trim_end_matches('\n').to_string();
    let event = serde_json::from_str(&body).expect("the vector is JSON");
    (body, event)
}

#[test]
fn paybridge_reads_the_packages_order_event() {
    let (_, event) = vector();
    assert_eq!(
        KenticoPlatform::from_event(&event).unwrap(),
        KenticoPlatform::Xbyk
    );
    // The package's Paybridge:Currency put OrderCurrencyCode in: no configured currency needed.
    let order = KenticoOrder::from_xbyk_event_object(&event["data"]["object"], None)
        .expect("paybridge reads what the package sends");

    assert_eq!(
        (order.id, order.guid.as_str()),
        (1042, "2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29")
    );
    assert_eq!(order.number.as_deref(), Some("2026-001042"));
    assert_eq!(order.currency.code(), "EUR");
    assert_eq!(
        to_minor_units("t", order.grand_total, &order.currency).unwrap(),
        12_990
    );
    assert_eq!(order.status_name.as_deref(), Some("New"));
    assert!(!order.is_paid);
    assert_eq!(
        describe_items(&order.items),
        "2× Espresso Grinder \"Pro\", 1.5× Café beans Zoë"
    );
    let billing = order.billing_address.expect("a billing address");
    assert_eq!(billing.name.as_deref(), Some("Zoë Łukasiewicz"));
    assert_eq!(
        (
            billing.state.as_deref(),
            billing.country.map(|c| c.to_string())
        ),
        (Some("NY"), Some("US".into()))
    );
    let shipping = order.shipping_address.expect("a shipping address");
    assert_eq!(shipping.line2.as_deref(), Some("Floor 2\nRear door"));
    assert_eq!(
        shipping.country.map(|c| c.to_string()).as_deref(),
        Some("GB")
    );
    let customer = order.customer.expect("the customer");
    assert_eq!(customer.email.as_deref(), Some("zoe@example.com"));
    assert_eq!(
        customer.phone, None,
        "the package's empty phone is no phone"
    );
}

#[tokio::test]
async fn the_packages_order_event_passes_the_kentico_webhook_signed() {
    let (body, _) = vector();
    let t = 1_764_417_600;
    let signature = sign_header(&[KENTICO_SECRET], t, body.as_bytes());
    let request = apigw::event(
        "POST",
        "/webhooks/kentico",
        &[("x-kentico-signature", &signature)],
        body.as_bytes(),
        false,
    );
    let ingress = ingress(Source::Kentico, &[], Arc::new(FixedClock::at_unix(t))).await;

    let response = handle(&ingress.handler, apigw::request(&request)).await;

    assert_eq!(response.status(), 202);
    let queued = ingress.queued().await;
    assert_eq!(queued.len(), 1);
    assert!(
        queued[0].body.contains(&body),
        "the body is queued byte for byte"
    );
}
