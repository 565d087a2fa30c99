//! The journal in the state table: `journal#event#<source>#<event id>` keeps the envelope,
//! `journal#key#<business key>` a list of entries; both expire `JOURNAL_RETENTION_DAYS` after
//! their last write (DynamoDB TTL, which may lag by two days: reads skip an expired item).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{EventJournal, JournalEntry};
use crate::store::StoreError;

/// DynamoDB items stop at 400 KB: an order with more entries than this keeps its latest.
const MAX_ENTRIES: usize = 500;

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoDbEventJournal {
    client: Client,
    table: String,
    retention_seconds: i64,
}

impl DynamoDbEventJournal {
    /// A journal in `table` (partition key `pk`) keeping what it saw `retention_days`.
    pub fn new(client: Client, table: impl Into<String>, retention_days: u32) -> Self {
        Self {
            client,
            table: table.into(),
            retention_seconds: i64::from(retention_days) * 86_400,
        }
    }

    /// The item `pk`, unless its time is up (TTL deletes it eventually).
    async fn live_item(
        &self,
        pk: String,
    ) -> Result<Option<std::collections::HashMap<String, AttributeValue>>, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?
            .item;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Ok(item.filter(|i| {
            let expiration = (i.get("expiration").and_then(|v| v.as_n().ok()))
                .and_then(|n| n.parse::<i64>().ok());
            expiration.is_none_or(|at| at > now)
        }))
    }
}

#[async_trait::async_trait]
impl EventJournal for DynamoDbEventJournal {
    async fn record(
        &self,
        business_key: &str,
        entry: &JournalEntry,
        envelope: &str,
    ) -> Result<(), StoreError> {
        let expiration = time::OffsetDateTime::now_utc().unix_timestamp() + self.retention_seconds;
        let json =
            serde_json::to_string(entry).map_err(|e| StoreError::Malformed(e.to_string()))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("journal#key#{business_key}")))
            .update_expression("SET entries = list_append(if_not_exists(entries, :empty), :entry), expiration = :expiration")
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":entry", AttributeValue::L(vec![AttributeValue::S(json)]))
            .expression_attribute_values(":expiration", AttributeValue::N(expiration.to_string()))
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(
                "pk",
                AttributeValue::S(format!("journal#event#{}#{}", entry.source, entry.event_id)),
            )
            .update_expression(
                "SET envelope = if_not_exists(envelope, :envelope), expiration = :expiration",
            )
            .expression_attribute_values(":envelope", AttributeValue::S(envelope.to_string()))
            .expression_attribute_values(":expiration", AttributeValue::N(expiration.to_string()))
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        Ok(())
    }

    async fn envelope(&self, source: &str, event_id: &str) -> Result<Option<String>, StoreError> {
        let item = (self.live_item(format!("journal#event#{source}#{event_id}"))).await?;
        Ok(item.and_then(|i| i.get("envelope").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn entries(&self, business_key: &str) -> Result<Vec<JournalEntry>, StoreError> {
        let item = (self.live_item(format!("journal#key#{business_key}"))).await?;
        let list = item
            .and_then(|i| i.get("entries").and_then(|v| v.as_l().ok()).cloned())
            .unwrap_or_default();
        let entries: Vec<JournalEntry> = list
            .iter()
            .filter_map(|v| v.as_s().ok())
            .filter_map(|s| serde_json::from_str(s).ok())
            .collect();
        let skip = entries.len().saturating_sub(MAX_ENTRIES);
        Ok(entries.into_iter().skip(skip).collect())
    }
}
