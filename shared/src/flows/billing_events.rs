//! payment-worker: subscriptions and invoices. Each `customer.subscription.*` and `invoice.*`
//! event is recorded on its Stripe Customer (state, current period, latest invoice; amounts and
//! the hosted page), forward only by event time, for the customer view. An invoice that names a
//! Kentico order (`metadata.kentico_order_id`) also follows the order path: `invoice.paid` marks
//! the order paid only through a PaymentIntent paybridge created for that order, under the same
//! checks as its own payment events; `invoice.payment_failed` writes the failed payment and the
//! invoice's page as the retry link, forward only.

use std::sync::Arc;

use super::payment_checks::Owner;
use super::payment_events::PaymentEventHandler;
use super::{FlowContext, PaymentState, custom_data, failures};
use crate::connectors::shop::OrderRef;
use crate::customers::billing::{self, BillingRecord, expandable_id as id_of};
use crate::customers::{BillingObject, CustomerLinkStore};
use crate::links::Advance;
use crate::webhook::event_types::stripe as events;
use crate::worker::{Delivery, EventHandler, Handled, HandlerError, ReceivedEvent};

/// The Stripe events this handler takes.
pub const EVENT_TYPES: [&str; 9] = events::BILLING_EVENTS;

/// Records subscriptions and invoices; applies an order's invoice to the order.
pub struct BillingEventHandler {
    ctx: Arc<FlowContext>,
    customers: Arc<dyn CustomerLinkStore>,
    payments: PaymentEventHandler,
}

impl BillingEventHandler {
    /// A handler over the flow context and the customer links.
    pub fn new(ctx: Arc<FlowContext>, customers: Arc<dyn CustomerLinkStore>) -> Self {
        Self {
            payments: PaymentEventHandler::new(ctx.clone()),
            ctx,
            customers,
        }
    }
}

#[async_trait::async_trait]
impl EventHandler for BillingEventHandler {
    fn business_key(&self, event: &ReceivedEvent) -> Option<String> {
        let object = event.payload.pointer("/data/object")?;
        match billing::invoice_order(object).filter(|_| object["object"] == "invoice") {
            // In step with the order's own payment events.
            Some(order_id) => Some(format!("order:{order_id}")),
            None => id_of(&object["customer"]).map(|id| format!("stripe_customer:{id}")),
        }
    }

    async fn handle(
        &self,
        event: &ReceivedEvent,
        _delivery: &Delivery,
    ) -> Result<Handled, HandlerError> {
        let payload = &event.payload;
        let record = BillingRecord::from_event(payload).ok_or_else(|| {
            failures::undecodable("data.object is not a subscription or an invoice with an id")
        })?;
        let customer = id_of(&payload["data"]["object"]["customer"])
            .ok_or_else(|| failures::undecodable("data.object names no customer"))?;
        let livemode = payload["livemode"]
            .as_bool()
            .ok_or_else(|| failures::undecodable("the event has no livemode"))?;
        if livemode != self.ctx.stripe.livemode() {
            return Ok(Handled::Ignored(format!(
                "{} of {} is of the other mode than paybridge's key",
                event.event_type(),
                record.id
            )));
        }
        let changed = billing::record(&*self.customers, customer, record.clone())
            .await
            .map_err(failures::store)?;
        let applies_to_order = record.object == BillingObject::Invoice
            && matches!(
                event.event_type(),
                events::INVOICE_PAID | events::INVOICE_PAYMENT_FAILED
            );
        if let (true, Some(order_id)) = (applies_to_order, record.kentico_order_id) {
            return match event.event_type() {
                events::INVOICE_PAID => self.paid(order_id, &record.id).await,
                _ => self.payment_failed(order_id, &record.id).await,
            };
        }
        let what = format!("{} {} of {customer}", record.id, record.status);
        Ok(match changed {
            true => Handled::Done(format!("recorded {what}")),
            false => Handled::Ignored(format!("{what}: a newer event was recorded before")),
        })
    }
}

impl BillingEventHandler {
    /// `invoice.paid` for an order: the invoice as Stripe shows it now must be paid by a
    /// PaymentIntent paybridge created for this order; that payment then goes through the
    /// order's own success path (amount, currency, mode, once).
    async fn paid(&self, order_id: i64, invoice_id: &str) -> Result<Handled, HandlerError> {
        let ctx = &self.ctx;
        let invoice = (ctx.stripe)
            .retrieve_invoice(invoice_id)
            .await
            .map_err(failures::stripe)?;
        if invoice.status.as_deref() != Some("paid") {
            return Ok(Handled::Ignored(format!(
                "invoice {invoice_id} is {} at Stripe now: order {order_id} is not marked paid",
                invoice.status.as_deref().unwrap_or("of no status")
            )));
        }
        let mut refused = Vec::new();
        for id in invoice.paid_payment_intents() {
            let intent = ctx.retrieve_intent(&id).await?;
            if let Some(why) = ctx.mode_mismatch(invoice.livemode, &intent) {
                refused.push(format!("{id} {why}"));
                continue;
            }
            match ctx.owner_of(&intent).await? {
                Owner::Ours(link) if link.order_id == order_id => {
                    return self.payments.succeeded(&link, &intent).await;
                }
                Owner::Ours(link) => refused.push(format!("{id} pays order {}", link.order_id)),
                Owner::Foreign { .. } => refused.push(format!("{id} was not created by paybridge")),
            }
        }
        if refused.is_empty() {
            refused.push("no PaymentIntent paid it".to_string());
        }
        ctx.count(super::money_metrics::FOREIGN_PAYMENTS);
        tracing::warn!(order_id, invoice = %invoice_id, why = %refused.join("; "), "an invoice naming an order was not paid by the order's payment; not applied");
        Err(HandlerError::permanent(
            "payment_not_ours",
            format!(
                "invoice {invoice_id} names order {order_id}, but {}: not applied to the order; \
                 check who created the invoice",
                refused.join("; ")
            ),
        )
        .with_detail("invoice", invoice_id.to_string()))
    }

    /// `invoice.payment_failed` for an order: the failed payment and the invoice's page to pay
    /// again, forward only; nothing for an order that is paid, canceled or unknown.
    async fn payment_failed(
        &self,
        order_id: i64,
        invoice_id: &str,
    ) -> Result<Handled, HandlerError> {
        let ctx = &self.ctx;
        let Some(link) = (ctx.links.by_order(order_id).await).map_err(failures::store)? else {
            return Ok(Handled::Ignored(format!(
                "invoice {invoice_id} names order {order_id}, which paybridge does not know"
            )));
        };
        if link.canceled || link.paid_by.is_some() {
            return Ok(Handled::Ignored(format!(
                "order {order_id} is paid or canceled: a failed payment of invoice {invoice_id} changes nothing"
            )));
        }
        let invoice = (ctx.stripe)
            .retrieve_invoice(invoice_id)
            .await
            .map_err(failures::stripe)?;
        if matches!(invoice.status.as_deref(), Some("paid" | "void")) {
            return Ok(Handled::Ignored(format!(
                "invoice {invoice_id} is {} at Stripe now",
                invoice.status.as_deref().unwrap_or_default()
            )));
        }
        let state = PaymentState::PaymentFailed;
        let status_name = ctx.settings().status_mapping.name(state).to_string();
        if let Advance::Refused { current_status, .. } = ctx
            .links
            .advance(order_id, invoice_id, state.rank(), &status_name)
            .await
            .map_err(failures::store)?
        {
            return Ok(Handled::Ignored(format!(
                "order {order_id} is already '{}': a late failure of invoice {invoice_id} changes nothing",
                current_status.unwrap_or_default()
            )));
        }
        let mut custom = vec![
            (
                custom_data::PAYMENT_STATUS.to_string(),
                state.key().to_string(),
            ),
            (
                custom_data::DECLINE_REASON.to_string(),
                format!("the payment of invoice {invoice_id} failed"),
            ),
        ];
        if let Some(url) = invoice.hosted_invoice_url {
            custom.push((custom_data::RETRY_URL.to_string(), url));
        }
        tracing::warn!(order_id, invoice = %invoice_id, "invoice payment failed");
        let order = OrderRef {
            id: order_id,
            guid: None,
        };
        ctx.write_order(order, Some(&status_name), None, custom)
            .await?;
        Ok(Handled::Done(format!(
            "{status_name} (invoice {invoice_id})"
        )))
    }
}
