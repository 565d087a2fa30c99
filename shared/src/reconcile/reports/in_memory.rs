//! Reports in memory, for tests.

use std::sync::Mutex;

use super::{Report, ReportStore};
use crate::store::StoreError;

/// The in-memory adapter.
#[derive(Debug, Default)]
pub struct InMemoryReportStore {
    reports: Mutex<Vec<Report>>,
}

impl InMemoryReportStore {
    /// No reports.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl ReportStore for InMemoryReportStore {
    async fn save(&self, report: &Report) -> Result<(), StoreError> {
        let mut reports = self
            .reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        reports.retain(|r| r.run_id != report.run_id);
        reports.push(report.clone());
        Ok(())
    }

    async fn last(&self) -> Result<Option<Report>, StoreError> {
        let reports = self
            .reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(reports
            .iter()
            .max_by(|a, b| (&a.started_at, &a.run_id).cmp(&(&b.started_at, &b.run_id)))
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_report_store_contract() {
        super::super::contract::run_all(&InMemoryReportStore::new()).await;
    }
}
