//! Stripe objects as this project reads them (intents, sessions, customers, events), tolerantly.
//!
//! Only the fields the project uses. Stripe adds fields and enum values in monthly releases
//! without calling them breaking, so unknown fields are ignored, enums fall back to `Unknown`,
//! and anything Stripe documents as nullable is an `Option` (metadata: `null` reads as empty).

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};

use super::Charge;

/// Anything with a Stripe id.
pub trait StripeObject {
    /// The object's id (`pi_…`, `ch_…`, `txn_…`).
    fn id(&self) -> &str;
}

/// A field Stripe sends as an id, or as the whole object when the request asked to `expand` it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    /// Not expanded: the id.
    Id(String),
    /// Expanded: the object.
    Object(Box<T>),
}

impl<T: StripeObject> Expandable<T> {
    /// The id, expanded or not.
    pub fn id(&self) -> &str {
        match self {
            Self::Id(id) => id,
            Self::Object(object) => object.id(),
        }
    }

    /// The object, when it was expanded.
    pub fn as_object(&self) -> Option<&T> {
        match self {
            Self::Id(_) => None,
            Self::Object(object) => Some(object),
        }
    }
}

impl StripeObject for serde_json::Value {
    fn id(&self) -> &str {
        self.get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    }
}

/// Stripe's metadata map; `null` (seen on some objects) reads as empty.
pub type Metadata = HashMap<String, String>;

pub(super) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// A PaymentIntent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PaymentIntent {
    /// `pi_…`.
    pub id: String,
    /// Amount intended, smallest unit.
    pub amount: i64,
    /// Amount received so far.
    pub amount_received: Option<i64>,
    /// ISO 4217, lower case.
    pub currency: String,
    /// Lifecycle state.
    pub status: PaymentIntentStatus,
    /// For the browser to confirm the payment; never log it.
    pub client_secret: Option<String>,
    /// `automatic`, `automatic_async` or `manual`.
    pub capture_method: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Our references.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// The charge of the latest attempt.
    pub latest_charge: Option<Expandable<Charge>>,
    /// Why the latest attempt failed.
    pub last_payment_error: Option<LastPaymentError>,
    /// Why it was canceled (`duplicate`, `abandoned`, …).
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    /// The Stripe customer.
    pub customer: Option<Expandable<serde_json::Value>>,
    /// Unix seconds.
    pub created: i64,
    /// Live or test mode.
    pub livemode: bool,
}

impl PaymentIntentStatus {
    /// Whether Stripe still lets the PaymentIntent's amount or currency change (before any
    /// money is authorized or moving).
    pub fn is_updatable(self) -> bool {
        matches!(
            self,
            Self::RequiresPaymentMethod | Self::RequiresConfirmation | Self::RequiresAction
        )
    }
}

impl StripeObject for PaymentIntent {
    fn id(&self) -> &str {
        &self.id
    }
}

/// `PaymentIntent.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentIntentStatus {
    /// Waiting for a payment method (also after a failed attempt).
    RequiresPaymentMethod,
    /// Waiting for confirmation.
    RequiresConfirmation,
    /// Waiting for the customer (3-D Secure, redirect).
    RequiresAction,
    /// Being processed (bank debits).
    Processing,
    /// Authorized; capture pending.
    RequiresCapture,
    /// Canceled.
    Canceled,
    /// Paid.
    Succeeded,
    /// A status newer than this code.
    #[serde(other)]
    Unknown,
}

/// `PaymentIntent.last_payment_error`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LastPaymentError {
    /// `card_error`, `invalid_request_error`, …
    #[serde(rename = "type", default)]
    pub error_type: String,
    /// e.g. `card_declined`.
    #[serde(default)]
    pub code: Option<String>,
    /// The issuer's reason.
    #[serde(default)]
    pub decline_code: Option<String>,
    /// Human-readable.
    #[serde(default)]
    pub message: Option<String>,
}

/// A Checkout Session.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CheckoutSession {
    /// `cs_…`.
    pub id: String,
    /// The page to send the customer to (null once the session is over).
    pub url: Option<String>,
    /// The PaymentIntent (in payment mode; may appear only once the customer pays).
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    /// `open`, `complete` or `expired`.
    pub status: Option<CheckoutSessionStatus>,
    /// What the customer pays, smallest unit.
    #[serde(default)]
    pub amount_total: Option<i64>,
    /// ISO 4217, lower case.
    #[serde(default)]
    pub currency: Option<String>,
    /// `paid`, `unpaid` or `no_payment_required`.
    pub payment_status: Option<String>,
    /// Our reference.
    #[serde(default)]
    pub client_reference_id: Option<String>,
    /// Our references.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// Unix seconds.
    pub expires_at: Option<i64>,
}

/// `CheckoutSession.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutSessionStatus {
    /// The customer can still pay.
    Open,
    /// Paid, or the payment is on its way.
    Complete,
    /// Over: nobody can pay through it any more.
    Expired,
    /// A status newer than this code.
    #[serde(other)]
    Unknown,
}

/// An Invoice, as paybridge reads it to decide whether it pays an order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Invoice {
    /// `in_…`.
    pub id: String,
    /// `draft`, `open`, `paid`, `uncollectible` or `void`.
    #[serde(default)]
    pub status: Option<String>,
    /// The Stripe Customer.
    #[serde(default)]
    pub customer: Option<String>,
    /// ISO 4217, lower case.
    pub currency: String,
    /// What is owed, smallest unit.
    #[serde(default)]
    pub amount_due: i64,
    /// What was paid, smallest unit.
    #[serde(default)]
    pub amount_paid: i64,
    /// The page where the customer pays.
    #[serde(default)]
    pub hosted_invoice_url: Option<String>,
    /// Our references (`kentico_order_id`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: bool,
    /// The payments made on it (present when expanded).
    #[serde(default)]
    pub payments: Option<List<InvoicePayment>>,
}

/// One payment of an invoice (since 2025-03-31 an invoice's PaymentIntents are listed here).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InvoicePayment {
    /// `inpay_…`.
    pub id: String,
    /// `open`, `paid` or `canceled`.
    #[serde(default)]
    pub status: Option<String>,
    /// What paid it.
    pub payment: InvoicePaymentMethod,
}

/// `InvoicePayment.payment`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InvoicePaymentMethod {
    /// `payment_intent`, `charge`, `payment_record`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The PaymentIntent, when `type` is `payment_intent`.
    #[serde(default)]
    pub payment_intent: Option<Expandable<PaymentIntent>>,
}

impl Invoice {
    /// The PaymentIntents whose payment of this invoice Stripe reports as paid.
    pub fn paid_payment_intents(&self) -> Vec<String> {
        let payments = self.payments.iter().flat_map(|list| &list.data);
        payments
            .filter(|p| p.status.as_deref() == Some("paid") && p.payment.kind == "payment_intent")
            .filter_map(|p| {
                p.payment
                    .payment_intent
                    .as_ref()
                    .map(|pi| pi.id().to_string())
            })
            .collect()
    }
}

/// One page of a list (`GET /v1/…?…`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct List<T> {
    /// The objects.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Whether more pages follow.
    #[serde(default)]
    pub has_more: bool,
}

/// A Customer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Customer {
    /// `cus_…`.
    pub id: String,
    /// Email.
    pub email: Option<String>,
    /// Full name or business name.
    pub name: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Billing address.
    #[serde(default)]
    pub address: Option<serde_json::Value>,
    /// Our references.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// Unix seconds.
    #[serde(default)]
    pub created: i64,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: bool,
}

impl StripeObject for Customer {
    fn id(&self) -> &str {
        &self.id
    }
}

/// An Event, as delivered to webhooks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Event {
    /// `evt_…`.
    pub id: String,
    /// e.g. `payment_intent.succeeded`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Unix seconds.
    pub created: i64,
    /// The version `data.object` was rendered with (null for some events).
    pub api_version: Option<String>,
    /// Live or test mode.
    pub livemode: bool,
    /// The object.
    pub data: EventData,
}

/// `Event.data`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EventData {
    /// The object, left as JSON: its type depends on `event_type`.
    pub object: serde_json::Value,
    /// For `*.updated` events, the old values of what changed.
    #[serde(default)]
    pub previous_attributes: Option<serde_json::Value>,
}
