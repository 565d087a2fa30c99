//! Tests for reading whole Kentico orders, starting from the sample event shipped in `events/`.

use rust_decimal_macros::dec;
use serde_json::{Value, json};

use super::*;

/// `data.object` of the signed sample webhook in `events/kentico-webhook-valid.json`.
fn sample_order() -> Value {
    let event: Value = serde_json::from_str(include_str!(
        "../../../../events/kentico-webhook-valid.json"
    ))
    .unwrap();
    let body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    body["data"]["object"].clone()
}

fn order_with(
    change: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> Result<KenticoOrder, MappingError> {
    let mut object = sample_order();
    change(object.as_object_mut().unwrap());
    KenticoOrder::from_event_object(&object)
}

#[test]
fn the_sample_webhook_order_parses() {
    let order = KenticoOrder::from_event_object(&sample_order()).unwrap();

    assert_eq!(order.id, 1042);
    assert_eq!(order.guid, "6f1c2a1e-5d1b-4a53-9a0e-2f7c1d9b8e41");
    assert_eq!(order.customer_id, Some(77));
    assert_eq!(order.currency.code(), "USD");
    assert_eq!(order.grand_total, dec!(129.90));
    assert_eq!(order.total_price, Some(dec!(119.90)));
    assert_eq!(order.total_shipping, Some(dec!(10.00)));
    assert_eq!(order.status_name.as_deref(), Some("New"));
    assert!(!order.is_paid);
    assert_eq!(order.items.len(), 2);
    assert_eq!(order.items[0].name, "Espresso Grinder");
    assert_eq!(order.items[1].units, dec!(1));
    let shipping = order.shipping_address.unwrap();
    assert_eq!(shipping.country.map(|country| country.as_str()), Some("GB"));
    assert_eq!(shipping.postal_code.as_deref(), Some("SW1Y 4JH"));
    assert_eq!(shipping.line2, None);
    assert_eq!(
        order.customer.unwrap().email.as_deref(),
        Some("ada@example.com")
    );
}

#[test]
fn a_misnamed_required_column_is_missing_with_the_present_key_suggested() {
    let renamed = |from: &'static str, to: &'static str| {
        order_with(|object| {
            let value = object.remove(from).unwrap();
            object.insert(to.to_string(), value);
        })
        .unwrap_err()
        .to_string()
    };

    assert_eq!(
        renamed("OrderCurrencyCode", "OrderCurrency"),
        "OrderCurrencyCode: is missing — did you mean the field 'OrderCurrency'?"
    );
    assert_eq!(
        renamed("OrderGrandTotal", "orderGrandTotal"),
        "OrderGrandTotal: is missing — did you mean the field 'orderGrandTotal'?"
    );
    assert_eq!(
        renamed("OrderGrandTotal", "Order_Grand_Total"),
        "OrderGrandTotal: is missing — did you mean the field 'Order_Grand_Total'?"
    );
}

#[test]
fn a_missing_required_column_with_nothing_similar_is_just_missing() {
    let error = order_with(|object| {
        object.remove("OrderGUID");
    })
    .unwrap_err();

    assert_eq!(error.to_string(), "OrderGUID: is missing");
}

#[test]
fn items_that_do_not_add_up_to_the_total_price_are_refused() {
    let error = order_with(|object| {
        object.insert(
            "OrderItems".into(),
            json!([{"OrderItemSKUName": "Espresso Grinder",
            "OrderItemUnitCount": 2, "OrderItemTotalPrice": "99.90"}]),
        );
    })
    .unwrap_err();

    assert_eq!(
        error.to_string(),
        "OrderItems: the items sum to 99.90 but OrderTotalPrice is 119.90"
    );
}

#[test]
fn a_total_price_that_includes_shipping_and_tax_is_accepted() {
    for total in ["129.90", "137.40"] {
        let order = order_with(|object| {
            object.insert("OrderTotalTax".into(), json!("7.50"));
            object.insert("OrderTotalPrice".into(), json!(total));
        });
        assert!(order.is_ok(), "{total}: {order:?}");
    }
}

#[test]
fn line_totals_may_differ_from_the_total_by_a_cent_per_line() {
    let order = order_with(|object| {
        object.insert("OrderTotalPrice".into(), json!("119.92"));
    });

    assert!(order.is_ok());
}

#[test]
fn integers_and_flags_accept_the_spellings_kentico_modules_send() {
    let order = order_with(|object| {
        object.insert("OrderID".into(), json!("1042"));
        object.insert("OrderIsPaid".into(), json!(1));
        object.insert(
            "OrderGUID".into(),
            json!("{6F1C2A1E-5D1B-4A53-9A0E-2F7C1D9B8E41}"),
        );
    })
    .unwrap();

    assert_eq!(order.id, 1042);
    assert!(order.is_paid);
    assert_eq!(order.guid, "6f1c2a1e-5d1b-4a53-9a0e-2f7c1d9b8e41");
    assert!(
        order_with(|o| {
            o.insert("OrderIsPaid".into(), json!("TRUE"));
        })
        .unwrap()
        .is_paid
    );
    assert!(
        !order_with(|o| {
            o.insert("OrderIsPaid".into(), json!("false"));
        })
        .unwrap()
        .is_paid
    );
}

#[test]
fn malformed_required_values_are_refused_precisely() {
    let error = |column: &'static str, value: Value| {
        order_with(|object| {
            object.insert(column.into(), value);
        })
        .unwrap_err()
        .to_string()
    };

    assert_eq!(
        error("OrderID", json!(0)),
        "OrderID: must be a positive ID, got 0"
    );
    assert_eq!(
        error("OrderID", json!("10x")),
        "OrderID: '10x' is not a whole number"
    );
    assert_eq!(
        error("OrderGUID", json!("not-a-guid")),
        "OrderGUID: 'not-a-guid' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
    );
    assert_eq!(
        error("OrderCurrencyCode", json!("US Dollar")),
        "OrderCurrencyCode: currency 'US Dollar' is not an ISO 4217 code — did you mean USD?"
    );
    assert_eq!(
        error("OrderIsPaid", json!("yes")),
        "OrderIsPaid: yes is not true or false"
    );
    assert_eq!(
        error("OrderItems", json!({})),
        "OrderItems: is not a list of order items (found an object)"
    );
    assert_eq!(
        error("OrderShippingAddress", json!({"AddressCountry": "Germny"})),
        "OrderShippingAddress.AddressCountry: country 'Germny' is unknown — did you mean DE (Germany)?"
    );
}

#[test]
fn a_nested_customer_other_than_the_orders_customer_is_refused() {
    let error = order_with(|object| {
        object.insert("OrderCustomerID".into(), json!(78));
    })
    .unwrap_err();

    assert_eq!(
        error.to_string(),
        "Customer.CustomerID: customer 77 is not the order's customer (OrderCustomerID 78)"
    );
}

#[test]
fn an_event_object_that_is_not_an_object_is_refused() {
    let error = KenticoOrder::from_event_object(&json!([1, 2])).unwrap_err();

    assert_eq!(
        error.to_string(),
        "data.object: is not a JSON object (found an array)"
    );
}

#[test]
fn shipping_and_tax_too_large_to_add_are_refused_not_a_panic() {
    let huge = "79228162514264337593543950335"; // Decimal::MAX
    let with_huge_extras = |total_price: &str| {
        order_with(|object| {
            object.insert("OrderTotalShipping".into(), json!(huge));
            object.insert("OrderTotalTax".into(), json!(huge));
            object.insert("OrderTotalPrice".into(), json!(total_price));
        })
    };

    assert!(with_huge_extras("119.90").is_ok(), "the lines alone match");
    assert_eq!(with_huge_extras("1.00").unwrap_err().field, "OrderItems");
}

#[test]
fn order_last_modified_is_read_with_or_without_an_offset() {
    let at = |text: &str| {
        order_with(|object| {
            object.insert("OrderLastModified".into(), json!(text));
        })
        .map(|order| order.last_modified.map(|t| t.unix_timestamp()))
    };

    assert_eq!(at("2026-11-29T12:00:00Z"), Ok(Some(1_795_953_600)));
    assert_eq!(at("2026-11-29T13:00:00+01:00"), Ok(Some(1_795_953_600)));
    assert_eq!(at("2026-11-29T12:00:00.250"), Ok(Some(1_795_953_600)));
    assert_eq!(
        at("29/11/2026 12:00").unwrap_err().field,
        "OrderLastModified"
    );
}

#[test]
fn an_order_with_more_lines_than_the_limit_is_refused() {
    let line = json!({"OrderItemSKUName": "Filter Pack", "OrderItemUnitCount": 1, "OrderItemUnitPrice": "0.01"});
    let with_lines = |n: usize| {
        order_with(|o| {
            o.remove("OrderTotalPrice");
            o.insert("OrderItems".into(), Value::Array(vec![line.clone(); n]));
        })
    };
    assert_eq!(
        with_lines(MAX_ORDER_ITEMS).unwrap().items.len(),
        MAX_ORDER_ITEMS
    );
    let error = with_lines(10_000).unwrap_err();
    assert_eq!(error.field, "OrderItems");
    assert!(error.problem.contains("10000 lines"), "{error}");
}
