//! payment-worker, money after the payment: every balance transaction of a charge, refund,
//! dispute or payout becomes one ledger entry (see [`crate::ledger`]), posted once however
//! often and in whatever order its events arrive. Charges, refunds and disputes post only for
//! payments paybridge created; a payout posts every transaction it paid out, so the clearing
//! account of a payout nets to zero.

use std::sync::Arc;

use super::{FlowContext, PaymentState, failures, money_metrics};
use crate::connectors::shop::OrderRef;
use crate::connectors::stripe::{BalanceTransaction, Charge, Expandable};
use crate::effects::{self, EffectError, EffectKey};
use crate::ledger::sink::{LedgerSink, SinkError};
use crate::ledger::{EntryKind, LedgerEntry, LedgerStore, Posted, References, entry_for};
use crate::links::{FINAL_RANK, OrderLink};
use crate::mapping::payment_status::AfterPayment;
use crate::mapping_doc::Flow;
use crate::webhook::event_types::stripe_ledger as events;
use crate::worker::{Delivery, EventHandler, Handled, HandlerError, ReceivedEvent};

/// The Stripe events this handler takes.
pub const EVENT_TYPES: [&str; 10] = events::LEDGER_EVENTS;

/// One balance transaction to post, with where it comes from and, for a charge, what the
/// customer paid (minor units, currency).
type Movement<'a> = (BalanceTransaction, References, Option<(i64, &'a str)>);

/// The metric counting posted entries, by kind.
pub const METRIC_LEDGER_ENTRIES: &str = "LedgerEntries";

/// Posts the ledger entries of [`EVENT_TYPES`].
pub struct LedgerEventHandler {
    ctx: Arc<FlowContext>,
    ledger: Arc<dyn LedgerStore>,
    sinks: Vec<Arc<dyn LedgerSink>>,
}

impl LedgerEventHandler {
    /// A handler over the flow context, posting to `ledger` and delivering to each of `sinks`.
    pub fn new(
        ctx: Arc<FlowContext>,
        ledger: Arc<dyn LedgerStore>,
        sinks: Vec<Arc<dyn LedgerSink>>,
    ) -> Self {
        Self { ctx, ledger, sinks }
    }
}

/// The id of the event's object.
fn object_id(event: &ReceivedEvent) -> Result<&str, HandlerError> {
    event.payload["data"]["object"]["id"]
        .as_str()
        .ok_or_else(|| failures::undecodable("the event's data.object has no id"))
}

/// A balance transaction the object names, expanded by the retrieve that fetched it.
fn expanded(txn: Option<Expandable<BalanceTransaction>>) -> Option<BalanceTransaction> {
    match txn? {
        Expandable::Object(txn) => Some(*txn),
        Expandable::Id(_) => None,
    }
}

#[async_trait::async_trait]
impl EventHandler for LedgerEventHandler {
    fn business_key(&self, event: &ReceivedEvent) -> Option<String> {
        event.payload["data"]["object"]["id"]
            .as_str()
            .map(|id| format!("ledger:{id}"))
    }

    async fn handle(
        &self,
        event: &ReceivedEvent,
        delivery: &Delivery,
    ) -> Result<Handled, HandlerError> {
        let id = object_id(event)?;
        let at = (event.event_id(), delivery);
        match event.event_type() {
            events::CHARGE_SUCCEEDED => self.charge(id).await,
            events::REFUND_CREATED | events::REFUND_UPDATED | events::REFUND_FAILED => {
                self.refund(id, at).await
            }
            events::PAYOUT_PAID | events::PAYOUT_FAILED => self.payout(id).await,
            events::DISPUTE_CREATED => self.dispute(id, true, at).await,
            other if other.starts_with("charge.dispute.") => self.dispute(id, false, at).await,
            other => Ok(Handled::Ignored(format!(
                "the ledger does not post {other}"
            ))),
        }
    }
}

impl LedgerEventHandler {
    /// The order link of a payment paybridge created, if the PaymentIntent is one.
    async fn ours(&self, payment_intent: Option<&str>) -> Result<Option<OrderLink>, HandlerError> {
        let Some(intent) = payment_intent else {
            return Ok(None);
        };
        (self.ctx.links)
            .by_payment_intent(intent)
            .await
            .map_err(failures::store)
    }

    async fn charge(&self, id: &str) -> Result<Handled, HandlerError> {
        let charge: Charge = (self.ctx.stripe)
            .retrieve_charge(id, true)
            .await
            .map_err(failures::stripe)?;
        let intent = charge.payment_intent.as_ref().map(|pi| pi.id().to_string());
        let Some(link) = self.ours(intent.as_deref()).await? else {
            return Ok(Handled::Ignored(format!(
                "charge {id} is not a payment of ours"
            )));
        };
        let Some(txn) = expanded(charge.balance_transaction.clone()) else {
            return Err(HandlerError::transient(format!(
                "charge {id} has no balance transaction yet"
            )));
        };
        let references = References {
            kentico_order_id: Some(link.order_id.to_string()),
            stripe_payment_intent: intent,
            stripe_charge: Some(charge.id.clone()),
            ..References::default()
        };
        let presentment = Some((charge.amount, charge.currency.as_str()));
        self.post(&[(txn, references, presentment)]).await
    }

    async fn refund(&self, id: &str, at: (&str, &Delivery)) -> Result<Handled, HandlerError> {
        let refund = (self.ctx.stripe)
            .retrieve_refund(id)
            .await
            .map_err(failures::stripe)?;
        let intent = refund.payment_intent.as_ref().map(|pi| pi.id().to_string());
        let Some(link) = self.ours(intent.as_deref()).await? else {
            return Ok(Handled::Ignored(format!(
                "refund {id} is not of a payment of ours"
            )));
        };
        let references = References {
            kentico_order_id: Some(link.order_id.to_string()),
            stripe_payment_intent: intent,
            stripe_charge: refund.charge.as_ref().map(|c| c.id().to_string()),
            stripe_refund: Some(refund.id.clone()),
            ..References::default()
        };
        let movements: Vec<_> = [
            refund.balance_transaction,
            refund.failure_balance_transaction,
        ]
        .into_iter()
        .filter_map(expanded)
        .map(|txn| (txn, references.clone(), None))
        .collect();
        let handled = if movements.is_empty() {
            Handled::Ignored(format!(
                "refund {id} has not moved money yet; its next event posts it"
            ))
        } else {
            self.post(&movements).await?
        };
        if let (Some(intent), Some(charge)) =
            (&references.stripe_payment_intent, &references.stripe_charge)
        {
            self.reflect(&link, intent, charge, None, at).await?;
        }
        Ok(handled)
    }

    /// Posts what the dispute did to the balance; a new one (`opened`) of ours is counted and
    /// logged, since it has a response deadline.
    async fn dispute(
        &self,
        id: &str,
        opened: bool,
        at: (&str, &Delivery),
    ) -> Result<Handled, HandlerError> {
        let dispute = (self.ctx.stripe)
            .retrieve_dispute(id)
            .await
            .map_err(failures::stripe)?;
        let intent = dispute
            .payment_intent
            .as_ref()
            .map(|pi| pi.id().to_string());
        let Some(link) = self.ours(intent.as_deref()).await? else {
            return Ok(Handled::Ignored(format!(
                "dispute {id} is not of a payment of ours"
            )));
        };
        let references = References {
            kentico_order_id: Some(link.order_id.to_string()),
            stripe_payment_intent: intent,
            stripe_charge: dispute.charge.as_ref().map(|c| c.id().to_string()),
            stripe_dispute: Some(dispute.id.clone()),
            ..References::default()
        };
        let movements: Vec<_> = (dispute.balance_transactions.into_iter())
            .map(|txn| (txn, references.clone(), None))
            .collect();
        let handled = if movements.is_empty() {
            Handled::Ignored(format!(
                "dispute {id} has not moved money yet ({})",
                dispute.status
            ))
        } else {
            self.post(&movements).await?
        };
        if let (Some(intent), Some(charge)) =
            (&references.stripe_payment_intent, &references.stripe_charge)
        {
            self.reflect(&link, intent, charge, Some(&dispute.status), at)
                .await?;
        }
        // Counted once the event is done: a retry of a failed attempt does not count it again.
        if opened {
            self.ctx.count(money_metrics::DISPUTES);
            tracing::warn!(
                dispute = id,
                order_id = link.order_id,
                "a payment of ours is disputed: respond in the Stripe Dashboard before its deadline"
            );
        }
        Ok(handled)
    }

    /// Shows on the Kentico order what happened after its payment, as Stripe says now (the
    /// charge's refunded amount, the dispute's status), under the order's lease. Only for the
    /// payment that paid the order; a refund of any other (a refunded double payment) changes
    /// nothing there. A refund's event before the order is recorded as paid at all (the
    /// payment's success not worked off yet: Stripe's events come in any order) fails
    /// transiently, so it comes back after the success instead of never being shown (the success
    /// would write Paid over it).
    async fn reflect(
        &self,
        link: &OrderLink,
        payer: &str,
        charge_id: &str,
        dispute_status: Option<&str>,
        (event_id, delivery): (&str, &Delivery),
    ) -> Result<(), HandlerError> {
        if let Some(off) = self.ctx.settings().switched_off(Flow::AfterPayment) {
            tracing::info!(order_id = link.order_id, %off, "the order's status is left as it is");
            return Ok(());
        }
        match link.paid_by.as_deref() {
            Some(paid_by) if paid_by == payer => {}
            None if dispute_status.is_none() => {
                return Err(HandlerError::transient(format!(
                    "order {} is not recorded as paid yet: {payer}'s success comes first",
                    link.order_id
                )));
            }
            // Another payment's refund; or a dispute before the success (its events have
            // counted it, `Disputes`, so they are not retried; not covered yet).
            _ => return Ok(()),
        }
        let lease = (self.ctx)
            .lease(link.order_id, event_id, delivery.deadline_ms)
            .await?;
        let result = self
            .reflect_leased(link.order_id, payer, charge_id, dispute_status)
            .await;
        self.ctx.release(lease).await;
        result
    }

    async fn reflect_leased(
        &self,
        order_id: i64,
        payer: &str,
        charge_id: &str,
        dispute_status: Option<&str>,
    ) -> Result<(), HandlerError> {
        let charge = (self.ctx.stripe)
            .retrieve_charge(charge_id, false)
            .await
            .map_err(failures::stripe)?;
        if dispute_status.is_none() && charge.disputed {
            // Its dispute's events decide what the order shows.
            return Ok(());
        }
        let settings = self.ctx.settings();
        let mapping = &settings.status_mapping;
        let (rank, name) =
            match AfterPayment::of(charge.amount, charge.amount_refunded, dispute_status) {
                Some(state) => (state.rank(), mapping.after_name(state).to_string()),
                None => (
                    FINAL_RANK,
                    mapping.name(PaymentState::Succeeded).to_string(),
                ),
            };
        let current = (self.ctx.links)
            .by_order(order_id)
            .await
            .map_err(failures::store)?;
        let shown = current
            .as_ref()
            .map(|l| (l.status_rank, l.status_name.as_deref()));
        if shown == Some((rank, Some(name.as_str()))) {
            return Ok(());
        }
        let order = match &current {
            Some(link) => super::order_of(link),
            None => OrderRef {
                id: order_id,
                guid: None,
            },
        };
        self.ctx
            .write_order(order, Some(&name), None, Vec::new())
            .await?;
        (self.ctx.links)
            .after_payment(order_id, payer, rank, &name)
            .await
            .map_err(failures::store)?;
        Ok(())
    }

    async fn payout(&self, id: &str) -> Result<Handled, HandlerError> {
        let stripe = &self.ctx.stripe;
        let payout = stripe.retrieve_payout(id).await.map_err(failures::stripe)?;
        let references = References {
            stripe_payout: Some(payout.id.clone()),
            ..References::default()
        };
        if let Some(failure) = expanded(payout.failure_balance_transaction.clone()) {
            return self.post(&[(failure, references, None)]).await;
        }
        if payout.status != "paid" {
            return Ok(Handled::Ignored(format!(
                "payout {id} is {}, not paid",
                payout.status
            )));
        }
        let Some(own) = expanded(payout.balance_transaction.clone()) else {
            return Err(HandlerError::transient(format!(
                "payout {id} has no balance transaction yet"
            )));
        };
        let mut movements = vec![(own.clone(), references.clone(), None)];
        if payout.automatic {
            let paid_out = stripe
                .payout_balance_transactions(id)
                .await
                .map_err(failures::stripe)?;
            let included: Vec<BalanceTransaction> = paid_out
                .into_iter()
                .filter(|txn| txn.id != own.id)
                .collect();
            let net: i64 = included.iter().map(|txn| txn.net).sum();
            if net != payout.amount {
                return Err(HandlerError::permanent(
                    "payout_unbalanced",
                    format!(
                        "payout {id} is {} but the balance transactions it paid out net to {net}; compare them in the Dashboard before posting it",
                        payout.amount
                    ),
                )
                .with_detail("payout", id));
            }
            movements.extend(
                included
                    .into_iter()
                    .map(|txn| (txn, references.clone(), None)),
            );
        }
        self.post(&movements).await
    }

    /// Delivers `entry` to `sink` once (an effect keyed by the entry id). A delivery the sink
    /// refused is recorded as a refusal; the next attempt (a redrive, once the cause is fixed)
    /// carries a new idempotency key, so a sink that remembers its answer per key (QuickBooks'
    /// `requestid`) does not repeat the refusal.
    async fn deliver(
        &self,
        sink: &dyn LedgerSink,
        entry: &LedgerEntry,
    ) -> Result<(), HandlerError> {
        let effects = &*self.ctx.effects;
        let refusal = |n: u32| {
            EffectKey::new(
                format!("ledger_{}_refused", sink.name()),
                format!("{}#{n}", entry.id),
            )
        };
        let mut refusals = 0;
        while effects
            .get(&refusal(refusals))
            .await
            .map_err(failures::store)?
            .is_some()
        {
            refusals += 1;
        }
        let business_key = match refusals {
            0 => entry.id.clone(),
            n => format!("{}#{n}", entry.id),
        };
        let key = EffectKey::new(format!("ledger_{}", sink.name()), business_key);
        let delivered = effects::once(
            &*self.ctx.effects,
            &key,
            |_: &()| "delivered".to_string(),
            |idempotency_key| async move { sink.deliver(entry, &idempotency_key).await },
        )
        .await;
        match delivered {
            Ok(_) => Ok(()),
            Err(EffectError::Store(error)) => Err(failures::store(error)),
            Err(EffectError::Effect(SinkError::Unavailable(reason))) => {
                Err(HandlerError::transient(format!("{}: {reason}", entry.id)))
            }
            Err(EffectError::Effect(SinkError::Rejected(reason))) => {
                effects
                    .record(&refusal(refusals), &reason)
                    .await
                    .map_err(failures::store)?;
                Err(HandlerError::permanent(
                    "ledger_sink_rejected",
                    format!("{} was refused by the ledger sink: {reason}", entry.id),
                ))
            }
        }
    }

    /// Posts one entry per movement (each once), all or nothing about what can be posted: a
    /// movement that cannot become an entry fails the event before anything is posted.
    async fn post(&self, movements: &[Movement<'_>]) -> Result<Handled, HandlerError> {
        let settings = self.ctx.settings();
        if let Some(off) = settings.switched_off(Flow::Ledger) {
            return Ok(Handled::Ignored(off));
        }
        let accounts = &settings.ledger_accounts;
        let mut entries: Vec<LedgerEntry> = Vec::new();
        for (txn, references, presentment) in movements {
            let Some(kind) = EntryKind::of_reporting_category(&txn.reporting_category) else {
                return Err(HandlerError::permanent(
                    "ledger_category_unknown",
                    format!(
                        "balance transaction {} is a '{}', which the chart of accounts has no place for",
                        txn.id, txn.reporting_category
                    ),
                ));
            };
            let entry = entry_for(txn, kind, accounts, references.clone(), *presentment)
                .map_err(|e| HandlerError::permanent("ledger_discrepancy", e.to_string()))?;
            entries.push(entry);
        }
        let mut posted = Vec::new();
        for entry in &entries {
            if self.ledger.post(entry).await.map_err(failures::store)? == Posted::New {
                self.ctx
                    .metrics
                    .increment(METRIC_LEDGER_ENTRIES, &[("Kind", entry.kind.as_str())]);
                posted.push(entry.id.as_str());
            }
            // Posted now or by an earlier delivery of the event: delivered once either way.
            for sink in &self.sinks {
                self.deliver(sink.as_ref(), entry).await?;
            }
        }
        Ok(Handled::Done(if posted.is_empty() {
            "ledger entries already posted".to_string()
        } else {
            format!("posted {}", posted.join(", "))
        }))
    }
}
