//! The business-key guard: "effect X for key K" recorded once, with the same key sent to the
//! external system (Stripe's `Idempotency-Key`), so a crash between the call and the record
//! cannot produce the effect twice.

pub mod dynamodb;
pub mod in_memory;
#[cfg(feature = "embedded")]
pub mod sqlite;

use std::future::Future;

use crate::store::StoreError;

pub use dynamodb::DynamoDbEffectStore;
pub use in_memory::InMemoryEffectStore;
#[cfg(feature = "embedded")]
pub use sqlite::SqliteEffectStore;

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
