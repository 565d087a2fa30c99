//! The reconciliation sweep: what Stripe says, what Kentico shows, what paybridge linked and
//! what the ledger holds, compared for a window. [`discrepancies`] is the judgement (pure);
//! [`sweep`] gathers the facts, heals what a missed webhook explains by enqueueing a synthetic
//! event through the normal worker path, and stores a [`reports::Report`] per run.

pub mod lambda;
pub mod reports;
pub mod sweep;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ledger::{EntryKind, LedgerEntry};

/// A payment of ours as Stripe says it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripePayment {
    /// The Kentico order it was created for (from the order links).
    pub order_id: i64,
    /// `pi_…`.
    pub payment_intent: String,
    /// `succeeded`, `processing`, …
    pub status: String,
    /// Minor units received.
    pub amount_received: i64,
    /// Lower-case ISO currency.
    pub currency: String,
    /// The balance transaction of its charge, once it has one.
    pub balance_transaction: Option<String>,
    /// The after-payment status Stripe's state calls for (`Refunded`, `Disputed`, …), if the
    /// payment was refunded or disputed.
    pub after_payment: Option<String>,
    /// The status paybridge last wrote to the order (its order link), if any.
    pub applied_status: Option<String>,
    /// The order was canceled in Kentico (a payment must not mark it paid any more).
    pub order_canceled: bool,
    /// Other succeeded PaymentIntents of ours for the same order, not refunded in full.
    pub also_paid: Vec<String>,
}

pub use crate::connectors::shop::KenticoOrderState;

/// A payout as Stripe reports it, beside the sum of the balance transactions it paid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutState {
    /// `po_…`.
    pub payout: String,
    /// Its amount, minor units.
    pub amount: i64,
    /// Lower-case ISO currency.
    pub currency: String,
    /// What its balance transactions sum to (negated: a payout takes money out).
    pub transactions: i64,
}

/// One discrepancy (its kind is a metric dimension and a report column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discrepancy {
    /// Stripe has the order's payment succeeded; Kentico does not show it paid.
    PaidNotMarked {
        /// The order.
        order_id: i64,
        /// Its payment.
        payment_intent: String,
        /// Canceled in Kentico: paid after the cancel, for a person (refund or reinstate).
        order_canceled: bool,
    },
    /// A second payment of ours succeeded for an order another one paid.
    DoublePayment {
        /// The order.
        order_id: i64,
        /// The payment that paid it.
        paid_by: String,
        /// The other one.
        payment_intent: String,
    },
    /// Kentico shows the order paid; Stripe has no succeeded payment of ours for it.
    MarkedPaidWithoutPayment {
        /// The order.
        order_id: i64,
    },
    /// The payment received another amount or currency than the order's total.
    AmountMismatch {
        /// The order.
        order_id: i64,
        /// What Stripe received, e.g. `12990 usd`.
        stripe: String,
        /// What Kentico shows.
        kentico: String,
    },
    /// Stripe refunded or disputed the payment; the order does not show it.
    #[serde(rename = "refund_or_dispute_not_reflected")]
    NotReflected {
        /// The order.
        order_id: i64,
        /// Its payment.
        payment_intent: String,
        /// The status Stripe's state calls for.
        expected: String,
        /// The status the order shows.
        shown: String,
    },
    /// A balance transaction of a payment of ours has no ledger entry.
    LedgerEntryMissing {
        /// The order.
        order_id: i64,
        /// Its payment.
        payment_intent: String,
        /// `txn_…`.
        balance_transaction: String,
    },
    /// A payout's balance transactions do not sum to its amount.
    PayoutUnbalanced {
        /// `po_…`.
        payout: String,
        /// The payout's amount, e.g. `50000 usd`.
        amount: String,
        /// What its transactions sum to.
        transactions: String,
    },
}

/// Every kind, in report order.
pub const KINDS: [&str; 7] = [
    "paid_not_marked",
    "marked_paid_without_payment",
    "amount_mismatch",
    "refund_or_dispute_not_reflected",
    "ledger_entry_missing",
    "payout_unbalanced",
    "double_payment",
];

impl Discrepancy {
    /// The kind's name (metric dimension), one of [`KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PaidNotMarked { .. } => KINDS[0],
            Self::MarkedPaidWithoutPayment { .. } => KINDS[1],
            Self::AmountMismatch { .. } => KINDS[2],
            Self::NotReflected { .. } => KINDS[3],
            Self::LedgerEntryMissing { .. } => KINDS[4],
            Self::PayoutUnbalanced { .. } => KINDS[5],
            Self::DoublePayment { .. } => KINDS[6],
        }
    }

    /// Whether a missed webhook explains it, so replaying the event through the normal worker
    /// path heals it (idempotently); the others are for a person.
    pub fn healable(&self) -> bool {
        matches!(
            self,
            Self::PaidNotMarked {
                order_canceled: false,
                ..
            } | Self::NotReflected { .. }
                | Self::LedgerEntryMissing { .. }
        )
    }

    /// The Kentico order it concerns, if any.
    pub fn order_id(&self) -> Option<i64> {
        match self {
            Self::PaidNotMarked { order_id, .. }
            | Self::MarkedPaidWithoutPayment { order_id }
            | Self::AmountMismatch { order_id, .. }
            | Self::NotReflected { order_id, .. }
            | Self::LedgerEntryMissing { order_id, .. }
            | Self::DoublePayment { order_id, .. } => Some(*order_id),
            Self::PayoutUnbalanced { .. } => None,
        }
    }

    /// One line for a person: what is wrong, with the ids to look up.
    pub fn describe(&self) -> String {
        match self {
            Self::PaidNotMarked {
                payment_intent,
                order_canceled,
                ..
            } => match order_canceled {
                false => format!("{payment_intent} succeeded; the order is not marked paid"),
                true => format!(
                    "{payment_intent} succeeded after the order was canceled: refund it or reinstate the order"
                ),
            },
            Self::DoublePayment {
                paid_by,
                payment_intent,
                ..
            } => format!("{payment_intent} also succeeded; {paid_by} paid the order: refund one"),
            Self::MarkedPaidWithoutPayment { .. } => {
                "marked paid in Kentico; no succeeded payment of ours at Stripe".to_string()
            }
            Self::AmountMismatch {
                stripe, kentico, ..
            } => format!("Stripe received {stripe}; the order totals {kentico}"),
            Self::NotReflected {
                payment_intent,
                expected,
                shown,
                ..
            } => format!("{payment_intent} calls for '{expected}'; the order shows '{shown}'"),
            Self::LedgerEntryMissing {
                balance_transaction,
                payment_intent,
                ..
            } => format!("{balance_transaction} of {payment_intent} has no ledger entry"),
            Self::PayoutUnbalanced {
                payout,
                amount,
                transactions,
            } => format!("{payout} paid out {amount}; its transactions sum to {transactions}"),
        }
    }
}

/// Every discrepancy between `payments` (ours), `orders` (linked to paybridge, changed in the
/// window or named by a payment), `ledger` and `payouts`, sorted by order then kind (payouts
/// last). A status the shop moved on to (e.g. `Shipped` after `Paid`, or after `Refunded`) is
/// not a discrepancy: only a refund or dispute paybridge has not written yet is; nor is an
/// order a refund or dispute took out of `OrderIsPaid`.
pub fn discrepancies(
    payments: &[StripePayment],
    orders: &[KenticoOrderState],
    ledger: &[LedgerEntry],
    payouts: &[PayoutState],
) -> Vec<Discrepancy> {
    let orders: BTreeMap<i64, &KenticoOrderState> =
        orders.iter().map(|order| (order.order_id, order)).collect();
    let posted: BTreeSet<&str> = ledger
        .iter()
        .filter(|entry| entry.kind == EntryKind::Payment)
        .map(|entry| entry.references.stripe_balance_transaction.as_str())
        .collect();
    let mut found = Vec::new();
    let mut paid_orders = BTreeSet::new();
    for payment in payments.iter().filter(|p| p.status == "succeeded") {
        paid_orders.insert(payment.order_id);
        let Some(order) = orders.get(&payment.order_id) else {
            continue;
        };
        let order_id = order.order_id;
        let payment_intent = payment.payment_intent.clone();
        if !order.is_paid && payment.after_payment.is_none() {
            found.push(Discrepancy::PaidNotMarked {
                order_id,
                payment_intent: payment_intent.clone(),
                order_canceled: payment.order_canceled,
            });
        }
        for other in &payment.also_paid {
            found.push(Discrepancy::DoublePayment {
                order_id,
                paid_by: payment_intent.clone(),
                payment_intent: other.clone(),
            });
        }
        if payment.amount_received != order.total || payment.currency != order.currency {
            found.push(Discrepancy::AmountMismatch {
                order_id,
                stripe: format!("{} {}", payment.amount_received, payment.currency),
                kentico: format!("{} {}", order.total, order.currency),
            });
        }
        let applied = payment.applied_status.as_deref().unwrap_or_default();
        if let Some(expected) = &payment.after_payment
            && !expected.eq_ignore_ascii_case(applied.trim())
        {
            found.push(Discrepancy::NotReflected {
                order_id,
                payment_intent: payment_intent.clone(),
                expected: expected.clone(),
                shown: order.status_name.clone(),
            });
        }
        if let Some(txn) = &payment.balance_transaction
            && !posted.contains(txn.as_str())
        {
            found.push(Discrepancy::LedgerEntryMissing {
                order_id,
                payment_intent,
                balance_transaction: txn.clone(),
            });
        }
    }
    for order in orders.values() {
        if order.is_paid && !paid_orders.contains(&order.order_id) {
            found.push(Discrepancy::MarkedPaidWithoutPayment {
                order_id: order.order_id,
            });
        }
    }
    found.sort_by_key(|d| (d.order_id(), d.kind()));
    found.extend(
        payouts
            .iter()
            .filter(|p| p.amount != p.transactions)
            .map(|p| Discrepancy::PayoutUnbalanced {
                payout: p.payout.clone(),
                amount: format!("{} {}", p.amount, p.currency),
                transactions: format!("{} {}", p.transactions, p.currency),
            }),
    );
    found
}

#[cfg(test)]
mod tests;
