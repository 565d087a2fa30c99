//! The behaviour every [`IdempotencyStore`] adapter must have, as one suite run against each of
//! them (in memory, SQLite, DynamoDB on moto). Panics on the first broken promise.

use super::{IdempotencyRecord, IdempotencyStore, PutError, RecordStatus};

/// Unix seconds the suite pretends it is: records are written with explicit times, so no
/// adapter's clock matters.
const NOW: i64 = 1_700_000_000;
const NOW_MS: i64 = NOW * 1000;

/// Runs every check against `store` (keys starting `contract#idempotency#` must not exist in
/// it yet).
pub async fn run_all(store: &dyn IdempotencyStore) {
    let suite = Suite { store };
    suite.an_absent_key_is_acquired_and_read_back().await;
    suite.a_live_record_refuses_a_put_and_is_returned().await;
    suite
        .an_in_progress_record_is_taken_over_only_after_its_deadline()
        .await;
    suite
        .a_completed_record_holds_its_key_until_its_expiration()
        .await;
    suite.an_expired_record_is_still_read().await;
    suite.delete_frees_the_key().await;
    suite.of_racing_puts_on_one_key_exactly_one_wins().await;
}

struct Suite<'a> {
    store: &'a dyn IdempotencyStore,
}

fn key(name: &str) -> String {
    format!("contract#idempotency#{name}")
}

fn in_progress(name: &str, expiration: i64, deadline_ms: Option<i64>) -> IdempotencyRecord {
    IdempotencyRecord {
        key: key(name),
        status: RecordStatus::InProgress,
        expiration,
        in_progress_expiration: deadline_ms,
        payload_hash: Some(format!("hash-of-{name}-{expiration}")),
        result: None,
        owner: Some(format!("owner-of-{name}-{expiration}")),
    }
}

impl Suite<'_> {
    /// `record` as the store must give it back: whole, its acquisition token included (the
    /// guard recognises its own retried put by it).
    fn stored(&self, record: &IdempotencyRecord) -> IdempotencyRecord {
        record.clone()
    }

    async fn get(&self, record: &IdempotencyRecord) -> Option<IdempotencyRecord> {
        self.store.get(&record.key).await.unwrap()
    }

    async fn an_absent_key_is_acquired_and_read_back(&self) {
        let record = in_progress("absent", NOW + 3600, Some(NOW_MS + 30_000));
        assert_eq!(self.get(&record).await, None);

        self.store.put_in_progress(&record, NOW_MS).await.unwrap();

        assert_eq!(self.get(&record).await, Some(self.stored(&record)));
        let other = in_progress("never-written", NOW + 3600, None);
        assert_eq!(self.get(&other).await, None);
    }

    async fn a_live_record_refuses_a_put_and_is_returned(&self) {
        let first = in_progress("live", NOW + 3600, Some(NOW_MS + 30_000));
        self.store.put_in_progress(&first, NOW_MS).await.unwrap();
        let second = in_progress("live", NOW + 7200, Some(NOW_MS + 60_000));

        let refused = self.store.put_in_progress(&second, NOW_MS + 1_000).await;

        assert_eq!(refused, Err(PutError::Exists(self.stored(&first))));
        assert_eq!(self.get(&first).await, Some(self.stored(&first)));

        // Without a deadline an in-progress record holds its key until it expires.
        let open_ended = in_progress("open-ended", NOW + 3600, None);
        self.store
            .put_in_progress(&open_ended, NOW_MS)
            .await
            .unwrap();
        let later = in_progress("open-ended", NOW + 7200, None);
        assert_eq!(
            self.store.put_in_progress(&later, NOW_MS + 600_000).await,
            Err(PutError::Exists(self.stored(&open_ended)))
        );
    }

    async fn an_in_progress_record_is_taken_over_only_after_its_deadline(&self) {
        let crashed = in_progress("takeover", NOW + 3600, Some(NOW_MS + 1_000));
        self.store.put_in_progress(&crashed, NOW_MS).await.unwrap();
        let taker = in_progress("takeover", NOW + 7200, Some(NOW_MS + 9_000));

        let at_the_deadline = self.store.put_in_progress(&taker, NOW_MS + 1_000).await;
        let just_after = self.store.put_in_progress(&taker, NOW_MS + 1_001).await;

        assert_eq!(
            at_the_deadline,
            Err(PutError::Exists(self.stored(&crashed)))
        );
        assert_eq!(just_after, Ok(()));
        assert_eq!(self.get(&taker).await, Some(self.stored(&taker)));
    }

    async fn a_completed_record_holds_its_key_until_its_expiration(&self) {
        let expiration = NOW + 10;
        let acquired = in_progress("completed", expiration, Some(NOW_MS + 1_000));
        self.store.put_in_progress(&acquired, NOW_MS).await.unwrap();
        // A stale invocation deadline must not let anyone take a COMPLETED record over.
        let completed = IdempotencyRecord {
            status: RecordStatus::Completed,
            result: Some(r#"{"payment_intent":"pi_1"}"#.into()),
            ..acquired.clone()
        };

        self.store.complete(&completed).await.unwrap();

        assert_eq!(self.get(&completed).await, Some(self.stored(&completed)));
        let next = in_progress("completed", NOW + 99, Some(NOW_MS + 99_000));
        let at_expiry = self.store.put_in_progress(&next, expiration * 1000).await;
        assert_eq!(at_expiry, Err(PutError::Exists(self.stored(&completed))));
        // Expiry counts to the millisecond, as `IdempotencyRecord::is_expired` does.
        let just_after = self
            .store
            .put_in_progress(&next, expiration * 1000 + 1)
            .await;
        assert_eq!(just_after, Ok(()));
        assert_eq!(self.get(&next).await, Some(self.stored(&next)));
    }

    async fn an_expired_record_is_still_read(&self) {
        // DynamoDB's TTL deletes up to 48 hours late: the guard decides, so get must not hide it.
        let old = IdempotencyRecord {
            status: RecordStatus::Completed,
            in_progress_expiration: None,
            result: Some("long ago".into()),
            ..in_progress("expired", NOW - 86_400, None)
        };
        self.store.complete(&old).await.unwrap();

        assert_eq!(self.get(&old).await, Some(self.stored(&old)));
    }

    async fn delete_frees_the_key(&self) {
        let record = in_progress("deleted", NOW + 3600, Some(NOW_MS + 30_000));
        self.store.put_in_progress(&record, NOW_MS).await.unwrap();

        self.store.delete(&record.key).await.unwrap();

        assert_eq!(self.get(&record).await, None);
        let retry = in_progress("deleted", NOW + 3600, Some(NOW_MS + 60_000));
        assert_eq!(self.store.put_in_progress(&retry, NOW_MS).await, Ok(()));
        self.store.delete(&key("never-written")).await.unwrap();
    }

    async fn of_racing_puts_on_one_key_exactly_one_wins(&self) {
        let contenders: Vec<IdempotencyRecord> = (0..8)
            .map(|n| IdempotencyRecord {
                owner: Some(format!("contender-{n}")),
                ..in_progress("race", NOW + 3600, Some(NOW_MS + 30_000))
            })
            .collect();

        let results = futures::future::join_all(
            contenders
                .iter()
                .map(|record| self.store.put_in_progress(record, NOW_MS)),
        )
        .await;

        let winners: Vec<&IdempotencyRecord> = contenders
            .iter()
            .zip(&results)
            .filter(|(_, result)| result.is_ok())
            .map(|(record, _)| record)
            .collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        let winner = self.stored(winners[0]);
        for result in results.into_iter().filter(Result::is_err) {
            assert_eq!(result, Err(PutError::Exists(winner.clone())));
        }
        assert_eq!(self.get(&winner).await, Some(winner));
    }
}
