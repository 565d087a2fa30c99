//! What the embedded store acknowledged survives closing and reopening its file.

use crate::effects::SqliteEffectStore;
use crate::effects::{EffectKey, EffectStore};
use crate::embedded::queue::tests::event;
use crate::embedded::{SqliteDatabase, SqliteQueue};
use crate::idempotency::SqliteIdempotencyStore;
use crate::idempotency::{IdempotencyRecord, IdempotencyStore, RecordStatus};
use crate::links::SqliteOrderLinkStore;
use crate::links::{OrderLink, OrderLinkStore};
use crate::queue::QueuePublisher;

#[tokio::test]
async fn messages_records_effects_and_links_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/paybridge.sqlite3");
    let record = IdempotencyRecord {
        key: "worker#stripe#evt_1".into(),
        status: RecordStatus::Completed,
        expiration: i64::MAX / 1000,
        in_progress_expiration: None,
        payload_hash: Some("hash".into()),
        result: Some("done:ok".into()),
        owner: None,
    };
    let effect = EffectKey::new("payment_intent", "6f1c");
    let link = OrderLink {
        order_id: 42,
        order_guid: Some("6f1c".into()),
        payment_intents: ["pi_1".to_string()].into(),
        status_rank: 60,
        status_name: Some("Paid".into()),
        status_payment_intent: Some("pi_1".into()),
        ..OrderLink::default()
    };
    {
        let db = SqliteDatabase::open(&path).unwrap();
        SqliteQueue::new(db.clone(), "orders", 3)
            .publish(event("evt_1"))
            .await
            .unwrap();
        SqliteIdempotencyStore::new(db.clone())
            .complete(&record)
            .await
            .unwrap();
        SqliteEffectStore::new(db.clone())
            .record(&effect, "pi_1")
            .await
            .unwrap();
        let links = SqliteOrderLinkStore::new(db);
        links.save(&link).await.unwrap();
        links.advance(42, "pi_1", 60, "Paid").await.unwrap();
    }

    let db = SqliteDatabase::open(&path).unwrap();

    let received = SqliteQueue::new(db.clone(), "orders", 3)
        .receive(10, 30)
        .await
        .unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].attributes["event_id"], "evt_1");
    let stored = SqliteIdempotencyStore::new(db.clone())
        .get(&record.key)
        .await
        .unwrap();
    assert_eq!(stored, Some(record));
    let value = SqliteEffectStore::new(db.clone())
        .get(&effect)
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("pi_1"));
    let found = SqliteOrderLinkStore::new(db)
        .by_payment_intent("pi_1")
        .await
        .unwrap();
    assert_eq!(found, Some(link));
}

const CRASH_DATABASE: &str = "PAYBRIDGE_TEST_CRASH_DATABASE";

#[tokio::test]
async fn a_publish_acknowledged_just_before_a_kill_9_is_there_after_restart() {
    if let Some(path) = std::env::var_os(CRASH_DATABASE) {
        // The child: acknowledge one publish, then die without closing anything.
        let db = SqliteDatabase::open(std::path::Path::new(&path)).unwrap();
        let queue = SqliteQueue::new(db, "orders", 3);
        queue.publish(event("evt_crash")).await.unwrap();
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status();
        std::process::abort();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paybridge.sqlite3");

    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "embedded::tests::a_publish_acknowledged_just_before_a_kill_9_is_there_after_restart",
            "--exact",
            "--nocapture",
        ])
        .env(CRASH_DATABASE, &path)
        .output()
        .unwrap();

    assert!(!child.status.success());
    assert!(dir.path().join("paybridge.sqlite3-wal").exists());
    let db = SqliteDatabase::open(&path).unwrap();
    let received = SqliteQueue::new(db, "orders", 3)
        .receive(10, 30)
        .await
        .unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].attributes["event_id"], "evt_crash");
}
