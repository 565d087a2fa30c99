//! The sweep's reports: one per run, the last one read back by `paybridge reconcile --report
//! last`. A port with DynamoDB (the state table), SQLite and in-memory adapters.

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;
pub mod dynamodb;
pub mod in_memory;
#[cfg(feature = "embedded")]
pub mod sqlite;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Discrepancy, KINDS};
use crate::store::StoreError;

pub use dynamodb::DynamoDbReportStore;
pub use in_memory::InMemoryReportStore;
#[cfg(feature = "embedded")]
pub use sqlite::SqliteReportStore;

/// What one run of the sweep found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `rc_<started, compact UTC>`.
    pub run_id: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
    /// The window's start, RFC 3339 UTC.
    pub since: String,
    /// Whether the run healed what it could.
    pub heal: bool,
    /// How much it looked at.
    pub checked: Checked,
    /// Every discrepancy, with the synthetic events enqueued to heal it (the first
    /// [`MAX_FINDINGS`]; the counts and metrics include the rest).
    pub findings: Vec<Finding>,
    /// Discrepancies beyond [`MAX_FINDINGS`], by kind, left out of `findings`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub omitted: BTreeMap<String, usize>,
}

/// Findings kept in a report: a DynamoDB item holds at most 400 KB.
pub const MAX_FINDINGS: usize = 1000;

/// The number of objects a run compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    /// Payments of ours at Stripe.
    pub payments: usize,
    /// Kentico orders linked to paybridge.
    pub orders: usize,
    /// Ledger entries read.
    pub ledger_entries: usize,
    /// Payouts.
    pub payouts: usize,
}

/// One discrepancy and what the run did about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What is wrong.
    pub discrepancy: Discrepancy,
    /// The synthetic events enqueued to heal it (empty when reported only).
    pub healing: Vec<String>,
}

impl Report {
    /// How many of each kind (every kind listed, zeros included).
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> = KINDS.iter().map(|k| (*k, 0)).collect();
        for finding in &self.findings {
            *counts.entry(finding.discrepancy.kind()).or_default() += 1;
        }
        for kind in KINDS {
            *counts.entry(kind).or_default() += self.omitted.get(kind).copied().unwrap_or(0);
        }
        counts
    }

    /// A readable table: one line per discrepancy, then the totals.
    pub fn table(&self) -> String {
        let mut out = format!(
            "reconciliation {} — since {} — {} payments, {} orders, {} ledger entries, {} payouts checked\n",
            self.run_id,
            self.since,
            self.checked.payments,
            self.checked.orders,
            self.checked.ledger_entries,
            self.checked.payouts
        );
        if self.findings.is_empty() {
            out.push_str("no discrepancies\n");
            return out;
        }
        out.push_str(&format!(
            "{:<8} {:<33} {:<9} {}\n",
            "ORDER", "KIND", "ACTION", "DETAIL"
        ));
        for finding in &self.findings {
            let d = &finding.discrepancy;
            let action = match (finding.healing.is_empty(), d.healable()) {
                (false, _) => "healing",
                (true, true) => "healable",
                (true, false) => "report",
            };
            let order = d.order_id().map_or("-".to_string(), |id| id.to_string());
            out.push_str(&format!(
                "{order:<8} {:<33} {action:<9} {}\n",
                d.kind(),
                d.describe()
            ));
        }
        let totals: Vec<String> = (self.counts().into_iter())
            .filter(|(_, n)| *n > 0)
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        let omitted: usize = self.omitted.values().sum();
        if omitted > 0 {
            out.push_str(&format!("… and {omitted} more (not stored)\n"));
        }
        out.push_str(&format!(
            "{} discrepancies: {}\n",
            self.findings.len() + omitted,
            totals.join(", ")
        ));
        out
    }

    /// How many discrepancies the run found, those left out of `findings` included.
    pub fn total(&self) -> usize {
        self.findings.len() + self.omitted.values().sum::<usize>()
    }
}

/// Keeps the reports.
#[async_trait::async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores `report` (a second save of the same run replaces the first).
    async fn save(&self, report: &Report) -> Result<(), StoreError>;
    /// The newest report, if any run stored one.
    async fn last(&self) -> Result<Option<Report>, StoreError>;
}

fn encode(report: &Report) -> Result<String, StoreError> {
    serde_json::to_string(report).map_err(|e| StoreError::Malformed(e.to_string()))
}

fn decode(json: &str) -> Result<Report, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Malformed(format!("a stored report: {e}")))
}
