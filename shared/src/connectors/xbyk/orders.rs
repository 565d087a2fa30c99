//! [`XbykPackageOrders`]: the flows' order writes, sent to the paybridge package of an
//! Xperience by Kentico app.

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::client::XbykClient;
use crate::connectors::kentico::statuses::resolve;
use crate::connectors::kentico::{KenticoError, as_bool, as_i64};
use crate::connectors::shop::{
    KenticoOrderState, OrderRef, OrderWrite, ShopOrders, by_order_id, total_of,
};
use crate::mapping::KenticoPlatform;
use crate::mapping::money::Currency;

/// The custom-data key whose value is the write's `payment_reference`.
const PAYMENT_INTENT_KEY: &str = "StripePaymentIntent";

/// Order writes through the package's `POST /paybridge/orders/{guid}/status`.
#[derive(Debug, Clone)]
pub struct XbykPackageOrders {
    client: XbykClient,
    currency: Option<Currency>,
    paid_statuses: Vec<String>,
}

impl XbykPackageOrders {
    /// Writes through `client`. `currency` is `KENTICO_CURRENCY`, for orders that carry none;
    /// `paid_statuses` are the status names that show an order paid when it has no
    /// `PaybridgeData` (the statuses of the succeeded and after-payment states).
    pub fn new(client: XbykClient, currency: Option<Currency>, paid_statuses: Vec<String>) -> Self {
        Self {
            client,
            currency,
            paid_statuses,
        }
    }

    /// The client, for reads (`paybridge doctor`, the reconciliation).
    pub fn client(&self) -> &XbykClient {
        &self.client
    }
}

/// The body of one write (docs/CONTRACTS.md#the-write-back). `event_id` is `pbw_` and 32 hex
/// digits of SHA-256 over the GUID and the write's content: a redelivered write carries the
/// same id (the package answers it again without writing), a different write never does.
pub fn write_body(guid: &str, write: &OrderWrite) -> Value {
    let details: Map<String, Value> = write
        .custom_data
        .iter()
        .map(|(key, value)| (key.clone(), Value::String(value.clone())))
        .collect();
    let payment_reference = write
        .custom_data
        .iter()
        .find(|(key, _)| key == PAYMENT_INTENT_KEY)
        .map(|(_, value)| value.clone());
    let content = json!({
        "status": write.status_name,
        "paid": write.is_paid,
        "payment_reference": payment_reference,
        "details": details,
    });
    // serde_json's maps are sorted, so the digest does not depend on the order of the keys.
    let digest = Sha256::new()
        .chain_update(guid.as_bytes())
        .chain_update(b"\n")
        .chain_update(content.to_string().as_bytes())
        .finalize();
    let mut body = content;
    body["event_id"] = Value::String(format!("pbw_{}", &hex::encode(digest)[..32]));
    body
}

#[async_trait]
impl ShopOrders for XbykPackageOrders {
    fn platform(&self) -> KenticoPlatform {
        KenticoPlatform::Xbyk
    }

    async fn write_order(
        &self,
        order: OrderRef<'_>,
        write: &OrderWrite,
    ) -> Result<(), KenticoError> {
        let Some(guid) = order.guid else {
            return Err(KenticoError::Invalid(format!(
                "order {} has no OrderGUID on record; the Xperience by Kentico package \
                 addresses orders by GUID",
                order.id
            )));
        };
        if write == &OrderWrite::default() {
            return Ok(());
        }
        let answer = self
            .client
            .write_status(guid, &write_body(guid, write))
            .await?;
        let status = answer
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let changed = answer.get("status_changed").and_then(Value::as_bool);
        let replayed = answer.get("replayed").and_then(Value::as_bool);
        tracing::info!(
            order_id = order.id,
            order_guid = guid,
            status,
            status_changed = changed.unwrap_or(false),
            replayed = replayed.unwrap_or(false),
            "order written through the Xperience by Kentico package"
        );
        Ok(())
    }

    async fn unresolved_statuses(&self, names: &[&str]) -> Vec<(String, KenticoError)> {
        // One health read for every name; the package's own rule: the code name, then the
        // display name, without case.
        let statuses = match self.client.health().await {
            Ok(health) => health.statuses,
            Err(error) => {
                return (names.iter())
                    .map(|name| (name.to_string(), error.clone()))
                    .collect();
            }
        };
        (names.iter())
            .filter_map(|name| Some((name.to_string(), resolve(name, &statuses).err()?)))
            .collect()
    }

    async fn check_access(&self) -> Result<(), KenticoError> {
        self.client.health().await.map(|_| ())
    }

    async fn orders_modified_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<(i64, Map<String, Value>)>, KenticoError> {
        let since = since
            .replace_nanosecond(0)
            .unwrap_or(since)
            .format(&Rfc3339)
            .map_err(|e| KenticoError::Invalid(format!("cannot format {since}: {e}")))?;
        let rows = self.client.orders_modified_since(&since).await?;
        Ok(by_order_id(rows))
    }

    async fn order(&self, order: OrderRef<'_>) -> Result<Option<Map<String, Value>>, KenticoError> {
        let Some(guid) = order.guid else {
            tracing::warn!(
                order_id = order.id,
                "no OrderGUID on record: the order cannot be read"
            );
            return Ok(None);
        };
        match self.client.get_order(guid).await {
            Ok(row) => Ok(Some(row)),
            Err(KenticoError::Rejected { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn order_state(
        &self,
        row: &Map<String, Value>,
    ) -> Result<KenticoOrderState, KenticoError> {
        let text = |key: &str| row.get(key).and_then(Value::as_str).map(str::trim);
        let status_name = text("OrderStatusName").unwrap_or_default().to_string();
        let code = text("OrderCurrencyCode")
            .map(str::to_owned)
            .or_else(|| self.currency.map(|c| c.code().to_string()))
            .unwrap_or_default();
        Ok(KenticoOrderState {
            order_id: row.get("OrderID").and_then(as_i64).unwrap_or_default(),
            is_paid: match paybridge_data(row).and_then(|data| data.get("paid").and_then(as_bool)) {
                Some(paid) => paid,
                None => {
                    (self.paid_statuses.iter()).any(|paid| paid.eq_ignore_ascii_case(&status_name))
                }
            },
            total: total_of(row, &code),
            currency: code.to_lowercase(),
            status_name,
        })
    }
}

/// The order's `PaybridgeData` (a JSON object, or JSON text holding one), when the shop added
/// the field.
fn paybridge_data(row: &Map<String, Value>) -> Option<Map<String, Value>> {
    match row.get("PaybridgeData")? {
        Value::Object(data) => Some(data.clone()),
        Value::String(text) => match serde_json::from_str(text).ok()? {
            Value::Object(data) => Some(data),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29";

    fn paid() -> OrderWrite {
        OrderWrite {
            status_name: Some("Paid".into()),
            is_paid: Some(true),
            custom_data: vec![
                ("StripePaymentIntent".into(), "pi_1".into()),
                ("StripePaymentStatus".into(), "succeeded".into()),
            ],
        }
    }

    fn orders() -> XbykPackageOrders {
        let client = XbykClient::new(super::super::XbykConfig {
            base_url: "https://shop.example".into(),
            secrets: vec![crate::secret::SecretString::new("0123456789abcdef")],
            timeout: std::time::Duration::from_secs(5),
        })
        .unwrap();
        XbykPackageOrders::new(
            client,
            Some(Currency::parse("c", "EUR").unwrap()),
            vec!["Paid".into(), "Refunded".into()],
        )
    }

    fn row(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[tokio::test]
    async fn the_state_of_an_order_reads_paybridge_data_first() {
        let orders = orders();
        let state = orders
            .order_state(&row(json!({"OrderID": 7, "OrderGrandTotal": "12.50",
                "OrderStatusName": "Shipped", "PaybridgeData": "{\"paid\":true}"})))
            .await
            .unwrap();
        assert_eq!(
            state,
            KenticoOrderState {
                order_id: 7,
                is_paid: true,
                status_name: "Shipped".into(),
                total: 1250,
                currency: "eur".into(),
            }
        );
        let by_status = |status: &str| {
            row(
                json!({"OrderID": 7, "OrderGrandTotal": "1500", "OrderStatusName": status,
                "OrderCurrencyCode": "JPY"}),
            )
        };
        let paid = orders.order_state(&by_status("paid")).await.unwrap();
        assert!(paid.is_paid);
        assert_eq!((paid.total, paid.currency.as_str()), (1500, "jpy"));
        assert!(!orders.order_state(&by_status("New")).await.unwrap().is_paid);
    }

    #[test]
    fn the_body_carries_the_write_and_its_reference() {
        let body = write_body(GUID, &paid());
        assert_eq!(body["status"], "Paid");
        assert_eq!(body["paid"], true);
        assert_eq!(body["payment_reference"], "pi_1");
        assert_eq!(body["details"]["StripePaymentStatus"], "succeeded");
        let id = body["event_id"].as_str().unwrap();
        assert!(id.starts_with("pbw_") && id.len() == 36, "{id}");
    }

    #[test]
    fn the_same_write_has_the_same_id_and_another_write_another() {
        let id = |guid: &str, write: &OrderWrite| write_body(guid, write)["event_id"].clone();
        let mut reordered = paid();
        reordered.custom_data.reverse();
        assert_eq!(id(GUID, &paid()), id(GUID, &reordered));

        let mut failed = paid();
        failed.status_name = Some("PaymentFailed".into());
        assert_ne!(id(GUID, &paid()), id(GUID, &failed));
        assert_ne!(
            id(GUID, &paid()),
            id("2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a30", &paid())
        );
    }

    #[test]
    fn a_write_without_status_sends_nulls() {
        let write = OrderWrite {
            custom_data: vec![(
                "StripeCheckoutUrl".into(),
                "https://checkout.stripe.com/c/1".into(),
            )],
            ..OrderWrite::default()
        };
        let body = write_body(GUID, &write);
        assert_eq!(body["status"], Value::Null);
        assert_eq!(body["paid"], Value::Null);
        assert_eq!(body["payment_reference"], Value::Null);
    }
}
