//! Whose payment counts. A PaymentIntent moves an order only if paybridge created it for that
//! order (found by its id among the order's payable objects, never by metadata alone), in the
//! key's mode; a success counts only as Stripe reports it now, in the order's currency, for at
//! least what the order owes, and only once per order. Everything else is counted and ignored,
//! or dead-lettered for a person when it concerns a real order.

use std::collections::BTreeMap;

use super::{FlowContext, failures, money_metrics};
use crate::connectors::stripe::{CreateRefund, PaymentIntent, PaymentIntentStatus};
use crate::links::{Attempt, OrderLink};
use crate::worker::{Handled, HandlerError};

/// Who a PaymentIntent belongs to.
#[derive(Debug)]
pub enum Owner {
    /// One of the order's payable objects.
    Ours(Box<OrderLink>),
    /// Not created by paybridge; `claimed_order` is the order its metadata names, if any.
    Foreign {
        /// `metadata.kentico_order_id`, when it is a number.
        claimed_order: Option<i64>,
    },
}

/// The order `intent`'s metadata names (`kentico_order_id`), when it is a number: a hint, never
/// proof of ownership.
pub(super) fn claimed_order(intent: &PaymentIntent) -> Option<i64> {
    intent
        .metadata
        .get("kentico_order_id")
        .and_then(|raw| raw.trim().parse().ok())
}

impl FlowContext {
    /// The order `intent` was created for: by its id, or — for a Checkout Session's
    /// PaymentIntent, which Stripe makes only when the customer pays — by the session Stripe says
    /// made it, which must be one of ours (the PaymentIntent is then recorded as the order's).
    pub async fn owner_of(&self, intent: &PaymentIntent) -> Result<Owner, HandlerError> {
        if let Some(link) =
            (self.links.by_payment_intent(&intent.id).await).map_err(failures::store)?
        {
            return Ok(Owner::Ours(Box::new(link)));
        }
        let claimed = claimed_order(intent);
        let Some(order_id) = claimed else {
            return Ok(Owner::Foreign {
                claimed_order: None,
            });
        };
        let has_sessions = (self.links.by_order(order_id).await)
            .map_err(failures::store)?
            .is_some_and(|l| !l.checkout_sessions.is_empty());
        if !has_sessions {
            return Ok(Owner::Foreign {
                claimed_order: claimed,
            });
        }
        let sessions =
            (self.stripe.checkout_sessions_of(&intent.id).await).map_err(failures::stripe)?;
        for session in sessions.data {
            let Some(link) =
                (self.links.by_checkout_session(&session.id).await).map_err(failures::store)?
            else {
                continue;
            };
            self.record_attempt(link.order_id, &Attempt::PaymentIntent(intent.id.clone()))
                .await?;
            (self.links)
                .bind_session_payment(link.order_id, &session.id, &intent.id)
                .await
                .map_err(failures::store)?;
            let link = (self.links.by_order(link.order_id).await)
                .map_err(failures::store)?
                .unwrap_or(link);
            return Ok(Owner::Ours(Box::new(link)));
        }
        Ok(Owner::Foreign {
            claimed_order: claimed,
        })
    }

    /// A payment that is not this integration's: counted, logged with ids only, and ignored —
    /// or dead-lettered as `payment_not_ours` when it names an order paybridge knows.
    pub async fn foreign(
        &self,
        intent: &PaymentIntent,
        claimed_order: Option<i64>,
        why: &str,
    ) -> Result<Handled, HandlerError> {
        self.count(money_metrics::FOREIGN_PAYMENTS);
        tracing::warn!(payment_intent = %intent.id, claimed_order, livemode = intent.livemode, why, "a payment paybridge did not create; not applied");
        let known = match claimed_order {
            Some(order_id) => (self.links.by_order(order_id).await)
                .map_err(failures::store)?
                .is_some(),
            None => false,
        };
        let reason = format!("{} {why}", intent.id);
        if let (true, Some(order_id)) = (known, claimed_order) {
            return Err(HandlerError::permanent(
                "payment_not_ours",
                format!("{reason}, yet its metadata names order {order_id}: not applied to the order; check who created it"),
            )
            .with_detail("payment", intent.id.clone()));
        }
        Ok(Handled::Ignored(reason))
    }

    /// Whether the mode of an event and its PaymentIntent is the key's.
    pub fn mode_mismatch(&self, event_livemode: bool, intent: &PaymentIntent) -> Option<String> {
        let ours = self.stripe.livemode();
        let name = |live: bool| if live { "live" } else { "test" };
        let theirs = if event_livemode != ours {
            event_livemode
        } else {
            intent.livemode
        };
        (theirs != ours).then(|| {
            format!(
                "is a {}-mode payment but paybridge runs with a {}-mode key",
                name(theirs),
                name(ours)
            )
        })
    }

    /// The succeeded PaymentIntent as Stripe reports it now, if it may pay `link`'s order.
    pub async fn confirm_success(
        &self,
        link: &OrderLink,
        intent: &PaymentIntent,
    ) -> Result<PaymentIntent, HandlerError> {
        let now = self.retrieve_intent(&intent.id).await?;
        if let Some(why) = self.mode_mismatch(now.livemode, &now) {
            return Err(HandlerError::permanent(
                "payment_not_ours",
                format!("{} {why}", now.id),
            ));
        }
        if now.status != PaymentIntentStatus::Succeeded {
            return Err(HandlerError::permanent(
                "payment_not_confirmed",
                format!(
                    "the event says {} succeeded, but Stripe reports it {:?} now: not applied",
                    now.id, now.status
                ),
            )
            .with_detail("payment", now.id.clone()));
        }
        if link.canceled {
            return Err(self.paid_after_cancel(link.order_id, &now));
        }
        if let Some(paid_by) = link.paid_by.as_deref().filter(|p| *p != now.id) {
            return Err(self.double_payment(link, &now, paid_by).await?);
        }
        let (owed, currency) = match (link.amount, link.currency.as_deref()) {
            (Some(owed), Some(currency)) => (owed, currency),
            _ => {
                return Err(HandlerError::permanent(
                    "order_terms_unknown",
                    format!(
                        "order {} has no recorded amount to compare {} with",
                        link.order_id, now.id
                    ),
                ));
            }
        };
        if now.currency != currency {
            self.count(money_metrics::UNDERPAID_PAYMENTS);
            return Err(HandlerError::permanent(
                "currency_mismatch",
                format!(
                    "{} paid {} {} but order {} is in {}: not marked paid",
                    now.id,
                    now.amount_received.unwrap_or(0),
                    now.currency,
                    link.order_id,
                    currency
                ),
            )
            .with_detail("payment", now.id.clone()));
        }
        let received = now.amount_received.unwrap_or(0);
        if received < owed {
            self.count(money_metrics::UNDERPAID_PAYMENTS);
            return Err(HandlerError::permanent(
                "underpaid",
                format!(
                    "{} received {received} but order {} owes {owed} (minor units of {currency}): not marked paid",
                    now.id, link.order_id
                ),
            )
            .with_detail("payment", now.id.clone()));
        }
        Ok(now)
    }

    /// A success on an order canceled in Kentico: never written as paid.
    pub fn paid_after_cancel(&self, order_id: i64, intent: &PaymentIntent) -> HandlerError {
        self.count(money_metrics::PAID_AFTER_CANCEL);
        HandlerError::permanent(
            "paid_after_cancel",
            format!(
                "{} paid {} {} for order {order_id}, which was canceled in Kentico: not marked paid; refund or reinstate the order",
                intent.id,
                intent.amount_received.unwrap_or(0),
                intent.currency
            ),
        )
        .with_detail("payment", intent.id.clone())
    }

    /// A second success for an order already paid: dead-lettered, and refunded once (same
    /// Idempotency-Key on every retry) when `REFUND_DOUBLE_PAYMENTS=true`. A transient refund
    /// failure is returned as the error so the refund is tried again.
    pub async fn double_payment(
        &self,
        link: &OrderLink,
        intent: &PaymentIntent,
        paid_by: &str,
    ) -> Result<HandlerError, HandlerError> {
        let mut reason = format!(
            "order {} was already paid by {paid_by}; {} paid it again ({} {})",
            link.order_id,
            intent.id,
            intent.amount_received.unwrap_or(0),
            intent.currency
        );
        let mut refund_id = None;
        if self.settings().refund_double_payments {
            let params = CreateRefund {
                payment_intent: intent.id.clone(),
                reason: Some("duplicate".into()),
                metadata: BTreeMap::from([
                    ("kentico_order_id".to_string(), link.order_id.to_string()),
                    ("paybridge_reason".to_string(), "double_payment".to_string()),
                ]),
                ..CreateRefund::default()
            };
            let key = format!("paybridge-refund-double-{}", intent.id);
            match self.stripe.create_refund(&params, &key).await {
                Ok(refund) => {
                    reason.push_str(&format!("; refunded in full as {}", refund.id));
                    refund_id = Some(refund.id);
                }
                Err(error) if error.is_transient() => return Err(failures::stripe(error)),
                Err(error) => reason.push_str(&format!("; the automatic refund failed: {error}")),
            }
        } else {
            reason.push_str("; not refunded (REFUND_DOUBLE_PAYMENTS is off): refund it in Stripe");
        }
        self.count(money_metrics::DOUBLE_PAYMENTS);
        tracing::error!(order_id = link.order_id, payment_intent = %intent.id, paid_by, refund = ?refund_id, "double payment");
        let mut error = HandlerError::permanent("double_payment", reason)
            .with_detail("payment", intent.id.clone());
        if let Some(refund) = refund_id {
            error = error.with_detail("refund", refund);
        }
        Ok(error)
    }
}
