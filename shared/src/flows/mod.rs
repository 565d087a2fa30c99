//! The order-to-cash flows: Kentico orders → Stripe PaymentIntents, Stripe payments → Kentico statuses.
//!
//! The rules that keep money safe (README, "Money safety"): only a payment paybridge created for
//! the order, in its currency and mode, for what it owes, as Stripe says now, marks it paid; at
//! most one payable object per order at a time; order updates apply in version order.

pub mod attempts;
pub mod billing_events;
pub mod customer_events;
pub mod failures;
pub mod gate;
pub mod ledger_events;
pub mod order_events;
pub mod order_requests;
pub mod payment_checks;
pub mod payment_events;
pub mod preview;
pub mod stripe_endpoint;

use std::sync::Arc;

use crate::clock::Clock;
use crate::connectors::shop::{KenticoRestOrders, OrderRef, OrderWrite, ShopOrders};
use crate::connectors::stripe::StripeClient;
use crate::effects::EffectStore;
use crate::links::{OrderLink, OrderLinkStore};
use crate::metrics::Metrics;
use crate::worker::HandlerError;

pub use crate::config::flow::{FlowSettings, PaymentMode};
pub use crate::mapping::payment_status::{PaymentState, StatusMapping};

use crate::mapping::KenticoPlatform;
use crate::mapping_doc::{ActiveMapping, AppliedMapping};

/// Every Stripe event type the payment worker routes, sorted and without repeats: exactly what
/// the Stripe webhook endpoint must subscribe (`paybridge setup stripe`, `paybridge doctor`).
/// A type missing there is an event paybridge never sees; one extra only costs a delivery.
pub fn stripe_event_types() -> Vec<&'static str> {
    let mut types: Vec<&'static str> = (payment_events::EVENT_TYPES.iter())
        .chain(&ledger_events::EVENT_TYPES)
        .chain(&customer_events::STRIPE_EVENT_TYPES)
        .chain(&billing_events::EVENT_TYPES)
        .copied()
        .collect();
    types.sort_unstable();
    types.dedup();
    types
}

/// The order `link` is for, as the shop's connectors address it.
pub(crate) fn order_of(link: &OrderLink) -> OrderRef<'_> {
    OrderRef {
        id: link.order_id,
        guid: link.order_guid.as_deref(),
    }
}

/// What both workers' handlers work with.
pub struct FlowContext {
    /// Stripe's API.
    pub stripe: StripeClient,
    /// The shop's orders, where statuses are written: Kentico 13's REST service or the
    /// Xperience by Kentico package (`KENTICO_PLATFORM`).
    pub shop: Arc<dyn ShopOrders>,
    /// Kentico 13's REST service, for what only it offers (customer write-back); `None` on
    /// Xperience by Kentico.
    pub kentico: Option<KenticoRestOrders>,
    /// Order ↔ Stripe links with status ranks.
    pub links: Arc<dyn OrderLinkStore>,
    /// Recorded side effects (business-key guard).
    pub effects: Arc<dyn EffectStore>,
    /// Behaviour: the environment's settings under the active mapping version, refreshed at
    /// each event ([`FlowContext::settings`]).
    pub mapping: Arc<ActiveMapping>,
    /// Where the money metrics go.
    pub metrics: Arc<dyn Metrics>,
    /// Time, for order leases.
    pub clock: Arc<dyn Clock>,
}

/// Custom-data keys written to the Kentico order (`OrderCustomData`).
pub mod custom_data {
    /// The PaymentIntent id.
    pub const PAYMENT_INTENT: &str = "StripePaymentIntent";
    /// The hosted Checkout URL (Checkout mode).
    pub const CHECKOUT_URL: &str = "StripeCheckoutUrl";
    /// The last payment state written.
    pub const PAYMENT_STATUS: &str = "StripePaymentStatus";
    /// Why the last attempt failed.
    pub const DECLINE_REASON: &str = "StripeDeclineReason";
    /// A link where the customer can pay again.
    pub const RETRY_URL: &str = "StripeRetryUrl";
}

/// The metrics of payments and updates that are recorded but not applied (no dimensions: each
/// is worth an alarm on its own).
pub mod money_metrics {
    /// A payment event for a PaymentIntent paybridge did not create (or of the other mode).
    pub const FOREIGN_PAYMENTS: &str = "ForeignPayments";
    /// A payment of ours for less than the order owes, or in another currency.
    pub const UNDERPAID_PAYMENTS: &str = "UnderpaidPayments";
    /// A second successful payment of an order that was already paid.
    pub const DOUBLE_PAYMENTS: &str = "DoublePayments";
    /// A successful payment of an order canceled in Kentico.
    pub const PAID_AFTER_CANCEL: &str = "PaidAfterCancel";
    /// An order update older than one already applied.
    pub const STALE_ORDER_UPDATES: &str = "StaleOrderUpdates";
    /// An event of a payment attempt that is no longer the order's active one.
    pub const SUPERSEDED_PAYMENT_EVENTS: &str = "SupersededPaymentEvents";
    /// A customer opened a dispute on a payment of ours (it has a response deadline).
    pub const DISPUTES: &str = "Disputes";
    /// A Stripe customer event for a customer paybridge does not link to a Kentico customer.
    pub const UNLINKED_CUSTOMER_EVENTS: &str = "UnlinkedCustomerEvents";
    /// A customer event that only echoed what paybridge itself wrote.
    pub const CUSTOMER_ECHOES: &str = "CustomerEchoes";
}

impl FlowContext {
    /// The settings of the mapping version last read (each event reads the active one first:
    /// [`gate::FlowGate`]).
    pub fn settings(&self) -> Arc<AppliedMapping> {
        self.mapping.current()
    }

    /// Counts one of the [`money_metrics`].
    pub fn count(&self, metric: &'static str) {
        self.metrics.increment(metric, &[]);
    }

    /// Writes to the Kentico order: a status by name, paid, custom data. Xperience by Kentico
    /// addresses the order by its GUID: callers pass the one they hold (from the order or its
    /// link); without one, the GUID the order's link recorded is read.
    pub async fn write_order(
        &self,
        order: OrderRef<'_>,
        status_name: Option<&str>,
        is_paid: Option<bool>,
        custom_data: Vec<(String, String)>,
    ) -> Result<(), HandlerError> {
        let looked_up = match (self.shop.platform(), order.guid) {
            (KenticoPlatform::Xbyk, None) => (self.links.by_order(order.id).await)
                .map_err(failures::store)?
                .and_then(|link| link.order_guid),
            _ => None,
        };
        let write = OrderWrite {
            status_name: status_name.map(str::to_owned),
            is_paid,
            custom_data,
        };
        let order = OrderRef {
            guid: order.guid.or(looked_up.as_deref()),
            ..order
        };
        (self.shop.write_order(order, &write).await).map_err(failures::kentico)
    }
}
