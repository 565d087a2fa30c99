//! Personal data and secrets stay out of what operators read: a whole order-to-cash flow on a
//! real `paybridge serve` (a Kentico error page echoing the request's credentials, a decline, a
//! success) leaves the customer's e-mail, name, address and phone, the client secret, the Stripe
//! key, the Kentico password and its Basic header in no log line, no dead-letter attribute and no
//! journal entry; and once every event is settled, the store's files (database and write-ahead
//! log) hold none of it in clear: the journal's envelopes are sealed, settled messages deleted
//! and overwritten. (A dead letter is the event itself until it is redriven or purged.)

use base64::Engine;
use serde_json::{Value, json};

use crate::serve_process::{
    KENTICO_WEBHOOK_SECRET, STRIPE_KEY, STRIPE_WEBHOOK_SECRET, Setup, deliver, order_event,
    wait_for,
};
use integration_tests::fakes::stripe::FakeStripe;

const EMAIL: &str = "zoe.pemberton@example.com";
const FIRST: &str = "Zoëlle";
const LAST: &str = "Pemberton-Quill";
const PHONE: &str = "+44 20 7946 0991";
const STREET: &str = "17 Cranberry Lane";
const ZIP: &str = "KT22 7BX";

fn order() -> Value {
    let address = json!({"AddressPersonalName": format!("{FIRST} {LAST}"), "AddressLine1": STREET,
        "AddressLine2": "", "AddressCity": "Leatherhead", "AddressZip": ZIP, "AddressState": "",
        "AddressCountry": "GB", "AddressPhone": PHONE});
    json!({"OrderID": 9, "OrderGUID": "00000000-0000-4000-8000-000000000009",
        "OrderCurrencyCode": "GBP", "OrderGrandTotal": "42.00", "OrderStatusName": "New",
        "OrderIsPaid": false, "OrderCustomerID": 41,
        "OrderItems": [{"OrderItemSKUName": "Filter Pack", "SKUNumber": "FP-20",
            "OrderItemUnitCount": 2, "OrderItemUnitPrice": "21.00"}],
        "OrderBillingAddress": address, "OrderShippingAddress": address,
        "Customer": {"CustomerID": 41, "CustomerGUID": "0b1c2d3e-0000-4000-8000-000000000041",
            "CustomerEmail": EMAIL, "CustomerFirstName": FIRST, "CustomerLastName": LAST,
            "CustomerPhone": PHONE}})
}

/// An operator command on the embedded store `serve` uses (even where the test environment
/// points AWS_ENDPOINT_URL at moto).
fn run(setup: &Setup, args: &[&str]) -> std::process::Output {
    std::process::Command::new(crate::serve_process::paybridge_binary())
        .args(args)
        .args(["--backend", "embedded", "--data-dir"])
        .arg(&setup.data_dir)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("paybridge runs")
}

/// An operator command's output.
fn operator(setup: &Setup, args: &[&str]) -> String {
    String::from_utf8_lossy(&run(setup, args).stdout).into_owned()
}

/// `dlq list --json`: one dead letter per line.
fn dead_letters(setup: &Setup) -> Vec<Value> {
    (operator(setup, &["dlq", "list", "--json"]).lines())
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Which of `needles` some store file in `data_dir` holds in clear, as `file: needle`.
fn store_files_in_clear(data_dir: &std::path::Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(data_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("paybridge.sqlite3") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        for needle in needles {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(format!("{name}: {needle}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn no_log_line_dead_letter_attribute_or_journal_entry_carries_personal_data_or_a_secret() {
    let setup = Setup::new().await;
    let basic = base64::engine::general_purpose::STANDARD.encode("paybridge:kentico-pass");
    // The first write to Kentico fails with an IIS error page echoing the request's headers.
    setup.kentico.fail_next(
        1,
        400,
        &format!(
            "Bad Request. Authorization: Basic {basic} (user paybridge, password kentico-pass)"
        ),
    );
    let serve = setup
        .serve_with(&[], &[("RUST_LOG", "info,paybridge=debug")])
        .await;
    let client = reqwest::Client::new();
    setup.kentico.add_order(order());
    let signed = |path, header, secret, body: String| {
        let (client, url) = (&client, &serve.url);
        async move { deliver(client, url, path, header, secret, &body).await }
    };
    signed(
        "/webhooks/kentico",
        "x-kentico-signature",
        KENTICO_WEBHOOK_SECRET,
        order_event(&order()),
    )
    .await;
    wait_for("the dead letter", || !dead_letters(&setup).is_empty()).await;
    let dead_letters = dead_letters(&setup);
    let output = run(&setup, &["dlq", "redrive", "--all"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    wait_for("the PaymentIntent written", || {
        setup.kentico.order(9).is_some_and(|o| {
            o["OrderCustomData"]
                .as_str()
                .unwrap_or_default()
                .contains("StripePaymentIntent")
        })
    })
    .await;
    let intent = setup.stripe.payment_intents()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = setup.stripe.payment_intent(&intent).unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    setup.stripe.set_payment_intent(
        &intent,
        json!({"status": "requires_payment_method", "last_payment_error": {"type": "card_error",
            "code": "card_declined", "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds."}}),
    );
    let failed = setup.stripe.payment_intent(&intent).unwrap();
    let paid = setup.stripe.succeed_payment_intent(&intent);
    for (id, event_type, intent) in [
        ("evt_pii_1", "payment_intent.payment_failed", &failed),
        ("evt_pii_2", "payment_intent.succeeded", &paid),
    ] {
        let body = FakeStripe::event_body(id, event_type, intent);
        signed(
            "/webhooks/stripe",
            "stripe-signature",
            STRIPE_WEBHOOK_SECRET,
            body,
        )
        .await;
    }
    wait_for("Paid", || {
        setup
            .kentico
            .order(9)
            .is_some_and(|o| o["OrderStatusID"] == 6)
    })
    .await;
    let trace: Value =
        serde_json::from_str(&operator(&setup, &["trace", "--order-id", "9", "--json"])).unwrap();
    // Every event is settled (the dead letter was redriven): within serve's WAL truncation
    // period, the store's files — database, write-ahead log — hold no personal data in clear
    // (the journal's envelopes are sealed; settled messages are deleted and overwritten).
    wait_for("the store's files hold no personal data", || {
        store_files_in_clear(&setup.data_dir, &[EMAIL, FIRST, LAST, PHONE, STREET, ZIP]).is_empty()
    })
    .await;
    drop(serve);

    let log = std::fs::read_to_string(setup.data_dir.join("serve.log")).unwrap();
    // The data did flow (the dead letter keeps the event itself), and the log saw every step:
    // the scrubbed Kentico error, the decline, the payment.
    assert!(
        dead_letters[0]["body"]
            .as_str()
            .unwrap_or_default()
            .contains(EMAIL)
    );
    for step in [
        "[redacted]",
        "payment failed",
        "insufficient_funds",
        "payment_intent.succeeded",
    ] {
        assert!(log.contains(step), "the log misses {step:?}: {log}");
    }
    let attributes: Vec<String> = (dead_letters.iter())
        .map(|d| {
            let mut d = d.clone();
            if let Some(o) = d.as_object_mut() {
                o.remove("body"); // the event itself, kept for the redrive
            }
            d.to_string()
        })
        .collect();
    assert!(
        attributes
            .iter()
            .any(|a| a.contains("kentico_rejected") || a.contains("failure")),
        "{attributes:?}"
    );
    let journal = trace["events"].to_string();
    let forbidden = [
        EMAIL,
        FIRST,
        LAST,
        PHONE,
        STREET,
        ZIP,
        &secret,
        STRIPE_KEY,
        "kentico-pass",
        &basic,
    ];
    for (what, text) in [("log", &log), ("journal", &journal)]
        .into_iter()
        .chain(attributes.iter().map(|a| ("dead-letter attribute", a)))
    {
        for needle in forbidden {
            assert!(!text.contains(needle), "{what} carries {needle:?}: {text}");
        }
    }
    assert_eq!(
        store_files_in_clear(&setup.data_dir, &forbidden),
        Vec::<String>::new()
    );
    // The operator still reads them: replay opens the sealed envelopes with the key file.
    let replayed = run(&setup, &["replay", "--order-id", "9"]);
    assert!(replayed.status.success(), "{replayed:?}");
    let said = String::from_utf8_lossy(&replayed.stdout);
    assert!(
        said.contains("replayed stripe evt_pii_2 (payment_intent.succeeded)"),
        "{said}"
    );
}
