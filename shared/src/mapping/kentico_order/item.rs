//! One Kentico order line (`OrderItems[n]`).

use rust_decimal::Decimal;
use serde_json::Value;

use crate::mapping::columns::Columns;
use crate::mapping::error::MappingError;

pub(crate) const ITEM_COLUMNS: &[&str] = &[
    "OrderItemSKUID",
    "OrderItemSKUName",
    "SKUNumber",
    "OrderItemUnitCount",
    "OrderItemUnitPrice",
    "OrderItemTotalPrice",
];

/// One order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    /// `OrderItemSKUID`.
    pub sku_id: Option<i64>,
    /// `OrderItemSKUName`, required.
    pub name: String,
    /// `SKUNumber`.
    pub sku_number: Option<String>,
    /// `OrderItemUnitCount`, required and positive.
    pub units: Decimal,
    /// `OrderItemUnitPrice`.
    pub unit_price: Option<Decimal>,
    /// `OrderItemTotalPrice`: the line total Kentico computed.
    pub total_price: Option<Decimal>,
}

impl OrderItem {
    /// Reads `OrderItems[index]`; errors name e.g. `OrderItems[1].OrderItemUnitCount`.
    pub(crate) fn from_kentico(value: &Value, index: usize) -> Result<OrderItem, MappingError> {
        let path = format!("OrderItems[{index}]");
        let columns = Columns::new(value, &path, format!("{path}."), ITEM_COLUMNS)?;
        let units = columns.positive_amount("OrderItemUnitCount")?;
        Ok(OrderItem {
            sku_id: columns.integer("OrderItemSKUID")?,
            name: columns.required_text("OrderItemSKUName")?,
            sku_number: columns.text("SKUNumber")?,
            units,
            unit_price: columns.amount("OrderItemUnitPrice")?,
            total_price: columns.amount("OrderItemTotalPrice")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_a_line_with_numbers_given_as_strings() {
        let value = json!({"OrderItemSKUID": "501", "OrderItemSKUName": " Espresso Grinder ",
            "SKUNumber": 100, "OrderItemUnitCount": "2", "OrderItemUnitPrice": 49.95,
            "OrderItemTotalPrice": "99.90"});

        let item = OrderItem::from_kentico(&value, 0).unwrap();

        assert_eq!(item.sku_id, Some(501));
        assert_eq!(item.name, "Espresso Grinder");
        assert_eq!(item.sku_number.as_deref(), Some("100"));
        assert_eq!(item.units, dec!(2));
        assert_eq!(item.unit_price, Some(dec!(49.95)));
        assert_eq!(item.total_price, Some(dec!(99.90)));
    }

    #[test]
    fn a_line_without_a_name_or_units_is_refused_with_its_index() {
        let nameless = json!({"OrderItemUnitCount": 1});
        let unitless = json!({"OrderItemSKUName": "Filter Pack", "OrderItemUnit": 1});

        assert_eq!(
            OrderItem::from_kentico(&nameless, 1)
                .unwrap_err()
                .to_string(),
            "OrderItems[1].OrderItemSKUName: is missing"
        );
        assert_eq!(
            OrderItem::from_kentico(&unitless, 0)
                .unwrap_err()
                .to_string(),
            "OrderItems[0].OrderItemUnitCount: is missing — did you mean the field 'OrderItemUnit'?"
        );
    }

    #[test]
    fn zero_units_are_refused() {
        let value = json!({"OrderItemSKUName": "Filter Pack", "OrderItemUnitCount": 0});

        let error = OrderItem::from_kentico(&value, 2).unwrap_err();

        assert_eq!(
            error.to_string(),
            "OrderItems[2].OrderItemUnitCount: must be greater than zero, got 0"
        );
    }

    #[test]
    fn a_line_that_is_not_an_object_is_refused() {
        let error = OrderItem::from_kentico(&json!("EG-100"), 0).unwrap_err();

        assert_eq!(
            error.to_string(),
            "OrderItems[0]: is not a JSON object (found a string)"
        );
    }
}
