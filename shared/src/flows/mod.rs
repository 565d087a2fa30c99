//! The order-to-cash flows: Kentico orders → Stripe PaymentIntents, Stripe payments → Kentico statuses.

pub mod bootstrap;
pub mod failures;
pub mod order_events;
pub mod payment_events;
pub mod settings;
pub mod status;

use std::sync::Arc;

use crate::connectors::kentico::{KenticoClient, OrderStatusResolver, OrderUpdate};
use crate::connectors::stripe::StripeClient;
use crate::idempotency::effects::EffectStore;
use crate::links::OrderLinkStore;
use crate::worker::HandlerError;

pub use settings::{FlowSettings, PaymentMode};
pub use status::{PaymentState, StatusMapping};

/// What both workers' handlers work with.
pub struct FlowContext {
    /// Stripe's API.
    pub stripe: StripeClient,
    /// Kentico's REST service.
    pub kentico: KenticoClient,
    /// Kentico status names → IDs.
    pub statuses: OrderStatusResolver,
    /// Order ↔ Stripe links with status ranks.
    pub links: Arc<dyn OrderLinkStore>,
    /// Recorded side effects (business-key guard).
    pub effects: Arc<dyn EffectStore>,
    /// Behaviour.
    pub settings: FlowSettings,
}

/// Custom-data keys written to the Kentico order (`OrderCustomData`).
pub mod custom_data {
    /// The PaymentIntent id.
    pub const PAYMENT_INTENT: &str = "StripePaymentIntent";
    /// The PaymentIntent's client secret, for a Payment Element checkout.
    pub const CLIENT_SECRET: &str = "StripeClientSecret";
    /// The hosted Checkout URL (Checkout mode).
    pub const CHECKOUT_URL: &str = "StripeCheckoutUrl";
    /// The last payment state written.
    pub const PAYMENT_STATUS: &str = "StripePaymentStatus";
    /// Why the last attempt failed.
    pub const DECLINE_REASON: &str = "StripeDeclineReason";
    /// A link where the customer can pay again.
    pub const RETRY_URL: &str = "StripeRetryUrl";
}

impl FlowContext {
    /// Writes to the Kentico order: a status by name (resolved to its ID), paid, custom data.
    pub async fn write_order(
        &self,
        order_id: i64,
        status_name: Option<&str>,
        is_paid: Option<bool>,
        custom_data: Vec<(String, String)>,
    ) -> Result<(), HandlerError> {
        let status_id = match status_name {
            Some(name) => Some(
                self.statuses
                    .id_for(name)
                    .await
                    .map_err(failures::kentico)?,
            ),
            None => None,
        };
        let update = OrderUpdate {
            status_id,
            is_paid,
            custom_data,
        };
        self.kentico
            .update_order(order_id, &update)
            .await
            .map_err(failures::kentico)
    }
}
