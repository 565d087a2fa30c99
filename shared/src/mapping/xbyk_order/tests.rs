//! Tests for reading whole Xperience by Kentico orders into the Kentico order the flows use.

use rust_decimal_macros::dec;
use serde_json::{Map, Value, json};

use super::*;
use crate::mapping::address::{Address, standardize_country};
use crate::mapping::kentico_order::{MAX_ORDER_ITEMS, OrderItem};

fn usd() -> Currency {
    Currency::parse("currency", "USD").unwrap()
}

/// An XbyK order as the package sends it in `data.object`.
fn xbyk_order() -> Value {
    json!({
        "OrderID": 2051,
        "OrderGUID": "{7A2D9C4E-1B3F-4E5A-8C6D-9E0F1A2B3C4D}",
        "OrderNumber": "ORD-2026-000123",
        "OrderCustomerID": 77,
        "OrderGrandTotal": "129.90",
        "OrderTotalPrice": 119.9,
        "OrderTotalTax": "0",
        "OrderTotalShipping": "10.00",
        "OrderOrderStatusID": 1,
        "OrderStatusName": "New",
        "OrderCreatedWhen": "2026-11-29T11:58:00Z",
        "OrderModifiedWhen": "2026-11-29T12:00:00Z",
        "OrderItems": [
            {"OrderItemSKU": "EG-100", "OrderItemName": "Espresso Grinder",
             "OrderItemQuantity": 2, "OrderItemUnitPrice": "49.95", "OrderItemTotalPrice": "99.90"},
            {"OrderItemSKU": "FP-20", "OrderItemName": "Filter Pack",
             "OrderItemQuantity": "1.0", "OrderItemUnitPrice": 20, "OrderItemTotalPrice": 20}
        ],
        "OrderAddresses": [
            {"OrderAddressType": "Shipping", "OrderAddressFirstName": "Ada",
             "OrderAddressLastName": "Lovelace", "OrderAddressLine1": "12 St James's Square",
             "OrderAddressCity": "London", "OrderAddressZip": "sw1y 4jh",
             "OrderAddressCountry": "GB", "OrderAddressPhone": "+44 20 7946 0000"},
            {"OrderAddressType": "Billing", "OrderAddressFirstName": "Ada",
             "OrderAddressLastName": "Lovelace", "OrderAddressCompany": "Analytical Engines Ltd",
             "OrderAddressEmail": "billing@example.com", "OrderAddressLine1": "1 Navy Way",
             "OrderAddressLine2": "Suite 2", "OrderAddressCity": "Arlington",
             "OrderAddressZip": 22202, "OrderAddressState": "Virginia",
             "OrderAddressCountry": "US"}
        ],
        "Customer": {"CustomerID": 77, "CustomerGUID": "0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10",
            "CustomerEmail": "ada@example.com", "CustomerFirstName": "Ada",
            "CustomerLastName": "Lovelace", "CustomerPhone": "+44 20 7946 0000"}
    })
}

/// The same order in the Kentico 13 module's shape (docs/CONTRACTS.md#order-object).
fn k13_order() -> Value {
    json!({
        "OrderID": 2051,
        "OrderGUID": "7a2d9c4e-1b3f-4e5a-8c6d-9e0f1a2b3c4d",
        "OrderCustomerID": 77,
        "OrderCurrencyCode": "USD",
        "OrderGrandTotal": 129.9,
        "OrderTotalPrice": "119.90",
        "OrderTotalTax": 0,
        "OrderTotalShipping": 10,
        "OrderStatusName": "New",
        "OrderIsPaid": false,
        "OrderLastModified": "2026-11-29T12:00:00Z",
        "OrderItems": [
            {"OrderItemSKUName": "Espresso Grinder", "SKUNumber": "EG-100",
             "OrderItemUnitCount": 2, "OrderItemUnitPrice": 49.95, "OrderItemTotalPrice": 99.9},
            {"OrderItemSKUName": "Filter Pack", "SKUNumber": "FP-20",
             "OrderItemUnitCount": 1, "OrderItemUnitPrice": "20", "OrderItemTotalPrice": "20"}
        ],
        "OrderBillingAddress": {"AddressPersonalName": "Ada Lovelace",
            "AddressLine1": "1 Navy Way", "AddressLine2": "Suite 2", "AddressCity": "Arlington",
            "AddressZip": "22202", "AddressState": "Virginia", "AddressCountry": "US"},
        "OrderShippingAddress": {"AddressPersonalName": "Ada Lovelace",
            "AddressLine1": "12 St James's Square", "AddressCity": "London",
            "AddressZip": "SW1Y 4JH", "AddressCountry": "GB", "AddressPhone": "+44 20 7946 0000"},
        "Customer": {"CustomerID": 77, "CustomerGUID": "0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10",
            "CustomerEmail": "ada@example.com", "CustomerFirstName": "Ada",
            "CustomerLastName": "Lovelace", "CustomerPhone": "+44 20 7946 0000"}
    })
}

fn xbyk_with(change: impl FnOnce(&mut Map<String, Value>)) -> Result<KenticoOrder, MappingError> {
    let mut object = xbyk_order();
    change(object.as_object_mut().unwrap());
    KenticoOrder::from_xbyk_event_object(&object, Some(usd()))
}

fn error_of(change: impl FnOnce(&mut Map<String, Value>)) -> String {
    xbyk_with(change).unwrap_err().to_string()
}

#[test]
fn a_full_xbyk_order_maps_to_the_kentico_order() {
    let order = KenticoOrder::from_xbyk_event_object(&xbyk_order(), Some(usd())).unwrap();

    assert_eq!(order.id, 2051);
    assert_eq!(order.guid, "7a2d9c4e-1b3f-4e5a-8c6d-9e0f1a2b3c4d");
    assert_eq!(order.number.as_deref(), Some("ORD-2026-000123"));
    assert_eq!(order.customer_id, Some(77));
    assert_eq!(order.currency.code(), "USD");
    assert_eq!(order.grand_total, dec!(129.90));
    assert_eq!(order.total_price, Some(dec!(119.9)));
    assert_eq!(order.total_tax, Some(dec!(0)));
    assert_eq!(order.total_shipping, Some(dec!(10.00)));
    assert_eq!(order.status_name.as_deref(), Some("New"));
    assert!(!order.is_paid);
    assert_eq!(
        order.last_modified,
        Some(time::macros::datetime!(2026-11-29 12:00:00 UTC))
    );
    assert_eq!(
        order.items,
        vec![
            OrderItem {
                sku_id: None,
                name: "Espresso Grinder".to_string(),
                sku_number: Some("EG-100".to_string()),
                units: dec!(2),
                unit_price: Some(dec!(49.95)),
                total_price: Some(dec!(99.90)),
            },
            OrderItem {
                sku_id: None,
                name: "Filter Pack".to_string(),
                sku_number: Some("FP-20".to_string()),
                units: dec!(1),
                unit_price: Some(dec!(20)),
                total_price: Some(dec!(20)),
            },
        ]
    );
    assert_eq!(
        order.billing_address,
        Some(Address {
            name: Some("Ada Lovelace".to_string()),
            line1: Some("1 Navy Way".to_string()),
            line2: Some("Suite 2".to_string()),
            city: Some("Arlington".to_string()),
            postal_code: Some("22202".to_string()),
            state: Some("VA".to_string()),
            country: Some(standardize_country("country", "US").unwrap()),
            phone: None,
        })
    );
    assert_eq!(
        order.shipping_address,
        Some(Address {
            name: Some("Ada Lovelace".to_string()),
            line1: Some("12 St James's Square".to_string()),
            line2: None,
            city: Some("London".to_string()),
            postal_code: Some("SW1Y 4JH".to_string()),
            state: None,
            country: Some(standardize_country("country", "GB").unwrap()),
            phone: Some("+44 20 7946 0000".to_string()),
        })
    );
    let customer = order.customer.unwrap();
    assert_eq!(customer.id, 77);
    assert_eq!(customer.email.as_deref(), Some("ada@example.com"));
}

#[test]
fn the_currency_is_the_configured_one() {
    for code in ["USD", "EUR", "JPY"] {
        let currency = Currency::parse("currency", code).unwrap();

        let order = KenticoOrder::from_xbyk_event_object(&xbyk_order(), Some(currency)).unwrap();

        assert_eq!(order.currency.code(), code);
    }
}

#[test]
fn the_k13_and_xbyk_mappings_agree_on_the_same_order() {
    let k13 = KenticoOrder::from_event_object(&k13_order()).unwrap();
    let xbyk = KenticoOrder::from_xbyk_event_object(&xbyk_order(), Some(usd())).unwrap();

    assert_eq!(xbyk.number.as_deref(), Some("ORD-2026-000123"));
    assert_eq!(k13.number, None);
    let items_without_sku_ids = k13
        .items
        .iter()
        .map(|item| OrderItem {
            sku_id: None,
            ..item.clone()
        })
        .collect::<Vec<_>>();
    assert_eq!(
        KenticoOrder {
            number: None,
            ..xbyk
        },
        KenticoOrder {
            items: items_without_sku_ids,
            ..k13
        }
    );
}

#[test]
fn each_required_column_missing_is_named() {
    let cases = [
        ("OrderID", "OrderID: is missing"),
        ("OrderGUID", "OrderGUID: is missing"),
        ("OrderNumber", "OrderNumber: is missing"),
        ("OrderGrandTotal", "OrderGrandTotal: is missing"),
        (
            "OrderAddresses",
            "OrderAddresses: has no Billing address (OrderAddressType Billing)",
        ),
    ];

    for (column, expected) in cases {
        assert_eq!(
            error_of(|object| {
                object.remove(column);
            }),
            expected,
            "{column}"
        );
    }
}

#[test]
fn a_near_miss_column_name_is_suggested() {
    let error = error_of(|object| {
        let total = object.remove("OrderGrandTotal").unwrap();
        object.insert("orderGrandTotal".to_string(), total);
    });

    assert_eq!(
        error,
        "OrderGrandTotal: is missing — did you mean the field 'orderGrandTotal'?"
    );
}

fn with_addresses(addresses: Value) -> Result<KenticoOrder, MappingError> {
    xbyk_with(|object| {
        object.insert("OrderAddresses".to_string(), addresses);
    })
}

#[test]
fn address_types_must_be_one_billing_and_at_most_one_shipping() {
    let billing = json!({"OrderAddressType": "Billing", "OrderAddressCountry": "US"});
    let shipping = json!({"OrderAddressType": "Shipping", "OrderAddressCountry": "GB"});
    let cases = [
        (
            json!([billing, {"OrderAddressType": "Home", "OrderAddressCity": "Leeds"}]),
            "OrderAddresses[1].OrderAddressType: 'Home' is not an address type (Billing or Shipping)",
        ),
        (
            json!([{"OrderAddressTyp": "Billing"}]),
            "OrderAddresses[0].OrderAddressType: is missing — did you mean the field 'OrderAddressTyp'?",
        ),
        (
            json!([billing, billing]),
            "OrderAddresses[1].OrderAddressType: is a second Billing address; an order has one",
        ),
        (
            json!([billing, shipping, shipping]),
            "OrderAddresses[2].OrderAddressType: is a second Shipping address; an order has one",
        ),
        (
            json!([shipping]),
            "OrderAddresses: has no Billing address (OrderAddressType Billing)",
        ),
        (
            json!([]),
            "OrderAddresses: has no Billing address (OrderAddressType Billing)",
        ),
        (
            json!({"OrderAddressType": "Billing"}),
            "OrderAddresses: is not a list of addresses (found an object)",
        ),
        (
            json!([billing, "Shipping"]),
            "OrderAddresses[1]: is not a JSON object (found a string)",
        ),
    ];

    for (addresses, expected) in cases {
        let error = with_addresses(addresses.clone()).unwrap_err();
        assert_eq!(error.to_string(), expected, "{addresses}");
    }
}

#[test]
fn an_unknown_country_names_the_address_entry() {
    let error = with_addresses(json!([
        {"OrderAddressType": "Billing", "OrderAddressCountry": "Narnia"}
    ]))
    .unwrap_err();

    assert_eq!(error.field, "OrderAddresses[0].OrderAddressCountry");
}

#[test]
fn address_types_are_matched_without_case_and_shipping_is_optional() {
    let order = with_addresses(json!([
        {"OrderAddressType": "billing", "OrderAddressCity": "Arlington"}
    ]))
    .unwrap();

    assert_eq!(
        order.billing_address.and_then(|address| address.city),
        Some("Arlington".to_string())
    );
    assert_eq!(order.shipping_address, None);
}

#[test]
fn the_lines_must_add_up_to_the_total_price() {
    let error = error_of(|object| {
        object["OrderItems"][1]["OrderItemTotalPrice"] = json!("25.00");
    });

    assert_eq!(
        error,
        "OrderItems: the items sum to 124.90 but OrderTotalPrice is 119.9"
    );
}

#[test]
fn too_many_lines_are_refused() {
    let error = error_of(|object| {
        let line = json!({"OrderItemName": "Filter Pack", "OrderItemQuantity": 1});
        object.insert(
            "OrderItems".to_string(),
            Value::Array(vec![line; MAX_ORDER_ITEMS + 1]),
        );
        object.remove("OrderTotalPrice");
    });

    assert_eq!(
        error,
        format!("OrderItems: has 1001 lines, more than the {MAX_ORDER_ITEMS} an order may have")
    );
}

#[test]
fn the_nested_customer_must_be_the_orders_customer() {
    let error = error_of(|object| {
        object["OrderCustomerID"] = json!(78);
    });

    assert_eq!(
        error,
        "Customer.CustomerID: customer 77 is not the order's customer (OrderCustomerID 78)"
    );
}

#[test]
fn a_malformed_status_id_is_refused() {
    let error = error_of(|object| {
        object["OrderOrderStatusID"] = json!("new");
    });

    assert_eq!(error, "OrderOrderStatusID: 'new' is not a whole number");
}

#[test]
fn the_packages_currency_wins_over_the_configured_one() {
    let mut object = xbyk_order();
    object["OrderCurrencyCode"] = json!("eur");

    let order = KenticoOrder::from_xbyk_event_object(&object, Some(usd())).unwrap();
    assert_eq!(order.currency.code(), "EUR");

    let order = KenticoOrder::from_xbyk_event_object(&object, None).unwrap();
    assert_eq!(order.currency.code(), "EUR");
}

#[test]
fn an_order_without_a_currency_needs_the_configured_one() {
    let error = KenticoOrder::from_xbyk_event_object(&xbyk_order(), None).unwrap_err();

    assert_eq!(error.field, "OrderCurrencyCode");
    assert_eq!(
        error.suggestion.as_deref(),
        Some("set KENTICO_CURRENCY (e.g. EUR), or the package's Paybridge:Currency")
    );
}

#[test]
fn a_currency_that_cannot_be_charged_is_refused() {
    let mut object = xbyk_order();
    object["OrderCurrencyCode"] = json!("XAU");

    let error = KenticoOrder::from_xbyk_event_object(&object, Some(usd())).unwrap_err();
    assert_eq!(error.field, "OrderCurrencyCode");
}
