//! The Kentico 13 order carried in an `ecommerce.order.*` event's `data.object` (docs/CONTRACTS.md#order-object).

mod customer;
mod item;
#[cfg(test)]
mod tests;

use rust_decimal::Decimal;
use serde_json::Value;

pub(crate) use customer::CUSTOMER_COLUMNS;
pub use customer::KenticoCustomer;
pub(crate) use item::ITEM_COLUMNS;
pub use item::OrderItem;

use crate::mapping::address::Address;
use crate::mapping::columns::Columns;
use crate::mapping::error::MappingError;
use crate::mapping::money::Currency;

pub(crate) const ORDER_COLUMNS: &[&str] = &[
    "OrderID",
    "OrderGUID",
    "OrderCustomerID",
    "OrderCurrencyCode",
    "OrderGrandTotal",
    "OrderTotalPrice",
    "OrderTotalTax",
    "OrderTotalShipping",
    "OrderStatusName",
    "OrderIsPaid",
    "OrderLastModified",
    "OrderItems",
    "OrderBillingAddress",
    "OrderShippingAddress",
    "Customer",
];

/// A Kentico order, validated: what the integration charges and reports. Field docs name the
/// Kentico 13 columns; `xbyk_order` reads Xperience by Kentico orders into the same type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KenticoOrder {
    /// `OrderID`, positive.
    pub id: i64,
    /// `OrderGUID`, lower-case without braces: the business key for Stripe's `Idempotency-Key`.
    pub guid: String,
    /// `OrderNumber` of an Xperience by Kentico order; Kentico 13 orders have none.
    pub number: Option<String>,
    /// `OrderCustomerID`.
    pub customer_id: Option<i64>,
    /// `OrderCurrencyCode`; for an Xperience by Kentico order, the shop's configured currency.
    pub currency: Currency,
    /// `OrderGrandTotal`: the amount to charge.
    pub grand_total: Decimal,
    /// `OrderTotalPrice`: the items' total.
    pub total_price: Option<Decimal>,
    /// `OrderTotalTax`.
    pub total_tax: Option<Decimal>,
    /// `OrderTotalShipping`.
    pub total_shipping: Option<Decimal>,
    /// `OrderStatusName`.
    pub status_name: Option<String>,
    /// `OrderIsPaid`; absent is false.
    pub is_paid: bool,
    /// `OrderLastModified` (XbyK: `OrderModifiedWhen`): orders an update among the others.
    pub last_modified: Option<time::OffsetDateTime>,
    /// `OrderItems`; absent is empty.
    pub items: Vec<OrderItem>,
    /// `OrderBillingAddress` (XbyK: the `Billing` entry of `OrderAddresses`).
    pub billing_address: Option<Address>,
    /// `OrderShippingAddress` (XbyK: the `Shipping` entry of `OrderAddresses`).
    pub shipping_address: Option<Address>,
    /// `Customer`.
    pub customer: Option<KenticoCustomer>,
}

impl KenticoOrder {
    /// Reads and checks the order in an event's `data.object`. `OrderID`, `OrderGUID`,
    /// `OrderCurrencyCode` and `OrderGrandTotal` are required; a missing one that looks like an
    /// undocumented key present (`orderGrandTotal`, `OrderCurrency`) is named as the likely
    /// cause. Every error is permanent: the same event can never map differently.
    pub fn from_event_object(object: &Value) -> Result<KenticoOrder, MappingError> {
        let columns = Columns::new(object, "data.object", String::new(), ORDER_COLUMNS)?;
        let currency_code = columns.required_text("OrderCurrencyCode")?;
        let order = KenticoOrder {
            id: columns.id("OrderID")?,
            guid: columns
                .guid("OrderGUID")?
                .ok_or_else(|| columns.missing("OrderGUID"))?,
            number: None,
            customer_id: columns.integer("OrderCustomerID")?,
            currency: Currency::parse("OrderCurrencyCode", &currency_code)?,
            grand_total: columns.required_amount("OrderGrandTotal")?,
            total_price: columns.amount("OrderTotalPrice")?,
            total_tax: columns.amount("OrderTotalTax")?,
            total_shipping: columns.amount("OrderTotalShipping")?,
            status_name: columns.text("OrderStatusName")?,
            is_paid: columns.flag("OrderIsPaid")?,
            last_modified: columns.timestamp("OrderLastModified")?,
            items: read_lines(columns.get("OrderItems"), OrderItem::from_kentico)?,
            billing_address: Address::from_kentico(
                "OrderBillingAddress",
                columns.get("OrderBillingAddress"),
            )?,
            shipping_address: Address::from_kentico(
                "OrderShippingAddress",
                columns.get("OrderShippingAddress"),
            )?,
            customer: columns
                .get("Customer")
                .map(KenticoCustomer::from_order)
                .transpose()?,
        };
        order.checked()
    }

    /// The checks across columns, whichever Kentico shape the order was read from.
    pub(crate) fn checked(self) -> Result<KenticoOrder, MappingError> {
        self.check_items_match_total()?;
        self.check_customer_matches()?;
        Ok(self)
    }

    /// Kentico's line totals must add up to `OrderTotalPrice`, within a cent per line for
    /// per-line rounding; otherwise one of them is wrong and charging either would be a guess.
    /// Kentico versions and tax settings differ in what `OrderTotalPrice` includes, so the
    /// lines alone, the lines plus `OrderTotalShipping`, and the lines plus shipping plus
    /// `OrderTotalTax` are all accepted compositions.
    fn check_items_match_total(&self) -> Result<(), MappingError> {
        let (Some(total_price), Some(line_totals)) = (
            self.total_price,
            self.items
                .iter()
                .map(|item| item.total_price)
                .collect::<Option<Vec<_>>>(),
        ) else {
            return Ok(());
        };
        if line_totals.is_empty() {
            return Ok(());
        }
        let sum = line_totals
            .iter()
            .try_fold(Decimal::ZERO, |sum, line| sum.checked_add(*line));
        let tolerance = Decimal::new(1, 2).saturating_mul(Decimal::from(line_totals.len()));
        let shipping = self.total_shipping.unwrap_or(Decimal::ZERO);
        let tax = self.total_tax.unwrap_or(Decimal::ZERO);
        let compositions = [
            Some(Decimal::ZERO),
            Some(shipping),
            shipping.checked_add(tax),
        ];
        let within = compositions.iter().any(|extra| {
            sum.zip(*extra)
                .and_then(|(sum, extra)| sum.checked_add(extra))
                .and_then(|sum| sum.checked_sub(total_price))
                .is_some_and(|difference| difference.abs() <= tolerance)
        });
        if within {
            return Ok(());
        }
        let shown = sum.map_or_else(
            || "more than can be represented".to_string(),
            |sum| sum.to_string(),
        );
        Err(MappingError::new(
            "OrderItems",
            format!("the items sum to {shown} but OrderTotalPrice is {total_price}"),
        ))
    }

    /// The nested `Customer` must be the order's customer, or we would bill someone else.
    fn check_customer_matches(&self) -> Result<(), MappingError> {
        match (&self.customer, self.customer_id) {
            (Some(customer), Some(order_customer)) if customer.id != order_customer => {
                Err(MappingError::new(
                    "Customer.CustomerID",
                    format!(
                        "customer {} is not the order's customer (OrderCustomerID {order_customer})",
                        customer.id
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The most lines an order may have. A shop's cart holds tens; thousands are a broken export
/// or a forged event, and charging them would put a guess on a customer's card.
pub const MAX_ORDER_ITEMS: usize = 1000;

/// Reads the `OrderItems` list with `read_line` (given each line and its index); absent is empty.
pub(crate) fn read_lines(
    value: Option<&Value>,
    read_line: impl Fn(&Value, usize) -> Result<OrderItem, MappingError>,
) -> Result<Vec<OrderItem>, MappingError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() > MAX_ORDER_ITEMS => Err(MappingError::new(
            "OrderItems",
            format!(
                "has {} lines, more than the {MAX_ORDER_ITEMS} an order may have",
                items.len()
            ),
        )),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| read_line(item, index))
            .collect(),
        Some(other) => Err(MappingError::new(
            "OrderItems",
            format!(
                "is not a list of order items (found {})",
                crate::mapping::text::json_kind(other)
            ),
        )),
    }
}
