//! Idempotency records in DynamoDB: one conditional `PutItem` acquires a key.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::{IdempotencyRecord, IdempotencyStore, PutError, RecordStatus, StoreError};

/// Attribute names, configurable like Powertools' (defaults: the key is `pk`, the rest are
/// Powertools' names). The table's TTL attribute must be `expiration`'s name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeNames {
    /// The partition key (string).
    pub key: String,
    /// Unix seconds, also the table's TTL attribute.
    pub expiration: String,
    /// Unix milliseconds.
    pub in_progress_expiration: String,
    /// INPROGRESS / COMPLETED.
    pub status: String,
    /// The stored result.
    pub data: String,
    /// The payload hash.
    pub validation: String,
    /// The acquisition token.
    pub owner: String,
}

impl Default for AttributeNames {
    fn default() -> Self {
        Self {
            key: "pk".into(),
            expiration: "expiration".into(),
            in_progress_expiration: "in_progress_expiration".into(),
            status: "status".into(),
            data: "data".into(),
            validation: "validation".into(),
            owner: "owner".into(),
        }
    }
}

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoDbIdempotencyStore {
    client: Client,
    table: String,
    names: AttributeNames,
}

impl DynamoDbIdempotencyStore {
    /// A store on `table` with the default attribute names.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self::with_names(client, table, AttributeNames::default())
    }

    /// A store on `table` with custom attribute names.
    pub fn with_names(client: Client, table: impl Into<String>, names: AttributeNames) -> Self {
        Self {
            client,
            table: table.into(),
            names,
        }
    }

    fn item(&self, record: &IdempotencyRecord) -> HashMap<String, AttributeValue> {
        let n = &self.names;
        let mut item = HashMap::from([
            (n.key.clone(), AttributeValue::S(record.key.clone())),
            (
                n.status.clone(),
                AttributeValue::S(record.status.as_str().into()),
            ),
            (
                n.expiration.clone(),
                AttributeValue::N(record.expiration.to_string()),
            ),
        ]);
        if let Some(ms) = record.in_progress_expiration {
            item.insert(
                n.in_progress_expiration.clone(),
                AttributeValue::N(ms.to_string()),
            );
        }
        if let Some(hash) = &record.payload_hash {
            item.insert(n.validation.clone(), AttributeValue::S(hash.clone()));
        }
        if let Some(owner) = &record.owner {
            item.insert(n.owner.clone(), AttributeValue::S(owner.clone()));
        }
        if let Some(result) = &record.result {
            item.insert(n.data.clone(), AttributeValue::S(result.clone()));
        }
        item
    }

    fn record(
        &self,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<IdempotencyRecord, StoreError> {
        let n = &self.names;
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let number = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_n().ok())
                .and_then(|s| s.parse::<i64>().ok())
        };
        let key =
            text(&n.key).ok_or_else(|| StoreError::Malformed("a record without its key".into()))?;
        let status = text(&n.status)
            .as_deref()
            .and_then(RecordStatus::parse)
            .ok_or_else(|| StoreError::Malformed(format!("record {key} has no valid status")))?;
        Ok(IdempotencyRecord {
            expiration: number(&n.expiration).unwrap_or(0),
            in_progress_expiration: number(&n.in_progress_expiration),
            payload_hash: text(&n.validation),
            result: text(&n.data),
            owner: text(&n.owner),
            key,
            status,
        })
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for DynamoDbIdempotencyStore {
    async fn put_in_progress(
        &self,
        record: &IdempotencyRecord,
        now_ms: i64,
    ) -> Result<(), PutError> {
        let n = &self.names;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.item(record)))
            .condition_expression(
                "attribute_not_exists(#pk) OR #expiration < :now OR (#status = :inprogress AND #in_progress_expiration < :now_ms)",
            )
            .expression_attribute_names("#pk", &n.key)
            .expression_attribute_names("#expiration", &n.expiration)
            .expression_attribute_names("#status", &n.status)
            .expression_attribute_names("#in_progress_expiration", &n.in_progress_expiration)
            // Rounded up: `expiration < ceil(now)` is `expiration * 1000 < now_ms` in whole
            // seconds, the rule of `IdempotencyRecord::is_expired` and the other stores.
            .expression_attribute_values(":now", AttributeValue::N((now_ms + 999).div_euclid(1000).to_string()))
            .expression_attribute_values(":now_ms", AttributeValue::N(now_ms.to_string()))
            .expression_attribute_values(":inprogress", AttributeValue::S(RecordStatus::InProgress.as_str().into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                let existing = match service.err() {
                    PutItemError::ConditionalCheckFailedException(e) => e.item().cloned(),
                    _ => None,
                };
                // Older emulators ignore ReturnValuesOnConditionCheckFailure: read it instead.
                let existing = match existing {
                    Some(item) => self.record(&item)?,
                    None => self.get(&record.key).await?.ok_or_else(|| {
                        StoreError::Unavailable(format!(
                            "record {} vanished after a conflict",
                            record.key
                        ))
                    })?,
                };
                Err(PutError::Exists(existing))
            }
            Err(e) => Err(PutError::Store(StoreError::dynamodb(&e))),
        }
    }

    async fn complete(&self, record: &IdempotencyRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.item(record)))
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(&self.names.key, AttributeValue::S(key.into()))
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(&self.names.key, AttributeValue::S(key.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        output
            .item
            .as_ref()
            .map(|item| self.record(item))
            .transpose()
    }
}
