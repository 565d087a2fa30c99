//! Posted entries in their own DynamoDB table (template.yaml's `LedgerTable`): partition key
//! `day` (`YYYY-MM-DD`), sort key `id`, so an export queries one partition per day instead of
//! scanning; the post is conditional on the key, so each entry is posted once. Entries are
//! accounting records: they do not expire.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{LedgerEntry, LedgerStore, Posted};
use crate::store::StoreError;

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoDbLedgerStore {
    client: Client,
    table: String,
}

impl DynamoDbLedgerStore {
    /// A ledger in `table` (keys `day`, `id`).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait::async_trait]
impl LedgerStore for DynamoDbLedgerStore {
    async fn post(&self, entry: &LedgerEntry) -> Result<Posted, StoreError> {
        let json =
            serde_json::to_string(entry).map_err(|e| StoreError::Malformed(e.to_string()))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("day", AttributeValue::S(entry.day().to_string()))
            .item("id", AttributeValue::S(entry.id.clone()))
            .item("occurred_at", AttributeValue::S(entry.occurred_at.clone()))
            .item("entry", AttributeValue::S(json))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Posted::New),
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                Ok(Posted::AlreadyPosted)
            }
            Err(error) => Err(StoreError::dynamodb(&error)),
        }
    }

    async fn between(&self, from: &str, to: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let mut entries = Vec::new();
        for day in super::days(from, to)? {
            let pages = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#day = :day")
                .expression_attribute_names("#day", "day")
                .expression_attribute_values(":day", AttributeValue::S(day))
                .consistent_read(true)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| StoreError::dynamodb(&e))?;
            for item in pages {
                let json = item
                    .get("entry")
                    .and_then(|v| v.as_s().ok())
                    .ok_or_else(|| {
                        StoreError::Malformed("a ledger item without its entry".into())
                    })?;
                entries.push(
                    serde_json::from_str::<LedgerEntry>(json)
                        .map_err(|e| StoreError::Malformed(e.to_string()))?,
                );
            }
        }
        entries.sort_by(|a, b| (&a.occurred_at, &a.id).cmp(&(&b.occurred_at, &b.id)));
        Ok(entries)
    }
}
