//! One Xperience by Kentico order line (`OrderItems[n]`, an `OrderItemInfo`).

use serde_json::Value;

use crate::mapping::columns::Columns;
use crate::mapping::error::MappingError;
use crate::mapping::kentico_order::OrderItem;

pub(crate) const ITEM_COLUMNS: &[&str] = &[
    "OrderItemID",
    "OrderItemGUID",
    "OrderItemSKU",
    "OrderItemName",
    "OrderItemQuantity",
    "OrderItemUnitPrice",
    "OrderItemTotalPrice",
    "OrderItemTotalTax",
    "OrderItemTaxRate",
];

/// Reads `OrderItems[index]` into the same line a Kentico 13 order has: `OrderItemName` is the
/// name, `OrderItemSKU` the SKU number, `OrderItemQuantity` the units (required, positive).
/// XbyK lines have no SKU ID: the product is a content item the package does not resolve.
pub(crate) fn read_line(value: &Value, index: usize) -> Result<OrderItem, MappingError> {
    let path = format!("OrderItems[{index}]");
    let columns = Columns::new(value, &path, format!("{path}."), ITEM_COLUMNS)?;
    Ok(OrderItem {
        sku_id: None,
        name: columns.required_text("OrderItemName")?,
        sku_number: columns.text("OrderItemSKU")?,
        units: columns.positive_amount("OrderItemQuantity")?,
        unit_price: columns.amount("OrderItemUnitPrice")?,
        total_price: columns.amount("OrderItemTotalPrice")?,
    })
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_a_line_with_a_decimal_quantity_and_string_prices() {
        let value = json!({"OrderItemSKU": "EG-100", "OrderItemName": " Espresso Grinder ",
            "OrderItemQuantity": 2.0, "OrderItemUnitPrice": "49.95", "OrderItemTotalPrice": 99.9});

        let item = read_line(&value, 0).unwrap();

        assert_eq!(
            item,
            OrderItem {
                sku_id: None,
                name: "Espresso Grinder".to_string(),
                sku_number: Some("EG-100".to_string()),
                units: dec!(2),
                unit_price: Some(dec!(49.95)),
                total_price: Some(dec!(99.9)),
            }
        );
    }

    #[test]
    fn a_line_without_a_name_or_a_positive_quantity_is_refused_with_its_index() {
        let cases = [
            (
                json!({"OrderItemQuantity": 1}),
                "OrderItems[1].OrderItemName: is missing",
            ),
            (
                json!({"OrderItemName": "Filter Pack", "OrderItemQuanity": 1}),
                "OrderItems[1].OrderItemQuantity: is missing — did you mean the field 'OrderItemQuanity'?",
            ),
            (
                json!({"OrderItemName": "Filter Pack", "OrderItemQuantity": "0"}),
                "OrderItems[1].OrderItemQuantity: must be greater than zero, got 0",
            ),
        ];

        for (value, expected) in cases {
            let error = read_line(&value, 1).unwrap_err();
            assert_eq!(error.to_string(), expected);
        }
    }
}
