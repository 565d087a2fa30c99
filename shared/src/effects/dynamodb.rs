//! Effects in the DynamoDB state table: one item per effect, written once.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::{EffectKey, EffectStore, Recorded};
use crate::store::StoreError;

const VALUE_ATTRIBUTE: &str = "effect_value";
const RECORDED_AT_ATTRIBUTE: &str = "recorded_at";

/// Effects in the idempotency table (key attribute `pk`), without expiry: they are permanent.
#[derive(Debug, Clone)]
pub struct DynamoDbEffectStore {
    client: Client,
    table: String,
    key_attribute: String,
}

impl DynamoDbEffectStore {
    /// A store on `table` whose partition key is `pk`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            key_attribute: "pk".into(),
        }
    }
}

#[async_trait::async_trait]
impl EffectStore for DynamoDbEffectStore {
    async fn get(&self, key: &EffectKey) -> Result<Option<String>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(&self.key_attribute, AttributeValue::S(key.storage_key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        Ok(output.item.and_then(|item| {
            item.get(VALUE_ATTRIBUTE)
                .and_then(|v| v.as_s().ok())
                .cloned()
        }))
    }

    async fn record(&self, key: &EffectKey, value: &str) -> Result<Recorded, StoreError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(&self.key_attribute, AttributeValue::S(key.storage_key()))
            .item(VALUE_ATTRIBUTE, AttributeValue::S(value.into()))
            .item(RECORDED_AT_ATTRIBUTE, AttributeValue::N(now.to_string()))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", &self.key_attribute)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Recorded::New(value.to_string())),
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                let old = match service.err() {
                    PutItemError::ConditionalCheckFailedException(e) => e
                        .item()
                        .and_then(|item| item.get(VALUE_ATTRIBUTE))
                        .and_then(|v| v.as_s().ok())
                        .cloned(),
                    _ => None,
                };
                match old {
                    Some(existing) => Ok(Recorded::Existing(existing)),
                    None => self.get(key).await?.map(Recorded::Existing).ok_or_else(|| {
                        StoreError::Unavailable(format!(
                            "effect {} vanished after a conflict",
                            key.storage_key()
                        ))
                    }),
                }
            }
            Err(e) => Err(StoreError::dynamodb(&e)),
        }
    }
}
