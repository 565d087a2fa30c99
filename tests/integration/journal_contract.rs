//! The event journal's contract on a real DynamoDB API (moto): appended lists, first envelope.

use integration_tests::{dynamodb, moto};
use paybridge::journal::DynamoDbEventJournal;

#[tokio::test]
async fn the_dynamodb_event_journal_keeps_the_event_journal_contract() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;

    paybridge::journal::contract::run_all(&DynamoDbEventJournal::new(client, table)).await;
}
