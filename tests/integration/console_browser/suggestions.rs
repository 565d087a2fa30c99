//! The suggestions page in a browser: an order in "US Dollar" is dead-lettered as a mapping
//! mismatch, the page suggests the USD alias, the operator accepts and confirms it, and the
//! redriven order becomes a PaymentIntent in USD that a Stripe success marks paid in Kentico.

use integration_tests::fakes::stripe::FakeStripe;
use serde_json::Value;

use super::{Console, PAGE};
use crate::serve_process::{
    KENTICO_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, deliver, kentico_order, order_event, wait_for,
};

/// The console's suggestions, as JSON.
async fn suggestions(client: &reqwest::Client, console: &Console) -> Value {
    let response = client
        .get(console.page("/api/suggestions"))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap_or(Value::Null)
}

#[tokio::test]
async fn accepting_the_usd_suggestion_redrives_the_order_into_a_usd_payment_that_is_paid() {
    let console = Console::start().await;
    let client = reqwest::Client::new();
    let mut order = kentico_order(15);
    order["OrderCurrencyCode"] = "US Dollar".into();
    console.setup.kentico.add_order(order.clone());
    deliver(
        &client,
        &console.serve.url,
        "/webhooks/kentico",
        "x-kentico-signature",
        KENTICO_WEBHOOK_SECRET,
        &order_event(&order),
    )
    .await;

    // Dead-lettered as a mapping mismatch, with the alias suggested.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let found = suggestions(&client, &console).await;
        if found["corrections"][0]["correction"]["change"]["code"] == "USD" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the order was never dead-lettered with a USD suggestion: {found}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }

    let browser = &console.browser;
    browser.goto(&console.page("/suggestions")).await;
    browser
        .wait_for_text("main", "aliases.currencies[\"US Dollar\"] = \"USD\"", PAGE)
        .await;
    browser.wait_for_text("main", "(order 15)", PAGE).await;
    browser.screenshot("suggestions").await;

    browser
        .click("form[action='/console/suggestions/correct'] button")
        .await;
    browser
        .wait_for_text("main", "Add the alias and redrive?", PAGE)
        .await;
    browser.wait_for_text("pre.diff", "US Dollar", PAGE).await;
    browser.screenshot("suggestions-confirm").await;
    browser.click("div.confirm button").await;
    browser
        .wait_for_text("main", "Version 1 is active; 1 of 1", PAGE)
        .await;

    wait_for("a PaymentIntent in usd for order 15", || {
        console
            .setup
            .stripe
            .payment_intents()
            .iter()
            .any(|pi| pi["currency"] == "usd" && pi["metadata"]["kentico_order_id"] == "15")
    })
    .await;
    let intent = (console.setup.stripe.payment_intents().into_iter())
        .find(|pi| pi["metadata"]["kentico_order_id"] == "15")
        .unwrap();
    assert_eq!(intent["amount"], 4200);
    let intent = console
        .setup
        .stripe
        .succeed_payment_intent(intent["id"].as_str().unwrap());
    let paid = FakeStripe::event_body("evt_suggestions_15", "payment_intent.succeeded", &intent);
    deliver(
        &client,
        &console.serve.url,
        "/webhooks/stripe",
        "stripe-signature",
        STRIPE_WEBHOOK_SECRET,
        &paid,
    )
    .await;
    wait_for("order 15 paid in Kentico", || {
        (console.setup.kentico.order(15)).is_some_and(|o| o["OrderStatusID"] == 6)
    })
    .await;
}
