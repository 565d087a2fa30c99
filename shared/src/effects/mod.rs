//! The business-key guard: "effect X for key K" recorded once, with the same key sent to the
//! external system (Stripe's `Idempotency-Key`), so a crash between the call and the record
//! cannot produce the effect twice.

pub mod dynamodb;
pub mod in_memory;
#[cfg(feature = "embedded")]
pub mod sqlite;

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

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
    /// The store failed, or holds a value this version cannot read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The effect itself failed.
    #[error("effect failed: {0}")]
    Effect(E),
}

/// What a guarded effect came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect<T, R> {
    /// This call performed the effect and recorded it: the effect's whole result.
    Performed(T),
    /// The effect had been recorded before (or a concurrent call recorded it first): what was
    /// recorded. The effect did not run, or its result lost the race and is not used.
    Recorded(R),
}

/// Reads a recorded value as `R`: the JSON this version records, or the bare text older
/// versions recorded (read as a JSON string).
pub fn decode<R: DeserializeOwned>(key: &EffectKey, stored: &str) -> Result<R, StoreError> {
    serde_json::from_str(stored)
        .or_else(|_| serde_json::from_value(serde_json::Value::String(stored.to_string())))
        .map_err(|e| {
            StoreError::Malformed(format!(
                "effect {} holds a value this version cannot read: {e}",
                key.storage_key()
            ))
        })
}

/// The value recorded under `key`, if any, as `R`.
pub async fn recorded<R: DeserializeOwned>(
    store: &dyn EffectStore,
    key: &EffectKey,
) -> Result<Option<R>, StoreError> {
    match store.get(key).await? {
        Some(stored) => decode(key, &stored).map(Some),
        None => Ok(None),
    }
}

/// Performs `effect` once per key. When a value is recorded, returns it without running the
/// effect; otherwise runs `effect` with the key's idempotency key (sent to the outside system,
/// so a crash between the call and the record cannot produce it twice) and records
/// `record(&result)` — what is worth keeping of the result, e.g. an object's id.
pub async fn once<T, R, E, Fut>(
    store: &dyn EffectStore,
    key: &EffectKey,
    record: impl FnOnce(&T) -> R,
    effect: impl FnOnce(String) -> Fut,
) -> Result<Effect<T, R>, EffectError<E>>
where
    R: Serialize + DeserializeOwned + PartialEq,
    Fut: Future<Output = Result<T, E>>,
{
    if let Some(value) = recorded(store, key).await? {
        return Ok(Effect::Recorded(value));
    }
    let result = effect(key.idempotency_key())
        .await
        .map_err(EffectError::Effect)?;
    let mine = record(&result);
    let encoded = serde_json::to_string(&mine).map_err(|e| {
        StoreError::Malformed(format!(
            "effect {} cannot be recorded: {e}",
            key.storage_key()
        ))
    })?;
    match store.record(key, &encoded).await? {
        Recorded::New(_) => Ok(Effect::Performed(result)),
        Recorded::Existing(stored) => {
            let theirs: R = decode(key, &stored)?;
            // The same value recorded twice (our own retried write): still ours.
            Ok(if theirs == mine {
                Effect::Performed(result)
            } else {
                Effect::Recorded(theirs)
            })
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
        let id = |created: &(String, u32)| created.0.clone();
        let first = once::<_, _, (), _>(&store, &key, id, |idem| async move {
            assert_eq!(idem, "paybridge-payment_intent-6f1c2a1e");
            Ok(("pi_1".to_string(), 42))
        })
        .await
        .unwrap();
        let second =
            once::<_, _, (), _>(&store, &key, id, |_| async { panic!("must not run twice") })
                .await
                .unwrap();
        assert_eq!(first, Effect::Performed(("pi_1".to_string(), 42)));
        assert_eq!(second, Effect::Recorded("pi_1".to_string()));
        assert_eq!(store.get(&key).await.unwrap().as_deref(), Some("\"pi_1\""));
    }

    /// Sees nothing recorded on `get`, as a call does that reads just before another records.
    struct LateReader(InMemoryEffectStore);

    #[async_trait::async_trait]
    impl EffectStore for LateReader {
        async fn get(&self, _key: &EffectKey) -> Result<Option<String>, StoreError> {
            Ok(None)
        }
        async fn record(&self, key: &EffectKey, value: &str) -> Result<Recorded, StoreError> {
            self.0.record(key, value).await
        }
    }

    #[tokio::test]
    async fn a_lost_race_returns_the_winners_value_and_a_bare_legacy_value_still_reads() {
        let store = LateReader(InMemoryEffectStore::new());
        let key = EffectKey::new("checkout_session", "6f1c");
        // Recorded first, as bare text (as older versions wrote it).
        store.0.record(&key, "cs_first").await.unwrap();
        let race = once::<_, String, (), _>(&store, &key, String::clone, |_| async {
            Ok("cs_second".to_string())
        });
        assert_eq!(
            race.await.unwrap(),
            Effect::Recorded("cs_first".to_string())
        );
        // Our own write seen as "existing" (a retried put) is still ours.
        let key = EffectKey::new("checkout_session", "7a2d");
        store.0.record(&key, "\"cs_mine\"").await.unwrap();
        let retried = once::<_, String, (), _>(&store, &key, String::clone, |_| async {
            Ok("cs_mine".to_string())
        });
        assert_eq!(
            retried.await.unwrap(),
            Effect::Performed("cs_mine".to_string())
        );
    }
}
