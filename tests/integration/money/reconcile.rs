//! The reconciliation sweep over seeded fakes: one case of every discrepancy kind beside clean
//! orders. Every one is found and none invented; `--heal` replays what a missed webhook explains
//! through the payment worker, so the next run reports only what needs a person.

use serde_json::{Value, json};

use super::ledger::{PARTIALLY_REFUNDED, charge, refund, txn, with_after_payment_statuses};
use super::{Bridge, PAID, T0, both_backends, id, kentico_order, last_intent, order};

/// Before everything the scenario makes (T0 is 2026-11-29).
const SINCE: &str = "2026-11-28T00:00:00Z";

/// Creates order `order_id` (100.00 USD) and its PaymentIntent; returns the PaymentIntent id.
pub(super) async fn ordered(bridge: &dyn Bridge, order_id: i64) -> String {
    ordered_as(bridge, &order(order_id, "USD", "100.00", T0)).await
}

/// Kentico reports `placed`; returns the PaymentIntent paybridge made for it.
async fn ordered_as(bridge: &dyn Bridge, placed: &Value) -> String {
    bridge.kentico_says("ecommerce.order.created", placed).await;
    bridge.drain().await;
    id(&last_intent(bridge))
}

/// The PaymentIntent succeeds at Stripe with its charge and balance transaction; the webhooks
/// arrive only when `delivered`.
async fn paid(bridge: &dyn Bridge, order_id: i64, intent: &str, delivered: bool) -> Value {
    let stripe = bridge.stripe();
    let (ch, tx) = (format!("ch_{order_id}"), format!("txn_{order_id}"));
    stripe.add_balance_transaction(txn(&tx, "charge", 10_000, 320));
    let charge = charge(&ch, intent, &tx, 10_000);
    stripe.add_charge(charge.clone());
    stripe.set_payment_intent(intent, json!({"status": "succeeded", "latest_charge": ch}));
    if delivered {
        let paid_intent = stripe.payment_intent(intent).unwrap();
        bridge
            .stripe_says("payment_intent.succeeded", &paid_intent)
            .await;
        bridge.stripe_says("charge.succeeded", &charge).await;
        bridge.drain().await;
    }
    charge
}

/// (order, kind, healing events) of each finding.
fn found(report: &Value) -> Vec<(Option<i64>, String, usize)> {
    (report["findings"].as_array().unwrap().iter())
        .map(|f| {
            let d = &f["discrepancy"];
            let healing = f["healing"].as_array().unwrap().len();
            (
                d["order_id"].as_i64(),
                d["kind"].as_str().unwrap().to_string(),
                healing,
            )
        })
        .collect()
}

async fn the_sweep_finds_every_kind_once_and_heals_what_a_missed_webhook_explains(
    bridge: &dyn Bridge,
) {
    with_after_payment_statuses(bridge);
    // 401: clean, paid with every webhook.
    let pi_401 = ordered(bridge, 401).await;
    paid(bridge, 401, &pi_401, true).await;
    // 402: paid at Stripe, both webhooks lost.
    let pi_402 = ordered(bridge, 402).await;
    paid(bridge, 402, &pi_402, false).await;
    // 403: paid, then somebody changed the total in Kentico.
    let pi_403 = ordered(bridge, 403).await;
    paid(bridge, 403, &pi_403, true).await;
    let mut edited = kentico_order(bridge, 403);
    edited["OrderGrandTotal"] = "120.00".into();
    bridge.kentico().add_order(edited);
    // 404: paid, then partly refunded at Stripe; the refund's webhooks lost.
    let pi_404 = ordered(bridge, 404).await;
    let mut charge_404 = paid(bridge, 404, &pi_404, true).await;
    charge_404["amount_refunded"] = 2_500.into();
    bridge.stripe().add_charge(charge_404);
    (bridge.stripe()).add_balance_transaction(txn("txn_re_404", "refund", -2_500, 0));
    (bridge.stripe()).put_refund(refund(
        "re_404",
        &pi_404,
        "ch_404",
        2_500,
        "txn_re_404",
        "succeeded",
    ));
    // 405: never paid at Stripe, marked paid by hand in Kentico.
    ordered(bridge, 405).await;
    let mut by_hand = kentico_order(bridge, 405);
    by_hand["OrderIsPaid"] = true.into();
    bridge.kentico().add_order(by_hand);
    // 406: a currency change replaced its PaymentIntent; the new one paid (webhook seen), and the
    // replaced one had succeeded too at Stripe (its webhook lost): paid twice.
    let placed = order(406, "USD", "100.00", T0);
    let first = ordered_as(bridge, &placed).await;
    let in_eur = super::changed(&placed, T0 + 60, json!({"OrderCurrencyCode": "EUR"}));
    bridge
        .kentico_says("ecommerce.order.updated", &in_eur)
        .await;
    bridge.drain().await;
    let second = id(&last_intent(bridge));
    assert_ne!(
        first, second,
        "the currency change made a new PaymentIntent"
    );
    paid(bridge, 406, &second, true).await;
    (bridge.stripe()).add_charge(charge("ch_406_first", &first, "txn_401", 10_000));
    bridge.stripe().set_payment_intent(
        &first,
        json!({"status": "succeeded", "latest_charge": "ch_406_first"}),
    );
    // A payout whose transactions do not add up to it.
    bridge
        .stripe()
        .add_balance_transaction(txn("txn_po_9", "payout", -5_000, 0));
    bridge.stripe().add_payout(
        json!({"id": "po_9", "object": "payout", "amount": 5_000, "currency": "usd",
            "status": "paid", "automatic": true, "balance_transaction": "txn_po_9",
            "failure_balance_transaction": null, "created": T0 - 5 * 86_400,
            "arrival_date": T0}),
        &["txn_401", "txn_po_9"],
    );
    // Somebody else's payment on the account: not ours, never a discrepancy.
    bridge
        .stripe()
        .add_charge(charge("ch_other", "pi_3SomebodyElses", "txn_401", 700));

    let first = bridge.reconcile(SINCE, true).await;

    assert_eq!(
        found(&first),
        vec![
            (Some(402), "ledger_entry_missing".to_string(), 1),
            (Some(402), "paid_not_marked".to_string(), 1),
            (Some(403), "amount_mismatch".to_string(), 0),
            (Some(404), "refund_or_dispute_not_reflected".to_string(), 1),
            (Some(405), "marked_paid_without_payment".to_string(), 0),
            (Some(406), "double_payment".to_string(), 0),
            (None, "payout_unbalanced".to_string(), 0),
        ],
        "{first:#}"
    );
    assert_eq!(
        first["checked"]["payments"], 5,
        "401–404 and 406 are ours and paid"
    );
    bridge.drain().await;

    // The healing went through the payment worker: paid, posted, refunded — once each.
    assert_eq!(kentico_order(bridge, 402)["OrderStatusID"], PAID);
    assert_eq!(kentico_order(bridge, 402)["OrderIsPaid"], true);
    assert_eq!(
        kentico_order(bridge, 404)["OrderStatusID"],
        PARTIALLY_REFUNDED
    );
    let entries = bridge.ledger("2026-11-28", "2026-12-01").await;
    let ids: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    for wanted in ["le_payment_txn_402", "le_refund_txn_re_404"] {
        assert_eq!(ids.iter().filter(|i| **i == wanted).count(), 1, "{ids:?}");
    }
    let dead = bridge.dead_letters().await;
    assert!(dead.is_empty(), "nothing dead-lettered: {dead:?}");

    // The next run: nothing healable is left; what needs a person is still reported.
    let second = bridge.reconcile(SINCE, true).await;
    assert_eq!(
        found(&second),
        vec![
            (Some(403), "amount_mismatch".to_string(), 0),
            (Some(405), "marked_paid_without_payment".to_string(), 0),
            (Some(406), "double_payment".to_string(), 0),
            (None, "payout_unbalanced".to_string(), 0),
        ],
        "{second:#}"
    );
    bridge.drain().await;
    let after: Vec<Value> = bridge.ledger("2026-11-28", "2026-12-01").await;
    assert_eq!(
        after.len(),
        entries.len(),
        "healing twice posts nothing twice"
    );
}

both_backends!(
    the_sweep_finds_every_kind_once_and_heals_what_a_missed_webhook_explains,
    &[]
);

/// The scheduled invocation (events/reconciler-schedule.json, what template.yaml's schedule
/// sends) sweeps the default window and heals: a payment whose webhooks were lost is marked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_event_sweeps_the_default_window_and_heals() {
    let moto = super::Moto::start(&[]).await;
    let bridge: &dyn Bridge = &moto;
    let intent = ordered(bridge, 501).await;
    let mut charge = paid(bridge, 501, &intent, false).await;
    // Charged an hour ago, so inside the default window whatever the day the test runs.
    charge["created"] = json!(time::OffsetDateTime::now_utc().unix_timestamp() - 3_600);
    bridge.stripe().add_charge(charge);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let event: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("events/reconciler-schedule.json")).unwrap(),
    )
    .unwrap();
    let template = std::fs::read_to_string(root.join("template.yaml")).unwrap();
    assert!(
        template.contains(&format!(
            "Input: '{}'",
            serde_json::to_string(&event).unwrap().replace(':', ": ")
        )),
        "the schedule sends the sample event"
    );

    let summary = super::bridge::invoke_reconciler(&moto.0, &event).await;

    assert_eq!(summary["discrepancies"], 2, "{summary}");
    assert_eq!(summary["counts"]["paid_not_marked"], 1);
    assert_eq!(summary["counts"]["ledger_entry_missing"], 1);
    assert_eq!(summary["healing_events"], 2);
    bridge.drain().await;
    assert_eq!(kentico_order(bridge, 501)["OrderIsPaid"], true);
}
