//! The Kentico columns the built-in order mappings read, in both shapes, as field paths into
//! `data.object` (`Customer.CustomerEmail`, `OrderItems[0].OrderItemSKU`).

use std::collections::BTreeSet;

use super::{address, kentico_order, xbyk_order};

/// Every column the Kentico 13 and Xperience by Kentico order mappings read; a line's columns
/// under `OrderItems[0]`, an XbyK address's under `OrderAddresses[0]`.
pub(crate) fn built_in_order_fields() -> BTreeSet<String> {
    let under = |prefix: &str, columns: &[&str]| -> Vec<String> {
        columns.iter().map(|c| format!("{prefix}{c}")).collect()
    };
    let mut fields = BTreeSet::new();
    fields.extend(under("", kentico_order::ORDER_COLUMNS));
    fields.extend(under("", xbyk_order::ORDER_COLUMNS));
    fields.extend(under("Customer.", kentico_order::CUSTOMER_COLUMNS));
    fields.extend(under("OrderItems[0].", kentico_order::ITEM_COLUMNS));
    fields.extend(under("OrderItems[0].", xbyk_order::ITEM_COLUMNS));
    fields.extend(under("OrderBillingAddress.", address::ADDRESS_COLUMNS));
    fields.extend(under("OrderShippingAddress.", address::ADDRESS_COLUMNS));
    fields.extend(under("OrderAddresses[0].", xbyk_order::ADDRESS_COLUMNS));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_columns_are_listed_with_their_paths() {
        let fields = built_in_order_fields();
        for field in [
            "OrderID",
            "OrderGUID",
            "OrderNumber",
            "OrderCurrencyCode",
            "Customer.CustomerEmail",
            "OrderItems[0].OrderItemSKUName",
            "OrderItems[0].OrderItemSKU",
            "OrderShippingAddress.AddressCountry",
            "OrderAddresses[0].OrderAddressCountry",
        ] {
            assert!(fields.contains(field), "{field}");
        }
        assert!(!fields.contains("OrderInvoiceNumber"));
    }
}
