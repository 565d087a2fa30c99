//! Entries for every kind of movement balance, keep the clearing account at the transaction's
//! net, and are the same entry (same id) however often they are made.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

use super::*;

fn txn(
    id: &str,
    category: &str,
    currency: &str,
    amount: i64,
    fees: &[(i64, &str)],
) -> BalanceTransaction {
    let fee: i64 = fees.iter().map(|(amount, _)| amount).sum();
    serde_json::from_value(json!({
        "id": id, "object": "balance_transaction", "amount": amount, "fee": fee,
        "net": amount - fee, "currency": currency, "created": 1_764_417_600,
        "available_on": 1_764_590_400, "status": "available", "reporting_category": category,
        "type": category, "source": format!("src_{id}"), "exchange_rate": null,
        "fee_details": fees.iter().map(|(amount, kind)| json!({
            "amount": amount, "currency": currency, "description": format!("Stripe {kind}"),
            "type": kind
        })).collect::<Vec<_>>(),
    }))
    .unwrap()
}

fn entry(txn: &BalanceTransaction, kind: EntryKind) -> LedgerEntry {
    let entry = entry_for(txn, kind, &Accounts::default(), References::default(), None).unwrap();
    assert!(entry.is_balanced(), "{entry:#?}");
    let clearing = &Accounts::default().clearing;
    let net = from_minor_units(
        txn.net,
        &Currency::parse("c", &txn.currency.to_uppercase()).unwrap(),
    );
    assert_eq!(
        entry.net(clearing),
        net,
        "clearing moves by the net: {entry:#?}"
    );
    entry
}

fn lines(entry: &LedgerEntry) -> Vec<(&str, Decimal, Decimal)> {
    entry
        .lines
        .iter()
        .map(|l| (l.account.as_str(), l.debit, l.credit))
        .collect()
}

#[test]
fn a_usd_charge_posts_its_gross_to_revenue_and_its_fee_out_of_clearing() {
    let charge = txn("txn_usd", "charge", "usd", 10_000, &[(320, "stripe_fee")]);

    let entry = entry(&charge, EntryKind::Payment);

    assert_eq!(entry.id, "le_payment_txn_usd");
    assert_eq!(entry.currency, "USD");
    assert_eq!(entry.occurred_at, "2025-11-29T12:00:00.000Z");
    assert_eq!(
        lines(&entry),
        vec![
            ("Assets:Stripe:Clearing", dec!(100.00), dec!(0)),
            ("Income:Sales", dec!(0), dec!(100.00)),
            ("Expenses:Stripe:Fees", dec!(3.20), dec!(0)),
            ("Assets:Stripe:Clearing", dec!(0), dec!(3.20)),
        ]
    );
    assert_eq!(entry.references.stripe_balance_transaction, "txn_usd");
    assert_eq!(entry.lines[2].memo, "Stripe stripe_fee");
}

#[test]
fn a_jpy_charge_is_in_whole_yen() {
    let charge = txn("txn_jpy", "charge", "jpy", 1_500, &[(54, "stripe_fee")]);

    let entry = entry(&charge, EntryKind::Payment);

    assert_eq!(entry.total_debits(), dec!(1554));
    assert_eq!(entry.lines[0].debit.scale(), 0);
}

#[test]
fn a_eur_charge_settled_in_usd_keeps_what_the_customer_paid() {
    let mut charge = txn("txn_fx", "charge", "usd", 10_800, &[(343, "stripe_fee")]);
    charge.exchange_rate = Some(dec!(1.08));

    let entry = entry_for(
        &charge,
        EntryKind::Payment,
        &Accounts::default(),
        References::default(),
        Some((10_000, "eur")),
    )
    .unwrap();

    assert_eq!(entry.currency, "USD");
    assert_eq!(entry.lines[0].debit, dec!(108.00));
    assert_eq!(
        entry.presentment,
        Some(Presentment {
            amount: dec!(100.00),
            currency: "EUR".into(),
            exchange_rate: dec!(1.08)
        })
    );
    let same_currency = entry_for(
        &charge,
        EntryKind::Payment,
        &Accounts::default(),
        References::default(),
        Some((10_800, "usd")),
    )
    .unwrap();
    assert_eq!(same_currency.presentment, None);
}

#[test]
fn a_partial_then_a_full_refund_reverse_the_sale_and_a_failed_refund_reverses_its_reversal() {
    let partial = entry(
        &txn("txn_re1", "refund", "usd", -4_000, &[]),
        EntryKind::Refund,
    );
    let rest = entry(
        &txn("txn_re2", "refund", "usd", -6_000, &[(-320, "stripe_fee")]),
        EntryKind::Refund,
    );
    let failed = entry(
        &txn("txn_rf", "refund_failure", "usd", 4_000, &[]),
        EntryKind::RefundFailure,
    );

    let refunds = &Accounts::default().refunds;
    assert_eq!(partial.net(refunds) + rest.net(refunds), dec!(100.00));
    assert_eq!(
        rest.net(&Accounts::default().fees),
        dec!(-3.20),
        "the fee came back"
    );
    assert_eq!(failed.net(refunds), dec!(-40.00));
    assert_ne!(partial.id, rest.id);
}

#[test]
fn a_lost_dispute_costs_the_charge_and_its_fee_and_a_won_one_gives_both_back() {
    let accounts = Accounts::default();
    let lost = entry(
        &txn(
            "txn_dp",
            "dispute",
            "usd",
            -10_000,
            &[(1_500, "stripe_fee")],
        ),
        EntryKind::Dispute,
    );
    let won = entry(
        &txn(
            "txn_dr",
            "dispute_reversal",
            "usd",
            10_000,
            &[(-1_500, "stripe_fee")],
        ),
        EntryKind::DisputeReversal,
    );

    assert_eq!(lost.net(&accounts.disputes), dec!(100.00));
    assert_eq!(lost.net(&accounts.fees), dec!(15.00));
    assert_eq!(
        won.net(&accounts.disputes) + lost.net(&accounts.disputes),
        Decimal::ZERO
    );
    assert_eq!(
        won.net(&accounts.fees) + lost.net(&accounts.fees),
        Decimal::ZERO
    );
}

#[test]
fn after_a_payout_of_charges_refunds_and_a_dispute_the_clearing_account_is_at_zero() {
    let accounts = Accounts::default();
    let movements = [
        (
            txn("txn_c1", "charge", "usd", 10_000, &[(320, "stripe_fee")]),
            EntryKind::Payment,
        ),
        (
            txn("txn_c2", "charge", "usd", 2_500, &[(103, "stripe_fee")]),
            EntryKind::Payment,
        ),
        (
            txn("txn_r1", "refund", "usd", -2_500, &[]),
            EntryKind::Refund,
        ),
        (
            txn("txn_d1", "dispute", "usd", -1_000, &[(1_500, "stripe_fee")]),
            EntryKind::Dispute,
        ),
    ];
    let net: i64 = movements.iter().map(|(t, _)| t.net).sum();
    let payout = txn("txn_po", "payout", "usd", -net, &[]);

    let entries: Vec<LedgerEntry> = movements
        .iter()
        .map(|(t, kind)| entry(t, *kind))
        .chain([entry(&payout, EntryKind::Payout)])
        .collect();

    let clearing: Decimal = entries.iter().map(|e| e.net(&accounts.clearing)).sum();
    assert_eq!(clearing, Decimal::ZERO);
    assert_eq!(
        entries[4].net(&accounts.bank),
        dec!(70.77),
        "96.80 + 23.97 − 25.00 − 25.00"
    );
    let failed = entry(
        &txn("txn_pf", "payout_reversal", "usd", net, &[]),
        EntryKind::PayoutFailure,
    );
    assert_eq!(
        failed.net(&accounts.bank) + entries[4].net(&accounts.bank),
        Decimal::ZERO
    );
}

#[test]
fn the_same_movement_always_makes_the_same_entry() {
    let charge = txn("txn_again", "charge", "usd", 10_000, &[(320, "stripe_fee")]);
    assert_eq!(
        entry(&charge, EntryKind::Payment),
        entry(&charge, EntryKind::Payment)
    );
    assert_eq!(
        LedgerEntry::id_for(EntryKind::Refund, "txn_1"),
        "le_refund_txn_1"
    );
}

#[test]
fn three_decimal_currencies_and_zero_amounts_are_exact() {
    let kwd = entry(
        &txn("txn_kwd", "charge", "kwd", 12_340, &[(370, "stripe_fee")]),
        EntryKind::Payment,
    );
    assert_eq!(kwd.lines[0].debit, dec!(12.340));
    let free = entry(
        &txn("txn_free", "charge", "usd", 500, &[]),
        EntryKind::Payment,
    );
    assert_eq!(free.lines.len(), 2, "no fee lines for a zero fee");
}

#[test]
fn a_transaction_that_does_not_add_up_is_refused_with_its_sums() {
    let mut broken = txn("txn_bad", "charge", "usd", 10_000, &[(320, "stripe_fee")]);
    broken.fee = 300;
    let error = entry_for(
        &broken,
        EntryKind::Payment,
        &Accounts::default(),
        References::default(),
        None,
    )
    .unwrap_err();
    assert!(matches!(error, LedgerError::Discrepancy { .. }), "{error}");
    assert!(error.to_string().contains("txn_bad"));
    let mut unknown = txn("txn_xxx", "charge", "usd", 100, &[]);
    unknown.currency = "xxq".into();
    assert!(matches!(
        entry_for(
            &unknown,
            EntryKind::Payment,
            &Accounts::default(),
            References::default(),
            None
        ),
        Err(LedgerError::Currency { .. })
    ));
}

#[test]
fn stripes_published_balance_transaction_reads_and_its_category_names_the_kind() {
    let fixture = json!({
        "amount": 100, "available_on": 1234567890, "created": 1234567890, "currency": "usd",
        "description": "My First Test Charge (created for API docs)", "exchange_rate": null,
        "fee": 0, "fee_details": [], "id": "txn_1PgaxNB7WZ01zgkWEV3TLf40", "net": 100,
        "object": "balance_transaction", "reporting_category": "charge",
        "source": "ch_1PgafuB7WZ01zgkWXYmPNZs8", "status": "available", "type": "charge",
        "balance_type": "payments"
    });
    let txn: BalanceTransaction = serde_json::from_value(fixture).unwrap();
    assert_eq!(txn.source_id(), Some("ch_1PgafuB7WZ01zgkWXYmPNZs8"));
    assert_eq!(
        EntryKind::of_reporting_category(&txn.reporting_category),
        Some(EntryKind::Payment)
    );
    assert_eq!(
        EntryKind::of_reporting_category("dispute_reversal"),
        Some(EntryKind::DisputeReversal)
    );
    assert_eq!(EntryKind::of_reporting_category("topup"), None);
    let fx: BalanceTransaction = serde_json::from_value(json!({
        "id": "txn_fx", "amount": 10800, "fee": 0, "net": 10800, "currency": "usd",
        "created": 1, "available_on": 1, "status": "pending", "reporting_category": "charge",
        "exchange_rate": 1.08
    }))
    .unwrap();
    assert_eq!(
        fx.exchange_rate,
        Some(dec!(1.08)),
        "read exactly, not as a binary fraction"
    );
}
