//! The behaviour every [`EventJournal`] adapter must have, as one suite run against each of them
//! (in memory, SQLite, DynamoDB on moto). Panics on the first broken promise.

use super::{EventJournal, JournalEntry};

/// Runs every check against `journal` (business keys starting `contract:` and event ids
/// starting `evt_contract_` must not exist in it yet).
pub async fn run_all(journal: &dyn EventJournal) {
    nothing_is_known_of_an_unseen_key_or_event(journal).await;
    entries_come_back_whole_and_in_the_order_recorded(journal).await;
    the_first_envelope_of_an_event_is_kept(journal).await;
    entries_of_one_business_key_never_show_under_another(journal).await;
    a_900_kb_envelope_comes_back_whole(journal).await;
    recent_entries_are_those_recorded_since_a_time(journal).await;
}

/// An order with a long history (a thousand deliveries, recorded by several workers at once):
/// every one comes back, none twice, and those recorded one after another stay in order.
/// Apart from [`run_all`] because it takes a while on an emulator.
pub async fn long_history(journal: &dyn EventJournal) {
    a_thousand_deliveries_under_one_key_all_come_back(journal).await;
}

fn entry(source: &str, event_id: &str, outcome: &str, receive_count: u32) -> JournalEntry {
    JournalEntry {
        at: format!("2026-11-29T12:00:0{receive_count}.000Z"),
        source: source.into(),
        event_id: event_id.into(),
        event_type: "payment_intent.succeeded".into(),
        worker: "payment-worker".into(),
        outcome: outcome.into(),
        detail: format!("{outcome} on delivery {receive_count}"),
        receive_count,
    }
}

async fn nothing_is_known_of_an_unseen_key_or_event(journal: &dyn EventJournal) {
    assert_eq!(
        journal.entries("contract:unseen").await.unwrap(),
        Vec::new()
    );
    assert_eq!(
        journal
            .envelope("stripe", "evt_contract_unseen")
            .await
            .unwrap(),
        None
    );
}

async fn entries_come_back_whole_and_in_the_order_recorded(journal: &dyn EventJournal) {
    let recorded = [
        entry("stripe", "evt_contract_order_1", "retried", 1),
        entry("stripe", "evt_contract_order_1", "done", 2),
        entry("kentico", "evt_contract_order_2", "ignored", 1),
        entry("stripe", "evt_contract_order_3", "dead_lettered", 3),
    ];

    for e in &recorded {
        journal
            .record("contract:order:1", e, r#"{"envelope":true}"#)
            .await
            .unwrap();
    }

    assert_eq!(
        journal.entries("contract:order:1").await.unwrap(),
        recorded.to_vec()
    );
}

async fn the_first_envelope_of_an_event_is_kept(journal: &dyn EventJournal) {
    let key = "contract:order:2";
    let first = entry("stripe", "evt_contract_envelope", "retried", 1);
    let second = entry("stripe", "evt_contract_envelope", "done", 2);
    let same_id_other_source = entry("kentico", "evt_contract_envelope", "done", 1);

    journal.record(key, &first, "first copy").await.unwrap();
    journal.record(key, &second, "second copy").await.unwrap();
    journal
        .record(key, &same_id_other_source, "kentico's copy")
        .await
        .unwrap();

    assert_eq!(
        journal
            .envelope("stripe", "evt_contract_envelope")
            .await
            .unwrap()
            .as_deref(),
        Some("first copy")
    );
    assert_eq!(
        journal
            .envelope("kentico", "evt_contract_envelope")
            .await
            .unwrap()
            .as_deref(),
        Some("kentico's copy")
    );
    assert_eq!(journal.entries(key).await.unwrap().len(), 3);
}

async fn entries_of_one_business_key_never_show_under_another(journal: &dyn EventJournal) {
    let a = entry("stripe", "evt_contract_a", "done", 1);
    let b = entry("stripe", "evt_contract_b", "done", 1);
    let a_again = entry("stripe", "evt_contract_a", "duplicate", 2);

    journal.record("contract:order:10", &a, "{}").await.unwrap();
    journal.record("contract:order:1", &b, "{}").await.unwrap();
    journal
        .record("contract:order:10", &a_again, "{}")
        .await
        .unwrap();

    assert_eq!(
        journal.entries("contract:order:10").await.unwrap(),
        vec![a, a_again]
    );
    let order_1 = journal.entries("contract:order:1").await.unwrap();
    assert_eq!(order_1.last(), Some(&b));
    assert!(
        !order_1.iter().any(|e| e.event_id == "evt_contract_a"),
        "{order_1:?}"
    );
}

/// An event near the queue's 1 MiB limit (random text, so compression cannot hide it).
async fn a_900_kb_envelope_comes_back_whole(journal: &dyn EventJournal) {
    let mut rng = fastrand::Rng::with_seed(900);
    let noise: String = (0..900_000).map(|_| rng.alphanumeric()).collect();
    let envelope = format!(r#"{{"payload":{{"note":"{noise}","name":"Zoë"}}}}"#);
    let e = entry("stripe", "evt_contract_900kb", "done", 1);
    journal
        .record("contract:order:900kb", &e, &envelope)
        .await
        .unwrap();
    journal
        .record("contract:order:900kb", &e, "a later copy")
        .await
        .unwrap();

    let stored = journal
        .envelope("stripe", "evt_contract_900kb")
        .await
        .unwrap()
        .expect("the large envelope is kept");
    assert!(stored == envelope, "the large envelope came back changed");
    assert_eq!(
        journal.entries("contract:order:900kb").await.unwrap().len(),
        2
    );
}

async fn a_thousand_deliveries_under_one_key_all_come_back(journal: &dyn EventJournal) {
    use futures::StreamExt;

    let key = "contract:order:long";
    futures::stream::iter(1..=990)
        .for_each_concurrent(16, |n| async move {
            let e = entry(
                "stripe",
                &format!("evt_contract_long_{}", n % 7),
                "retried",
                n,
            );
            journal.record(key, &e, "{}").await.unwrap();
        })
        .await;
    for n in 991..=1_000 {
        let e = entry("stripe", "evt_contract_long_last", "done", n);
        journal.record(key, &e, "{}").await.unwrap();
    }
    let entries = journal.entries(key).await.unwrap();
    let mut counts: Vec<u32> = entries.iter().map(|e| e.receive_count).collect();
    assert_eq!(
        counts[990..],
        (991..=1_000).collect::<Vec<u32>>(),
        "the sequential tail"
    );
    counts.sort_unstable();
    assert_eq!(counts, (1..=1_000).collect::<Vec<u32>>());
}

async fn recent_entries_are_those_recorded_since_a_time(journal: &dyn EventJournal) {
    let now = crate::clock::unix_millis(time::OffsetDateTime::now_utc());
    let first = entry("stripe", "evt_contract_recent_1", "done", 1);
    let second = entry("kentico", "evt_contract_recent_2", "dead_lettered", 1);
    journal
        .record("contract:order:recent", &first, "{}")
        .await
        .unwrap();
    journal
        .record("contract:customer:recent", &second, "{}")
        .await
        .unwrap();

    let recent = journal.recent(now - 60_000, 10_000).await.unwrap();
    let ours: Vec<(&str, &str)> = (recent.iter())
        .filter(|r| r.entry.event_id.starts_with("evt_contract_recent_"))
        .map(|r| (r.business_key.as_str(), r.entry.event_id.as_str()))
        .collect();
    assert!(
        ours.contains(&("contract:order:recent", "evt_contract_recent_1"))
            && ours.contains(&("contract:customer:recent", "evt_contract_recent_2")),
        "{ours:?}"
    );
    let later = journal.recent(now + 3_600_000, 10_000).await.unwrap();
    assert!(
        !later
            .iter()
            .any(|r| r.entry.event_id.starts_with("evt_contract_recent_")),
        "{later:?}"
    );
    assert!(journal.recent(now - 60_000, 1).await.unwrap().len() <= 1);
}
