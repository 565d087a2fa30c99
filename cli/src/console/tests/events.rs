//! Events: an order's Stripe objects, ledger entries and reconciliation findings; the last
//! reconciliation report.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use paybridge::journal::JournalEntry;
use paybridge::ledger::LedgerEntry;
use paybridge::links::{Attempt, OrderLink, OrderTerms, OrderVersion};
use paybridge::reconcile::Discrepancy;
use paybridge::reconcile::reports::{Checked, Finding, Report};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::*;
use crate::trace::ledger_days;

const RUN: &str = "rc_20261202T120000Z";

fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap()
}

fn ledger_entry(id: &str, kind: &str, account: &str, references: serde_json::Value) -> LedgerEntry {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "kind": kind,
        "occurred_at": now(),
        "currency": "EUR",
        "lines": [
            {"account": "Assets:Stripe:Clearing", "debit": "12.50", "credit": "0", "memo": "m"},
            {"account": account, "debit": "0", "credit": "12.50", "memo": "m"}
        ],
        "references": references,
    }))
    .unwrap()
}

fn report(findings: Vec<Finding>) -> Report {
    Report {
        run_id: RUN.into(),
        started_at: "2026-12-02T12:00:00Z".into(),
        finished_at: "2026-12-02T12:00:05Z".into(),
        since: "2026-11-28T00:00:00Z".into(),
        heal: true,
        checked: Checked {
            payments: 3,
            orders: 4,
            ledger_entries: 5,
            payouts: 1,
        },
        findings,
        omitted: Default::default(),
    }
}

/// Order 7: a link (two PaymentIntents, `pi_7` current, and a Checkout Session), a delivery,
/// its payment and refund entries (the refund names only the PaymentIntent, its account is
/// hostile); order 8's payment entry; a report with a finding for each.
async fn seed(state: &ConsoleState) {
    let links = state.backend.links();
    let ids = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    links
        .save(&OrderLink {
            order_id: 7,
            payment_intents: ids(&["pi_7old", "pi_7"]),
            checkout_sessions: ids(&["cs_7"]),
            ..OrderLink::default()
        })
        .await
        .unwrap();
    let terms = OrderTerms {
        version: OrderVersion::new(OffsetDateTime::from_unix_timestamp(1_764_417_600).ok(), 1),
        amount: 1250,
        currency: "eur".into(),
    };
    assert!(
        links
            .activate(7, &terms, &Attempt::PaymentIntent("pi_7".into()))
            .await
            .unwrap()
    );
    let delivery = JournalEntry {
        at: now(),
        source: "stripe".into(),
        event_id: "evt_7".into(),
        event_type: "payment_intent.succeeded".into(),
        worker: "payment-worker".into(),
        outcome: "done".into(),
        detail: String::new(),
        receive_count: 1,
    };
    (state.backend.journal())
        .record("order:7", &delivery, "{}")
        .await
        .unwrap();
    let ledger = state.backend.ledger();
    for entry in [
        ledger_entry(
            "le_payment_txn_7",
            "payment",
            "Income:Sales",
            serde_json::json!({"kentico_order_id": "7", "stripe_payment_intent": "pi_7",
                "stripe_charge": "ch_7", "stripe_balance_transaction": "txn_7"}),
        ),
        ledger_entry(
            "le_refund_txn_7r",
            "refund",
            HOSTILE,
            serde_json::json!({"stripe_payment_intent": "pi_7", "stripe_charge": "ch_7",
                "stripe_refund": "re_7", "stripe_balance_transaction": "txn_7r"}),
        ),
        ledger_entry(
            "le_payment_txn_8",
            "payment",
            "Income:Sales",
            serde_json::json!({"kentico_order_id": "8", "stripe_payment_intent": "pi_8",
                "stripe_charge": "ch_8", "stripe_refund": "re_8",
                "stripe_balance_transaction": "txn_8"}),
        ),
    ] {
        ledger.post(&entry).await.unwrap();
    }
    let findings = vec![
        Finding {
            discrepancy: Discrepancy::AmountMismatch {
                order_id: 7,
                stripe: "1250 eur".into(),
                kentico: HOSTILE.into(),
            },
            healing: vec![],
        },
        Finding {
            discrepancy: Discrepancy::PaidNotMarked {
                order_id: 8,
                payment_intent: "pi_8".into(),
                order_canceled: false,
            },
            healing: vec!["evt_rc_8".into()],
        },
    ];
    state
        .backend
        .reports()
        .save(&report(findings))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_order_shows_its_stripe_objects_ledger_entries_and_findings_and_no_others() {
    let (app, state) = console(Gate::Open);
    seed(&state).await;

    let (status, page) = get(&app, "/console/orders/7").await;
    assert_eq!(status, StatusCode::OK);
    // Its entries, the refund found by its PaymentIntent; not order 8's.
    assert!(
        page.contains("le_payment_txn_7") && page.contains("le_refund_txn_7r"),
        "{page}"
    );
    assert!(
        page.contains("Ledger entries") && page.contains("12.50"),
        "{page}"
    );
    for other in ["le_payment_txn_8", "pi_8", "ch_8", "re_8", "evt_rc_8"] {
        assert!(!page.contains(other), "{other} in {page}");
    }
    // The Stripe objects, linked to the Dashboard; the current one marked.
    for href in [
        r#"href="https://dashboard.stripe.com/payments/pi_7""#,
        r#"href="https://dashboard.stripe.com/payments/pi_7old""#,
        r#"href="https://dashboard.stripe.com/payments/ch_7""#,
        r#"href="https://dashboard.stripe.com/refunds/re_7""#,
    ] {
        assert!(page.contains(href), "{href} in {page}");
    }
    assert!(page.contains(r#"rel="noopener noreferrer""#), "{page}");
    assert!(page.contains("<code>pi_7</code></a> (current)"), "{page}");
    assert!(
        !page.contains("<code>pi_7old</code></a> (current)"),
        "{page}"
    );
    assert!(page.contains("<code>cs_7</code>"), "{page}");
    assert!(!page.contains("dashboard.stripe.com/checkout"), "{page}");
    assert!(!page.contains("/cs_7"), "{page}");
    assert!(
        page.contains("the Dashboard has Stripe's current view"),
        "{page}"
    );
    // The last run's finding about it, escaped.
    assert!(
        page.contains(RUN) && page.contains("amount_mismatch (report)"),
        "{page}"
    );
    assert!(!page.contains("paid_not_marked"), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("&lt;script&gt;"), "{page}");

    // Order 8 has no link: its entry and finding, and none of order 7's.
    let (_, eight) = get(&app, "/console/orders/8").await;
    assert!(
        eight.contains("le_payment_txn_8")
            && eight.contains(r#"href="https://dashboard.stripe.com/refunds/re_8""#)
            && eight.contains("paid_not_marked (healing)"),
        "{eight}"
    );
    assert!(
        !eight.contains("le_payment_txn_7") && !eight.contains("amount_mismatch"),
        "{eight}"
    );
}

#[tokio::test]
async fn events_shows_the_last_reconciliation_report() {
    let (app, state) = console(Gate::Open);
    let (_, none) = get(&app, "/console/events").await;
    assert!(
        none.contains("No reconciliation run has stored a report yet."),
        "{none}"
    );
    seed(&state).await;

    for path in ["/console/events", "/console/reconciliation"] {
        let (status, page) = get(&app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            page.contains("Last reconciliation") && page.contains(RUN),
            "{page}"
        );
        assert!(
            page.contains(r#"href="/console/orders/7""#)
                && page.contains(r#"href="/console/orders/8""#),
            "{page}"
        );
        assert!(
            page.contains("amount_mismatch 1, paid_not_marked 1")
                && page.contains("3 payments, 4 orders, 5 ledger entries, 1 payouts"),
            "{page}"
        );
        assert!(
            page.contains("<td>healing</td>") && page.contains("<td>report</td>"),
            "{page}"
        );
        assert!(!page.contains("No reconciliation run"), "{page}");
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
    }
    // A search shows what it found, not the report.
    let (_, found) = get(&app, "/console/events?q=evt_7").await;
    assert!(found.contains("evt_7") && !found.contains(RUN), "{found}");
}

#[tokio::test]
async fn an_order_without_ledger_entries_or_findings_shows_no_such_sections() {
    let (app, state) = console(Gate::Open);
    seed(&state).await;
    let (status, page) = get(&app, "/console/orders/1042").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Nothing is known about order 1042"), "{page}");
    for absent in ["Ledger entries", "Reconciliation", "Stripe objects", RUN] {
        assert!(!page.contains(absent), "{absent} in {page}");
    }
}

#[test]
fn the_ledger_days_are_the_order_s_journal_days_either_side_and_the_last_week() {
    let date = |text: &str| {
        Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .unwrap()
    };
    let today = date("2026-12-02");
    let at = |at: &str| JournalEntry {
        at: at.into(),
        source: "stripe".into(),
        event_id: "evt".into(),
        event_type: "t".into(),
        worker: "w".into(),
        outcome: "done".into(),
        detail: String::new(),
        receive_count: 1,
    };
    let last_week = (date("2026-11-26"), date("2026-12-04"));
    assert_eq!(ledger_days(&[], today), vec![last_week], "no journal");
    assert_eq!(
        ledger_days(
            &[
                at("2026-11-10T08:00:00Z"),
                at("2026-11-11T23:59:59.000Z"),
                at("2026-11-25T10:00:00Z"),
                at("garbage"),
            ],
            today
        ),
        vec![
            (date("2026-11-09"), date("2026-11-13")),
            (date("2026-11-24"), date("2026-12-04")),
        ],
        "each delivery's day with its neighbours, merged with the last week"
    );
    let years: Vec<JournalEntry> = (0..100)
        .map(|n| at(&format!("{}-01-01T00:00:00Z", 1900 + n)))
        .collect();
    let ranges = ledger_days(&years, today);
    let days: i64 = (ranges.iter())
        .map(|(from, to)| (*to - *from).whole_days())
        .sum();
    assert_eq!(days, 60, "at most 60 days are read");
    assert_eq!(ranges.last(), Some(&last_week), "the latest kept");
}
