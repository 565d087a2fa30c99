//! The behaviour every [`LedgerStore`] adapter must have, as one suite run against each of them
//! (in memory, SQLite, DynamoDB on moto). Panics on the first broken promise.

use rust_decimal::Decimal;

use super::{EntryKind, LedgerEntry, LedgerLine, LedgerStore, Posted, References};

fn entry(id: &str, occurred_at: &str, amount: Decimal) -> LedgerEntry {
    let line = |account: &str, debit, credit| LedgerLine {
        account: account.into(),
        debit,
        credit,
        memo: "contract — 東京".into(),
    };
    LedgerEntry {
        id: id.into(),
        kind: EntryKind::Payment,
        occurred_at: occurred_at.into(),
        currency: "USD".into(),
        lines: vec![
            line("Assets:Stripe:Clearing", amount, Decimal::ZERO),
            line("Income:Sales", Decimal::ZERO, amount),
        ],
        presentment: None,
        references: References {
            stripe_balance_transaction: format!("txn_{id}"),
            kentico_order_id: Some("1042".into()),
            ..References::default()
        },
    }
}

/// Runs every check against `store` (which must hold no entry in 2030-01).
pub async fn run_all(store: &dyn LedgerStore) {
    let first = entry(
        "le_contract_a",
        "2030-01-10T23:59:59.999Z",
        Decimal::new(10_000, 2),
    );
    let later_same_day = entry(
        "le_contract_b",
        "2030-01-10T00:00:00.000Z",
        Decimal::new(5, 2),
    );
    let next_day = entry(
        "le_contract_c",
        "2030-01-11T00:00:00.000Z",
        Decimal::new(1_500, 0),
    );
    let outside = entry(
        "le_contract_d",
        "2030-01-12T00:00:00.000Z",
        Decimal::new(12_340, 3),
    );

    for posted in [&first, &later_same_day, &next_day, &outside] {
        assert_eq!(
            store.post(posted).await.unwrap(),
            Posted::New,
            "{}",
            posted.id
        );
    }
    let changed = entry(
        "le_contract_a",
        "2030-01-10T23:59:59.999Z",
        Decimal::new(99_999, 2),
    );
    assert_eq!(
        store.post(&changed).await.unwrap(),
        Posted::AlreadyPosted,
        "an id is posted once"
    );

    let found = store.between("2030-01-10", "2030-01-12").await.unwrap();
    assert_eq!(
        found,
        vec![later_same_day.clone(), first.clone(), next_day.clone()],
        "the days' entries, whole and as first posted, oldest first; the end day excluded"
    );
    assert!(
        store
            .between("2030-01-13", "2030-01-20")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .between("2030-01-11", "2030-01-11")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        matches!(
            store.between("January", "2030-01-12").await,
            Err(crate::store::StoreError::Malformed(_))
        ),
        "a day that is not YYYY-MM-DD is refused"
    );
}
