//! order-worker: a Kentico order becomes one Stripe PaymentIntent (or Checkout Session); updates
//! follow its total and its cancellation.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::{FlowContext, PaymentMode, PaymentState, custom_data, failures};
use crate::connectors::stripe::{
    AutomaticPaymentMethods, CheckoutLineItem, CreateCheckoutSession, CreatePaymentIntent,
    PaymentIntent, PaymentIntentData, PriceData, ProductData, Shipping, StripeAddress, StripeError,
    UpdatePaymentIntent,
};
use crate::idempotency::effects::{EffectKey, once};
use crate::links::OrderLink;
use crate::mapping::{
    self, Address, KenticoOrder, MetadataBuilder, describe_items, to_minor_units,
};
use crate::queue::QueueEnvelope;
use crate::worker::{EventHandler, Handled, HandlerError};

/// Handles `ecommerce.order.created` and `ecommerce.order.updated`.
pub struct OrderEventHandler {
    ctx: Arc<FlowContext>,
}

impl OrderEventHandler {
    /// A handler over the shared flow context.
    pub fn new(ctx: Arc<FlowContext>) -> Self {
        Self { ctx }
    }
}

fn payload(envelope: &QueueEnvelope) -> Result<Value, HandlerError> {
    serde_json::from_str(envelope.payload.get()).map_err(failures::undecodable)
}

#[async_trait::async_trait]
impl EventHandler for OrderEventHandler {
    fn business_key(&self, envelope: &QueueEnvelope) -> Option<String> {
        let payload: Value = serde_json::from_str(envelope.payload.get()).ok()?;
        let id = payload.pointer("/data/object/OrderID")?;
        Some(format!(
            "order:{}",
            id.as_i64()
                .map(|n| n.to_string())
                .or_else(|| id.as_str().map(str::to_string))?
        ))
    }

    async fn handle(&self, envelope: &QueueEnvelope) -> Result<Handled, HandlerError> {
        let payload = payload(envelope)?;
        let object = payload.pointer("/data/object").ok_or_else(|| {
            failures::mapping(mapping::MappingError::new(
                "data.object",
                "the event carries no order object",
            ))
        })?;
        let site = payload["site"].as_str().map(str::to_string);
        let order = KenticoOrder::from_event_object(object).map_err(failures::mapping)?;
        match envelope.event_type.as_str() {
            "ecommerce.order.created" => self.on_created(&order, site).await,
            "ecommerce.order.updated" => self.on_updated(&order, site).await,
            other => Ok(Handled::Ignored(format!(
                "the order worker does not handle {other}"
            ))),
        }
    }
}

impl OrderEventHandler {
    async fn on_created(
        &self,
        order: &KenticoOrder,
        site: Option<String>,
    ) -> Result<Handled, HandlerError> {
        let settings = &self.ctx.settings;
        if order.is_paid {
            return Ok(Handled::Ignored(format!(
                "order {} is already paid in Kentico",
                order.id
            )));
        }
        if settings.is_cancel_status(order.status_name.as_deref()) {
            return Ok(Handled::Ignored(format!(
                "order {} is canceled in Kentico",
                order.id
            )));
        }
        let amount = to_minor_units("OrderGrandTotal", order.grand_total, &order.currency)
            .map_err(failures::mapping)?;
        let metadata = order_metadata(order, site.as_deref());
        let mut link = OrderLink {
            order_id: order.id,
            order_guid: Some(order.guid.clone()),
            site,
            amount: Some(amount),
            currency: Some(order.currency.stripe_code()),
            ..OrderLink::default()
        };
        let custom = match settings.payment_mode {
            PaymentMode::PaymentElement => {
                let params = CreatePaymentIntent {
                    amount,
                    currency: order.currency.stripe_code(),
                    automatic_payment_methods: settings
                        .automatic_payment_methods
                        .then_some(AutomaticPaymentMethods { enabled: true }),
                    capture_method: Some(settings.capture_method.clone()),
                    description: Some(describe_items(&order.items)).filter(|d| !d.is_empty()),
                    metadata,
                    shipping: shipping(order),
                    receipt_email: order.customer.as_ref().and_then(|c| c.email.clone()),
                };
                let intent = self.payment_intent_for(order, &params).await?;
                link.payment_intent_id = Some(intent.id.clone());
                let mut custom = vec![(custom_data::PAYMENT_INTENT.to_string(), intent.id.clone())];
                if let Some(secret) = intent.client_secret {
                    custom.push((custom_data::CLIENT_SECRET.to_string(), secret));
                }
                custom
            }
            PaymentMode::Checkout => {
                let (session_id, url) = self.checkout_for(order, amount, metadata).await?;
                link.checkout_session_id = Some(session_id);
                vec![(custom_data::CHECKOUT_URL.to_string(), url)]
            }
        };
        self.ctx.links.save(&link).await.map_err(failures::store)?;
        self.ctx.write_order(order.id, None, None, custom).await?;
        Ok(Handled::Done(
            link.payment_intent_id
                .or(link.checkout_session_id)
                .unwrap_or_default(),
        ))
    }

    /// One PaymentIntent per OrderGUID: recorded under the business key, created with the same
    /// key as Stripe's Idempotency-Key, so neither a retry nor a crash charges twice.
    async fn payment_intent_for(
        &self,
        order: &KenticoOrder,
        params: &CreatePaymentIntent,
    ) -> Result<PaymentIntent, HandlerError> {
        let created: Arc<Mutex<Option<PaymentIntent>>> = Arc::default();
        let slot = created.clone();
        let recorded = once(
            self.ctx.effects.as_ref(),
            &EffectKey::new("payment_intent", &order.guid),
            |key| async move {
                let intent = self.ctx.stripe.create_payment_intent(params, &key).await?;
                let id = intent.id.clone();
                *slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(intent);
                Ok::<_, StripeError>(id)
            },
        )
        .await
        .map_err(|e| match e {
            crate::idempotency::effects::EffectError::Store(e) => failures::store(e),
            crate::idempotency::effects::EffectError::Effect(e) => failures::stripe(e),
        })?;
        let known = created
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match known {
            Some(intent) if intent.id == recorded.value() => Ok(intent),
            _ => self
                .ctx
                .stripe
                .retrieve_payment_intent(recorded.value())
                .await
                .map_err(failures::stripe),
        }
    }

    async fn checkout_for(
        &self,
        order: &KenticoOrder,
        amount: i64,
        metadata: std::collections::BTreeMap<String, String>,
    ) -> Result<(String, String), HandlerError> {
        let settings = &self.ctx.settings;
        let params = CreateCheckoutSession {
            mode: "payment".into(),
            line_items: vec![CheckoutLineItem {
                quantity: 1,
                price_data: PriceData {
                    currency: order.currency.stripe_code(),
                    unit_amount: amount,
                    product_data: ProductData {
                        name: Some(describe_items(&order.items))
                            .filter(|d| !d.is_empty())
                            .unwrap_or_else(|| format!("Order {}", order.id)),
                    },
                },
            }],
            success_url: settings.checkout_success_url.clone().unwrap_or_default(),
            cancel_url: settings.checkout_cancel_url.clone(),
            client_reference_id: Some(order.id.to_string()),
            customer_email: order.customer.as_ref().and_then(|c| c.email.clone()),
            metadata: metadata.clone(),
            payment_intent_data: Some(PaymentIntentData {
                metadata,
                description: Some(describe_items(&order.items)).filter(|d| !d.is_empty()),
            }),
        };
        create_checkout(
            &self.ctx,
            EffectKey::new("checkout_session", &order.guid),
            &params,
        )
        .await
    }

    async fn on_updated(
        &self,
        order: &KenticoOrder,
        site: Option<String>,
    ) -> Result<Handled, HandlerError> {
        let link = self
            .ctx
            .links
            .by_order(order.id)
            .await
            .map_err(failures::store)?;
        let Some(link) =
            link.filter(|l| l.payment_intent_id.is_some() || l.checkout_session_id.is_some())
        else {
            // The created event may still be on its way (any order), or the order predates
            // the integration: either way this is the order's first sight.
            return self.on_created(order, site).await;
        };
        if order.is_paid {
            return Ok(Handled::Ignored(format!("order {} is paid", order.id)));
        }
        if link.status_rank >= PaymentState::Processing.rank() {
            return Ok(Handled::Ignored(format!(
                "order {}'s payment is already under way ({})",
                order.id,
                link.status_name.as_deref().unwrap_or("unknown")
            )));
        }
        let Some(intent_id) = link.payment_intent_id.clone() else {
            return Ok(Handled::Ignored(format!(
                "order {} pays through a Checkout Session, which cannot be changed; the customer pays the amount it shows",
                order.id
            )));
        };
        let guid = &order.guid;
        if self
            .ctx
            .settings
            .is_cancel_status(order.status_name.as_deref())
        {
            return match self
                .ctx
                .stripe
                .cancel_payment_intent(
                    &intent_id,
                    Some("requested_by_customer"),
                    &format!("paybridge-cancel-{guid}"),
                )
                .await
            {
                Ok(_) => Ok(Handled::Done(format!("canceled {intent_id}"))),
                Err(StripeError::Api {
                    code: Some(code), ..
                }) if code == "payment_intent_unexpected_state" => Ok(Handled::Ignored(format!(
                    "{intent_id} can no longer be canceled (already paid or canceled)"
                ))),
                Err(e) => Err(failures::stripe(e)),
            };
        }
        let amount = to_minor_units("OrderGrandTotal", order.grand_total, &order.currency)
            .map_err(failures::mapping)?;
        if link.amount == Some(amount) {
            return Ok(Handled::Ignored(format!(
                "order {} changed nothing the payment depends on",
                order.id
            )));
        }
        let update = UpdatePaymentIntent {
            amount: Some(amount),
            description: Some(describe_items(&order.items)).filter(|d| !d.is_empty()),
            metadata: order_metadata(order, site.as_deref()),
        };
        self.ctx
            .stripe
            .update_payment_intent(
                &intent_id,
                &update,
                &format!("paybridge-amount-{guid}-{amount}"),
            )
            .await
            .map_err(failures::stripe)?;
        let changed = OrderLink {
            order_id: order.id,
            amount: Some(amount),
            ..OrderLink::default()
        };
        self.ctx
            .links
            .save(&changed)
            .await
            .map_err(failures::store)?;
        Ok(Handled::Done(format!("{intent_id} amount {amount}")))
    }
}

/// Creates a Checkout Session once per key; the recorded value is `"<id> <url>"`.
pub(crate) async fn create_checkout(
    ctx: &FlowContext,
    key: EffectKey,
    params: &CreateCheckoutSession,
) -> Result<(String, String), HandlerError> {
    let recorded = once(ctx.effects.as_ref(), &key, |idempotency_key| async move {
        let session = ctx
            .stripe
            .create_checkout_session(params, &idempotency_key)
            .await?;
        Ok::<_, StripeError>(format!(
            "{} {}",
            session.id,
            session.url.unwrap_or_default()
        ))
    })
    .await
    .map_err(|e| match e {
        crate::idempotency::effects::EffectError::Store(e) => failures::store(e),
        crate::idempotency::effects::EffectError::Effect(e) => failures::stripe(e),
    })?;
    let (id, url) = recorded
        .value()
        .split_once(' ')
        .unwrap_or((recorded.value(), ""));
    Ok((id.to_string(), url.to_string()))
}

/// The PaymentIntent metadata that ties it to the Kentico order (within Stripe's limits).
fn order_metadata(
    order: &KenticoOrder,
    site: Option<&str>,
) -> std::collections::BTreeMap<String, String> {
    let skus: Vec<String> = order
        .items
        .iter()
        .filter_map(|i| {
            i.sku_number
                .clone()
                .or_else(|| i.sku_id.map(|id| id.to_string()))
        })
        .collect();
    let mut metadata = MetadataBuilder::new();
    metadata.insert("kentico_order_id", order.id.to_string());
    metadata.insert("kentico_order_guid", order.guid.clone());
    if let Some(customer) = order.customer_id.or(order.customer.as_ref().map(|c| c.id)) {
        metadata.insert("kentico_customer_id", customer.to_string());
    }
    if let Some(site) = site {
        metadata.insert("kentico_site", site);
    }
    if !skus.is_empty() {
        metadata.insert("kentico_skus", skus.join(","));
    }
    metadata.build()
}

/// Stripe's `shipping` from the order's shipping address, when it has a name and a first line.
fn shipping(order: &KenticoOrder) -> Option<Shipping> {
    let address: &Address = order.shipping_address.as_ref()?;
    let name = address.name.clone().or_else(|| {
        let customer = order.customer.as_ref()?;
        let full = [
            customer.first_name.as_deref(),
            customer.last_name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        Some(full).filter(|n| !n.is_empty())
    })?;
    address.line1.as_ref()?;
    Some(Shipping {
        name,
        phone: address.phone.clone(),
        address: StripeAddress {
            line1: address.line1.clone(),
            line2: address.line2.clone(),
            city: address.city.clone(),
            state: address.state.clone(),
            postal_code: address.postal_code.clone(),
            country: address.country.as_ref().map(|c| c.to_string()),
        },
    })
}
