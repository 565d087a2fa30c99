//! The Xperience by Kentico order carried in an event's `data.object` when the event says
//! `"platform": "xbyk"` (docs/CONTRACTS.md#xperience-by-kentico-order-object), read into the
//! same [`KenticoOrder`] a Kentico 13 order becomes.

mod addresses;
mod item;
#[cfg(test)]
mod tests;

use serde_json::Value;

pub(crate) use addresses::ADDRESS_COLUMNS;
pub(crate) use item::ITEM_COLUMNS;

use crate::mapping::columns::Columns;
use crate::mapping::error::MappingError;
use crate::mapping::kentico_order::{KenticoCustomer, KenticoOrder, read_lines};
use crate::mapping::money::Currency;

pub(crate) const ORDER_COLUMNS: &[&str] = &[
    "OrderID",
    "OrderGUID",
    "OrderNumber",
    "OrderCurrencyCode",
    "OrderCustomerID",
    "OrderGrandTotal",
    "OrderTotalPrice",
    "OrderTotalTax",
    "OrderTotalShipping",
    "OrderOrderStatusID",
    "OrderStatusName",
    "OrderCreatedWhen",
    "OrderModifiedWhen",
    "OrderItems",
    "OrderAddresses",
    "Customer",
];

impl KenticoOrder {
    /// Reads and checks an Xperience by Kentico order. XbyK orders carry no currency: the
    /// package adds `OrderCurrencyCode` when its `Paybridge:Currency` is set, and otherwise
    /// `default_currency` (`KENTICO_CURRENCY`) is the order's. `OrderID`, `OrderGUID`, `OrderNumber`,
    /// `OrderGrandTotal` and a `Billing` entry in `OrderAddresses` are required. XbyK has no
    /// paid flag (payment is an order status), so `is_paid` is false. The reading rules and
    /// checks are the Kentico 13 ones; every error is permanent.
    pub fn from_xbyk_event_object(
        object: &Value,
        default_currency: Option<Currency>,
    ) -> Result<KenticoOrder, MappingError> {
        let columns = Columns::new(object, "data.object", String::new(), ORDER_COLUMNS)?;
        let currency = match columns.text("OrderCurrencyCode")? {
            Some(code) => Currency::parse("OrderCurrencyCode", &code)?,
            None => default_currency.ok_or_else(|| {
                MappingError::new(
                    "OrderCurrencyCode",
                    "an Xperience by Kentico order carries no currency and none is configured",
                )
                .with_suggestion(
                    "set KENTICO_CURRENCY (e.g. EUR), or the package's Paybridge:Currency",
                )
            })?,
        };
        // Checked so a malformed status ID is refused; the status name is what flows use.
        columns.integer("OrderOrderStatusID")?;
        let addresses = addresses::read_addresses(columns.get("OrderAddresses"))?;
        KenticoOrder {
            id: columns.id("OrderID")?,
            guid: columns
                .guid("OrderGUID")?
                .ok_or_else(|| columns.missing("OrderGUID"))?,
            number: Some(columns.required_text("OrderNumber")?),
            customer_id: columns.integer("OrderCustomerID")?,
            currency,
            grand_total: columns.required_amount("OrderGrandTotal")?,
            total_price: columns.amount("OrderTotalPrice")?,
            total_tax: columns.amount("OrderTotalTax")?,
            total_shipping: columns.amount("OrderTotalShipping")?,
            status_name: columns.text("OrderStatusName")?,
            is_paid: false,
            last_modified: columns.timestamp("OrderModifiedWhen")?,
            items: read_lines(columns.get("OrderItems"), item::read_line)?,
            billing_address: addresses.billing,
            shipping_address: addresses.shipping,
            customer: columns
                .get("Customer")
                .map(KenticoCustomer::from_order)
                .transpose()?,
        }
        .checked()
    }
}
