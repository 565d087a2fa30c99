//! `suggest_fields` on the sample events and on orders with custom fields.

use serde_json::{Value, json};

use super::*;

/// The order of the queued sample event in `events/<file>`.
fn sample_order(file: &str) -> Value {
    let text = match file {
        "order-worker-sqs.json" => include_str!("../../../../events/order-worker-sqs.json"),
        _ => include_str!("../../../../events/order-worker-sqs-xbyk.json"),
    };
    let records: Value = serde_json::from_str(text).unwrap();
    let body: Value =
        serde_json::from_str(records["Records"][0]["body"].as_str().unwrap()).unwrap();
    body["payload"]["data"]["object"].clone()
}

/// The Kentico 13 sample order with custom fields set.
fn k13_with(custom: Value) -> Value {
    let mut order = sample_order("order-worker-sqs.json");
    merge(&mut order, custom);
    order
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) if value.is_object() => merge(existing, value),
                    _ => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (into, from) => *into = from,
    }
}

fn empty_document() -> MappingDocument {
    serde_json::from_value(json!({"schema": 1})).unwrap()
}

fn ranked(found: &[FieldSuggestion]) -> Vec<(String, String, u8)> {
    found
        .iter()
        .map(|s| (s.path.clone(), s.target().to_string(), s.confidence))
        .collect()
}

#[test]
fn the_sample_orders_hold_nothing_to_suggest_but_what_paybridge_does_not_send() {
    let k13 = suggest_fields(
        &empty_document(),
        &[sample_order("order-worker-sqs.json")],
        &[],
    );
    assert_eq!(
        k13,
        [],
        "every field of the Kentico 13 sample is paybridge's own"
    );

    let xbyk = suggest_fields(
        &empty_document(),
        &[sample_order("order-worker-sqs-xbyk.json")],
        &[],
    );
    assert_eq!(
        ranked(&xbyk),
        [
            ("OrderNumber".into(), "metadata.order_number".into(), 80),
            (
                "OrderNumber".into(),
                "statement_descriptor_suffix".into(),
                70
            ),
        ],
        "OrderNumber is read only for a description that asks for it"
    );
    assert_eq!(
        xbyk[0].reasons,
        [
            "metadata keeps any value beside the payment, searchable in Stripe",
            "name matches 'reference' (synonym of 'number')",
            "the sample value looks like a code or reference number",
            "which fits the name",
        ]
    );
}

#[test]
fn custom_fields_are_ranked_by_their_signals() {
    let samples = [
        k13_with(
            json!({"OrderContactMail": "ops@example.com", "OrderFlavour": "Mild",
            "OrderInvoiceNumber": "INV-2026-0042", "Customer": {"CustomerLoyaltyTier": "gold"}}),
        ),
        k13_with(
            json!({"OrderContactMail": "desk@example.org", "OrderFlavour": "Strong",
            "OrderInvoiceNumber": "INV-2026-0043"}),
        ),
    ];
    let found = suggest_fields(&empty_document(), &samples, &[]);
    assert_eq!(
        ranked(&found),
        [
            (
                "OrderContactMail".into(),
                "metadata.order_contact_mail".into(),
                90
            ),
            (
                "OrderInvoiceNumber".into(),
                "metadata.order_invoice_number".into(),
                90
            ),
            (
                "OrderInvoiceNumber".into(),
                "statement_descriptor_suffix".into(),
                80
            ),
            (
                "Customer.CustomerLoyaltyTier".into(),
                "metadata.customer_loyalty_tier".into(),
                50
            ),
            ("OrderFlavour".into(), "metadata.order_flavour".into(), 30),
        ],
        "a name that says what a field is beats one that does not; free text says nothing"
    );
    let mail = &found[0];
    assert_eq!(
        mail.reasons,
        [
            "metadata keeps any value beside the payment, searchable in Stripe",
            "name matches 'email' (synonym of 'mail')",
            "every sample value looks like an e-mail address",
            "which fits the name",
            "receipt_email stays paybridge's own (from Customer.CustomerEmail)",
            "present in all 2 samples",
        ]
    );
    assert_eq!(
        found[3].reasons.last().map(String::as_str),
        Some("present in 1 of 2 samples")
    );
}

#[test]
fn an_earlier_acceptance_outranks_a_derived_key() {
    let samples = [k13_with(
        json!({"Customer": {"CustomerLoyaltyTier": "gold"}}),
    )];
    let accepted = [AcceptedMapping {
        path: "Customer.CustomerLoyaltyTier".into(),
        target: Target::Metadata { key: "tier".into() },
        version: 3,
    }];
    let found = suggest_fields(&empty_document(), &samples, &accepted);
    assert_eq!(
        ranked(&found),
        [
            (
                "Customer.CustomerLoyaltyTier".into(),
                "metadata.tier".into(),
                95
            ),
            (
                "Customer.CustomerLoyaltyTier".into(),
                "metadata.customer_loyalty_tier".into(),
                50
            ),
        ]
    );
    assert!(
        found[0]
            .reasons
            .contains(&"accepted for this field in version 3".to_string()),
        "{:?}",
        found[0].reasons
    );
}

#[test]
fn an_accepted_key_that_is_the_derived_one_is_suggested_once() {
    let samples = [json!({"OrderGiftNote": "Happy birthday"})];
    let accepted = [AcceptedMapping {
        path: "OrderGiftNote".into(),
        target: Target::Metadata {
            key: "order_gift_note".into(),
        },
        version: 4,
    }];
    let found = suggest_fields(&empty_document(), &samples, &accepted);
    assert_eq!(
        ranked(&found),
        [(
            "OrderGiftNote".into(),
            "metadata.order_gift_note".into(),
            95
        )]
    );
}

#[test]
fn an_acceptance_of_a_field_of_the_same_name_elsewhere_counts_less() {
    let samples = [json!({"Loyalty": {"CustomerLoyaltyTier": "gold"}})];
    let accepted = [AcceptedMapping {
        path: "Customer.CustomerLoyaltyTier".into(),
        target: Target::Metadata { key: "tier".into() },
        version: 2,
    }];
    let found = suggest_fields(&empty_document(), &samples, &accepted);
    assert_eq!(found[0].target().to_string(), "metadata.tier");
    assert_eq!(found[0].confidence, 75);
    assert!(
        found[0].reasons.contains(
            &"accepted for 'Customer.CustomerLoyaltyTier', a field of the same name, in version 2"
                .to_string()
        )
    );
}

#[test]
fn fields_the_document_maps_are_left_out_and_its_keys_are_not_reused() {
    let document: MappingDocument = serde_json::from_value(json!({"schema": 1,
        "payment_intent": {"metadata": [
            {"key": "order_note", "from": ["OrderGiftNote"]},
            {"key": "sku", "from": ["OrderItems[1].OrderItemColour"]}],
          "statement_descriptor_suffix": {"from": ["OrderID"], "transform": [{"op": "template", "template": "ORDER {0}"}]}}}))
    .unwrap();
    let samples = [
        json!({"OrderGiftNote": "Happy birthday", "OrderNote": "Ring twice",
        "OrderInvoiceNumber": "INV-1", "OrderItems": [{"OrderItemColour": "red"}]}),
    ];
    let found = suggest_fields(&document, &samples, &[]);
    let targets: Vec<String> = found
        .iter()
        .map(|s| format!("{} → {}", s.path, s.target()))
        .collect();
    assert_eq!(
        targets,
        [
            "OrderInvoiceNumber → metadata.order_invoice_number",
            "OrderNote → metadata.order_note_2",
        ],
        "a descriptor suffix is offered only while the document has none"
    );
}

#[test]
fn rules_trim_and_truncate_what_the_samples_need() {
    let long = "x".repeat(612);
    let samples = [
        json!({"OrderGiftNote": "  Happy birthday "}),
        json!({"OrderGiftNote": long}),
    ];
    let found = suggest_fields(&empty_document(), &samples, &[]);
    let SuggestedRule::Metadata(rule) = &found[0].rule else {
        panic!("{found:?}")
    };
    assert_eq!(
        serde_json::to_value(rule).unwrap(),
        json!({"key": "order_gift_note", "from": ["OrderGiftNote"],
            "transform": [{"op": "trim"}, {"op": "truncate", "length": 500}]})
    );
    let reasons = found[0].reasons.join("\n");
    assert!(reasons.contains("so the rule trims"), "{reasons}");
    assert!(
        reasons.contains("a sample value is 612 characters"),
        "{reasons}"
    );
}

#[test]
fn a_numeric_reference_gets_a_letter_for_the_statement_descriptor() {
    let samples = [
        json!({"OrderPONumber": 88123}),
        json!({"OrderPONumber": 88124}),
    ];
    let found = suggest_fields(&empty_document(), &samples, &[]);
    let suffix = found
        .iter()
        .find(|s| s.target() == Target::StatementDescriptorSuffix)
        .unwrap();
    let mut document = empty_document();
    suffix.apply(&mut document);
    let rule = document.payment_intent.statement_descriptor_suffix.unwrap();
    assert_eq!(
        rule.evaluate(&samples[0]).unwrap().as_deref(),
        Some("REF 88123")
    );
}

#[test]
fn a_document_without_room_gets_no_metadata_suggestions() {
    let rules: Vec<Value> = (0..44)
        .map(|n| json!({"key": format!("k{n}"), "from": ["A"]}))
        .collect();
    let document: MappingDocument =
        serde_json::from_value(json!({"schema": 1, "payment_intent": {"metadata": rules}}))
            .unwrap();
    let found = suggest_fields(&document, &[json!({"OrderFlavour": "Mild"})], &[]);
    assert_eq!(found, []);
}

#[test]
fn a_value_that_contradicts_the_name_lowers_the_confidence() {
    let found = suggest_fields(
        &empty_document(),
        &[
            json!({"OrderContactEmail": "call me"}),
            json!({"OrderContactEmail": "later"}),
        ],
        &[],
    );
    assert_eq!(
        found[0].confidence, 45,
        "20 + 30 for the name - 15 + 10 in every sample"
    );
    assert!(
        found[0]
            .reasons
            .contains(&"but the name suggests an e-mail address".to_string()),
        "{:?}",
        found[0].reasons
    );
}

#[test]
fn every_suggestion_applies_to_a_document_that_stays_valid() {
    let samples = [
        k13_with(
            json!({"OrderContactMail": "ops@example.com", "OrderInvoiceNumber": "INV-2026-0042",
            "kentico_site": "x", "paybridge_flag": true, "Customer": {"CustomerLoyaltyTier": " gold "}}),
        ),
        sample_order("order-worker-sqs-xbyk.json"),
    ];
    for suggestion in suggest_fields(&empty_document(), &samples, &[]) {
        let mut document = empty_document();
        suggestion.apply(&mut document);
        assert_eq!(document.problems(), [], "{suggestion:?}");
    }
}

#[test]
fn a_suggestion_serializes_for_a_console_to_show_and_apply() {
    let found = suggest_fields(&empty_document(), &[json!({"OrderGiftNote": "Hi"})], &[]);
    assert_eq!(
        serde_json::to_value(&found[0]).unwrap(),
        json!({"path": "OrderGiftNote", "confidence": 50,
            "reasons": ["metadata keeps any value beside the payment, searchable in Stripe",
                        "name matches 'note'"],
            "rule": {"metadata": {"key": "order_gift_note", "from": ["OrderGiftNote"], "transform": []}}})
    );
}
