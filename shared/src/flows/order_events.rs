//! order-worker: a Kentico order becomes one payable Stripe object (a PaymentIntent, or a Checkout
//! Session); its updates follow the order's total and currency in version order; its
//! cancellation closes every payable object it has.

use std::sync::Arc;

use super::customer_events::stripe_customer_of;
use super::order_requests::{self, OrderInput};
use super::{FlowContext, PaymentMode, failures, money_metrics};
use crate::connectors::shop::OrderRef;
use crate::connectors::stripe::{
    CheckoutSession, CheckoutSessionStatus, CreateCheckoutSession, CreatePaymentIntent,
    PaymentIntent, PaymentIntentStatus,
};
use crate::customers::CustomerLinkStore;
use crate::links::{Attempt, OrderLink, OrderTerms, OrderVersion, TermsApplied};
use crate::mapping::{self, KenticoOrder, KenticoPlatform, to_minor_units};
use crate::mapping_doc::AppliedMapping;
use crate::webhook::event_types;
use crate::worker::{Delivery, EventHandler, Handled, HandlerError, ReceivedEvent};

/// The Kentico order events the order worker takes.
pub const EVENT_TYPES: [&str; 2] = event_types::kentico::ORDER_EVENTS;

/// Handles `ecommerce.order.created` and `ecommerce.order.updated` alike: both say what the order
/// is now, and the order's version says which is newer.
pub struct OrderEventHandler {
    ctx: Arc<FlowContext>,
    customers: Arc<dyn CustomerLinkStore>,
}

impl OrderEventHandler {
    /// A handler over the shared flow context and the customer links (an order's payable object
    /// carries its customer's Stripe Customer).
    pub fn new(ctx: Arc<FlowContext>, customers: Arc<dyn CustomerLinkStore>) -> Self {
        Self { ctx, customers }
    }
}

/// The payable object made (or kept) for an order.
enum Made {
    Intent(PaymentIntent),
    Session(CheckoutSession),
}

/// One order event, read.
struct OrderEvent {
    order: KenticoOrder,
    /// The event's `data.object` with the mapping's aliases applied: what its rules read.
    object: serde_json::Value,
    site: Option<String>,
    version: OrderVersion,
    event_id: String,
    /// Replayed by an operator: write the Kentico order again even if nothing changed.
    replay: bool,
    /// The Stripe Customer of the order's customer, once known.
    stripe_customer: Option<String>,
}

fn read(
    event: &ReceivedEvent,
    replay: bool,
    mapping: &AppliedMapping,
) -> Result<OrderEvent, HandlerError> {
    let payload = &event.payload;
    let mut object = payload.pointer("/data/object").cloned().ok_or_else(|| {
        failures::mapping(mapping::MappingError::new(
            "data.object",
            "the event carries no order object",
        ))
    })?;
    for (field, spelling, code) in mapping.aliases.apply_to_order(&mut object) {
        tracing::info!(
            field,
            spelling,
            code,
            version = mapping.version,
            "alias applied"
        );
    }
    let order = read_order(
        &object,
        sent_by(payload, mapping.kentico_platform)?,
        mapping,
    )
    .map_err(failures::mapping)?;
    let created = payload["created"].as_i64().unwrap_or(0);
    Ok(OrderEvent {
        version: OrderVersion::new(order.last_modified, created),
        site: payload["site"].as_str().map(str::to_string),
        event_id: event.event_id().to_string(),
        replay,
        order,
        object,
        stripe_customer: None,
    })
}

/// The order in `object`, as `platform` sends it.
pub(crate) fn read_order(
    object: &serde_json::Value,
    platform: KenticoPlatform,
    settings: &super::FlowSettings,
) -> Result<KenticoOrder, mapping::MappingError> {
    match platform {
        KenticoPlatform::K13 => KenticoOrder::from_event_object(object),
        KenticoPlatform::Xbyk => {
            KenticoOrder::from_xbyk_event_object(object, settings.kentico_currency)
        }
    }
}

/// The platform an event says it comes from, which must be the configured one: an order of
/// the other Kentico would be written back to the wrong place.
pub(crate) fn sent_by(
    payload: &serde_json::Value,
    configured: KenticoPlatform,
) -> Result<KenticoPlatform, HandlerError> {
    let platform = KenticoPlatform::from_event(payload).map_err(failures::mapping)?;
    if platform != configured {
        return Err(failures::mapping(
            mapping::MappingError::new(
                "platform",
                format!(
                    "the event comes from {} but KENTICO_PLATFORM is {}",
                    platform.name(),
                    configured.name()
                ),
            )
            .with_suggestion(format!(
                "set KENTICO_PLATFORM={} if the shop runs {}",
                platform.key(),
                platform.name()
            )),
        ));
    }
    Ok(platform)
}

#[async_trait::async_trait]
impl EventHandler for OrderEventHandler {
    fn business_key(&self, event: &ReceivedEvent) -> Option<String> {
        let id = event.payload.pointer("/data/object/OrderID")?;
        Some(format!(
            "order:{}",
            id.as_i64()
                .map(|n| n.to_string())
                .or_else(|| id.as_str().map(str::to_string))?
        ))
    }

    async fn handle(
        &self,
        received: &ReceivedEvent,
        delivery: &Delivery,
    ) -> Result<Handled, HandlerError> {
        if !EVENT_TYPES.contains(&received.event_type()) {
            return Ok(Handled::Ignored(format!(
                "the order worker does not handle {}",
                received.event_type()
            )));
        }
        let mut event = read(received, delivery.replay, &self.ctx.settings())?;
        let lease = (self.ctx)
            .lease(event.order.id, &event.event_id, delivery.deadline_ms)
            .await?;
        let result = self.sync(&mut event).await;
        self.ctx.release(lease).await;
        result
    }
}

impl OrderEventHandler {
    /// The Stripe Customer of the order's customer: linked, or created and linked first. An
    /// order without its `Customer` object (only `OrderCustomerID`) uses the link if there is one.
    async fn customer_of(&self, event: &OrderEvent) -> Result<Option<String>, HandlerError> {
        let order = &event.order;
        if let Some(customer) = &order.customer {
            let site = event.site.as_deref();
            return stripe_customer_of(&self.ctx, &*self.customers, customer, site)
                .await
                .map(Some);
        }
        let Some(id) = order.customer_id else {
            return Ok(None);
        };
        let link = self.customers.get(id).await.map_err(failures::store)?;
        Ok(link
            .filter(|l| !l.unlinked)
            .and_then(|l| l.stripe_customer_id))
    }

    /// Brings the order's Stripe side in line with the order as this event reports it.
    async fn sync(&self, event: &mut OrderEvent) -> Result<Handled, HandlerError> {
        let ctx = &self.ctx;
        let order = &event.order;
        let link = (ctx.links.by_order(order.id).await)
            .map_err(failures::store)?
            .unwrap_or(OrderLink {
                order_id: order.id,
                ..OrderLink::default()
            });
        if let Some(current) = link.version.as_ref().filter(|v| **v > event.version) {
            return Ok(self.stale(order.id, &event.version, current));
        }
        ctx.links
            .save(&OrderLink {
                order_id: order.id,
                order_guid: Some(order.guid.clone()),
                site: event.site.clone(),
                ..OrderLink::default()
            })
            .await
            .map_err(failures::store)?;
        if ctx
            .settings()
            .is_cancel_status(order.status_name.as_deref())
        {
            return self.cancel(event, &link).await;
        }
        if link.canceled {
            return Ok(Handled::Ignored(format!(
                "order {} was canceled: it gets no payable object again",
                order.id
            )));
        }
        if let Some(paid_by) = &link.paid_by {
            return Ok(Handled::Ignored(format!(
                "order {} is paid by {paid_by}: its payment is no longer changed",
                order.id
            )));
        }
        if order.is_paid {
            return Ok(Handled::Ignored(format!(
                "order {} is already paid in Kentico",
                order.id
            )));
        }
        let terms = OrderTerms {
            version: event.version.clone(),
            amount: to_minor_units("OrderGrandTotal", order.grand_total, &order.currency)
                .map_err(failures::mapping)?,
            currency: order.currency.stripe_code(),
        };
        let unchanged = link.active().is_some()
            && link.amount == Some(terms.amount)
            && link.currency.as_deref() == Some(terms.currency.as_str());
        let published = link.published.as_deref() == link.active().as_ref().map(Attempt::id);
        if unchanged && published && !event.replay {
            return match ctx.links.apply_terms(order.id, &terms).await {
                Ok(TermsApplied::Stale { current }) => {
                    Ok(self.stale(order.id, &event.version, &current))
                }
                Ok(TermsApplied::Applied) => Ok(Handled::Ignored(format!(
                    "order {} changed nothing the payment depends on",
                    order.id
                ))),
                Err(error) => Err(failures::store(error)),
            };
        }
        // Only an order that gets a payable object links its customer.
        event.stripe_customer = self.customer_of(event).await?;
        match ctx.settings().payment_mode {
            PaymentMode::PaymentElement => self.sync_intent(event, &link, &terms).await,
            PaymentMode::Checkout => self.sync_session(event, &link, &terms).await,
        }
    }

    fn stale(&self, order_id: i64, version: &OrderVersion, current: &OrderVersion) -> Handled {
        self.ctx.count(money_metrics::STALE_ORDER_UPDATES);
        Handled::Ignored(format!(
            "order {order_id}: this update ({version}) is older than the one applied ({current})"
        ))
    }

    /// Payment Element: one PaymentIntent per order and currency, its amount kept equal to what
    /// the order owes.
    async fn sync_intent(
        &self,
        event: &OrderEvent,
        link: &OrderLink,
        terms: &OrderTerms,
    ) -> Result<Handled, HandlerError> {
        let ctx = &self.ctx;
        let order = &event.order;
        let params = self.intent_params(event, terms)?;
        let mut intent = match &link.payment_intent_id {
            Some(active) => ctx.retrieve_intent(active).await?,
            None => ctx.intent_once(&order.guid, &params).await?,
        };
        ctx.record_attempt(order.id, &Attempt::PaymentIntent(intent.id.clone()))
            .await?;
        let mut note = String::new();
        // A new PaymentIntent when the currency changed, or when the order's was canceled at
        // Stripe (Dashboard, API) and the order still owes something.
        let canceled = intent.status == PaymentIntentStatus::Canceled;
        if intent.currency != terms.currency || canceled {
            under_way(
                ctx.cancel_intent(&intent.id, "abandoned").await?,
                &intent.id,
                "its currency",
            )?;
            let key = format!("{}-{}-{}", order.guid, terms.currency, terms.version.key());
            let old = intent.id;
            intent = ctx.intent_once(&key, &params).await?;
            ctx.record_attempt(order.id, &Attempt::PaymentIntent(intent.id.clone()))
                .await?;
            let why = if canceled {
                "it was canceled at Stripe"
            } else {
                "the currency changed"
            };
            note = format!(" (replaces {old}, canceled: {why})");
        } else if intent.amount != terms.amount {
            if !intent.status.is_updatable() {
                return Err(payment_under_way(
                    &intent.id,
                    &format!("{:?}", intent.status),
                    "its amount",
                ));
            }
            intent = self.update_amount(event, &intent, terms).await?;
            note = format!(" (amount now {})", terms.amount);
        }
        self.finish(event, link, terms, Made::Intent(intent), note)
            .await
    }

    async fn update_amount(
        &self,
        event: &OrderEvent,
        intent: &PaymentIntent,
        terms: &OrderTerms,
    ) -> Result<PaymentIntent, HandlerError> {
        let update =
            order_requests::update_params(&self.ctx.settings(), &input(event), terms.amount)
                .map_err(failures::mapping)?;
        // One key per applied version: 100 → 120 → 100 → 120 are four different updates.
        let key = format!(
            "paybridge-amount-{}-{}",
            event.order.guid,
            terms.version.key()
        );
        let updated = (self.ctx.stripe)
            .update_payment_intent(&intent.id, &update, &key)
            .await
            .map_err(failures::stripe)?;
        if updated.amount != terms.amount || updated.currency != terms.currency {
            return Err(HandlerError::permanent(
                "stripe_amount_mismatch",
                format!(
                    "Stripe answered the update of {} with {} {} instead of {} {}",
                    updated.id, updated.amount, updated.currency, terms.amount, terms.currency
                ),
            ));
        }
        Ok(updated)
    }

    /// Checkout: one open session per order, replaced (the old one expired) when the amount or
    /// the currency changes.
    async fn sync_session(
        &self,
        event: &OrderEvent,
        link: &OrderLink,
        terms: &OrderTerms,
    ) -> Result<Handled, HandlerError> {
        let ctx = &self.ctx;
        let order = &event.order;
        let params = self.session_params(event, terms)?;
        let (session, note) = match &link.checkout_session_id {
            None => (ctx.session_once(&order.guid, &params).await?, String::new()),
            Some(active) => {
                let current = ctx.retrieve_session(active).await?;
                let same = current.amount_total == Some(terms.amount)
                    && current.currency.as_deref() == Some(terms.currency.as_str());
                if same && current.status == Some(CheckoutSessionStatus::Open) {
                    (current, String::new())
                } else {
                    let closed = match current.status {
                        Some(CheckoutSessionStatus::Expired) => super::attempts::Closed::Closed,
                        _ => ctx.expire_session(active).await?,
                    };
                    under_way(closed, active, "its amount")?;
                    let key = format!("{}-{}", order.guid, terms.version.key());
                    let replaced = ctx.session_once(&key, &params).await?;
                    (replaced, format!(" (replaces {active}, expired)"))
                }
            }
        };
        ctx.record_attempt(order.id, &Attempt::CheckoutSession(session.id.clone()))
            .await?;
        self.finish(event, link, terms, Made::Session(session), note)
            .await
    }

    /// Makes `made` the order's payable object with `terms` and writes it to the Kentico order
    /// (once, or again on a replay); closes it again if the order moved on meanwhile.
    async fn finish(
        &self,
        event: &OrderEvent,
        link: &OrderLink,
        terms: &OrderTerms,
        made: Made,
        note: String,
    ) -> Result<Handled, HandlerError> {
        let order_id = event.order.id;
        let attempt = match &made {
            Made::Intent(intent) => Attempt::PaymentIntent(intent.id.clone()),
            Made::Session(session) => Attempt::CheckoutSession(session.id.clone()),
        };
        if !self.activate(order_id, terms, &attempt, link).await? {
            return self.refused(order_id, &attempt).await;
        }
        if event.replay || link.published.as_deref() != Some(attempt.id()) {
            let order = OrderRef {
                id: order_id,
                guid: Some(&event.order.guid),
            };
            match &made {
                Made::Intent(intent) => self.ctx.publish_intent(order, intent).await?,
                Made::Session(session) => self.ctx.publish_session(order, session).await?,
            }
        }
        Ok(Handled::Done(format!("{}{note}", attempt.id())))
    }

    async fn activate(
        &self,
        order_id: i64,
        terms: &OrderTerms,
        attempt: &Attempt,
        link: &OrderLink,
    ) -> Result<bool, HandlerError> {
        if link.active().as_ref() == Some(attempt)
            && link.amount == Some(terms.amount)
            && link.version.as_ref() == Some(&terms.version)
        {
            return Ok(true);
        }
        self.ctx
            .links
            .activate(order_id, terms, attempt)
            .await
            .map_err(failures::store)
    }

    /// The order was paid or canceled (or a newer version applied) while this update was made:
    /// the object made for it must not stay payable.
    async fn refused(&self, order_id: i64, attempt: &Attempt) -> Result<Handled, HandlerError> {
        let now = (self.ctx.links.by_order(order_id).await)
            .map_err(failures::store)?
            .unwrap_or_default();
        let why = if let Some(paid_by) = &now.paid_by {
            format!("paid by {paid_by}")
        } else if now.canceled {
            "canceled".to_string()
        } else {
            "at a newer version".to_string()
        };
        let in_use =
            now.active().as_ref() == Some(attempt) || now.paid_by.as_deref() == Some(attempt.id());
        if !in_use {
            match attempt {
                Attempt::PaymentIntent(id) => self.ctx.cancel_intent(id, "abandoned").await?,
                Attempt::CheckoutSession(id) => self.ctx.expire_session(id).await?,
            };
        }
        Ok(Handled::Ignored(format!(
            "order {order_id} is {why}: {} was not made payable",
            attempt.id()
        )))
    }

    /// A cancellation in Kentico: every PaymentIntent canceled (authorizations released), every
    /// Checkout Session expired, and no later payment may mark the order paid.
    async fn cancel(&self, event: &OrderEvent, link: &OrderLink) -> Result<Handled, HandlerError> {
        let ctx = &self.ctx;
        let order_id = event.order.id;
        ctx.links
            .save(&OrderLink {
                order_id,
                canceled: true,
                ..OrderLink::default()
            })
            .await
            .map_err(failures::store)?;
        if let (Some(amount), Some(currency)) = (link.amount, link.currency.clone()) {
            let terms = OrderTerms {
                version: event.version.clone(),
                amount,
                currency,
            };
            ctx.links
                .apply_terms(order_id, &terms)
                .await
                .map_err(failures::store)?;
        }
        let link = OrderLink {
            order_guid: Some(event.order.guid.clone()),
            ..link.clone()
        };
        let blocked = ctx
            .close_all_but(&link, &[], "requested_by_customer")
            .await?;
        if blocked.is_empty() {
            return Ok(Handled::Done(format!(
                "order {order_id} canceled: nothing of it is payable"
            )));
        }
        tracing::warn!(order_id, blocked = %blocked.join(", "), "canceled in Kentico, but a payment is under way or done; a success will be dead-lettered as paid_after_cancel");
        Ok(Handled::Done(format!(
            "order {order_id} canceled; could not close {}",
            blocked.join(", ")
        )))
    }

    /// `POST /v1/payment_intents` under the mapping version in use.
    fn intent_params(
        &self,
        event: &OrderEvent,
        terms: &OrderTerms,
    ) -> Result<CreatePaymentIntent, HandlerError> {
        let mapping = self.ctx.settings();
        order_requests::intent_params(&mapping, &input(event), terms.amount, &terms.currency)
            .map_err(failures::mapping)
    }

    /// `POST /v1/checkout/sessions` under the mapping version in use.
    fn session_params(
        &self,
        event: &OrderEvent,
        terms: &OrderTerms,
    ) -> Result<CreateCheckoutSession, HandlerError> {
        let mapping = self.ctx.settings();
        order_requests::session_params(&mapping, &input(event), terms.amount, &terms.currency)
            .map_err(failures::mapping)
    }
}

/// What the requests read of the event.
fn input(event: &OrderEvent) -> OrderInput<'_> {
    OrderInput {
        order: &event.order,
        object: &event.object,
        site: event.site.as_deref(),
        stripe_customer: event.stripe_customer.as_deref(),
    }
}

/// Fails permanently when a payable object could not be closed because its payment is under way.
fn under_way(closed: super::attempts::Closed, id: &str, what: &str) -> Result<(), HandlerError> {
    match closed {
        super::attempts::Closed::Closed => Ok(()),
        super::attempts::Closed::Blocked(status) => Err(payment_under_way(id, &status, what)),
    }
}

fn payment_under_way(id: &str, status: &str, what: &str) -> HandlerError {
    HandlerError::permanent(
        "payment_under_way",
        format!(
            "the order changed {what}, but {id} can no longer be changed or closed ({status}): \
             the customer is paying the old terms; settle it with them and replay this event"
        ),
    )
    .with_detail("payment", id.to_string())
}
