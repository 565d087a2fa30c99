//! Property tests: suggestions are deterministic, and every one applied alone leaves a valid
//! document, whatever the samples hold.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "OrderNote",
        "OrderContactMail",
        "OrderInvoiceNumber",
        "Customer",
        "OrderItems",
        "OrderID",
        "kentico_order_id",
        "paybridge_x",
        "a b",
        "a.b",
        "x[0]",
        "",
        "Ünïcode",
        "OrderPONumber",
        "ShipZipCode",
        "VeryLongCustomFieldNameThatGoesOnAndOnForeverAndEver",
    ])
    .prop_map(str::to_string)
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "ada@example.com",
            " gold ",
            "INV-2026-0042",
            "Germany",
            "US Dollar",
            "SW1Y 4JH",
            "2026-11-29",
            "true",
            "",
            "129.90",
            "+44 20 7946 0000",
        ])
        .prop_map(|s| json!(s)),
        "\\PC{0,30}".prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn object() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec((key(), inner.clone()), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
            prop::collection::vec(inner, 0..3).prop_map(Value::Array),
        ]
    })
}

fn document() -> impl Strategy<Value = MappingDocument> {
    (0_usize..45, any::<bool>()).prop_map(|(keys, suffix)| {
        let rules: Vec<Value> = (0..keys)
            .map(|n| json!({"key": if n == 0 { "order_note".to_string() } else { format!("k{n}") }, "from": ["OrderNote"]}))
            .collect();
        let mut document = json!({"schema": 1, "payment_intent": {"metadata": rules}});
        if suffix {
            document["payment_intent"]["statement_descriptor_suffix"] = json!({"from": ["OrderID"]});
        }
        serde_json::from_value(document).unwrap_or_else(|e| panic!("{e}"))
    })
}

proptest! {
    #[test]
    fn suggestions_are_deterministic_and_each_leaves_a_valid_document(
        document in document(),
        samples in prop::collection::vec(object(), 0..4),
        accepted_key in key(),
    ) {
        let accepted = [AcceptedMapping {
            path: "OrderNote".into(),
            target: Target::Metadata { key: accepted_key },
            version: 1,
        }];
        let first = suggest_fields(&document, &samples, &accepted);
        prop_assert_eq!(&first, &suggest_fields(&document, &samples, &accepted));
        for pair in first.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            prop_assert!(
                a.confidence > b.confidence || (a.confidence == b.confidence && a.path <= b.path),
                "ranked by confidence, then path"
            );
        }
        for suggestion in &first {
            prop_assert!(suggestion.confidence <= 100);
            prop_assert!(!suggestion.reasons.is_empty());
            let mut changed = document.clone();
            suggestion.apply(&mut changed);
            prop_assert_eq!(changed.problems(), Vec::new(), "{:?}", suggestion);
        }
    }

    #[test]
    fn a_correction_is_deterministic_and_leaves_a_valid_document(
        value in prop_oneof![
            prop::sample::select(vec!["US Dollar", "€", "UDS", "United Kingdom (GB)", "Germny",
                "Califronia", "Germany / France", "$", "usd", "[DE]"]).prop_map(str::to_string),
            "\\PC{0,20}",
        ],
        column in prop::sample::select(vec!["OrderCurrencyCode", "OrderBillingAddress.AddressCountry", "OrderBillingAddress.AddressState"]),
    ) {
        let order = json!({"OrderCurrencyCode": value,
            "OrderBillingAddress": {"AddressCountry": if column.ends_with("State") { json!("US") } else { json!(value) }, "AddressState": value}});
        let found = suggest_correction(column, &order, None);
        prop_assert_eq!(&found, &suggest_correction(column, &order, None));
        if let Some(correction) = found {
            prop_assert!(correction.confidence >= MIN_CORRECTION_CONFIDENCE);
            let mut document: MappingDocument = serde_json::from_value(json!({"schema": 1})).unwrap();
            correction.apply(&mut document);
            prop_assert_eq!(document.problems(), Vec::new(), "{:?}", correction);
        }
    }
}
