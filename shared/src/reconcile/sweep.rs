//! One run of the reconciliation sweep: list what Stripe and Kentico hold for the window, join
//! them by the order links, judge with [`super::discrepancies`], heal what a missed webhook
//! explains, count each kind, and store the report.
//!
//! Healing enqueues a synthetic Stripe-shaped event (source `reconciler`) on the Stripe queue,
//! so the payment worker does the work exactly as for the missed webhook: it re-reads Stripe,
//! takes the order's lease, posts each ledger entry once and writes statuses forward only.
//! Healing twice is harmless.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::reports::{Checked, Finding, MAX_FINDINGS, Report, ReportStore};
use super::{Discrepancy, KINDS, KenticoOrderState, PayoutState, StripePayment, discrepancies};
use crate::clock::rfc3339_millis;
use crate::connectors::kentico::KenticoError;
use crate::connectors::shop::OrderRef;
use crate::connectors::stripe::{
    Charge, Dispute, Expandable, PaymentIntent, PaymentIntentStatus, Refund, StripeError,
};
use crate::flows::FlowContext;
use crate::ledger::LedgerStore;
use crate::links::OrderLink;
use crate::mapping::payment_status::AfterPayment;
use crate::queue::{QueueEnvelope, QueueError, QueuePublisher};
use crate::store::StoreError;
use crate::webhook::event_types::{stripe, stripe_ledger};
use crate::webhook::{EventEnvelope, Source};

/// The metric counting discrepancies per run, by `Kind` (every kind is added, zeros included;
/// CloudWatch receives only the kinds found).
pub const METRIC_DISCREPANCIES: &str = "ReconcileDiscrepancies";
/// The metric counting synthetic events enqueued to heal.
pub const METRIC_HEALING_EVENTS: &str = "ReconcileHealingEvents";

/// Kentico compares `OrderLastModified` in its server's clock, whose zone paybridge does not
/// know: the listing starts this much earlier so no zone (UTC-12 … UTC+14) loses an order.
const KENTICO_CLOCK_SLACK_SECONDS: i64 = 14 * 3600;

/// Why a run could not finish (its report is not stored; healing events it already enqueued are
/// harmless; the next run starts over).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Stripe could not be listed.
    #[error("Stripe: {0}")]
    Stripe(#[from] StripeError),
    /// Kentico could not be listed.
    #[error("Kentico: {0}")]
    Kentico(#[from] KenticoError),
    /// A store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The queue refused a healing event.
    #[error("queue: {0}")]
    Queue(#[from] QueueError),
    /// A Stripe object was not what the API documents.
    #[error("unexpected Stripe object: {0}")]
    Decode(String),
    /// The active mapping version (the status names to compare) could not be read.
    #[error("{0}")]
    Mapping(#[from] crate::mapping_doc::MappingLoadError),
}

/// The sweep over the same flow context the payment worker uses.
pub struct Sweep {
    ctx: Arc<FlowContext>,
    ledger: Arc<dyn LedgerStore>,
    stripe_queue: Arc<dyn QueuePublisher>,
    reports: Arc<dyn ReportStore>,
}

/// What one listed PaymentIntent is to the sweep.
enum Judged {
    /// The payment an order is judged by.
    Counts(Box<Ours>),
    /// Another succeeded payment of ours for this order, not refunded in full.
    AlsoPaid(i64),
    /// Not ours, not succeeded, refunded, or unreadable.
    Skipped,
}

/// Whether the PaymentIntent's latest charge was refunded in full.
fn refunded_in_full(intent: &PaymentIntent) -> bool {
    (intent.latest_charge.as_ref())
        .and_then(Expandable::as_object)
        .is_some_and(|charge| charge.amount_refunded >= charge.amount)
}

/// A PaymentIntent of ours with the facts the judgement needs.
struct Ours {
    intent: PaymentIntent,
    raw: Value,
    link: OrderLink,
}

impl Sweep {
    /// Hands on the metrics counted so far (the Lambda glue, after each invocation).
    pub fn flush_metrics(&self) {
        self.ctx.metrics.flush();
    }

    /// A sweep reading through `ctx`, the `ledger`, healing onto `stripe_queue`, storing to
    /// `reports`.
    pub fn new(
        ctx: Arc<FlowContext>,
        ledger: Arc<dyn LedgerStore>,
        stripe_queue: Arc<dyn QueuePublisher>,
        reports: Arc<dyn ReportStore>,
    ) -> Self {
        Self {
            ctx,
            ledger,
            stripe_queue,
            reports,
        }
    }

    /// Compares everything changed since `since`; with `heal`, enqueues the healing events.
    pub async fn run(&self, since: OffsetDateTime, heal: bool) -> Result<Report, SweepError> {
        // The status names the orders should show are the active mapping version's.
        self.ctx.mapping.refresh().await?;
        let started = self.ctx.clock.now();
        let run_id = format!(
            "rc_{}",
            rfc3339_millis(started).replace(['-', ':', '.'], "")
        );
        let since_unix = since.unix_timestamp();
        tracing::info!(run_id, since = %rfc3339_millis(since), heal, "reconciliation started");

        let client = &self.ctx.stripe;
        let mut raw: BTreeMap<String, Value> = BTreeMap::new();
        for intent in client.payment_intents_since::<Value>(since_unix).await? {
            if let Some(id) = intent["id"].as_str() {
                raw.insert(id.to_string(), intent);
            }
        }
        let refunds = client.refunds_since(since_unix).await?;
        let disputes = client.disputes_since(since_unix).await?;
        let touched: BTreeSet<String> = (refunds.iter().filter_map(refund_intent))
            .chain(disputes.iter().filter_map(dispute_intent))
            .collect();
        for id in touched {
            if let std::collections::btree_map::Entry::Vacant(slot) = raw.entry(id) {
                let intent: Value = client
                    .retrieve_payment_intent_with_charge(slot.key())
                    .await?;
                slot.insert(intent);
            }
        }

        let mut ours: BTreeMap<i64, Ours> = BTreeMap::new();
        let mut also_paid: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (id, value) in raw {
            match self.ours(&id, value).await? {
                Judged::Counts(found) => match ours.entry(found.link.order_id) {
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        slot.insert(*found);
                    }
                    // Two succeeded before either was applied: the first counts.
                    std::collections::btree_map::Entry::Occupied(_) => {
                        also_paid.entry(found.link.order_id).or_default().push(id);
                    }
                },
                Judged::AlsoPaid(order_id) => also_paid.entry(order_id).or_default().push(id),
                Judged::Skipped => {}
            }
        }

        let mut shown: BTreeMap<i64, serde_json::Map<String, Value>> = BTreeMap::new();
        let listed_since = since - time::Duration::seconds(KENTICO_CLOCK_SLACK_SECONDS);
        for (order_id, order) in self.ctx.shop.orders_modified_since(listed_since).await? {
            if ours.contains_key(&order_id) {
                shown.insert(order_id, order);
                continue;
            }
            let Some(link) = (self.ctx.links).by_order(order_id).await? else {
                continue; // not an order paybridge was asked to collect
            };
            // A paid order whose payment is older than the window: judge it with that payment.
            if let Some(payer) = link.paid_by.clone() {
                let value: Value = client.retrieve_payment_intent_with_charge(&payer).await?;
                if let Judged::Counts(found) = self.ours(&payer, value).await? {
                    ours.insert(order_id, *found);
                }
            }
            shown.insert(order_id, order);
        }
        for (order_id, found) in &ours {
            if shown.contains_key(order_id) {
                continue;
            }
            let order = OrderRef {
                id: *order_id,
                guid: found.link.order_guid.as_deref(),
            };
            match self.ctx.shop.order(order).await? {
                Some(row) => {
                    shown.insert(*order_id, row);
                }
                // Deleted in Kentico: nothing to compare a payment with; say so, go on.
                None => {
                    tracing::warn!(
                        order_id,
                        "a payment's order is gone from Kentico; not compared"
                    );
                }
            }
        }
        let mut orders: Vec<KenticoOrderState> = Vec::new();
        for row in shown.values() {
            orders.push(self.ctx.shop.order_state(row).await?);
        }

        // The ledger of the window's days (a day early for charges settled around midnight);
        // a charge older than that is not looked up there, so it is never called missing.
        let ledger_from = since - time::Duration::days(1);
        let mut payments = Vec::new();
        for found in ours.values() {
            let mut payment = self.payment(found, &disputes).await?;
            payment.also_paid = also_paid.remove(&found.link.order_id).unwrap_or_default();
            let charged = (found.intent.latest_charge.as_ref())
                .and_then(Expandable::as_object)
                .map(|charge| charge.created);
            if charged.is_some_and(|at| at < ledger_from.unix_timestamp()) {
                payment.balance_transaction = None;
            }
            payments.push(payment);
        }
        let from = ledger_from.date().to_string();
        let to = (started + time::Duration::days(2)).date().to_string();
        let ledger = self.ledger.between(&from, &to).await?;

        let mut payouts = Vec::new();
        // By arrival: a payout paid out days after it was created is judged when it is paid.
        for payout in client.payouts_arriving_since(since_unix).await? {
            if !payout.automatic || payout.status != "paid" {
                continue;
            }
            let own = payout
                .balance_transaction
                .as_ref()
                .map(|t| t.id().to_string());
            let transactions: i64 = (client.payout_balance_transactions(&payout.id).await?)
                .iter()
                .filter(|txn| Some(&txn.id) != own.as_ref())
                .map(|txn| txn.net)
                .sum();
            payouts.push(PayoutState {
                payout: payout.id.clone(),
                amount: payout.amount,
                currency: payout.currency.clone(),
                transactions,
            });
        }

        let found = discrepancies(&payments, &orders, &ledger, &payouts);
        let mut findings = Vec::new();
        for discrepancy in found {
            let healing = match (heal, discrepancy.healable()) {
                (true, true) => self.heal(&run_id, &discrepancy, &ours).await?,
                _ => Vec::new(),
            };
            findings.push(Finding {
                discrepancy,
                healing,
            });
        }
        let mut omitted: BTreeMap<String, usize> = BTreeMap::new();
        for finding in findings.iter().skip(MAX_FINDINGS) {
            *omitted
                .entry(finding.discrepancy.kind().to_string())
                .or_default() += 1;
        }
        findings.truncate(MAX_FINDINGS);
        let report = Report {
            run_id,
            started_at: rfc3339_millis(started),
            finished_at: rfc3339_millis(self.ctx.clock.now()),
            since: rfc3339_millis(since),
            heal,
            checked: Checked {
                payments: payments.len(),
                orders: orders.len(),
                ledger_entries: ledger.len(),
                payouts: payouts.len(),
            },
            findings,
            omitted,
        };
        self.reports.save(&report).await?;
        self.count(&report);
        Ok(report)
    }

    /// What the PaymentIntent `id` (as Stripe listed it) is to the sweep: the payment of an order
    /// of ours (the one that paid it; before any did, a succeeded one), another succeeded
    /// payment of such an order, or nothing to judge.
    async fn ours(&self, id: &str, raw: Value) -> Result<Judged, SweepError> {
        let Some(link) = (self.ctx.links).by_payment_intent(id).await? else {
            return Ok(Judged::Skipped);
        };
        let intent: PaymentIntent = match serde_json::from_value(raw.clone()) {
            Ok(intent) => intent,
            Err(e) => {
                tracing::warn!(payment_intent = id, error = %e, "a PaymentIntent Stripe listed could not be read; not compared");
                return Ok(Judged::Skipped);
            }
        };
        let succeeded = intent.status == PaymentIntentStatus::Succeeded;
        match &link.paid_by {
            Some(payer) if payer == id => Ok(Judged::Counts(Box::new(Ours { intent, raw, link }))),
            Some(_) if succeeded && !refunded_in_full(&intent) => {
                Ok(Judged::AlsoPaid(link.order_id))
            }
            None if succeeded => Ok(Judged::Counts(Box::new(Ours { intent, raw, link }))),
            _ => Ok(Judged::Skipped),
        }
    }

    async fn payment(
        &self,
        found: &Ours,
        disputes: &[Dispute],
    ) -> Result<StripePayment, SweepError> {
        let intent = &found.intent;
        let charge: Option<&Charge> = intent
            .latest_charge
            .as_ref()
            .and_then(Expandable::as_object);
        let mut after_payment = None;
        if let Some(charge) = charge {
            let mut dispute = disputes
                .iter()
                .filter(|d| dispute_intent(d).as_deref() == Some(intent.id.as_str()))
                .max_by_key(|d| d.created)
                .map(|d| d.status.clone());
            if dispute.is_none() && charge.disputed {
                dispute = (self.ctx.stripe.disputes_of(&intent.id).await?)
                    .into_iter()
                    .max_by_key(|d| d.created)
                    .map(|d| d.status);
            }
            let settings = self.ctx.settings();
            let mapping = &settings.status_mapping;
            after_payment =
                AfterPayment::of(charge.amount, charge.amount_refunded, dispute.as_deref())
                    .map(|state| mapping.after_name(state).to_string());
        }
        Ok(StripePayment {
            order_id: found.link.order_id,
            payment_intent: intent.id.clone(),
            status: match intent.status {
                PaymentIntentStatus::Succeeded => "succeeded".into(),
                _ => "not_succeeded".into(),
            },
            amount_received: intent.amount_received.unwrap_or(0),
            currency: intent.currency.to_lowercase(),
            balance_transaction: charge
                .and_then(|c| c.balance_transaction.as_ref())
                .map(|t| t.id().to_string()),
            after_payment,
            applied_status: found.link.status_name.clone(),
            order_canceled: found.link.canceled,
            also_paid: Vec::new(),
        })
    }

    /// Enqueues the synthetic events that heal `discrepancy`; returns their ids.
    async fn heal(
        &self,
        run_id: &str,
        discrepancy: &Discrepancy,
        ours: &BTreeMap<i64, Ours>,
    ) -> Result<Vec<String>, SweepError> {
        let Some(found) = discrepancy.order_id().and_then(|id| ours.get(&id)) else {
            return Ok(Vec::new());
        };
        let intent = &found.intent;
        let mut events: Vec<(&'static str, Value)> = Vec::new();
        match discrepancy {
            Discrepancy::PaidNotMarked { .. } => {
                events.push((stripe::PAYMENT_INTENT_SUCCEEDED, found.raw.clone()));
            }
            Discrepancy::LedgerEntryMissing { .. } => {
                if let Some(charge) = &intent.latest_charge {
                    events.push((
                        stripe_ledger::CHARGE_SUCCEEDED,
                        json!({"id": charge.id(), "object": "charge"}),
                    ));
                }
            }
            Discrepancy::NotReflected { .. } => {
                let client = &self.ctx.stripe;
                for refund in client.refunds_of(&intent.id).await? {
                    events.push((
                        stripe_ledger::REFUND_UPDATED,
                        json!({"id": refund.id, "object": "refund"}),
                    ));
                }
                for dispute in client.disputes_of(&intent.id).await? {
                    // Not `created`: that counts a new dispute, and each run would count it again
                    // (the discrepancy alarm already says a dispute went unseen).
                    let event_type = match dispute.status.as_str() {
                        "won" | "lost" => stripe_ledger::DISPUTE_CLOSED,
                        _ => stripe_ledger::DISPUTE_FUNDS_WITHDRAWN,
                    };
                    events.push((event_type, json!({"id": dispute.id, "object": "dispute"})));
                }
            }
            _ => {}
        }
        let mut ids = Vec::new();
        for (event_type, object) in events {
            let object_id = object["id"].as_str().unwrap_or_default().to_string();
            let id = format!("evt_rc_{object_id}_{}", run_id.trim_start_matches("rc_"));
            self.enqueue(&id, event_type, object, intent.livemode)
                .await?;
            ids.push(id);
        }
        tracing::info!(
            kind = discrepancy.kind(),
            order_id = discrepancy.order_id(),
            events = ?ids,
            "healing a discrepancy through the payment worker"
        );
        Ok(ids)
    }

    async fn enqueue(
        &self,
        id: &str,
        event_type: &str,
        object: Value,
        livemode: bool,
    ) -> Result<(), SweepError> {
        let now = self.ctx.clock.now();
        let event = json!({
            "id": id, "object": "event", "type": event_type, "created": now.unix_timestamp(),
            "livemode": livemode, "api_version": null, "data": {"object": object},
            "request": {"id": null, "idempotency_key": null},
        });
        let envelope = EventEnvelope {
            id: id.to_string(),
            event_type: event_type.to_string(),
            created: now.unix_timestamp(),
            livemode: Some(livemode),
        };
        let message = QueueEnvelope::wrap(
            Source::Reconciler,
            &envelope,
            rfc3339_millis(now),
            &event.to_string(),
        )
        .and_then(|envelope| envelope.to_message())
        .map_err(|e| SweepError::Decode(e.to_string()))?;
        self.stripe_queue.publish(message).await?;
        self.ctx
            .metrics
            .increment(METRIC_HEALING_EVENTS, &[("EventType", event_type)]);
        Ok(())
    }

    fn count(&self, report: &Report) {
        let counts = report.counts();
        for kind in KINDS {
            let n = counts.get(kind).copied().unwrap_or(0) as u64;
            (self.ctx.metrics).add(METRIC_DISCREPANCIES, &[("Kind", kind)], n);
        }
        tracing::info!(
            run_id = report.run_id,
            discrepancies = report.total(),
            counts = ?counts,
            "reconciliation finished"
        );
    }
}

fn refund_intent(refund: &Refund) -> Option<String> {
    refund.payment_intent.as_ref().map(|pi| pi.id().to_string())
}

fn dispute_intent(dispute: &Dispute) -> Option<String> {
    dispute
        .payment_intent
        .as_ref()
        .map(|pi| pi.id().to_string())
}
