//! The port the flows write Kentico orders through, whichever Kentico the shop runs
//! (`KENTICO_PLATFORM`): Kentico 13's REST service ([`KenticoRestOrders`]) or the paybridge
//! package's endpoints in an Xperience by Kentico app ([`super::xbyk::XbykPackageOrders`]).

use async_trait::async_trait;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::kentico::{
    KenticoClient, KenticoError, OrderStatusResolver, OrderUpdate, as_bool, as_i64,
};
use crate::clock::rfc3339_millis;
use crate::mapping::KenticoPlatform;
use crate::mapping::money::{Currency, parse_amount, to_minor_units};

/// A Kentico order as the shop shows it now (what the reconciliation compares).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KenticoOrderState {
    /// `OrderID`.
    pub order_id: i64,
    /// Whether the shop shows it paid (`OrderIsPaid` on Kentico 13).
    pub is_paid: bool,
    /// The order status's name.
    pub status_name: String,
    /// `OrderGrandTotal` in minor units.
    pub total: i64,
    /// Lower-case ISO currency.
    pub currency: String,
}

/// Each order row with its `OrderID` (a row without one is left out).
pub(crate) fn by_order_id(rows: Vec<Map<String, Value>>) -> Vec<(i64, Map<String, Value>)> {
    (rows.into_iter())
        .filter_map(|row| Some((row.get("OrderID").and_then(as_i64)?, row)))
        .collect()
}

/// `OrderGrandTotal` of `row` in minor units of `code` (0 when either cannot be read).
pub(crate) fn total_of(row: &Map<String, Value>, code: &str) -> i64 {
    Currency::parse("OrderCurrencyCode", code)
        .ok()
        .and_then(|currency| {
            let amount = parse_amount("OrderGrandTotal", row.get("OrderGrandTotal")).ok()?;
            to_minor_units("OrderGrandTotal", amount, &currency).ok()
        })
        .unwrap_or(0)
}

/// Which order: its `OrderID`, and its `OrderGUID` when known (Xperience by Kentico's package
/// addresses orders by GUID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRef<'a> {
    /// `OrderID`.
    pub id: i64,
    /// `OrderGUID`, lower-case and dashed.
    pub guid: Option<&'a str>,
}

/// What to write to an order: a status by name, the paid flag, paybridge's custom-data keys.
/// Unset fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderWrite {
    /// An order status name (`KENTICO_STATUS_MAP`).
    pub status_name: Option<String>,
    /// Whether a payment succeeded.
    pub is_paid: Option<bool>,
    /// paybridge's keys (`StripePaymentIntent`, …) and their values.
    pub custom_data: Vec<(String, String)>,
}

/// A Kentico shop's orders, as the flows write them.
#[async_trait]
pub trait ShopOrders: Send + Sync {
    /// Which Kentico this is.
    fn platform(&self) -> KenticoPlatform;

    /// Writes `write` to the order. A status name the shop does not know is
    /// [`KenticoError::UnknownStatus`]; nothing is written then.
    async fn write_order(
        &self,
        order: OrderRef<'_>,
        write: &OrderWrite,
    ) -> Result<(), KenticoError>;

    /// The names among `names` the shop does not resolve, each with why (`paybridge doctor`).
    async fn unresolved_statuses(&self, names: &[&str]) -> Vec<(String, KenticoError)>;

    /// Whether paybridge can reach the shop with its credentials (`paybridge doctor`).
    async fn check_access(&self) -> Result<(), KenticoError>;

    /// Every order modified at or after `since`, by `OrderID`, as the shop returns it (the
    /// reconciliation).
    async fn orders_modified_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<(i64, Map<String, Value>)>, KenticoError>;

    /// One order as the shop returns it; `None` when it is gone.
    async fn order(&self, order: OrderRef<'_>) -> Result<Option<Map<String, Value>>, KenticoError>;

    /// What an order returned by the two reads above shows.
    async fn order_state(
        &self,
        row: &Map<String, Value>,
    ) -> Result<KenticoOrderState, KenticoError>;
}

/// Kentico 13's REST service: status names become IDs, custom data is merged into
/// `OrderCustomData` (docs/CONTRACTS.md#kentico-write-back).
#[derive(Clone)]
pub struct KenticoRestOrders {
    /// The REST client.
    pub client: KenticoClient,
    /// Status names → IDs.
    pub statuses: OrderStatusResolver,
}

#[async_trait]
impl ShopOrders for KenticoRestOrders {
    fn platform(&self) -> KenticoPlatform {
        KenticoPlatform::K13
    }

    async fn write_order(
        &self,
        order: OrderRef<'_>,
        write: &OrderWrite,
    ) -> Result<(), KenticoError> {
        let status_id = match &write.status_name {
            Some(name) => Some(self.statuses.id_for(name).await?),
            None => None,
        };
        let update = OrderUpdate {
            status_id,
            is_paid: write.is_paid,
            custom_data: write.custom_data.clone(),
        };
        self.client.update_order(order.id, &update).await
    }

    async fn unresolved_statuses(&self, names: &[&str]) -> Vec<(String, KenticoError)> {
        // The resolver reads the status list once and caches it.
        let mut unresolved = Vec::new();
        for name in names {
            if let Err(error) = self.statuses.id_for(name).await {
                unresolved.push((name.to_string(), error));
            }
        }
        unresolved
    }

    async fn check_access(&self) -> Result<(), KenticoError> {
        self.client.check_access().await
    }

    async fn orders_modified_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<(i64, Map<String, Value>)>, KenticoError> {
        // The REST service's `where` takes `yyyy-MM-ddTHH:mm:ss`.
        let since = rfc3339_millis(since);
        let rows = self.client.orders_modified_since(&since[..19]).await?;
        Ok(by_order_id(rows))
    }

    async fn order(&self, order: OrderRef<'_>) -> Result<Option<Map<String, Value>>, KenticoError> {
        match self.client.get_order(order.id).await {
            Ok(row) => Ok(Some(row)),
            Err(KenticoError::Rejected { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn order_state(
        &self,
        row: &Map<String, Value>,
    ) -> Result<KenticoOrderState, KenticoError> {
        let order_id = row.get("OrderID").and_then(as_i64).unwrap_or_default();
        let status_name = match row.get("OrderStatusID").and_then(as_i64) {
            Some(id) => self.statuses.name_for(id).await?,
            None => None,
        }
        .or_else(|| {
            row.get("OrderStatusName")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default();
        let code = match row.get("OrderCurrencyCode").and_then(Value::as_str) {
            Some(code) => code.to_string(),
            None => match row.get("OrderCurrencyID").and_then(as_i64) {
                Some(id) => self.client.currency_code(id).await?,
                None => String::new(),
            },
        };
        Ok(KenticoOrderState {
            order_id,
            is_paid: row.get("OrderIsPaid").and_then(as_bool).unwrap_or(false),
            status_name,
            total: total_of(row, &code),
            currency: code.trim().to_lowercase(),
        })
    }
}
