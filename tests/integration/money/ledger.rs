//! Money after the payment: the payment worker posts one ledger entry per balance transaction
//! of our charges, refunds and disputes, and of every transaction a payout paid out — each once,
//! however often its events come.

use serde_json::{Value, json};

use integration_tests::fakes::erp::FakeErp;

use super::{Bridge, T0, both_backends, id, last_intent, order};

/// The days around `T0` (2026-11-29).
const FROM: &str = "2026-11-28";
const TO: &str = "2026-12-01";

pub(super) fn txn(id: &str, category: &str, amount: i64, fee: i64) -> Value {
    json!({"id": id, "object": "balance_transaction", "amount": amount, "fee": fee,
    "net": amount - fee, "currency": "usd", "created": T0, "available_on": T0 + 172_800,
    "status": "available", "reporting_category": category, "type": category,
    "source": null, "exchange_rate": null,
    "fee_details": if fee == 0 { json!([]) } else {
        json!([{"amount": fee, "currency": "usd", "description": "Stripe processing fees", "type": "stripe_fee"}])
    }})
}

pub(super) fn charge(id: &str, payment_intent: &str, txn: &str, amount: i64) -> Value {
    json!({"id": id, "object": "charge", "amount": amount, "amount_refunded": 0,
        "currency": "usd", "payment_intent": payment_intent, "balance_transaction": txn,
        "status": "succeeded", "paid": true, "refunded": false, "captured": true,
        "metadata": {}, "created": T0})
}

fn ids(entries: &[Value]) -> Vec<&str> {
    let mut ids: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids
}

async fn charges_refunds_and_a_payout_post_one_entry_each_and_clearing_nets_to_zero(
    bridge: &dyn Bridge,
) {
    bridge
        .kentico_says("ecommerce.order.created", &order(301, "USD", "129.90", T0))
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));
    let stripe = bridge.stripe();
    stripe.set_payment_intent(
        &intent,
        json!({"status": "succeeded", "latest_charge": "ch_301"}),
    );
    stripe.add_balance_transaction(txn("txn_301", "charge", 12_990, 407));
    stripe.add_charge(charge("ch_301", &intent, "txn_301", 12_990));
    // Somebody else's charge on the same account: not ours, not posted from its own event.
    stripe.add_balance_transaction(txn("txn_other", "charge", 500, 45));
    stripe.add_charge(charge("ch_other", "pi_3SomebodyElses", "txn_other", 500));

    for _ in 0..3 {
        bridge
            .stripe_says(
                "charge.succeeded",
                &charge("ch_301", &intent, "txn_301", 12_990),
            )
            .await;
    }
    bridge
        .stripe_says(
            "charge.succeeded",
            &charge("ch_other", "pi_3SomebodyElses", "txn_other", 500),
        )
        .await;
    bridge.drain().await;

    let entries = bridge.ledger(FROM, TO).await;
    assert_eq!(
        ids(&entries),
        ["le_payment_txn_301"],
        "one entry, ours only"
    );
    assert_eq!(entries[0]["references"]["kentico_order_id"], "301");
    assert_eq!(
        entries[0]["references"]["stripe_payment_intent"],
        intent.as_str()
    );
    assert_eq!(entries[0]["lines"][0]["debit"], "129.90");

    // A partial refund: its events before and after it moved money.
    let refund = json!({"id": "re_301", "object": "refund", "amount": 4_000, "currency": "usd",
        "charge": "ch_301", "payment_intent": intent, "status": "pending",
        "balance_transaction": null, "failure_balance_transaction": null, "metadata": {},
        "created": T0});
    stripe.put_refund(refund.clone());
    bridge.stripe_says("refund.created", &refund).await;
    bridge.drain().await;
    stripe.add_balance_transaction(txn("txn_re_301", "refund", -4_000, 0));
    let mut settled = refund.clone();
    settled["status"] = "succeeded".into();
    settled["balance_transaction"] = "txn_re_301".into();
    stripe.put_refund(settled.clone());
    bridge.stripe_says("refund.updated", &settled).await;
    bridge.stripe_says("refund.updated", &settled).await;
    bridge.drain().await;

    // The payout of the charge, the refund and somebody else's charge.
    let net = (12_990 - 407) - 4_000 + (500 - 45);
    stripe.add_balance_transaction(txn("txn_po_1", "payout", -net, 0));
    let payout = json!({"id": "po_1", "object": "payout", "amount": net, "currency": "usd",
        "status": "paid", "automatic": true, "balance_transaction": "txn_po_1",
        "failure_balance_transaction": null, "created": T0});
    stripe.add_payout(
        payout.clone(),
        &["txn_301", "txn_re_301", "txn_other", "txn_po_1"],
    );
    bridge.stripe_says("payout.paid", &payout).await;
    // A payout whose transactions do not add up is parked for a person, not posted.
    let short = json!({"id": "po_2", "object": "payout", "amount": 999, "currency": "usd",
        "status": "paid", "automatic": true, "balance_transaction": "txn_po_2",
        "failure_balance_transaction": null, "created": T0});
    stripe.add_balance_transaction(txn("txn_po_2", "payout", -999, 0));
    stripe.add_payout(short.clone(), &["txn_po_2"]);
    bridge.stripe_says("payout.paid", &short).await;
    bridge.drain().await;

    let entries = bridge.ledger(FROM, TO).await;
    assert_eq!(
        ids(&entries),
        [
            "le_payment_txn_301",
            "le_payment_txn_other",
            "le_payout_txn_po_1",
            "le_refund_txn_re_301"
        ]
    );
    let clearing: rust_decimal::Decimal = entries
        .iter()
        .flat_map(|e| e["lines"].as_array().unwrap().clone())
        .filter(|line| line["account"] == "Assets:Stripe:Clearing")
        .map(|line| {
            let amount = |field: &str| {
                line[field]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            };
            amount("debit") - amount("credit")
        })
        .sum();
    assert_eq!(
        clearing,
        rust_decimal::Decimal::ZERO,
        "the payout empties clearing"
    );
    let dead = bridge.dead_of_kind("payout_unbalanced").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["failure_payout"], "po_2");
}

both_backends!(
    charges_refunds_and_a_payout_post_one_entry_each_and_clearing_nets_to_zero,
    &[]
);

async fn a_dispute_is_counted_once_posts_its_withdrawal_and_fee_and_a_win_gives_both_back(
    bridge: &dyn Bridge,
) {
    bridge
        .kentico_says("ecommerce.order.created", &order(302, "USD", "100.00", T0))
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));
    let stripe = bridge.stripe();
    let opened = json!({"id": "dp_302", "object": "dispute", "amount": 10_000, "currency": "usd",
        "charge": "ch_302", "payment_intent": intent, "status": "needs_response",
        "balance_transactions": [], "created": T0});
    stripe.add_dispute(opened.clone());
    bridge.stripe_says("charge.dispute.created", &opened).await;
    bridge.drain().await;
    let mut withdrawn = opened.clone();
    withdrawn["balance_transactions"] = json!([txn("txn_dp_302", "dispute", -10_000, 1_500)]);
    stripe.add_dispute(withdrawn.clone());
    for _ in 0..2 {
        bridge
            .stripe_says("charge.dispute.funds_withdrawn", &withdrawn)
            .await;
    }
    bridge.drain().await;
    assert_eq!(
        ids(&bridge.ledger(FROM, TO).await),
        ["le_dispute_txn_dp_302"]
    );

    let mut won = withdrawn.clone();
    won["status"] = "won".into();
    won["balance_transactions"] = json!([
        txn("txn_dp_302", "dispute", -10_000, 1_500),
        txn("txn_dr_302", "dispute_reversal", 10_000, -1_500)
    ]);
    stripe.add_dispute(won.clone());
    bridge.stripe_says("charge.dispute.closed", &won).await;
    bridge
        .stripe_says("charge.dispute.funds_reinstated", &won)
        .await;
    bridge.drain().await;

    let entries = bridge.ledger(FROM, TO).await;
    assert_eq!(
        ids(&entries),
        ["le_dispute_reversal_txn_dr_302", "le_dispute_txn_dp_302"]
    );
    let on = |account: &str| -> rust_decimal::Decimal {
        (entries.iter())
            .flat_map(|e| e["lines"].as_array().unwrap().clone())
            .filter(|line| line["account"] == account)
            .map(|line| {
                let amount = |f: &str| {
                    line[f]
                        .as_str()
                        .unwrap()
                        .parse::<rust_decimal::Decimal>()
                        .unwrap()
                };
                amount("debit") - amount("credit")
            })
            .sum()
    };
    assert_eq!(
        on("Expenses:Stripe:Disputes"),
        rust_decimal::Decimal::ZERO,
        "won back"
    );
    assert_eq!(
        on("Expenses:Stripe:Fees"),
        rust_decimal::Decimal::ZERO,
        "fee returned"
    );
    assert_eq!(
        bridge.metric("Disputes").await,
        1,
        "one dispute, counted once"
    );
}

both_backends!(
    a_dispute_is_counted_once_posts_its_withdrawal_and_fee_and_a_win_gives_both_back,
    &[]
);

const ERP_SECRET: &str = "erp_shared_secret_for_ledger_entries";

async fn entries_reach_the_erp_signed_once_each_across_an_outage(
    bridge: &dyn Bridge,
    erp: &FakeErp,
) {
    bridge
        .kentico_says("ecommerce.order.created", &order(303, "USD", "50.00", T0))
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));
    let stripe = bridge.stripe();
    stripe.add_balance_transaction(txn("txn_303", "charge", 5_000, 175));
    stripe.add_charge(charge("ch_303", &intent, "txn_303", 5_000));
    erp.go_down_for(2);

    for _ in 0..3 {
        bridge
            .stripe_says(
                "charge.succeeded",
                &charge("ch_303", &intent, "txn_303", 5_000),
            )
            .await;
    }
    bridge.drain().await;

    let accepted = erp.accepted();
    assert_eq!(accepted.len(), 1, "delivered once: {accepted:?}");
    assert_eq!(accepted[0].0, "paybridge-ledger_http-le_payment_txn_303");
    assert_eq!(accepted[0].1["id"], "le_payment_txn_303");
    assert_eq!(accepted[0].1["lines"][0]["debit"], "50.00");
    assert_eq!(erp.forged(), 0);
    assert_eq!(
        erp.still_down_for(),
        0,
        "both refused deliveries were made and retried"
    );
    assert!(
        bridge.dead_letters().await.is_empty(),
        "the outage was ridden out by retries"
    );
}

mod entries_reach_the_erp_signed_once_each_across_an_outage {
    use integration_tests::fakes::erp::FakeErp;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_moto() {
        let erp = FakeErp::start(ERP_SECRET).await;
        let env = [
            ("LEDGER_WEBHOOK_URL", erp.url.as_str()),
            ("LEDGER_WEBHOOK_SECRET", ERP_SECRET),
        ];
        let bridge = crate::money::Moto::start(&env).await;
        super::entries_reach_the_erp_signed_once_each_across_an_outage(&bridge, &erp).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_serve() {
        let erp = FakeErp::start(ERP_SECRET).await;
        let env = [
            ("LEDGER_WEBHOOK_URL", erp.url.as_str()),
            ("LEDGER_WEBHOOK_SECRET", ERP_SECRET),
        ];
        let bridge = crate::money::Serve::start(&env).await;
        super::entries_reach_the_erp_signed_once_each_across_an_outage(&bridge, &erp).await;
    }
}

pub(super) const PARTIALLY_REFUNDED: i64 = 10;
const REFUNDED: i64 = 11;
const DISPUTED: i64 = 12;

/// The fake Kentico's statuses, with the after-payment ones a shop adds for paybridge.
pub(super) fn with_after_payment_statuses(bridge: &dyn Bridge) {
    bridge.kentico().set_statuses(vec![
        (4, "Payment pending"),
        (5, "Payment authorized"),
        (6, "Paid"),
        (7, "Payment Failed"),
        (8, "Canceled"),
        (PARTIALLY_REFUNDED, "Partially refunded"),
        (REFUNDED, "Refunded"),
        (DISPUTED, "Disputed"),
    ]);
}

pub(super) fn refund(
    id: &str,
    intent: &str,
    charge: &str,
    amount: i64,
    txn: &str,
    status: &str,
) -> Value {
    json!({"id": id, "object": "refund", "amount": amount, "currency": "usd", "charge": charge,
        "payment_intent": intent, "status": status, "balance_transaction": txn,
        "failure_balance_transaction": null, "metadata": {}, "created": T0})
}

async fn refunds_and_a_dispute_show_on_the_order_as_stripe_says_now_and_a_late_payment_event_never_unrefunds(
    bridge: &dyn Bridge,
) {
    with_after_payment_statuses(bridge);
    bridge
        .kentico_says("ecommerce.order.created", &order(304, "USD", "100.00", T0))
        .await;
    bridge.drain().await;
    let intent = id(&last_intent(bridge));
    let stripe = bridge.stripe();
    stripe.set_payment_intent(
        &intent,
        json!({"status": "succeeded", "latest_charge": "ch_304"}),
    );
    let paid_intent = stripe.payment_intent(&intent).unwrap();
    bridge
        .stripe_says("payment_intent.succeeded", &paid_intent)
        .await;
    bridge.drain().await;
    assert_eq!(
        super::kentico_order(bridge, 304)["OrderStatusID"],
        super::PAID
    );
    let mut charge = charge("ch_304", &intent, "txn_304", 10_000);

    // A partial refund.
    charge["amount_refunded"] = 4_000.into();
    stripe.add_charge(charge.clone());
    stripe.add_balance_transaction(txn("txn_re_a", "refund", -4_000, 0));
    let first = refund("re_a", &intent, "ch_304", 4_000, "txn_re_a", "succeeded");
    stripe.put_refund(first.clone());
    bridge.stripe_says("refund.updated", &first).await;
    bridge.drain().await;
    assert_eq!(
        super::kentico_order(bridge, 304)["OrderStatusID"],
        PARTIALLY_REFUNDED
    );

    // The rest: fully refunded; a replayed success of the payment changes nothing.
    charge["amount_refunded"] = 10_000.into();
    charge["refunded"] = true.into();
    stripe.add_charge(charge.clone());
    stripe.add_balance_transaction(txn("txn_re_b", "refund", -6_000, 0));
    let second = refund("re_b", &intent, "ch_304", 6_000, "txn_re_b", "succeeded");
    stripe.put_refund(second.clone());
    bridge.stripe_says("refund.created", &second).await;
    bridge.drain().await;
    bridge
        .stripe_says("payment_intent.succeeded", &paid_intent)
        .await;
    bridge.stripe_says("refund.updated", &first).await;
    bridge.drain().await;
    assert_eq!(super::kentico_order(bridge, 304)["OrderStatusID"], REFUNDED);

    // The second refund fails: its money comes back, the order shows partially refunded again.
    charge["amount_refunded"] = 4_000.into();
    charge["refunded"] = false.into();
    stripe.add_charge(charge.clone());
    stripe.add_balance_transaction(txn("txn_rf_b", "refund_failure", 6_000, 0));
    let mut failed = refund("re_b", &intent, "ch_304", 6_000, "txn_re_b", "failed");
    failed["failure_balance_transaction"] = "txn_rf_b".into();
    stripe.put_refund(failed.clone());
    bridge.stripe_says("refund.failed", &failed).await;
    bridge.drain().await;
    assert_eq!(
        super::kentico_order(bridge, 304)["OrderStatusID"],
        PARTIALLY_REFUNDED
    );
    let entries = bridge.ledger(FROM, TO).await;
    assert_eq!(
        ids(&entries),
        [
            "le_refund_failure_txn_rf_b",
            "le_refund_txn_re_a",
            "le_refund_txn_re_b"
        ]
    );

    // A dispute shows as disputed; won, the order is back to what the refunds make it.
    charge["disputed"] = true.into();
    stripe.add_charge(charge.clone());
    let opened = json!({"id": "dp_304", "object": "dispute", "amount": 6_000, "currency": "usd",
        "charge": "ch_304", "payment_intent": intent, "status": "needs_response",
        "balance_transactions": [], "created": T0});
    stripe.add_dispute(opened.clone());
    bridge.stripe_says("charge.dispute.created", &opened).await;
    bridge.drain().await;
    assert_eq!(super::kentico_order(bridge, 304)["OrderStatusID"], DISPUTED);
    let mut won = opened.clone();
    won["status"] = "won".into();
    stripe.add_dispute(won.clone());
    bridge.stripe_says("charge.dispute.closed", &won).await;
    bridge.drain().await;
    assert_eq!(
        super::kentico_order(bridge, 304)["OrderStatusID"],
        PARTIALLY_REFUNDED
    );
    assert!(
        bridge.dead_letters().await.is_empty(),
        "{:?}",
        bridge.dead_letters().await
    );
}

both_backends!(
    refunds_and_a_dispute_show_on_the_order_as_stripe_says_now_and_a_late_payment_event_never_unrefunds,
    &[]
);
