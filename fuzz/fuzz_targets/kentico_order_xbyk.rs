//! The Xperience by Kentico order in an `ecommerce.order.*` event whose body says
//! `"platform": "xbyk"` (`KenticoOrder::from_xbyk_event_object`,
//! docs/CONTRACTS.md#xperience-by-kentico-order-object), and the event's `platform` itself.
//!
//! Beyond "no panic": an accepted order has a positive id, a lower-case GUID without braces, an
//! order number, is never read as already paid, keeps a customer that is the order's, takes the
//! configured currency only when it carries none, and its grand total converts to minor units
//! or is refused.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paybridge::mapping::{Currency, KenticoOrder, KenticoPlatform, describe_items, to_minor_units};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = KenticoPlatform::from_event(&event);
    let object = event.pointer("/data/object").unwrap_or(&event);
    let configured = Currency::parse("KENTICO_CURRENCY", "EUR").expect("EUR can be charged");
    for default in [Some(configured), None] {
        match KenticoOrder::from_xbyk_event_object(object, default) {
            Ok(order) => {
                assert!(order.id > 0);
                assert!(!order.guid.is_empty());
                assert_eq!(order.guid, order.guid.to_lowercase());
                assert!(!order.guid.contains(['{', '}']));
                assert!(order.number.as_deref().is_some_and(|n| !n.is_empty()));
                assert!(!order.is_paid, "an XbyK order has no paid flag");
                if let (Some(customer), Some(id)) = (&order.customer, order.customer_id) {
                    assert_eq!(customer.id, id);
                }
                if object.get("OrderCurrencyCode").is_none_or(Value::is_null) {
                    assert_eq!(default, Some(order.currency), "the configured currency");
                }
                if let Ok(minor) =
                    to_minor_units("OrderGrandTotal", order.grand_total, &order.currency)
                {
                    assert!(minor > 0);
                }
                let _ = describe_items(&order.items);
            }
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
});
