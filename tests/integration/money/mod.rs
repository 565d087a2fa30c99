//! Money safety, end to end: which payments count, one payable object per order, updates in
//! order. Every scenario runs twice through signed webhooks and the loopback fakes: on the
//! Lambda path (ingress handlers, moto SQS/DynamoDB, both workers) and on a real `paybridge
//! serve` process (embedded store).

mod attempts;
pub mod bridge;
mod customers;
mod ledger;
mod ownership;
mod quickbooks;
mod reconcile;
mod updates;

use serde_json::{Value, json};

pub use bridge::{Bridge, Moto, Serve};

/// Declares `scenario` (an `async fn(&dyn Bridge)`) as two tests, `on_moto` and `on_serve`,
/// each starting its system with `env`.
macro_rules! both_backends {
    ($scenario:ident, $env:expr) => {
        mod $scenario {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_moto() {
                let bridge = $crate::money::Moto::start($env).await;
                super::$scenario(&bridge).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_serve() {
                let bridge = $crate::money::Serve::start($env).await;
                super::$scenario(&bridge).await;
            }
        }
    };
}
pub(crate) use both_backends;

/// The Kentico status IDs of the fake Kentico.
pub const PAYMENT_PENDING: i64 = 4;
pub const PAYMENT_AUTHORIZED: i64 = 5;
pub const PAID: i64 = 6;
pub const PAYMENT_FAILED: i64 = 7;

/// An order of `total` in `currency`, one line, last modified at `modified` (unix seconds).
pub fn order(id: i64, currency: &str, total: &str, modified: i64) -> Value {
    json!({
        "OrderID": id, "OrderGUID": format!("00000000-0000-4000-8000-{id:012}"), "OrderCustomerID": 77,
        "OrderCurrencyCode": currency, "OrderGrandTotal": total, "OrderStatusName": "New",
        "OrderIsPaid": false, "OrderLastModified": at(modified),
        "OrderItems": [{"OrderItemSKUName": "Espresso Grinder", "SKUNumber": "EG-100",
            "OrderItemUnitCount": 1, "OrderItemUnitPrice": total}],
    })
}

/// `order` as Kentico reports it after a change: `patch` applied, modified at `modified`.
pub fn changed(order: &Value, modified: i64, patch: Value) -> Value {
    let mut order = order.clone();
    for (k, v) in patch.as_object().into_iter().flatten() {
        order[k] = v.clone();
    }
    order["OrderLastModified"] = json!(at(modified));
    order
}

/// ISO 8601 UTC, as the Kentico module sends `OrderLastModified`.
pub fn at(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).expect("a valid time");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A moment in the past, so versions are ordered by the offsets the scenarios add.
pub const T0: i64 = 1_795_953_600;

/// The one PaymentIntent (or Checkout Session) the fake created last.
pub fn last_intent(bridge: &dyn Bridge) -> Value {
    bridge
        .stripe()
        .payment_intents()
        .last()
        .cloned()
        .expect("a PaymentIntent was created")
}

pub fn id(object: &Value) -> String {
    object["id"].as_str().expect("an id").to_string()
}

/// Kentico's order `order_id` as the fake holds it now.
pub fn kentico_order(bridge: &dyn Bridge, order_id: i64) -> Value {
    bridge.kentico().order(order_id).expect("the order exists")
}

/// How many writes to Kentico set `OrderIsPaid`.
pub fn paid_writes(bridge: &dyn Bridge) -> usize {
    (bridge.kentico().requests().into_iter())
        .filter(|r| {
            r.method == "PUT"
                && r.body
                    .as_ref()
                    .is_some_and(|b| b["ecommerce.order"]["OrderIsPaid"] == true)
        })
        .count()
}

/// A declined card on `intent` (what the PaymentIntent looks like after it).
pub fn declined() -> Value {
    json!({"status": "requires_payment_method", "last_payment_error": {"type": "card_error",
        "code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined."}})
}
