//! `suggest_correction` on dead-lettered orders: the alias it proposes, and when it proposes none.

use serde_json::{Value, json};

use super::*;

/// A dead-lettered queue message (as `paybridge dlq show` has it) around `order`.
fn dead_letter(order: Value) -> Value {
    json!({"source": "kentico", "event_id": "e1", "event_type": "ecommerce.order.created",
        "payload": {"id": "e1", "type": "ecommerce.order.created", "data": {"object": order}}})
}

fn correction(field: &str, order: Value, detail: Option<&str>) -> Option<Correction> {
    suggest_correction(field, &dead_letter(order), detail)
}

#[test]
fn a_currency_name_becomes_a_currency_alias() {
    let found = correction(
        "OrderCurrencyCode",
        json!({"OrderCurrencyCode": " US Dollar "}),
        Some("USD"),
    );
    let found = found.unwrap();
    assert_eq!(
        found.change,
        CorrectionChange::CurrencyAlias {
            spelling: "US Dollar".into(),
            code: "USD".into()
        }
    );
    assert_eq!(found.value, "US Dollar");
    assert_eq!(found.confidence, 100);
    assert_eq!(
        found.explanation,
        "'US Dollar' is a name of USD (United States dollar); the dead letter suggested it too"
    );
    assert_eq!(
        found.describe(),
        "add aliases.currencies[\"US Dollar\"] = \"USD\": orders in 'US Dollar' are charged in USD (United States dollar)"
    );
    let mut document: MappingDocument = serde_json::from_value(json!({"schema": 1})).unwrap();
    found.apply(&mut document);
    assert_eq!(document.aliases.currencies["US Dollar"], "USD");
    assert_eq!(document.problems(), []);
}

#[test]
fn currency_signs_codes_in_text_and_typos_are_recognised() {
    for (value, code, confidence) in [
        ("€", "EUR", 90),
        ("USD - US Dollar", "USD", 90),
        ("usd.", "USD", 90),
        ("UDS", "USD", 75),
        ("Candian dollar", "CAD", 75),
        ("Pounds Sterling", "GBP", 95),
    ] {
        let found = correction(
            "OrderCurrencyCode",
            json!({"OrderCurrencyCode": value}),
            None,
        )
        .unwrap_or_else(|| panic!("{value}"));
        assert_eq!(found.change.code(), code, "{value}");
        assert_eq!(
            found.confidence, confidence,
            "{value}: {}",
            found.explanation
        );
    }
}

#[test]
fn no_currency_correction_when_unsure_or_nothing_is_wrong() {
    let none = |value: &str, why: &str| {
        let found = correction(
            "OrderCurrencyCode",
            json!({"OrderCurrencyCode": value}),
            None,
        );
        assert_eq!(found, None, "{value}: {why}");
    };
    none("$", "the sign of many dollars: 55, below the threshold");
    none("banana bread", "nothing like a currency");
    none("USD or EUR", "two codes: which one?");
    none("usd", "it reads already; an alias would change nothing");
    assert_eq!(
        correction(
            "OrderCurrencyCode",
            json!({"OrderCurrencyCode": "$"}),
            Some("USD")
        ),
        None,
        "the dead letter's agreement does not lift an ambiguous sign over the threshold"
    );
}

#[test]
fn a_country_with_its_code_in_brackets_becomes_a_country_alias() {
    let found = correction(
        "OrderShippingAddress.AddressCountry",
        json!({"OrderShippingAddress": {"AddressCountry": "United Kingdom (GB)"}}),
        None,
    )
    .unwrap();
    assert_eq!(
        found.change,
        CorrectionChange::CountryAlias {
            spelling: "United Kingdom (GB)".into(),
            code: "GB".into()
        }
    );
    assert_eq!(found.confidence, 95);
    assert!(found.describe().starts_with(
        "add aliases.countries[\"United Kingdom (GB)\"] = \"GB\": orders whose country is 'United Kingdom (GB)' are read as GB"
    ), "{}", found.describe());
}

#[test]
fn country_names_with_noise_and_typos_are_recognised_in_both_shapes() {
    for (field, order, code, confidence) in [
        (
            "OrderBillingAddress.AddressCountry",
            json!({"OrderBillingAddress": {"AddressCountry": "Germany / Deutschland"}}),
            "DE",
            80,
        ),
        (
            "OrderBillingAddress.AddressCountry",
            json!({"OrderBillingAddress": {"AddressCountry": "Federal Republic of Germany"}}),
            "DE",
            80,
        ),
        (
            "OrderAddresses[1].OrderAddressCountry",
            json!({"OrderAddresses": [{}, {"OrderAddressCountry": "Germny"}]}),
            "DE",
            80,
        ),
        (
            "OrderAddresses[0].OrderAddressCountry",
            json!({"OrderAddresses": [{"OrderAddressCountry": "[FR] France"}]}),
            "FR",
            95,
        ),
    ] {
        let found = correction(field, order, None).unwrap_or_else(|| panic!("{field}"));
        assert_eq!(found.change.code(), code, "{}", found.explanation);
        assert_eq!(found.confidence, confidence, "{}", found.explanation);
    }
}

#[test]
fn no_country_correction_when_unsure() {
    let none = |value: &str, why: &str| {
        let order = json!({"OrderBillingAddress": {"AddressCountry": value}});
        let found = correction("OrderBillingAddress.AddressCountry", order, None);
        assert_eq!(found, None, "{value}: {why}");
    };
    none("Germany / France", "two countries named");
    none("Germany (FR)", "the name and the bracketed code disagree");
    none("Atlantis Prime", "no country");
    none(
        "ZZ",
        "a code no country has; codes are too short to guess from",
    );
    none("United Kingdom", "it reads already");
}

#[test]
fn the_dead_letters_own_suggestion_is_weighed() {
    let order = json!({"OrderBillingAddress": {"AddressCountry": "Germny"}});
    let agreeing = correction(
        "OrderBillingAddress.AddressCountry",
        order.clone(),
        Some("DE (Germany)"),
    )
    .unwrap();
    assert_eq!(agreeing.confidence, 85);
    let differing = correction(
        "OrderBillingAddress.AddressCountry",
        order,
        Some("AT (Austria)"),
    );
    assert_eq!(differing, None, "80 - 15 is below the threshold");
}

#[test]
fn a_state_spelling_becomes_a_state_alias_for_the_addresss_country() {
    let found = correction(
        "OrderShippingAddress.AddressState",
        json!({"OrderShippingAddress": {"AddressCountry": "USA", "AddressState": "Califronia"}}),
        None,
    )
    .unwrap();
    assert_eq!(
        found.change,
        CorrectionChange::StateAlias {
            country: "US".into(),
            spelling: "Califronia".into(),
            code: "CA".into()
        }
    );
    let mut document: MappingDocument = serde_json::from_value(json!({"schema": 1})).unwrap();
    found.apply(&mut document);
    assert_eq!(document.aliases.states["US"]["Califronia"], "CA");
    assert_eq!(document.problems(), []);

    let xbyk = correction(
        "OrderAddresses[0].OrderAddressState",
        json!({"OrderAddresses": [{"OrderAddressCountry": "CA", "OrderAddressState": "Province of Quebec"}]}),
        None,
    )
    .unwrap();
    assert_eq!(xbyk.change.code(), "QC");
}

#[test]
fn no_state_correction_when_unsure() {
    let none = |country: &str, state: &str, why: &str| {
        let order =
            json!({"OrderShippingAddress": {"AddressCountry": country, "AddressState": state}});
        assert_eq!(
            correction("OrderShippingAddress.AddressState", order, None),
            None,
            "{state}: {why}"
        );
    };
    none("DE", "Bayrn", "paybridge knows no German states");
    none("US", "Nowhere", "no state like it");
    none("US", "CA", "it reads already");
    none("US", "Virginia or Georgia", "two states named");
    none(
        "Atlantis",
        "Califronia",
        "the country does not read, so neither does its state",
    );
}

#[test]
fn fields_that_no_alias_fixes_get_no_correction() {
    let order = json!({"OrderID": "abc", "OrderItems": [{"OrderItemUnitCount": "x"}]});
    assert_eq!(correction("OrderID", order.clone(), None), None);
    assert_eq!(
        correction("OrderItems[0].OrderItemUnitCount", order.clone(), None),
        None
    );
    assert_eq!(correction("status 'Paid'", order.clone(), None), None);
    assert_eq!(correction("OrderCurrencyCode", order, None), None, "absent");
}

#[test]
fn a_correction_serializes_for_a_console_to_show_and_apply() {
    let found = correction("OrderCurrencyCode", json!({"OrderCurrencyCode": "€"}), None).unwrap();
    assert_eq!(
        serde_json::to_value(&found).unwrap(),
        json!({"field": "OrderCurrencyCode", "value": "€", "confidence": 90,
            "explanation": "'€' is the sign of EUR (Euro)",
            "change": {"alias": "currency_alias", "spelling": "€", "code": "EUR"}})
    );
}
