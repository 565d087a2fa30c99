//! The event journal's contract on a real DynamoDB API (moto): one item per entry, the first
//! envelope (in parts when it is large), a long history, the earlier layout still read.

use integration_tests::{dynamodb, moto};
use paybridge::journal::DynamoDbEventJournal;

#[tokio::test]
async fn the_dynamodb_event_journal_keeps_the_event_journal_contract() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;

    paybridge::journal::contract::run_all(&DynamoDbEventJournal::new(client, table, 30)).await;
}

/// A thousand deliveries of one order's events: the earlier layout (one list per order) failed
/// every later write near DynamoDB's 400 KB item limit.
#[tokio::test]
async fn the_dynamodb_event_journal_keeps_a_long_history() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;

    paybridge::journal::contract::long_history(&DynamoDbEventJournal::new(client, table, 30)).await;
}

#[tokio::test]
async fn an_item_past_its_retention_reads_as_gone_though_ttl_has_not_deleted_it_yet() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use paybridge::journal::EventJournal;
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;
    let journal = DynamoDbEventJournal::new(client.clone(), table.clone(), 30);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let entry = r#"{"at":"2026-10-01T00:00:00Z","source":"stripe","event_id":"evt_1","event_type":"payment_intent.succeeded","worker":"payment-worker","outcome":"done","detail":"","receive_count":1}"#;
    for (pk, expiration) in [
        ("journal#key#order:old", now - 60),
        ("journal#key#order:new", now + 60),
    ] {
        client
            .put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(pk.into()))
            .item(
                "entries",
                AttributeValue::L(vec![AttributeValue::S(entry.into())]),
            )
            .item("expiration", AttributeValue::N(expiration.to_string()))
            .send()
            .await
            .unwrap();
    }
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("journal#event#stripe#evt_1".into()))
        .item("envelope", AttributeValue::S("{}".into()))
        .item("expiration", AttributeValue::N((now - 60).to_string()))
        .send()
        .await
        .unwrap();

    assert!(journal.entries("order:old").await.unwrap().is_empty());
    assert_eq!(journal.entries("order:new").await.unwrap().len(), 1);
    assert_eq!(journal.envelope("stripe", "evt_1").await.unwrap(), None);
}

/// The journal as the workers run it on AWS: envelopes sealed under KMS data keys (moto's KMS),
/// nothing of the payload in the table, readable by any holder of the key for that purpose only.
#[tokio::test]
async fn the_kms_sealed_journal_keeps_the_contract_and_stores_no_payload_in_clear() {
    use std::sync::Arc;

    use paybridge::journal::{EventJournal, JournalEntry, SealedEventJournal};
    use paybridge::sealing::{EnvelopeSealer, KmsDataKeys};

    let sdk = moto::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let kms = aws_sdk_kms::Client::new(&sdk);
    let table = dynamodb::create_idempotency_table(&client).await;
    let key = integration_tests::kms::create_key(&kms).await;
    let sealed = |purpose| {
        SealedEventJournal::new(
            Arc::new(DynamoDbEventJournal::new(client.clone(), table.clone(), 30)),
            Arc::new(EnvelopeSealer::new(Arc::new(KmsDataKeys::new(
                kms.clone(),
                &key,
                purpose,
            )))),
        )
    };
    let journal = sealed("journal");
    paybridge::journal::contract::run_all(&journal).await;

    let entry = JournalEntry {
        at: "2026-12-01T00:00:00Z".into(),
        source: "kentico".into(),
        event_id: "e-kms".into(),
        event_type: "ecommerce.order.created".into(),
        worker: "order-worker".into(),
        outcome: "done".into(),
        detail: String::new(),
        receive_count: 1,
    };
    let envelope = r#"{"payload":{"CustomerEmail":"ada.kms@example.com"}}"#;
    journal.record("order:77", &entry, envelope).await.unwrap();

    let items = client.scan().table_name(&table).send().await.unwrap();
    let raw = format!("{:?}", items.items());
    assert!(
        raw.contains("journal#event#kentico#e-kms"),
        "the item is there"
    );
    assert!(!raw.contains("ada.kms@example.com"), "{raw}");
    // A new process (cold start, an operator's replay) unwraps the data key and reads it.
    assert_eq!(
        sealed("journal")
            .envelope("kentico", "e-kms")
            .await
            .unwrap()
            .as_deref(),
        Some(envelope)
    );
    // Data keys of another purpose's context are refused.
    let refused = sealed("ledger").envelope("kentico", "e-kms").await;
    assert!(refused.is_err(), "{refused:?}");
}
