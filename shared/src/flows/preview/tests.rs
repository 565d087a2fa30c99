use serde_json::{Value, json};

use super::*;
use crate::config::flow::FlowSettings;
use crate::mapping_doc::MappingDocument;

fn event(object: Value) -> Value {
    json!({"id": "evt-1", "type": "ecommerce.order.created", "created": 1764417600,
        "site": "DancingGoat", "data": {"object": object}})
}

fn order(currency: &str) -> Value {
    json!({
        "OrderID": 1042, "OrderGUID": "6f1c2a1e-5d1b-4a53-9a0e-2f7c1d9b8e41", "OrderCustomerID": 77,
        "OrderCurrencyCode": currency, "OrderGrandTotal": "129.90", "OrderStatusName": "New",
        "OrderItems": [
            {"OrderItemSKUID": 501, "OrderItemSKUName": "Espresso Grinder", "SKUNumber": "EG-100", "OrderItemUnitCount": 2},
            {"OrderItemSKUID": 502, "OrderItemSKUName": "Filter Pack", "SKUNumber": "FP-20", "OrderItemUnitCount": 1}
        ],
        "OrderShippingAddress": {"AddressPersonalName": "Ada Lovelace", "AddressLine1": "12 St James's Square",
            "AddressCity": "London", "AddressZip": "sw1y 4jh", "AddressCountry": "Great Britain"},
        "Customer": {"CustomerID": 77, "CustomerEmail": "ada@example.com", "CustomerFirstName": "Ada", "CustomerLastName": "Lovelace"},
        "LoyaltyNumber": "  LN-7781 "
    })
}

fn applied(version: u32, document: Value) -> AppliedMapping {
    let document = MappingDocument::parse(&document.to_string()).unwrap();
    AppliedMapping::new(version, &document, &FlowSettings::default())
}

fn field<'a>(preview: &'a Preview, name: &str) -> Option<&'a str> {
    (preview.fields.iter())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

#[test]
fn the_environments_version_previews_the_built_in_request() {
    let mapping = AppliedMapping::environment(FlowSettings::default());
    let preview = preview_order(&mapping, &event(order("USD"))).unwrap();
    assert_eq!(preview.version, 0);
    assert_eq!(preview.request, "POST /v1/payment_intents");
    assert_eq!(field(&preview, "amount"), Some("12990"));
    assert_eq!(field(&preview, "currency"), Some("usd"));
    assert_eq!(field(&preview, "metadata[kentico_order_id]"), Some("1042"));
    assert_eq!(
        field(&preview, "metadata[kentico_skus]"),
        Some("EG-100,FP-20")
    );
    assert_eq!(
        field(&preview, "description"),
        Some("2× Espresso Grinder, 1× Filter Pack")
    );
    assert_eq!(field(&preview, "shipping[address][country]"), Some("GB"));
    assert_eq!(field(&preview, "statement_descriptor_suffix"), None);
    assert!(preview.body.contains("metadata[kentico_order_id]=1042"));
}

#[test]
fn a_documents_rules_show_in_the_request_where_they_are_sent() {
    let mapping = applied(
        3,
        json!({"schema": 1, "payment_intent": {
            "metadata": [{"key": "loyalty", "from": ["LoyaltyNumber"], "transform": [{"op": "trim"}, {"op": "lower"}]},
                         {"key": "absent", "from": ["NoSuchField"]}],
            "description": {"template": "Order {order_id}: {items}", "item": "{sku}×{quantity}", "separator": "; "},
            "statement_descriptor_suffix": {"from": ["OrderID"], "transform": [{"op": "template", "template": "K {0}"}]}}}),
    );
    let preview = preview_order(&mapping, &event(order("USD"))).unwrap();
    assert_eq!(preview.version, 3);
    assert_eq!(field(&preview, "metadata[loyalty]"), Some("ln-7781"));
    assert_eq!(
        field(&preview, "metadata[absent]"),
        None,
        "empty is not sent"
    );
    assert_eq!(
        field(&preview, "description"),
        Some("Order 1042: EG-100×2; FP-20×1")
    );
    assert_eq!(
        field(&preview, "statement_descriptor_suffix"),
        Some("K 1042")
    );
}

#[test]
fn checkout_mode_previews_the_session_with_the_same_fields() {
    let mut mapping = applied(
        1,
        json!({"schema": 1, "payment_intent": {
            "statement_descriptor_suffix": {"from": ["OrderID"], "transform": [{"op": "template", "template": "K {0}"}]}}}),
    );
    mapping.settings.payment_mode = PaymentMode::Checkout;
    let preview = preview_order(&mapping, &event(order("EUR"))).unwrap();
    assert_eq!(preview.request, "POST /v1/checkout/sessions");
    assert_eq!(
        field(&preview, "payment_intent_data[statement_descriptor_suffix]"),
        Some("K 1042")
    );
    assert_eq!(
        field(&preview, "line_items[0][price_data][currency]"),
        Some("eur")
    );
}

#[test]
fn a_preview_as_a_mode_forces_it_and_leaves_the_mapping_alone() {
    let mapping = applied(
        4,
        json!({"schema": 1, "payment_intent": {
            "metadata": [{"key": "loyalty", "from": ["LoyaltyNumber"], "transform": [{"op": "trim"}]}]}}),
    );
    assert_eq!(mapping.payment_mode, PaymentMode::PaymentElement);
    let session = preview_order_as(&mapping, &event(order("USD")), PaymentMode::Checkout).unwrap();
    assert_eq!(session.request, "POST /v1/checkout/sessions");
    assert_eq!(session.version, 4);
    assert_eq!(
        field(&session, "line_items[0][price_data][unit_amount]"),
        Some("12990")
    );
    assert_eq!(
        field(&session, "payment_intent_data[metadata][loyalty]"),
        Some("LN-7781")
    );
    assert_eq!(field(&session, "amount"), None);
    assert_eq!(mapping.payment_mode, PaymentMode::PaymentElement);
    let intent =
        preview_order_as(&mapping, &event(order("USD")), PaymentMode::PaymentElement).unwrap();
    assert_eq!(
        intent,
        preview_order(&mapping, &event(order("USD"))).unwrap()
    );
    assert_eq!(intent.request, "POST /v1/payment_intents");
}

#[test]
fn an_alias_fixes_a_spelling_and_says_so() {
    let environment = AppliedMapping::environment(FlowSettings::default());
    let refused = preview_order(&environment, &event(order("US Dollar"))).unwrap_err();
    assert!(
        matches!(&refused, PreviewError::Mismatch(reason) if reason.contains("OrderCurrencyCode")),
        "{refused}"
    );
    let mapping = applied(
        2,
        json!({"schema": 1, "aliases": {"currencies": {"US Dollar": "USD"}}}),
    );
    let preview = preview_order(&mapping, &event(order("US Dollar"))).unwrap();
    assert_eq!(field(&preview, "currency"), Some("usd"));
    assert_eq!(
        preview.aliases,
        vec![(
            "OrderCurrencyCode".to_string(),
            "US Dollar".to_string(),
            "USD".to_string()
        )]
    );
}

#[test]
fn a_switched_off_flow_and_a_bad_suffix_have_no_request() {
    let off = applied(4, json!({"schema": 1, "flows": {"order_to_cash": false}}));
    assert_eq!(
        preview_order(&off, &event(order("USD"))).unwrap_err(),
        PreviewError::SwitchedOff(
            "the order_to_cash flow is switched off in mapping version 4".into()
        )
    );
    let digits = applied(
        5,
        json!({"schema": 1, "payment_intent": {"statement_descriptor_suffix": {"from": ["OrderID"]}}}),
    );
    let error = preview_order(&digits, &event(order("USD"))).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("payment_intent.statement_descriptor_suffix: '1042' has no letter"),
        "{error}"
    );
    let stripe_event = json!({"type": "payment_intent.succeeded", "data": {"object": {}}});
    assert!(matches!(
        preview_order(&off, &stripe_event),
        Err(PreviewError::NotAnOrder(_))
    ));
}

#[test]
fn a_long_metadata_value_is_cut_and_noted() {
    let mut object = order("USD");
    object["LoyaltyNumber"] = json!("x".repeat(700));
    let mapping = applied(
        1,
        json!({"schema": 1, "payment_intent": {"metadata": [{"key": "loyalty", "from": ["LoyaltyNumber"]}]}}),
    );
    let preview = preview_order(&mapping, &event(object)).unwrap();
    assert_eq!(
        field(&preview, "metadata[loyalty]").map(|v| v.chars().count()),
        Some(500)
    );
    assert_eq!(
        preview.notes,
        ["metadata[loyalty]: cut to Stripe's 500 characters"]
    );
}

#[test]
fn replaying_samples_flags_what_a_new_version_breaks() {
    let active = applied(
        1,
        json!({"schema": 1, "aliases": {"currencies": {"US Dollar": "USD"}}}),
    );
    let candidate = applied(2, json!({"schema": 1}));
    let samples = vec![
        ("usd.json".to_string(), event(order("USD"))),
        ("spelled.json".to_string(), event(order("US Dollar"))),
        (
            "stripe.json".to_string(),
            json!({"type": "payment_intent.succeeded"}),
        ),
    ];
    let outcomes = replay_samples(&active, &candidate, &samples);
    assert_eq!(outcomes.len(), 2, "only order events");
    assert!(outcomes[0].outcome.is_ok() && !outcomes[0].regression);
    assert!(outcomes[1].outcome.is_err() && outcomes[1].regression);
    let same = replay_samples(&candidate, &candidate, &samples);
    assert!(
        same.iter().all(|s| !s.regression),
        "failing before is no regression"
    );
}

#[test]
fn percent_decoding_reads_what_encoding_wrote() {
    assert_eq!(
        decode("a=b+c&metadata[k]=%C3%BC%26%3D&bad=%zz&end=%4"),
        vec![
            ("a".into(), "b c".into()),
            ("metadata[k]".into(), "ü&=".into()),
            ("bad".into(), "%zz".into()),
            ("end".into(), "%4".into()),
        ]
    );
}

#[test]
fn sample_files_yield_their_events_whatever_wraps_them() {
    let bare = event(order("USD"));
    let body = bare.to_string();
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&body);
    let envelope = json!({"source": "kentico", "payload": bare.clone()});
    for (file, count) in [
        (bare.clone(), 1),
        (json!({"body": body, "isBase64Encoded": false}), 1),
        (json!({"body": encoded, "isBase64Encoded": true}), 1),
        (
            json!({"Records": [{"body": envelope.to_string()}, {"body": "not json"}]}),
            1,
        ),
        (json!({"detail-type": "Scheduled Event"}), 0),
    ] {
        let events = events_in(&file);
        assert_eq!(events.len(), count, "{file}");
        assert!(events.iter().all(|e| *e == bare));
    }
}

#[test]
fn a_masked_preview_keeps_the_body_byte_for_byte_but_for_the_masked_values() {
    let mapping = AppliedMapping::environment(FlowSettings::default());
    let preview = preview_order(&mapping, &event(order("USD"))).unwrap();
    let exact = preview.body.clone();
    let masked = preview.clone().masked(|name, value| match name {
        "receipt_email" | "shipping[name]" => "A… L…".to_string(),
        _ => value.to_string(),
    });

    assert_eq!(field(&masked, "shipping[name]"), Some("A… L…"));
    assert!(!masked.body.contains("Lovelace"), "{}", masked.body);
    assert!(
        masked.body.contains("shipping[name]=A%E2%80%A6+L%E2%80%A6"),
        "encoded as the body encodes: {}",
        masked.body
    );
    let unchanged = |body: &str| -> Vec<String> {
        (body.split('&'))
            .filter(|p| !p.starts_with("shipping[name]=") && !p.starts_with("receipt_email="))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(unchanged(&masked.body), unchanged(&exact));
    assert_eq!(
        preview.masked(|_, value| value.to_string()).body,
        exact,
        "nothing masked: the exact body"
    );
}
