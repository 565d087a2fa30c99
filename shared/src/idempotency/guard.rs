//! The idempotency state machine: acquire, run once, complete or release.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::{IdempotencyRecord, IdempotencyStore, PutError, RecordStatus, StoreError};
use crate::clock::Clock;

/// Stripe retries a webhook for 3 days: a record must outlive that.
pub const MIN_EXPIRY_SECONDS: u64 = 4 * 24 * 3600;
/// The default record lifetime: a week, comfortably past Stripe's retry horizon.
pub const DEFAULT_EXPIRY_SECONDS: u64 = 7 * 24 * 3600;

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyConfig {
    /// How long a COMPLETED record suppresses duplicates.
    pub expires_after_seconds: u64,
    /// Refuse a key seen before with a different payload.
    pub validate_payload: bool,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        Self {
            expires_after_seconds: DEFAULT_EXPIRY_SECONDS,
            validate_payload: true,
        }
    }
}

/// What a guarded call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guarded<R> {
    /// The work ran now; its result is recorded with the key.
    Ran(R),
    /// A COMPLETED record held the key: the work did not run again. Its recorded result, when
    /// it reads as `R` (a record written by an older version may not; it replays all the same).
    Replayed(Option<R>),
}

impl<R> Guarded<R> {
    /// Whether the work did not run because it had run before.
    pub fn replayed(&self) -> bool {
        matches!(self, Self::Replayed(_))
    }
}

/// One error per outcome a caller must treat differently.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError<E> {
    /// Another invocation holds the key and has not finished: retry later.
    #[error("another invocation is processing {key}")]
    AlreadyInProgress {
        /// The key.
        key: String,
    },
    /// The key was used before with a different payload: permanent.
    #[error("{key} was processed before with a different payload")]
    PayloadMismatch {
        /// The key.
        key: String,
    },
    /// The store failed: transient.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The handler failed; its record was deleted so a retry can run.
    #[error("handler failed: {0}")]
    Handler(E),
    /// The handler panicked; its record was deleted so a retry can run.
    #[error("handler panicked: {0}")]
    Panicked(String),
}

/// Runs work at most once per key.
#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    config: IdempotencyConfig,
    clock: Arc<dyn Clock>,
}

impl Idempotency {
    /// A guard over `store`.
    pub fn new(
        store: Arc<dyn IdempotencyStore>,
        config: IdempotencyConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            config,
            clock,
        }
    }

    /// SHA-256 of a payload, hex: what records keep to detect a reused key.
    pub fn payload_hash(payload: &[u8]) -> String {
        hex::encode(Sha256::digest(payload))
    }

    /// Runs `work` unless `key` already ran (then returns the stored result) or is running
    /// (then [`IdempotencyError::AlreadyInProgress`]). `in_progress_until_ms` is the unix-ms
    /// moment after which this invocation has certainly ended (the Lambda deadline).
    pub async fn run<R, E, Fut>(
        &self,
        key: &str,
        payload: &[u8],
        in_progress_until_ms: i64,
        work: impl FnOnce() -> Fut,
    ) -> Result<Guarded<R>, IdempotencyError<E>>
    where
        R: Serialize + DeserializeOwned,
        Fut: Future<Output = Result<R, E>>,
    {
        let now = self.clock.now();
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let hash = Self::payload_hash(payload);
        let record = IdempotencyRecord {
            key: key.to_string(),
            status: RecordStatus::InProgress,
            expiration: now.unix_timestamp() + self.config.expires_after_seconds as i64,
            in_progress_expiration: Some(in_progress_until_ms),
            payload_hash: Some(hash.clone()),
            result: None,
            owner: Some(format!("{:032x}", fastrand::u128(..))),
        };
        match self.store.put_in_progress(&record, now_ms).await {
            Ok(()) => {}
            // Our own earlier attempt of this very put (an SDK retry) wrote it: we hold the key.
            Err(PutError::Exists(existing))
                if existing.owner.is_some() && existing.owner == record.owner => {}
            Err(PutError::Exists(existing)) => {
                return self.answer_existing(existing, &hash, now_ms);
            }
            Err(PutError::Store(e)) => return Err(IdempotencyError::Store(e)),
        }

        match AssertUnwindSafe(work()).catch_unwind().await {
            Ok(Ok(result)) => {
                let recorded = serde_json::to_string(&result).map_err(|e| {
                    IdempotencyError::Store(StoreError::Malformed(format!(
                        "the result of {key} cannot be recorded: {e}"
                    )))
                });
                let recorded = match recorded {
                    Ok(recorded) => recorded,
                    Err(error) => {
                        self.release(key).await;
                        return Err(error);
                    }
                };
                let completed = IdempotencyRecord {
                    status: RecordStatus::Completed,
                    expiration: self.clock.now().unix_timestamp()
                        + self.config.expires_after_seconds as i64,
                    in_progress_expiration: None,
                    result: Some(recorded),
                    ..record
                };
                // If this write fails the record stays INPROGRESS until the deadline and a retry
                // runs the handler again: handlers guard their side effects by business key.
                self.store.complete(&completed).await?;
                Ok(Guarded::Ran(result))
            }
            Ok(Err(error)) => {
                self.release(key).await;
                Err(IdempotencyError::Handler(error))
            }
            Err(panic) => {
                self.release(key).await;
                Err(IdempotencyError::Panicked(panic_message(panic.as_ref())))
            }
        }
    }

    fn answer_existing<R: DeserializeOwned, E>(
        &self,
        existing: IdempotencyRecord,
        hash: &str,
        now_ms: i64,
    ) -> Result<Guarded<R>, IdempotencyError<E>> {
        let key = existing.key.clone();
        if self.config.validate_payload
            && existing.payload_hash.as_deref().is_some_and(|h| h != hash)
        {
            return Err(IdempotencyError::PayloadMismatch { key });
        }
        match existing.status {
            // A record read back after a lost race may have expired since: let a retry take it.
            _ if existing.is_replaceable(now_ms) => {
                Err(IdempotencyError::AlreadyInProgress { key })
            }
            RecordStatus::Completed => Ok(Guarded::Replayed(
                existing
                    .result
                    .and_then(|stored| serde_json::from_str(&stored).ok()),
            )),
            RecordStatus::InProgress => Err(IdempotencyError::AlreadyInProgress { key }),
        }
    }

    async fn release(&self, key: &str) {
        if let Err(error) = self.store.delete(key).await {
            // The record expires at the invocation deadline anyway; the retry waits until then.
            tracing::warn!(idempotency_key = key, error = %error, "could not delete the idempotency record after a failure");
        }
    }
}

/// The text of a panic payload.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::idempotency::in_memory::InMemoryIdempotencyStore;
    use std::sync::atomic::{AtomicU32, Ordering};

    const NOW: i64 = 1_700_000_000;

    fn guard(store: Arc<InMemoryIdempotencyStore>, clock: Arc<FixedClock>) -> Idempotency {
        Idempotency::new(store, IdempotencyConfig::default(), clock)
    }

    #[tokio::test]
    async fn runs_once_and_replays_the_stored_result() {
        let store = Arc::new(InMemoryIdempotencyStore::new());
        let g = guard(store.clone(), Arc::new(FixedClock::at_unix(NOW)));
        let calls = AtomicU32::new(0);
        for expected_replay in [false, true] {
            let out = g
                .run::<String, String, _>("k", b"p", NOW * 1000 + 10_000, || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok("result".to_string())
                })
                .await
                .unwrap();
            let expected = if expected_replay {
                Guarded::Replayed(Some("result".to_string()))
            } else {
                Guarded::Ran("result".to_string())
            };
            assert_eq!(out, expected);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let stored = store.get("k").await.unwrap().unwrap();
        assert_eq!(stored.expiration, NOW + DEFAULT_EXPIRY_SECONDS as i64);
    }

    #[tokio::test]
    async fn a_failed_handler_leaves_no_record_and_a_panic_neither() {
        let store = Arc::new(InMemoryIdempotencyStore::new());
        let g = guard(store.clone(), Arc::new(FixedClock::at_unix(NOW)));
        let failed = g
            .run("k", b"p", NOW * 1000 + 10_000, || async {
                Err::<String, _>("boom")
            })
            .await;
        assert!(matches!(failed, Err(IdempotencyError::Handler("boom"))));
        assert_eq!(store.get("k").await.unwrap(), None);
        let panicked = g
            .run::<String, String, _>("k", b"p", NOW * 1000 + 10_000, || async {
                panic!("kaboom")
            })
            .await;
        assert!(matches!(panicked, Err(IdempotencyError::Panicked(m)) if m == "kaboom"));
        assert_eq!(store.get("k").await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_expired_completed_record_runs_again() {
        let store = Arc::new(InMemoryIdempotencyStore::new());
        let clock = Arc::new(FixedClock::at_unix(NOW));
        let g = guard(store, clock.clone());
        g.run::<String, String, _>("k", b"p", 0, || async { Ok("first".into()) })
            .await
            .unwrap();
        clock.set_unix(NOW + DEFAULT_EXPIRY_SECONDS as i64 + 1);
        let again = g
            .run::<String, String, _>("k", b"p", 0, || async { Ok("second".into()) })
            .await
            .unwrap();
        assert_eq!(again, Guarded::Ran("second".to_string()));
    }

    #[tokio::test]
    async fn a_record_whose_result_no_longer_reads_still_replays() {
        let store = Arc::new(InMemoryIdempotencyStore::new());
        let g = guard(store.clone(), Arc::new(FixedClock::at_unix(NOW)));
        let legacy = IdempotencyRecord {
            key: "k".into(),
            status: RecordStatus::Completed,
            expiration: NOW + 3_600,
            in_progress_expiration: None,
            payload_hash: Some(Idempotency::payload_hash(b"p")),
            result: Some("done:written by an older version".into()),
            owner: None,
        };
        store.put_in_progress(&legacy, NOW * 1000).await.unwrap();
        store.complete(&legacy).await.unwrap();
        let out = g
            .run::<u32, &str, _>("k", b"p", 0, || async { panic!("must not run again") })
            .await
            .unwrap();
        assert_eq!(out, Guarded::Replayed(None));
    }

    #[tokio::test]
    async fn refuses_a_known_key_with_another_payload() {
        let store = Arc::new(InMemoryIdempotencyStore::new());
        let g = guard(store, Arc::new(FixedClock::at_unix(NOW)));
        g.run::<String, String, _>("k", b"one", 0, || async { Ok("r".into()) })
            .await
            .unwrap();
        let other = g
            .run::<String, String, _>("k", b"two", 0, || async { Ok("r".into()) })
            .await;
        assert!(matches!(
            other,
            Err(IdempotencyError::PayloadMismatch { .. })
        ));
    }
}
