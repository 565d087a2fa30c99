//! The order's payable objects at Stripe: created once per business key, canceled or expired,
//! published to the Kentico order, and closed (all but the one that paid) once the order is paid.

use std::future::Future;

use super::{FlowContext, custom_data, failures};
use crate::connectors::shop::OrderRef;
use crate::connectors::stripe::{
    CheckoutSession, CheckoutSessionStatus, CreateCheckoutSession, CreatePaymentIntent,
    PaymentIntent, PaymentIntentStatus, StripeError,
};
use crate::effects::{self, Effect, EffectError, EffectKey};
use crate::links::{Attempt, OrderLink};
use crate::worker::HandlerError;

/// The longest an order's lease is held when the invocation's deadline is unknown or past.
pub const FALLBACK_LEASE_SECONDS: i64 = 60;

/// The effect kind of the PaymentIntents created for orders.
pub const PAYMENT_INTENT_EFFECT: &str = "payment_intent";
/// The effect kind of the Checkout Sessions created for orders.
pub const CHECKOUT_SESSION_EFFECT: &str = "checkout_session";

/// What closing a payable object came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// Nobody can pay through it any more (now, or before).
    Closed,
    /// It cannot be closed: the payment is under way or done (the status says which).
    Blocked(String),
}

/// One worker's hold on an order (see [`FlowContext::lease`]).
#[derive(Debug)]
#[must_use = "give the lease back with FlowContext::release"]
pub struct OrderLease {
    order_id: i64,
    holder: String,
}

impl FlowContext {
    /// Takes the order's lease until the invocation's deadline (when a crashed holder's message
    /// comes back, its lease has run out too), so no other worker changes the order's payable
    /// objects meanwhile; a held lease is a transient failure (the event comes back after its
    /// backoff).
    pub async fn lease(
        &self,
        order_id: i64,
        event_id: &str,
        deadline_ms: i64,
    ) -> Result<OrderLease, HandlerError> {
        let holder = format!("{event_id}:{:016x}", fastrand::u64(..));
        let now_ms =
            i64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        let until = if deadline_ms > now_ms {
            deadline_ms
        } else {
            now_ms.saturating_add(FALLBACK_LEASE_SECONDS * 1000)
        };
        let taken = self
            .links
            .lease(order_id, &holder, until, now_ms)
            .await
            .map_err(failures::store)?;
        if !taken {
            return Err(HandlerError::transient(format!(
                "order {order_id} is being changed by another worker"
            )));
        }
        Ok(OrderLease { order_id, holder })
    }

    /// Gives the lease back; a failure only delays the next change of the order until it runs out.
    pub async fn release(&self, lease: OrderLease) {
        if let Err(error) = self.links.release(lease.order_id, &lease.holder).await {
            tracing::warn!(order_id = lease.order_id, %error, "could not give the order lease back; it runs out by itself");
        }
    }

    /// The PaymentIntent recorded under `business_key`, or a new one created with the key's
    /// Idempotency-Key and recorded, so neither a retry nor a crash makes two.
    pub async fn intent_once(
        &self,
        business_key: &str,
        params: &CreatePaymentIntent,
    ) -> Result<PaymentIntent, HandlerError> {
        self.stripe_object_once(
            EffectKey::new(PAYMENT_INTENT_EFFECT, business_key),
            |intent: &PaymentIntent| RecordedId::of(&intent.id),
            |key| async move { self.stripe.create_payment_intent(params, &key).await },
            |id| async move { self.retrieve_intent(&id).await },
        )
        .await
    }

    /// The Checkout Session recorded under `business_key`, or a new one (as [`Self::intent_once`]).
    pub async fn session_once(
        &self,
        business_key: &str,
        params: &CreateCheckoutSession,
    ) -> Result<CheckoutSession, HandlerError> {
        self.stripe_object_once(
            EffectKey::new(CHECKOUT_SESSION_EFFECT, business_key),
            |session: &CheckoutSession| RecordedId::of(&session.id),
            |key| async move { self.stripe.create_checkout_session(params, &key).await },
            |id| async move { self.retrieve_session(&id).await },
        )
        .await
    }

    /// The Stripe object recorded under `key` (`retrieve`d by its id), or one `create`d with the
    /// key's Idempotency-Key and recorded by its id.
    async fn stripe_object_once<T, Create, Created, Retrieve, Retrieved>(
        &self,
        key: EffectKey,
        id_of: impl FnOnce(&T) -> RecordedId,
        create: Create,
        retrieve: Retrieve,
    ) -> Result<T, HandlerError>
    where
        Create: FnOnce(String) -> Created,
        Created: Future<Output = Result<T, StripeError>>,
        Retrieve: FnOnce(String) -> Retrieved,
        Retrieved: Future<Output = Result<T, HandlerError>>,
    {
        let made = effects::once(&*self.effects, &key, id_of, create).await;
        match made.map_err(effect_failure)? {
            Effect::Performed(object) => Ok(object),
            Effect::Recorded(id) => retrieve(id.0).await,
        }
    }

    /// `GET` a PaymentIntent.
    pub async fn retrieve_intent(&self, id: &str) -> Result<PaymentIntent, HandlerError> {
        (self.stripe)
            .retrieve_payment_intent(id)
            .await
            .map_err(failures::stripe)
    }

    /// `GET` a Checkout Session.
    pub async fn retrieve_session(&self, id: &str) -> Result<CheckoutSession, HandlerError> {
        (self.stripe)
            .retrieve_checkout_session(id)
            .await
            .map_err(failures::stripe)
    }

    /// Cancels a PaymentIntent (authorizations included); one already canceled counts as closed.
    pub async fn cancel_intent(&self, id: &str, reason: &str) -> Result<Closed, HandlerError> {
        // The reason is part of the key: a PaymentIntent canceled as `abandoned` and later named
        // again as a `duplicate` must not reuse a key with other parameters (Stripe refuses that).
        let key = format!("paybridge-cancel-{id}-{reason}");
        match self
            .stripe
            .cancel_payment_intent(id, Some(reason), &key)
            .await
        {
            Ok(_) => Ok(Closed::Closed),
            Err(error) if is_unexpected_state(&error) => {
                let now = self.retrieve_intent(id).await?;
                Ok(match now.status {
                    PaymentIntentStatus::Canceled => Closed::Closed,
                    other => Closed::Blocked(format!("{other:?}")),
                })
            }
            Err(error) => Err(failures::stripe(error)),
        }
    }

    /// Expires a Checkout Session; one already expired counts as closed, a complete one blocks.
    pub async fn expire_session(&self, id: &str) -> Result<Closed, HandlerError> {
        let key = format!("paybridge-expire-{id}");
        match self.stripe.expire_checkout_session(id, &key).await {
            Ok(_) => Ok(Closed::Closed),
            Err(error) if error.status() == Some(400) => {
                let now = self.retrieve_session(id).await?;
                Ok(match now.status {
                    Some(CheckoutSessionStatus::Expired) => Closed::Closed,
                    other => Closed::Blocked(format!("{other:?}")),
                })
            }
            Err(error) => Err(failures::stripe(error)),
        }
    }

    /// Closes every payable object of `link` except `keep` (a PaymentIntent or Checkout Session
    /// id), and the first ones recorded for the order should a crash have kept them off the link.
    /// Returns what could not be closed, one line each.
    pub async fn close_all_but(
        &self,
        link: &OrderLink,
        keep: &[&str],
        reason: &str,
    ) -> Result<Vec<String>, HandlerError> {
        let mut intents = link.payment_intents.clone();
        let mut sessions = link.checkout_sessions.clone();
        if let Some(guid) = &link.order_guid {
            let first = |kind| async move {
                let key = EffectKey::new(kind, guid.as_str());
                effects::recorded::<RecordedId>(&*self.effects, &key)
                    .await
                    .map_err(failures::store)
            };
            if let Some(id) = first(PAYMENT_INTENT_EFFECT).await? {
                intents.insert(id.0);
            }
            if let Some(id) = first(CHECKOUT_SESSION_EFFECT).await? {
                sessions.insert(id.0);
            }
        }
        let mut blocked = Vec::new();
        for id in sessions.iter().filter(|id| !keep.contains(&id.as_str())) {
            if let Closed::Blocked(status) = self.expire_session(id).await? {
                blocked.push(format!("{id} ({status})"));
            }
        }
        for id in intents.iter().filter(|id| !keep.contains(&id.as_str())) {
            if let Closed::Blocked(status) = self.cancel_intent(id, reason).await? {
                blocked.push(format!("{id} ({status})"));
            }
        }
        Ok(blocked)
    }

    /// Records `attempt` as the order's (indexed, so its events are recognised as ours).
    pub async fn record_attempt(
        &self,
        order_id: i64,
        attempt: &Attempt,
    ) -> Result<(), HandlerError> {
        let mut link = OrderLink {
            order_id,
            ..OrderLink::default()
        };
        match attempt {
            Attempt::PaymentIntent(id) => link.payment_intents.insert(id.clone()),
            Attempt::CheckoutSession(id) => link.checkout_sessions.insert(id.clone()),
        };
        self.links.save(&link).await.map_err(failures::store)
    }

    /// Writes the active PaymentIntent's id to the Kentico order. Never its client secret: the
    /// shop's checkout page reads that from Stripe by this id when it needs it, so it is not
    /// kept in Kentico's database, its exports and its backups.
    pub async fn publish_intent(
        &self,
        order: OrderRef<'_>,
        intent: &PaymentIntent,
    ) -> Result<(), HandlerError> {
        let custom = vec![(custom_data::PAYMENT_INTENT.to_string(), intent.id.clone())];
        self.publish(order, &intent.id, custom).await
    }

    /// Writes the active Checkout Session's URL to the Kentico order.
    pub async fn publish_session(
        &self,
        order: OrderRef<'_>,
        session: &CheckoutSession,
    ) -> Result<(), HandlerError> {
        let url = session.url.clone().unwrap_or_default();
        let custom = vec![(custom_data::CHECKOUT_URL.to_string(), url)];
        self.publish(order, &session.id, custom).await
    }

    async fn publish(
        &self,
        order: OrderRef<'_>,
        id: &str,
        custom: Vec<(String, String)>,
    ) -> Result<(), HandlerError> {
        self.write_order(order, None, None, custom).await?;
        let published = OrderLink {
            order_id: order.id,
            published: Some(id.to_string()),
            ..OrderLink::default()
        };
        self.links.save(&published).await.map_err(failures::store)
    }
}

/// The id of a Stripe object a recorded effect created. Recorded as a JSON string; read from
/// the bare text older versions recorded too, where a Checkout Session was "<id> <url>" (Stripe
/// ids hold no spaces: the id is the first word).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
struct RecordedId(String);

impl RecordedId {
    fn of(id: &str) -> Self {
        Self(id.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for RecordedId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self(text.split(' ').next().unwrap_or_default().to_string()))
    }
}

/// A guarded Stripe call's failure, as the worker treats it.
fn effect_failure(error: EffectError<StripeError>) -> HandlerError {
    match error {
        EffectError::Store(error) => failures::store(error),
        EffectError::Effect(error) => failures::stripe(error),
    }
}

/// Stripe's answer to an action the object's state no longer allows.
/// Stripe says the PaymentIntent is not in a state to cancel (already canceled or succeeded),
/// or the key was used before with other parameters: re-read it to know.
fn is_unexpected_state(error: &StripeError) -> bool {
    match error {
        StripeError::Api {
            code, error_type, ..
        } => {
            code.as_deref() == Some("payment_intent_unexpected_state")
                || error_type == "idempotency_error"
        }
        _ => false,
    }
}
