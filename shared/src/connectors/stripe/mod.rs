//! Stripe API connector: form-encoded calls with a pinned version, idempotency keys and retries.
//!
//! [`StripeClient`] is the only way the project talks to Stripe (docs/CONTRACTS.md#stripe-objects-and-calls):
//! `Create…`/`Update…` parameters go out as `application/x-www-form-urlencoded` in Stripe's
//! bracket notation, answers come back as tolerant types that ignore what they don't know,
//! and every failure is one [`StripeError`] that says whether trying again can help.

mod charges;
mod client;
mod error;
#[cfg(test)]
mod fixtures;
mod params;
mod send;
mod types;
mod webhook_endpoints;

use std::time::Duration;

use crate::secret::SecretString;

pub use charges::{
    BalanceTransaction, Charge, ChargeStatus, Dispute, FeeDetail, Payout, Refund, RefundStatus,
};
pub use client::StripeClient;
pub use error::StripeError;
pub(crate) use params::encode_form;
pub use params::{
    AutomaticPaymentMethods, CheckoutLineItem, CreateCheckoutSession, CreatePaymentIntent,
    CreateRefund, CustomerParams, PaymentIntentData, PriceData, ProductData, Shipping,
    StripeAddress, UpdatePaymentIntent,
};
pub use types::{
    CheckoutSession, CheckoutSessionStatus, Customer, Event, EventData, Expandable, Invoice,
    InvoicePayment, InvoicePaymentMethod, LastPaymentError, List, Metadata, PaymentIntent,
    PaymentIntentStatus, StripeObject,
};
pub use webhook_endpoints::{CreateWebhookEndpoint, UpdateWebhookEndpoint, WebhookEndpoint};

/// The `Stripe-Version` this connector's types were checked against: the latest monthly
/// release of the Dahlia line in Stripe's changelog (docs.stripe.com/changelog), which is
/// also the line of the `fixtures3.json` snapshot our fixtures come from. Moving to the
/// Endive line is a major (breaking) upgrade: review the changelog and refresh the fixtures.
/// The tests' Stripe fake checks requests against stripe-python 15.6.2's parameters, generated
/// for this version (`infra/stripe-params.sh`): move that release with the pin.
pub const DEFAULT_API_VERSION: &str = "2026-08-26.dahlia";

/// Stripe's production API root.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// How to reach Stripe and how hard to try.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// API root without a trailing `/v1` (`STRIPE_API_BASE`; tests point it at a fake).
    pub api_base: String,
    /// Secret or restricted key (`STRIPE_SECRET_KEY`).
    pub secret_key: SecretString,
    /// Pinned `Stripe-Version` header (`STRIPE_API_VERSION`).
    pub api_version: String,
    /// Whole-request timeout, per attempt.
    pub timeout: Duration,
    /// Retries after the first attempt for transient failures.
    pub max_retries: u32,
    /// First backoff delay; doubles with every retry.
    pub retry_base: Duration,
}

impl StripeConfig {
    /// The defaults (production base, pinned version, 20 s, 2 retries from 500 ms) for `secret_key`.
    pub fn new(secret_key: SecretString) -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            secret_key,
            api_version: DEFAULT_API_VERSION.to_owned(),
            timeout: Duration::from_secs(20),
            max_retries: 2,
            retry_base: Duration::from_millis(500),
        }
    }
}
