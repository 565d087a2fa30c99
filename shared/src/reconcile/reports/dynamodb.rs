//! Reports in the state table (template.yaml's `IdempotencyTable`): each run under
//! `reconcile-report#<run id>` (kept 400 days), the newest also under `reconcile-report#last`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{Report, ReportStore, decode, encode};
use crate::store::StoreError;

const PREFIX: &str = "reconcile-report#";
const LAST: &str = "reconcile-report#last";
/// How long a run's own item is kept (the `expiration` TTL attribute).
const KEEP_SECONDS: i64 = 400 * 24 * 3600;

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoDbReportStore {
    client: Client,
    table: String,
}

impl DynamoDbReportStore {
    /// Reports in `table` (partition key `pk`).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn put(&self, pk: String, report: &Report, json: &str) -> Result<(), StoreError> {
        let started = time::OffsetDateTime::parse(
            &report.started_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|e| StoreError::Malformed(format!("started_at: {e}")))?;
        let expiration = started.unix_timestamp() + KEEP_SECONDS;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(pk.clone()))
            .item("started_at", AttributeValue::S(report.started_at.clone()))
            .item("report", AttributeValue::S(json.to_string()));
        if pk != LAST {
            put = put.item("expiration", AttributeValue::N(expiration.to_string()));
        }
        put.send().await.map_err(|e| StoreError::dynamodb(&e))?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ReportStore for DynamoDbReportStore {
    async fn save(&self, report: &Report) -> Result<(), StoreError> {
        let json = encode(report)?;
        self.put(format!("{PREFIX}{}", report.run_id), report, &json)
            .await?;
        // Only a run at least as new as the stored last one replaces it.
        if let Some(last) = self.last().await?
            && (&last.started_at, &last.run_id) > (&report.started_at, &report.run_id)
        {
            return Ok(());
        }
        self.put(LAST.to_string(), report, &json).await
    }

    async fn last(&self) -> Result<Option<Report>, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(LAST.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        let Some(item) = item.item else {
            return Ok(None);
        };
        let json = item
            .get("report")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::Malformed("a report item without its report".into()))?;
        decode(json).map(Some)
    }
}
