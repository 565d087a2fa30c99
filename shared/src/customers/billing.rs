//! Subscriptions and invoices of a Stripe Customer, as their newest events showed them: kept on
//! the customer's side of the link for the customer view, forward only by event time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::CustomerLinkStore;
use crate::store::StoreError;

/// What a billing record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingObject {
    /// A `sub_…`.
    Subscription,
    /// An `in_…`.
    Invoice,
}

/// One subscription or invoice as its newest event showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingRecord {
    /// Subscription or invoice.
    pub object: BillingObject,
    /// `sub_…` or `in_…`.
    pub id: String,
    /// Stripe's status (`active`, `past_due`, `paused`, `canceled`, …; `draft`, `open`, `paid`,
    /// `void`, …).
    pub status: String,
    /// The event type that last changed it (`invoice.payment_failed`, …).
    pub last_event_type: String,
    /// The event that last changed it.
    pub last_event_id: String,
    /// That event's `created` (Unix seconds): an older event never overwrites a newer one.
    pub last_event_created: i64,
    /// A subscription's current period (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_period: Option<(i64, i64)>,
    /// A subscription's latest invoice; an invoice's subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related: Option<String>,
    /// An invoice's amount due and amount paid, in minor units, and its currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amounts: Option<(i64, i64, String)>,
    /// An invoice's page where the customer pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_invoice_url: Option<String>,
    /// The Kentico order an invoice names (`metadata.kentico_order_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kentico_order_id: Option<i64>,
}

impl BillingRecord {
    /// Reads a subscription or invoice event's object; `None` for another object.
    pub fn from_event(payload: &Value) -> Option<BillingRecord> {
        let object = payload.pointer("/data/object")?;
        let kind = match object["object"].as_str()? {
            "subscription" => BillingObject::Subscription,
            "invoice" => BillingObject::Invoice,
            _ => return None,
        };
        let text = |value: &Value| value.as_str().map(str::to_string);
        let id_of = |value: &Value| expandable_id(value).map(str::to_string);
        let (current_period, related, amounts, url, order) = match kind {
            BillingObject::Subscription => {
                // Since 2025-03-31 the period is on the subscription's items.
                let item = &object["items"]["data"][0];
                let start = object["current_period_start"]
                    .as_i64()
                    .or(item["current_period_start"].as_i64());
                let end = object["current_period_end"]
                    .as_i64()
                    .or(item["current_period_end"].as_i64());
                let period = start.zip(end);
                (period, id_of(&object["latest_invoice"]), None, None, None)
            }
            BillingObject::Invoice => {
                let subscription = id_of(&object["parent"]["subscription_details"]["subscription"])
                    .or_else(|| id_of(&object["subscription"]));
                let amounts = object["amount_due"]
                    .as_i64()
                    .zip(object["amount_paid"].as_i64())
                    .zip(text(&object["currency"]))
                    .map(|((due, paid), currency)| (due, paid, currency));
                (
                    None,
                    subscription,
                    amounts,
                    text(&object["hosted_invoice_url"]),
                    invoice_order(object),
                )
            }
        };
        Some(BillingRecord {
            object: kind,
            id: text(&object["id"])?,
            status: text(&object["status"]).unwrap_or_default(),
            last_event_type: text(&payload["type"]).unwrap_or_default(),
            last_event_id: text(&payload["id"]).unwrap_or_default(),
            last_event_created: payload["created"].as_i64().unwrap_or(0),
            current_period,
            related,
            amounts,
            hosted_invoice_url: url,
            kentico_order_id: order,
        })
    }
}

/// The id of an expandable field: the id itself, or the object's `id`.
pub fn expandable_id(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value["id"].as_str())
}

/// The Kentico order an invoice names in `metadata.kentico_order_id`, if a positive number.
pub fn invoice_order(invoice: &Value) -> Option<i64> {
    let raw = &invoice["metadata"]["kentico_order_id"];
    let id = raw
        .as_str()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .or(raw.as_i64())?;
    (id > 0).then_some(id)
}

/// Every subscription and invoice of one Stripe Customer, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerBilling {
    /// By `sub_…` / `in_…`.
    pub records: BTreeMap<String, BillingRecord>,
}

impl CustomerBilling {
    /// Keeps `record` unless a record of a newer event is kept; whether anything changed.
    pub fn apply(&mut self, record: BillingRecord) -> bool {
        match self.records.get(&record.id) {
            Some(kept) if kept.last_event_created > record.last_event_created => false,
            Some(kept) if *kept == record => false,
            _ => {
                self.records.insert(record.id.clone(), record);
                true
            }
        }
    }

    /// The subscriptions, then the invoices, each newest first.
    pub fn sorted(&self) -> Vec<&BillingRecord> {
        let mut records: Vec<_> = self.records.values().collect();
        records.sort_by_key(|r| {
            (
                r.object == BillingObject::Invoice,
                std::cmp::Reverse(r.last_event_created),
            )
        });
        records
    }
}

/// The stored billing of a customer and its version, for a conditional write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredBilling {
    /// The records.
    pub billing: CustomerBilling,
    /// 0 when nothing is stored yet; each write adds one.
    pub version: u64,
}

/// Applies `record` to the customer's billing (read, merge, write if unchanged meanwhile, a few
/// times under contention); whether it changed anything.
pub async fn record(
    store: &dyn CustomerLinkStore,
    stripe_customer_id: &str,
    record: BillingRecord,
) -> Result<bool, StoreError> {
    for _ in 0..8 {
        let mut stored = store.billing(stripe_customer_id).await?;
        if !stored.billing.apply(record.clone()) {
            return Ok(false);
        }
        if store
            .put_billing(stripe_customer_id, &stored.billing, stored.version)
            .await?
        {
            return Ok(true);
        }
    }
    Err(StoreError::ConditionFailed(format!(
        "the billing of {stripe_customer_id} kept changing under this write"
    )))
}

/// Encodes billing for an adapter.
pub(crate) fn encode(billing: &CustomerBilling) -> Result<String, StoreError> {
    serde_json::to_string(billing)
        .map_err(|e| StoreError::Malformed(format!("billing cannot be encoded: {e}")))
}

/// Decodes billing an adapter stored.
pub(crate) fn decode(stripe_customer_id: &str, text: &str) -> Result<CustomerBilling, StoreError> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::Malformed(format!(
            "the billing of {stripe_customer_id} cannot be read: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn invoice_event(created: i64, status: &str) -> Value {
        json!({"id": format!("evt_{created}"), "type": format!("invoice.{status}"),
            "created": created, "data": {"object": {"id": "in_1", "object": "invoice",
            "status": status, "amount_due": 1999, "amount_paid": 0, "currency": "eur",
            "hosted_invoice_url": "https://invoice.stripe.com/i/in_1",
            "metadata": {"kentico_order_id": "1042"},
            "parent": {"type": "subscription_details",
                "subscription_details": {"subscription": "sub_1", "metadata": null}}}}})
    }

    #[test]
    fn reads_an_invoice_and_a_subscription() {
        let invoice = BillingRecord::from_event(&invoice_event(10, "open")).unwrap();
        assert_eq!(invoice.object, BillingObject::Invoice);
        assert_eq!(invoice.kentico_order_id, Some(1042));
        assert_eq!(invoice.related.as_deref(), Some("sub_1"));
        assert_eq!(invoice.amounts, Some((1999, 0, "eur".into())));
        let subscription = json!({"id": "evt_s", "type": "customer.subscription.updated",
            "created": 5, "data": {"object": {"id": "sub_1", "object": "subscription",
            "status": "past_due", "latest_invoice": "in_1",
            "items": {"data": [{"current_period_start": 100, "current_period_end": 200}]}}}});
        let record = BillingRecord::from_event(&subscription).unwrap();
        assert_eq!(record.current_period, Some((100, 200)));
        assert_eq!(record.related.as_deref(), Some("in_1"));
        assert_eq!(record.status, "past_due");
        let charge = json!({"data": {"object": {"id": "ch_1", "object": "charge"}}});
        assert_eq!(BillingRecord::from_event(&charge), None);
    }

    #[test]
    fn an_older_event_never_overwrites_a_newer_one() {
        let mut billing = CustomerBilling::default();
        let paid = BillingRecord::from_event(&invoice_event(20, "paid")).unwrap();
        let open = BillingRecord::from_event(&invoice_event(10, "open")).unwrap();
        assert!(billing.apply(paid.clone()));
        assert!(!billing.apply(open), "late");
        assert!(!billing.apply(paid), "the same again");
        assert_eq!(billing.records["in_1"].status, "paid");
    }

    #[test]
    fn an_order_id_must_be_a_positive_number() {
        assert_eq!(
            invoice_order(&json!({"metadata": {"kentico_order_id": " 7 "}})),
            Some(7)
        );
        assert_eq!(
            invoice_order(&json!({"metadata": {"kentico_order_id": "x"}})),
            None
        );
        assert_eq!(
            invoice_order(&json!({"metadata": {"kentico_order_id": "-1"}})),
            None
        );
        assert_eq!(invoice_order(&json!({"metadata": {}})), None);
    }
}
