//! payment-worker: Stripe's PaymentIntent events move the Kentico order's status, forward only.

use std::sync::Arc;

use serde_json::Value;

use super::order_events::create_checkout;
use super::{FlowContext, PaymentState, custom_data, failures};
use crate::connectors::stripe::{
    CheckoutLineItem, CreateCheckoutSession, PaymentIntent, PaymentIntentData, PriceData,
    ProductData,
};
use crate::idempotency::effects::EffectKey;
use crate::links::{Advance, OrderLink};
use crate::mapping::MappingError;
use crate::queue::QueueEnvelope;
use crate::worker::{EventHandler, Handled, HandlerError};

/// The Stripe events this handler takes.
pub const EVENT_TYPES: [&str; 6] = [
    "payment_intent.succeeded",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.amount_capturable_updated",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
];

/// Handles the PaymentIntent events of [`EVENT_TYPES`].
pub struct PaymentEventHandler {
    ctx: Arc<FlowContext>,
}

impl PaymentEventHandler {
    /// A handler over the shared flow context.
    pub fn new(ctx: Arc<FlowContext>) -> Self {
        Self { ctx }
    }
}

fn intent_of(envelope: &QueueEnvelope) -> Result<PaymentIntent, HandlerError> {
    let payload: Value =
        serde_json::from_str(envelope.payload.get()).map_err(failures::undecodable)?;
    let object = payload
        .pointer("/data/object")
        .cloned()
        .ok_or_else(|| failures::undecodable("the event has no data.object"))?;
    serde_json::from_value(object)
        .map_err(|e| failures::undecodable(format!("data.object is not a PaymentIntent: {e}")))
}

#[async_trait::async_trait]
impl EventHandler for PaymentEventHandler {
    fn business_key(&self, envelope: &QueueEnvelope) -> Option<String> {
        let payload: Value = serde_json::from_str(envelope.payload.get()).ok()?;
        let object = payload.pointer("/data/object")?;
        match object
            .pointer("/metadata/kentico_order_id")
            .and_then(Value::as_str)
        {
            Some(order) => Some(format!("order:{order}")),
            None => object["id"]
                .as_str()
                .map(|id| format!("payment_intent:{id}")),
        }
    }

    async fn handle(&self, envelope: &QueueEnvelope) -> Result<Handled, HandlerError> {
        let Some(state) = PaymentState::from_event_type(&envelope.event_type) else {
            return Ok(Handled::Ignored(format!(
                "the payment worker does not handle {}",
                envelope.event_type
            )));
        };
        let intent = intent_of(envelope)?;
        let Some(order_id) = self.order_of(&intent).await? else {
            return Ok(Handled::Ignored(format!(
                "{} was not created by paybridge (no kentico_order_id metadata, no order link)",
                intent.id
            )));
        };
        let link = OrderLink {
            order_id,
            payment_intent_id: Some(intent.id.clone()),
            ..OrderLink::default()
        };
        self.ctx.links.save(&link).await.map_err(failures::store)?;

        let status_name = self.ctx.settings.status_mapping.name(state).to_string();
        if let Advance::Refused { current_status, .. } = self
            .ctx
            .links
            .advance(order_id, state.rank(), &status_name)
            .await
            .map_err(failures::store)?
        {
            return Ok(Handled::Ignored(format!(
                "order {order_id} is already '{}': a late {} changes nothing",
                current_status.unwrap_or_default(),
                state.key()
            )));
        }

        let mut custom = vec![
            (custom_data::PAYMENT_INTENT.to_string(), intent.id.clone()),
            (
                custom_data::PAYMENT_STATUS.to_string(),
                state.key().to_string(),
            ),
        ];
        if state == PaymentState::PaymentFailed {
            let reason = decline_reason(&intent);
            tracing::warn!(order_id, payment_intent = %intent.id, reason = %reason, "payment failed");
            custom.push((custom_data::DECLINE_REASON.to_string(), reason));
            if let Some(url) = self
                .retry_link(&intent, order_id, &envelope.event_id)
                .await?
            {
                custom.push((custom_data::RETRY_URL.to_string(), url));
            }
        }
        let paid = (state == PaymentState::Succeeded).then_some(true);
        self.ctx
            .write_order(order_id, Some(&status_name), paid, custom)
            .await?;
        self.repair_if_overtaken(order_id, state).await?;
        Ok(Handled::Done(status_name))
    }
}

impl PaymentEventHandler {
    /// The Kentico order: from the PaymentIntent's metadata, else from the link table.
    async fn order_of(&self, intent: &PaymentIntent) -> Result<Option<i64>, HandlerError> {
        if let Some(raw) = intent.metadata.get("kentico_order_id") {
            return raw.trim().parse::<i64>().map(Some).map_err(|_| {
                failures::mapping(MappingError::new(
                    "metadata.kentico_order_id",
                    format!("'{raw}' on {} is not a Kentico OrderID", intent.id),
                ))
            });
        }
        let link = self
            .ctx
            .links
            .by_payment_intent(&intent.id)
            .await
            .map_err(failures::store)?;
        Ok(link.map(|l| l.order_id))
    }

    /// A hosted Checkout Session for what is still owed, so Kentico's "Payment Failed" e-mail can
    /// offer the customer another try; one per failure event.
    async fn retry_link(
        &self,
        intent: &PaymentIntent,
        order_id: i64,
        event_id: &str,
    ) -> Result<Option<String>, HandlerError> {
        let Some(success_url) = self.ctx.settings.checkout_success_url.clone() else {
            tracing::warn!(
                order_id,
                "no retry link: CHECKOUT_SUCCESS_URL is not configured"
            );
            return Ok(None);
        };
        let owed = intent.amount - intent.amount_received.unwrap_or(0);
        if owed <= 0 {
            return Ok(None);
        }
        let metadata: std::collections::BTreeMap<String, String> = intent
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let params = CreateCheckoutSession {
            mode: "payment".into(),
            line_items: vec![CheckoutLineItem {
                quantity: 1,
                price_data: PriceData {
                    currency: intent.currency.clone(),
                    unit_amount: owed,
                    product_data: ProductData {
                        name: intent
                            .description
                            .clone()
                            .filter(|d| !d.is_empty())
                            .unwrap_or_else(|| format!("Order {order_id}")),
                    },
                },
            }],
            success_url,
            cancel_url: self.ctx.settings.checkout_cancel_url.clone(),
            client_reference_id: Some(order_id.to_string()),
            customer_email: None,
            metadata: metadata.clone(),
            payment_intent_data: Some(PaymentIntentData {
                metadata,
                description: intent.description.clone(),
            }),
        };
        let key = EffectKey::new("retry_session", format!("{}-{event_id}", intent.id));
        let (_, url) = create_checkout(&self.ctx, key, &params).await?;
        Ok(Some(url).filter(|u| !u.is_empty()))
    }

    /// Kentico has no conditional write: if a higher state was recorded while this one was being
    /// written, write that state again so the order ends at the highest rank.
    async fn repair_if_overtaken(
        &self,
        order_id: i64,
        written: PaymentState,
    ) -> Result<(), HandlerError> {
        let Some(link) = self
            .ctx
            .links
            .by_order(order_id)
            .await
            .map_err(failures::store)?
        else {
            return Ok(());
        };
        if link.status_rank <= written.rank() {
            return Ok(());
        }
        let Some(name) = link.status_name else {
            return Ok(());
        };
        let paid = (link.status_rank == PaymentState::Succeeded.rank()).then_some(true);
        tracing::info!(order_id, status = %name, "a higher payment state overtook this one; writing it again");
        self.ctx
            .write_order(order_id, Some(&name), paid, Vec::new())
            .await
    }
}

/// `card_declined (insufficient_funds): Your card has insufficient funds.`
fn decline_reason(intent: &PaymentIntent) -> String {
    let Some(error) = &intent.last_payment_error else {
        return "the payment failed (Stripe gave no reason)".to_string();
    };
    let code = error
        .code
        .clone()
        .unwrap_or_else(|| "payment_failed".into());
    let decline = error
        .decline_code
        .as_ref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    let message = error
        .message
        .as_ref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    format!("{code}{decline}{message}")
}
