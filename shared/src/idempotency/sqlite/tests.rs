//! The SQLite idempotency and effect stores keep the DynamoDB adapters' conditional writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::*;
use crate::clock::FixedClock;
use crate::effects::{EffectKey, EffectStore, Recorded, SqliteEffectStore};
use crate::embedded::temp_database;
use crate::idempotency::{Guarded, Idempotency, IdempotencyConfig, IdempotencyError};

const NOW: i64 = 1_700_000_000;
const NOW_MS: i64 = NOW * 1000;

fn in_progress(key: &str, expiration: i64, in_progress_until_ms: i64) -> IdempotencyRecord {
    IdempotencyRecord {
        key: key.into(),
        status: RecordStatus::InProgress,
        expiration,
        in_progress_expiration: Some(in_progress_until_ms),
        payload_hash: Some("hash".into()),
        result: None,
        owner: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_acquisitions_of_one_key_run_the_work_once() {
    let (_dir, db) = temp_database();
    let guard = Idempotency::new(
        Arc::new(SqliteIdempotencyStore::new(db)),
        IdempotencyConfig::default(),
        Arc::new(FixedClock::at_unix(NOW)),
    );
    let calls = Arc::new(AtomicU32::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(2));

    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (guard, calls, start) = (guard.clone(), calls.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                guard
                    .run::<String, _>("worker#stripe#evt_1", b"{}", NOW_MS + 60_000, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok("done".to_string())
                    })
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }

    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let ran = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Ok(Guarded {
                    replayed: false,
                    ..
                })
            )
        })
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(IdempotencyError::AlreadyInProgress { .. })))
        .count();
    assert_eq!((ran, refused), (1, 1));
}

#[tokio::test]
async fn a_live_record_is_returned_and_an_expired_in_progress_one_is_taken_over() {
    let (_dir, db) = temp_database();
    let store = SqliteIdempotencyStore::new(db);
    let crashed = in_progress("k", NOW + 3600, NOW_MS + 1_000);
    store.put_in_progress(&crashed, NOW_MS).await.unwrap();

    let while_live = store
        .put_in_progress(
            &in_progress("k", NOW + 7200, NOW_MS + 9_000),
            NOW_MS + 1_000,
        )
        .await;
    let taker = in_progress("k", NOW + 7200, NOW_MS + 9_000);
    let after_deadline = store.put_in_progress(&taker, NOW_MS + 1_001).await;

    assert_eq!(while_live, Err(PutError::Exists(crashed)));
    assert_eq!(after_deadline, Ok(()));
    assert_eq!(store.get("k").await.unwrap(), Some(taker));
}

#[tokio::test]
async fn a_completed_record_holds_its_key_until_it_expires_and_delete_frees_it() {
    let (_dir, db) = temp_database();
    let store = SqliteIdempotencyStore::new(db);
    let completed = IdempotencyRecord {
        status: RecordStatus::Completed,
        in_progress_expiration: None,
        result: Some("done:ok".into()),
        ..in_progress("k", NOW + 10, NOW_MS)
    };
    store
        .put_in_progress(&in_progress("k", NOW + 10, NOW_MS), NOW_MS)
        .await
        .unwrap();
    store.complete(&completed).await.unwrap();

    let before_expiry = store
        .put_in_progress(&in_progress("k", NOW + 99, NOW_MS), NOW_MS + 10_000)
        .await;
    let after_expiry = store
        .put_in_progress(&in_progress("k", NOW + 99, NOW_MS), NOW_MS + 10_001)
        .await;
    store.delete("k").await.unwrap();

    assert_eq!(before_expiry, Err(PutError::Exists(completed)));
    assert_eq!(after_expiry, Ok(()));
    assert_eq!(store.get("k").await.unwrap(), None);
}

#[tokio::test]
async fn the_first_recorded_effect_wins() {
    let (_dir, db) = temp_database();
    let store = SqliteEffectStore::new(db);
    let key = EffectKey::new("payment_intent", "6f1c2a1e");

    let first = store.record(&key, "pi_1").await.unwrap();
    let second = store.record(&key, "pi_2").await.unwrap();

    assert_eq!(first, Recorded::New("pi_1".into()));
    assert_eq!(second, Recorded::Existing("pi_1".into()));
    assert_eq!(store.get(&key).await.unwrap(), Some("pi_1".into()));
    assert_eq!(
        store.get(&EffectKey::new("journal", "x")).await.unwrap(),
        None
    );
}
