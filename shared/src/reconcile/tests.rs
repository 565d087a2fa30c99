//! One seeded case of each discrepancy beside clean orders: each found once, none invented.

use super::*;
use crate::ledger::{LedgerLine, References};

fn payment(order_id: i64, received: i64, after: Option<&str>, txn: Option<&str>) -> StripePayment {
    StripePayment {
        order_id,
        payment_intent: format!("pi_{order_id}"),
        status: "succeeded".into(),
        amount_received: received,
        currency: "usd".into(),
        balance_transaction: txn.map(str::to_string),
        after_payment: after.map(str::to_string),
        // By default paybridge already wrote what Stripe calls for.
        applied_status: Some(after.unwrap_or("Paid").to_string()),
        order_canceled: false,
        also_paid: Vec::new(),
    }
}

fn order(order_id: i64, is_paid: bool, status: &str, total: i64) -> KenticoOrderState {
    KenticoOrderState {
        order_id,
        is_paid,
        status_name: status.into(),
        total,
        currency: "usd".into(),
    }
}

fn posted(txn: &str) -> LedgerEntry {
    LedgerEntry {
        id: LedgerEntry::id_for(EntryKind::Payment, txn),
        kind: EntryKind::Payment,
        occurred_at: "2026-11-29T12:00:00.000Z".into(),
        currency: "USD".into(),
        lines: Vec::<LedgerLine>::new(),
        presentment: None,
        references: References {
            stripe_balance_transaction: txn.into(),
            ..References::default()
        },
    }
}

#[test]
fn every_seeded_discrepancy_is_found_once_and_clean_orders_are_left_alone() {
    let payments = [
        payment(1, 10_000, None, Some("txn_1")), // clean
        payment(2, 10_000, None, Some("txn_2")), // paid in Stripe, not in Kentico
        payment(3, 9_000, None, Some("txn_3")),  // received less than the total
        StripePayment {
            applied_status: Some("Paid".into()), // the refund's webhooks were lost
            ..payment(4, 10_000, Some("Partially refunded"), Some("txn_4"))
        },
        payment(5, 10_000, None, Some("txn_5")), // no ledger entry
        payment(6, 10_000, Some("Refunded"), Some("txn_6")), // clean: refunded and shown
        StripePayment {
            status: "processing".into(),
            ..payment(7, 0, None, None) // clean: not paid anywhere yet
        },
        payment(9, 10_000, None, Some("txn_9")), // clean: the shop moved on to Shipped
        payment(10, 10_000, Some("Refunded"), Some("txn_10")), // clean: refunded, then Closed
        StripePayment {
            also_paid: vec!["pi_11_again".into()], // paid twice
            ..payment(11, 10_000, None, Some("txn_11"))
        },
        StripePayment {
            order_canceled: true, // paid after the order was canceled: for a person
            ..payment(12, 10_000, None, Some("txn_12"))
        },
    ];
    let orders = [
        order(1, true, "Paid", 10_000),
        order(2, false, "Pending Payment", 10_000),
        order(3, true, "Paid", 10_000),
        order(4, true, "Paid", 10_000),
        order(5, true, "Paid", 10_000),
        order(6, true, "Refunded", 10_000),
        order(7, false, "Payment pending", 10_000),
        order(8, true, "Paid", 5_000), // marked paid by hand, no payment of ours
        order(9, true, "Shipped", 10_000),
        order(10, false, "Closed", 10_000), // the shop took a refunded order out of paid
        order(11, true, "Paid", 10_000),
        order(12, false, "Canceled", 10_000),
    ];
    let ledger: Vec<LedgerEntry> = [
        "txn_1", "txn_2", "txn_3", "txn_4", "txn_6", "txn_9", "txn_10", "txn_11", "txn_12",
    ]
    .iter()
    .map(|t| posted(t))
    .collect();

    let payouts = [
        PayoutState {
            payout: "po_balanced".into(),
            amount: 18_800,
            currency: "usd".into(),
            transactions: 18_800,
        },
        PayoutState {
            payout: "po_short".into(),
            amount: 20_000,
            currency: "usd".into(),
            transactions: 18_800,
        },
    ];

    let found = discrepancies(&payments, &orders, &ledger, &payouts);

    let kinds: Vec<(Option<i64>, &str, bool)> = found
        .iter()
        .map(|d| (d.order_id(), d.kind(), d.healable()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (Some(2), "paid_not_marked", true),
            (Some(3), "amount_mismatch", false),
            (Some(4), "refund_or_dispute_not_reflected", true),
            (Some(5), "ledger_entry_missing", true),
            (Some(8), "marked_paid_without_payment", false),
            (Some(11), "double_payment", false),
            (Some(12), "paid_not_marked", false),
            (None, "payout_unbalanced", false),
        ]
    );
    let kinds: BTreeSet<&str> = found.iter().map(Discrepancy::kind).collect();
    assert_eq!(kinds, KINDS.into_iter().collect(), "one case of every kind");
    let json = serde_json::to_value(&found).unwrap();
    let back: Vec<Discrepancy> = serde_json::from_value(json).unwrap();
    assert_eq!(back, found, "a stored report reads back the same");
    assert_eq!(
        serde_json::to_value(&found[0]).unwrap(),
        serde_json::json!({"kind": "paid_not_marked", "order_id": 2, "payment_intent": "pi_2", "order_canceled": false})
    );
}

#[test]
fn a_healed_window_reports_nothing() {
    let payments = [payment(2, 10_000, None, Some("txn_2"))];
    let orders = [order(2, true, "Paid", 10_000)];
    assert!(discrepancies(&payments, &orders, &[posted("txn_2")], &[]).is_empty());
}
