//! The idempotency guard and the effect guard on a real DynamoDB API (moto).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use integration_tests::{dynamodb, moto};
use paybridge::clock::{FixedClock, SystemClock};
use paybridge::effects::{DynamoDbEffectStore, Effect, EffectKey, EffectStore, Recorded, once};
use paybridge::idempotency::dynamodb::DynamoDbIdempotencyStore;
use paybridge::idempotency::{
    Guarded, Idempotency, IdempotencyConfig, IdempotencyError, IdempotencyRecord, IdempotencyStore,
    RecordStatus,
};

async fn store() -> (DynamoDbIdempotencyStore, aws_sdk_dynamodb::Client, String) {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;
    (
        DynamoDbIdempotencyStore::new(client.clone(), &table),
        client,
        table,
    )
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[tokio::test]
async fn of_concurrent_acquisitions_of_one_key_exactly_one_runs() {
    let (store, _, _) = store().await;
    let guard = Idempotency::new(
        Arc::new(store),
        IdempotencyConfig::default(),
        Arc::new(SystemClock),
    );
    let runs = Arc::new(AtomicU32::new(0));
    let attempts = (0..8).map(|_| {
        let guard = guard.clone();
        let runs = runs.clone();
        tokio::spawn(async move {
            guard
                .run::<String, String, _>(
                    "worker#stripe#evt_race",
                    b"{}",
                    now_ms() + 30_000,
                    || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        Ok("charged".to_string())
                    },
                )
                .await
        })
    });
    let results = futures::future::join_all(attempts).await;

    let outcomes: Vec<String> = results.iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(runs.load(Ordering::SeqCst), 1, "{outcomes:#?}");
    let ran = results
        .iter()
        .filter(|r| matches!(r, Ok(Ok(Guarded::Ran(_)))))
        .count();
    let busy = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(IdempotencyError::AlreadyInProgress { .. }))))
        .count();
    let replayed = results
        .iter()
        .filter(|r| matches!(r, Ok(Ok(Guarded::Replayed(_)))))
        .count();
    assert_eq!((ran, busy + replayed), (1, 7), "{outcomes:#?}");
}

#[tokio::test]
async fn a_completed_key_returns_the_stored_result_without_running() {
    let (store, _, _) = store().await;
    let guard = Idempotency::new(
        Arc::new(store),
        IdempotencyConfig::default(),
        Arc::new(SystemClock),
    );
    guard
        .run::<String, String, _>("k1", b"{}", now_ms() + 30_000, || async {
            Ok("pi_123".into())
        })
        .await
        .unwrap();
    let again = guard
        .run::<String, String, _>("k1", b"{}", now_ms() + 30_000, || async {
            panic!("ran twice")
        })
        .await
        .unwrap();
    assert_eq!(again, Guarded::Replayed(Some("pi_123".to_string())));
}

#[tokio::test]
async fn an_in_progress_record_of_a_crashed_invocation_is_taken_over_after_its_deadline() {
    let (store, _, _) = store().await;
    let store = Arc::new(store);
    let crashed = IdempotencyRecord {
        key: "k2".into(),
        status: RecordStatus::InProgress,
        expiration: time::OffsetDateTime::now_utc().unix_timestamp() + 3600,
        // Far enough ahead that a loaded CI machine still asks before the deadline.
        in_progress_expiration: Some(now_ms() + 3_000),
        payload_hash: Some(Idempotency::payload_hash(b"{}")),
        result: None,
        owner: Some("crashed-invocation".into()),
    };
    store.put_in_progress(&crashed, now_ms()).await.unwrap();
    let guard = Idempotency::new(
        store.clone(),
        IdempotencyConfig::default(),
        Arc::new(SystemClock),
    );

    let while_running = guard
        .run::<String, String, _>("k2", b"{}", now_ms() + 30_000, || async {
            Ok("early".into())
        })
        .await;
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let after_deadline = guard
        .run::<String, String, _>("k2", b"{}", now_ms() + 30_000, || async {
            Ok("took over".into())
        })
        .await;

    assert!(matches!(
        while_running,
        Err(IdempotencyError::AlreadyInProgress { .. })
    ));
    assert_eq!(
        after_deadline.unwrap(),
        Guarded::Ran("took over".to_string())
    );
    assert_eq!(
        store.get("k2").await.unwrap().unwrap().status,
        RecordStatus::Completed
    );
}

#[tokio::test]
async fn an_expired_record_still_in_the_table_does_not_block_a_new_run() {
    // DynamoDB's TTL deletes late (moto never does): expiry is checked in the condition.
    let (store, _, _) = store().await;
    let clock = Arc::new(FixedClock::at_unix(
        time::OffsetDateTime::now_utc().unix_timestamp() - 10 * 86_400,
    ));
    let old = Idempotency::new(Arc::new(store.clone()), IdempotencyConfig::default(), clock);
    old.run::<String, String, _>("k3", b"{}", 0, || async { Ok("long ago".into()) })
        .await
        .unwrap();
    let now = Idempotency::new(
        Arc::new(store.clone()),
        IdempotencyConfig::default(),
        Arc::new(SystemClock),
    );
    let again = now
        .run::<String, String, _>("k3", b"{}", now_ms() + 30_000, || async {
            Ok("today".into())
        })
        .await;
    assert_eq!(again.unwrap(), Guarded::Ran("today".to_string()));
}

#[tokio::test]
async fn the_same_key_with_a_different_payload_is_refused() {
    let (store, _, _) = store().await;
    let guard = Idempotency::new(
        Arc::new(store),
        IdempotencyConfig::default(),
        Arc::new(SystemClock),
    );
    guard
        .run::<String, String, _>("k4", br#"{"amount":100}"#, now_ms() + 30_000, || async {
            Ok("ok".into())
        })
        .await
        .unwrap();
    let other = guard
        .run::<String, String, _>("k4", br#"{"amount":999}"#, now_ms() + 30_000, || async {
            Ok("ok".into())
        })
        .await;
    assert!(matches!(
        other,
        Err(IdempotencyError::PayloadMismatch { .. })
    ));
}

#[tokio::test]
async fn a_failed_handler_leaves_no_record_so_a_retry_runs() {
    let (store, _, _) = store().await;
    let store = Arc::new(store);
    let guard = Idempotency::new(
        store.clone(),
        IdempotencyConfig::default(),
        Arc::new(SystemClock),
    );
    let failed = guard
        .run("k5", b"{}", now_ms() + 30_000, || async {
            Err::<String, _>("Stripe 503")
        })
        .await;
    assert!(matches!(
        failed,
        Err(IdempotencyError::Handler("Stripe 503"))
    ));
    assert_eq!(store.get("k5").await.unwrap(), None);
    let retried = guard
        .run::<String, &str, _>("k5", b"{}", now_ms() + 30_000, || async { Ok("ok".into()) })
        .await;
    assert!(!retried.unwrap().replayed());
}

#[tokio::test]
async fn an_effect_is_recorded_once_and_the_first_value_wins() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;
    let effects = DynamoDbEffectStore::new(client, &table);
    let key = EffectKey::new("payment_intent", "6f1c2a1e-5d1b-4a53-9a0e-2f7c1d9b8e41");
    let calls = AtomicU32::new(0);

    let first = once::<_, String, (), _>(&effects, &key, String::clone, |idempotency_key| {
        calls.fetch_add(1, Ordering::SeqCst);
        async move {
            assert_eq!(
                idempotency_key,
                "paybridge-payment_intent-6f1c2a1e-5d1b-4a53-9a0e-2f7c1d9b8e41"
            );
            Ok("pi_first".to_string())
        }
    })
    .await
    .unwrap();
    let second = once::<_, String, (), _>(&effects, &key, String::clone, |_| {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Ok("pi_second".to_string()) }
    })
    .await
    .unwrap();
    let racing = effects.record(&key, "pi_racer").await.unwrap();

    assert_eq!(first, Effect::Performed("pi_first".to_string()));
    assert_eq!(second, Effect::Recorded("pi_first".to_string()));
    assert_eq!(racing, Recorded::Existing("\"pi_first\"".into()));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// Sends every conditional put twice, as an SDK does when the first answer is lost.
struct PutTwice(DynamoDbIdempotencyStore);

#[async_trait::async_trait]
impl IdempotencyStore for PutTwice {
    async fn put_in_progress(
        &self,
        record: &IdempotencyRecord,
        now_ms: i64,
    ) -> Result<(), paybridge::idempotency::PutError> {
        let _lost_answer = self.0.put_in_progress(record, now_ms).await;
        self.0.put_in_progress(record, now_ms).await
    }
    async fn complete(
        &self,
        record: &IdempotencyRecord,
    ) -> Result<(), paybridge::idempotency::StoreError> {
        self.0.complete(record).await
    }
    async fn delete(&self, key: &str) -> Result<(), paybridge::idempotency::StoreError> {
        self.0.delete(key).await
    }
    async fn get(
        &self,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, paybridge::idempotency::StoreError> {
        self.0.get(key).await
    }
}

#[tokio::test]
async fn a_retried_acquisition_that_finds_its_own_first_write_still_runs_once() {
    let (store, _, _) = store().await;
    let guard = Idempotency::new(
        Arc::new(PutTwice(store)),
        IdempotencyConfig::default(),
        Arc::new(SystemClock),
    );
    let runs = AtomicU32::new(0);
    let outcome = guard
        .run::<String, String, _>("k6", b"{}", now_ms() + 30_000, || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok("ran".into())
        })
        .await
        .unwrap();
    assert_eq!(outcome, Guarded::Ran("ran".to_string()));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
