//! How the flows behave: payment mode, capture, retry links, status names.

use crate::mapping::KenticoPlatform;
use crate::mapping::money::Currency;
use crate::mapping::payment_status::StatusMapping;

/// What the order worker gives Kentico's checkout so the customer can pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMode {
    /// A PaymentIntent; its `client_secret` goes to the order for a Payment Element checkout.
    PaymentElement,
    /// A hosted Checkout Session; its URL goes to the order.
    Checkout,
}

/// Flow settings, from the environment (see `config::worker`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSettings {
    /// Which Kentico sends the order events and takes the status writes (`KENTICO_PLATFORM`).
    pub kentico_platform: KenticoPlatform,
    /// The currency of Xperience by Kentico orders that carry no `OrderCurrencyCode`
    /// (`KENTICO_CURRENCY`).
    pub kentico_currency: Option<Currency>,
    /// Payment Element (default) or hosted Checkout.
    pub payment_mode: PaymentMode,
    /// `automatic` (default), `automatic_async` or `manual`.
    pub capture_method: String,
    /// Let Stripe pick payment methods from the dashboard settings (default on).
    pub automatic_payment_methods: bool,
    /// Where Stripe sends a customer after a hosted payment (Checkout mode and retry links).
    pub checkout_success_url: Option<String>,
    /// Where Stripe sends a customer who abandons a hosted payment.
    pub checkout_cancel_url: Option<String>,
    /// Kentico status names that mean "the order was canceled in Kentico".
    pub cancel_status_names: Vec<String>,
    /// Payment state → Kentico status name.
    pub status_mapping: StatusMapping,
    /// Refund a second payment of an already paid order automatically (`REFUND_DOUBLE_PAYMENTS`;
    /// off by default: it is dead-lettered for a person either way).
    pub refund_double_payments: bool,
    /// Where a customer pays again after a decline in Payment Element mode, with `{order_id}` and
    /// `{order_guid}` filled in (`PAYMENT_RETRY_URL`): the shop's page that confirms the order's
    /// PaymentIntent again.
    pub payment_retry_url: Option<String>,
    /// The chart of accounts ledger entries post to (`LEDGER_ACCOUNTS`).
    pub ledger_accounts: crate::ledger::Accounts,
    /// Who owns each customer field (`CUSTOMER_FIELD_OWNERS`).
    pub customer_field_owners: super::customers::FieldOwners,
}

impl Default for FlowSettings {
    fn default() -> Self {
        Self {
            kentico_platform: KenticoPlatform::K13,
            kentico_currency: None,
            payment_mode: PaymentMode::PaymentElement,
            capture_method: "automatic".into(),
            automatic_payment_methods: true,
            checkout_success_url: None,
            checkout_cancel_url: None,
            cancel_status_names: vec!["Canceled".into(), "Cancelled".into()],
            status_mapping: StatusMapping::default(),
            refund_double_payments: false,
            payment_retry_url: None,
            ledger_accounts: crate::ledger::Accounts::default(),
            customer_field_owners: super::customers::FieldOwners::default(),
        }
    }
}

impl FlowSettings {
    /// The retry link for an order after a decline in Payment Element mode, if configured.
    pub fn retry_url(&self, order_id: i64, order_guid: Option<&str>) -> Option<String> {
        let template = self.payment_retry_url.as_ref()?;
        Some(
            template
                .replace("{order_id}", &order_id.to_string())
                .replace("{order_guid}", order_guid.unwrap_or_default()),
        )
    }

    /// Whether a Kentico status name means the order was canceled.
    pub fn is_cancel_status(&self, status_name: Option<&str>) -> bool {
        status_name.is_some_and(|name| {
            self.cancel_status_names
                .iter()
                .any(|c| c.eq_ignore_ascii_case(name.trim()))
        })
    }
}
