//! The SQLite idempotency store keeps the store contract, and the guard over it runs racing
//! work once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::*;
use crate::clock::FixedClock;
use crate::embedded::temp_database;
use crate::idempotency::contract;
use crate::idempotency::{Guarded, Idempotency, IdempotencyConfig, IdempotencyError};

const NOW: i64 = 1_700_000_000;
const NOW_MS: i64 = NOW * 1000;

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
                    .run::<String, String, _>(
                        "worker#stripe#evt_1",
                        b"{}",
                        NOW_MS + 60_000,
                        || async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            Ok("done".to_string())
                        },
                    )
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
        .filter(|r| matches!(r, Ok(Guarded::Ran(_))))
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(IdempotencyError::AlreadyInProgress { .. })))
        .count();
    assert_eq!((ran, refused), (1, 1));
}

#[tokio::test]
async fn keeps_the_idempotency_store_contract() {
    let (_dir, db) = temp_database();
    // No owner column: a local write is never retried behind the guard's back.
    contract::run_all(&SqliteIdempotencyStore::new(db)).await;
}
