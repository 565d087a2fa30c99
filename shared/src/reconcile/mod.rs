//! The reconciliation sweep's judgement (work in progress: the listing of Stripe and Kentico,
//! the healing and the schedule come next): given what Stripe says, what Kentico shows, what
//! paybridge linked and what the ledger holds for a window, every discrepancy, each said once,
//! and whether a missed webhook explains it (then replaying that event heals it).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

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
    /// Minor units refunded so far.
    pub amount_refunded: i64,
    /// The balance transaction of its charge, once it has one.
    pub balance_transaction: Option<String>,
}

/// A Kentico order as the shop shows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KenticoOrderState {
    /// `OrderID`.
    pub order_id: i64,
    /// `OrderIsPaid`.
    pub is_paid: bool,
    /// The order status's name.
    pub status_name: String,
    /// `OrderGrandTotal` in minor units.
    pub total: i64,
    /// Lower-case ISO currency.
    pub currency: String,
}

/// One discrepancy kind (a metric dimension and a report column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discrepancy {
    /// Stripe has the order's payment succeeded; Kentico does not show it paid.
    PaidNotMarked {
        /// The order.
        order_id: i64,
        /// Its payment.
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
    /// Stripe refunded some of the payment; the order does not show it.
    RefundNotReflected {
        /// The order.
        order_id: i64,
        /// Minor units refunded at Stripe.
        refunded: i64,
    },
    /// A balance transaction of a payment of ours has no ledger entry.
    LedgerEntryMissing {
        /// The order.
        order_id: i64,
        /// `txn_…`.
        balance_transaction: String,
    },
}

impl Discrepancy {
    /// The kind's name (metric dimension).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PaidNotMarked { .. } => "paid_not_marked",
            Self::MarkedPaidWithoutPayment { .. } => "marked_paid_without_payment",
            Self::AmountMismatch { .. } => "amount_mismatch",
            Self::RefundNotReflected { .. } => "refund_not_reflected",
            Self::LedgerEntryMissing { .. } => "ledger_entry_missing",
        }
    }

    /// Whether a missed webhook explains it, so replaying the event through the normal worker
    /// path heals it (idempotently); the others are for a person.
    pub fn healable(&self) -> bool {
        matches!(
            self,
            Self::PaidNotMarked { .. }
                | Self::RefundNotReflected { .. }
                | Self::LedgerEntryMissing { .. }
        )
    }
}

/// The names of the statuses that show a refund (partially or fully).
pub struct RefundStatusNames<'a> {
    /// `Partially refunded`.
    pub partially: &'a str,
    /// `Refunded`.
    pub fully: &'a str,
}

/// Every discrepancy between `payments` (ours, in the window), `orders` (changed in the window
/// or named by a payment) and `ledger`, sorted by order then kind.
pub fn discrepancies(
    payments: &[StripePayment],
    orders: &[KenticoOrderState],
    ledger: &[LedgerEntry],
    refund_statuses: &RefundStatusNames<'_>,
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
        if !order.is_paid {
            found.push(Discrepancy::PaidNotMarked {
                order_id: order.order_id,
                payment_intent: payment.payment_intent.clone(),
            });
        }
        if payment.amount_received != order.total || payment.currency != order.currency {
            found.push(Discrepancy::AmountMismatch {
                order_id: order.order_id,
                stripe: format!("{} {}", payment.amount_received, payment.currency),
                kentico: format!("{} {}", order.total, order.currency),
            });
        }
        let shows_refund = [refund_statuses.partially, refund_statuses.fully]
            .iter()
            .any(|name| name.eq_ignore_ascii_case(&order.status_name));
        if payment.amount_refunded > 0 && !shows_refund {
            found.push(Discrepancy::RefundNotReflected {
                order_id: order.order_id,
                refunded: payment.amount_refunded,
            });
        }
        if let Some(txn) = &payment.balance_transaction
            && !posted.contains(txn.as_str())
        {
            found.push(Discrepancy::LedgerEntryMissing {
                order_id: order.order_id,
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
    found.sort_by_key(|d| (order_of(d), d.kind()));
    found
}

fn order_of(discrepancy: &Discrepancy) -> i64 {
    match discrepancy {
        Discrepancy::PaidNotMarked { order_id, .. }
        | Discrepancy::MarkedPaidWithoutPayment { order_id }
        | Discrepancy::AmountMismatch { order_id, .. }
        | Discrepancy::RefundNotReflected { order_id, .. }
        | Discrepancy::LedgerEntryMissing { order_id, .. } => *order_id,
    }
}

#[cfg(test)]
mod tests;
