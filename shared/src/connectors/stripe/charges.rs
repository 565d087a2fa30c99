//! The money movements behind a payment: charges, refunds and balance transactions (fees, net).

use serde::Deserialize;

use super::types::{Metadata, null_as_default};
use super::{Expandable, PaymentIntent, StripeObject};

/// A Charge.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Charge {
    /// `ch_…` or `py_…`.
    pub id: String,
    /// Smallest unit.
    pub amount: i64,
    /// Refunded so far, smallest unit.
    pub amount_refunded: i64,
    /// ISO 4217, lower case.
    pub currency: String,
    /// The PaymentIntent it belongs to.
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    /// Fees and net (expand with `expand[]=balance_transaction`).
    pub balance_transaction: Option<Expandable<BalanceTransaction>>,
    /// Outcome.
    pub status: ChargeStatus,
    /// Succeeded or authorized.
    pub paid: bool,
    /// Fully refunded.
    pub refunded: bool,
    /// A dispute was opened on it.
    #[serde(default)]
    pub disputed: bool,
    /// Captured (false while only authorized).
    #[serde(default)]
    pub captured: bool,
    /// Our references.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// Unix seconds.
    pub created: i64,
}

impl StripeObject for Charge {
    fn id(&self) -> &str {
        &self.id
    }
}

/// `Charge.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    /// Paid.
    Succeeded,
    /// Not settled yet.
    Pending,
    /// Declined or failed.
    Failed,
    /// A status newer than this code.
    #[serde(other)]
    Unknown,
}

/// A BalanceTransaction: what a charge or refund did to the balance, fees included.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BalanceTransaction {
    /// `txn_…`.
    pub id: String,
    /// Gross, smallest unit of `currency`.
    pub amount: i64,
    /// Stripe's fees.
    pub fee: i64,
    /// `amount - fee`.
    pub net: i64,
    /// The balance's currency (may differ from the charge's).
    pub currency: String,
    /// The fees, itemised.
    #[serde(default, deserialize_with = "null_as_default")]
    pub fee_details: Vec<FeeDetail>,
    /// Unix seconds.
    pub created: i64,
    /// When the funds become available, Unix seconds.
    pub available_on: i64,
    /// `available` or `pending`.
    pub status: String,
    /// `charge`, `refund`, `fee`, … for accounting.
    pub reporting_category: String,
    /// `charge`, `payment`, `refund`, `payment_refund`, `adjustment`, `payout`, … (Stripe adds
    /// types; unknown ones are kept as they are).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The object that caused it (`ch_…`, `re_…`, `du_…`, `po_…`), as an id or expanded.
    #[serde(default)]
    pub source: Option<serde_json::Value>,
    /// Presentment → settlement rate, when the charge's currency differs from the balance's.
    #[serde(default, deserialize_with = "decimal_number")]
    pub exchange_rate: Option<rust_decimal::Decimal>,
}

impl BalanceTransaction {
    /// The id of the object that caused it, expanded or not.
    pub fn source_id(&self) -> Option<&str> {
        match self.source.as_ref()? {
            serde_json::Value::String(id) => Some(id),
            object => object.get("id")?.as_str(),
        }
    }
}

/// A JSON number read exactly as written (`1.08`, not the nearest binary fraction).
fn decimal_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<rust_decimal::Decimal>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    number
        .to_string()
        .parse::<rust_decimal::Decimal>()
        .or_else(|_| rust_decimal::Decimal::from_scientific(&number.to_string()))
        .map(Some)
        .map_err(serde::de::Error::custom)
}

impl StripeObject for BalanceTransaction {
    fn id(&self) -> &str {
        &self.id
    }
}

/// One fee of a [`BalanceTransaction`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FeeDetail {
    /// Smallest unit.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// Human-readable.
    pub description: Option<String>,
    /// `stripe_fee`, `application_fee`, `tax`, …
    #[serde(rename = "type")]
    pub fee_type: String,
}

/// A Refund.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// Smallest unit.
    pub amount: i64,
    /// ISO 4217, lower case.
    pub currency: String,
    /// The refunded charge.
    pub charge: Option<Expandable<Charge>>,
    /// The refunded PaymentIntent.
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    /// Outcome (nullable at Stripe).
    pub status: Option<RefundStatus>,
    /// The balance effect, once there is one.
    pub balance_transaction: Option<Expandable<BalanceTransaction>>,
    /// When the refund failed: the balance transaction that gave its money back.
    #[serde(default)]
    pub failure_balance_transaction: Option<Expandable<BalanceTransaction>>,
    /// Our references.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// Unix seconds.
    pub created: i64,
}

/// `Refund.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Not settled yet.
    Pending,
    /// Waiting for the customer.
    RequiresAction,
    /// Done.
    Succeeded,
    /// Failed.
    Failed,
    /// Canceled.
    Canceled,
    /// A status newer than this code.
    #[serde(other)]
    Unknown,
}

impl StripeObject for Refund {
    fn id(&self) -> &str {
        &self.id
    }
}

/// A Dispute (chargeback).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Dispute {
    /// `dp_…` / `du_…`.
    pub id: String,
    /// Disputed amount, smallest unit.
    pub amount: i64,
    /// ISO 4217, lower case.
    pub currency: String,
    /// The disputed charge.
    pub charge: Option<Expandable<Charge>>,
    /// The disputed PaymentIntent.
    #[serde(default)]
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    /// `warning_needs_response`, `needs_response`, `under_review`, `won`, `lost`, …
    pub status: String,
    /// What it did to the balance so far (funds withdrawn, reinstated), expanded.
    #[serde(default, deserialize_with = "null_as_default")]
    pub balance_transactions: Vec<BalanceTransaction>,
    /// Unix seconds.
    pub created: i64,
}

impl StripeObject for Dispute {
    fn id(&self) -> &str {
        &self.id
    }
}

/// A Payout to the bank.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Payout {
    /// `po_…`.
    pub id: String,
    /// Smallest unit.
    pub amount: i64,
    /// ISO 4217, lower case.
    pub currency: String,
    /// `paid`, `pending`, `in_transit`, `canceled`, `failed`.
    pub status: String,
    /// The payout's own balance transaction.
    #[serde(default)]
    pub balance_transaction: Option<Expandable<BalanceTransaction>>,
    /// When it failed: the balance transaction that gave the money back.
    #[serde(default)]
    pub failure_balance_transaction: Option<Expandable<BalanceTransaction>>,
    /// Whether Stripe made it on its schedule (only these can be listed with their
    /// transactions).
    #[serde(default)]
    pub automatic: bool,
    /// Unix seconds.
    pub created: i64,
}

impl StripeObject for Payout {
    fn id(&self) -> &str {
        &self.id
    }
}
