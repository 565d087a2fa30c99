//! `paybridge ledger export` over the embedded store: the entries of every kind of movement,
//! as JSON lines, CSV and a Beancount file that Beancount itself (`bean-check`) accepts with the
//! clearing account at zero after the payout.

use std::collections::BTreeSet;
use std::process::Command;

use paybridge::app::Backend;
use paybridge::connectors::stripe::BalanceTransaction;
use paybridge::ledger::{Accounts, EntryKind, LedgerEntry, References, entry_for};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::serve_process::paybridge_binary;

fn txn(id: &str, category: &str, currency: &str, amount: i64, fee: i64) -> BalanceTransaction {
    serde_json::from_value(json!({
        "id": id, "object": "balance_transaction", "amount": amount, "fee": fee,
        "net": amount - fee, "currency": currency, "created": 1_764_417_600,
        "available_on": 1_764_590_400, "status": "available", "reporting_category": category,
        "type": category, "source": format!("src_{id}"), "exchange_rate": null,
        "fee_details": if fee == 0 { json!([]) } else {
            json!([{"amount": fee, "currency": currency, "description": "Stripe processing fees", "type": "stripe_fee"}])
        },
    }))
    .unwrap()
}

/// A USD sale, a partial then a full refund, a failed refund, a lost and a won dispute, and the
/// payout of all of it; a JPY sale; a EUR sale settled in USD (paid out later).
fn entries() -> Vec<LedgerEntry> {
    let usd = [
        (
            txn("txn_sale", "charge", "usd", 10_000, 320),
            EntryKind::Payment,
        ),
        (
            txn("txn_sale2", "charge", "usd", 5_000, 175),
            EntryKind::Payment,
        ),
        (
            txn("txn_re1", "refund", "usd", -2_000, 0),
            EntryKind::Refund,
        ),
        (
            txn("txn_re2", "refund", "usd", -3_000, -175),
            EntryKind::Refund,
        ),
        (
            txn("txn_rf", "refund_failure", "usd", 2_000, 0),
            EntryKind::RefundFailure,
        ),
        (
            txn("txn_dp", "dispute", "usd", -10_000, 1_500),
            EntryKind::Dispute,
        ),
        (
            txn("txn_dr", "dispute_reversal", "usd", 10_000, -1_500),
            EntryKind::DisputeReversal,
        ),
    ];
    let net: i64 = usd.iter().map(|(t, _)| t.net).sum();
    let mut movements: Vec<(BalanceTransaction, EntryKind)> = usd.into();
    movements.push((txn("txn_po", "payout", "usd", -net, 0), EntryKind::Payout));
    movements.push((
        txn("txn_jpy", "charge", "jpy", 1_500, 54),
        EntryKind::Payment,
    ));
    let mut fx = txn("txn_fx", "charge", "usd", 10_800, 343);
    fx.exchange_rate = Some(Decimal::new(108, 2));
    let mut entries: Vec<LedgerEntry> = movements
        .iter()
        .map(|(t, kind)| {
            let references = References {
                kentico_order_id: Some("1042".into()),
                ..References::default()
            };
            entry_for(t, *kind, &Accounts::default(), references, None).unwrap()
        })
        .collect();
    entries.push(
        entry_for(
            &fx,
            EntryKind::Payment,
            &Accounts::default(),
            References::default(),
            Some((10_000, "eur")),
        )
        .unwrap(),
    );
    entries
}

fn export(data_dir: &std::path::Path, format: &str) -> String {
    let output = Command::new(paybridge_binary())
        .args([
            "ledger",
            "export",
            "--backend",
            "embedded",
            "--from",
            "2025-11-01",
            "--to",
            "2025-12-01",
            "--format",
            format,
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("LEDGER_ACCOUNTS")
        .output()
        .expect("paybridge runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn every_kind_of_entry_exports_alike_as_json_csv_and_a_beancount_file_bean_check_accepts() {
    let dir = std::env::temp_dir().join(integration_tests::unique_name("ledger-export"));
    let ledger = Backend::embedded(&dir, 25).unwrap().ledger();
    for entry in entries() {
        assert!(entry.is_balanced(), "{entry:#?}");
        ledger.post(&entry).await.unwrap();
        ledger.post(&entry).await.unwrap();
    }

    let json = export(&dir, "json");
    let csv = export(&dir, "csv");
    let beancount = export(&dir, "beancount");

    let from_json: BTreeSet<String> = json
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let from_csv: BTreeSet<String> = csv
        .lines()
        .skip(1)
        .map(|row| row.split(',').next().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = entries().into_iter().map(|e| e.id).collect();
    assert_eq!(from_json, expected, "each entry once");
    assert_eq!(from_csv, expected);

    let file = dir.join("ledger.beancount");
    // After the payout, the USD clearing account is at zero; the JPY and the EUR→USD sales are
    // still there, not paid out yet.
    let usd_unpaid = Decimal::new(10_800 - 343, 2);
    let balances = format!(
        "{beancount}\n2025-11-30 balance Assets:Stripe:Clearing  {usd_unpaid} USD\n\
         2025-11-30 balance Assets:Stripe:Clearing  1446 JPY\n"
    );
    std::fs::write(&file, balances).unwrap();
    let checked = Command::new("bean-check")
        .arg(&file)
        .output()
        .expect("bean-check runs (pip install beancount: .ci/run installs it)");
    assert!(
        checked.status.success(),
        "bean-check refused the export:\n{}\n{}",
        String::from_utf8_lossy(&checked.stderr),
        std::fs::read_to_string(&file).unwrap()
    );
}
