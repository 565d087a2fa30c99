//! The business-key guard: "effect X for key K" recorded once, with the same key sent to the
//! external system (Stripe's `Idempotency-Key`), so a crash between the call and the record
//! cannot produce the effect twice.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::StoreError;

/// One side effect on one business key, e.g. kind `payment_intent`, key the Kentico OrderGUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EffectKey {
    kind: String,
    business_key: String,
}

impl EffectKey {
    /// The effect `kind` for `business_key`.
    pub fn new(kind: impl Into<String>, business_key: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            business_key: business_key.into(),
        }
    }

    /// The key in the store: `effect#<kind>#<business key>`.
    pub fn storage_key(&self) -> String {
        format!("effect#{}#{}", self.kind, self.business_key)
    }

    /// The key sent to the external system: deterministic, never random (Stripe allows 255 chars).
    pub fn idempotency_key(&self) -> String {
        let key = format!("paybridge-{}-{}", self.kind, self.business_key);
        key.chars().take(255).collect()
    }
}

/// Whether the effect was recorded now or found recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// This call recorded the value.
    New(String),
    /// A value was recorded before; this is it.
    Existing(String),
}

impl Recorded {
    /// The effect's value, whoever recorded it.
    pub fn value(&self) -> &str {
        match self {
            Self::New(v) | Self::Existing(v) => v,
        }
    }
}

/// Persistence of recorded effects.
#[async_trait::async_trait]
pub trait EffectStore: Send + Sync {
    /// The recorded value, if any.
    async fn get(&self, key: &EffectKey) -> Result<Option<String>, StoreError>;
    /// Records `value` unless a value is recorded already (conditional write); returns the winner.
    async fn record(&self, key: &EffectKey, value: &str) -> Result<Recorded, StoreError>;
}

/// Why a guarded effect failed.
#[derive(Debug, thiserror::Error)]
pub enum EffectError<E> {
    /// The store failed (transient).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The effect itself failed.
    #[error("effect failed: {0}")]
    Effect(E),
}

/// Performs `effect` once per key: returns the recorded value when there is one; otherwise runs
/// `effect` with the key's idempotency key and records its value.
pub async fn once<E, Fut>(
    store: &dyn EffectStore,
    key: &EffectKey,
    effect: impl FnOnce(String) -> Fut,
) -> Result<Recorded, EffectError<E>>
where
    Fut: Future<Output = Result<String, E>>,
{
    if let Some(value) = store.get(key).await? {
        return Ok(Recorded::Existing(value));
    }
    let value = effect(key.idempotency_key())
        .await
        .map_err(EffectError::Effect)?;
    Ok(store.record(key, &value).await?)
}

/// Effects in memory, for unit tests.
#[derive(Debug, Default)]
pub struct InMemoryEffectStore {
    values: Mutex<HashMap<String, String>>,
}

impl InMemoryEffectStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl EffectStore for InMemoryEffectStore {
    async fn get(&self, key: &EffectKey) -> Result<Option<String>, StoreError> {
        let values = self
            .values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(values.get(&key.storage_key()).cloned())
    }

    async fn record(&self, key: &EffectKey, value: &str) -> Result<Recorded, StoreError> {
        let mut values = self
            .values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match values.get(&key.storage_key()) {
            Some(existing) => Ok(Recorded::Existing(existing.clone())),
            None => {
                values.insert(key.storage_key(), value.to_string());
                Ok(Recorded::New(value.to_string()))
            }
        }
    }
}

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
            .map_err(|e| StoreError(DisplayErrorContext(&e).to_string()))?;
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
                        StoreError(format!(
                            "effect {} vanished after a conflict",
                            key.storage_key()
                        ))
                    }),
                }
            }
            Err(e) => Err(StoreError(DisplayErrorContext(&e).to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_the_effect_once_and_returns_the_recorded_value_after() {
        let store = InMemoryEffectStore::new();
        let key = EffectKey::new("payment_intent", "6f1c2a1e");
        let first = once::<(), _>(&store, &key, |idem| async move {
            assert_eq!(idem, "paybridge-payment_intent-6f1c2a1e");
            Ok("pi_1".to_string())
        })
        .await
        .unwrap();
        let second = once::<(), _>(&store, &key, |_| async { panic!("must not run twice") })
            .await
            .unwrap();
        assert_eq!(first, Recorded::New("pi_1".into()));
        assert_eq!(second, Recorded::Existing("pi_1".into()));
    }

    #[tokio::test]
    async fn the_first_recorded_value_wins_a_race() {
        let store = InMemoryEffectStore::new();
        let key = EffectKey::new("journal", "txn_1");
        assert_eq!(
            store.record(&key, "a").await.unwrap(),
            Recorded::New("a".into())
        );
        assert_eq!(
            store.record(&key, "b").await.unwrap(),
            Recorded::Existing("a".into())
        );
    }
}
