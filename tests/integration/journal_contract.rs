//! The event journal's contract on a real DynamoDB API (moto): appended lists, first envelope.

use integration_tests::{dynamodb, moto};
use paybridge::journal::DynamoDbEventJournal;

#[tokio::test]
async fn the_dynamodb_event_journal_keeps_the_event_journal_contract() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;

    paybridge::journal::contract::run_all(&DynamoDbEventJournal::new(client, table, 30)).await;
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
