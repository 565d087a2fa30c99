//! The mapping designer in a browser: a source chip dragged with the pointer onto the "new
//! metadata key" target (and another placed with the keyboard) shows the key in the Stripe
//! request; Review and publish shows the diff; once confirmed, an order delivered to serve
//! reaches the Stripe fake with the new metadata key.

use serde_json::json;

use super::{Console, PAGE};
use crate::serve_process::{KENTICO_WEBHOOK_SECRET, deliver, kentico_order, order_event, wait_for};

/// WebDriver's Enter key.
const ENTER: &str = "\u{E007}";

#[tokio::test]
async fn a_field_dragged_onto_a_new_metadata_key_and_published_reaches_the_payment_intent() {
    let console = Console::start().await;
    let browser = &console.browser;

    // Arrange: the designer on the built-in sample.
    browser.goto(&console.page("/mapping/designer")).await;
    browser
        .wait_for(r#"[data-source="Customer.CustomerEmail"]"#, PAGE)
        .await;

    // Act: drag the customer's email onto a new key named buyer_email.
    browser.fill("#designer-key", "buyer_email").await;
    browser
        .drag_and_drop(
            r#"[data-source="Customer.CustomerEmail"]"#,
            r#"[data-target="metadata:new"]"#,
        )
        .await;
    browser
        .wait_for_text("#designer-preview", "metadata[buyer_email]", PAGE)
        .await;
    browser
        .wait_for_text("#designer-live", "mapped to metadata[buyer_email]", PAGE)
        .await;

    // The keyboard way: Enter on a chip picks it up, Enter on a target places it.
    browser.fill("#designer-key", "order_ref").await;
    let chip = browser.wait_for(r#"[data-source="OrderID"]"#, PAGE).await;
    chip.send_keys(ENTER).await.expect("Enter on the chip");
    assert_eq!(
        chip.attr("aria-pressed")
            .await
            .expect("aria-pressed")
            .as_deref(),
        Some("true")
    );
    browser
        .wait_for_text("#designer-live", "Picked up OrderID", PAGE)
        .await;
    let target = browser
        .wait_for(r#"[data-target="metadata:new"]"#, PAGE)
        .await;
    target.send_keys(ENTER).await.expect("Enter on the target");
    browser
        .wait_for_text("#designer-preview", "metadata[order_ref]", PAGE)
        .await;
    browser.screenshot("designer").await;

    // Review and publish: the diff first, then the confirmation.
    browser.click("#designer-publish").await;
    browser.wait_for_text("main", "buyer_email", PAGE).await;
    browser.screenshot("designer-diff").await;
    browser.click("div.confirm button.danger").await;
    browser
        .wait_for_text("main", "Active: version 1", PAGE)
        .await;

    // An order delivered now carries the new key to Stripe.
    let mut order = kentico_order(4711);
    order["Customer"] = json!({"CustomerID": 88, "CustomerEmail": "grace@example.com", "CustomerFirstName": "Grace", "CustomerLastName": "Hopper"});
    console.setup.kentico.add_order(order.clone());
    deliver(
        &reqwest::Client::new(),
        &console.serve.url,
        "/webhooks/kentico",
        "x-kentico-signature",
        KENTICO_WEBHOOK_SECRET,
        &order_event(&order),
    )
    .await;
    let stripe = &console.setup.stripe;
    let carries_the_keys = || {
        stripe.payment_intents().iter().any(|intent| {
            intent["metadata"]["buyer_email"] == "grace@example.com"
                && intent["metadata"]["order_ref"] == "4711"
        })
    };
    wait_for(
        "the PaymentIntent with metadata.buyer_email",
        carries_the_keys,
    )
    .await;
}
