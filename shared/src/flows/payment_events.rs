//! payment-worker: Stripe's PaymentIntent events move the Kentico order's status, forward only,
//! and only for the order's own payments (see [`super::payment_checks`]).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::payment_checks::{Owner, claimed_order};
use super::{FlowContext, PaymentMode, PaymentState, custom_data, failures, money_metrics};
use crate::connectors::shop::OrderRef;
use crate::connectors::stripe::{CheckoutSessionStatus, PaymentIntent};
use crate::links::{Advance, FINAL_RANK, OrderLink, PaymentClaim};
use crate::webhook::event_types;
use crate::worker::{Delivery, EventHandler, Handled, HandlerError, ReceivedEvent};

/// The Stripe events this handler takes.
pub const EVENT_TYPES: [&str; 6] = event_types::stripe::PAYMENT_INTENT_EVENTS;

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

/// The event's PaymentIntent and the event's own `livemode`.
fn read(event: &ReceivedEvent) -> Result<(PaymentIntent, bool), HandlerError> {
    let object = (event.payload)
        .pointer("/data/object")
        .ok_or_else(|| failures::undecodable("the event has no data.object"))?;
    let livemode = event.payload["livemode"]
        .as_bool()
        .ok_or_else(|| failures::undecodable("the event has no livemode"))?;
    let intent = PaymentIntent::deserialize(object)
        .map_err(|e| failures::undecodable(format!("data.object is not a PaymentIntent: {e}")))?;
    Ok((intent, livemode))
}

#[async_trait::async_trait]
impl EventHandler for PaymentEventHandler {
    fn business_key(&self, event: &ReceivedEvent) -> Option<String> {
        let object = event.payload.pointer("/data/object")?;
        match object
            .pointer("/metadata/kentico_order_id")
            .and_then(Value::as_str)
        {
            Some(order) => Some(format!("order:{}", order.trim())),
            None => object["id"]
                .as_str()
                .map(|id| format!("payment_intent:{id}")),
        }
    }

    async fn handle(
        &self,
        event: &ReceivedEvent,
        _delivery: &Delivery,
    ) -> Result<Handled, HandlerError> {
        let Some(state) = PaymentState::from_event_type(event.event_type()) else {
            return Ok(Handled::Ignored(format!(
                "the payment worker does not handle {}",
                event.event_type()
            )));
        };
        let ctx = &self.ctx;
        let (intent, event_livemode) = read(event)?;
        if let Some(why) = ctx.mode_mismatch(event_livemode, &intent) {
            return ctx.foreign(&intent, claimed_order(&intent), &why).await;
        }
        let link = match ctx.owner_of(&intent).await? {
            Owner::Ours(link) => *link,
            Owner::Foreign { claimed_order } => {
                return ctx
                    .foreign(&intent, claimed_order, "was not created by paybridge")
                    .await;
            }
        };
        if state == PaymentState::Succeeded {
            return self.succeeded(&link, &intent).await;
        }
        let order_id = link.order_id;
        if link.canceled {
            return Ok(Handled::Ignored(format!(
                "order {order_id} is canceled in Kentico: {} of {} changes nothing",
                state.key(),
                intent.id
            )));
        }
        if let Some(paid_by) = &link.paid_by {
            return Ok(Handled::Ignored(format!(
                "order {order_id} is paid by {paid_by}: a late {} of {} changes nothing",
                state.key(),
                intent.id
            )));
        }
        if link.payment_intent_id.as_deref() != Some(intent.id.as_str()) {
            ctx.count(money_metrics::SUPERSEDED_PAYMENT_EVENTS);
            return Ok(Handled::Ignored(format!(
                "{} is no longer order {order_id}'s active payment: its {} is recorded, not applied",
                intent.id,
                state.key()
            )));
        }
        self.apply(&link, &intent, state).await
    }
}

impl PaymentEventHandler {
    /// A state of the order's active PaymentIntent, written to Kentico if it moves the order forward.
    async fn apply(
        &self,
        link: &OrderLink,
        intent: &PaymentIntent,
        state: PaymentState,
    ) -> Result<Handled, HandlerError> {
        let ctx = &self.ctx;
        let order_id = link.order_id;
        let status_name = ctx.settings().status_mapping.name(state).to_string();
        if let Advance::Refused { current_status, .. } = ctx
            .links
            .advance(order_id, &intent.id, state.rank(), &status_name)
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
            let reason = decline_reason(intent);
            tracing::warn!(order_id, payment_intent = %intent.id, reason = %reason, "payment failed");
            custom.push((custom_data::DECLINE_REASON.to_string(), reason));
            if let Some(url) = self.retry_link(link).await? {
                custom.push((custom_data::RETRY_URL.to_string(), url));
            }
        }
        ctx.write_order(super::order_of(link), Some(&status_name), None, custom)
            .await?;
        self.repair_if_overtaken(order_id, state).await?;
        Ok(Handled::Done(status_name))
    }

    /// The order's own payment succeeded: checked against what Stripe says now and what the
    /// order owes, claimed for the order (once), written as paid, and every other payable object
    /// of the order closed.
    pub(super) async fn succeeded(
        &self,
        link: &OrderLink,
        intent: &PaymentIntent,
    ) -> Result<Handled, HandlerError> {
        let ctx = &self.ctx;
        let order_id = link.order_id;
        let paid = ctx.confirm_success(link, intent).await?;
        match ctx
            .links
            .claim_payment(order_id, &paid.id)
            .await
            .map_err(failures::store)?
        {
            PaymentClaim::Claimed => {}
            PaymentClaim::PaidBy(other) => {
                return Err(ctx.double_payment(link, &paid, &other).await?);
            }
            PaymentClaim::Canceled => return Err(ctx.paid_after_cancel(order_id, &paid)),
        }
        let state = PaymentState::Succeeded;
        let status_name = ctx.settings().status_mapping.name(state).to_string();
        let advanced = ctx
            .links
            .advance(order_id, &paid.id, state.rank(), &status_name)
            .await
            .map_err(failures::store)?;
        // After the payment (refunded, disputed) the refund and dispute events decide what the
        // order shows: a late or replayed success never takes it back to paid.
        let status = match advanced {
            Advance::Refused { current_rank, .. } if current_rank > FINAL_RANK => None,
            _ => Some(status_name.as_str()),
        };
        let custom = vec![
            (custom_data::PAYMENT_INTENT.to_string(), paid.id.clone()),
            (
                custom_data::PAYMENT_STATUS.to_string(),
                state.key().to_string(),
            ),
        ];
        ctx.write_order(super::order_of(link), status, Some(true), custom)
            .await?;
        let mut keep = vec![paid.id.as_str()];
        if link.payment_intent_id.as_deref() == Some(paid.id.as_str()) {
            keep.extend(link.checkout_session_id.as_deref());
        }
        let open = ctx.close_all_but(link, &keep, "duplicate").await?;
        if !open.is_empty() {
            tracing::info!(order_id, objects = %open.join(", "), "paid; these payable objects were already complete or under way");
        }
        Ok(Handled::Done(format!("{status_name} by {}", paid.id)))
    }

    /// Where the customer can pay again: the order's own PaymentIntent confirmed again on the
    /// shop's page (Payment Element, `PAYMENT_RETRY_URL`), or the order's open Checkout Session.
    /// Never a new payable object: one per order at a time.
    async fn retry_link(&self, link: &OrderLink) -> Result<Option<String>, HandlerError> {
        let ctx = &self.ctx;
        match (&ctx.settings().payment_mode, &link.checkout_session_id) {
            (PaymentMode::Checkout, Some(session_id)) => {
                let session = ctx.retrieve_session(session_id).await?;
                Ok(session
                    .url
                    .filter(|_| session.status == Some(CheckoutSessionStatus::Open)))
            }
            (PaymentMode::Checkout, None) => Ok(None),
            (PaymentMode::PaymentElement, _) => Ok(ctx
                .settings()
                .retry_url(link.order_id, link.order_guid.as_deref())),
        }
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
            .write_order(
                OrderRef {
                    id: order_id,
                    guid: link.order_guid.as_deref(),
                },
                Some(&name),
                paid,
                Vec::new(),
            )
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
