//! The behaviour every [`ReportStore`] adapter must have (in memory, SQLite, DynamoDB on moto).

use super::{Checked, Finding, Report, ReportStore};
use crate::reconcile::Discrepancy;

fn report(run_id: &str, started_at: &str, findings: usize) -> Report {
    Report {
        run_id: run_id.into(),
        started_at: started_at.into(),
        finished_at: started_at.into(),
        since: "2026-11-28T00:00:00Z".into(),
        heal: true,
        checked: Checked {
            payments: 3,
            orders: 3,
            ledger_entries: 2,
            payouts: 1,
        },
        findings: (0..findings)
            .map(|i| Finding {
                discrepancy: Discrepancy::PaidNotMarked {
                    order_id: 1000 + i as i64,
                    payment_intent: format!("pi_{i}"),
                    order_canceled: false,
                },
                healing: vec![format!("evt_rc_{i}")],
            })
            .collect(),
        omitted: Default::default(),
    }
}

/// Runs every check against `store`, which must be empty.
pub async fn run_all(store: &dyn ReportStore) {
    assert_eq!(
        store.last().await.unwrap(),
        None,
        "no report before any run"
    );

    let first = report("rc_1", "2026-11-30T10:00:00.000Z", 2);
    store.save(&first).await.unwrap();
    assert_eq!(store.last().await.unwrap(), Some(first.clone()));

    let second = report("rc_2", "2026-11-30T11:00:00.000Z", 0);
    store.save(&second).await.unwrap();
    assert_eq!(
        store.last().await.unwrap(),
        Some(second.clone()),
        "the newest run wins"
    );

    let retried = Report {
        finished_at: "2026-11-30T11:05:00.000Z".into(),
        ..report("rc_2", "2026-11-30T11:00:00.000Z", 1)
    };
    store.save(&retried).await.unwrap();
    assert_eq!(
        store.last().await.unwrap(),
        Some(retried),
        "saving a run again replaces it"
    );
}
