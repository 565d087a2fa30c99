//! The Kentico Xperience 13 order in an `ecommerce.order.*` event (`mapping::KenticoOrder`,
//! docs/CONTRACTS.md#order-object), as the order worker reads it from `data.object`, and the
//! customer in a customer event.
//!
//! Beyond "no panic": an accepted order has a positive id, a lower-case GUID without braces, a
//! customer that is the order's, and its grand total converts to minor units or is refused.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paybridge::mapping::{KenticoCustomer, KenticoOrder, describe_items, to_minor_units};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let object = event.pointer("/data/object").unwrap_or(&event);
    match KenticoOrder::from_event_object(object) {
        Ok(order) => {
            assert!(order.id > 0);
            assert!(!order.guid.is_empty());
            assert_eq!(order.guid, order.guid.to_lowercase());
            assert!(!order.guid.contains(['{', '}']));
            if let (Some(customer), Some(id)) = (&order.customer, order.customer_id) {
                assert_eq!(customer.id, id);
            }
            if let Ok(minor) = to_minor_units("OrderGrandTotal", order.grand_total, &order.currency)
            {
                assert!(minor > 0);
            }
            let _ = describe_items(&order.items);
        }
        Err(error) => {
            assert!(!error.to_string().is_empty());
        }
    }
    let _ = KenticoCustomer::from_event_object(object);
});
